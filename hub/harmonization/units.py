"""Quantities in canonical units, and fabric lengths to mass, with pint.

Staging has already mapped every unit to a canonical one (`hub.canonical.CANONICAL_UNITS`, an
unknown unit goes to quarantine as `unit.unknown`). Here each canonical unit is reduced to its
base (kg, m, m2, l, or a count: pcs, pair, set) by factors pint computes once, and applied to
whole columns with pyarrow: no per-row Python, so order lines scale to millions.

A length or area of fabric has a mass when its weight (g/m²) is known — from the BOM's
`fabric_weight_gsm` column, else read from the component's name ("Jersey 180 g/m²",
"Denim 12 oz") — and, for a length, its width (`fabric_width_cm`, else the firm's usual width
given as `constants: {fabric_width_cm: …}`). A weight read from a name and the firm's usual width
are estimates, not the fabric's technical sheet: `quantity_kg_basis` then says
"… — assumed: …" (`ASSUMED`), so that nobody takes the kg for a measured value. Without weight
or width `quantity_kg` stays empty: nothing is invented.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pint
import pyarrow as pa
import pyarrow.compute as pc

# Canonical unit → (pint unit, base unit of its kind).
_PINT = {
    "kg": ("kilogram", "kg"),
    "g": ("gram", "kg"),
    "m": ("meter", "m"),
    "cm": ("centimeter", "m"),
    "m2": ("meter**2", "m2"),
    "l": ("liter", "l"),
    "pcs": (None, "pcs"),
    "pair": (None, "pair"),
    "set": (None, "set"),
}
_BASE_PINT = {"kg": "kilogram", "m": "meter", "m2": "meter**2", "l": "liter"}
_GSM = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:g|gr|grammi)\s*/\s*(?:m²|m2|mq|sqm)|(\d+)\s*gsm", re.I)
_OZ = re.compile(r"(\d+(?:[.,]\d+)?)\s*oz\b", re.I)

BASIS_MASS = "mass unit"
BASIS_FABRIC_LENGTH = "length × width × g/m²"
BASIS_FABRIC_AREA = "area × g/m²"
# How `quantity_kg_basis` marks an estimate, and what was assumed.
ASSUMED = " — assumed: "
GSM_FROM_NAME = "g/m² read from the component's name"
USUAL_WIDTH = "width = the firm's usual width"


@cache
def registry() -> pint.UnitRegistry:
    return pint.UnitRegistry()


@cache
def factors() -> dict[str, tuple[float, str]]:
    """Canonical unit → (factor to its base unit, base unit)."""
    ureg = registry()
    out = {}
    for unit, (name, base) in _PINT.items():
        factor = 1.0 if name is None else ureg.Quantity(1, name).to(_BASE_PINT[base]).magnitude
        out[unit] = (float(factor), base)
    return out


def convert(quantity: float, unit: str, to: str) -> float:
    """One quantity between canonical units (or any unit pint knows)."""
    ureg = registry()
    name = {u: n for u, (n, _) in _PINT.items() if n}.get(unit, unit)
    target = {u: n for u, (n, _) in _PINT.items() if n}.get(to, to)
    return float(ureg.Quantity(quantity, name).to(target).magnitude)


def to_base(quantity: pa.Array | pa.ChunkedArray, unit: pa.Array | pa.ChunkedArray
            ) -> tuple[pa.Array, pa.Array]:  # fmt: skip
    """Quantities and units → quantities in base units (kg, m, m2, l, pcs, pair, set)."""
    f = factors()
    units = list(f)
    idx = pc.index_in(unit, value_set=pa.array(units))
    factor = pc.take(pa.array([f[u][0] for u in units], pa.float64()), idx)
    base = pc.take(pa.array([f[u][1] for u in units], pa.string()), idx)
    return pc.multiply(quantity, factor), base


def gsm_from_text(text: str | None) -> float | None:
    """Fabric weight in g/m² written in a description: '180 g/m²', '300 gr/mq', '12 oz'."""
    if not text:
        return None
    if m := _GSM.search(text):
        return float((m.group(1) or m.group(2)).replace(",", "."))
    if m := _OZ.search(text):  # denim: ounces per square yard
        ureg = registry()
        oz = float(m.group(1).replace(",", "."))
        return round(ureg.Quantity(oz, "ounce / yard**2").to("gram / meter**2").magnitude, 1)
    return None


def gsm_column(explicit: pa.Array, names: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Fabric weight per row: the explicit column, else read from the name (per distinct name).

    Returns:
        The weights, and per row whether the weight was read from the name (an estimate).
    """
    distinct = pc.unique(names)
    parsed = pa.array([gsm_from_text(n) for n in distinct.to_pylist()], pa.float64())
    from_name = pc.take(parsed, pc.index_in(names, value_set=distinct))
    estimated = pc.and_(pc.is_null(explicit), pc.is_valid(from_name))
    return pc.coalesce(explicit, from_name), estimated


