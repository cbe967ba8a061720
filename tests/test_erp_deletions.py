"""Records deleted in an ERP's database (`kind: sql`, here a real SQLite file) leave the
warehouse with a trace; a key scan that finds too few records blocks instead of wiping the firm;
rows of the firm's other sources are never touched. (Tryton: tests/test_erp_tryton.py.)"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pytest
import yaml

from connectors.base import SourceError
from connectors.sql import SqlConnector, SqlEntity
from hub.runner import run_sync
from hub.summary import print_summary
from tests.conftest import District, hub_in

pytestmark = pytest.mark.integration
FIRM = "maglificio-sql"


def _erp(path: Path, skus: list[str]) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS articoli (codice TEXT PRIMARY KEY, "
                   "descrizione TEXT, modificato TEXT)")  # fmt: skip
        db.executemany("INSERT INTO articoli VALUES (?, ?, '2026-03-01T10:00:00')",
                       [(s, f"Articolo {s}") for s in skus])  # fmt: skip


def _delete(path: Path, skus: list[str]) -> None:
    with sqlite3.connect(path) as db:
        db.executemany("DELETE FROM articoli WHERE codice = ?", [(s,) for s in skus])


@pytest.fixture
def district(tmp_path: Path) -> Iterator[District]:
    """A firm with its ERP's database for products, and a CSV export of more products."""
    _erp(tmp_path / "erp.sqlite", [f"DB-{i:02}" for i in range(10)])
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "extra.csv").write_text("sku,name\nCSV-1,Sciarpa\nCSV-2,Guanti\n")
    config = {
        "district": {"id": "carpi", "name": "Carpi"},
        "firms": [{
            "company_id": FIRM, "name": "Maglificio SQL", "role": "manufacturer",
            "sources": [
                {"name": "erp-db", "kind": "sql", "url": f"sqlite:///{tmp_path}/erp.sqlite",
                 "entities": {"products": {"table": "articoli", "cursor_column": "modificato",
                                           "columns": {"sku": "codice",
                                                       "name": "descrizione"}}}},
                {"name": "export", "kind": "csv",
                 "location": {"kind": "local", "path": "files"},
                 "format": {"delimiter": ",", "decimal": "."},
                 "entities": {"products": {"files": "extra.csv",
                                           "columns": {"sku": "sku", "name": "name"}}}},
            ],
        }],
    }  # fmt: skip
    with ExitStack() as stack:
        yield District(tmp_path, hub_in(tmp_path, config),
                       stack.enter_context(dg.instance_for_test()))  # fmt: skip


def _products(d: District) -> list[str]:
    return [r["sku"] for r in d.sql(f"SELECT sku FROM products WHERE company_id = '{FIRM}' "
                                     "ORDER BY sku")]  # fmt: skip


def _db_sync(d: District) -> dict:
    result = d.sync()
    assert result.success
    return next(r for r in result.syncs.to_pylist() if r["source"] == "erp-db")


