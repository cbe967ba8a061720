"""Database and API sources (`kind: sql`, `kind: tryton`): connectors built from the
configuration, and the cursor the hub keeps for them.

The cursor of a firm's source and entity lives in the warehouse table `source_cursors`,
written in the same transaction as the rows it covers (see `hub.pipeline.load`), and handed
back to the connector on the next sync: connectors store nothing.

Records deleted in the source are found by a key scan after each load (`remove_deleted`): the
keys of every record the source holds now (ids and codes only) against the keys of the rows
this source loaded; rows whose key is gone are removed from the warehouse table, each kept in
`source_deletions` with its row as it was (and closed in the `_history` tables by the next
history step), and counted in `syncs.rows_deleted`. A scan that finds too few of the loaded
keys (fewer than `min_row_ratio` of them: a wrong query, a half-restored database) removes
nothing and blocks, as a collapsing full snapshot of a file does.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from connectors.base import SourceError, ValueCursor
from connectors.sql import SqlConnector, SqlEntity
from connectors.tryton import TrytonClient, TrytonConnector
from hub.canonical import ENTITIES, TABLES
from hub.config import District, Firm, SqlSource, TrytonSource, expand_env
from hub.staging import as_staged_text
from hub.warehouse import Warehouse

if TYPE_CHECKING:
    from hub.pipeline import FileReport
    from hub.workspace import Workspace

# Entities whose deletions are found → the warehouse table their rows land in. A record is
# identified by the entity's key columns (a supplier by the firm's own code). Waste streams and
# certifications are not: their keys are rewritten on the way in (EWC codes, holder).
DELETABLE = {"orders": "order_lines", "bom_lines": "bom_lines", "products": "products",
             "suppliers": "supplier_links"}  # fmt: skip


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


def remove_deleted(
    ws: Workspace, wh: Warehouse, firm: Firm, entity: str, reports: list[FileReport]
) -> list[FileReport]:
    """After a load: remove the rows of records deleted in the firm's database and API sources.

    A source whose read failed or was blocked in this run is not scanned. Returns a report per
    source that removed rows, was blocked by the collapse guard or could not be scanned.
    """
    from hub.pipeline import FAILED, OK, FileReport

    out: list[FileReport] = []
    if entity not in DELETABLE:
        return out
    for source in firm.sources:
        if isinstance(source, SqlSource | TrytonSource) and entity in source.entities:
            if any(r.source == source.name and r.status != OK for r in reports):
                continue
            mapping = ws.district.mapping(source, entity)
            sync_id = ws.sync_id(firm.company_id, source.name, entity)
            # A firm's supplier link merges the codes of all its supplier lists: one code gone
            # from this source may still stand in another.
            shared = [s.name for s in firm.sources if s is not source and entity in s.entities]
            try:
                rep = _remove_deleted(ws.district, wh, firm.company_id, source, entity, mapping,
                                      sync_id, guard=not ws.accept_deletions,
                                      shared=shared if entity == "suppliers" else [])  # fmt: skip
            except SourceError as exc:
                rep = FileReport(source.name, "", FAILED, f"key scan for deletions: {exc}")
            if rep is not None:
                out.append(rep)
    return out


def _remove_deleted(district, wh, company_id, source, entity, mapping, sync_id, guard=True,  # noqa: ANN001, ANN202
                    shared=()):  # fmt: skip
    from hub.pipeline import BLOCKED, OK, FileReport

    table, keys = DELETABLE[entity], list(ENTITIES[entity].keys)
    if not all(k in mapping.columns or k in mapping.constants for k in keys):
        return None  # the key is not read from the source: nothing to compare
    stored, codes = _stored_keys(wh, company_id, source.name, entity, table, keys)
    if not stored.num_rows:
        return None
    headers = [mapping.columns[k] for k in keys if k in mapping.columns]
    connector = build_erp_connector(district, source)
    try:
        scan = connector.keys(entity, headers)
    finally:
        connector.close()
    kcols = [f"k{i}" for i in range(len(keys))]
    scanned = pa.table({
        c: _norm(as_staged_text(scan.column(mapping.columns[k]), k, mapping))
        if k in mapping.columns
        else pa.array([str(mapping.constants[k])] * scan.num_rows, pa.string())
        for c, k in zip(kcols, keys, strict=True)
    })  # fmt: skip
    present = codes.join(scanned, keys=kcols, join_type="left semi").column("_row")
    gone = stored.filter(pc.invert(pc.is_in(stored.column("_row"),
                                            value_set=present.combine_chunks())))  # fmt: skip
    if not gone.num_rows:
        return None
    kept = stored.num_rows - gone.num_rows
    if guard and shared:
        names = ", ".join(str(r) for r in gone.column(keys[0]).to_pylist()[:5])
        return FileReport(source.name, "", BLOCKED, (
            f"deletions blocked: {gone.num_rows} supplier(s) no longer in this source ({names}), "
            f"but the firm's supplier links also come from {', '.join(shared)}; nothing removed "
            f"— if they are gone, run `hub sync --company {company_id} --accept-deletions` "
            "once"))  # fmt: skip
    if guard and kept < math.ceil(stored.num_rows * mapping.min_row_ratio):
        return FileReport(source.name, "", BLOCKED, (
            f"deletions blocked: the source holds {kept} of the {stored.num_rows} records loaded "
            f"from it (min_row_ratio {mapping.min_row_ratio}); nothing removed — check the "
            "source (a wrong query, a database restored in part); if they were deleted, run "
            f"`hub sync --company {company_id} --accept-deletions` once"))  # fmt: skip
    t = TABLES[table]
    pk = [c.name for c in t.primary_key.columns]
    now, removed = datetime.now(UTC), []
    with wh.transaction() as conn:
        for start in range(0, gone.num_rows, 500):
            chunk = [tuple(r[k] for k in pk) for r in gone.slice(start, 500).to_pylist()]
            where = sa.tuple_(*[t.c[k] for k in pk]).in_(chunk)
            rows = conn.execute(sa.select(t).where(where)).mappings().all()
            wh.upsert(conn, "source_deletions", pa.Table.from_pylist([{
                "sync_id": sync_id, "table_name": table,
                "record_key": json.dumps({k: r[k] for k in pk}, default=str, ensure_ascii=False),
                "company_id": company_id, "source": source.name, "entity": entity,
                "row": json.dumps(dict(r), default=str, ensure_ascii=False), "deleted_at": now,
            } for r in rows]))  # fmt: skip
            conn.execute(sa.delete(t).where(where))
            removed += rows
    names = ", ".join(" ".join(str(r[k]) for k in keys) for r in removed[:5])
    more = f" and {len(removed) - 5} more" if len(removed) > 5 else ""
    message = (f"{len(removed)} deleted in the source ({names}{more}): removed from {table}, "
               "kept in source_deletions")  # fmt: skip
    return FileReport(source.name, "", OK, message, rows_deleted=len(removed))


def _stored_keys(wh: Warehouse, company_id: str, source: str, entity: str, table: str,
                 keys: list[str]) -> tuple[pa.Table, pa.Table]:  # fmt: skip
    """The keys of the firm's rows of `table` last written by this source and entity (`_row`
    numbers them), and their source keys as text (`k0`, `k1`…; a supplier link may hold
    several codes of the firm: one row each)."""
    t, s = TABLES[table], TABLES["syncs"]
    pk = [c.name for c in t.primary_key.columns]
    extra = ["local_codes"] if table == "supplier_links" else []
    cols = list(dict.fromkeys([*pk, *keys, *extra]))
    mine = sa.select(s.c.sync_id).where(
        s.c.company_id == company_id, s.c.source == source, s.c.entity == entity
    )
    q = sa.select(*[t.c[c] for c in cols]).where(t.c.company_id == company_id,
                                                 t.c.sync_id.in_(mine))  # fmt: skip
    stored = wh.read_arrow(q)
    stored = stored.append_column("_row", pa.array(range(stored.num_rows), pa.int64()))
    if extra:
        # A row is present if any of its codes is: its own and those merged into it.
        own, merged = (pc.coalesce(stored.column(c), "") for c in ("local_code", "local_codes"))
        lists = pc.split_pattern(pc.binary_join_element_wise(own, merged, ","), ",")
        flat = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
        rows = pc.take(stored.column("_row"), pc.list_parent_indices(flat))
        codes = pa.table({"_row": rows, "k0": _norm(pc.list_flatten(flat))})
    else:
        text = {f"k{i}": _norm(stored.column(k)) for i, k in enumerate(keys)}
        codes = pa.table({"_row": stored.column("_row"), **text})
    return stored, codes


def _norm(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Key values as text, as the source and the warehouse both write them: trimmed, and a
    whole number without a '.0'."""
    text = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    return pc.replace_substring_regex(text, r"^(-?\d+)\.0$", r"\1")
