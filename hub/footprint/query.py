"""An Ecobalyse-style textile query (`POST /api/textile/simulator`), parsed and checked.

Both spellings of the step countries are accepted: `countrySpinning` (API before Nov 2025) and
`geoZoneSpinning` (after the rename), and the same for fabric, dyeing and making. A material's
origin is `country` or `geoZone`. Material ids are Ecobalyse's UUIDs or their aliases
(`ei-coton`). Every error names the field it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.footprint.factors import DYEING, FABRIC, PRINTING, Factors

SHARE_TOLERANCE = 1e-3
STEPS = ("spinning", "fabric", "dyeing", "making")
STAGE_LABELS = ("material", "spinning", "fabric", "ennobling", "making", "distribution", "use",
                "end-of-life")  # fmt: skip
BUSINESSES = ("small-business", "large-business-with-services", "large-business-without-services")
COMPLEXITIES = {  # minutes of making
    "very-low": 5, "low": 15, "medium": 30, "high": 60, "very-high": 120, "not-applicable": 0,
}  # fmt: skip
KNOWN_FIELDS = {
    "mass", "product", "materials", "airTransportRatio", "makingWaste", "makingDeadStock",
    "makingComplexity", "fabricProcess", "yarnSize", "surfaceMass", "dyeingProcessType",
    "printing", "fading", "trims", "upcycled", "physicalDurability", "business",
    "numberOfReferences", "price", "disabledSteps",
    *(f"country{s.title()}" for s in STEPS), *(f"geoZone{s.title()}" for s in STEPS),
}  # fmt: skip


class FootprintQueryError(ValueError):
    """A query the method cannot compute; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class MaterialInput:
    id: str
    share: float
    zone: str | None  # None: the material's default zone
    spinning: str | None = None


@dataclass
class Query:
    mass: float  # kg
    product: str
    materials: list[MaterialInput]
    zones: dict[str, str | None]  # spinning, fabric, dyeing, making → code or None (unknown)
    air_transport_ratio: float | None = None
    making_waste: float | None = None
    making_dead_stock: float | None = None
    making_complexity: str | None = None
    fabric_process: str | None = None
    yarn_size: float | None = None  # Nm
    surface_mass: float | None = None  # g/m²
    dyeing_process: str | None = None
    printing: dict[str, Any] | None = None
    fading: bool = False
    trims: list[dict[str, Any]] | None = None  # None: the product's default trims
    upcycled: bool = False
    physical_durability: float | None = None
    business: str | None = None
    number_of_references: int | None = None
    price: float | None = None
    disabled_steps: list[str] = field(default_factory=list)


