"""The warehouse: bulk upsert of Arrow tables into the harmonized tables.

One `Warehouse` per SQLAlchemy URL; the dialect picks the native bulk path:

- DuckDB (embedded default): the Arrow table is registered on the raw DuckDB connection and
  loaded by one `MERGE` (DuckDB >= 1.4; `INSERT … ON CONFLICT DO UPDATE` before), no row-by-row
  inserts.
- SQLite: `INSERT … ON CONFLICT DO UPDATE`, executemany in chunks.
- PostgreSQL: `COPY` (CSV) into a temporary table, then `INSERT … SELECT … ON CONFLICT DO UPDATE`.

Every write happens on a caller's `Connection` from `Warehouse.transaction()`, so that rows, the
file ledger and sync records of one load commit or roll back together.

A DuckDB file admits one writing process at a time (DuckDB locks the file). The engine connects
lazily, on first use, and keeps its pooled connection (hence the lock) until `dispose()`: call it
when done, before another process (another Dagster step, `hub` command or a notebook) opens the
same file.
"""

from __future__ import annotations

import functools
import io
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Dialect

from hub import canonical

WAREHOUSE_FILE = "warehouse.duckdb"
SUPPORTED_BACKENDS = ("duckdb", "sqlite", "postgresql")

# Rows per executemany on SQLite: bounds the Python objects alive at once.
_SQLITE_CHUNK_ROWS = 10_000
# Rows per CSV chunk sent to PostgreSQL COPY: bounds memory on multi-million-row loads.
_COPY_CHUNK_ROWS = 100_000
# Rows per fetch when a dialect has no native Arrow result.
_FETCH_CHUNK_ROWS = 50_000


def default_url(data_dir: Path) -> str:
    """The embedded default: a DuckDB file in the data folder.

    Args:
        data_dir: the data folder (`HUB_DATA_DIR`); a relative folder stays relative to the
            working directory of the process that connects.

    Returns:
        `duckdb:///<data_dir>/warehouse.duckdb`.
    """
    return f"duckdb:///{Path(data_dir).as_posix()}/{WAREHOUSE_FILE}"


def warehouse_url() -> str:
    """The configured warehouse URL.

    Returns:
        `HUB_WAREHOUSE_URL` if set, else `default_url` of `HUB_DATA_DIR` (default `data`).
    """
    url = os.environ.get("HUB_WAREHOUSE_URL")
    if url:
        return url
    return default_url(Path(os.environ.get("HUB_DATA_DIR") or "data"))


