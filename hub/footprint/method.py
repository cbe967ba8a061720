"""Ecobalyse's textile method: the environmental cost (points) of a garment, by life-cycle stage.

An independent implementation, from Ecobalyse's public documentation and source, of what its
`POST /api/textile/simulator` computes (see docs/footprint.md for the formulas, the constants and
what differs). Stages, in order: material → spinning → fabric → ennobling → making →
distribution → use → end of life. The garment's mass is walked back up the chain through each
step's waste; each step's cost is its processes times the factors of the zone where it happens;
transports join consecutive zones; the total is divided by the durability coefficient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hub.footprint import factors as F
from hub.footprint.factors import Factors, Zone, load_factors
from hub.footprint.query import COMPLEXITIES, Query, parse_query

MAKING_KWH_PER_MINUTE = 0.029
DEFAULT_DEAD_STOCK = 0.15
WEAVING_KWH_PER_PICK_METER = 0.0003145
WEAVING_SHRINKAGE = 1.08
CAR_TRUNK_M3 = 0.2
DISTRIBUTION_ROAD_KM = 500
DURABILITY_MIN, DURABILITY_MAX = 0.67, 1.45
# Spinning: kWh = Nm / 50 × normalisation × kg; waste share of the input.
SPINNING = {
    "ConventionalSpinning": (4.0, 0.12),
    "UnconventionalSpinning": (2.0, 0.12),
    "SyntheticSpinning": (1.5, 0.03),
}
AQUATIC_POLLUTION = {"Best": 0.05, "Average": 0.19, "Worst": 0.37}
MICROFIBRES_PER_KG = {  # points per kg of finished garment (a malus)
    "ArtificialFromOrganic": 330, "NaturalFromAnimal": 390, "NaturalFromVegetal": 250,
    "Synthetic": 820,
}  # fmt: skip
OUT_OF_EUROPE_EOL_PER_KG = 5000  # points per kg, times the probability of export
PRE_TREATMENTS = {
    "ArtificialFromOrganic": [F.BLEACHING],
    "NaturalFromAnimal": [F.BLEACHING, F.DEGREASING],
    "NaturalFromVegetal": [F.BLEACHING, F.DEGREASING],
    "Synthetic": [F.WASHING_SYNTHETIC],
}
UPCYCLABLE = ("material", "spinning", "fabric", "ennobling")
STAGES = ("material", "spinning", "fabric", "ennobling", "making", "distribution", "use",
          "end-of-life")  # fmt: skip


def elm_round(x: float) -> int:
    """Rounds half up, as Ecobalyse (Elm) does; Python's round() rounds half to even."""
    return math.floor(x + 0.5)


@dataclass
class Stage:
    label: str
    zone: Zone
    enabled: bool = True
    input_kg: float = 0.0
    output_kg: float = 0.0
    ecs: float = 0.0
    kwh: float = 0.0
    transport_ecs: float = 0.0
    transport_km: dict[str, float] = field(default_factory=lambda: dict(road=0, sea=0, air=0))


@dataclass
class Footprint:
    """The result: total and stages in points, with what was assumed."""

    total: float
    stages: dict[str, float]
    durability: float
    complements: dict[str, float]
    masses_kg: dict[str, dict[str, float]]
    electricity_kwh: dict[str, float]
    transport_km: dict[str, float]
    assumptions: list[str]

    def to_dict(self) -> dict[str, Any]:
        r = lambda x: round(x, 4)  # noqa: E731
        return {
            "total": r(self.total),
            "unit": "Pts (Ecobalyse environmental cost)",
            "stages": {k: r(v) for k, v in self.stages.items()},
            "durability": self.durability,
            "complements": {k: r(v) for k, v in self.complements.items()},
            "masses_kg": {k: {m: r(v) for m, v in d.items()} for k, d in self.masses_kg.items()},
            "electricity_kwh": {k: r(v) for k, v in self.electricity_kwh.items()},
            "transport_km": {k: r(v) for k, v in self.transport_km.items()},
            "assumptions": self.assumptions,
            "method": "Ecobalyse textile method (public factors, MIT), hub implementation",
        }


