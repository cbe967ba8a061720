"""The registry of indicator functions: the methodology file picks them by name, with parameters.

Each function reads one firm's rows (`FirmData`) and returns a `Measure`: a value (a share
0–1 or a quantity), the rows it was computed from (evidence), and a note. When the firm's data
cannot give the value, the value is None and the note says what is missing: a missing value
is never replaced by a guess.

Adding an indicator: write a function `(firm, as_of, **params) -> Measure` and register it
with `@indicator(name, params={...}, unit=...)`; the methodology loader then checks the
parameters a methodology file gives it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hub.harmonization import places
from hub.ratings.data import FirmData

MAX_EVIDENCE_ROWS = 25  # rows kept per indicator; `rows_total` says how many there were


@dataclass
class Measure:
    value: float | None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    rows_total: int = 0

    def __post_init__(self) -> None:
        self.rows_total = self.rows_total or len(self.evidence)
        self.evidence = self.evidence[:MAX_EVIDENCE_ROWS]


@dataclass(frozen=True)
class Param:
    type: type | tuple[type, ...]
    required: bool = False
    default: Any = None
    doc: str = ""


@dataclass(frozen=True)
class IndicatorFunction:
    name: str
    fn: Callable[..., Measure]
    params: dict[str, Param]
    unit: str
    doc: str

    def __call__(self, firm: FirmData, as_of: date, params: dict[str, Any]) -> Measure:
        given = {k: params.get(k, p.default) for k, p in self.params.items()}
        return self.fn(firm, as_of, **given)


REGISTRY: dict[str, IndicatorFunction] = {}


def indicator(name: str, *, params: dict[str, Param] | None = None, unit: str = "share"
              ) -> Callable[[Callable[..., Measure]], Callable[..., Measure]]:  # fmt: skip
    def register(fn: Callable[..., Measure]) -> Callable[..., Measure]:
        if name in REGISTRY:
            raise ValueError(f"indicator function {name!r} registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        REGISTRY[name] = IndicatorFunction(name, fn, params or {}, unit, doc)
        return fn

    return register


def _share(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def _valid_on(cert: dict[str, Any], as_of: date) -> bool:
    start, end = cert.get("valid_from"), cert.get("valid_to")
    return (start is None or start <= as_of) and (end is None or as_of <= end)


def _schemes(text: str | None) -> set[str]:
    return {s.strip().upper() for s in (text or "").replace(";", ",").split(",") if s.strip()}


# --- short supply chain ------------------------------------------------------------------------

_KM = (50, 100, 300)


@indicator("chain_share_within", unit="share", params={
    "km": Param(int, True, doc="radius: 50, 100 or 300 km"),
    "basis": Param(str, False, "steps", doc="steps (chain steps) or mass (material mass)"),
})  # fmt: skip
def chain_share_within(firm: FirmData, as_of: date, km: int, basis: str) -> Measure:
    """Share of the firm's supply chain within `km` of the firm."""
    if km not in _KM or basis not in ("steps", "mass"):
        raise ValueError(f"chain_share_within: km must be one of {_KM}, basis steps or mass")
    col = f"share_{basis}_{km}km"
    rows = [r for r in firm.table("product_chain_indicators") if r.get(col) is not None]
    if rows:
        value = sum(r[col] for r in rows) / len(rows)
        ev = [{"sku": r["sku"], col: round(r[col], 3)} for r in rows]
        return Measure(value, ev, f"mean over {len(rows)} articles (product_chain_indicators)")
    return _suppliers_within(firm, km)


def _suppliers_within(firm: FirmData, km: int) -> Measure:
    """Fallback while the supply-chain tables are not built: the firm's located suppliers."""
    home = _where(firm.company)
    if home is None:
        return Measure(None, note="the firm has no location (lat/lon or municipality)")
    ev, near = [], 0
    for link in sorted(firm.table("supplier_links"), key=lambda r: r["local_code"] or ""):
        s = firm.suppliers.get(link["supplier_id"], {})
        d = places.distance_km(home, _latlon(s))
        if d is None:
            continue
        near += d <= km
        ev.append({"supplier": link["local_code"], "process": link["process"],
                   "municipality": s.get("municipality"), "distance_km": round(d, 1)})  # fmt: skip
    if not ev:
        return Measure(None, note="no supply-chain indicators and no located supplier")
    return Measure(near / len(ev), ev, f"{near} of {len(ev)} located suppliers within {km} km "
                   "(supplier list; product_chain_indicators not available)")  # fmt: skip


def _latlon(row: dict[str, Any]) -> tuple[float, float] | None:
    lat, lon = row.get("lat"), row.get("lon")
    return (lat, lon) if lat is not None and lon is not None else None


def _where(company: dict[str, Any]) -> tuple[float, float] | None:
    """A firm's coordinates, else its municipality's seat (the gazetteer)."""
    if (ll := _latlon(company)) is not None:
        return ll
    p = places.locate(company.get("municipality"), company.get("province"),
                      company.get("country") or "IT")  # fmt: skip
    return (p.lat, p.lon) if p else None


# --- circularity --------------------------------------------------------------------------------


