"""Quantities in canonical units, and fabric lengths to mass, with pint.

Staging has already mapped every unit to a canonical one (`hub.canonical.CANONICAL_UNITS`, an
unknown unit goes to quarantine as `unit.unknown`). Here each canonical unit is reduced to its
base (kg, m, m2, l, or a count: pcs, pair, set) by factors pint computes once, and applied to
whole columns with pyarrow: no per-row Python, so order lines scale to millions.

A length or area of fabric has a mass when its weight (g/m²) is known — from the BOM's
`fabric_weight_gsm` column, else read from the component's name ("Jersey 180 g/m²",
"Denim 12 oz") — and, for a length, its width (`fabric_width_cm`). Nothing is assumed: without
them `quantity_kg` stays empty and `quantity_kg_basis` says why.
"""

from __future__ import annotations

import re
from functools import cache

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


def gsm_column(explicit: pa.Array, names: pa.Array) -> pa.Array:
    """Fabric weight per row: the explicit column, else read from the name (per distinct name)."""
    distinct = pc.unique(names)
    parsed = pa.array([gsm_from_text(n) for n in distinct.to_pylist()], pa.float64())
    from_name = pc.take(parsed, pc.index_in(names, value_set=distinct))
    return pc.coalesce(explicit, from_name)


def quantity_kg(
    quantity: pa.Array, unit: pa.Array, gsm: pa.Array, width_cm: pa.Array
) -> tuple[pa.Array, pa.Array]:
    """Mass in kg per row where it can be derived, and how it was (`quantity_kg_basis`)."""
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
    return kg, basis
