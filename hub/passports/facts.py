"""What a product's passport is made of, derived from the harmonized tables (plain Python).

`ProductFacts` holds one product's rows (product, firm, BOM, suppliers, work orders, supply-chain
steps, certificates); `derive()` turns them into materials, a value chain, claims, substances,
an Ecobalyse footprint query, and the list of what is missing — never filling a gap with a
made-up value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hub.footprint import FootprintQueryError, footprint
from hub.footprint.factors import load_factors
from hub.passports.composition import (
    CompositionError,
    parse_composition,
    recycled_by_fibre,
    recycled_share,
)
from hub.passports.substances import SubstanceError, check, parse_substances

TEXTILE_KINDS = ("fabric", "yarn")
KIND_PROCESS = {"yarn": "spinning", "fabric": "weaving", "trim": "trims", "label": "labels",
                "packaging": "packaging", "accessory": "trims"}  # fmt: skip
# The firm's garment categories (Italian or English) → Ecobalyse product types.
CATEGORY_PRODUCT = {
    "maglia": "pull", "maglione": "pull", "pullover": "pull", "cardigan": "pull", "felpa": "pull",
    "sweater": "pull", "t-shirt": "tshirt", "tshirt": "tshirt", "polo": "tshirt",
    "camicia": "chemise", "shirt": "chemise", "pantalone": "pantalon", "pantaloni": "pantalon",
    "trousers": "pantalon", "jeans": "jean", "gonna": "jupe", "skirt": "jupe",
    "giacca": "manteau", "cappotto": "manteau", "coat": "manteau", "jacket": "manteau",
    "abito": "jupe", "dress": "jupe", "calze": "chaussettes", "socks": "chaussettes",
    "costume": "maillot-de-bain", "slip": "slip", "boxer": "calecon",
}  # fmt: skip
# Canonical fibres → Ecobalyse materials (virgin, recycled); None: no Ecobalyse material.
FIBRE_MATERIAL = {
    "cotton": ("ei-coton", "coton-rdpc"), "polyester": ("ei-pet", "ei-pet-r"),
    "elastane": ("elasthane", None), "viscose": ("ei-viscose", None),
    "lyocell": ("ei-viscose", None), "modal": ("ei-viscose", None),
    "polyamide": ("ei-pa", None), "wool": ("ei-laine-par-defaut", None),
    "cashmere": ("ei-laine-par-defaut", None), "linen": ("ei-lin", None),
    "acrylic": ("ei-acrylique", None), "hemp": ("ei-chanvre", None),
    "polypropylene": ("ei-pp", None), "jute": ("ei-jute-kenaf", None),
    **{hair: ("ei-laine-par-defaut", None) for hair in (
        "alpaca", "mohair", "angora", "camel", "yak", "llama", "vicuna", "cashgora")},
    **{cellulosic: ("ei-viscose", None) for cellulosic in ("cupro", "acetate", "triacetate")},
}  # fmt: skip
# Fibres without an Ecobalyse material of their own, counted as the nearest one (and said so).
PROXY_FIBRES = {
    "lyocell": "viscose", "modal": "viscose", "cupro": "viscose", "acetate": "viscose",
    "triacetate": "viscose",
    **{hair: "wool (default)" for hair in ("cashmere", "alpaca", "mohair", "angora", "camel",
                                           "yak", "llama", "vicuna", "cashgora")},
}  # fmt: skip
FABRIC_PROCESSES = {"weaving": "weaving", "knitting": "knitting-mix"}


@dataclass
class ProductFacts:
    """One product's rows from the warehouse (plain dicts, as read)."""

    domain: str
    company: dict[str, Any]
    product: dict[str, Any]
    bom: list[dict[str, Any]] = field(default_factory=list)
    suppliers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by supplier_id
    links: list[dict[str, Any]] = field(default_factory=list)  # the firm's supplier_links
    work_orders: list[dict[str, Any]] = field(default_factory=list)
    chain_steps: list[dict[str, Any]] = field(default_factory=list)  # supply_chain_steps
    certificates: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Derived:
    materials: list[dict[str, Any]]
    components: list[dict[str, Any]]
    chain: list[dict[str, Any]]
    claims: list[dict[str, Any]]
    substances: list[dict[str, Any]]
    footprint: dict[str, Any] | None
    footprint_query: dict[str, Any] | None
    recycled_share: float | None
    missing: list[str]
    present: list[str]

    @property
    def coverage(self) -> float:
        total = len(self.present) + len(self.missing)
        return round(len(self.present) / total, 3) if total else 0.0


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v)