@indicator("recycled_content_share", unit="share")
def recycled_content_share(firm: FirmData, as_of: date) -> Measure:
    """Recycled share of the mass of the firm's bills of materials."""
    lines = [r for r in firm.table("bom_lines")
             if r.get("quantity_kg") and r.get("recycled_share") is not None]  # fmt: skip
    if not lines:
        return Measure(None, note="no bill-of-materials line with a mass and a recycled share")
    kg = sum(r["quantity_kg"] for r in lines)
    rec = sum(r["quantity_kg"] * r["recycled_share"] for r in lines)
    lines.sort(key=lambda r: (-r["quantity_kg"] * r["recycled_share"], r["sku"], r["line_no"]))
    ev = [{"sku": r["sku"], "line": r["line_no"], "component": r["component_code"],
           "kg_per_piece": round(r["quantity_kg"], 4), "recycled_share": r["recycled_share"]}
          for r in lines]  # fmt: skip
    return Measure(rec / kg, ev, f"{rec:.2f} of {kg:.2f} kg per piece summed over "
                   f"{len(lines)} BOM lines is recycled")  # fmt: skip


@indicator("waste_recovered_share", unit="share")
def waste_recovered_share(firm: FirmData, as_of: date) -> Measure:
    """Share of the firm's yearly waste (kg) sent to recovery rather than landfill."""
    rows = [r for r in firm.table("waste_streams") if r.get("quantity_kg_year")]
    total = sum(r["quantity_kg_year"] for r in rows)
    if not total:
        return Measure(None, note="no waste register delivered (waste_streams)")
    rec = sum(r["quantity_kg_year"] for r in rows if r["destination"] == "recovery")
    ev = [{"material": r["material"], "ewc_code": r["ewc_code"],
           "kg_year": r["quantity_kg_year"], "destination": r["destination"]}
          for r in sorted(rows, key=lambda r: -r["quantity_kg_year"])]  # fmt: skip
    return Measure(rec / total, ev, f"{rec:,.0f} of {total:,.0f} kg a year recovered")


# --- footprint ----------------------------------------------------------------------------------


def _find(doc: Any, key: str) -> Any:
    """The first value under `key` anywhere in a JSON document (depth first)."""
    if isinstance(doc, dict):
        if key in doc:
            return doc[key]
        for v in doc.values():
            if (found := _find(v, key)) is not None:
                return found
    elif isinstance(doc, list):
        for v in doc:
            if (found := _find(v, key)) is not None:
                return found
    return None


def _footprints(firm: FirmData, key: str) -> list[tuple[str, float]]:
    out = []
    for p in firm.table("passports"):
        block = _find(p.get("public"), key)
        total = block.get("total") if isinstance(block, dict) else block
        if isinstance(total, int | float):
            out.append((p["sku"], float(total)))
    return out


@indicator("footprint_declared_share", unit="share", params={
    "key": Param(str, False, "environmentalCost", doc="passport field with the footprint"),
})  # fmt: skip
def footprint_declared_share(firm: FirmData, as_of: date, key: str) -> Measure:
    """Share of the firm's articles whose passport declares a computed footprint."""
    skus = {p["sku"] for p in firm.table("products")}
    if not firm.table("passports") or not skus:
        return Measure(None, note="no product passport yet (issue 8): footprint unknown")
    found = dict(_footprints(firm, key))
    ev = [{"sku": s, "footprint": found.get(s)} for s in sorted(skus)]
    return Measure(len(found.keys() & skus) / len(skus), ev,
                   f"{len(found.keys() & skus)} of {len(skus)} articles")  # fmt: skip


@indicator("footprint_per_kg", unit="Pts/kg", params={
    "key": Param(str, False, "environmentalCost", doc="passport field with the footprint"),
})  # fmt: skip
def footprint_per_kg(firm: FirmData, as_of: date, key: str) -> Measure:
    """Mean footprint (Ecobalyse points) per kg of article, over the articles that declare it."""
    mass = {p["sku"]: p["mass_g"] for p in firm.table("products") if p.get("mass_g")}
    per_kg = [(s, v / (mass[s] / 1000)) for s, v in _footprints(firm, key) if s in mass]
    if not per_kg:
        return Measure(None, note="no passport with a footprint and a mass (issue 8)")
    ev = [{"sku": s, "pts_per_kg": round(v, 1)} for s, v in per_kg]
    return Measure(sum(v for _, v in per_kg) / len(per_kg), ev, f"{len(per_kg)} articles")


# --- chemicals and certificates -----------------------------------------------------------------


