"""Ratings and benchmarks written per date, each with the change since the firm's last rating.

`company_ratings` keeps one row per firm, criterion (and `overall`) and date: a second refresh
on the same date replaces that date's rows, earlier dates are history.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from hub.canonical import TABLES
from hub.ratings.benchmark import benchmark
from hub.ratings.data import load_district_data
from hub.ratings.methodology import OVERALL, Methodology, load_methodology
from hub.ratings.scoring import FirmRating, rate_firm
from hub.warehouse import Warehouse


def _previous(wh: Warehouse, as_of: date) -> dict[tuple[str, str], dict[str, Any]]:
    """(company_id, criterion) → its latest scored rating before `as_of`."""
    t = TABLES["company_ratings"]
    q = sa.select(t.c.company_id, t.c.criterion, t.c.as_of, t.c.score).where(
        t.c.as_of < as_of, t.c.score.is_not(None)
    )
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in wh.read_arrow(q).to_pylist():
        k = (r["company_id"], r["criterion"])
        if k not in out or r["as_of"] > out[k]["as_of"]:
            out[k] = r
    return out


def rating_rows(r: FirmRating, previous: dict[tuple[str, str], dict[str, Any]], now: datetime
                ) -> list[dict[str, Any]]:  # fmt: skip
    rows = []
    for c in [r.overall, *r.criteria]:
        prev = previous.get((r.company_id, c.id))
        if c.id == OVERALL:
            evidence = {"criteria": {x.id: {"score": x.score, "grade": x.grade,
                                            "status": x.status, "coverage": x.coverage}
                                     for x in r.criteria}}  # fmt: skip
            improvement = r.improvement
        else:
            evidence = {"indicators": [vars(i) for i in c.indicators]}
            improvement = [s for s in r.improvement if s["criterion"] == c.id]
        change = None
        if prev and c.score is not None:
            change = round(c.score - prev["score"], 2)
        rows.append({
            "company_id": r.company_id, "criterion": c.id, "as_of": r.as_of, "score": c.score,
            "grade": c.grade, "coverage": c.coverage, "status": c.status, "weight": c.weight,
            "evidence": json.dumps(evidence, ensure_ascii=False, default=str, sort_keys=True),
            "improvement": json.dumps(improvement, ensure_ascii=False, default=str),
            "previous_as_of": prev["as_of"] if prev else None,
            "previous_score": prev["score"] if prev else None, "change": change,
            "methodology_version": r.methodology_version, "computed_at": now,
        })  # fmt: skip
    return rows


def refresh_ratings(
    wh: Warehouse, as_of: date, methodology: Methodology | None = None
) -> list[FirmRating]:
    """Rate every firm of the warehouse on `as_of`; write ratings and benchmarks."""
    m = methodology or load_methodology()
    firms = load_district_data(wh)
    ratings = [rate_firm(f, m, as_of) for f in firms.values()]
    previous = _previous(wh, as_of)
    now = datetime.now(UTC)
    rows = [row for r in ratings for row in rating_rows(r, previous, now)]
    bench = benchmark(ratings, m)
    with wh.transaction() as conn:
        if rows:
            wh.upsert(conn, "company_ratings", pa.Table.from_pylist(rows))
        if bench:
            cols = [c.name for c in TABLES["company_benchmarks"].columns]
            wh.upsert(
                conn,
                "company_benchmarks",
                pa.Table.from_pylist([{c: b.get(c) for c in cols} for b in bench]),
            )
    return ratings