def _num(v: Any) -> float | None:
    return None if _blank(v) else float(v)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2
    h += math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class _Gaps:
    def __init__(self) -> None:
        self.present: list[str] = []
        self.missing: list[str] = []

    def check(self, name: str, ok: bool, why: str) -> bool:
        if ok:
            self.present.append(name)
        else:
            self.missing.append(f"{name}: {why}")
        return ok


def _components(facts: ProductFacts, gaps: _Gaps) -> list[dict[str, Any]]:
    out = []
    for line in sorted(facts.bom, key=lambda r: r.get("line_no") or 0):
        kind = line.get("component_kind")
        c: dict[str, Any] = {
            "line_no": line.get("line_no"), "code": line.get("component_code"),
            "name": line.get("component_name"), "kind": kind,
            "quantity": _num(line.get("quantity")), "unit": line.get("unit"),
            "mass_kg": _num(line.get("quantity_kg")), "supplier_id": line.get("supplier_id"),
            "origin_country": None if _blank(line.get("origin_country"))
            else line["origin_country"],
            "recycled_share": _num(line.get("recycled_share")),
            "certifications": [s.strip() for s in str(line.get("certifications") or "")
                               .split(",") if s.strip() and s.strip() != "nan"],
            "composition": None, "composition_error": None,
        }  # fmt: skip
        raw = line.get("composition_detail") or line.get("composition")
        if not _blank(raw):
            try:
                c["composition"] = parse_composition(raw)
            except CompositionError as exc:
                c["composition_error"] = str(exc)
            c["recycled_by_fibre"] = recycled_by_fibre(raw)
            if c["recycled_share"] is None and c["composition"]:
                c["recycled_share"] = recycled_share(raw)
        elif kind in TEXTILE_KINDS:
            c["composition_error"] = "no composition"
        try:
            c["substances"] = check(c["code"] or "?", parse_substances(line.get("substances")))
            c["substances_declared"] = not _blank(line.get("substances"))
        except SubstanceError as exc:
            c["substances"], c["substances_declared"] = [], False
            gaps.missing.append(f"substances of {c['code']}: {exc}")
        out.append(c)
    return out


def _materials(comps: list[dict], gaps: _Gaps) -> tuple[list[dict], float | None]:
    """Fibres of the garment with mass fractions, recycled fractions and origins."""
    textile = [c for c in comps if c["kind"] in TEXTILE_KINDS]
    if not gaps.check(
        "materials.composition",
        bool(textile) and all(c["composition"] for c in textile),
        "; ".join(f"{c['code']}: {c['composition_error']}" for c in textile if not c["composition"])
        or "no fabric or yarn in the BOM",
    ):
        return [{"name": f, "massFraction": None} for c in textile
                for f in (c["composition"] or {})], None  # fmt: skip
    compositions = {tuple(sorted(c["composition"].items())) for c in textile}
    masses = [c["mass_kg"] for c in textile]
    if all(m is not None and m > 0 for m in masses):
        total = sum(masses)
        weights = [m / total for m in masses]
    elif len(compositions) == 1:
        weights = [1 / len(textile)] * len(textile)  # same composition: weights do not matter
    else:
        weights = None
    gaps.check("materials.mass_fractions", weights is not None,
               "components of different compositions without known masses (fabric bought in "
               "metres without weight)")  # fmt: skip
    fibres: dict[str, dict[str, Any]] = {}
    for c, w in zip(textile, weights or [None] * len(textile), strict=True):
        for fibre, share in c["composition"].items():
            f = fibres.setdefault(fibre, {"name": fibre, "massFraction": 0.0, "recycled": 0.0,
                                          "recycled_known": True, "origins": set()})  # fmt: skip
            if w is None:
                f["massFraction"] = None
            elif f["massFraction"] is not None:
                f["massFraction"] += w * share
                by_fibre = c.get("recycled_by_fibre")
                if by_fibre is not None:  # issue 5's detail says which fibre is recycled
                    f["recycled"] += w * share * by_fibre.get(fibre, 0.0)
                elif c["recycled_share"] is None:
                    f["recycled_known"] = False
                else:
                    f["recycled"] += w * share * c["recycled_share"]
            if c["origin_country"]:
                f["origins"].add(c["origin_country"])
    materials = []
    for f in fibres.values():
        m = {"name": f["name"], "massFraction": f["massFraction"], "originCountry": None,
             "recycledMassFraction": None}  # fmt: skip
        if f["massFraction"] and f["recycled_known"]:
            m["recycledMassFraction"] = round(f["recycled"] / f["massFraction"], 4)
            m["massFraction"] = round(f["massFraction"], 4)
        if len(f["origins"]) == 1:
            m["originCountry"] = next(iter(f["origins"]))
        materials.append(m)
    recycled_known = weights is not None and all(c["recycled_share"] is not None for c in textile)
    gaps.check("materials.recycled_share", recycled_known,
               "recycled share not declared for every fabric or yarn")  # fmt: skip
    recycled = None
    if recycled_known:
        recycled = round(sum(w * (c["recycled_share"] or 0)
                             for c, w in zip(textile, weights or [], strict=True)), 4)  # fmt: skip
    gaps.check("materials.origin_country", all(m["originCountry"] for m in materials),
               "origin country of some fabrics or yarns not declared")  # fmt: skip
    return materials, recycled