class Warehouse:
    """The harmonized tables of `hub.canonical` on DuckDB, SQLite or PostgreSQL.

    Example:
        >>> wh = Warehouse(warehouse_url())
        >>> wh.create_all()
        >>> with wh.transaction() as conn:
        ...     wh.upsert(conn, "order_lines", batch)
        >>> wh.dispose()  # releases the DuckDB file
    """

    def __init__(self, url: str) -> None:
        """Create the engine (no connection is opened yet) and the folder of a database file.

        Args:
            url: SQLAlchemy URL, e.g. `duckdb:///data/warehouse.duckdb`,
                `sqlite:///data/warehouse.sqlite`, `postgresql+psycopg://user@host/db`.

        Raises:
            ValueError: the URL's backend is not one of DuckDB, SQLite, PostgreSQL.
        """
        parsed = sa.make_url(url)
        backend = parsed.get_backend_name()
        if backend not in SUPPORTED_BACKENDS:
            raise ValueError(
                f"warehouse URL: unsupported database {backend!r}; "
                f"use one of {', '.join(SUPPORTED_BACKENDS)}"
            )
        self.backend = backend
        _make_parent_folder(backend, parsed.database)
        self.engine = sa.create_engine(parsed)
        _install_session_setup(self.engine, backend)

    def __repr__(self) -> str:
        return f"Warehouse({self.engine.url.render_as_string(hide_password=True)!r})"

    def create_all(self) -> None:
        """Create missing tables and add missing columns (idempotent).

        Adding a column to `hub.canonical` thereby migrates existing warehouses; renaming or
        retyping columns is not done here.

        Raises:
            RuntimeError: an existing table lacks a key column (its primary key cannot be
                migrated in place).
        """
        with self.transaction() as conn:
            canonical.metadata.create_all(conn, checkfirst=True)
            for table in canonical.metadata.sorted_tables:
                present = _stored_columns(conn, table)
                for column in table.columns:
                    if column.name not in present:
                        _add_column(conn, table, column)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside a transaction: committed on success, rolled back on error.

        Yields:
            The SQLAlchemy `Connection` to pass to `upsert` and `delete_where`.
        """
        with self.engine.begin() as conn:
            yield conn

    def upsert(self, conn: Connection, table: str, data: pa.Table | pa.RecordBatch) -> int:
        """Insert rows, or update them where their primary key exists.

        Args:
            conn: a connection from `transaction()`.
            table: a table of `hub.canonical.TABLES`.
            data: the rows; all key columns and any subset of the other columns. Columns not
                given keep their stored value on update (and are NULL on insert).

        Returns:
            Rows written (inserted or updated).

        Raises:
            ValueError: unknown table or columns, a missing or empty key column, a value that
                does not convert to the column's type, or a key present twice in `data`.
        """
        sa_table = _table(table)
        data = _conform(table, data)
        if data.num_rows == 0:
            return 0
        _UPSERTS[conn.dialect.name](conn, sa_table, data)
        return data.num_rows

    def delete_where(self, conn: Connection, table: str, **equals: Any) -> int:
        """Delete the rows whose columns equal the given values (`None` matches NULL).

        Args:
            conn: a connection from `transaction()`.
            table: a table of `hub.canonical.TABLES`.
            **equals: column=value conditions, combined with AND; at least one, so that a
                forgotten filter cannot empty a table.

        Returns:
            Rows deleted.
        """
        if not equals:
            raise ValueError(f"{table}: delete_where needs at least one column=value condition")
        sa_table = _table(table)
        result = conn.execute(sa.delete(sa_table).where(*_conditions(sa_table, equals)))
        return _deleted_rows(result)

    def read_arrow(
        self, sql: str | sa.Executable, params: Mapping[str, Any] | None = None
    ) -> pa.Table:
        """Run a query and return its rows as an Arrow table.

        A `sa.Select` (or `sa.text(...).columns(...)`) gets the Arrow types of its columns'
        SQLAlchemy types on every dialect; `sa.select(TABLES[t])` returns exactly
        `canonical.arrow_schema(t)`. A plain SQL string gets DuckDB's types, and on other
        dialects types inferred from the values (dates come back as text on SQLite).

        Args:
            sql: a SQL string with `:name` parameters, or a SQLAlchemy selectable.
            params: values of the bound parameters.

        Returns:
            The result; TIMESTAMP WITH TIME ZONE columns in UTC.
        """
        stmt = sa.text(sql) if isinstance(sql, str) else sql
        schema = _result_schema(stmt)
        with self.engine.connect() as conn:
            result = conn.execute(stmt, dict(params or {}))
            try:
                if conn.dialect.name == "duckdb":
                    data = _duckdb_arrow(result)
                else:
                    data = _rows_to_arrow(result, schema)
            finally:
                result.close()
        return _apply_schema(data, schema)

    def count(self, table: str, **equals: Any) -> int:
        """Number of rows of `table`, optionally only those whose columns equal the values."""
        sa_table = _table(table)
        query = sa.select(sa.func.count()).select_from(sa_table)
        query = query.where(*_conditions(sa_table, equals))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def dispose(self) -> None:
        """Close pooled connections: releases the DuckDB file lock. The warehouse stays usable."""
        self.engine.dispose()


# --- engine setup -----------------------------------------------------------------------------


def _make_parent_folder(backend: str, database: str | None) -> None:
    if backend not in ("duckdb", "sqlite") or not database:
        return
    if database == ":memory:" or database.startswith(("file:", "md:", "motherduck:")):
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)


def _install_session_setup(engine: sa.Engine, backend: str) -> None:
    if backend == "duckdb":
        # TIMESTAMPTZ renders in the session time zone: fix it so results and date casts do not
        # depend on the machine's zone.
        sa.event.listen(engine, "connect", _duckdb_utc)
    elif backend == "sqlite":
        # pysqlite opens transactions late and never for DDL; take over, as the SQLAlchemy docs
        # advise, so that a failed load rolls back completely.
        sa.event.listen(engine, "connect", _sqlite_manual_transactions)
        sa.event.listen(engine, "begin", _sqlite_begin)


def _duckdb_utc(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("SET TimeZone = 'UTC'")


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _stored_columns(conn: Connection, table: sa.Table) -> set[str]:
    # An empty SELECT rather than the inspector: duckdb_engine's column reflection queries
    # pg_catalog tables DuckDB lacks (fails with SQLAlchemy 2.1).
    prep = conn.dialect.identifier_preparer
    result = conn.exec_driver_sql(f"SELECT * FROM {prep.format_table(table)} WHERE 1 = 0")
    try:
        return set(result.keys())
    finally:
        result.close()


def _add_column(conn: Connection, table: sa.Table, column: sa.Column) -> None:
    if column.primary_key:
        raise RuntimeError(
            f"warehouse table {table.name!r} lacks key column {column.name!r}; its primary key "
            "cannot be migrated in place: rebuild the table"
        )
    prep = conn.dialect.identifier_preparer
    ddl = column.type.compile(dialect=conn.dialect)
    conn.exec_driver_sql(
        f"ALTER TABLE {prep.format_table(table)} ADD COLUMN {prep.quote(column.name)} {ddl}"
    )


# --- validation -------------------------------------------------------------------------------


def _table(name: str) -> sa.Table:
    try:
        return canonical.TABLES[name]
    except KeyError:
        raise ValueError(
            f"unknown warehouse table {name!r}; known: {', '.join(canonical.TABLES)}"
        ) from None


def _conditions(table: sa.Table, equals: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
    unknown = [name for name in equals if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name}: unknown columns {', '.join(unknown)}")
    return [table.c[name] == value for name, value in equals.items()]


def _conform(table: str, data: pa.Table | pa.RecordBatch) -> pa.Table:
    """Check the columns and keys of `data` and cast it to the table's Arrow types."""
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    schema = canonical.arrow_schema(table)
    keys = canonical.key_columns(table)
    _check_column_names(table, data.column_names, schema.names, keys)
    fields = [schema.field(name) for name in data.column_names]
    columns = [_cast_column(table, data[f.name], f) for f in fields]
    data = pa.Table.from_arrays(columns, schema=pa.schema(fields))
    _check_keys_present(table, data, keys)
    _check_unique_keys(table, data, keys)
    return data


