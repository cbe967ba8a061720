"""ERP connectors against a real Tryton (trytond from PyPI, on loopback).

One Tryton is started for the module on a copy of the template database that
`scripts/tryton-env.sh` initialises once and caches; a small knitwear firm is entered through
Tryton's API. Two firms of a district read it: one through the JSON-RPC connector, one through
the SQL connector on Tryton's SQLite file (read-only). Mocks are used only where a real server
cannot show the fault: an HTTP server answering 503 (transient overload).
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from connectors.base import SourceError, ValueCursor
from connectors.sql import SqlConnector, SqlEntity, read_only_engine
from connectors.tryton import TrytonClient, TrytonConnector, TrytonError
from hub import tryton_demo
from hub.erp import build_erp_connector, stored_cursor
from hub.tryton_demo import HUB_PASSWORD, HUB_USER, TrytonServer
from hub.warehouse import Warehouse
from tests.conftest import ROOT, District, hub_in

pytestmark = pytest.mark.integration
PASSWORD_ENV = "HUB_TEST_TRYTON_PASSWORD"
API, DB = "maglificio-tryton-api", "maglificio-tryton-db"


@pytest.fixture(scope="module")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TrytonServer, object]]:
    if not tryton_demo.TEMPLATE.exists():
        subprocess.run([str(ROOT / "scripts" / "tryton-env.sh")], check=True)
    server = TrytonServer(tmp_path_factory.mktemp("tryton"))
    server.create_database()
    server.start()
    try:
        firm = tryton_demo.populate(server.admin())
        yield server, firm
    finally:
        server.stop()


@pytest.fixture(scope="module")
def district(
    tryton: tuple[TrytonServer, object], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[District]:
    server, _ = tryton
    root = tmp_path_factory.mktemp("erp-district")
    config = {
        "district": {"id": "carpi", "name": "Distretto di Carpi"},
        "firms": [
            tryton_demo.firm_yaml(API, tryton_demo.api_source(server.url, server.database,
                                                              PASSWORD_ENV)),
            tryton_demo.firm_yaml(DB, tryton_demo.sql_source(server.db_file)),
        ],
    }  # fmt: skip
    with pytest.MonkeyPatch.context() as mp, ExitStack() as stack:
        mp.setenv(PASSWORD_ENV, HUB_PASSWORD)
        yield District(root, hub_in(root, config), stack.enter_context(dg.instance_for_test()))


def _sync(d: District) -> tuple[bool, dict[tuple[str, str], dict]]:
    """Both firms, one run each (they hold the same order numbers: see the report of the
    validation batching across firms)."""
    ok, out = True, {}
    for company in (API, DB):
        result = d.sync([company])
        ok &= result.success
        out.update({(r["company_id"], r["entity"]): r for r in result.syncs.to_pylist()})
    return ok, out


def _canonical(d: District, table: str, company: str, cols: str) -> list[tuple]:
    rows = d.sql(f"SELECT {cols} FROM {table} WHERE company_id = '{company}' ORDER BY {cols}")
    return [tuple(r.values()) for r in rows]


def test_sync_then_incremental_then_quarantine(
    tryton: tuple[TrytonServer, tryton_demo.Firm], district: District
) -> None:
    server, firm = tryton
    # 1. First sync: everything, through both connectors, into the same canonical rows.
    ok, syncs = _sync(district)
    assert ok, (syncs, district.sql("SELECT * FROM quarantine"))
    for company in (API, DB):
        assert {e: syncs[(company, e)]["rows_loaded"] for e in
                ("orders", "bom_lines", "suppliers", "products")} == {
            "orders": 3, "bom_lines": 5, "suppliers": 3, "products": 2}, company  # fmt: skip
        assert all(syncs[(company, e)]["status"] == "ok" for e in ("orders", "products"))
    order_cols = "order_id, line_no, direction, order_date, sku, quantity, unit, counterparty"
    assert _canonical(district, "order_lines", API, order_cols) == _canonical(
        district, "order_lines", DB, order_cols
    )
    bom_cols = "sku, line_no, component_code, component_kind, quantity, unit, supplier_id"
    api_bom = _canonical(district, "bom_lines", API, bom_cols)
    assert api_bom == _canonical(district, "bom_lines", DB, bom_cols)
    assert ("FEL-002", 4, "BOT-COR-11", "trim", 4.0, "pcs", "IT01234560363") in api_bom
    sale = district.sql(f"SELECT * FROM order_lines WHERE company_id = '{API}' "
                        "AND sku = 'MAG-001'")[0]  # fmt: skip
    assert (sale["order_id"], sale["quantity"], sale["unit"], sale["unit_price"]) == (
        "sale/1", 120.0, "pcs", 12.5)  # fmt: skip
    links = district.sql(f"SELECT supplier_id FROM supplier_links WHERE company_id = '{DB}'")
    assert {r["supplier_id"] for r in links} == {"IT00743110157", "IT01234560363",
                                                 "IT02005390360"}  # fmt: skip
    cursors = district.sql("SELECT company_id, entity, cursor FROM source_cursors")
    assert len(cursors) == 8 and all(c["cursor"] for c in cursors)

    # 2. Nothing changed in Tryton: with the committed cursors, neither connector reads a row.
    d, wh = district.hub.district(), Warehouse(district.hub.warehouse_url)
    try:
        for company in (API, DB):
            source = d.firm(company).sources[0]
            for entity in source.entities:
                cursor = stored_cursor(wh, company, source.name, entity)
                extracts = list(build_erp_connector(d, source).read(entity, cursor))
                assert cursor.value and extracts == [], (company, entity)
    finally:
        wh.dispose()

    # 3. Changes in Tryton: one line's quantity, a supplier's name, a new sale with a valid
    # line and a line that violates the expectations (negative quantity).
    admin = server.admin()
    admin.context = {"company": firm.company}
    line = admin.search("sale.line", [["sale", "=", firm.sales[0]],
                                      ["product", "=", firm.products["MAG-001"]]])  # fmt: skip
    admin.write("sale.line", line, {"quantity": 150.0})
    admin.write("party.party", [firm.parties["F002"]], {"name": "Bottonificio Carpi S.r.l."})
    new_sale = tryton_demo._sale(admin, firm.parties["C001"], [
        (firm.products["FEL-002"], _unit(admin, "u"), 10, "30.00"),
        (firm.products["MAG-001"], _unit(admin, "u"), -5, "12.50"),
    ])  # fmt: skip
    _, syncs = _sync(district)
    for company in (API, DB):
        got = {e: (syncs[(company, e)]["rows_read"], syncs[(company, e)]["rows_quarantined"])
               for e in ("orders", "bom_lines", "suppliers", "products")}  # fmt: skip
        assert got == {"orders": (3, 1), "bom_lines": (0, 0), "suppliers": (1, 0),
                       "products": (0, 0)}, company  # fmt: skip
        rows = district.sql(f"SELECT order_id, quantity FROM order_lines WHERE company_id = "
                            f"'{company}' ORDER BY order_id, line_no")  # fmt: skip
        assert [(r["order_id"], r["quantity"]) for r in rows] == [
            ("purchase/1", 350.0),
            ("sale/1", 150.0),
            ("sale/1", 40.0),
            ("sale/2", 10.0),
        ]
        q = district.sql(f"SELECT rule, row FROM quarantine WHERE company_id = '{company}'")
        assert len(q) == 1 and "orders.quantity_positive" in q[0]["rule"]
        assert json.loads(q[0]["row"])["order_key"] == "sale/2"  # kept whole, not lost
        name = district.sql(f"SELECT s.name FROM suppliers s JOIN supplier_links l USING "
                            f"(supplier_id) WHERE l.company_id = '{company}' AND "
                            "l.local_code = 'F002'")  # fmt: skip
        assert name == [{"name": "Bottonificio Carpi S.r.l."}]
    assert new_sale


def _unit(admin: tryton_demo.Admin, symbol: str) -> int:
    return admin.one("product.uom", [["symbol", "=", symbol]])


def test_wrong_password_is_a_clear_error_without_the_password(
    tryton: tuple[TrytonServer, object],
) -> None:
    server, _ = tryton
    secret = "not-the-Password-42"
    connector = TrytonConnector(TrytonClient(server.url, server.database, HUB_USER, secret))
    result = connector.check()
    assert not result.ok and "wrong user or password" in result.message
    assert secret not in result.message and secret not in repr(connector)
    with pytest.raises(SourceError, match="wrong user or password") as exc:
        list(connector.read("orders", ValueCursor()))
    assert secret not in str(exc.value)


def test_unknown_database_is_named(tryton: tuple[TrytonServer, object]) -> None:
    server, _ = tryton
    client = TrytonClient(server.url, "nosuchdb", HUB_USER, HUB_PASSWORD, retries=0)
    with pytest.raises(TrytonError, match="no database 'nosuchdb'"):
        client.login()


def test_server_down_is_retried_then_named() -> None:
    port = tryton_demo.free_port()  # nothing listens there
    client = TrytonClient(f"http://127.0.0.1:{port}", "firm", HUB_USER, "x", retries=2,
                          backoff=0.01)  # fmt: skip
    calls = []
    original = client._post
    client._post = lambda *a: calls.append(a) or original(*a)  # count attempts, real sockets
    result = TrytonConnector(client).check()
    assert not result.ok and "cannot reach the server" in result.message
    assert len(calls) == 3  # the first try and two retries


class _Busy(http.server.BaseHTTPRequestHandler):
    """A server that is overloaded twice, then answers a login (a fault trytond cannot show
    on demand)."""

    answers: list[int] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        code = self.answers.pop(0) if self.answers else 200
        body = json.dumps({"id": 1, "result": [7, "session-key"]}).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_transient_errors_are_retried_with_backoff() -> None:
    _Busy.answers = [503, 503]
    server = http.server.HTTPServer(("127.0.0.1", 0), _Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        TrytonClient(url, "firm", "hub", "pw", retries=2, backoff=0.01).login()
        _Busy.answers = [503, 503, 503]
        with pytest.raises(TrytonError, match="server busy"):
            TrytonClient(url, "firm", "hub", "pw", retries=2, backoff=0.01).login()
        assert _Busy.answers == []
    finally:
        server.shutdown()
        server.server_close()


def test_sql_connector_is_read_only_and_checks_identifiers(
    tryton: tuple[TrytonServer, object],
) -> None:
    server, _ = tryton
    url = f"sqlite:///{server.db_file}"
    engine = read_only_engine(url)
    try:
        with pytest.raises(sa.exc.OperationalError, match="readonly"), engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM sale_line")
    finally:
        engine.dispose()
    bad_table = SqlConnector(url, {"orders": SqlEntity(table="sale_line; DROP TABLE x")})
    with pytest.raises(SourceError, match="no table or view"):
        list(bad_table.read("orders", ValueCursor()))
    bad_column = SqlConnector(url, {"orders": SqlEntity(table="sale_line",
                                                        columns=("quantity", "qty"))})  # fmt: skip
    with pytest.raises(SourceError, match="qty"):
        list(bad_column.read("orders", ValueCursor()))
    assert not bad_column.check().ok
    # A value is bound, never spliced: a hostile cursor is just a string that matches nothing.
    by_date = SqlConnector(url, {"orders": SqlEntity(table="sale_line", columns=("id",),
                                                     cursor_column="create_date")})  # fmt: skip
    hostile = ValueCursor(json.dumps({"str": "9' OR '1'='1"}))
    assert list(by_date.read("orders", hostile)) == []
    tables = {s.name: s for s in by_date.discover()}
    assert {"sale_line", "party_party", "production_bom_input"} <= set(tables)
    assert "quantity" in tables["sale_line"].columns
    assert tables["sale_line"].entity == "orders"


def test_sql_connector_values_are_unambiguous_text(tryton: tuple[TrytonServer, object]) -> None:
    server, _ = tryton
    c = SqlConnector(f"sqlite:///{server.db_file}",
                     {"orders": SqlEntity(query=tryton_demo.SQL_ENTITIES["orders"]["query"],
                                          cursor_column="changed_at")})  # fmt: skip
    (extract,) = list(c.read("orders", ValueCursor()))
    table, header = extract.parse()
    row = next(r for r in table.to_pylist() if r["order_key"] == "purchase/1")
    assert (row["date"], row["quantity"], Decimal(row["unit_price"])) == (
        "2026-02-10", "350", Decimal("6.40"))  # fmt: skip
    assert extract.cursor and table.column("_line").to_pylist()[0] == 2


def test_lookups_are_paged_like_the_main_reads(tryton: tuple[TrytonServer, object]) -> None:
    """Addresses, BOM links and product suppliers are read a page at a time: with a page of
    one record, every call asks for one, and the rows are those of a single-page read."""
    server, _ = tryton
    calls: list[tuple[str, int]] = []

    def connector(page_size: int) -> TrytonConnector:
        client = TrytonClient(server.url, server.database, HUB_USER, HUB_PASSWORD)
        search_read = client.search_read

        def counted(model: str, domain: list, fields: list[str], *, limit: int, offset: int = 0):
            calls.append((model, limit))
            return search_read(model, domain, fields, limit=limit, offset=offset)

        client.search_read = counted  # type: ignore[method-assign]
        return TrytonConnector(client, page_size=page_size)

    for entity in ("bom_lines", "suppliers"):
        (whole,) = connector(500).read(entity, ValueCursor())
        calls.clear()
        (paged,) = connector(1).read(entity, ValueCursor())
        assert paged.parse()[0].to_pylist() == whole.parse()[0].to_pylist(), entity
        assert {limit for _, limit in calls} == {1}, calls
        lookups = {"bom_lines": ("product.product-production.bom", "purchase.product_supplier"),
                   "suppliers": ("party.address",)}[entity]  # fmt: skip
        for model in lookups:  # more records than one page: several calls
            assert sum(m == model for m, _ in calls) > 2, (model, calls)


def test_sample_district_declares_the_tryton_firm(
    tryton: tuple[TrytonServer, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """district.yaml's Tryton firm is off by default; with the demo's variables set it reads
    the demo's Tryton (here the module's)."""
    from hub.config import load_district

    d = load_district(ROOT / "district.yaml")
    assert tryton_demo.COMPANY_ID in d.disabled_firms
    assert tryton_demo.COMPANY_ID not in [f.company_id for f in d.firms]
    server, _ = tryton
    monkeypatch.setenv(tryton_demo.ENABLED_ENV, "true")
    monkeypatch.setenv(tryton_demo.URL_ENV, server.url)
    monkeypatch.setenv(tryton_demo.DATABASE_ENV, server.database)
    monkeypatch.setenv(tryton_demo.PASSWORD_ENV, HUB_PASSWORD)
    d = load_district(ROOT / "district.yaml")
    source = d.firm(tryton_demo.COMPANY_ID).sources[0]
    result = build_erp_connector(d, source).check()
    assert result.ok, result.message
    monkeypatch.setenv(tryton_demo.PASSWORD_ENV, "wrong")
    assert "wrong user or password" in build_erp_connector(d, source).check().message


def test_records_deleted_in_tryton_leave_the_warehouse_with_a_trace(
    tryton: tuple[TrytonServer, tryton_demo.Firm], district: District
) -> None:
    """A sale cancelled and deleted, a product deleted, a BOM line removed and a party no
    longer a supplier in Tryton: the next sync of each firm (API, and SQL on Tryton's database)
    removes their rows, keeps them in `source_deletions`, counts them in `syncs.rows_deleted`
    and closes their history."""
    server, firm = tryton
    admin = server.admin()
    admin.context = {"company": firm.company}
    u = _unit(admin, "u")
    sale = tryton_demo._sale(admin, firm.parties["C001"], [(firm.products["MAG-001"], u, 7,
                                                             "12.50")])  # fmt: skip
    number = admin.call("sale.sale", "read", [sale], ["number"])[0]["number"]
    template = admin.create("product.template", [{
        "name": "Polo piquet", "code": "POL-009", "type": "goods", "default_uom": u,
        "list_price": Decimal(20), "salable": True, "sale_uom": u,
        "products": [["create", [{}]]],
    }])[0]  # fmt: skip
    ok, _ = _sync(district)
    assert ok
    for company in (API, DB):
        assert district.sql(f"SELECT sku FROM products WHERE company_id = '{company}' "
                            "AND sku = 'POL-009'")  # fmt: skip
        assert district.sql(f"SELECT 1 FROM order_lines WHERE company_id = '{company}' "
                            f"AND order_id = 'sale/{number}'")  # fmt: skip
    bom_line = admin.search("production.bom.input", [["product", "=",
                                                      firm.products["BOT-COR-11"]]])  # fmt: skip
    admin.call("sale.sale", "cancel", [sale])
    admin.call("sale.sale", "delete", [sale])
    admin.call("product.template", "delete", [template])
    admin.call("production.bom.input", "delete", bom_line)
    suppliers = admin.one("party.category", [["name", "=", "Suppliers"]])
    admin.write("party.party", [firm.parties["F003"]], {"categories": [["remove", [suppliers]]]})

    ok, syncs = _sync(district)
    assert ok
    for company in (API, DB):
        deleted = {e: syncs[(company, e)]["rows_deleted"] for e in
                   ("orders", "products", "bom_lines", "suppliers")}  # fmt: skip
        assert deleted == {"orders": 1, "products": 1, "bom_lines": 1, "suppliers": 1}, company
        assert not district.sql(f"SELECT 1 FROM order_lines WHERE company_id = '{company}' "
                                f"AND order_id = 'sale/{number}'")  # fmt: skip
        assert not district.sql(f"SELECT 1 FROM bom_lines WHERE company_id = '{company}' "
                                "AND component_code = 'BOT-COR-11'")  # fmt: skip
        trace = district.sql(f"SELECT table_name, record_key, row FROM source_deletions "
                             f"WHERE company_id = '{company}' ORDER BY table_name")  # fmt: skip
        assert [t["table_name"] for t in trace] == ["bom_lines", "order_lines", "products",
                                                    "supplier_links"]  # fmt: skip
        assert json.loads(trace[3]["row"])["local_code"] == "F003"
        assert not district.sql(f"SELECT 1 FROM supplier_links WHERE company_id = '{company}' "
                                "AND local_code = 'F003'")  # fmt: skip
        order = json.loads(next(t["row"] for t in trace if t["table_name"] == "order_lines"))
        assert (order["order_id"], order["quantity"]) == (f"sale/{number}", 7.0)
        assert json.loads(trace[2]["record_key"]) == {"company_id": company, "sku": "POL-009"}
        closed = district.sql(f"SELECT valid_to FROM products_history WHERE company_id = "
                              f"'{company}' AND sku = 'POL-009'")  # fmt: skip
        assert closed and all(c["valid_to"] is not None for c in closed)
        # The others are still there.
        assert district.sql(f"SELECT 1 FROM products WHERE company_id = '{company}' "
                            "AND sku = 'MAG-001'")  # fmt: skip
    # Nothing more is deleted the next time.
    result = district.sync([API])
    assert result.success and not any(r["rows_deleted"] for r in result.syncs.to_pylist())


def test_demo_tryton_is_populated_once(tmp_path: Path) -> None:
    """`make demo`'s Tryton: populated on the first start, kept as it is on the next (a second
    population would fail on Tryton's unique constraints), made again when half-made."""
    server = tryton_demo.start_demo(tmp_path)
    try:
        assert (tmp_path / "populated").exists()
        sales = server.admin().search("sale.sale", [])
    finally:
        server.stop()
    again = tryton_demo.start_demo(tmp_path)
    try:
        assert again.admin().search("sale.sale", []) == sales and len(sales) == 1
    finally:
        again.stop()
    (tmp_path / "populated").unlink()  # a first run interrupted while populating
    (tmp_path / "firm.sqlite").write_bytes(b"half made")
    made = tryton_demo.start_demo(tmp_path)
    try:
        assert made.admin().search("sale.sale", []) == sales
    finally:
        made.stop()
