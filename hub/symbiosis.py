"""Industrial symbiosis matchmaking: one firm's waste as another firm's input.

Offers are the rows of `waste_streams`; needs are read from the bills of materials (the
component kinds and fibres a firm uses) with their yearly quantity from the firm's purchase
order lines where the data gives it. The compatibility table, the radius and the score weights
are data (methodology/symbiosis.yaml). Distances are haversine between the firms' coordinates,
else their municipalities' seats; a firm that cannot be placed is left out, with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from hub.canonical import TABLES
from hub.harmonization import places
from hub.ratings.indicators import _where
from hub.ratings.methodology import MethodologyError
from hub.warehouse import Warehouse
from hub.yaml_lines import load_yaml

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "methodology" / "symbiosis.yaml"


@dataclass(frozen=True)
class Use:
    use: str
    ewc: tuple[str, ...]
    words: tuple[str, ...]
    compatibility: float
    kinds: tuple[str, ...]
    fibres: tuple[str, ...]
    demand_words: tuple[str, ...]


@dataclass(frozen=True)
class SymbiosisRules:
    radius_km: float
    full_quantity_kg: float
    weights: dict[str, float]
    uses: tuple[Use, ...]


def load_rules(path: str | Path | None = None) -> SymbiosisRules:
    """Read methodology/symbiosis.yaml; errors name the file, line and field."""
    path = Path(path or DEFAULT_PATH)
    try:
        data, where = load_yaml(path)
    except ValueError as exc:
        raise MethodologyError([str(exc)]) from None
    problems: list[str] = []

    def fail(loc: tuple, msg: str) -> None:
        problems.append(f"{path}:{where.line(loc)}: {'.'.join(map(str, loc))}: {msg}")

    data = data if isinstance(data, dict) else {}
    for key in ("radius_km", "full_quantity_kg"):
        if not isinstance(data.get(key), int | float) or data[key] <= 0:
            fail((key,), "must be a number greater than 0")
    weights = data.get("weights") or {}
    if set(weights) != {"compatibility", "quantity", "distance"}:
        fail(("weights",), "must give compatibility, quantity and distance")
    elif abs(sum(weights.values()) - 1) > 1e-6:
        fail(("weights",), f"must sum to 1, they sum to {sum(weights.values()):g}")
    uses = []
    for i, u in enumerate(data.get("uses") or []):
        waste, demand = u.get("waste") or {}, u.get("demand") or {}
        c = u.get("compatibility")
        if not isinstance(c, int | float) or not 0 < c <= 1:
            fail(("uses", i, "compatibility"), f"must be a number in (0, 1] (got {c!r})")
            c = 0
        if not waste.get("ewc"):
            fail(("uses", i, "waste", "ewc"), "must list the EWC codes of the waste")
        if not demand.get("component_kinds"):
            fail(("uses", i, "demand", "component_kinds"), "must list component kinds")
        uses.append(Use(str(u.get("use") or f"use {i}"), tuple(waste.get("ewc") or ()),
                        tuple(w.lower() for w in waste.get("words") or ()), float(c),
                        tuple(demand.get("component_kinds") or ()),
                        tuple(f.lower() for f in demand.get("fibres") or ()),
                        tuple(w.lower() for w in demand.get("words") or ())))  # fmt: skip
    if not uses:
        fail(("uses",), "must list at least one use")
    if problems:
        raise MethodologyError(problems)
    return SymbiosisRules(float(data["radius_km"]), float(data["full_quantity_kg"]),
                          {k: float(v) for k, v in weights.items()}, tuple(uses))  # fmt: skip


def _rows(wh: Warehouse, table: str, *cols: str) -> list[dict[str, Any]]:
    t = TABLES[table]
    return wh.read_arrow(sa.select(*(t.c[c] for c in cols))).to_pylist()


def _needs(line: dict[str, Any], use: Use) -> bool:
    if line["component_kind"] not in use.kinds:
        return False
    if use.fibres:
        fibres = {k.lower() for k in json.loads(line["composition"] or "{}")}
        if not fibres & set(use.fibres):
            return False
    if use.demand_words:
        name = (line["component_name"] or "").lower()
        return any(w in name for w in use.demand_words)
    return True


def _demand_kg(lines: list[dict[str, Any]], purchases: dict[str, float]) -> float | None:
    """Kg a year of the components, from purchase lines; None when the data cannot tell."""
    total, known = 0.0, False
    for code in sorted({ln["component_code"] for ln in lines}):
        qty = purchases.get(code)
        ratio = next((ln["quantity_kg"] / ln["quantity"] for ln in lines
                      if ln["component_code"] == code and ln["quantity_kg"]
                      and ln["quantity"]), None)  # fmt: skip
        if qty is not None and ratio is not None:
            total, known = total + qty * ratio, True
    return round(total, 1) if known else None


def match(wh: Warehouse, as_of: date, rules: SymbiosisRules | None = None
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Matches (rows of `symbiosis_matches`) and unmatched offers with the reason."""
    rules = rules or load_rules()
    companies = {
        c["company_id"]: c
        for c in _rows(
            wh, "companies", "company_id", "municipality", "province", "country", "lat", "lon"
        )
    }
    where = {k: _where(c) for k, c in companies.items()}
    basis = {k: "coordinates" if c["lat"] is not None and c["lon"] is not None
             else "municipality seat" for k, c in companies.items()}  # fmt: skip
    bom = _rows(
        wh,
        "bom_lines",
        "company_id",
        "component_code",
        "component_name",
        "component_kind",
        "composition",
        "quantity",
        "quantity_kg",
    )
    bom_of: dict[str, list[dict[str, Any]]] = {}
    for b in bom:
        bom_of.setdefault(b["company_id"], []).append(b)
    ol = TABLES["order_lines"]
    q = (
        sa.select(ol.c.company_id, ol.c.sku, sa.func.sum(ol.c.quantity).label("quantity"))
        .where(ol.c.direction == "purchase")
        .group_by(ol.c.company_id, ol.c.sku)
    )
    purchases: dict[str, dict[str, float]] = {}
    for r in wh.read_arrow(q).to_pylist():
        purchases.setdefault(r["company_id"], {})[r["sku"]] = r["quantity"]
    offers = sorted(_rows(wh, "waste_streams", "company_id", "material", "ewc_code",
                          "quantity_kg_year", "destination"),
                    key=lambda r: (r["company_id"], r["material"], r["ewc_code"]))  # fmt: skip
    best: dict[tuple[str, str, str], dict[str, Any]] = {}
    unmatched = []
    for o in offers:
        uses = [
            u
            for u in rules.uses
            if o["ewc_code"] in u.ewc
            and (not u.words or any(w in o["material"].lower() for w in u.words))
        ]
        reason = "no use of this waste in the compatibility table" if not uses else None
        if where.get(o["company_id"]) is None:
            reason = "the offering firm has no location (coordinates or municipality)"
        found = False
        for u in uses if reason is None else ():
            for demand in sorted(companies):
                if demand == o["company_id"] or where.get(demand) is None:
                    continue
                lines = [b for b in bom_of.get(demand, ()) if _needs(b, u)]
                if not lines:
                    continue
                d = places.distance_km(where[o["company_id"]], where[demand])
                if d is None or d > rules.radius_km:
                    continue
                need = _demand_kg(lines, purchases.get(demand, {}))
                moved = min(o["quantity_kg_year"], need) if need is not None else (
                    o["quantity_kg_year"])  # fmt: skip
                w = rules.weights
                score = 100 * (u.compatibility * w["compatibility"]
                               + min(1.0, moved / rules.full_quantity_kg) * w["quantity"]
                               + (1 - d / rules.radius_km) * w["distance"])  # fmt: skip
                row = {
                    "offer_company_id": o["company_id"], "demand_company_id": demand,
                    "material": o["material"], "ewc_code": o["ewc_code"], "use": u.use,
                    "distance_km": round(d, 1), "quantity_kg_year": round(moved, 1),
                    "demand_kg_year": need, "compatibility": u.compatibility,
                    "score": round(score, 1),
                    "landfill_kg_avoided": round(moved, 1) if o["destination"] == "landfill"
                    else 0.0,
                    "distance_basis": f"{basis[o['company_id']]} → {basis[demand]}",
                    "evidence": json.dumps({
                        "offer": {k: o[k] for k in ("material", "ewc_code", "quantity_kg_year",
                                                    "destination")},
                        "demand_components": sorted({b["component_code"] for b in lines}),
                        "demand_quantity": "from purchase order lines" if need is not None
                        else "not in the data: up to the offered quantity",
                    }, ensure_ascii=False),
                    "as_of": as_of,
                }  # fmt: skip
                key = (o["company_id"], demand, o["material"])
                if key not in best or row["score"] > best[key]["score"]:
                    best[key] = row
                found = True
        if not found:
            unmatched.append({**o, "reason": reason or f"no firm needing it within "
                              f"{rules.radius_km:g} km"})  # fmt: skip
    matches = sorted(
        best.values(),
        key=lambda r: (-r["score"], r["offer_company_id"], r["demand_company_id"], r["material"]),
    )
    return matches, unmatched


def refresh_matches(wh: Warehouse, as_of: date, rules: SymbiosisRules | None = None
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Replace `symbiosis_matches` with today's matches (they describe the current state)."""
    matches, unmatched = match(wh, as_of, rules)
    with wh.transaction() as conn:
        conn.execute(sa.delete(TABLES["symbiosis_matches"]))
        if matches:
            wh.upsert(conn, "symbiosis_matches", pa.Table.from_pylist(matches))
    return matches, unmatched
