"""District-level Dagster assets: they run once per run over every firm's harmonized data.

Unpartitioned, downstream of the per-firm harmonized assets: supplier resolution across firms,
the history of harmonized tables, and the supply chain of each product (group `supply_chain`).
They read what the warehouse holds, so a firm that failed tonight contributes its last good
data and never blocks the others; their results do not depend on the order firms loaded in.
"""

from __future__ import annotations

import dagster as dg

from hub.harmonization import history, resolution, supply_chain
from hub.resources import HubResource

HARMONIZED, SUPPLY_CHAIN = "harmonized", "supply_chain"
SUPPLIER_RESOLUTION = dg.AssetKey([HARMONIZED, "supplier_resolution"])
HISTORY = dg.AssetKey([HARMONIZED, "history"])


@dg.asset(
    key=SUPPLIER_RESOLUTION, group_name=HARMONIZED, kinds={"duckdb"},
    deps=[[HARMONIZED, "supplier_links"], [HARMONIZED, "bom_lines"], [HARMONIZED, "companies"]],
    description="One supplier across all firms that list it, with the rule of each merge",
)  # fmt: skip
def supplier_resolution(hub: HubResource) -> dg.MaterializeResult:
    district, wh = hub.district(), hub.warehouse()
    try:
        path = district.resolve_path(district.supplier_overrides) if (
            district.supplier_overrides) else None  # fmt: skip
        summary = resolution.resolve_suppliers(wh, path)
        placed = resolution.place_companies(wh)
    finally:
        wh.dispose()
    return dg.MaterializeResult(metadata={
        "records": summary.records, "suppliers": summary.suppliers,
        "suppliers in several firms": summary.merged, "bom lines re-pointed":
        summary.repointed_bom_lines, "firms placed": placed,
        "by rule": dg.MetadataValue.json(summary.rules),
    })  # fmt: skip


@dg.asset(
    key=HISTORY, group_name=HARMONIZED, kinds={"duckdb"},
    deps=[[HARMONIZED, "products"], [HARMONIZED, "bom_lines"], SUPPLIER_RESOLUTION],
    description="Past versions of products, BOM lines and supplier links (valid_from/valid_to)",
)  # fmt: skip
def harmonized_history(hub: HubResource) -> dg.MaterializeResult:
    wh = hub.warehouse()
    try:
        counts = history.record(wh)
    finally:
        wh.dispose()
    return dg.MaterializeResult(metadata={t: dg.MetadataValue.json(c) for t, c in counts.items()})


@dg.multi_asset(
    specs=[
        dg.AssetSpec([SUPPLY_CHAIN, "steps"], group_name=SUPPLY_CHAIN, kinds={"duckdb"},
                     deps=[SUPPLIER_RESOLUTION, [HARMONIZED, "order_lines"],
                           [HARMONIZED, "products"], [HARMONIZED, "bom_lines"]],
                     description="Each product's chain: processes, facilities, tiers, distances"),
        dg.AssetSpec([SUPPLY_CHAIN, "product_indicators"], group_name=SUPPLY_CHAIN,
                     kinds={"duckdb"}, deps=[[SUPPLY_CHAIN, "steps"]],
                     description="Filiera corta: shares of steps and mass within 50/100/300 km"),
    ],
    name="supply_chain",
)  # fmt: skip
def supply_chain_assets(hub: HubResource):  # noqa: ANN201
    wh = hub.warehouse()
    try:
        steps, ind = supply_chain.build(wh)
        summary = supply_chain.store(wh, steps, ind)
    finally:
        wh.dispose()
    yield dg.MaterializeResult(asset_key=[SUPPLY_CHAIN, "steps"], metadata={
        "steps": summary.steps, "located": summary.located})  # fmt: skip
    yield dg.MaterializeResult(asset_key=[SUPPLY_CHAIN, "product_indicators"],
                               metadata={"products": summary.products})  # fmt: skip


DISTRICT_ASSETS = [supplier_resolution, harmonized_history, supply_chain_assets]
