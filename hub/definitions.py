"""Dagster definitions: assets by layer (raw → staged → harmonized), firms as partitions.

One run covers many firms (a single-run backfill policy): Dagster's per-run overhead is paid
once per night, not once per firm. Inside each step every firm is processed on its own, so
one firm's failure never stops the others; per-firm gating of harmonization follows each
file's validation report (see `hub.pipeline`).
"""

import warnings
from collections.abc import Callable

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from hub import pipeline
from hub.canonical import ENTITIES
from hub.checks import check_results, check_specs
from hub.config import Firm
from hub.district_assets import DISTRICT_ASSETS, SUPPLY_CHAIN
from hub.notify_sensors import SENSORS as NOTIFY_SENSORS
from hub.passports.assets import PASSPORTS, build_passport_assets
from hub.pipeline import FileReport
from hub.ratings.assets import RATINGS, RATINGS_ASSETS
from hub.resources import HubResource
from hub.sensors import build_sftp_sensor

# Single-run backfill policies are beta in Dagster 1.13: the warning is noise for operators.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

COMPANY = "company"
company_partitions = dg.DynamicPartitionsDefinition(name=COMPANY)
RAW, STAGED, HARMONIZED = "raw", "staged", "harmonized"
SINGLE_RUN = dg.BackfillPolicy.single_run()
HARMONIZED_KEYS = {
    "orders": ["order_lines"],
    "bom_lines": ["bom_lines"],
    "suppliers": ["suppliers", "supplier_links"],
    "products": ["products"],
    "waste_streams": ["waste_streams"],
    "certifications": ["certifications"],
}
ENTITY_DOCS = {
    "orders": "Order lines of the firm: sales, purchases and work orders to subcontractors",
    "bom_lines": "Bills of materials of the firm's articles: fabrics, yarns, trims, labels",
    "suppliers": "The firm's suppliers and subcontractors",
    "products": "The firm's articles (styles/SKUs)",
    "waste_streams": "Waste the firm produces, by EWC code, and where it goes",
    "certifications": "Certificates and social audits the firm holds",
}


def for_each_firm(
    context: dg.AssetExecutionContext, hub: HubResource, step: Callable[[Firm], list[FileReport]]
) -> dict[str, list[FileReport] | Exception]:
    """Run a step per firm of the run; a firm's exception is kept, logged, and isolated."""
    district = hub.district()
    out: dict[str, list[FileReport] | Exception] = {}
    for company_id in context.partition_keys:
        try:
            out[company_id] = step(district.firm(company_id))
        except Exception as exc:  # one firm's failure must not stop the others
            out[company_id] = exc
    return _log_results(context, out)


def _log_results(
    context: dg.AssetExecutionContext, out: dict[str, list[FileReport] | Exception]
) -> dict[str, list[FileReport] | Exception]:
    """Log each firm's outcome; fail the step only when every firm of the run failed."""
    for company_id, reports in out.items():
        if isinstance(reports, Exception):
            context.log.error(f"{company_id}: {type(reports).__name__}: {reports}")
        else:
            _log_firm(context, company_id, reports)
    if out and all(isinstance(v, Exception) for v in out.values()):
        raise dg.Failure(
            description="every firm of the run failed",
            metadata={k: str(v) for k, v in out.items()},
        )
    return out


def _log_firm(context: dg.AssetExecutionContext, company_id: str, reports: list[FileReport]):
    # Each log line is an event written to Dagster's storage: one line for the firm's good
    # files, one per file that needs the operator's eye.
    lines = []
    for r in reports:
        line = (f"{company_id}/{r.source}/{r.file}: {r.status}, {r.rows_read} rows read, "
                f"{r.rows_valid} valid, {r.rows_quarantined} quarantined")  # fmt: skip
        if r.status == pipeline.OK:
            lines.append(line)
        else:
            context.log.warning(f"{line} — {r.message}")
    if lines:
        context.log.info("\n".join(lines))


