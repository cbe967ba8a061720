"""The production path on a real PostgreSQL 15: warehouse bulk loads through COPY, Dagster
instance storage on dagster-postgres, tenant isolation by row-level security, and the SQL
connector reading an ERP database on PostgreSQL read-only."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.base import SourceError, ValueCursor
from connectors.sql import SqlConnector, SqlEntity
from hub.resources import HubResource
from hub.runner import run_sync
from hub.tenancy import enable_row_level_security, tenant_tables
from hub.warehouse import Warehouse
from tests import postgres
from tests.conftest import ROOT, hub_in

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not postgres.available(), reason="postgresql-15 is not installed"),
]


@pytest.fixture(scope="module")
def pg() -> Iterator[postgres.Postgres]:
    with postgres.running_postgres() as server:
        yield server


_DB_COUNTER = iter(range(1000))


@pytest.fixture
def database(pg: postgres.Postgres) -> str:
    """A fresh database; returns its name."""
    name = f"wh{next(_DB_COUNTER)}"
    pg.execute(f"CREATE DATABASE {name}")
    return name


def _orders(n: int, company: str = "a", start: int = 0, qty: float = 1.5) -> pa.Table:
    now = datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=UTC)
    return pa.Table.from_pylist([{
        "company_id": company, "order_id": f"O{i // 10}", "line_no": i % 10 + 1,
        "direction": "sale", "order_date": date(2026, 3, 1 + i % 28), "sku": f"SKU-{i}",
        "quantity": qty, "unit": "pcs", "counterparty": None, "unit_price": 12.25,
        "sync_id": "s1", "updated_at": now,
    } for i in range(start, start + n)])  # fmt: skip


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2"])
def test_upsert_through_copy(pg: postgres.Postgres, database: str, driver: str) -> None:
    wh = Warehouse(pg.url(db=database, driver=driver))
    try:
        wh.create_all()
        tricky = pa.Table.from_pylist([
            {"company_id": "a", "order_id": 'x"y,z\nw', "line_no": 1, "sku": ""},
            {"company_id": "a", "order_id": "àè€", "line_no": 2, "sku": None},
        ])  # fmt: skip
        with wh.transaction() as conn:
            assert wh.upsert(conn, "order_lines", _orders(250)) == 250
            wh.upsert(conn, "order_lines", tricky)
        with wh.transaction() as conn:  # updates by key, inserts the new ones
            wh.upsert(conn, "order_lines", _orders(100, start=200, qty=9.0))
        assert wh.count("order_lines") == 302
        assert wh.count("order_lines", quantity=9.0) == 100
        sql = "SELECT * FROM order_lines WHERE line_no <= 2 AND company_id = 'a'"
        got = {r["order_id"]: r for r in wh.read_arrow(sql).to_pylist()}
        assert got['x"y,z\nw']["sku"] == "" and got["àè€"]["sku"] is None  # '' is not NULL
        first = wh.read_arrow("SELECT * FROM order_lines WHERE sku = 'SKU-0'").to_pylist()[0]
        assert first["updated_at"] == datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=UTC)
        assert first["order_date"] == date(2026, 3, 1) and first["unit_price"] == 12.25
        # A failing load leaves the last good state.
        with pytest.raises(ValueError, match="duplicate key"), wh.transaction() as conn:
            wh.upsert(conn, "order_lines", _orders(10, start=1000))
            wh.upsert(conn, "order_lines", pa.concat_tables([_orders(1), _orders(1)]))
        assert wh.count("order_lines") == 302
    finally:
        wh.dispose()


def test_nightly_sync_on_postgres_warehouse_and_dagster_storage(
    pg: postgres.Postgres, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg.execute("CREATE DATABASE dagster_runs")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
    for var, value in {"DAGSTER_PG_HOST": pg.host, "DAGSTER_PG_PORT": str(pg.port),
                       "DAGSTER_PG_DB": "dagster_runs", "DAGSTER_PG_USER": postgres.SUPERUSER,
                       "DAGSTER_PG_PASSWORD": postgres.SUPERPASSWORD}.items():  # fmt: skip
        monkeypatch.setenv(var, value)
    shutil.copy(ROOT / "district.yaml", tmp_path / "district.yaml")
    shutil.copytree(ROOT / "sample", tmp_path / "sample")
    hub = HubResource(district_path=str(tmp_path / "district.yaml"),
                      data_dir=str(tmp_path / "data"),
                      warehouse_url=pg.url(db=database))  # fmt: skip
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = run_sync(["filatura-tresinaro"], instance=instance, hub=hub, log_level="WARNING")
        assert result.syncs.num_rows
    wh = Warehouse(pg.url(db=database))
    try:
        loaded = wh.count("order_lines", company_id="filatura-tresinaro")
        syncs = wh.read_arrow("SELECT sum(rows_loaded) AS n FROM syncs").to_pylist()[0]["n"]
        assert loaded > 0 and syncs >= loaded
    finally:
        wh.dispose()
    events = sa.create_engine(pg.url(db="dagster_runs"))
    try:
        with events.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM event_logs WHERE run_id = :r"),
                             {"r": result.run_id}).scalar_one()  # fmt: skip
            kinds = {r[0] for r in conn.execute(sa.text(
                "SELECT dagster_event_type FROM event_logs WHERE run_id = :r"),
                {"r": result.run_id})}  # fmt: skip
            runs = conn.execute(sa.text("SELECT count(*) FROM runs WHERE run_id = :r"),
                                {"r": result.run_id}).scalar_one()  # fmt: skip
    finally:
        events.dispose()
    assert runs == 1 and n > 10
    assert {"STEP_START", "ASSET_MATERIALIZATION"} <= kinds


def test_tenant_isolation_by_row_level_security(pg: postgres.Postgres, database: str) -> None:
    pg.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hub_app') THEN "
        "CREATE ROLE hub_app LOGIN PASSWORD 'app-Secret-1' NOBYPASSRLS; END IF; "
        "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hub_firm') THEN "
        "CREATE ROLE hub_firm LOGIN PASSWORD 'firm-Secret-1' NOBYPASSRLS; END IF; END $$",
        f"ALTER DATABASE {database} OWNER TO hub_app",
    )
    pg.execute("GRANT ALL ON SCHEMA public TO hub_app", db=database)
    app = Warehouse(pg.url("hub_app", "app-Secret-1", database))  # the owner: FORCE binds it
    try:
        app.create_all()
        enable_row_level_security(app.engine, "hub_app", "hub_firm")
        with app.transaction() as conn:  # the district's role loads every firm
            app.upsert(conn, "order_lines", _orders(5, "firm-a"))
            app.upsert(conn, "order_lines", _orders(3, "firm-b"))
        assert app.count("order_lines") == 8
    finally:
        app.dispose()
    firm = sa.create_engine(pg.url("hub_firm", "firm-Secret-1", database))
    try:
        with firm.begin() as conn:
            conn.execute(sa.text("SELECT set_config('hub.company_id', :c, true)"), {"c": "firm-a"})
            rows = conn.execute(sa.text("SELECT DISTINCT company_id FROM order_lines")).all()
            assert rows == [("firm-a",)]
        with firm.begin() as conn:  # no firm set: nothing
            assert conn.execute(sa.text("SELECT count(*) FROM order_lines")).scalar_one() == 0
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), firm.begin() as c:
            c.exec_driver_sql("INSERT INTO order_lines (company_id, order_id, line_no) "
                              "VALUES ('firm-a', 'X', 1)")  # fmt: skip
        with firm.begin() as conn:
            forced = conn.execute(sa.text(
                "SELECT relname FROM pg_class WHERE relforcerowsecurity AND relrowsecurity"
            )).scalars().all()  # fmt: skip
            bypass = conn.execute(sa.text("SELECT rolbypassrls FROM pg_roles WHERE rolname IN "
                                          "('hub_app', 'hub_firm')")).scalars().all()  # fmt: skip
    finally:
        firm.dispose()
    assert set(tenant_tables()) <= set(forced) and "order_lines" in forced
    assert bypass == [False, False]
    with pytest.raises(ValueError, match="BYPASSRLS or is a superuser"):
        enable_row_level_security(sa.create_engine(pg.url(db=database)), postgres.SUPERUSER,
                                  "hub_firm")  # fmt: skip


def test_sql_connector_on_postgres_is_read_only_and_incremental(
    pg: postgres.Postgres, database: str
) -> None:
    pg.execute(
        "CREATE TABLE erp_orders (num text, riga int, qta numeric(12,3), data date, "
        "modificato timestamptz)",
        "INSERT INTO erp_orders VALUES ('A1', 1, 2.500, '2026-03-01', '2026-03-01 10:00+01'), "
        "('A1', 2, 1000000.125, '2026-03-02', '2026-03-02 10:00+01')",
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'erp_reader') THEN "
        "CREATE ROLE erp_reader LOGIN PASSWORD 'reader-Secret-1'; END IF; END $$",
        # More than SELECT on purpose: the connector's read-only transactions must still refuse.
        "GRANT SELECT, INSERT ON erp_orders TO erp_reader",
        db=database,
    )
    url = pg.url("erp_reader", "reader-Secret-1", database)
    c = SqlConnector(url, {"orders": SqlEntity(table="erp_orders", columns=("num", "riga", "qta",
                                                                            "data"),
                                               cursor_column="modificato")})  # fmt: skip
    assert c.check().ok and "reader-Secret-1" not in c.check().message
    (first,) = list(c.read("orders", ValueCursor()))
    table, header = first.parse()
    assert header == ["num", "riga", "qta", "data"]
    assert table.column("qta").to_pylist() == ["2.500", "1000000.125"]
    assert table.column("data").to_pylist() == ["2026-03-01", "2026-03-02"]
    assert list(c.read("orders", ValueCursor(first.cursor))) == []
    pg.execute("UPDATE erp_orders SET qta = 3, modificato = '2026-03-05 09:00+01' WHERE riga = 1",
               db=database)  # fmt: skip
    (second,) = list(c.read("orders", ValueCursor(first.cursor)))
    assert second.parse()[0].column("riga").to_pylist() == ["1"]
    assert json.loads(second.cursor)["datetime"].startswith("2026-03-05T08:00:00")
    with pytest.raises(sa.exc.InternalError, match="read-only transaction"), c.engine.begin() as x:
        x.exec_driver_sql("INSERT INTO erp_orders (num) VALUES ('hacked')")
    c.close()
    bad = SqlConnector(pg.url("erp_reader", "wrong", database), {"orders": SqlEntity("erp_orders")})
    result = bad.check()
    assert not result.ok and "password authentication failed" in result.message
    with pytest.raises(SourceError, match="no table or view 'public.nope'"):
        list(SqlConnector(url, {"orders": SqlEntity("public.nope")}).read("orders", ValueCursor()))


def test_erp_on_postgres_to_postgres_warehouse_with_a_deletion(
    pg: postgres.Postgres, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production path whole: an ERP database on PostgreSQL read by a SELECT-only role,
    the warehouse on PostgreSQL; a record deleted in the ERP leaves the warehouse with a trace."""
    pg.execute("CREATE DATABASE erp_del")
    pg.execute(
        "CREATE TABLE articoli (codice text PRIMARY KEY, descrizione text, modificato timestamptz)",
        "INSERT INTO articoli SELECT 'A-' || i, 'Articolo ' || i, '2026-03-01 10:00+01' "
        "FROM generate_series(1, 6) AS i",
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'erp_select') THEN "
        "CREATE ROLE erp_select LOGIN PASSWORD 'select-Only-1'; END IF; END $$",
        "GRANT SELECT ON articoli TO erp_select",
        db="erp_del",
    )
    config = {
        "district": {"id": "carpi", "name": "Carpi"},
        "firms": [{"company_id": "maglificio-pg", "name": "Maglificio PG", "role": "manufacturer",
                   "sources": [{"name": "erp-db", "kind": "sql",
                                "url": pg.url("erp_select", "${ERP_PG_PASSWORD}", "erp_del"),
                                "entities": {"products": {
                                    "table": "articoli", "cursor_column": "modificato",
                                    "columns": {"sku": "codice", "name": "descrizione"}}}}]}],
    }  # fmt: skip
    monkeypatch.setenv("ERP_PG_PASSWORD", "select-Only-1")
    hub = hub_in(tmp_path, config, warehouse_url=pg.url(db=database))
    wh = Warehouse(pg.url(db=database))
    try:
        with dg.instance_for_test() as instance:
            first = run_sync(instance=instance, hub=hub, log_level="WARNING")
            assert first.success and wh.count("products", company_id="maglificio-pg") == 6
            pg.execute("DELETE FROM articoli WHERE codice = 'A-4'", db="erp_del")
            second = run_sync(instance=instance, hub=hub, log_level="WARNING")
        (row,) = [r for r in second.syncs.to_pylist() if r["entity"] == "products"]
        assert (row["status"], row["rows_read"], row["rows_deleted"]) == ("ok", 0, 1)
        skus = wh.read_arrow("SELECT sku FROM products ORDER BY sku").column("sku").to_pylist()
        assert skus == ["A-1", "A-2", "A-3", "A-5", "A-6"]
        (trace,) = wh.read_arrow("SELECT record_key, row FROM source_deletions").to_pylist()
        assert json.loads(trace["record_key"]) == {"company_id": "maglificio-pg", "sku": "A-4"}
        assert json.loads(trace["row"])["name"] == "Articolo 4"
    finally:
        wh.dispose()
