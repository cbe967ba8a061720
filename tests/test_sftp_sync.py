"""The sample's SFTP firm through the whole nightly sync, served by a real sshd on loopback.

`make_district` (tests/conftest.py) copies the sample district and points the SFTP firm's
remote folder at the copy's `sample/stamperia-soliera`, served by the session's sshd; tests that
stop or break the server start their own and point `HUB_SFTP_*` at it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from connectors.sftp import SftpFolder
from hub import pipeline
from hub.canonical import TABLES
from hub.cli import main
from hub.definitions import sftp_files
from tests.conftest import SFTP_FIRM as FIRM
from tests.sftp_server import keygen, new_server, require_sshd

pytestmark = pytest.mark.integration

SOURCE = "sftp-notturno"
SENTINEL = "S3ntinel-7f3a9c-never-log-me"
LOCATION_KEY = "          archive_dir: archivio\n"  # a line of the firm's `location:` block


@pytest.fixture(autouse=True)
def _needs_sshd() -> None:
    require_sshd()


def _drop(d) -> Path:  # noqa: ANN001
    return d.root / "sample" / FIRM


def _waiting(d) -> list[str]:  # noqa: ANN001
    """Data files still in the firm's drop folder on the server."""
    return sorted(p.name for p in _drop(d).glob("*.csv"))


def _ok(result) -> bool:  # noqa: ANN001
    """Every source of the SFTP firm synced (other firms and district assets not judged)."""
    rows = [r for r in result.syncs.to_pylist() if r["company_id"] == FIRM]
    return bool(rows) and all(r["status"] == "ok" for r in rows)


def _count(d, table: str, firm: str = FIRM) -> int:  # noqa: ANN001
    return d.sql(f"select count(*) n from {table} where company_id = '{firm}'")[0]["n"]


def _edit_location(d, add: str = "", drop: tuple[str, ...] = ()) -> None:  # noqa: ANN001
    """Add lines to (or remove lines from) the SFTP firm's `location:` in the copied YAML."""
    path = d.root / "district.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(LOCATION_KEY) == 1
    extra = "".join(f"          {line}\n" for line in add.splitlines() if line)
    text = text.replace(LOCATION_KEY, LOCATION_KEY + extra)
    for prefix in drop:
        lines = text.splitlines(keepends=True)
        text = "".join(x for x in lines if not x.strip().startswith(prefix))
    path.write_text(text, encoding="utf-8")


FAST_RETRIES = "attempts: 3\nbackoff_seconds: 0.01\nbackoff_max_seconds: 0.05"


def _lines(d) -> int:  # noqa: ANN001
    return sum(
        len(p.read_text(encoding="utf-8").splitlines()) - 1 for p in _drop(d).glob("lavori_*.csv")
    )


def _own_server(tmp_path: Path, monkeypatch, name: str):  # noqa: ANN001, ANN202
    server = new_server(tmp_path / name)
    for k, v in server.env(tmp_path / name / "known_hosts").items():
        monkeypatch.setenv(k, v)
    return server


# --- the happy path and reruns ------------------------------------------------------------------


def test_files_on_the_server_reach_the_warehouse_then_are_archived(make_district):
    d = make_district()
    expected = _lines(d)
    result = d.sync([FIRM])
    assert _ok(result)
    syncs = result.syncs.to_pylist()
    assert {(r["entity"], r["status"]) for r in syncs} == {("orders", "ok"), ("suppliers", "ok")}
    assert _count(d, "order_lines") == expected > 0
    assert sum(r["rows_loaded"] for r in syncs if r["entity"] == "orders") == expected
    assert _count(d, "supplier_links") == 3
    # Committed, then moved into the archive folder with their markers, under unique names.
    assert _waiting(d) == [] and not list(_drop(d).glob("*.ok"))
    archived = sorted(p.name for p in (_drop(d) / "archivio").iterdir())
    assert len(archived) == 6 and sum(n.endswith(".csv.ok") for n in archived) == 3
    # Downloaded into the inbox cache; the ledger has each file once.
    inbox = d.root / "data" / "inbox" / FIRM / SOURCE
    assert sorted(p.name for p in inbox.iterdir()) == [
        "fornitori.csv",
        "lavori_20261120.csv",
        "lavori_20261121.csv",
    ]
    assert _count(d, "file_ledger") == 3