def _number(raw: dict, name: str, lo: float | None = None, hi: float | None = None,
            required: bool = False) -> float | None:  # fmt: skip
    value = raw.get(name)
    if value is None:
        if required:
            raise FootprintQueryError(name, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FootprintQueryError(name, f"{value!r} is not a number")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise FootprintQueryError(name, f"{value} must be between {lo} and {hi}")
    return float(value)


def _choice(raw: dict, name: str, choices: Any) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if value not in choices:
        raise FootprintQueryError(name, f"unknown value {value!r}; one of {', '.join(choices)}")
    return value


def _zone(factors: Factors, name: str, value: Any) -> str:
    if not isinstance(value, str) or value not in factors.zones:
        raise FootprintQueryError(
            name, f"unknown country or zone {value!r}; Ecobalyse knows "
            f"{', '.join(sorted(factors.zones))}"
        )  # fmt: skip
    return value


def _materials(factors: Factors, raw: Any) -> list[MaterialInput]:
    if not isinstance(raw, list) or not raw:
        raise FootprintQueryError("materials", "a non-empty list of {id, share} is required")
    out = []
    for i, m in enumerate(raw):
        where = f"materials[{i}]"
        if not isinstance(m, dict):
            raise FootprintQueryError(where, "must be an object {id, share}")
        material = factors.material(str(m.get("id")))
        if material is None:
            raise FootprintQueryError(f"{where}.id", f"unknown material id {m.get('id')!r}")
        share = _number(m, "share", 0, 1, required=True) if "share" in m else None
        if share is None:
            raise FootprintQueryError(f"{where}.share", "is required")
        origin = m.get("geoZone", m.get("country"))
        zone = None if origin is None else _zone(factors, f"{where}.country", origin)
        spinning = m.get("spinning")
        if spinning not in (None, "ConventionalSpinning", "UnconventionalSpinning",
                            "SyntheticSpinning"):  # fmt: skip
            raise FootprintQueryError(f"{where}.spinning", f"unknown spinning {spinning!r}")
        out.append(MaterialInput(material["id"], share, zone, spinning))
    total = sum(m.share for m in out)
    if abs(total - 1) > SHARE_TOLERANCE:
        raise FootprintQueryError("materials", f"shares sum to {total:g}, not 1")
    return out


def parse_query(raw: Any, factors: Factors) -> Query:
    """Checks an Ecobalyse-style query and fills nothing in: defaults are the method's job."""
    if not isinstance(raw, dict):
        raise FootprintQueryError("query", "must be a JSON object")
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise FootprintQueryError(unknown[0], "unknown field")
    mass = _number(raw, "mass", required=True)
    if mass is None or mass <= 0:
        raise FootprintQueryError("mass", f"must be a positive mass in kg, got {mass}")
    product = raw.get("product")
    if product not in factors.products:
        raise FootprintQueryError(
            "product", f"unknown product {product!r}; one of {', '.join(factors.products)}"
        )
    zones: dict[str, str | None] = {}
    for step in STEPS:
        new, old = f"geoZone{step.title()}", f"country{step.title()}"
        name = new if raw.get(new) is not None else old
        zones[step] = None if raw.get(name) is None else _zone(factors, name, raw[name])
    printing = raw.get("printing")
    if printing is not None:
        if not isinstance(printing, dict) or printing.get("kind") not in PRINTING:
            raise FootprintQueryError("printing", f"expected {{kind: {'|'.join(PRINTING)}, ratio}}")
        ratio = _number(printing, "ratio", 0, 1)
        printing = {"kind": printing["kind"], "ratio": 0.2 if ratio is None else ratio}
    trims = raw.get("trims")
    if trims is not None:
        if not isinstance(trims, list):
            raise FootprintQueryError("trims", "must be a list of {id, quantity}")
        for i, t in enumerate(trims):
            if not isinstance(t, dict) or t.get("id") not in factors.components:
                raise FootprintQueryError(f"trims[{i}].id", f"unknown trim {t!r}")
            _number(t, "quantity", 0, required=True)
    disabled = raw.get("disabledSteps") or []
    for s in disabled:
        if s not in STAGE_LABELS:
            raise FootprintQueryError("disabledSteps", f"unknown step {s!r}")
    refs = _number(raw, "numberOfReferences", 1, 999999)
    return Query(
        mass=mass, product=product, materials=_materials(factors, raw.get("materials")),
        zones=zones,
        air_transport_ratio=_number(raw, "airTransportRatio", 0, 1),
        making_waste=_number(raw, "makingWaste", 0, 0.4),
        making_dead_stock=_number(raw, "makingDeadStock", 0, 0.3),
        making_complexity=_choice(raw, "makingComplexity", COMPLEXITIES),
        fabric_process=_choice(raw, "fabricProcess", FABRIC),
        yarn_size=_number(raw, "yarnSize", 9, 200),
        surface_mass=_number(raw, "surfaceMass", 80, 500),
        dyeing_process=_choice(raw, "dyeingProcessType", DYEING),
        printing=printing, fading=bool(raw.get("fading")), trims=trims,
        upcycled=bool(raw.get("upcycled")),
        physical_durability=_number(raw, "physicalDurability", 0.67, 1.45),
        business=_choice(raw, "business", BUSINESSES),
        number_of_references=None if refs is None else int(refs),
        price=_number(raw, "price", 1, 1000),
        disabled_steps=list(disabled),
    )  # fmt: skip