def _facility(s: dict[str, Any] | None, home: tuple[float, float] | None) -> dict[str, Any]:
    if not s:
        return {}
    out = {"id": s.get("supplier_id"), "name": s.get("name"), "country": s.get("country"),
           "municipality": s.get("municipality"), "distance_km": None}  # fmt: skip
    lat, lon = _num(s.get("lat")), _num(s.get("lon"))
    if home and lat is not None and lon is not None:
        out["distance_km"] = round(haversine_km(home, (lat, lon)), 1)
    return out


def _chain(facts: ProductFacts, comps: list[dict], gaps: _Gaps) -> list[dict[str, Any]]:
    """The value chain: from issue 5's supply_chain_steps when present, else derived."""
    co = facts.company
    home = None
    if _num(co.get("lat")) is not None and _num(co.get("lon")) is not None:
        home = (float(co["lat"]), float(co["lon"]))
    steps: list[dict[str, Any]] = []
    val = lambda r, k: None if _blank(r.get(k)) else r.get(k)  # noqa: E731
    # issue 5's supply chain, when it has resolved the facilities; else derived from the BOM
    if any(not _blank(r.get("facility_name")) for r in facts.chain_steps):
        for r in sorted(facts.chain_steps, key=lambda r: r.get("step_no") or 0):
            steps.append({
                "process": val(r, "process") or val(r, "stage"), "tier": val(r, "tier"),
                "country": val(r, "facility_country"), "distance_km": _num(r.get("distance_km")),
                "facility": {"id": val(r, "facility_id"), "name": val(r, "facility_name"),
                             "country": val(r, "facility_country"),
                             "municipality": val(r, "facility_municipality")},
                "component": val(r, "component_code"), "source": "supply_chain_steps",
            })  # fmt: skip
    else:
        process_of = {(lk.get("supplier_id")): lk.get("process") for lk in facts.links}
        by_code = {lk.get("local_code"): lk for lk in facts.links}
        by_supplier: dict[tuple, dict[str, Any]] = {}
        for c in comps:
            if not c["supplier_id"]:
                continue
            process = process_of.get(c["supplier_id"]) or KIND_PROCESS.get(c["kind"], c["kind"])
            key = (process, c["supplier_id"])
            if key in by_supplier:  # one step per supplier and process, its components listed
                by_supplier[key]["component"] += f", {c['code']}"
                continue
            fac = _facility(facts.suppliers.get(c["supplier_id"]), home)
            by_supplier[key] = {"process": process, "tier": 2, "country": fac.get("country"),
                                "distance_km": fac.get("distance_km"), "facility": fac,
                                "component": c["code"], "source": "bom_lines"}  # fmt: skip
        steps.extend(by_supplier.values())
        seen = set()
        for wo in facts.work_orders:
            link = by_code.get(wo.get("counterparty"))
            if not link or link.get("supplier_id") in seen:
                continue
            seen.add(link.get("supplier_id"))
            fac = _facility(facts.suppliers.get(link.get("supplier_id")), home)
            steps.append(
                {
                    "process": link.get("process") or "subcontracting",
                    "tier": 1,
                    "country": fac.get("country"),
                    "distance_km": fac.get("distance_km"),
                    "facility": fac,
                    "component": None,
                    "source": "work orders",
                }
            )
        if co.get("role") in ("manufacturer", "brand"):
            steps.append({"process": "making" if co.get("role") == "manufacturer" else "design",
                          "tier": 0, "country": co.get("country"), "distance_km": 0.0,
                          "facility": {"id": co.get("company_id"), "name": co.get("name"),
                                       "country": co.get("country"),
                                       "municipality": co.get("municipality")},
                          "component": None, "source": "companies"})  # fmt: skip
    gaps.check("traceability", any(s["country"] for s in steps if s["tier"] != 0),
               "no supplier or subcontractor of the product is known")  # fmt: skip
    return steps


