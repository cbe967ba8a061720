"""pandas frames → Arrow tables typed as a warehouse table (for the district steps)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from hub.canonical import arrow_schema
from hub.warehouse import Warehouse


def to_arrow(table: str, df: pd.DataFrame) -> pa.Table:
    """The frame's columns that belong to `table`, with the table's Arrow types (NaN → null)."""
    fields = [pa.field(f.name, f.type) for f in arrow_schema(table) if f.name in df.columns]
    arrays = [
        pa.array(df[f.name].astype(object).where(df[f.name].notna(), None).tolist(), f.type)
        for f in fields
    ]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def read_frame(wh: Warehouse, query: sa.Executable) -> pd.DataFrame:
    """A query's rows as a frame whose text columns are plain objects (merge-safe when empty)."""
    df = wh.read_arrow(query).to_pandas()
    for col in df.columns:
        if pd.api.types.is_string_dtype(df[col]) or df[col].dtype == "object":
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df
