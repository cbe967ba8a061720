"""Database and API sources (`kind: sql`, `kind: tryton`): connectors built from the
configuration, and the cursor the hub keeps for them.

The cursor of a firm's source and entity lives in the warehouse table `source_cursors`,
written in the same transaction as the rows it covers (see `hub.pipeline.load`), and handed
back to the connector on the next sync: connectors store nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import sqlalchemy as sa

from connectors.base import ValueCursor
from connectors.sql import SqlConnector, SqlEntity
from connectors.tryton import TrytonClient, TrytonConnector
from hub.canonical import TABLES
from hub.config import District, SqlSource, TrytonSource, expand_env
from hub.warehouse import Warehouse


def build_erp_connector(
    district: District, source: SqlSource | TrytonSource
) -> SqlConnector | TrytonConnector:
    """The connector of a database or API source; `${ENV}` references are resolved now."""
    if source.kind == "sql":
        entities = {}
        for name, m in source.entities.items():
            cols = list(m.columns.values())
            entities[name] = SqlEntity(m.table, m.query, tuple(cols), m.cursor_column)
        return SqlConnector(expand_env(source.url), entities, page_size=source.page_size)
    if source.kind == "tryton":
        client = TrytonClient(
            expand_env(source.url), expand_env(source.database), expand_env(source.user),
            expand_env(source.password), timeout=source.timeout, retries=source.retries,
        )  # fmt: skip
        return TrytonConnector(client, page_size=source.page_size)
    raise ValueError(f"source kind {source.kind!r} is not a database or API source")


def stored_cursor(wh: Warehouse, company_id: str, source: str, entity: str) -> ValueCursor:
    """The cursor committed by the last load of the firm's source and entity."""
    t = TABLES["source_cursors"]
    q = sa.select(t.c.cursor).where(
        t.c.company_id == company_id, t.c.source == source, t.c.entity == entity
    )
    values = wh.read_arrow(q).column("cursor").to_pylist()
    return ValueCursor(values[0] if values else None)


def cursor_row(company_id: str, source: str, entity: str, cursor: str, sync_id: str) -> pa.Table:
    """The `source_cursors` row to upsert with the rows it covers."""
    return pa.Table.from_pylist([{
        "company_id": company_id, "source": source, "entity": entity, "cursor": cursor,
        "sync_id": sync_id, "updated_at": datetime.now(UTC),
    }])  # fmt: skip
