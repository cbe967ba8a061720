"""Dagster assets of the `ratings` group: district-wide, after the harmonized tables.

Unpartitioned on purpose: a benchmark and a match need every firm, and a firm's rating reads
what the warehouse holds, so a firm that failed tonight is rated on its last good data and
never blocks the others. Isolation between firms is in the data (each firm's rating reads only
its own rows; benchmarks keep only percentiles and aggregates) and in the pages.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from hub.ratings.methodology import load_methodology
from hub.ratings.pages import write_pages
from hub.ratings.store import refresh_ratings
from hub.resources import HubResource
from hub.symbiosis import load_rules, refresh_matches

RATINGS = "ratings"
DISTRICT_TZ = ZoneInfo("Europe/Rome")
_H = "harmonized"
UPSTREAM = [
    [_H, t] for t in ("companies", "order_lines", "supplier_links", "suppliers", "products",
                      "bom_lines", "waste_streams", "certifications")
] + [["supply_chain", "product_indicators"], ["passports", "product_passports"]]  # fmt: skip
RATINGS_KEY = dg.AssetKey([RATINGS, "company_ratings"])
BENCHMARKS_KEY = dg.AssetKey([RATINGS, "company_benchmarks"])
MATCHES_KEY = dg.AssetKey([RATINGS, "symbiosis_matches"])
REPORT_KEY = dg.AssetKey([RATINGS, "report"])


def as_of_today() -> date:
    """The rating date: the day of the sync in the district's time zone, unless
    HUB_RATINGS_AS_OF (YYYY-MM-DD) fixes it (to rerun a past date, or in tests)."""
    fixed = os.environ.get("HUB_RATINGS_AS_OF")
    if fixed:
        try:
            return date.fromisoformat(fixed)
        except ValueError:
            raise ValueError(f"HUB_RATINGS_AS_OF={fixed!r} is not a date YYYY-MM-DD") from None
    return datetime.now(DISTRICT_TZ).date()


@dg.multi_asset(
    specs=[
        dg.AssetSpec(RATINGS_KEY, group_name=RATINGS, deps=UPSTREAM, kinds={"duckdb"},
                     description="Each firm's scores and grade per criterion, with evidence, "
                     "improvement path and change since the last rating"),
        dg.AssetSpec(BENCHMARKS_KEY, group_name=RATINGS, deps=[RATINGS_KEY], kinds={"duckdb"},
                     description="Each firm's percentile per criterion among anonymized peers "
                     "(district and role)"),
    ],
    name="company_ratings",
)  # fmt: skip
def ratings_assets(hub: HubResource):  # noqa: ANN201
    m = load_methodology()  # a broken methodology file fails here, with file, line, field
    wh = hub.warehouse()
    try:
        ratings = refresh_ratings(wh, as_of_today(), m)
    finally:
        wh.dispose()
    grades: dict[str, int] = {}
    for r in ratings:
        g = r.overall.grade or "insufficient data"
        grades[g] = grades.get(g, 0) + 1
    yield dg.MaterializeResult(asset_key=RATINGS_KEY, metadata={
        "firms": len(ratings), "methodology": m.version,
        "grades": dg.MetadataValue.json(dict(sorted(grades.items())))})  # fmt: skip
    yield dg.MaterializeResult(asset_key=BENCHMARKS_KEY, metadata={"firms": len(ratings)})


@dg.asset(
    key=MATCHES_KEY, group_name=RATINGS, kinds={"duckdb"},
    deps=[[_H, "companies"], [_H, "waste_streams"], [_H, "bom_lines"], [_H, "order_lines"]],
    description="Industrial symbiosis: one firm's waste proposed as another firm's input",
)  # fmt: skip
def symbiosis_matches(hub: HubResource) -> dg.MaterializeResult:
    rules = load_rules()
    wh = hub.warehouse()
    try:
        matches, unmatched = refresh_matches(wh, as_of_today(), rules)
    finally:
        wh.dispose()
    return dg.MaterializeResult(metadata={
        "matches": len(matches), "offers unmatched": len(unmatched),
        "landfill kg avoided": sum(m["landfill_kg_avoided"] for m in matches)})  # fmt: skip


@dg.asset(
    key=REPORT_KEY, group_name=RATINGS, kinds={"html"},
    deps=[RATINGS_KEY, BENCHMARKS_KEY, MATCHES_KEY],
    description="The district report and one page per firm (static HTML under data/ratings/)",
)  # fmt: skip
def ratings_report(hub: HubResource) -> dg.MaterializeResult:
    wh = hub.warehouse()
    try:
        out = write_pages(wh, hub.resolved_data_dir() / "ratings", load_methodology())
    finally:
        wh.dispose()
    return dg.MaterializeResult(metadata={"index": dg.MetadataValue.path(str(out))})


RATINGS_ASSETS = [ratings_assets, symbiosis_matches, ratings_report]
