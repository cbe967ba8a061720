"""A firm's position per criterion among anonymized peers: the district, and firms of its role.

Only the firm's own score, its percentile and the group's median leave this module: never a
peer's id or score. A group with fewer than `min_peers` other scored firms gets no percentile
and no median (with a note), since with one or two peers either would reveal their values.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from hub.ratings.methodology import OVERALL, Methodology
from hub.ratings.scoring import SCORED, FirmRating


def percentile(score: float, peers: list[float]) -> float:
    """Percentile rank among peers: the share scoring below, ties counted half (0–100)."""
    below = sum(1 for p in peers if p < score)
    ties = sum(1 for p in peers if p == score)
    return round(100 * (below + 0.5 * ties) / len(peers), 1)


def _scores(r: FirmRating) -> dict[str, float]:
    out = {c.id: c.score for c in r.criteria if c.status == SCORED and c.score is not None}
    if r.overall.status == SCORED and r.overall.score is not None:
        out[OVERALL] = r.overall.score
    return out


def benchmark(ratings: list[FirmRating], m: Methodology) -> list[dict[str, Any]]:
    """Rows of `company_benchmarks`: one per firm and criterion (overall included)."""
    scores = {r.company_id: _scores(r) for r in ratings}
    role = {r.company_id: r.role for r in ratings}
    rows = []
    for r in ratings:
        for cid in [OVERALL, *(c.id for c in m.criteria)]:
            own = scores[r.company_id].get(cid)
            row: dict[str, Any] = {"company_id": r.company_id, "criterion": cid,
                                   "as_of": r.as_of, "role": r.role, "score": own}  # fmt: skip
            notes = []
            for group, same in (("district", lambda o: True),
                                ("role", lambda o, r=r: role[o] == r.role)):  # fmt: skip
                peers = [s[cid] for o, s in scores.items()
                         if o != r.company_id and same(o) and cid in s]  # fmt: skip
                row[f"{group}_peers"] = len(peers)
                if own is None:
                    notes.append(f"{group}: no score of the firm to compare")
                elif len(peers) < m.min_peers:
                    notes.append(f"{group}: fewer than {m.min_peers} peers with a score, not "
                                 "shown to protect them")  # fmt: skip
                else:
                    row[f"{group}_percentile"] = percentile(own, peers)
                    row[f"{group}_median"] = round(median([*peers, own]), 2)
            row["note"] = "; ".join(notes) or None
            rows.append(row)
    return rows
