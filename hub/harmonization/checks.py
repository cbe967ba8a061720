"""Row checks staging runs on free-text columns, once per distinct value."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def distinct_errors(values: pa.Array, error_of: Callable[[str], str | None]
                    ) -> tuple[np.ndarray, list[str | None]]:  # fmt: skip
    """Rows whose (non-empty) value `error_of` rejects, and each row's reason.

    `error_of` runs once per distinct value: ERP columns repeat few values, so a column of
    millions of rows costs as many calls as it has different texts.
    """
    enc = pc.dictionary_encode(values)
    errors = [None if v is None else error_of(v) for v in enc.dictionary.to_pylist()]
    idx = enc.indices.to_numpy(zero_copy_only=False)
    bad_distinct = np.array([e is not None for e in errors] + [False], dtype=bool)
    idx = np.where(np.isnan(idx.astype(float)), len(errors), idx).astype(int)
    return bad_distinct[idx], [errors[i] if i < len(errors) else None for i in idx]
