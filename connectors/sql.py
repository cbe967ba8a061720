"""The SQL connector: an ERP's database read directly, read-only, through SQLAlchemy.

Each entity is a table (or view) or a SELECT written by the IT manager. Identifiers come from
the configuration and are checked against the reflected schema before anything runs; values
(the cursor) are always bound as parameters. Every connection is read-only: `PRAGMA
query_only` on SQLite, read-only transactions on PostgreSQL and MySQL; the README tells IT
managers to grant SELECT only, which is what protects SQL Server.

Incremental reads follow a cursor column (e.g. a write date): rows whose value is greater than
the last committed cursor, in cursor order. The connector stores nothing: the hub commits the
cursor of an extract together with its rows and hands it back on the next read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from connectors.base import (
    CheckResult,
    Extract,
    FileCursor,
    Fingerprint,
    SourceError,
    Stream,
    ValueCursor,
)

SAMPLE_VALUES = 3


@dataclass(frozen=True)
class SqlEntity:
    """Where one entity is in the database.

    Attributes:
        table: a table or view, optionally 'schema.table' (exclusive with `query`).
        query: a SELECT whose columns are the source headers (exclusive with `table`).
        columns: the source columns the mapping reads (checked to exist).
        cursor_column: a column that grows when a row changes; None reads everything each time.
    """

    table: str | None = None
    query: str | None = None
    columns: tuple[str, ...] = ()
    cursor_column: str | None = None


class SqlConnector:
    """Reads entities from a database by table or query, in read-only transactions.

    Args:
        url: SQLAlchemy URL (secrets already resolved; never logged: see `__repr__`).
        entities: entity → where it is.
        page_size: rows fetched from the database at once.
    """

    cursor_kind = "value"

    def __init__(self, url: str, entities: Mapping[str, SqlEntity], page_size: int = 10_000):
        self.url = sa.make_url(url)
        self.entities = dict(entities)
        self.page_size = page_size
        self._engine: sa.Engine | None = None

    def __repr__(self) -> str:
        return f"SqlConnector({self.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = read_only_engine(self.url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def check(self) -> CheckResult:
        """Connect, and check that every configured table, query and column is there."""
        try:
            with self.engine.connect() as conn:
                for entity in self.entities:
                    self._select(conn, entity, None)
        except SourceError as exc:
            return CheckResult(False, str(exc))
        except sa.exc.SQLAlchemyError as exc:
            return CheckResult(False, f"{self!r}: {_reason(exc)}")
        finally:
            self.close()
        return CheckResult(True, f"{self!r}: connected, {len(self.entities)} entities readable")

    def discover(self) -> list[Stream]:
        """Every table and view with its columns and a few sample values."""
        streams = []
        mapped = {e.table: name for name, e in self.entities.items() if e.table}
        try:
            with self.engine.connect() as conn:
                insp = sa.inspect(conn)
                schemas = [None]
                for schema in schemas:
                    names = insp.get_table_names(schema) + insp.get_view_names(schema)
                    for name in sorted(names):
                        cols = [c["name"] for c in insp.get_columns(name, schema)]
                        table = _untyped(_reflect(conn, name))
                        rows = conn.execute(sa.select(table).limit(SAMPLE_VALUES)).all()
                        samples = {c: [_text(r[i]) for r in rows] for i, c in enumerate(cols)}
                        streams.append(Stream(name, mapped.get(name), cols, samples))
                for entity, spec in self.entities.items():
                    if spec.query:
                        result = conn.execute(sa.text(spec.query))
                        cols = list(result.keys())
                        rows = result.fetchmany(SAMPLE_VALUES)
                        result.close()
                        samples = {c: [_text(r[i]) for r in rows] for i, c in enumerate(cols)}
                        streams.append(Stream(f"{entity} (query)", entity, cols, samples))
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self!r}: {_reason(exc)}") from None
        finally:
            self.close()
        return streams

    def read(self, entity: str, cursor: FileCursor | ValueCursor) -> Iterator[Extract]:
        """The rows of the entity changed since the cursor, as one extract.

        Args:
            entity: a configured entity.
            cursor: the last committed cursor (`ValueCursor`); a `FileCursor` reads everything.

        Yields:
            At most one extract (none when nothing changed); its `cursor` is the greatest
            cursor value read, to be committed with the rows.
        """
        last = decode_cursor(cursor.value) if isinstance(cursor, ValueCursor) else None
        try:
            with self.engine.connect() as conn:
                header, batches, high = self._fetch(conn, entity, last)
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self!r}, {entity}: {_reason(exc)}") from None
        finally:
            self.close()
        rows = sum(b.num_rows for b in batches)
        if rows == 0:
            return
        table = pa.Table.from_batches(batches)
        digest = hashlib.sha256()
        for col in header:
            digest.update("\x1f".join(v or "" for v in table.column(col).to_pylist()).encode())
        spec = self.entities[entity]
        where = spec.table or "query"
        since = f"since {_text(last)}" if last is not None else "all"
        name = f"{entity}-{where}"
        new_cursor = encode_cursor(high) if spec.cursor_column else None
        fp = Fingerprint(
            f"{name} {since}"[:200], rows, time.time(), digest.hexdigest()
        )  # fmt: skip
        yield Extract(name, fp, lambda: (table, header), cursor=new_cursor)

    def keys(self, entity: str, columns: list[str]) -> pa.Table:
        """The `columns` (a record's key) of every row the entity holds now, as text columns:
        what the hub compares with the rows it loaded to find records deleted in the database."""
        batches = []
        try:
            with self.engine.connect() as conn:
                # Every row, unordered: a record whose cursor became NULL still exists.
                stmt, _ = self._select(conn, entity, None, columns, by_cursor=False)
                result = conn.execution_options(stream_results=True).execute(stmt)
                for rows in result.partitions(self.page_size):
                    values = list(zip(*rows, strict=True))[: len(columns)]
                    arrays = [pa.array([_text(v) for v in col], pa.string()) for col in values]
                    batches.append(pa.record_batch(arrays, names=columns))
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"{self!r}, {entity}: {_reason(exc)}") from None
        finally:
            self.close()
        schema = pa.schema([(c, pa.string()) for c in columns])
        return pa.Table.from_batches(batches, schema)

    # --- internals ----------------------------------------------------------------------------

    def _select(
        self, conn: sa.Connection, entity: str, last: Any, columns: list[str] | None = None,
        by_cursor: bool = True,
    ) -> tuple[sa.Select, list[str]]:
        """The checked statement of an entity (of `columns` only, if given), and the source
        headers it returns; `by_cursor`: rows with a cursor, after `last`, in cursor order."""
        if entity not in self.entities:
            raise SourceError(f"{self!r}: no table or query for entity '{entity}'")
        spec = self.entities[entity]
        if spec.table:
            # Checked against the reflected schema, then read untyped: values come back as the
            # driver gives them (SQLAlchemy's processors would choke on e.g. Tryton's Numeric
            # bytes on SQLite), and the cursor goes back to the database as it came.
            reflected = _reflect(conn, spec.table)
            available = list(reflected.c.keys())
            source = _untyped(reflected)
        else:
            available = _query_columns(conn, spec.query or "")
            source = sa.text(spec.query or "").columns(*[sa.column(c) for c in available])
            source = source.subquery("q")
        wanted = list(dict.fromkeys(spec.columns if columns is None else columns))
        needed = wanted + ([spec.cursor_column] if spec.cursor_column else [])
        missing = [c for c in needed if c not in available]
        if missing:
            where = f"table {spec.table}" if spec.table else "the query"
            raise SourceError(
                f"{entity}: column(s) {', '.join(missing)} not in {where} "
                f"(it has: {', '.join(available[:30])})"
            )
        header = wanted or available
        cols = [source.c[c] for c in header]
        stmt = sa.select(*cols)
        if spec.cursor_column and by_cursor:
            cur = source.c[spec.cursor_column]
            stmt = sa.select(*cols, cur.label("_hub_cursor")).order_by(cur)
            stmt = stmt.where(cur.is_not(None))
            if last is not None:
                stmt = stmt.where(cur > sa.bindparam("last", last))
        return stmt, header

    def _fetch(
        self, conn: sa.Connection, entity: str, last: Any
    ) -> tuple[list[str], list[pa.RecordBatch], Any]:
        stmt, header = self._select(conn, entity, last)
        has_cursor = self.entities[entity].cursor_column is not None
        result = conn.execution_options(stream_results=True).execute(stmt)
        batches: list[pa.RecordBatch] = []
        high, line = last, 1  # line 1 is the header, as in a file
        for rows in result.partitions(self.page_size):
            columns = list(zip(*rows, strict=True))
            if has_cursor:
                high = columns[-1][-1]
                columns = columns[:-1]
            arrays = [pa.array([_text(v) for v in col], pa.string()) for col in columns]
            lines = pa.array(range(line + 1, line + 1 + len(rows)), pa.int64())
            line += len(rows)
            batches.append(pa.record_batch([*arrays, lines], names=[*header, "_line"]))
        return header, batches, high


def read_only_engine(url: str | sa.URL) -> sa.Engine:
    """An engine whose every connection refuses to write, by the dialect's own means."""
    engine = sa.create_engine(url, pool_pre_ping=True)
    dialect = engine.dialect.name

    @sa.event.listens_for(engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        try:
            if dialect == "sqlite":
                cur.execute("PRAGMA query_only = ON")
            elif dialect == "postgresql":
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            elif dialect in ("mysql", "mariadb"):
                cur.execute("SET SESSION TRANSACTION READ ONLY")
            # SQL Server has no read-only session: the login must be granted SELECT only.
        finally:
            cur.close()
        if dialect == "postgresql":
            dbapi_connection.commit()

    return engine


def _reflect(conn: sa.Connection, name: str) -> sa.Table:
    """The table or view `name` ('schema.table' allowed), checked against the schema."""
    schema, _, table = name.rpartition(".")
    insp = sa.inspect(conn)
    known = insp.get_table_names(schema or None) + insp.get_view_names(schema or None)
    if table not in known:
        raise SourceError(f"no table or view '{name}' in the database")
    return sa.Table(table, sa.MetaData(), schema=schema or None, autoload_with=conn)


def _untyped(table: sa.Table) -> sa.TableClause:
    return sa.table(table.name, *[sa.column(c.name) for c in table.c], schema=table.schema)


def _query_columns(conn: sa.Connection, query: str) -> list[str]:
    """The columns of a configured query, without reading its rows."""
    # The query is the IT manager's configuration, wrapped as a subquery; never user input.
    empty = sa.select(sa.literal_column("*")).select_from(sa.text(f"({query}) AS q"))
    result = conn.execute(empty.where(sa.false()))
    try:
        return list(result.keys())
    finally:
        result.close()


def _text(value: Any) -> str | None:
    """A typed database value as unambiguous text: ISO dates, '.' decimals, true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return np.format_float_positional(value, trim="-")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def encode_cursor(value: Any) -> str | None:
    """A cursor value as self-describing JSON, so that it is bound with its type next time."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return json.dumps({"datetime": value.isoformat()})
    if isinstance(value, dt.date):
        return json.dumps({"date": value.isoformat()})
    if isinstance(value, Decimal):
        return json.dumps({"decimal": format(value, "f")})
    if isinstance(value, bool | int | float | str):
        return json.dumps({type(value).__name__: value})
    raise SourceError(f"cursor values of type {type(value).__name__} are not supported")


def decode_cursor(text: str | None) -> Any:
    if text is None:
        return None
    ((kind, value),) = json.loads(text).items()
    decoders = {
        "datetime": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "decimal": Decimal,
    }
    return decoders.get(kind, lambda v: v)(value)


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    """The database's message without the statement and parameters SQLAlchemy appends."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