def _check_column_names(
    table: str, given: Sequence[str], known: Sequence[str], keys: Sequence[str]
) -> None:
    unknown = [c for c in given if c not in known]
    if unknown:
        raise ValueError(
            f"{table}: unknown columns {', '.join(unknown)}; known: {', '.join(known)}"
        )
    repeated = sorted({c for c in given if given.count(c) > 1})
    if repeated:
        raise ValueError(f"{table}: columns given more than once: {', '.join(repeated)}")
    missing = [k for k in keys if k not in given]
    if missing:
        raise ValueError(f"{table}: key columns missing: {', '.join(missing)}")


def _cast_column(table: str, column: pa.ChunkedArray, target: pa.Field) -> pa.ChunkedArray:
    source = column.type
    if source == target.type:
        return column
    where = f"{table}.{target.name}"
    if pa.types.is_timestamp(target.type) and target.type.tz and _is_naive_timestamp(source):
        # Refuse to guess the zone of a naive timestamp: datetime.now() would land shifted.
        raise ValueError(
            f"{where}: timestamp without time zone ({source}); give it a time zone "
            f"(expected {target.type})"
        )
    try:
        return pc.cast(column, target.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
        raise ValueError(f"{where}: cannot convert {source} to {target.type}: {e}") from e


def _is_naive_timestamp(type_: pa.DataType) -> bool:
    return pa.types.is_timestamp(type_) and type_.tz is None


def _check_keys_present(table: str, data: pa.Table, keys: Sequence[str]) -> None:
    for key in keys:
        nulls = data[key].null_count
        if nulls:
            raise ValueError(f"{table}.{key}: key column empty in {nulls} rows")


def _check_unique_keys(table: str, data: pa.Table, keys: Sequence[str]) -> None:
    counts = data.select(list(keys)).group_by(list(keys)).aggregate([([], "count_all")])
    repeated = counts.filter(pc.greater(counts["count_all"], 1))
    if repeated.num_rows:
        first = repeated.slice(0, 1).to_pylist()[0]
        times = first.pop("count_all")
        key = ", ".join(f"{k}={v!r}" for k, v in first.items())
        raise ValueError(
            f"{table}: duplicate key ({key}) appears {times} times in the data "
            f"({repeated.num_rows} duplicated keys); remove duplicates before loading"
        )


# --- upsert per dialect -----------------------------------------------------------------------


def _upsert_duckdb(conn: Connection, table: sa.Table, data: pa.Table) -> None:
    # Registered on the very DuckDB connection of `conn`: same transaction, zero-copy scan.
    raw = conn.connection.driver_connection
    source = f"_hub_upsert_{uuid.uuid4().hex}"
    raw.register(source, data)
    try:
        build = _duckdb_merge_sql if _duckdb_has_merge() else _insert_select_sql
        conn.exec_driver_sql(build(conn.dialect, table, data.column_names, source))
    finally:
        raw.unregister(source)


@functools.cache
def _duckdb_has_merge() -> bool:
    # MERGE (DuckDB >= 1.4) measured ~1.1x faster than ON CONFLICT on inserts, ~1.7x on updates.
    import duckdb

    major, minor = (int(p) for p in duckdb.__version__.split(".")[:2])
    return (major, minor) >= (1, 4)


def _duckdb_merge_sql(
    dialect: Dialect, table: sa.Table, columns: Sequence[str], source: str
) -> str:
    q = dialect.identifier_preparer.quote
    keys = canonical.key_columns(table.name)
    values = [c for c in columns if c not in keys]
    on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in keys)
    sql = (
        f"MERGE INTO {dialect.identifier_preparer.format_table(table)} AS t "
        f"USING {q(source)} AS s ON ({on}) "
    )
    if values:
        sql += f"WHEN MATCHED THEN UPDATE SET {', '.join(f'{q(c)} = s.{q(c)}' for c in values)} "
    names = ", ".join(q(c) for c in columns)
    inserted = ", ".join(f"s.{q(c)}" for c in columns)
    return sql + f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({inserted})"