def test_deleted_rows_are_removed_and_kept_in_source_deletions(
    district: District, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    erp = district.root / "erp.sqlite"
    first = _db_sync(district)
    assert first["rows_loaded"] == 10 and first["rows_deleted"] == 0
    assert len(_products(district)) == 12

    _delete(erp, ["DB-03"])
    result = district.sync()
    row = next(r for r in result.syncs.to_pylist() if r["source"] == "erp-db")
    monkeypatch.setenv("HUB_DATA_DIR", str(district.root / "data"))
    capsys.readouterr()
    print_summary(result)
    out = capsys.readouterr().out
    assert "Deleted in the source" in out and f"{FIRM}/erp-db/products: 1 records" in out
    assert (row["status"], row["rows_read"], row["rows_deleted"]) == ("ok", 0, 1)
    assert "DB-03" in row["message"]
    assert "DB-03" not in _products(district) and len(_products(district)) == 11
    (trace,) = district.sql("SELECT * FROM source_deletions")
    assert (trace["company_id"], trace["source"], trace["entity"], trace["table_name"]) == (
        FIRM, "erp-db", "products", "products")  # fmt: skip
    assert json.loads(trace["record_key"]) == {"company_id": FIRM, "sku": "DB-03"}
    assert json.loads(trace["row"])["name"] == "Articolo DB-03"
    assert trace["sync_id"] == row["sync_id"]

    # Deleted, then entered again: loaded again (its write date is newer than the cursor).
    with sqlite3.connect(erp) as db:
        db.execute("INSERT INTO articoli VALUES ('DB-03', 'Di nuovo', '2026-03-02T09:00:00')")
    row = _db_sync(district)
    assert (row["rows_loaded"], row["rows_deleted"]) == (1, 0)
    assert "DB-03" in _products(district)


def test_a_collapsing_key_scan_blocks_instead_of_wiping_the_firm(district: District) -> None:
    erp = district.root / "erp.sqlite"
    _db_sync(district)
    # Eight of ten records gone at once (a wrong table, a database restored in part): blocked.
    _delete(erp, [f"DB-{i:02}" for i in range(8)])
    result = district.sync()
    row = next(r for r in result.syncs.to_pylist() if r["source"] == "erp-db")
    assert (row["status"], row["rows_deleted"]) == ("blocked", 0)
    assert "deletions blocked" in row["message"] and "2 of the 10" in row["message"]
    assert len(_products(district)) == 12
    assert district.sql("SELECT * FROM source_deletions") == []
    # The CSV source's rows were never candidates: only what the database source loaded.
    export = next(r for r in result.syncs.to_pylist() if r["source"] == "export")
    assert export["status"] == "ok" and export["rows_deleted"] == 0
    # They were deleted indeed: a lower min_row_ratio for one sync lets the deletion through.
    path = district.root / "district.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["firms"][0]["sources"][0]["entities"]["products"]["min_row_ratio"] = 0.1
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    row = _db_sync(district)
    assert (row["status"], row["rows_deleted"]) == ("ok", 8)
    assert _products(district) == ["CSV-1", "CSV-2", "DB-08", "DB-09"]


def test_key_scan_checks_its_columns(tmp_path: Path) -> None:
    _erp(tmp_path / "erp.sqlite", ["A", "B"])
    c = SqlConnector(
        f"sqlite:///{tmp_path}/erp.sqlite",
        {"products": SqlEntity(table="articoli", cursor_column="modificato")},
    )
    assert sorted(c.keys("products", ["codice"]).column("codice").to_pylist()) == ["A", "B"]
    with pytest.raises(SourceError, match="codice; DROP"):
        c.keys("products", ["codice; DROP TABLE articoli"])
    with pytest.raises(SourceError, match="no table or query for entity 'orders'"):
        c.keys("orders", ["codice"])
    with sqlite3.connect(tmp_path / "erp.sqlite") as db:  # a scan never answers "no keys"
        db.execute("ALTER TABLE articoli RENAME TO articoli_old")
    with pytest.raises(SourceError, match="no table or view 'articoli'"):
        c.keys("products", ["codice"])


def test_accept_deletions_lets_one_run_past_the_guard(district: District) -> None:
    erp = district.root / "erp.sqlite"
    _db_sync(district)
    _delete(erp, [f"DB-{i:02}" for i in range(8)])
    blocked = next(r for r in district.sync().syncs.to_pylist() if r["source"] == "erp-db")
    assert blocked["status"] == "blocked"
    assert f"hub sync --company {FIRM} --accept-deletions" in blocked["message"]
    # The operator checked the ERP: the records were deleted indeed. One run accepts it.
    result = run_sync(instance=district.instance, hub=district.hub, log_level="WARNING",
                      accept_deletions=True)  # fmt: skip
    row = next(r for r in result.syncs.to_pylist() if r["source"] == "erp-db")
    assert (row["status"], row["rows_deleted"]) == ("ok", 8)
    assert _products(district) == ["CSV-1", "CSV-2", "DB-08", "DB-09"]
    assert len(district.sql("SELECT * FROM source_deletions")) == 8
    # The next run has its guard again: one of the two left gone is half of them, allowed at
    # 0.5; both of them gone is blocked again.
    _delete(erp, ["DB-08", "DB-09"])
    again = next(r for r in district.sync().syncs.to_pylist() if r["source"] == "erp-db")
    assert (again["status"], again["rows_deleted"]) == ("blocked", 0)


def test_accept_deletions_needs_the_firms_named(district: District) -> None:
    from click.testing import CliRunner

    from hub.cli import main

    path = str(district.root / "district.yaml")
    result = CliRunner().invoke(main, ["--district", path, "sync", "--accept-deletions"])
    assert result.exit_code == 2
    assert "--accept-deletions applies to the firms named with --company" in result.output


def _reconfigure(d: District, change) -> None:  # noqa: ANN001 - a function of the config
    path = d.root / "district.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config["firms"][0]["sources"])
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def test_a_key_mapped_by_values_is_compared_as_loaded(district: District) -> None:
    # The firm renames one code on the way in: the scan must compare the renamed code.
    _reconfigure(district, lambda sources: sources[0]["entities"]["products"].update(
        {"values": {"sku": {"DB-01": "X-01"}}}))  # fmt: skip
    first = _db_sync(district)
    assert first["rows_deleted"] == 0 and "X-01" in _products(district)
    _delete(district.root / "erp.sqlite", ["DB-01"])
    row = _db_sync(district)
    assert (row["rows_deleted"], "X-01" in row["message"]) == (1, True)
    assert "X-01" not in _products(district)


def test_a_record_whose_cursor_becomes_empty_still_exists(district: District) -> None:
    _db_sync(district)
    with sqlite3.connect(district.root / "erp.sqlite") as db:
        db.execute("UPDATE articoli SET modificato = NULL WHERE codice = 'DB-02'")
    row = _db_sync(district)
    assert row["rows_deleted"] == 0 and "DB-02" in _products(district)


def test_a_supplier_also_listed_by_another_source_is_not_removed(district: District) -> None:
    with sqlite3.connect(district.root / "erp.sqlite") as db:
        db.execute("CREATE TABLE fornitori (codice TEXT, ragione TEXT, piva TEXT)")
        db.executemany("INSERT INTO fornitori VALUES (?, ?, ?)", [
            ("S1", "Tessitura Uno", "IT04123450365"), ("S2", "Bottoni Due", None)])  # fmt: skip
    (district.root / "files" / "fornitori.csv").write_text(
        "code,name,vat\nC1,Tessitura Uno S.r.l.,IT04123450365\n", encoding="utf-8")

    def both_lists(sources: list[dict]) -> None:
        sources[0]["entities"]["suppliers"] = {"table": "fornitori", "columns": {
            "local_code": "codice", "name": "ragione", "vat_number": "piva"}}  # fmt: skip
        sources[1]["entities"]["suppliers"] = {"files": "fornitori.csv", "columns": {
            "local_code": "code", "name": "name", "vat_number": "vat"}}  # fmt: skip
        sources.reverse()  # the file first: the database writes the merged link last

    _reconfigure(district, both_lists)
    assert district.sync().success
    links = "SELECT local_code, local_codes FROM supplier_links ORDER BY local_code"
    before = district.sql(links)
    assert len(before) == 2  # Tessitura Uno once (S1 and C1 merged by VAT), Bottoni Due
    with sqlite3.connect(district.root / "erp.sqlite") as db:
        db.execute("DELETE FROM fornitori WHERE codice = 'S1'")
    result = district.sync()
    row = next(r for r in result.syncs.to_pylist()
               if r["source"] == "erp-db" and r["entity"] == "suppliers")  # fmt: skip
    assert (row["status"], row["rows_deleted"]) == ("blocked", 0)
    assert "also come from export" in row["message"]
    assert district.sql(links) == before
