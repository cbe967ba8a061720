"""The SFTP sensor: a firm's sync starts when a complete new file lands on its SFTP server.

Each tick lists the complete files (by the source's completion rule) of every SFTP source. A
file not seen at the previous tick yields one run request for that firm's partition, with a
run key made of firm, source, name, size and mtime: one file, one run, even if the cursor is
lost. The cursor keeps, per source, the files present at the last tick (archived files leave
it). The sensor reads no warehouse (the embedded DuckDB allows one writer): a file already
loaded and seen again is a no-op of the run, by the file ledger.
"""

from __future__ import annotations

import json

import dagster as dg

from connectors.base import SourceError
from hub.config import ConfigError, SftpLocation
from hub.pipeline import build_connector
from hub.resources import HubResource
from hub.sftp_source import inbox_dir

SENSOR_NAME = "sftp_files"
TICK_SECONDS = 120


def build_sftp_sensor(
    job: dg.UnresolvedAssetJobDefinition, partitions: dg.DynamicPartitionsDefinition
) -> dg.SensorDefinition:
    """The sensor starting `job` for a firm's partition when one of its SFTP files lands."""

    @dg.sensor(
        name=SENSOR_NAME, job=job, minimum_interval_seconds=TICK_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts a firm's sync when a complete new file lands on its SFTP server",
    )  # fmt: skip
    def sftp_files(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SensorResult:
        district = hub.district()
        before: dict[str, list[str]] = json.loads(context.cursor) if context.cursor else {}
        after: dict[str, list[str]] = {}
        requests: list[dg.RunRequest] = []
        firms: set[str] = set()
        for firm in district.firms:
            for source in firm.sources:
                if not isinstance(getattr(source, "location", None), SftpLocation):
                    continue
                key = f"{firm.company_id}/{source.name}"
                try:
                    files = _complete_files(hub, district, firm.company_id, source)
                except (SourceError, ConfigError) as exc:
                    context.log.warning(f"{key}: {exc}")
                    after[key] = before.get(key, [])  # unknown now: keep what was seen
                    continue
                after[key] = sorted(files)
                for mark in sorted(set(files) - set(before.get(key, []))):
                    requests.append(
                        dg.RunRequest(
                            run_key=f"sftp:{key}:{mark}",
                            partition_key=firm.company_id,
                            tags={"hub/trigger": f"sftp {key}/{files[mark]}"},
                        )
                    )
                    firms.add(firm.company_id)
        have = set(context.instance.get_dynamic_partitions(partitions.name or ""))
        missing = sorted(firms - have)
        return dg.SensorResult(
            run_requests=requests,
            cursor=json.dumps(after, sort_keys=True),
            dynamic_partitions_requests=[partitions.build_add_request(missing)] if missing else [],
        )

    return sftp_files


def _complete_files(hub: HubResource, district, company_id: str, source) -> dict[str, str]:  # noqa: ANN001
    """'name:size:mtime' → name of every complete file of the source's entities."""
    connector = build_connector(
        district, source, inbox_dir(hub.resolved_data_dir(), company_id, source.name)
    )
    try:
        out = {}
        for pattern in sorted(set(connector.patterns.values())):
            for f in connector.files.list(pattern):
                if f.problem is None:
                    out[f"{f.name}:{f.size}:{int(f.mtime)}"] = f.name
        return out
    finally:
        connector.close()
