"""Dagster assets of the passports group (the logic is plain Python in `hub.passports`)."""

import dagster as dg

from hub.passports.build import FirmPassports
from hub.passports.refresh import refresh
from hub.resources import HubResource

PASSPORTS = "passports"
UPSTREAM = [
    ["harmonized", "companies"], ["harmonized", "products"], ["harmonized", "bom_lines"],
    ["harmonized", "suppliers"], ["harmonized", "supplier_links"],
    ["harmonized", "order_lines"], ["harmonized", "certifications"], ["supply_chain", "steps"],
]  # fmt: skip


def _table(results: dict[str, FirmPassports | Exception]) -> str:
    lines = ["| firm | products | new versions | coverage | errors |", "|---|---|---|---|---|"]
    for firm, r in sorted(results.items()):
        if isinstance(r, Exception):
            lines.append(f"| {firm} | – | – | – | {type(r).__name__}: {str(r)[:120]} |")
        else:
            cov = "–" if r.coverage is None else f"{r.coverage:.0%}"
            errs = "; ".join(f"{k}: {v}" for k, v in list(r.errors.items())[:3])
            lines.append(f"| {firm} | {r.products} | {r.new_versions} | {cov} | {errs} |")
    return "\n".join(lines)


def build_passport_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The passports asset, partitioned by firm like the harmonized tables it reads."""

    @dg.asset(
        key=[PASSPORTS, "product_passports"], group_name=PASSPORTS, partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(), deps=UPSTREAM, kinds={"json", "html"},
        description="Digital Product Passports (UNTP) of the firm's products: public and "
        "restricted views, versioned, and the district's passport pages",
    )  # fmt: skip
    def product_passports(
        context: dg.AssetExecutionContext, hub: HubResource
    ) -> dg.MaterializeResult:
        wh = hub.warehouse()
        try:
            results = refresh(wh, hub.district(), list(context.partition_keys),
                              hub.resolved_data_dir())  # fmt: skip
        finally:
            wh.dispose()
        for firm, r in results.items():
            if isinstance(r, Exception):
                context.log.error(f"{firm}: passports failed: {type(r).__name__}: {r}")
            elif r.errors:
                context.log.warning(f"{firm}: {len(r.errors)} product(s) without passport")
        if results and all(isinstance(r, Exception) for r in results.values()):
            raise dg.Failure(description="passports failed for every firm of the run",
                             metadata={k: str(v) for k, v in results.items()})  # fmt: skip
        done = [r for r in results.values() if not isinstance(r, Exception)]
        return dg.MaterializeResult(metadata={
            "passports": sum(r.products for r in done),
            "new versions": sum(r.new_versions for r in done),
            "by firm": dg.MetadataValue.md(_table(results)),
        })  # fmt: skip

    return [product_passports]
