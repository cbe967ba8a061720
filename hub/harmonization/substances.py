"""Declared substances of BOM lines, checked at staging: CAS numbers and w/w concentrations.

A BOM line may declare the substances of its component in `substances`, as the passports read
them (`hub.passports.substances.parse_substances`: `117-81-7:0,25%; 80-05-7:0.01%`, or JSON).
Staging checks each declaration with that same reader, plus the concentration's range, so that
a declaration the passports could not read never reaches the warehouse: the row goes to
quarantine under `bom_lines.substances_valid` with the reason (a CAS number with a wrong check
digit, a name written instead of a CAS number, a concentration that is not a number or not
between 0 and 100 %). Whether a substance is of very high concern is the passports' business.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from hub.harmonization.checks import distinct_errors
from hub.passports.substances import SubstanceError, parse_substances

RULE = "bom_lines.substances_valid"


def error(text: str | None) -> str | None:
    """Why a declaration cannot be read, or None when it can (an empty one is no declaration)."""
    try:
        declared = parse_substances(text)
    except SubstanceError as exc:
        return f"substances '{text}': {exc} (write CAS:concentration%, separated by ';')"
    except (TypeError, ValueError, AttributeError) as exc:  # JSON of another shape
        return f"substances '{text}': not a list of {{cas, concentration}} ({exc})"
    for d in declared:
        c = d["concentration"]
        if c is not None and not (0 <= c <= 1):
            return (f"substances '{text}': the concentration of {d['cas']} is not between 0 and "
                    "100 % w/w")  # fmt: skip
    return None


def check_column(values: pa.Array) -> tuple[np.ndarray, list[str | None]]:
    """Rows whose declaration cannot be read, and each row's reason (per distinct value)."""
    return distinct_errors(values, error)
