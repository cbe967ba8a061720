"""Quarantine rows that fixed data resolves: marked `resolved_at`, never left behind.

The rule, applied when a file of a firm's source loads (in the same transaction as its rows):
an earlier open quarantine row (`resolved_at` empty, another sync) of the same firm, entity and
source is resolved when

1. it comes from a file of the same name and its line is not quarantined again in the file just
   loaded: the re-exported file replaces the old one, and that line now loads (or is gone); or
2. its key (e.g. order_id + line_no of an order line, read from the row as written through the
   mapping) is the key of a valid row just loaded, from any file: the record now exists.

A row that still fails stays open; the new sync quarantines it again under its own sync_id, so
the open rows are always the failures of the latest data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.canonical import ENTITIES, TABLES
from hub.config import EntityMapping

_DIGITS = re.compile(r"^\d+$")


def _norm(value: object) -> str:
    """Key values compared as text: trimmed, integers without leading zeros or '.0'."""
    text = "" if value is None else str(value).strip()
    if text.endswith(".0") and _DIGITS.match(text[:-2]):
        text = text[:-2]
    return str(int(text)) if _DIGITS.match(text) else text


def key_headers(entity: str, mapping: EntityMapping) -> list[str] | None:
    """Source headers of the entity's key columns; None when a key column is not a header."""
    keys = [c.name for c in ENTITIES[entity].columns if c.key]
    if not all(k in mapping.columns for k in keys):
        return None
    return [mapping.columns[k] for k in keys]


def valid_keys(entity: str, valid: pa.Table) -> set[tuple[str, ...]]:
    keys = [c.name for c in ENTITIES[entity].columns if c.key]
    if not all(k in valid.column_names for k in keys):
        return set()
    cols = [valid.column(k).to_pylist() for k in keys]
    return {tuple(_norm(v) for v in row) for row in zip(*cols, strict=True)}


def resolve_quarantine(
    conn: Connection,
    *,
    company_id: str,
    entity: str,
    source: str,
    file: str,
    sync_id: str,
    valid: pa.Table,
    quarantined_lines: Iterable[int],
    mapping: EntityMapping,
    now: datetime | None = None,
) -> int:
    """Set `resolved_at` on the earlier quarantine rows the loaded file resolves (see above).

    Args:
        conn: the load's transaction.
        valid: the rows just loaded (canonical columns).
        quarantined_lines: lines of the loaded file that failed again.

    Returns:
        The number of quarantine rows resolved.
    """
    q = TABLES["quarantine"]
    open_rows = conn.execute(
        sa.select(q.c.sync_id, q.c.line, q.c.file, q.c.row).where(
            q.c.company_id == company_id,
            q.c.entity == entity,
            q.c.source == source,
            q.c.sync_id != sync_id,
            q.c.resolved_at.is_(None),
        )
    ).mappings().all()
    if not open_rows:  # the usual night: nothing to resolve, no keys to compute
        return 0
    again = set(quarantined_lines)
    headers = key_headers(entity, mapping)
    keys = valid_keys(entity, valid) if headers else set()
    resolved = []
    for r in open_rows:
        same_line_loads = r["file"] == file and r["line"] not in again
        if same_line_loads or (keys and _row_key(r["row"], headers) in keys):
            resolved.append(r)
    if not resolved:
        return 0
    stmt = (
        sa.update(q)
        .where(
            q.c.sync_id == sa.bindparam("b_sync_id"),
            q.c.company_id == company_id,
            q.c.entity == entity,
            q.c.source == source,
            q.c.line == sa.bindparam("b_line"),
        )
        .values(resolved_at=now or datetime.now(UTC))
    )
    conn.execute(stmt, [{"b_sync_id": r["sync_id"], "b_line": r["line"]} for r in resolved])
    return len(resolved)


def _row_key(row_json: str | None, headers: list[str] | None) -> tuple[str, ...] | None:
    try:
        row = json.loads(row_json or "{}")
    except ValueError:
        return None
    if not headers or not all(str(row.get(h) or "").strip() for h in headers):
        return None
    return tuple(_norm(row[h]) for h in headers)