def _summary(results: dict[str, list[FileReport] | Exception]) -> dict[str, object]:
    lines = [
        "| firm | files | rows read | valid | quarantined | status |",
        "|---|---|---|---|---|---|",
    ]
    for firm, reps in sorted(results.items()):
        if isinstance(reps, Exception):
            lines.append(f"| {firm} | – | – | – | – | error: {str(reps)[:120]} |")
            continue
        statuses = ", ".join(sorted({r.status for r in reps})) or "no new files"
        lines.append(
            f"| {firm} | {len(reps)} | {sum(r.rows_read for r in reps)} | "
            f"{sum(r.rows_valid for r in reps)} | {sum(r.rows_quarantined for r in reps)} | "
            f"{statuses} |"
        )
    reps = [r for v in results.values() if not isinstance(v, Exception) for r in v]
    return {
        "firms": len(results),
        "files": len(reps),
        "rows_read": sum(r.rows_read for r in reps),
        "by firm": dg.MetadataValue.md("\n".join(lines)),
    }


def _raw_asset(entity: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=[RAW, entity], group_name=RAW, partitions_def=company_partitions,
        backfill_policy=SINGLE_RUN, description=f"{ENTITY_DOCS[entity]}, as exported (raw)",
        kinds={"parquet"},
    )  # fmt: skip
    def raw(context: dg.AssetExecutionContext, hub: HubResource) -> dg.MaterializeResult:
        ws, wh = hub.workspace(context), hub.warehouse()
        try:
            results = for_each_firm(context, hub, lambda f: pipeline.extract(ws, wh, f, entity))
        finally:
            wh.dispose()
        return dg.MaterializeResult(metadata=_summary(results))

    return raw


def _staged_asset(entity: str) -> dg.AssetsDefinition:
    deps = [dg.AssetKey([RAW, entity])]
    if entity == "bom_lines":  # supplier codes are checked against the firm's supplier list
        deps.append(dg.AssetKey([HARMONIZED, "supplier_links"]))

    @dg.asset(
        key=[STAGED, entity], group_name=STAGED, partitions_def=company_partitions,
        backfill_policy=SINGLE_RUN, deps=deps, check_specs=check_specs(entity, [STAGED, entity]),
        description=f"{ENTITY_DOCS[entity]}, mapped, typed and validated (staged)",
        kinds={"parquet"},
    )  # fmt: skip
    def staged(context: dg.AssetExecutionContext, hub: HubResource):  # noqa: ANN202
        ws, wh = hub.workspace(context), hub.warehouse()
        try:
            firms = [ws.district.firm(k) for k in context.partition_keys]
            results = pipeline.validate(ws, wh, firms, entity, context.run_id)
        finally:
            wh.dispose()
        _log_results(context, results)
        yield dg.MaterializeResult(metadata=_summary(results))
        yield from check_results(entity, [STAGED, entity], results, ws, hub.district())

    return staged


def _harmonized_asset(entity: str) -> dg.AssetsDefinition:
    keys = HARMONIZED_KEYS[entity]

    @dg.multi_asset(
        specs=[
            dg.AssetSpec([HARMONIZED, k], deps=[[STAGED, entity]], group_name=HARMONIZED,
                         description=f"{ENTITY_DOCS[entity]}: district table `{k}`",
                         kinds={"duckdb"})
            for k in keys
        ],
        name=f"harmonized_{entity}", partitions_def=company_partitions,
        backfill_policy=SINGLE_RUN,
    )  # fmt: skip
    def harmonized(context: dg.AssetExecutionContext, hub: HubResource):  # noqa: ANN202
        ws, wh = hub.workspace(context), hub.warehouse()
        try:
            results = for_each_firm(
                context, hub, lambda f: pipeline.load(ws, wh, f, entity, context.run_id)
            )
        finally:
            wh.dispose()
        meta = _summary(results)
        for k in keys:
            yield dg.MaterializeResult(asset_key=[HARMONIZED, k], metadata=meta)

    return harmonized


