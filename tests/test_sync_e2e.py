"""The nightly sync end to end on the sample district: every seeded fault, idempotency, isolation.

These run the real Dagster job in-process over real files into a real DuckDB warehouse.
"""

import json
from contextlib import ExitStack

import pytest

from tests.conftest import ROOT, new_district

pytestmark = pytest.mark.integration

FAULTS = json.loads((ROOT / "sample" / "faults.json").read_text())


def _key(company_id: str, file: str, line: int) -> tuple[str, str, int]:
    return company_id, file.rsplit("/", 1)[-1], line


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """One sync of the whole sample district, shared by the read-only tests below."""
    with ExitStack() as stack:
        district = new_district(tmp_path_factory.mktemp("synced") / "d", stack)
        yield district, district.sync()


def test_the_whole_district_loads(synced):
    district, result = synced
    assert result.success
    assert sorted(result.firms) == sorted(
        r["company_id"] for r in district.sql("select company_id from companies")
    )
    counts = {r["t"]: r["n"] for r in district.sql(
        "select 'order_lines' t, count(*) n from order_lines union all "
        "select 'bom_lines', count(*) from bom_lines union all "
        "select 'products', count(*) from products union all "
        "select 'supplier_links', count(*) from supplier_links"
    )}  # fmt: skip
    assert all(n > 0 for n in counts.values()), counts
    statuses = {r["status"] for r in result.syncs.to_pylist()}
    assert statuses == {"ok"}


def test_every_seeded_fault_is_quarantined_with_its_rule_and_a_reason(synced):
    district, _ = synced
    rows = district.sql("select company_id, file, line, rule, reason, row from quarantine")
    found = {_key(r["company_id"], r["file"], r["line"]): r for r in rows}
    for fault in FAULTS:
        key = _key(fault["company_id"], fault["file"], fault["line"])
        assert key in found, f"not quarantined: {fault}"
        q = found[key]
        assert fault["expected_rule"] in q["rule"].split(","), (fault, q)
        assert len(q["reason"]) > 15
        assert json.loads(q["row"]), "the row is kept as written"


def test_only_the_seeded_faults_are_quarantined(synced):
    district, result = synced
    rows = district.sql("select company_id, file, line from quarantine")
    assert {_key(r["company_id"], r["file"], r["line"]) for r in rows} == {
        _key(f["company_id"], f["file"], f["line"]) for f in FAULTS
    }
    loaded = sum(r["rows_loaded"] for r in result.syncs.to_pylist())
    read = sum(r["rows_read"] for r in result.syncs.to_pylist())
    assert read == loaded + len(rows)  # nothing lost: every row read is loaded or quarantined


def test_quarantine_extract_is_written_per_firm_and_safe_for_spreadsheets(synced):
    district, _ = synced
    extracts = list((district.root / "data" / "quarantine").rglob("*.csv"))
    firms = {p.parent.name for p in extracts}
    assert firms == {f["company_id"] for f in FAULTS}
    for p in extracts:
        for line in p.read_text(encoding="utf-8-sig").splitlines()[1:]:
            for cell in line.split(";"):
                assert not cell.startswith(("=", "+", "-", "@")), (p, cell)


def test_bom_components_point_at_district_suppliers(synced):
    district, _ = synced
    rows = district.sql(
        "select b.supplier_id, s.supplier_id as found from bom_lines b "
        "left join suppliers s on s.supplier_id = b.supplier_id"
    )
    assert rows and all(r["supplier_id"] == r["found"] for r in rows)


def test_the_same_supplier_in_many_firms_is_one_supplier(synced):
    district, _ = synced
    rows = district.sql(
        "select supplier_id, count(distinct company_id) as firms from supplier_links "
        "group by supplier_id having count(distinct company_id) > 1"
    )
    assert rows, "the sample firms appear in each other's supplier lists"


def test_a_second_sync_changes_nothing(make_district):
    district = make_district()
    first = district.sync()
    tables = ["order_lines", "bom_lines", "products", "suppliers", "supplier_links", "quarantine"]

    def snapshot() -> dict:
        return {
            t: sorted(map(str, district.sql(f"select * exclude (updated_at) from {t}")))
            if t != "quarantine" else sorted(map(str, district.sql(
                "select company_id, file, line, rule from quarantine")))
            for t in tables
        }  # fmt: skip

    before = snapshot()
    second = district.sync()
    assert first.success and second.success
    assert snapshot() == before
    assert sum(r["rows_read"] for r in second.syncs.to_pylist()) == 0