def width_column(declared: pa.Array, usual: float | None, mapped: bool = True
                 ) -> tuple[pa.Array, pa.Array]:  # fmt: skip
    """Fabric width per row: the line's own, else the firm's usual width (an estimate).

    Args:
        declared: the staged `fabric_width_cm`.
        usual: the firm's usual width (`constants: {fabric_width_cm: …}`), if it gives one.
        mapped: the source maps a width column; if not, a staged width is the usual one.

    Returns:
        The widths, and per row whether it is the usual width rather than the line's own.
    """
    n = len(declared)
    if usual is None:
        return declared, pa.array(np.zeros(n, dtype=bool))
    if not mapped:  # staging wrote the constant on every row
        return declared, pc.is_valid(declared)
    filled = pc.fill_null(declared, pa.scalar(float(usual), pa.float64()))
    return filled, pc.is_null(declared)


def quantity_kg(
    quantity: pa.Array,
    unit: pa.Array,
    gsm: pa.Array,
    width_cm: pa.Array,
    gsm_estimated: pa.Array | None = None,
    width_estimated: pa.Array | None = None,
) -> tuple[pa.Array, pa.Array]:
    """Mass in kg per row where it can be derived, and how it was (`quantity_kg_basis`).

    `gsm_estimated` / `width_estimated` mark rows whose weight was read from the name or whose
    width is the firm's usual one: their basis ends with `ASSUMED` and what was assumed.
    """
    value, base = to_base(quantity, unit)
    null_f = pa.scalar(None, pa.float64())
    null_s = pa.scalar(None, pa.string())
    is_kg = pc.fill_null(pc.equal(base, "kg"), False)
    is_m = pc.fill_null(pc.equal(base, "m"), False)
    is_m2 = pc.fill_null(pc.equal(base, "m2"), False)
    area_of_length = pc.multiply(value, pc.divide(width_cm, 100.0))
    kg = pc.if_else(
        is_kg, value,
        pc.if_else(is_m, pc.divide(pc.multiply(area_of_length, gsm), 1000.0),
                   pc.if_else(is_m2, pc.divide(pc.multiply(value, gsm), 1000.0), null_f)),
    )  # fmt: skip
    basis = pc.if_else(
        is_kg, pa.scalar(BASIS_MASS),
        pc.if_else(is_m, pa.scalar(BASIS_FABRIC_LENGTH),
                   pc.if_else(is_m2, pa.scalar(BASIS_FABRIC_AREA), null_s)),
    )  # fmt: skip
    basis = pc.if_else(pc.is_valid(kg), basis, null_s)
    false = pa.array(np.zeros(len(value), dtype=bool))
    gsm_est = pc.and_(pc.or_(is_m, is_m2), _flags(gsm_estimated, false))
    width_est = pc.and_(is_m, _flags(width_estimated, false))
    both = pa.scalar(ASSUMED + GSM_FROM_NAME + "; " + USUAL_WIDTH)
    note = pc.if_else(
        pc.and_(gsm_est, width_est), both,
        pc.if_else(gsm_est, pa.scalar(ASSUMED + GSM_FROM_NAME),
                   pc.if_else(width_est, pa.scalar(ASSUMED + USUAL_WIDTH), pa.scalar(""))),
    )  # fmt: skip
    return kg, pc.binary_join_element_wise(basis, note, "")


def _flags(mask: pa.Array | None, default: pa.Array) -> pa.Array:
    return default if mask is None else pc.fill_null(mask, False)
