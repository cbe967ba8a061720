"""Run the nightly job in-process (the `hub sync` command, tests and benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import pyarrow as pa
import sqlalchemy as sa

from hub.canonical import TABLES
from hub.definitions import defs, range_tags, register_firms
from hub.resources import HubResource


@dataclass
class SyncResult:
    success: bool
    run_id: str
    firms: list[str]
    syncs: pa.Table  # rows of the `syncs` table written by this run
    failed_checks: list[str]


def run_sync(
    company_ids: list[str] | None = None,
    instance: dg.DagsterInstance | None = None,
    hub: HubResource | None = None,
    log_level: str = "INFO",
    accept_deletions: bool = False,
) -> SyncResult:
    """The nightly job once, for some firms or all of them, in one in-process run.

    `accept_deletions` turns the collapse guard of ERP deletions off for this run only.
    """
    hub = hub or HubResource()
    if accept_deletions:
        # Built anew: Dagster reads a resource's settings from its constructor arguments.
        hub = HubResource(**{**hub.model_dump(), "accept_deletions": True})
    instance = instance or dg.DagsterInstance.get()
    keys = register_firms(instance, hub)
    selected = [k for k in keys if not company_ids or k in company_ids]
    job = defs.resolve_job_def("nightly_sync")
    # Dagster's own events are DEBUG: the console shows the hub's progress and problems.
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if company_ids and len(selected) == 1:
        tags: dict[str, str] = {}
        result = job.execute_in_process(
            instance=instance, partition_key=selected[0], raise_on_error=False,
            run_config=run_config, resources={"hub": hub},
        )  # fmt: skip
    else:
        # A range covers the firms registered between its ends: run contiguous firms together.
        tags = range_tags(selected)
        result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False,
                                        run_config=run_config,
                                        resources={"hub": hub})  # fmt: skip
    failed = [
        f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:"
        f"{e.asset_check_evaluation_data.check_name}"
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
    ]
    wh = hub.warehouse()
    try:
        s = TABLES["syncs"]
        syncs = wh.read_arrow(sa.select(s).where(s.c.run_id == result.run_id))
    finally:
        wh.dispose()
    return SyncResult(result.success, result.run_id, selected, syncs, failed)