def _insert_select_sql(
    dialect: Dialect, table: sa.Table, columns: Sequence[str], source: str
) -> str:
    """`INSERT … SELECT … ON CONFLICT DO UPDATE` from `source` (DuckDB < 1.4, PostgreSQL)."""
    q = dialect.identifier_preparer.quote
    keys = canonical.key_columns(table.name)
    values = [c for c in columns if c not in keys]
    names = ", ".join(q(c) for c in columns)
    action = (
        "DO UPDATE SET " + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in values)
        if values
        else "DO NOTHING"
    )
    return (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
        f"SELECT {names} FROM {q(source)} "
        f"ON CONFLICT ({', '.join(q(k) for k in keys)}) {action}"
    )


def _upsert_sqlite(conn: Connection, table: sa.Table, data: pa.Table) -> None:
    stmt = sqlite.insert(table)
    keys = canonical.key_columns(table.name)
    values = {c: stmt.excluded[c] for c in data.column_names if c not in keys}
    if values:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=values)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    for batch in data.to_batches(max_chunksize=_SQLITE_CHUNK_ROWS):
        conn.execute(stmt, batch.to_pylist())


def _upsert_postgresql(conn: Connection, table: sa.Table, data: pa.Table) -> None:
    prep = conn.dialect.identifier_preparer
    names = ", ".join(prep.quote(c) for c in data.column_names)
    if _no_stored_keys(conn, table, data):
        # Nothing to update (a firm's first load, a new sync's quarantine): COPY straight in,
        # half the work of going through a staging table. A concurrent load of the same keys
        # fails on the primary key rather than being merged.
        _copy_csv(conn, f"COPY {prep.format_table(table)} ({names}) FROM STDIN WITH (FORMAT csv)",
                  data)  # fmt: skip
        return
    staging_name = f"_hub_upsert_{uuid.uuid4().hex}"
    staging = prep.quote(staging_name)
    # Same column types as the target; dropped at commit even if this load fails midway.
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
        f"SELECT {names} FROM {prep.format_table(table)} WITH NO DATA"
    )
    _copy_csv(conn, f"COPY {staging} ({names}) FROM STDIN WITH (FORMAT csv)", data)
    conn.exec_driver_sql(_insert_select_sql(conn.dialect, table, data.column_names, staging_name))
    conn.exec_driver_sql(f"DROP TABLE {staging}")


# Distinct leading-key values probed before a direct COPY; beyond, the staging path is used.
_MAX_PROBED_KEYS = 1_000


def _no_stored_keys(conn: Connection, table: sa.Table, data: pa.Table) -> bool:
    """True when no stored row shares the leading key value of any row of `data` (one probe
    of the primary key index), so that every row is an insert; and the table is not under
    row-level security (PostgreSQL refuses COPY FROM there: see `hub.tenancy`)."""
    rls = sa.text("SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass(:t)")
    if conn.execute(rls, {"t": conn.dialect.identifier_preparer.format_table(table)}).scalar():
        return False
    lead = canonical.key_columns(table.name)[0]
    values = pc.unique(data[lead])
    if len(values) > _MAX_PROBED_KEYS:
        return False
    probe = sa.select(sa.literal(1)).where(table.c[lead].in_(values.to_pylist())).limit(1)
    return conn.execute(probe).first() is None