class _Run:
    """One computation: the query, the factors, the stages and the assumptions noted so far."""

    def __init__(self, q: Query, f: Factors) -> None:
        self.q, self.f = q, f
        self.product = f.products[q.product]
        self.fabric = q.fabric_process or self.product["fabric"]
        self.assumptions: list[str] = []
        disabled = set(q.disabled_steps) | (set(UPCYCLABLE) if q.upcycled else set())
        self.stages = {s: Stage(s, self._stage_zone(s), enabled=s not in disabled) for s in STAGES}
        for s in self.stages.values():
            if not s.zone.textile:
                self.note(f"{s.label}: {s.zone.code} is not offered by Ecobalyse's textile "
                          "simulator; its own Ecobalyse zone factors are used")  # fmt: skip
            if s.zone.elec_fallback and s.label not in ("use",):
                self.note(f"{s.label}: {s.zone.code}'s electricity mix is missing from the "
                          "public Ecobalyse export; the Europe mix (RER) is used")  # fmt: skip

    def note(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def zone(self, code: str) -> Zone:
        return self.f.zones[code]

    def _stage_zone(self, stage: str) -> Zone:
        if stage in ("distribution", "use", "end-of-life"):
            return self.zone("FR")  # Ecobalyse: always France (the market it was made for)
        if stage == "material":
            main = sorted(self.q.materials, key=lambda m: m.share)[::-1][0]
            return self.zone(self.f.materials[main.id]["defaultCountry"])
        step = {"ennobling": "dyeing"}.get(stage, stage)
        code = self.q.zones.get(step)
        if code is None:
            self.note(f"{stage}: country unknown — Ecobalyse's default zone "
                      f"'{F.UNKNOWN_ZONE}' is used (Indian electricity, worst-case water "
                      "pollution, distances from Asia)")  # fmt: skip
            return self.zone(F.UNKNOWN_ZONE)
        return self.zone(code)

    def elec(self, zone: Zone) -> float:
        return self.f.ecs(zone.elec_process)

    def ennobling_heat(self, zone: Zone) -> float:
        return self.f.ecs(F.HEAT_EUROPE if zone.region == "Europe" else F.HEAT_WORLD)

    def material_origin(self, material_id: str) -> str:
        return self.f.materials[material_id]["origin"]

    def spinning_of(self, m: Any) -> str:
        if m.spinning:
            return m.spinning
        synthetic = self.material_origin(m.id) == "Synthetic"
        return "SyntheticSpinning" if synthetic else "ConventionalSpinning"


def _making_waste(run: _Run) -> float:
    q = run.q
    if q.making_waste is not None:
        return q.making_waste
    if run.fabric == "knitting-fully-fashioned":
        return 0.02
    if run.fabric == "knitting-integral":
        return 0.0
    run.note(f"making: waste {run.product['making']['pcrWaste']:.0%} "
             f"(Ecobalyse's default for {q.product})")  # fmt: skip
    return float(run.product["making"]["pcrWaste"])


def _masses(run: _Run, trims_kg: float) -> None:
    """Walks the garment's mass back up the chain: input = output / (1 − waste share)."""
    q, st = run.q, run.stages
    mass = q.mass
    for s in st.values():
        s.input_kg = s.output_kg = mass
    base = mass
    if st["making"].enabled:
        waste = _making_waste(run)
        dead = DEFAULT_DEAD_STOCK if q.making_dead_stock is None else q.making_dead_stock
        if q.making_dead_stock is None:
            run.note(f"making: dead stock {DEFAULT_DEAD_STOCK:.0%} (Ecobalyse's default)")
        base = mass / (1 - waste) / (1 - dead)
        st["making"].input_kg = base
    for label in UPCYCLABLE:
        st[label].input_kg = st[label].output_kg = base
    fabric_in = base
    if st["fabric"].enabled:
        fabric_in = base / (1 - float(run.f.processes[F.FABRIC[run.fabric]]["waste"]))
        st["fabric"].input_kg = fabric_in
        for label in ("material", "spinning"):
            st[label].input_kg = st[label].output_kg = fabric_in
    spinning_in = fabric_in
    if st["spinning"].enabled:
        spinning_in = sum(
            m.share * fabric_in / (1 - SPINNING[run.spinning_of(m)][1]) for m in q.materials
        )
        st["spinning"].input_kg = spinning_in
    st["material"].output_kg = spinning_in
    st["material"].input_kg = sum(
        m.share * spinning_in
        / (1 - float(run.f.processes[run.f.materials[m.id]["processId"]]["waste"]))
        for m in q.materials
    )  # fmt: skip
    for label in UPCYCLABLE:  # trims join at making: the textile upstream carries none
        st[label].input_kg -= trims_kg
        st[label].output_kg -= trims_kg


def _material_ecs(run: _Run, material_id: str) -> float:
    """Points per kg; recycled fibres by the Circular Footprint Formula."""
    f = run.f
    m = f.materials[material_id]
    if m["recycledFrom"] and m["cff"]:
        a = m["cff"]["manufacturerAllocation"]
        quality = m["cff"]["recycledQualityRatio"]
        virgin = f.ecs(f.materials[m["recycledFrom"]]["processId"])
        return a * f.ecs(m["processId"]) + (1 - a) * quality * virgin
    return f.ecs(m["processId"])


def _material(run: _Run) -> None:
    s = run.stages["material"]
    s.ecs = sum(m.share * s.output_kg * _material_ecs(run, m.id) for m in run.q.materials)


def _spinning(run: _Run) -> None:
    s = run.stages["spinning"]
    nm = run.q.yarn_size or float(run.product["yarnSize"])
    if run.q.yarn_size is None:
        run.note(f"spinning: yarn size {nm:g} Nm (Ecobalyse's default for {run.q.product})")
    for m in run.q.materials:
        kwh = nm / 50 * SPINNING[run.spinning_of(m)][0] * s.output_kg * m.share
        s.kwh += kwh
        s.ecs += kwh * run.elec(s.zone)


def _surface_mass(run: _Run) -> float:
    if run.q.surface_mass is None:
        run.note(f"fabric: surface mass {run.product['surfaceMass']} g/m² "
                 f"(Ecobalyse's default for {run.q.product})")  # fmt: skip
        return float(run.product["surfaceMass"])
    return run.q.surface_mass


def _fabric(run: _Run) -> None:
    s = run.stages["fabric"]
    if run.fabric == "weaving":
        nm = run.q.yarn_size or float(run.product["yarnSize"])
        s.kwh = WEAVING_KWH_PER_PICK_METER * weaving_picks(s.output_kg, _surface_mass(run), nm)
    else:
        s.kwh = s.output_kg * run.f.elec_kwh(F.FABRIC[run.fabric])
    s.ecs = s.kwh * run.elec(s.zone)


def _energy(run: _Run, process: str, qty: float, zone: Zone, heat_ecs: float) -> float:
    """Points of a process's electricity (the zone's mix) and heat, for `qty` units."""
    f = run.f
    run.stages["ennobling"].kwh += qty * f.elec_kwh(process)
    return qty * f.elec_kwh(process) * run.elec(zone) + qty * f.heat_mj(process) * heat_ecs


def _ennobling(run: _Run) -> None:
    s, f, q = run.stages["ennobling"], run.f, run.q
    z, mass = s.zone, s.output_kg
    water = AQUATIC_POLLUTION[z.aquatic_scenario]
    heat = run.ennobling_heat(z)
    dyeing = F.DYEING[q.dyeing_process or "average"]
    ecs = mass * f.ecs(dyeing) + _energy(run, dyeing, mass, z, heat)
    for m in q.materials:
        synthetic = run.material_origin(m.id) == "Synthetic"
        tox = F.DYEING_SYNTHETIC_TOXICITY if synthetic else F.DYEING_CELLULOSIC_TOXICITY
        ecs += mass * f.ecs(tox) * water * m.share
        part = m.share * s.input_kg
        for p in PRE_TREATMENTS[run.material_origin(m.id)]:
            # pre-treatments heat with the zone's own heat mix; their cost is water toxicity
            ecs += _energy(run, p, part, z, f.ecs(z.heat_process)) + part * f.ecs(p) * water
    if q.printing:
        gsm = _surface_mass(run)
        surface = mass * 1000 / gsm * q.printing["ratio"]
        printing, toxicity = F.PRINTING[q.printing["kind"]]
        ecs += surface * f.ecs(printing) + _energy(run, printing, surface, z, heat)
        ecs += surface * f.ecs(toxicity) * water
    ecs += mass * f.ecs(F.FINISHING) + _energy(run, F.FINISHING, mass, z, heat)
    s.ecs = ecs


def _making(run: _Run) -> None:
    s, q, f = run.stages["making"], run.q, run.f
    if q.making_complexity:
        complexity = q.making_complexity
    elif q.upcycled:
        complexity = "high"
    elif q.fabric_process == "knitting-fully-fashioned":
        complexity = "very-low"
    elif q.fabric_process == "knitting-integral":
        complexity = "not-applicable"
    else:
        complexity = run.product["making"]["complexity"]
        run.note(f"making: complexity '{complexity}' (Ecobalyse's default for {q.product})")
    s.kwh = COMPLEXITIES[complexity] * MAKING_KWH_PER_MINUTE
    s.ecs = s.kwh * run.elec(s.zone)
    if q.fading:
        # Ecobalyse fades the making step's output before dead stock: mass / (1 − waste)
        m = q.mass / (1 - _making_waste(run))
        s.kwh += m * f.elec_kwh(F.FADING)
        s.ecs += m * f.ecs(F.FADING) + m * f.elec_kwh(F.FADING) * run.elec(s.zone)
        s.ecs += m * f.heat_mj(F.FADING) * f.ecs(s.zone.heat_process)


def _use(run: _Run, cycles: int) -> None:
    s, f = run.stages["use"], run.f
    use = run.product["use"]
    process = use["nonIroningProcessUuid"]
    s.kwh = (use["ironingElecInMJ"] / 3.6 + f.elec_kwh(process) * s.output_kg) * cycles
    s.ecs = s.kwh * f.ecs(F.ELEC_FRANCE_LOW_VOLTAGE) + s.output_kg * f.ecs(process) * cycles


def _end_of_life(run: _Run) -> None:
    s, f = run.stages["end-of-life"], run.f
    car = run.product["endOfLife"]["volume"] / CAR_TRUNK_M3
    kwh = car * f.elec_kwh(F.PASSENGER_CAR) + s.output_kg * f.elec_kwh(F.END_OF_LIFE)
    heat = car * f.heat_mj(F.PASSENGER_CAR) + s.output_kg * f.heat_mj(F.END_OF_LIFE)
    s.kwh = kwh
    s.ecs = (car * f.ecs(F.PASSENGER_CAR) + kwh * run.elec(s.zone)
             + heat * f.ecs(s.zone.heat_process) + s.output_kg * f.ecs(F.END_OF_LIFE))  # fmt: skip


def _road_share(road: float, sea: float) -> float:
    """Ecobalyse favours road for short trips: the share of road vs. sea."""
    if road == 0:
        return 0.0
    if sea == 0 or road <= 500:
        return 1.0
    if road < 1000:
        return 0.9
    if road < 2000:
        return 0.5
    if road < 3000:
        return 0.25
    return 0.0


def split_transport(road: float, sea: float, air: float, air_share: float) -> dict[str, float]:
    """Kilometres by road, sea and air of one leg: air takes `air_share`, the rest is split
    between road and sea by distance. The trucking to port or airport that the distance data
    list (`byTruck`) is not counted, as in Ecobalyse's own results (verified against them)."""
    rs = _road_share(road, sea)
    return {
        "road": (1 - air_share) * rs * road,
        "sea": (1 - air_share) * (1 - rs) * sea,
        "air": air_share * air,
    }


def weaving_picks(kg: float, gsm: float, nm: float) -> int:
    """Picks × metres woven for `kg` of fabric of `gsm` g/m² from yarn of `nm` Nm."""
    thread_density = gsm * nm / 100 / 2 / WEAVING_SHRINKAGE  # threads per cm
    return elm_round(thread_density * kg * 1000 / gsm * 100)


def _leg(run: _Run, a: str, b: str, kg: float, air_share: float) -> tuple[dict, float]:
    d = run.f.distance(a, b)
    if d is None:
        raise ValueError(f"no distance between zones {a} and {b} in the Ecobalyse data")
    sea, air = d.get("sea") or {}, d.get("air") or {}
    km = split_transport(d.get("road") or 0, sea.get("byBoat") or 0, air.get("byPlane") or 0,
                         air_share)  # fmt: skip
    f = run.f
    ecs = kg / 1000 * (km["road"] * f.ecs(F.ROAD_TRANSPORT) + km["sea"] * f.ecs(F.SEA_TRANSPORT)
                       + km["air"] * f.ecs(F.AIR_TRANSPORT))  # fmt: skip
    return km, ecs


def _add_leg(s: Stage, km: dict, ecs: float) -> None:
    for k in km:
        s.transport_km[k] += km[k]
    s.transport_ecs += ecs


def _air_share(run: _Run, durability: float) -> float:
    q, making = run.q, run.stages["making"]
    if q.air_transport_ratio is not None:
        return q.air_transport_ratio
    if making.zone.region == "Europe" or making.zone.code == "TR":
        return 0.0
    share = 1 / 3 if durability >= 1 else 1.0
    run.note(f"transport: {share:.0%} of the garment flies from making to distribution "
             "(Ecobalyse's default outside Europe and Turkey)")  # fmt: skip
    return share


def _transports(run: _Run, durability: float) -> None:
    """Each enabled step carries its output to the next enabled step (Ecobalyse skips disabled
    steps); making ships the finished garment to France, by air for the air share."""
    st = run.stages
    chain = [st[s] for s in STAGES[:6] if st[s].enabled]  # material … distribution
    for i, s in enumerate(chain):
        if s.label == "distribution":
            ecs = run.q.mass / 1000 * DISTRIBUTION_ROAD_KM * run.f.ecs(F.ROAD_TRANSPORT)
            _add_leg(s, {"road": DISTRIBUTION_ROAD_KM, "sea": 0, "air": 0}, ecs)
            continue
        nxt = chain[i + 1].zone.code if i + 1 < len(chain) else "FR"
        if s.label == "material":
            for m in run.q.materials:
                if m.share == 0:
                    continue
                origin = m.zone or run.f.materials[m.id]["defaultCountry"]
                if m.zone is None:
                    run.note(f"material {run.f.materials[m.id]['name']}: origin not given — "
                             f"Ecobalyse's default {origin}")  # fmt: skip
                _add_leg(s, *_leg(run, origin, nxt, m.share * s.output_kg, 0))
        elif s.label == "making":
            _add_leg(s, *_leg(run, s.zone.code, nxt, run.q.mass, _air_share(run, durability)))
        else:
            _add_leg(s, *_leg(run, s.zone.code, nxt, s.output_kg, 0))


def references_index(refs: int) -> float:
    """1 for a small collection (≤ 1000 references), down to 0 at 16 000 and beyond."""
    if refs <= 1000:
        return 1.0
    if refs <= 7000:
        return 0.5 + (7000 - refs) / 6000 * 0.5
    if refs <= 16000:
        return (16000 - refs) / 9000 * 0.5
    return 0.0


def repair_index(business: str, price: float, repair_cost: float) -> float:
    """How worth repairing the garment is: repair cost against price, and the repair service."""
    ratio = repair_cost / price
    if ratio < 0.33:
        index = 1.0
    elif ratio > 1:
        index = 0.0
    else:
        index = (price - repair_cost) / (repair_cost / 0.33 - repair_cost)
    if business == "large-business-with-services":
        return index * 0.67 + 0.33
    if business == "large-business-without-services":
        return index * 0.67
    return index


def non_physical_durability(business: str, refs: int, price: float, repair_cost: float) -> float:
    """Ecobalyse's non-physical durability, 0.67–1.45, rounded to 2 decimals."""
    index = 0.5 * references_index(refs) + 0.5 * repair_index(business, price, repair_cost)
    return elm_round((DURABILITY_MIN + index * (DURABILITY_MAX - DURABILITY_MIN)) * 100) / 100


def _durability(run: _Run) -> float:
    q, eco = run.q, run.product["economics"]
    business = q.business or eco["business"]
    refs = q.number_of_references or eco["numberOfReferences"]
    price = q.price or eco["price"]
    missing = [n for n, v in (("business", q.business), ("numberOfReferences",
               q.number_of_references), ("price", q.price)) if v is None]  # fmt: skip
    if missing:
        run.note(f"durability: {', '.join(missing)} not given — Ecobalyse's defaults for "
                 f"{q.product}")  # fmt: skip
    non_physical = non_physical_durability(business, refs, price, eco["repairCost"])
    physical = DURABILITY_MAX if q.physical_durability is None else q.physical_durability
    if q.physical_durability is None:
        run.note("durability: physical durability not tested — Ecobalyse's maximum "
                 f"{DURABILITY_MAX} (the non-physical index decides)")  # fmt: skip
    return min(physical, non_physical)


def _trims(run: _Run) -> tuple[float, float]:
    """Mass (kg) and points of the trims (zips, buttons), per Ecobalyse's components."""
    trims = run.q.trims
    if trims is None:
        trims = run.product.get("trims", [])
        if trims:
            run.note(f"trims: Ecobalyse's default trims for {run.q.product}")
    kg = ecs = 0.0
    for t in trims:
        for e in run.f.components[t["id"]]["elements"]:
            kg += t["quantity"] * e["amount"]
            ecs += t["quantity"] * e["amount"] * run.f.ecs(e["material"])
    return kg, ecs


def compute(q: Query, f: Factors | None = None) -> Footprint:
    """Computes a parsed query; see `footprint()` for the JSON entry point."""
    f = f or load_factors()
    run = _Run(q, f)
    trims_kg, trims_ecs = _trims(run)
    _masses(run, trims_kg)
    durability = _durability(run)
    st = run.stages
    for label, step in (("material", _material), ("spinning", _spinning), ("fabric", _fabric),
                        ("ennobling", _ennobling), ("making", _making),
                        ("end-of-life", _end_of_life)):  # fmt: skip
        if st[label].enabled:
            step(run)
    cycles = elm_round(
        elm_round(run.product["use"]["daysOfWear"] / run.product["use"]["wearsPerCycle"])
        * durability
    )
    if st["use"].enabled:
        _use(run, cycles)
    _transports(run, durability)
    enabled = [s for s in st.values() if s.enabled]
    microfibres = sum(
        MICROFIBRES_PER_KG[run.material_origin(m.id)] * m.share * q.mass for m in q.materials
    ) if st["material"].enabled else 0.0  # fmt: skip
    synthetic = sum(m.share for m in q.materials if run.material_origin(m.id) == "Synthetic")
    eol_export = (0.121 if synthetic >= 0.5 else 0.049) * q.mass * OUT_OF_EUROPE_EOL_PER_KG
    if not st["end-of-life"].enabled:
        eol_export = 0.0
    d = durability
    stages = {
        "material": (st["material"].ecs + microfibres) / d if st["material"].enabled else 0.0,
        **{s: st[s].ecs / d if st[s].enabled else 0.0
           for s in ("spinning", "fabric", "ennobling", "making", "use")},
        "end_of_life": (st["end-of-life"].ecs + eol_export) / d
        if st["end-of-life"].enabled else 0.0,
        "transport": sum(s.transport_ecs for s in enabled) / d,
        "trims": trims_ecs / d,
    }  # fmt: skip
    km = {k: sum(s.transport_km[k] for s in enabled) for k in ("road", "sea", "air")}
    run.note(f"use: {cycles} washing cycles (Ecobalyse's {q.product} scenario × durability), "
             "French low-voltage electricity")  # fmt: skip
    return Footprint(
        total=sum(stages.values()),
        stages=stages,
        durability=durability,
        complements={"microfibres": microfibres / d, "out_of_europe_end_of_life": eol_export / d},
        masses_kg={s.label: {"input": s.input_kg, "output": s.output_kg} for s in enabled},
        electricity_kwh={s.label: s.kwh for s in enabled if s.kwh},
        transport_km=km,
        assumptions=run.assumptions,
    )


def footprint(query: dict[str, Any]) -> dict[str, Any]:
    """Environmental cost of a garment, Ecobalyse's textile method, from an Ecobalyse-style query.

    Args:
        query: the JSON body of Ecobalyse's `POST /api/textile/simulator`: `mass` (kg),
            `product` (tshirt, pull, chemise, …), `materials` ([{id, share, country}]), the step
            countries (`countrySpinning`/`geoZoneSpinning`, fabric, dyeing, making), and
            optionally `fabricProcess`, `airTransportRatio`, `makingWaste`, `makingDeadStock`,
            `makingComplexity`, `yarnSize`, `surfaceMass`, `dyeingProcessType`, `printing`,
            `fading`, `trims`, `upcycled`, `physicalDurability`, `business`,
            `numberOfReferences`, `price`, `disabledSteps`.

    Returns:
        `{"total", "unit", "stages", "durability", "complements", "masses_kg",
        "transport_km", "assumptions", "method"}`: points in total and per stage (material
        with its microfibres complement, spinning, fabric, ennobling, making, use, end of
        life with its export complement, transport, trims), each divided by the durability
        coefficient, and every default the method had to use.

    Raises:
        FootprintQueryError: the query is not valid; `.field` names the field.
    """
    f = load_factors()
    return compute(parse_query(query, f), f).to_dict()
