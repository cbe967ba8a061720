"""The warehouse on DuckDB and SQLite files: bulk upsert, transactions, validation, migration."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from hub import canonical, warehouse
from hub.warehouse import Warehouse, default_url, warehouse_url

UTC = dt.UTC
CET = dt.timezone(dt.timedelta(hours=1))
T0 = dt.datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
KEY = ["company_id", "order_id", "line_no"]


@pytest.fixture(params=["duckdb", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/wh/warehouse.duckdb"
    return f"sqlite:///{tmp_path}/wh/warehouse.sqlite"


@pytest.fixture
def wh(url: str) -> Warehouse:
    w = Warehouse(url)
    w.create_all()
    yield w
    w.dispose()


def plain_engine(url: str) -> sa.Engine:
    """An engine on the warehouse file without the Warehouse, to prepare an older schema."""
    Path(sa.make_url(url).database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url)


def lines(n: int = 3, **overrides: list) -> pa.Table:
    """order_lines rows C1/O1/1..n with every column given."""
    cols = {
        "company_id": ["C1"] * n,
        "order_id": ["O1"] * n,
        "line_no": list(range(1, n + 1)),
        "direction": ["sale"] * n,
        "order_date": [dt.date(2024, 1, 1)] * n,
        "sku": [f"SKU{i}" for i in range(n)],
        "quantity": [float(i) + 0.5 for i in range(n)],
        "unit": ["pcs"] * n,
        "counterparty": ["CUST"] * n,
        "delivery_date": [None] * n,
        "unit_price": [9.99] * n,
        "sync_id": ["s1"] * n,
        "updated_at": [T0] * n,
        "base_quantity": [float(i) + 0.5 for i in range(n)],
        "base_unit": ["pcs"] * n,
    }
    cols.update(overrides)
    return pa.table(cols, schema=canonical.arrow_schema("order_lines"))


def rows(wh: Warehouse, table: str = "order_lines") -> list[dict]:
    t = canonical.TABLES[table]
    order = [t.c[k] for k in canonical.key_columns(table)]
    return wh.read_arrow(sa.select(t).order_by(*order)).to_pylist()


def load(wh: Warehouse, data: pa.Table, table: str = "order_lines") -> int:
    with wh.transaction() as conn:
        return wh.upsert(conn, table, data)


# --- settings ---------------------------------------------------------------------------------


def test_default_url_is_a_duckdb_file_in_the_data_folder(tmp_path: Path) -> None:
    assert default_url(tmp_path) == f"duckdb:///{tmp_path}/warehouse.duckdb"
    assert sa.make_url(default_url(tmp_path)).database == f"{tmp_path}/warehouse.duckdb"
    assert default_url(Path("data")) == "duckdb:///data/warehouse.duckdb"


def test_warehouse_url_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HUB_DATA_DIR", raising=False)
    assert warehouse_url() == "duckdb:///data/warehouse.duckdb"
    monkeypatch.setenv("HUB_DATA_DIR", "/srv/hub")
    assert warehouse_url() == "duckdb:////srv/hub/warehouse.duckdb"
    monkeypatch.setenv("HUB_WAREHOUSE_URL", "postgresql+psycopg://hub@db/hub")
    assert warehouse_url() == "postgresql+psycopg://hub@db/hub"


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        Warehouse("mysql://user@host/db")


def test_engine_is_lazy_but_folder_exists(tmp_path: Path) -> None:
    w = Warehouse(f"duckdb:///{tmp_path}/a/b/warehouse.duckdb")
    assert (tmp_path / "a" / "b").is_dir()
    assert not (tmp_path / "a" / "b" / "warehouse.duckdb").exists()
    w.dispose()


# --- create_all and migration -----------------------------------------------------------------


def test_create_all_creates_every_table_and_is_idempotent(wh: Warehouse) -> None:
    load(wh, lines(2))
    wh.create_all()
    wh.create_all()
    for name in canonical.TABLES:
        expected = 2 if name == "order_lines" else 0
        assert wh.count(name) == expected, name


def test_create_all_adds_missing_columns(url: str) -> None:
    old = sa.MetaData()
    current = canonical.TABLES["order_lines"]
    missing = ("unit_price", "updated_at")
    sa.Table(
        "order_lines",
        old,
        *(c._copy() for c in current.columns if c.name not in missing),
    )
    engine = plain_engine(url)
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            old.tables["order_lines"].insert(),
            [dict(company_id="C1", order_id="O1", line_no=1, quantity=2.0)],
        )
    engine.dispose()

    w = Warehouse(url)
    try:
        w.create_all()
        assert w.read_arrow(sa.select(current)).schema == canonical.arrow_schema("order_lines")
        load(w, lines(1, unit_price=[3.5]).select([*KEY, "unit_price", "updated_at"]))
        [row] = rows(w)
        assert (row["quantity"], row["unit_price"], row["updated_at"]) == (2.0, 3.5, T0)
    finally:
        w.dispose()


def test_create_all_refuses_a_table_missing_a_key_column(url: str) -> None:
    engine = plain_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE waste_streams (company_id VARCHAR, material VARCHAR)")
    engine.dispose()
    w = Warehouse(url)
    try:
        with pytest.raises(RuntimeError, match="waste_streams.*key column 'ewc_code'"):
            w.create_all()
    finally:
        w.dispose()


# --- upsert -----------------------------------------------------------------------------------


def test_upsert_inserts_then_updates_on_key(wh: Warehouse) -> None:
    assert load(wh, lines(3)) == 3
    assert wh.count("order_lines") == 3

    changed = lines(2, quantity=[100.0, 200.0], sku=["X1", "X2"])
    new_line = lines(1, line_no=[4], quantity=[4.0])
    assert load(wh, pa.concat_tables([changed, new_line])) == 3

    got = rows(wh)
    assert [(r["line_no"], r["quantity"], r["sku"]) for r in got] == [
        (1, 100.0, "X1"),
        (2, 200.0, "X2"),
        (3, 2.5, "SKU2"),
        (4, 4.0, "SKU0"),
    ]


def test_upsert_keeps_columns_not_provided(wh: Warehouse) -> None:
    load(wh, lines(2))
    partial = pa.table(
        {"company_id": ["C1"], "order_id": ["O1"], "line_no": [2], "quantity": [7.0]}
    )
    assert load(wh, partial) == 1
    second = rows(wh)[1]
    assert second["quantity"] == 7.0
    assert (second["sku"], second["unit"], second["unit_price"]) == ("SKU1", "pcs", 9.99)
    assert second["order_date"] == dt.date(2024, 1, 1)
    assert second["updated_at"] == T0


def test_upsert_of_key_columns_only_inserts_new_keys(wh: Warehouse) -> None:
    load(wh, lines(1))
    keys_only = pa.table({"company_id": ["C1", "C1"], "order_id": ["O1", "O2"], "line_no": [1, 1]})
    assert load(wh, keys_only) == 2
    got = rows(wh)
    assert [(r["order_id"], r["sku"]) for r in got] == [("O1", "SKU0"), ("O2", None)]


def test_upsert_of_an_empty_table_writes_nothing(wh: Warehouse) -> None:
    assert load(wh, lines(0)) == 0
    assert wh.count("order_lines") == 0


def test_upsert_accepts_a_record_batch_and_casts_compatible_types(wh: Warehouse) -> None:
    batch = pa.record_batch(
        {
            "company_id": pa.array(["C1"], pa.large_string()),
            "order_id": pa.array(["O1"]).dictionary_encode(),
            "line_no": pa.array([1], pa.int32()),
            "quantity": pa.array([3], pa.int64()),
            "order_date": pa.array(["2024-05-06"]),
            "updated_at": pa.array(
                [dt.datetime(2024, 3, 1, 11, 0, tzinfo=CET)], pa.timestamp("s", "+01:00")
            ),
        }
    )
    assert load(wh, batch) == 1
    [row] = rows(wh)
    assert (row["line_no"], row["quantity"]) == (1, 3.0)
    assert row["order_date"] == dt.date(2024, 5, 6)
    assert row["updated_at"] == T0


def test_upsert_many_rows_in_chunks(wh: Warehouse) -> None:
    n = 25_000  # more than one SQLite chunk
    data = lines(n, order_id=[f"O{i // 10}" for i in range(n)], line_no=[i % 10 for i in range(n)])
    assert load(wh, data) == n
    assert load(wh, data) == n
    assert wh.count("order_lines") == n
    assert wh.count("order_lines", order_id="O2499", line_no=9) == 1


def test_upsert_on_duckdb_is_one_bulk_statement(tmp_path: Path) -> None:
    w = Warehouse(f"duckdb:///{tmp_path}/w.duckdb")
    w.create_all()
    seen: list[tuple[str, bool]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, executemany))

    sa.event.listen(w.engine, "before_cursor_execute", record)
    try:
        load(w, lines(1000))
        writes = [(s, many) for s, many in seen if "order_lines" in s]
        assert len(writes) == 1 and not writes[0][1], writes
        assert writes[0][0].startswith(("MERGE INTO", "INSERT INTO"))
        left = w.read_arrow("SELECT count(*) AS n FROM duckdb_views() WHERE view_name LIKE '_hub%'")
        assert left["n"].to_pylist() == [0]
    finally:
        w.dispose()


def test_duckdb_without_merge_uses_on_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warehouse, "_duckdb_has_merge", lambda: False)
    w = Warehouse(f"duckdb:///{tmp_path}/w.duckdb")
    w.create_all()
    try:
        load(w, lines(2))
        load(w, pa.table({"company_id": ["C1"], "order_id": ["O1"], "line_no": [2], "sku": ["Z"]}))
        load(w, pa.table({"company_id": ["C1"], "order_id": ["O1"], "line_no": [3]}))
        got = rows(w)
        assert [(r["line_no"], r["sku"], r["quantity"]) for r in got] == [
            (1, "SKU0", 0.5),
            (2, "Z", 1.5),
            (3, None, None),
        ]
    finally:
        w.dispose()


# --- transactions -----------------------------------------------------------------------------


def test_error_in_transaction_rolls_back_everything(wh: Warehouse) -> None:
    load(wh, lines(2))
    before = rows(wh)
    with pytest.raises(RuntimeError, match="boom"), wh.transaction() as conn:
        wh.upsert(conn, "order_lines", lines(3, quantity=[-1.0, -2.0, -3.0]))
        wh.delete_where(conn, "order_lines", line_no=1)
        wh.upsert(conn, "syncs", pa.table({"sync_id": ["s2"], "status": ["running"]}))
        raise RuntimeError("boom")
    assert rows(wh) == before
    assert wh.count("syncs") == 0


def test_refused_upsert_rolls_back_earlier_writes_of_the_transaction(wh: Warehouse) -> None:
    load(wh, lines(1))
    with pytest.raises(ValueError), wh.transaction() as conn:
        wh.upsert(conn, "syncs", pa.table({"sync_id": ["s2"], "status": ["ok"]}))
        wh.upsert(conn, "order_lines", lines(2, line_no=[1, 1]))
    assert wh.count("syncs") == 0


def test_database_error_mid_load_leaves_previous_state(url: str) -> None:
    # A CHECK constraint the data breaks: the failure happens inside the database statement.
    engine = plain_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE waste_streams (company_id VARCHAR, material VARCHAR, "
            "ewc_code VARCHAR, quantity_kg_year DOUBLE CHECK (quantity_kg_year >= 0), "
            "destination VARCHAR, updated_at TIMESTAMP, "
            "PRIMARY KEY (company_id, material, ewc_code))"
        )
    engine.dispose()
    w = Warehouse(url)
    try:
        w.create_all()
        good = pa.table(
            {
                "company_id": ["C1"],
                "material": ["cotton"],
                "ewc_code": ["040222"],
                "quantity_kg_year": [10.0],
            }
        )
        load(w, good, "waste_streams")
        bad = pa.table(
            {
                "company_id": ["C1", "C1"],
                "material": ["cotton", "wool"],
                "ewc_code": ["040222", "040222"],
                "quantity_kg_year": [20.0, -1.0],
            }
        )
        with pytest.raises(sa.exc.DBAPIError), w.transaction() as conn:
            w.upsert(conn, "syncs", pa.table({"sync_id": ["s9"]}))
            w.upsert(conn, "waste_streams", bad)
        assert w.count("syncs") == 0
        assert w.read_arrow("SELECT material, quantity_kg_year FROM waste_streams").to_pylist() == [
            {"material": "cotton", "quantity_kg_year": 10.0}
        ]
        load(w, good, "waste_streams")  # still usable after the failure
    finally:
        w.dispose()


# --- refused data -----------------------------------------------------------------------------


def test_duplicate_keys_in_data_are_refused(wh: Warehouse) -> None:
    data = lines(3, line_no=[1, 2, 2])
    with pytest.raises(ValueError, match=r"order_lines: duplicate key .*line_no=2.* 2 times"):
        load(wh, data)
    assert wh.count("order_lines") == 0


def test_unknown_columns_are_refused(wh: Warehouse) -> None:
    data = (
        lines(1).append_column("colour", pa.array(["red"])).append_column("size", pa.array(["M"]))
    )
    with pytest.raises(ValueError, match="order_lines: unknown columns colour, size"):
        load(wh, data)


def test_unknown_table_is_refused(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match="unknown warehouse table 'orders'"):
        load(wh, lines(1), "orders")
    with pytest.raises(ValueError, match="unknown warehouse table"):
        wh.count("nope")


def test_missing_or_empty_key_columns_are_refused(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match="order_lines: key columns missing: line_no"):
        load(wh, lines(1).drop_columns(["line_no"]))
    with pytest.raises(ValueError, match=r"order_lines\.order_id: key column empty in 1 rows"):
        load(wh, lines(2, order_id=["O1", None]))


@pytest.mark.parametrize(
    ("column", "values", "problem"),
    [
        ("quantity", pa.array(["1,2,3"]), "cannot convert string to double"),
        ("line_no", pa.array([1.5]), "cannot convert double to int64"),
        ("order_date", pa.array(["31/12/2024"]), "cannot convert string to date32"),
        ("updated_at", pa.array([dt.datetime(2024, 1, 1)]), "timestamp without time zone"),
    ],
)
def test_values_that_do_not_convert_are_refused_naming_the_column(
    wh: Warehouse, column: str, values: pa.Array, problem: str
) -> None:
    data = lines(1).drop_columns([column]).append_column(column, values)
    with pytest.raises(ValueError, match=rf"order_lines\.{column}: {problem}"):
        load(wh, data)


# --- reading, counting, deleting --------------------------------------------------------------


@pytest.mark.parametrize("table", sorted(canonical.TABLES))
def test_read_arrow_matches_arrow_schema_on_empty_tables(wh: Warehouse, table: str) -> None:
    got = wh.read_arrow(sa.select(canonical.TABLES[table]))
    assert got.schema == canonical.arrow_schema(table)
    assert got.num_rows == 0


def test_read_arrow_round_trips_every_type(wh: Warehouse) -> None:
    data = lines(2, delivery_date=[dt.date(2024, 2, 29), None])
    load(wh, data)
    load(
        wh,
        pa.table({"company_id": ["C1"], "supplier_id": ["S1"], "subcontractor": [True]}),
        "supplier_links",
    )
    got = wh.read_arrow(sa.select(canonical.TABLES["order_lines"]).order_by("line_no"))
    assert got.schema == canonical.arrow_schema("order_lines")
    assert got.equals(data)
    links = wh.read_arrow(sa.select(canonical.TABLES["supplier_links"]))
    assert links.schema == canonical.arrow_schema("supplier_links")
    assert links["subcontractor"].to_pylist() == [True]


def test_read_arrow_with_sql_text_and_bound_parameters(wh: Warehouse) -> None:
    load(wh, lines(3))
    got = wh.read_arrow(
        "SELECT line_no, quantity FROM order_lines WHERE line_no >= :n ORDER BY line_no", {"n": 2}
    )
    assert got.column_names == ["line_no", "quantity"]
    assert pa.types.is_integer(got["line_no"].type)
    assert got.to_pylist() == [{"line_no": 2, "quantity": 1.5}, {"line_no": 3, "quantity": 2.5}]
    typed = sa.text("SELECT updated_at FROM order_lines WHERE line_no = :n").columns(
        updated_at=sa.DateTime(timezone=True)
    )
    assert wh.read_arrow(typed, {"n": 1})["updated_at"].to_pylist() == [T0]


def test_count_with_filters(wh: Warehouse) -> None:
    load(wh, pa.concat_tables([lines(3), lines(2, order_id=["O2", "O2"], direction=[None, None])]))
    assert wh.count("order_lines") == 5
    assert wh.count("order_lines", order_id="O2") == 2
    assert wh.count("order_lines", order_id="O1", line_no=3) == 1
    assert wh.count("order_lines", direction=None) == 2
    assert wh.count("order_lines", order_id="O9") == 0
    with pytest.raises(ValueError, match="order_lines: unknown columns colour"):
        wh.count("order_lines", colour="red")


def test_delete_where_binds_values(wh: Warehouse) -> None:
    tricky = "O1' OR '1'='1"
    load(wh, pa.concat_tables([lines(2), lines(1, order_id=[tricky])]))
    with wh.transaction() as conn:
        assert wh.delete_where(conn, "order_lines", order_id=tricky) == 1
        assert wh.delete_where(conn, "order_lines", order_id="O1", line_no=9) == 0
    assert wh.count("order_lines") == 2
    with wh.transaction() as conn:
        with pytest.raises(ValueError, match="at least one"):
            wh.delete_where(conn, "order_lines")
        with pytest.raises(ValueError, match="unknown columns bogus"):
            wh.delete_where(conn, "order_lines", bogus=1)
        assert wh.delete_where(conn, "order_lines", company_id="C1") == 2
    assert wh.count("order_lines") == 0


# --- DuckDB file lock, PostgreSQL statements --------------------------------------------------


def _other_process_can_write(path: Path) -> bool:
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('SELECT 1').fetchall()"
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True)
    return done.returncode == 0


def test_dispose_releases_the_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    w = Warehouse(f"duckdb:///{path}")
    w.create_all()
    load(w, lines(1))
    assert not _other_process_can_write(path)
    w.dispose()
    assert _other_process_can_write(path)
    assert w.count("order_lines") == 1  # reopens on demand
    w.dispose()


def test_postgresql_load_statement() -> None:
    sql = warehouse._insert_select_sql(
        postgresql.dialect(),
        canonical.TABLES["order_lines"],
        ["company_id", "order_id", "line_no", "quantity", "user"],
        "_hub_upsert_x",
    )
    assert sql == (
        'INSERT INTO order_lines (company_id, order_id, line_no, quantity, "user") '
        'SELECT company_id, order_id, line_no, quantity, "user" FROM _hub_upsert_x '
        "ON CONFLICT (company_id, order_id, line_no) "
        'DO UPDATE SET quantity = excluded.quantity, "user" = excluded."user"'
    )


def test_copy_csv_tells_null_from_empty_text() -> None:
    data = pa.table({"a": ["x", "", None, 'say "hi"\nbye'], "b": [1.5, None, 2.0, 3.0]})
    csv = b"".join(warehouse._csv_chunks(data)).decode()
    assert csv == '"x",1.5\n"",\n,2\n"say ""hi""\nbye",3\n'