def _copy_csv(conn: Connection, copy_sql: str, data: pa.Table) -> None:
    """Stream `data` as CSV into a `COPY … FROM STDIN` with the connection's driver.

    Arrow's CSV writer quotes every string and leaves NULL unquoted and empty, which is how
    PostgreSQL's CSV format tells NULL from the empty string.
    """
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        driver = conn.dialect.driver
        if driver == "psycopg2":
            for chunk in _csv_chunks(data):
                cursor.copy_expert(copy_sql, io.BytesIO(chunk))
        elif driver == "psycopg":
            with cursor.copy(copy_sql) as copy:
                for chunk in _csv_chunks(data):
                    copy.write(chunk)
        else:
            raise ValueError(
                f"PostgreSQL driver {driver!r} is not supported for bulk loads; "
                "use postgresql+psycopg:// or postgresql+psycopg2://"
            )
    finally:
        cursor.close()


def _csv_chunks(data: pa.Table) -> Iterator[bytes]:
    options = pacsv.WriteOptions(include_header=False)
    for batch in data.to_batches(max_chunksize=_COPY_CHUNK_ROWS):
        buffer = io.BytesIO()
        pacsv.write_csv(batch, buffer, options)
        yield buffer.getvalue()


_UPSERTS = {
    "duckdb": _upsert_duckdb,
    "sqlite": _upsert_sqlite,
    "postgresql": _upsert_postgresql,
}


def _deleted_rows(result: sa.CursorResult[Any]) -> int:
    if result.rowcount >= 0:
        return result.rowcount
    # DuckDB reports no rowcount; its DELETE returns one row holding the count instead.
    return int(result.scalar_one())


# --- reading ----------------------------------------------------------------------------------


def _arrow_type(sa_type: sa.types.TypeEngine[Any]) -> pa.DataType | None:
    """Arrow type of a SQLAlchemy type, or None to keep what the database or values give."""
    if isinstance(sa_type, sa.Boolean):
        return pa.bool_()
    if isinstance(sa_type, sa.Integer):
        return pa.int64()
    if isinstance(sa_type, sa.Float):
        return pa.float64()
    if isinstance(sa_type, sa.DateTime):
        return pa.timestamp("us", tz="UTC" if sa_type.timezone else None)
    if isinstance(sa_type, sa.Date):
        return pa.date32()
    if isinstance(sa_type, sa.String):
        return pa.string()
    return None


def _result_schema(stmt: sa.Executable) -> list[tuple[str, pa.DataType | None, bool]] | None:
    """(name, Arrow type, nullable) of each selected column, when the statement knows them."""
    selected = getattr(stmt, "selected_columns", None)
    if selected is None:
        return None
    return [(c.key, _arrow_type(c.type), not getattr(c, "primary_key", False)) for c in selected]


def _duckdb_arrow(result: sa.CursorResult[Any]) -> pa.Table:
    # The DBAPI cursor of duckdb_engine delegates to the DuckDB connection: native Arrow result.
    cursor = result.cursor
    fetch = getattr(cursor, "to_arrow_table", None) or cursor.fetch_arrow_table
    return fetch()


def _rows_to_arrow(
    result: sa.CursorResult[Any], schema: list[tuple[str, pa.DataType | None, bool]] | None
) -> pa.Table:
    names = list(result.keys())
    types = [t for _, t, _ in schema] if schema else [None] * len(names)
    chunks = []
    for rows in result.partitions(_FETCH_CHUNK_ROWS):
        columns = zip(*rows, strict=True)
        arrays = [pa.array(values, type=t) for values, t in zip(columns, types, strict=True)]
        chunks.append(pa.record_batch(arrays, names=names))
    if chunks:
        return pa.Table.from_batches(chunks)
    return pa.table([pa.array([], type=t or pa.null()) for t in types], names=names)


def _apply_schema(
    data: pa.Table, schema: list[tuple[str, pa.DataType | None, bool]] | None
) -> pa.Table:
    """Cast to the statement's types (where known) and put timestamps with a zone in UTC."""
    if schema is not None and len(schema) != data.num_columns:
        schema = None
    fields = []
    for i, field in enumerate(data.schema):
        type_, nullable = field.type, True
        if schema:
            wanted, nullable = schema[i][1], schema[i][2]
            type_ = wanted or type_
        if pa.types.is_timestamp(type_) and type_.tz:
            type_ = pa.timestamp(type_.unit, tz="UTC")
        fields.append(pa.field(field.name, type_, nullable=nullable))
    columns = [
        col if col.type == f.type else pc.cast(col, f.type)
        for col, f in zip(data.columns, fields, strict=True)
    ]
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
