"""History of harmonized tables: what products, BOM lines and supplier links looked like, when.

`<table>_history` (declared in `hub.canonical`, for every table of `HISTORY_OF`) holds one row
per version of a record: its key, `valid_from`, all its columns, `valid_to` (empty while it is
the current version) and `row_hash` (of the content columns: a re-sync of the same content makes
no new version). `record` compares the current tables with the open versions and, in one
transaction, closes the versions that changed or disappeared and opens the new ones; a version
starts when the load that wrote it ran (`updated_at`). `as_of` reads a table as it was at a
moment: what a passport reissued for a past version, or a rating's evolution, needs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from hub.canonical import HISTORY_OF, TABLES, key_columns
from hub.harmonization.frames import read_frame, to_arrow
from hub.warehouse import Warehouse

NOT_CONTENT = ("sync_id", "updated_at")


def content_columns(table: str) -> list[str]:
    keys = set(key_columns(table))
    return [c.name for c in TABLES[table].columns if c.name not in keys | set(NOT_CONTENT)]


def row_hashes(df: pd.DataFrame, table: str) -> pd.Series:
    cols = content_columns(table)
    text = df[cols].astype(object).where(df[cols].notna(), None).astype(str)
    return pd.util.hash_pandas_object(text, index=False).astype(str)


def record(wh: Warehouse, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Close changed versions and open new ones for every history table; counts per table."""
    now = now or datetime.now(UTC)
    out = {}
    for table in HISTORY_OF:
        out[table] = _record_table(wh, table, now)
    return out


def _record_table(wh: Warehouse, table: str, now: datetime) -> dict[str, int]:
    keys = key_columns(table)
    hist_name = f"{table}_history"
    hist = TABLES[hist_name]
    current = read_frame(wh, sa.select(TABLES[table]))
    open_ = read_frame(
        wh,
        sa.select(*(hist.c[k] for k in keys), hist.c.valid_from, hist.c.row_hash).where(
            hist.c.valid_to.is_(None)
        ),
    )
    current["row_hash"] = row_hashes(current, table) if len(current) else pd.Series(dtype=str)
    both = current[keys + ["row_hash", "updated_at"]].merge(
        open_, on=keys, how="outer", suffixes=("", "_open"), indicator=True
    )
    changed = both[(both["_merge"] == "both") & (both["row_hash"] != both["row_hash_open"])]
    new = both[both["_merge"] == "left_only"]
    gone = both[both["_merge"] == "right_only"]
    starts = pd.concat([changed, new])
    start = starts["updated_at"].where(starts["updated_at"].notna(), now)
    # A version starts after the one it replaces, even if clocks disagree.
    start = start.where(start > starts["valid_from"].fillna(pd.Timestamp.min.tz_localize(UTC)),
                        now)  # fmt: skip
    opened = current.merge(starts[keys].assign(valid_from=start.values), on=keys)
    closes = pd.concat([
        changed[keys + ["valid_from"]].assign(valid_to=start.loc[changed.index].values),
        gone[keys + ["valid_from"]].assign(valid_to=now),
    ])  # fmt: skip
    with wh.transaction() as conn:
        if len(closes):
            wh.upsert(conn, hist_name, to_arrow(hist_name, closes))
        if len(opened):
            opened["valid_to"] = None
            wh.upsert(conn, hist_name, to_arrow(hist_name, opened))
    return {"opened": len(opened), "closed": len(closes)}


def as_of(wh: Warehouse, table: str, moment: datetime, **equals: object) -> pa.Table:
    """The rows of `table` as they were at `moment` (from its history)."""
    hist = TABLES[f"{table}_history"]
    q = sa.select(hist).where(
        hist.c.valid_from <= moment, sa.or_(hist.c.valid_to.is_(None), hist.c.valid_to > moment)
    )
    for col, value in equals.items():
        q = q.where(hist.c[col] == value)
    return wh.read_arrow(q)
