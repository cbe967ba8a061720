"""Configuration of database and API sources, and the SQL connector on a small SQLite ERP."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from connectors.base import ValueCursor
from connectors.registry import CONNECTORS
from connectors.sql import SqlConnector, SqlEntity, decode_cursor, encode_cursor
from hub.config import ConfigError, SqlSource, TrytonSource, load_district
from hub.erp import build_erp_connector
from hub.tryton_profile import TRYTON_PROFILE


def _write(tmp_path: Path, source: dict) -> Path:
    config = {
        "district": {"id": "carpi", "name": "Carpi"},
        "firms": [{"company_id": "erp-firm", "name": "ERP firm", "role": "manufacturer",
                   "sources": [source]}],
    }  # fmt: skip
    path = tmp_path / "district.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


TRYTON = {"name": "tryton", "kind": "tryton", "url": "http://127.0.0.1:8000",
          "database": "firm", "user": "hub", "password": "${TRYTON_PW}"}  # fmt: skip
SQL = {
    "name": "erp-db", "kind": "sql", "url": "postgresql+psycopg://reader:${ERP_PW}@erp/erp",
    "entities": {"suppliers": {"table": "fornitori", "cursor_column": "modificato",
                               "columns": {"local_code": "codice", "name": "ragione"}}},
}  # fmt: skip


def test_tryton_source_defaults_to_the_tryton_profile(tmp_path: Path) -> None:
    d = load_district(_write(tmp_path, TRYTON))
    source = d.firms[0].sources[0]
    assert isinstance(source, TrytonSource)
    assert set(source.entities) == set(TRYTON_PROFILE)
    assert d.mapping(source, "orders").columns["order_id"] == "order_key"
    assert source.format.decimal == "." and source.format.date_format == "%Y-%m-%d"


def test_sql_source_is_typed(tmp_path: Path) -> None:
    source = load_district(_write(tmp_path, SQL)).firms[0].sources[0]
    assert isinstance(source, SqlSource)
    assert source.entities["suppliers"].table == "fornitori"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({**TRYTON, "password": "hunter2"}, "password: write the password as a ${ENV_VAR}"),
        ({**SQL, "url": "postgresql://reader:hunter2@erp/erp"}, "url: write the password"),
        (
            {
                **SQL,
                "entities": {
                    "suppliers": {
                        "table": "t",
                        "query": "SELECT 1",
                        "columns": {"local_code": "a", "name": "b"},
                    }
                },
            },
            "exactly one of 'table' or 'query'",
        ),  # fmt: skip
        (
            {**SQL, "entities": {"suppliers": {"table": "t", "columns": {"local_code": "a"}}}},
            "required column 'name' of suppliers is not mapped",
        ),  # fmt: skip
        ({**TRYTON, "kind": "odoo"}, "firms[0] (erp-firm) → sources[0]"),
    ],
)
def test_bad_erp_sources_are_located(tmp_path: Path, source: dict, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_district(_write(tmp_path, source))
    assert message in str(exc.value)
    assert "hunter2" not in str(exc.value)  # a secret written by mistake is not repeated


def test_connectors_are_registered_by_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRYTON_PW", "s3cret-value")
    monkeypatch.setenv("ERP_PW", "s3cret-value")
    assert {"csv", "sql", "tryton"} <= set(CONNECTORS)
    for source in (TRYTON, SQL):
        d = load_district(_write(tmp_path, source))
        connector = build_erp_connector(d, d.firms[0].sources[0])
        assert isinstance(connector, CONNECTORS[source["kind"]])
        assert "s3cret-value" not in repr(connector)


@pytest.mark.parametrize("value", [None, 7, 1.5, "x", "2026-01-01 10:00:00.5"])
def test_cursor_round_trip(value: object) -> None:
    assert decode_cursor(encode_cursor(value)) == value


def _erp(tmp_path: Path) -> str:
    path = tmp_path / "erp.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE fornitori (codice TEXT, ragione TEXT, piva TEXT, "
                   "subfornitore INTEGER, modificato TEXT)")  # fmt: skip
        db.executemany("INSERT INTO fornitori VALUES (?, ?, ?, ?, ?)", [
            ("F1", "Tessitura A", "00743110157", 0, "2026-01-01 10:00:00"),
            ("F2", "Tintoria B", None, 1, "2026-01-02 10:00:00"),
        ])  # fmt: skip
    return f"sqlite:///{path}"


def test_sql_connector_reads_incrementally_from_sqlite(tmp_path: Path) -> None:
    url = _erp(tmp_path)
    spec = SqlEntity(table="fornitori", columns=("codice", "ragione", "piva"),
                     cursor_column="modificato")  # fmt: skip
    c = SqlConnector(url, {"suppliers": spec}, page_size=1)
    (first,) = list(c.read("suppliers", ValueCursor()))
    table, header = first.parse()
    assert header == ["codice", "ragione", "piva"]
    assert table.to_pylist() == [
        {"codice": "F1", "ragione": "Tessitura A", "piva": "00743110157", "_line": 2},
        {"codice": "F2", "ragione": "Tintoria B", "piva": None, "_line": 3},
    ]
    assert json.loads(first.cursor) == {"str": "2026-01-02 10:00:00"}
    assert list(c.read("suppliers", ValueCursor(first.cursor))) == []
    with sqlite3.connect(tmp_path / "erp.sqlite") as db:
        db.execute("UPDATE fornitori SET ragione = 'Tessitura A S.p.A.', "
                   "modificato = '2026-01-03 08:00:00' WHERE codice = 'F1'")  # fmt: skip
    (second,) = list(c.read("suppliers", ValueCursor(first.cursor)))
    assert second.parse()[0].column("ragione").to_pylist() == ["Tessitura A S.p.A."]
    streams = {s.name: s for s in c.discover()}
    assert streams["fornitori"].columns == ["codice", "ragione", "piva", "subfornitore",
                                            "modificato"]  # fmt: skip
    assert streams["fornitori"].entity == "suppliers"
    assert streams["fornitori"].samples["codice"] == ["F1", "F2"]


def test_hub_check_and_discover_a_database_source(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hub.cli import main

    url = _erp(tmp_path)
    source = {"name": "erp-db", "kind": "sql", "url": url, "entities": {"suppliers": {
        "table": "fornitori", "cursor_column": "modificato",
        "columns": {"local_code": "codice", "name": "ragione"}}}}  # fmt: skip
    path = _write(tmp_path, source)
    runner = CliRunner()
    check = runner.invoke(main, ["--district", str(path), "check"])
    assert check.exit_code == 0 and "connected, 1 entities readable" in check.output
    found = runner.invoke(main, ["--district", str(path), "discover", "--company", "erp-firm"])
    assert found.exit_code == 0, found.output
    assert "- fornitori  (entity: suppliers)" in found.output
    assert "    ragione: 'Tessitura A', 'Tintoria B'" in found.output
    broken = _write(tmp_path, {**source, "entities": {"suppliers": {
        "table": "fornitori", "columns": {"local_code": "codice", "name": "nome"}}}})  # fmt: skip
    check = runner.invoke(main, ["--district", str(broken), "check"])
    assert check.exit_code == 1 and "nome" in check.output


FIRM = {"company_id": "erp-firm", "name": "ERP firm", "role": "manufacturer", "sources": [TRYTON]}


def _district(tmp_path: Path, **firm: object) -> Path:
    config = {"district": {"id": "carpi", "name": "Carpi"},
              "firms": [{**FIRM, **firm}, {**FIRM, "company_id": "other"}]}  # fmt: skip
    path = tmp_path / "district.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_a_disabled_firm_is_validated_but_left_out(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HUB_TEST_ERP_ON", raising=False)
    d = load_district(_district(tmp_path, enabled="${HUB_TEST_ERP_ON:-false}"))
    assert [f.company_id for f in d.firms] == ["other"] and d.disabled_firms == ["erp-firm"]
    with pytest.raises(KeyError, match="'erp-firm' is disabled"):
        d.firm("erp-firm")
    monkeypatch.setenv("HUB_TEST_ERP_ON", "true")
    d = load_district(_district(tmp_path, enabled="${HUB_TEST_ERP_ON:-false}"))
    assert [f.company_id for f in d.firms] == ["erp-firm", "other"] and d.disabled_firms == []
    assert [f.company_id for f in load_district(_district(tmp_path, enabled=False)).firms] == [
        "other"
    ]
    # A disabled firm's block is still checked: a literal password is refused.
    with pytest.raises(ConfigError, match="password"):
        load_district(_district(tmp_path, enabled=False,
                                sources=[{**TRYTON, "password": "hunter2"}]))  # fmt: skip


@pytest.mark.parametrize(
    ("enabled", "env", "message"),
    [
        ("maybe", None, "enabled must be true, false or a ${ENV_VAR} reference"),
        ("${HUB_TEST_ERP_ON}", None, "environment variable HUB_TEST_ERP_ON is not set"),
        ("${HUB_TEST_ERP_ON}", "sometimes", "enabled is 'sometimes'"),
    ],
)
def test_enabled_bad_values_are_named(tmp_path: Path, monkeypatch, enabled, env, message) -> None:
    monkeypatch.delenv("HUB_TEST_ERP_ON", raising=False)
    if env is not None:
        monkeypatch.setenv("HUB_TEST_ERP_ON", env)
    with pytest.raises(ConfigError) as exc:
        load_district(_district(tmp_path, enabled=enabled))
    assert message in str(exc.value) and "district.yaml" in str(exc.value)
    # Located like every other problem: the file's line, the firm and the field.
    assert re.search(r"district\.yaml:\d+: firms\[0\] \(erp-firm\) → enabled", str(exc.value))


def test_demo_syncs_the_tryton_firm_only_with_its_server(monkeypatch) -> None:
    """Without sshd the demo syncs every firm but the SFTP one; the Tryton firm joins when its
    server's variables are set."""
    from hub import demo, tryton_demo
    from tests.conftest import ROOT, SFTP_FIRM

    monkeypatch.delenv(tryton_demo.ENABLED_ENV, raising=False)
    assert demo.sync_args(ROOT / "district.yaml", {}, sftp=True) == []
    without = demo.sync_args(ROOT / "district.yaml", {}, sftp=False)
    assert SFTP_FIRM not in without and tryton_demo.COMPANY_ID not in without
    env = {tryton_demo.ENABLED_ENV: "true", tryton_demo.PASSWORD_ENV: "x"}
    with_erp = demo.sync_args(ROOT / "district.yaml", env, sftp=False)
    assert with_erp == [*without, "--company", tryton_demo.COMPANY_ID]
    assert tryton_demo.ENABLED_ENV not in os.environ  # restored


def test_cli_names_a_disabled_firm(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hub.cli import main

    path = str(_district(tmp_path, enabled=False))
    checked = CliRunner().invoke(main, ["--district", path, "validate-config"])
    assert checked.exit_code == 0 and "1 firms" in checked.output
    assert "disabled (enabled: false): erp-firm" in checked.output
    synced = CliRunner().invoke(main, ["--district", path, "sync", "--company", "erp-firm"])
    assert synced.exit_code == 2 and "'erp-firm' is disabled" in synced.output