def test_a_rerun_and_a_file_put_back_load_nothing_twice(make_district):
    d = make_district()
    d.sync([FIRM])
    loaded = _count(d, "order_lines")
    again = d.sync([FIRM])
    assert _ok(again) and sum(r["rows_read"] for r in again.syncs.to_pylist()) == 0
    # The firm's script puts an already loaded file back (same bytes): a no-op, archived again.
    archived = next((_drop(d) / "archivio").glob("lavori_20261121.*.csv"))
    archived.rename(_drop(d) / "lavori_20261121.csv")
    (_drop(d) / "lavori_20261121.csv.ok").write_bytes(b"")
    third = d.sync([FIRM])
    assert _ok(third) and sum(r["rows_read"] for r in third.syncs.to_pylist()) == 0
    assert _count(d, "order_lines") == loaded
    assert _waiting(d) == []


def test_a_failed_load_leaves_the_files_on_the_server(make_district, monkeypatch):
    d = make_district()
    real = pipeline.harmonize

    def broken(entity, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if entity == "orders":
            raise RuntimeError("the warehouse went away")
        return real(entity, *args, **kwargs)

    monkeypatch.setattr(pipeline, "harmonize", broken)
    d.sync([FIRM])
    assert _count(d, "order_lines") == 0
    assert _waiting(d) == ["lavori_20261120.csv", "lavori_20261121.csv"], "not archived"
    assert (_drop(d) / "lavori_20261120.csv.ok").exists()
    assert _count(d, "supplier_links") == 3  # the suppliers' file loaded and was archived
    monkeypatch.setattr(pipeline, "harmonize", real)
    fixed = d.sync([FIRM])
    assert _ok(fixed)
    assert _count(d, "order_lines") == _lines_archived(d) > 0
    assert _waiting(d) == []


def _lines_archived(d) -> int:  # noqa: ANN001
    files = (_drop(d) / "archivio").glob("lavori_*.csv")
    return sum(len(p.read_text(encoding="utf-8").splitlines()) - 1 for p in files)


def test_a_crash_between_commit_and_archive_loads_nothing_twice(make_district, monkeypatch):
    d = make_district()
    expected = _lines(d)

    def power_cut(self, name):  # noqa: ANN001, ANN202
        raise RuntimeError("power cut after the commit")

    monkeypatch.setattr(SftpFolder, "archive", power_cut)
    d.sync([FIRM])
    assert _count(d, "order_lines") == expected  # committed
    assert len(_waiting(d)) == 3  # but not archived
    monkeypatch.undo()
    again = d.sync([FIRM])
    assert _ok(again)
    assert _count(d, "order_lines") == expected
    assert sum(r["rows_read"] for r in again.syncs.to_pylist()) == 0
    assert _waiting(d) == [], "the next sync archives what the ledger says is committed"


# --- a server that goes away --------------------------------------------------------------------


def test_a_server_killed_mid_sync_fails_that_source_while_other_firms_load(
    make_district, tmp_path, monkeypatch
):
    d = make_district()
    _edit_location(d, FAST_RETRIES)
    server = _own_server(tmp_path, monkeypatch, "dying")
    server.start()
    server.write_known_hosts(tmp_path / "dying" / "known_hosts")
    monkeypatch.setattr(SftpFolder, "progress_hook",
                        staticmethod(lambda name, done, total: server.stop()))  # fmt: skip
    try:
        result = d.sync([FIRM, "filatura-tresinaro"])
    finally:
        server.stop()
    syncs = {(r["company_id"], r["entity"]): r for r in result.syncs.to_pylist()}
    orders = syncs[(FIRM, "orders")]
    assert orders["status"] == "failed"
    assert "failed after 3 attempts" in orders["message"], orders["message"]
    assert SOURCE in orders["message"] and "127.0.0.1" in orders["message"]
    others = [r for k, r in syncs.items() if k[0] == "filatura-tresinaro"]
    assert others and all(r["status"] == "ok" for r in others)
    assert _count(d, "order_lines", "filatura-tresinaro") > 0
    assert "lavori_20261121.csv" in _waiting(d), "nothing is archived that was not committed"


# --- the sensor and `hub check` -----------------------------------------------------------------


def test_sensor_requests_one_run_per_new_complete_file(make_district):
    d = make_district()

    def tick(cursor: str | None) -> dg.SensorResult:
        ctx = dg.build_sensor_context(instance=d.instance, cursor=cursor, resources={"hub": d.hub})
        return sftp_files(ctx)

    first = tick(None)
    assert [r.partition_key for r in first.run_requests] == [FIRM] * 3
    assert len({r.run_key for r in first.run_requests}) == 3
    assert first.dynamic_partitions_requests, "the firm's partition is added if missing"
    assert tick(first.cursor).run_requests == []
    new = _drop(d) / "lavori_20261122.csv"
    new.write_bytes((_drop(d) / "lavori_20261121.csv").read_bytes())
    second = tick(first.cursor)
    assert second.run_requests == [], "no marker yet: still being written"
    (_drop(d) / "lavori_20261122.csv.ok").write_bytes(b"")
    third = tick(second.cursor)
    assert len(third.run_requests) == 1 and "lavori_20261122.csv" in third.run_requests[0].run_key
    assert third.run_requests[0].partition_key == FIRM
    # Run keys depend on the file only: a lost cursor asks again, and Dagster drops repeats.
    assert {r.run_key for r in first.run_requests} < {r.run_key for r in tick(None).run_requests}


def test_hub_check_reports_the_sftp_source_and_why_it_is_broken(
    make_district, tmp_path, monkeypatch
):
    d = make_district()
    path = str(d.root / "district.yaml")
    monkeypatch.setenv("HUB_DISTRICT", path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    runner = CliRunner()
    ok = runner.invoke(main, ["--district", path, "check", "--company", FIRM])
    assert ok.exit_code == 0, ok.output
    assert "ok" in ok.output and "verified" in ok.output and "3 files" in ok.output
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    monkeypatch.setenv("HUB_SFTP_KNOWN_HOSTS", str(empty))
    broken = runner.invoke(main, ["--district", path, "check", "--company", FIRM])
    assert broken.exit_code == 1
    assert "BROKEN" in broken.output and "host key unknown" in broken.output, broken.output


# --- secrets ------------------------------------------------------------------------------------


def test_passphrases_and_passwords_never_leak(make_district, tmp_path, monkeypatch, caplog, capfd):
    """A sentinel secret is used (key passphrase), then refused (wrong passphrase, password);
    every output is searched for it: logs, console, exception texts, the Dagster event log of
    each run, the instance's storage, warehouse tables and data folder files."""
    caplog.set_level(logging.DEBUG)
    d = make_district()
    server = _own_server(tmp_path, monkeypatch, "secret-sshd")
    keygen(server.client_key, passphrase=SENTINEL)  # the hub's key, encrypted
    server.start(password_auth=True)
    server.write_known_hosts(tmp_path / "secret-sshd" / "known_hosts")
    monkeypatch.setenv("HUB_SFTP_PASSPHRASE", SENTINEL)
    _edit_location(d, "private_key_passphrase: ${HUB_SFTP_PASSPHRASE}\n" + FAST_RETRIES)
    runs, messages = [], []
    try:
        good = d.sync([FIRM, "filatura-tresinaro"])
        assert _ok(good), good.syncs.to_pylist()  # the passphrase opened the key
        assert _count(d, "order_lines") > 0
        runs.append(good)
        (_drop(d) / "lavori_20261199.csv").write_bytes(b"x")  # something to pick up
        (_drop(d) / "lavori_20261199.csv.ok").write_bytes(b"")
        monkeypatch.setenv("HUB_SFTP_PASSPHRASE", f"{SENTINEL}-wrong")
        runs.append(d.sync([FIRM]))
        _edit_location(d, "password: ${HUB_SFTP_PASSWORD}",
                       drop=("private_key_file", "private_key_passphrase"))  # fmt: skip
        monkeypatch.setenv("HUB_SFTP_PASSWORD", SENTINEL)
        runs.append(d.sync([FIRM]))
        check = CliRunner().invoke(main, ["--district", str(d.root / "district.yaml"), "check"])
        messages.append(check.output)
    finally:
        server.stop()
    refused = [r for run in runs[1:] for r in run.syncs.to_pylist() if r["status"] == "failed"]
    assert refused and any("cannot be loaded" in r["message"] for r in refused)
    assert any("authentication refused" in r["message"] for r in refused)
    assert "authentication refused" in messages[0]
    messages += [str(r["message"]) for run in runs for r in run.syncs.to_pylist()]
    out, err = capfd.readouterr()
    texts = {"console": out + err, "logs": caplog.text, "messages": "\n".join(messages)}
    for run in runs:
        records = d.instance.all_logs(run.run_id)
        texts[f"events of {run.run_id}"] = "\n".join(dg.serialize_value(r) for r in records)
    for table in TABLES:
        texts[f"table {table}"] = str(d.sql(f"select * from {table}"))
    for folder in (d.root / "data", Path(d.instance.root_directory)):
        for p in folder.rglob("*"):
            if p.is_file():
                texts[str(p)] = p.read_bytes().decode("latin-1")
    leaks = [where for where, text in texts.items() if SENTINEL in text]
    assert leaks == []
    assert len(texts) > 20, "the search covered the outputs"