def _claims(facts: ProductFacts, comps: list[dict]) -> list[dict[str, Any]]:
    """Certification claims: schemes named on BOM lines; a claim is backed by the certificates
    of that scheme held by the component's supplier (or by the firm) and valid today."""
    today = date.today()
    held: dict[tuple[str, str], list[dict]] = {}
    for cert in facts.certificates:
        valid_to = cert.get("valid_to")
        if isinstance(valid_to, date) and valid_to < today:
            continue
        key = (str(cert.get("scheme", "")).upper(), str(cert.get("supplier_id")))
        held.setdefault(key, []).append(cert)
    firm = facts.company.get("company_id")
    claims: dict[str, dict[str, Any]] = {}
    for c in comps:
        for scheme in c["certifications"]:
            claim = claims.setdefault(scheme, {"scheme": scheme, "components": [],
                                               "certificates": []})  # fmt: skip
            claim["components"].append(c["code"])
            for holder in (c["supplier_id"], firm):
                for cert in held.get((scheme.upper(), str(holder)), []):
                    if cert not in claim["certificates"]:
                        claim["certificates"].append(cert)
    # The producer's own valid certificates (social audits, management systems) are claims too.
    for (scheme_key, holder), certs in held.items():
        if holder != str(firm):
            continue
        scheme = str(certs[0].get("scheme"))
        if not any(k.upper() == scheme_key for k in claims):
            claims[scheme] = {"scheme": scheme, "components": [], "certificates": certs}
    return list(claims.values())


def _country_of_step(steps: list[dict], processes: tuple[str, ...]) -> str | None:
    countries = {s["country"] for s in steps if s["process"] in processes and s["country"]}
    return countries.pop() if len(countries) == 1 else None


def _trims(comps: list[dict]) -> list[dict[str, Any]]:
    trims = []
    for c in comps:
        name = str(c["name"] or "").lower()
        qty = c["quantity"] if c["unit"] in ("pcs", "set", "pair") else None
        if qty is None:
            continue
        if re.search(r"cerniera|zip|lampo", name):
            trims.append({"id": "0e8ea799-9b06-490c-a925-37564746c454", "quantity": int(qty)})
        elif re.search(r"bottone|bottoni|button", name):
            metal = re.search(r"metal|rivett", name)
            trims.append(
                {
                    "id": "0c903fc7-279b-4375-8cfa-ca8133b8e973"
                    if metal
                    else "d56bb0d5-7999-4b8b-b076-94d79099b56a",
                    "quantity": int(qty),
                }
            )
    return trims