def test_a_changed_file_is_reloaded_and_upserted_not_duplicated(make_district):
    district = make_district()
    district.sync(["filatura-tresinaro"])
    path = district.file("filatura-tresinaro", "ordini_20261121.csv")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[1].split(";")
    order_id, line_no = cells[0], int(cells[1])
    before = district.sql(
        f"select quantity from order_lines where order_id = '{order_id}' and line_no = {line_no}"
    )
    assert len(before) == 1
    header = lines[0].split(";")
    qty_col = header.index("Kg")
    cells[qty_col] = "9999,5"
    lines[1] = ";".join(cells)
    path.write_text("".join(lines), encoding="utf-8")
    total = district.sql("select count(*) n from order_lines")[0]["n"]
    result = district.sync(["filatura-tresinaro"])
    assert result.success
    after = district.sql(
        f"select quantity from order_lines where order_id = '{order_id}' and line_no = {line_no}"
    )
    assert after == [{"quantity": 9999.5}]
    assert district.sql("select count(*) n from order_lines")[0]["n"] == total


def test_a_malformed_file_fails_that_file_while_other_firms_load(make_district):
    district = make_district()
    bad = district.file("tintoria-secchia", "commesse_20261122.csv")
    good = district.file("tintoria-secchia", "commesse_20261121.csv").read_bytes()
    header = good.split(b"\r\n")[0]
    bad.write_bytes(header + b"\r\nC1;1;LAV;22.11.2026;X")  # truncated last line
    result = district.sync()
    assert result.success
    syncs = {(r["company_id"], r["entity"]): r for r in result.syncs.to_pylist()}
    tintoria = syncs[("tintoria-secchia", "orders")]
    assert tintoria["status"] == "rejected"
    assert "commesse_20261122.csv, line 2" in tintoria["message"]
    # The dye house's other order file and every other firm still load.
    assert tintoria["rows_loaded"] > 0
    others = [r for k, r in syncs.items() if k[0] != "tintoria-secchia"]
    assert others and all(r["status"] == "ok" for r in others)
    assert "staged/orders:batch_valid" in result.failed_checks


def test_a_missing_column_blocks_only_that_file_and_it_is_retried(make_district):
    district = make_district()
    path = district.file("lavanderia-novese", "fornitori.csv")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Fornitore", "Nome fornitore", 1), encoding="utf-8")
    result = district.sync()
    syncs = {(r["company_id"], r["entity"]): r for r in result.syncs.to_pylist()}
    blocked = syncs[("lavanderia-novese", "suppliers")]
    assert blocked["status"] == "blocked"
    assert "'Fornitore' (name) missing" in blocked["message"]
    assert syncs[("lavanderia-novese", "orders")]["status"] == "ok"
    assert syncs[("moda-carpi", "suppliers")]["status"] == "ok"
    assert not district.sql("select * from supplier_links where company_id = 'lavanderia-novese'")
    # Fixed by the firm: the next sync loads it (a blocked file is not in the ledger).
    path.write_text(text, encoding="utf-8")
    again = district.sync(["lavanderia-novese"])
    assert {r["status"] for r in again.syncs.to_pylist() if r["entity"] == "suppliers"} == {"ok"}
    assert district.sql("select * from supplier_links where company_id = 'lavanderia-novese'")


def test_a_collapsing_full_list_is_blocked(make_district):
    district = make_district()
    district.sync(["moda-carpi"])
    path = district.file("moda-carpi", "fornitori.csv")
    lines = path.read_bytes().split(b"\r\n")
    path.write_bytes(b"\r\n".join(lines[:3]) + b"\r\n")  # 2 suppliers instead of many
    result = district.sync(["moda-carpi"])
    # The only firm of the run is blocked: the blocking check stops the run (ERROR severity).
    assert not result.success
    assert "staged/suppliers:batch_valid" in result.failed_checks
    row = next(r for r in result.syncs.to_pylist() if r["entity"] == "suppliers")
    assert row["status"] == "blocked"
    assert "row_count" in row["message"]
    n = district.sql("select count(*) n from supplier_links where company_id = 'moda-carpi'")
    assert n[0]["n"] > 2  # the last good list is kept


def test_one_firm_can_be_synced_alone(make_district):
    district = make_district()
    result = district.sync(["confezioni-reno"])
    assert result.success
    assert {r["company_id"] for r in result.syncs.to_pylist()} == {"confezioni-reno"}
    firms = district.sql("select distinct company_id from order_lines")
    assert firms == [{"company_id": "confezioni-reno"}]


def test_a_file_whose_every_row_fails_is_quarantined_whole(make_district):
    district = make_district()
    path = district.file("lavanderia-novese", "fornitori.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    vat = lines[0].split(";").index("P. IVA")
    bad = [lines[0]] + [";".join(c if i != vat else "IT123" for i, c in enumerate(r.split(";")))
                        for r in lines[1:]]  # fmt: skip
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    result = district.sync(["lavanderia-novese"])
    row = next(r for r in result.syncs.to_pylist() if r["entity"] == "suppliers")
    assert (row["status"], row["rows_loaded"]) == ("ok", 0)
    assert row["rows_quarantined"] == len(lines) - 1
    rules = district.sql(
        "select distinct rule from quarantine where company_id = 'lavanderia-novese' "
        "and entity = 'suppliers'"
    )
    assert rules == [{"rule": "suppliers.vat_valid"}]