@indicator("certified_component_share", unit="share", params={
    "schemes": Param(list, True, doc="schemes that count, e.g. [OEKO-TEX, bluesign, GOTS]"),
})  # fmt: skip
def certified_component_share(firm: FirmData, as_of: date, schemes: list[str]) -> Measure:
    """Share of the mass of BOM components certified by one of `schemes`."""
    wanted = {s.upper() for s in schemes}
    lines = [r for r in firm.table("bom_lines") if r.get("quantity_kg")]
    if not lines:
        return Measure(None, note="no bill-of-materials line with a mass")
    kg = sum(r["quantity_kg"] for r in lines)
    ok = [r for r in lines if _schemes(r.get("certifications")) & wanted]
    ev = [
        {
            "sku": r["sku"],
            "line": r["line_no"],
            "component": r["component_code"],
            "certifications": r["certifications"],
            "kg_per_piece": round(r["quantity_kg"], 4),
        }
        for r in sorted(ok, key=lambda r: (-r["quantity_kg"], r["sku"], r["line_no"]))
    ]
    certified = sum(r["quantity_kg"] for r in ok)
    return Measure(certified / kg, ev, f"{certified:.2f} of {kg:.2f} kg per piece summed over "
                   f"{len(lines)} BOM lines certified {', '.join(schemes)}")  # fmt: skip


def _certificates(firm: FirmData) -> list[dict[str, Any]]:
    return sorted(firm.table("certifications"), key=lambda c: (c["scheme"], c["number"]))


@indicator("holds_certificate", unit="yes/no", params={
    "schemes": Param(list, True, doc="any of these schemes, valid on the rating date"),
})  # fmt: skip
def holds_certificate(firm: FirmData, as_of: date, schemes: list[str]) -> Measure:
    """1 if the firm holds a certificate of one of `schemes` valid on the rating date, else 0."""
    certs = _certificates(firm)
    if not certs:
        return Measure(None, note="no list of certificates delivered (certifications)")
    wanted = {s.upper() for s in schemes}
    mine = [c for c in certs if c["scheme"].upper() in wanted]
    ev = [{"scheme": c["scheme"], "number": c["number"], "valid_from": str(c["valid_from"]),
           "valid_to": str(c["valid_to"]),
           "valid": "yes" if _valid_on(c, as_of) else f"no (expired or not yet valid on {as_of})"}
          for c in mine]  # fmt: skip
    valid = any(_valid_on(c, as_of) for c in mine)
    note = (
        "valid certificate"
        if valid
        else ("certificate not valid on the rating date" if mine else f"no {' / '.join(schemes)}")
    )
    return Measure(1.0 if valid else 0.0, ev, note)


@indicator("audit_grade", unit="share", params={
    "scheme": Param(str, True, doc="the audit scheme, e.g. amfori BSCI"),
    "points": Param(dict, True, doc="grade → value 0–1, e.g. {A: 1, B: 0.8, …}"),
})  # fmt: skip
def audit_grade(firm: FirmData, as_of: date, scheme: str, points: dict[str, float]) -> Measure:
    """The value of the firm's latest valid audit grade of `scheme` (0 without a valid audit)."""
    certs = _certificates(firm)
    if not certs:
        return Measure(None, note="no list of certificates delivered (certifications)")
    audits = [c for c in certs if c["scheme"].upper() == scheme.upper()]
    valid = sorted((c for c in audits if _valid_on(c, as_of) and c.get("grade") in points),
                   key=lambda c: c["valid_from"])  # fmt: skip
    ev = [{"scheme": c["scheme"], "number": c["number"], "grade": c.get("grade"),
           "valid_to": str(c["valid_to"]), "valid": "yes" if _valid_on(c, as_of) else "no"}
          for c in audits]  # fmt: skip
    if not valid:
        return Measure(0.0, ev, f"no valid graded {scheme} audit")
    grade = valid[-1]["grade"]
    return Measure(float(points[grade]), ev, f"{scheme} grade {grade}")


# --- data completeness --------------------------------------------------------------------------


@indicator("entities_delivered", unit="share", params={
    "tables": Param(list, True, doc="warehouse tables a complete firm delivers"),
})  # fmt: skip
def entities_delivered(firm: FirmData, as_of: date, tables: list[str]) -> Measure:
    """Share of the listed tables in which the firm has rows."""
    ev = [{"table": t, "rows": len(firm.table(t))} for t in tables]
    have = sum(1 for e in ev if e["rows"])
    return Measure(have / len(tables), ev, f"{have} of {len(tables)} tables delivered")


@indicator("rows_accepted_share", unit="share")
def rows_accepted_share(firm: FirmData, as_of: date) -> Measure:
    """Share of the rows read from the firm's files that passed the quality rules."""
    syncs = [s for s in firm.table("syncs") if s.get("rows_read")]
    read = sum(s["rows_read"] for s in syncs)
    if not read:
        return Measure(None, note="no sync of the firm has read rows yet")
    bad = sum(s.get("rows_quarantined") or 0 for s in syncs)
    by_entity: dict[str, list[int]] = {}
    for s in syncs:
        acc = by_entity.setdefault(s["entity"], [0, 0])
        acc[0] += s["rows_read"]
        acc[1] += s.get("rows_quarantined") or 0
    ev = [{"entity": e, "rows_read": r, "rows_quarantined": q}
          for e, (r, q) in sorted(by_entity.items())]  # fmt: skip
    return Measure(1 - bad / read, ev, f"{bad} of {read} rows quarantined")


def describe() -> str:
    """The registry as text, for errors and docs."""
    return json.dumps({k: {"params": list(v.params), "unit": v.unit, "doc": v.doc}
                       for k, v in sorted(REGISTRY.items())}, indent=1)  # fmt: skip