def _footprint_query(facts: ProductFacts, comps: list[dict], materials: list[dict],
                     steps: list[dict], gaps: _Gaps) -> tuple[dict | None, list[str]]:  # fmt: skip
    p = facts.product
    notes: list[str] = []
    category = str(p.get("category") or "").lower().strip()
    product = CATEGORY_PRODUCT.get(category)
    mass = _num(p.get("mass_g"))
    why = []
    if product is None:
        why.append(f"category {category or '(none)'!r} is not a garment type of Ecobalyse")
    if not mass:
        why.append("mass of the garment unknown")
    if not materials or any(m["massFraction"] is None for m in materials):
        why.append("fibre mass fractions unknown")
    unmapped = [m["name"] for m in materials if m["name"] not in FIBRE_MATERIAL]
    if unmapped:
        why.append(f"no Ecobalyse material for {', '.join(unmapped)}")
    if why:
        return None, why
    zones = load_factors().zones
    mats: dict[str, float] = {}
    for m in materials:
        virgin, recycled = FIBRE_MATERIAL[m["name"]]
        r = m["recycledMassFraction"] or 0.0
        if r and recycled is None:
            notes.append(f"recycled {m['name']} has no Ecobalyse material: counted as virgin")
            r = 0.0
        mats[virgin] = mats.get(virgin, 0.0) + m["massFraction"] * (1 - r)
        if r:
            mats[recycled] = mats.get(recycled, 0.0) + m["massFraction"] * r
        if m["name"] in PROXY_FIBRES:
            notes.append(f"{m['name']} counted as Ecobalyse's {PROXY_FIBRES[m['name']]}")
    total = sum(mats.values())
    q: dict[str, Any] = {
        "mass": mass / 1000, "product": product,
        "materials": [{"id": k, "share": round(v / total, 6)} for k, v in mats.items()],
        "trims": _trims(comps),
    }  # fmt: skip
    countries = {
        "countrySpinning": _country_of_step(steps, ("spinning",)),
        "countryFabric": _country_of_step(steps, ("weaving", "knitting")),
        "countryDyeing": _country_of_step(steps, ("dyeing", "finishing", "printing")),
        "countryMaking": p.get("country_of_making")
        or _country_of_step(steps, ("sewing", "making", "cutting")),
    }  # fmt: skip
    for key, code in countries.items():
        if code and code in zones:
            q[key] = code
        elif code:
            notes.append(f"{key}: {code} is not an Ecobalyse zone — its default is used")
    fabric = {s["process"] for s in steps} & set(FABRIC_PROCESSES)
    if len(fabric) == 1:
        q["fabricProcess"] = FABRIC_PROCESSES[fabric.pop()]
    q["materials"][-1]["share"] = round(1 - sum(m["share"] for m in q["materials"][:-1]), 6)
    return q, notes


def derive(facts: ProductFacts) -> Derived:
    """Everything the passport states about the product, and what it cannot state."""
    gaps = _Gaps()
    p = facts.product
    gaps.check("product.gtin", not _blank(p.get("gtin")), "no GTIN/EAN")
    gaps.check("product.category", not _blank(p.get("category")), "no category")
    gaps.check("product.mass", not _blank(p.get("mass_g")), "no mass")
    gaps.check("product.country_of_making", not _blank(p.get("country_of_making")),
               "country of making not declared")  # fmt: skip
    comps = _components(facts, gaps)
    gaps.check("bill_of_materials", bool(comps), "no bill of materials")
    materials, recycled = _materials(comps, gaps) if comps else ([], None)
    if not comps:
        gaps.missing.append("materials.composition: no bill of materials")
    steps = _chain(facts, comps, gaps)
    gaps.check("making_facility", any(s["process"] in ("making", "sewing", "cutting")
                                      for s in steps),
               "who makes the garment is not known (no sewing subcontractor, the firm is not "
               "a manufacturer)")  # fmt: skip
    claims = _claims(facts, comps)
    substances = [s for c in comps for s in c.get("substances", [])]
    gaps.check("substances.declared", any(c.get("substances_declared") for c in comps),
               "no component declares its substances (REACH SVHC)")  # fmt: skip
    query, notes = _footprint_query(facts, comps, materials, steps, gaps)
    result = None
    if query is not None:
        try:
            result = footprint(query)
            result["assumptions"] = notes + result["assumptions"]
        except FootprintQueryError as exc:
            notes = [str(exc)]
    gaps.check("footprint", result is not None, "; ".join(notes) or "not computable")
    return Derived(
        materials=materials, components=comps, chain=steps, claims=claims,
        substances=substances, footprint=result, footprint_query=query,
        recycled_share=recycled, missing=gaps.missing, present=gaps.present,
    )  # fmt: skip
