"""Sensors that tell operators of failed runs and failed checks (channels: `hub.notify`).

`notify_run_failure` watches runs that fail; `notify_failed_checks` reads the asset check
evaluations of newly finished runs (its cursor is the last run update seen) and sends one
message per run listing its failed checks. Both do nothing unless district.yaml has a
`notifications:` block.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from hub.notify import Notice, send, wanted
from hub.resources import HubResource

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]

# At most this many runs are read per tick; the cursor carries on next tick.
BATCH = 50
FIRST_LOOKBACK = timedelta(days=1)


def _firms(tags: dict[str, str]) -> str:
    if PARTITION_NAME_TAG in tags:
        return tags[PARTITION_NAME_TAG]
    if ASSET_PARTITION_RANGE_START_TAG in tags:
        start, end = tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG]
        return start if start == end else f"{start} … {end}"
    return "all firms"


def _report(context, deliveries) -> None:  # noqa: ANN001
    for d in deliveries:
        (context.log.info if d.ok else context.log.error)(d.message)


@dg.run_failure_sensor(
    name="notify_run_failure", default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Sends failed runs to the channels of `notifications:` in district.yaml",
)  # fmt: skip
def notify_run_failure(context: dg.RunFailureSensorContext, hub: HubResource) -> None:
    config = hub.district().notifications
    if not wanted(config, "run_failure"):
        return
    run = context.dagster_run
    reason = context.failure_event.message or "the run failed"
    firms = _firms(dict(run.tags))
    url = f"{config.ui_url.rstrip('/')}/runs/{run.run_id}"
    notice = Notice(
        kind="run_failure",
        subject=f"[district hub] run {run.job_name} failed ({firms})",
        text=f"Run {run.run_id} of {run.job_name} for {firms} failed.\n{reason}\n\n"
        f"Open it: {url}\nRerun one firm: hub sync --company ID",
        data={"run_id": run.run_id, "job": run.job_name, "firms": firms, "reason": reason,
              "url": url},
    )  # fmt: skip
    _report(context, send(config, notice))


@dg.sensor(
    name="notify_failed_checks", default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Sends failed asset checks (firm, rule, counts) to the channels of "
    "`notifications:` in district.yaml",
)  # fmt: skip
def notify_failed_checks(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SkipReason:
    # Per finished run (the default SQLite event log is sharded by run): the cursor is the
    # last update time of the runs already read.
    # First tick: the last day only, so that turning notifications on does not replay history.
    after = (datetime.fromisoformat(context.cursor) if context.cursor
             else datetime.now(UTC) - FIRST_LOOKBACK)  # fmt: skip
    records = context.instance.get_run_records(
        dg.RunsFilter(statuses=FINISHED, updated_after=after), limit=BATCH,
        order_by="update_timestamp", ascending=True,
    )  # fmt: skip
    records = [r for r in records if r.update_timestamp > after]
    if not records:
        return dg.SkipReason("no newly finished runs")
    context.update_cursor(max(r.update_timestamp for r in records).isoformat())
    config = hub.district().notifications
    if not wanted(config, "check_failure"):
        return dg.SkipReason("notifications of failed checks are off")
    sent = 0
    for record in records:
        run_id = record.dagster_run.run_id
        evals = [
            e.dagster_event.asset_check_evaluation_data
            for e in context.instance.all_logs(
                run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            )
        ]
        failed = [e for e in evals if not e.passed]
        if failed:
            _report(context, send(config, _checks_notice(context, config, run_id, failed)))
            sent += len(failed)
    return dg.SkipReason(f"{sent} failed checks in {len(records)} finished runs")


def _checks_notice(context, config, run_id: str, evals: list) -> Notice:  # noqa: ANN001
    run = context.instance.get_run_by_id(run_id)
    firms = _firms(dict(run.tags)) if run else "unknown firms"
    url = f"{config.ui_url.rstrip('/')}/runs/{run_id}"
    checks, lines = [], []
    for ev in evals:
        name = f"{ev.asset_key.to_user_string()} {ev.check_name}"
        desc = ev.description or ""
        checks.append({"asset": ev.asset_key.to_user_string(), "check": ev.check_name,
                       "severity": ev.severity.value, "description": desc,
                       "url": f"{config.ui_url.rstrip('/')}/assets/"
                              f"{ev.asset_key.to_user_string()}?view=checks"
                              f"&checkDetail={ev.check_name}"})  # fmt: skip
        lines.append(f"- {name} ({ev.severity.value}): {desc}\n  {checks[-1]['url']}")
    return Notice(
        kind="check_failure",
        subject=f"[district hub] {len(evals)} failed checks ({firms})",
        text=f"Run {run_id} for {firms}: {len(evals)} checks failed.\n" + "\n".join(lines)
        + f"\n\nThe run: {url}\nAfter the firm fixes its files: hub sync --company ID",
        data={"run_id": run_id, "firms": firms, "checks": checks, "url": url},
    )  # fmt: skip


SENSORS = [notify_run_failure, notify_failed_checks]
