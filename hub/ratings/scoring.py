"""Indicator values → scores, criteria, grades, evidence and the improvement path of one firm.

Plain functions of one firm's data and the methodology: the same data and method give the same
rating (nothing here reads the clock or another firm).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from hub.ratings.data import FirmData
from hub.ratings.indicators import REGISTRY
from hub.ratings.methodology import OVERALL, Criterion, Indicator, Methodology

SCORED, MISSING, NOT_APPLICABLE = "scored", "missing", "not_applicable"
INSUFFICIENT = "insufficient_data"


@dataclass
class IndicatorResult:
    id: str
    name: str
    function: str
    params: dict[str, Any]
    weight: float
    status: str  # scored, missing (no data), not_applicable (not for the firm's role)
    value: float | None
    score: float | None
    unit: str
    note: str
    evidence: list[dict[str, Any]]
    rows_total: int
    thresholds: list[float]
    better: str


@dataclass
class CriterionResult:
    id: str
    name: str
    weight: float
    status: str  # scored, insufficient_data, not_applicable
    score: float | None
    grade: str | None
    coverage: float  # share of the applicable indicators' weight with data
    indicators: list[IndicatorResult] = field(default_factory=list)


@dataclass
class FirmRating:
    company_id: str
    role: str | None
    as_of: date
    methodology_version: str
    overall: CriterionResult
    criteria: list[CriterionResult]
    improvement: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _measure(ind: Indicator, firm: FirmData, as_of: date) -> IndicatorResult:
    base = dict(id=ind.id, name=ind.name, function=ind.function, params=ind.params,
                weight=ind.weight, unit=ind.unit, thresholds=list(ind.thresholds),
                better=ind.better)  # fmt: skip
    if not ind.applies_to(firm.role):
        return IndicatorResult(**base, status=NOT_APPLICABLE, value=None, score=None,
                               note=f"not rated for the role {firm.role}", evidence=[],
                               rows_total=0)  # fmt: skip
    m = REGISTRY[ind.function](firm, as_of, ind.params)
    if m.value is None:
        return IndicatorResult(**base, status=MISSING, value=None, score=None, note=m.note,
                               evidence=m.evidence, rows_total=m.rows_total)  # fmt: skip
    value = round(m.value, 6)
    return IndicatorResult(
        **base,
        status=SCORED,
        value=value,
        score=ind.score(value),
        note=m.note,
        evidence=m.evidence,
        rows_total=m.rows_total,
    )


def _mean(items: list[tuple[float, float]]) -> float | None:
    """Weighted mean of (weight, score) pairs."""
    w = sum(x for x, _ in items)
    return round(sum(x * s for x, s in items) / w, 2) if w else None


def _criterion(c: Criterion, firm: FirmData, as_of: date, m: Methodology) -> CriterionResult:
    inds = [_measure(i, firm, as_of) for i in c.indicators]
    applicable = [i for i in inds if i.status != NOT_APPLICABLE]
    if not applicable:
        return CriterionResult(c.id, c.name, c.weight, NOT_APPLICABLE, None, None, 0.0, inds)
    scored = [i for i in applicable if i.status == SCORED]
    coverage = round(sum(i.weight for i in scored) / sum(i.weight for i in applicable), 4)
    if not scored or coverage < m.min_coverage:
        return CriterionResult(c.id, c.name, c.weight, INSUFFICIENT, None, None, coverage, inds)
    score = _mean([(i.weight, i.score) for i in scored])  # type: ignore[misc]
    assert score is not None
    return CriterionResult(c.id, c.name, c.weight, SCORED, score, m.grade(score), coverage, inds)


def _overall(criteria: list[CriterionResult], m: Methodology) -> CriterionResult:
    counted = [c for c in criteria if c.status != NOT_APPLICABLE]
    scored = [c for c in counted if c.status == SCORED]
    total = sum(c.weight for c in counted)
    coverage = round(sum(c.weight for c in scored) / total, 4) if total else 0.0
    if not scored or coverage < m.overall_min_coverage:
        return CriterionResult(OVERALL, "Overall", 1.0, INSUFFICIENT, None, None, coverage)
    score = _mean([(c.weight, c.score) for c in scored])  # type: ignore[misc]
    assert score is not None
    return CriterionResult(OVERALL, "Overall", 1.0, SCORED, score, m.grade(score), coverage)


def rate_firm(firm: FirmData, m: Methodology, as_of: date) -> FirmRating:
    """The firm's rating on `as_of` by methodology `m`."""
    criteria = [_criterion(c, firm, as_of, m) for c in m.criteria]
    overall = _overall(criteria, m)
    return FirmRating(firm.company_id, firm.role, as_of, m.version, overall, criteria,
                      improvement_path(criteria, overall, m))  # fmt: skip