@dg.asset(
    key=[HARMONIZED, "companies"], group_name=HARMONIZED, partitions_def=company_partitions,
    backfill_policy=SINGLE_RUN, description="The district's firms, as configured", kinds={"duckdb"},
)  # fmt: skip
def companies(context: dg.AssetExecutionContext, hub: HubResource) -> dg.MaterializeResult:
    district, wh = hub.district(), hub.warehouse()
    try:
        pipeline.upsert_companies(wh, [district.firm(k) for k in context.partition_keys])
    finally:
        wh.dispose()
    return dg.MaterializeResult(metadata={"firms": len(context.partition_keys)})


ASSETS = [
    companies,
    *(_raw_asset(e) for e in ENTITIES),
    *(_staged_asset(e) for e in ENTITIES),
    *(_harmonized_asset(e) for e in ENTITIES),
    *DISTRICT_ASSETS,  # unpartitioned: supplier resolution, history, supply chain
    *build_passport_assets(company_partitions),  # per firm, after each sync
    *RATINGS_ASSETS,  # unpartitioned: ratings, benchmark, symbiosis, pages after each sync
]

nightly_sync = dg.define_asset_job(
    "nightly_sync",
    selection=dg.AssetSelection.groups(RAW, STAGED, HARMONIZED, SUPPLY_CHAIN, PASSPORTS, RATINGS),
    partitions_def=company_partitions,
    executor_def=dg.in_process_executor,
    description="Pull every firm's sources, validate, harmonize: the nightly sync",
)


def range_tags(keys: list[str]) -> dict[str, str]:
    """Run tags selecting a range of firms in one run (in the order they were registered)."""
    return {
        ASSET_PARTITION_RANGE_START_TAG: keys[0],
        ASSET_PARTITION_RANGE_END_TAG: keys[-1],
    }


def register_firms(instance: dg.DagsterInstance, hub: HubResource) -> list[str]:
    """Make the configured firms the `company` partitions; returns them in partition order."""
    wanted = [f.company_id for f in hub.district().firms]
    have = instance.get_dynamic_partitions(COMPANY)
    new = [k for k in wanted if k not in have]
    if new:
        instance.add_dynamic_partitions(COMPANY, new)
    for gone in [k for k in have if k not in wanted]:
        instance.delete_dynamic_partition(COMPANY, gone)
    return instance.get_dynamic_partitions(COMPANY)


# 03:30 Europe/Rome: after the firms' nightly exports, outside the 02:00–03:00 DST hour.
@dg.schedule(
    job=nightly_sync, cron_schedule="30 3 * * *", execution_timezone="Europe/Rome",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)  # fmt: skip
def nightly(context: dg.ScheduleEvaluationContext, hub: HubResource) -> dg.RunRequest:
    keys = register_firms(context.instance, hub)
    if not keys:
        return dg.SkipReason("no firms configured")
    return dg.RunRequest(run_key=None, tags=range_tags(keys))


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def firms_from_config(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SensorResult:
    """Keeps the `company` partitions equal to the firms of district.yaml."""
    wanted = [f.company_id for f in hub.district().firms]
    have = context.instance.get_dynamic_partitions(COMPANY)
    requests = []
    if new := [k for k in wanted if k not in have]:
        requests.append(company_partitions.build_add_request(new))
    if gone := [k for k in have if k not in wanted]:
        requests.append(company_partitions.build_delete_request(gone))
    return dg.SensorResult(dynamic_partitions_requests=requests)


# A firm's sync starts when a complete new file lands on its SFTP server (hub/sensors.py).
sftp_files = build_sftp_sensor(nightly_sync, company_partitions)


defs = dg.Definitions(
    assets=ASSETS,
    jobs=[nightly_sync],
    schedules=[nightly],
    sensors=[firms_from_config, sftp_files, *NOTIFY_SENSORS],
    resources={"hub": HubResource()},
)
