"""The Dagster definitions load, and the asset graph, jobs and schedules match the snapshot."""

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg

from hub.definitions import defs, nightly, range_tags

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def _graph() -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "checks": sorted(c.name for c in node.check_keys),
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": sorted(
            (s.name, s.cron_schedule, s.execution_timezone) for s in defs.schedules or []
        ),
        "sensors": sorted(s.name for s in defs.sensors or []),
    }


def test_definitions_match_the_reviewed_snapshot():
    """A change to the graph must be deliberate: UPDATE_SNAPSHOT=1 rewrites it; review the diff."""
    defs.validate_loadable(defs)
    actual = json.loads(json.dumps(_graph()))
    if os.environ.get("UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert actual == expected


def test_staged_checks_are_blocking_only_for_batch_rules():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if key.path[0] != "staged":
            continue
        specs = {s.name: s for s in graph.get(key).assets_def.check_specs}
        assert specs["batch_valid"].blocking
        assert not specs["rows_valid"].blocking


def test_nightly_schedule_runs_every_firm_in_one_run(tmp_path, monkeypatch):
    district = Path(__file__).parent.parent / "district.yaml"
    monkeypatch.setenv("HUB_DISTRICT", str(district))
    with dg.instance_for_test() as instance:
        ctx = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=dt.datetime(2026, 3, 29, 3, 30),
            resources={"hub": defs.resources["hub"]},
        )
        request = nightly(ctx)
        firms = instance.get_dynamic_partitions("company")
    assert isinstance(request, dg.RunRequest)
    assert len(firms) >= 6
    assert request.tags == range_tags(firms)


def test_nightly_schedule_avoids_the_dst_hour():
    assert nightly.execution_timezone == "Europe/Rome"
    hour = int(nightly.cron_schedule.split()[1])
    assert not 2 <= hour < 3