def improvement_path(criteria: list[CriterionResult], overall: CriterionResult, m: Methodology
                     ) -> list[dict[str, Any]]:  # fmt: skip
    """What would raise the rating most: each indicator's next threshold, and missing data.

    A scored indicator's step is the next threshold of its value, with the points it adds to
    its criterion and to the overall score (other things equal). A missing indicator's step is
    the data to deliver; it comes first when it is what stands between the firm and a grade.
    """
    steps: list[dict[str, Any]] = []
    counted = [c for c in criteria if c.status != NOT_APPLICABLE]
    for c in counted:
        ind_def = {i.id: i for i in m.criterion(c.id).indicators}
        scored = [i for i in c.indicators if i.status == SCORED]
        for i in c.indicators:
            if i.status == MISSING:
                steps.append({
                    "criterion": c.id, "indicator": i.id, "name": i.name, "kind": "data",
                    "action": f"deliver the data for '{i.name}': {i.note}",
                    "advice": ind_def[i.id].advice, "gain_criterion": None, "gain_overall": None,
                    "unlocks": c.status == INSUFFICIENT,
                })  # fmt: skip
            if i.status != SCORED or i.value is None:
                continue
            target = ind_def[i.id].next_target(i.value)
            if target is None:
                continue
            new_i = ind_def[i.id].score(target)
            before = _mean([(x.weight, x.score) for x in scored])  # type: ignore[misc]
            after = _mean([(x.weight, new_i if x.id == i.id else x.score)
                           for x in scored])  # type: ignore[misc]  # fmt: skip
            gain_c = round((after or 0) - (before or 0), 2)
            gain_o = None
            if c.status == SCORED and overall.status == SCORED:
                o_after = _mean(
                    [
                        (x.weight, after if x.id == c.id else x.score)
                        for x in counted
                        if x.status == SCORED
                    ]
                )  # type: ignore[misc]
                gain_o = round((o_after or 0) - (overall.score or 0), 2)
            steps.append({
                "criterion": c.id, "indicator": i.id, "name": i.name, "kind": "improve",
                "action": f"raise '{i.name}' from {_fmt(i.value, i.unit)} to "
                          f"{_fmt(target, i.unit)}",
                "advice": ind_def[i.id].advice, "gain_criterion": gain_c, "gain_overall": gain_o,
                "unlocks": False,
            })  # fmt: skip
    grade_blocked = overall.status == INSUFFICIENT

    def rank(s: dict[str, Any]) -> tuple:
        if s["kind"] == "data":
            first = 0 if (s["unlocks"] or grade_blocked) else 2
            return (first, 0.0, s["criterion"], s["indicator"])
        gain = s["gain_overall"] if s["gain_overall"] is not None else s["gain_criterion"] / 10
        return (1, -gain, s["criterion"], s["indicator"])

    steps.sort(key=rank)
    return steps


def _fmt(v: float, unit: str) -> str:
    if unit == "share":
        return f"{v:.0%}" if round(v * 100, 6).is_integer() else f"{v:.1%}"
    if unit == "yes/no":
        return "yes" if v >= 1 else "no"
    return f"{v:,.0f} {unit}"
