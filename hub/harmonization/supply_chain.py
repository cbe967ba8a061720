"""Supply chain per product: steps, tiers, facilities, distances, and "filiera corta" indicators.

A product's chain is built from what the warehouse already holds:

- **fibre** (tier 4): one step per fibre of each BOM line's normalized composition. Its
  facility is known only where the data says where the fibre comes from: a BOM line that *is* a
  fibre lot (`component_kind` fibre: a spinning mill's tops or staple fibre) is at its supplier;
  a yarn or fabric bought from a district firm that exports its own BOM with fibre lots (the
  spinning mill) is at that firm's supplier of that fibre, when it names one supplier of it
  (facility_kind `upstream supplier`). Otherwise the step has no facility and its evidence says
  why (the producer is not in the data, or which suppliers it could be): nothing is guessed;
- **materials** (yarn tier 3, fabric and trims tier 2): one step per BOM line with a supplier,
  at the resolved supplier's place, with the line's mass (`quantity_kg`, per piece);
- **processes on the product** (tier 1: cutting/sewing, knitting, dyeing, printing, finishing,
  laundry): one step per subcontractor the firm sent work orders for the product to
  (`order_lines` with direction work_order whose counterparty is in its supplier list);
- **making** (tier 1): the firm itself when it is not a brand, or a brand without a
  cutting/sewing/knitting subcontractor for the product.

Tiers follow Textile Exchange's supply-chain tiers (1 finished product assembly and processing,
2 material production, 3 raw material processing, 4 raw material). Stages and tiers are data
(`data/processes.csv`, `data/component_stages.csv`). Distances are great-circle km from each
facility to the firm owning the product. Indicators: the share of steps, and of material mass,
within 50 / 100 / 300 km — a step without a known place counts as not near.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from hub.canonical import TABLES
from hub.harmonization.frames import read_frame, to_arrow
from hub.harmonization.identifiers import normalize_vat
from hub.harmonization.places import haversine_km
from hub.warehouse import Warehouse

DATA = Path(__file__).resolve().parent / "data"
RADII_KM = (50, 100, 300)
MATERIAL_STAGES = ("yarn", "fabric", "trims")
STEP_COLUMNS = [c.name for c in TABLES["supply_chain_steps"].columns]


@cache
def process_stages() -> pd.DataFrame:
    return pd.read_csv(DATA / "processes.csv", dtype={"process": str}).set_index("process")


@cache
def component_stages() -> pd.DataFrame:
    return pd.read_csv(DATA / "component_stages.csv", keep_default_na=False).set_index(
        "component_kind"
    )


@dataclass(frozen=True)
class ChainSummary:
    products: int
    steps: int
    located: int


def _read(wh: Warehouse, table: str, *cols: str, where: sa.ColumnElement | None = None
          ) -> pd.DataFrame:  # fmt: skip
    t = TABLES[table]
    q = sa.select(*(t.c[c] for c in cols))
    if where is not None:
        q = q.where(where)
    return read_frame(wh, q)


def build(wh: Warehouse, now: datetime | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chain steps and the per-product indicators, from the warehouse's current tables."""
    now = now or datetime.now(UTC)
    companies = _read(wh, "companies", "company_id", "name", "role", "municipality", "country",
                      "lat", "lon", "vat_number")  # fmt: skip
    products = _read(wh, "products", "company_id", "sku")
    bom = _read(wh, "bom_lines", "company_id", "sku", "line_no", "component_code",
                "component_kind", "quantity_kg", "supplier_id", "composition_detail")  # fmt: skip
    links = _read(wh, "supplier_links", "company_id", "supplier_id", "local_code", "local_codes",
                  "process")  # fmt: skip
    suppliers = _read(wh, "suppliers", "supplier_id", "name", "country", "municipality", "lat",
                      "lon")  # fmt: skip
    ol = TABLES["order_lines"]
    work = read_frame(wh, sa.select(ol.c.company_id, ol.c.sku, ol.c.counterparty)
                      .where(ol.c.direction == "work_order").distinct())  # fmt: skip
    steps = pd.concat(
        [
            _material_steps(bom, links, suppliers),
            _fibre_steps(bom, companies, suppliers),
            _work_steps(work, links, suppliers, bom),
        ],
        ignore_index=True,
    )
    # A district (or run) without BOMs or work orders yields frames without columns.
    steps = steps.reindex(columns=list(dict.fromkeys([*steps.columns, *STEP_COLUMNS, "order"])))
    steps = pd.concat([steps, _making_steps(products, companies, steps)], ignore_index=True)
    steps = steps.merge(products[["company_id", "sku"]], on=["company_id", "sku"])  # known only
    steps = _distances(steps, companies)
    steps = steps.sort_values(
        ["company_id", "sku", "order", "tier", "component_code", "facility_id", "material"],
        na_position="last", kind="stable",
    )  # fmt: skip
    steps["step_no"] = steps.groupby(["company_id", "sku"]).cumcount() + 1
    steps["computed_at"] = now
    steps = steps[STEP_COLUMNS].reset_index(drop=True)
    return steps, indicators(steps, products, now)


def _at_facility(steps: pd.DataFrame, suppliers: pd.DataFrame) -> pd.DataFrame:
    """Steps with the name and place of their facility (a supplier id in `facility_id`)."""
    facility = suppliers.rename(columns={"supplier_id": "facility_id", "name": "facility_name",
                                         "country": "facility_country",
                                         "municipality": "facility_municipality"})  # fmt: skip
    return steps.merge(facility, on="facility_id", how="left")


def _material_steps(bom: pd.DataFrame, links: pd.DataFrame, suppliers: pd.DataFrame
                    ) -> pd.DataFrame:  # fmt: skip
    lines = bom[bom["supplier_id"].notna()].merge(
        links[["company_id", "supplier_id", "process"]], on=["company_id", "supplier_id"],
        how="left",
    )  # fmt: skip
    kinds = component_stages()
    kind = lines["component_kind"].where(lines["component_kind"].isin(kinds.index), "other")
    lines = lines.assign(
        stage=kind.map(kinds["stage"]), tier=kind.map(kinds["tier"]),
        order=kind.map(kinds["order"]),
        process=lines["process"].fillna(kind.map(kinds["default_process"])).replace("", None),
    )  # fmt: skip
    lines = lines[lines["stage"].isin(MATERIAL_STAGES)]
    out = _at_facility(lines.rename(columns={"supplier_id": "facility_id",
                                             "quantity_kg": "mass_kg"}), suppliers)  # fmt: skip
    out["facility_kind"] = "supplier"
    out["material"] = out["component_kind"]
    out["source"] = "bom_lines"
    out["evidence"] = "BOM line " + out["line_no"].astype(str) + ": " + out["component_code"]
    return out


def _fibre_steps(bom: pd.DataFrame, companies: pd.DataFrame | None = None,
                 suppliers: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """One step per fibre of each BOM line's composition, at its facility where the data says."""
    sources = fibre_sources(bom, companies)
    names = {} if suppliers is None else dict(zip(suppliers["supplier_id"], suppliers["name"],
                                                  strict=True))  # fmt: skip
    rows = []
    with_comp = bom[bom["composition_detail"].notna()]
    for r in with_comp.itertuples(index=False):  # BOM lines, not order lines: few thousands
        for part in json.loads(r.composition_detail):
            mass = r.quantity_kg * part["share"] / 100.0 if pd.notna(r.quantity_kg) else None
            where = f"BOM line {r.line_no}: {part['share']:g}% {part['fibre']}"
            facility, kind, why = _fibre_facility(r, part["fibre"], sources, names)
            rows.append({
                "company_id": r.company_id, "sku": r.sku, "component_code": r.component_code,
                "material": ("recycled " if part["recycled"] else "") + part["fibre"],
                "mass_kg": mass, "process": "fibre production", "stage": "fibre", "tier": 4,
                "order": 1, "facility_kind": kind, "facility_id": facility,
                "source": "bom_lines.composition", "evidence": f"{where}; {why}",
            })  # fmt: skip
    out = pd.DataFrame(rows)
    if not len(out) or suppliers is None:
        return out
    return _at_facility(out, suppliers)


def fibre_sources(bom: pd.DataFrame, companies: pd.DataFrame | None) -> dict[str, dict]:
    """Where district firms say their fibres come from: their BOM lines that are fibre lots.

    Returns:
        The firm's id as its customers' BOM lines name it (its VAT number, as resolved) →
        {"firm": company_id, "fibres": fibre → sorted supplier ids of its lots of that fibre}.
    """
    if companies is None or "vat_number" not in companies or not len(bom):
        return {}
    lots = bom[(bom["component_kind"] == "fibre") & bom["supplier_id"].notna()
               & bom["composition_detail"].notna()]  # fmt: skip
    by_firm: dict[str, dict[str, set[str]]] = {}
    for r in lots.itertuples(index=False):
        for part in json.loads(r.composition_detail):
            by_firm.setdefault(r.company_id, {}).setdefault(part["fibre"], set()).add(r.supplier_id)
    out = {}
    for c in companies.itertuples(index=False):
        country = c.country if isinstance(c.country, str) else "IT"
        sid = normalize_vat(c.vat_number, country) if isinstance(c.vat_number, str) else None
        if sid and c.company_id in by_firm:
            fibres = {f: sorted(ids) for f, ids in by_firm[c.company_id].items()}
            out[sid] = {"firm": c.company_id, "fibres": fibres}
    return out


def _fibre_facility(line, fibre: str, sources: dict[str, dict], names: dict[str, str]
                    ) -> tuple[str | None, str, str]:  # fmt: skip
    """(facility id, facility kind, why) of a fibre of a BOM line; no facility unless known."""
    supplier = line.supplier_id if pd.notna(line.supplier_id) else None
    if line.component_kind == "fibre" and supplier:
        return supplier, "supplier", "a fibre lot: at its supplier"
    upstream = sources.get(supplier) if supplier else None
    if upstream is None:
        return None, "unknown", "the fibre's producer is not in the data"
    found = upstream["fibres"].get(fibre, [])
    firm = upstream["firm"]
    if len(found) == 1:
        source = names.get(found[0], found[0])
        return (
            found[0],
            "upstream supplier",
            f"{fibre} bought by {firm} (the line's supplier) from {source}",
        )
    if not found:
        return None, "unknown", f"{firm} (the line's supplier) lists no {fibre} lot"
    listed = ", ".join(names.get(f, f) for f in found)
    return None, "unknown", f"{firm} (the line's supplier) buys {fibre} from several: {listed}"


def _work_steps(work: pd.DataFrame, links: pd.DataFrame, suppliers: pd.DataFrame,
                bom: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    codes = links.assign(local_code=links["local_codes"].fillna(links["local_code"]).str.split(","))
    codes = codes.explode("local_code")[["company_id", "local_code", "supplier_id", "process"]]
    sent = work.merge(codes, left_on=["company_id", "counterparty"],
                      right_on=["company_id", "local_code"])  # fmt: skip
    stages = process_stages()
    sent = sent[sent["process"].isin(stages.index)].drop_duplicates(
        ["company_id", "sku", "supplier_id", "process"]
    )
    sent = sent.assign(
        stage=sent["process"].map(stages["stage"]), tier=sent["process"].map(stages["tier"]),
        order=sent["process"].map(stages["order"]),
    )  # fmt: skip
    # Work on a component (yarn sent to the dye house) is a step of every product using it,
    # on the material: tier 2.
    uses = bom[["company_id", "sku", "component_code"]].drop_duplicates()
    on_parts = sent.merge(
        uses,
        left_on=["company_id", "sku"],
        right_on=["company_id", "component_code"],
        suffixes=("_part", ""),
    )
    on_parts = on_parts.drop(columns=["sku_part"]).assign(tier=2, order=on_parts["order"] - 2)
    sent = pd.concat([sent, on_parts], ignore_index=True)
    out = _at_facility(sent.rename(columns={"supplier_id": "facility_id"}), suppliers)
    out["facility_kind"] = "subcontractor"
    out["source"] = "order_lines.work_order"
    out["evidence"] = "work orders to " + out["counterparty"].astype(str)
    if "component_code" in out:
        part = out["component_code"].notna()
        out.loc[part, "evidence"] = (
            out.loc[part, "evidence"] + " for " + out.loc[part, "component_code"].astype(str)
        )
    return out


def _making_steps(products: pd.DataFrame, companies: pd.DataFrame, steps: pd.DataFrame
                  ) -> pd.DataFrame:  # fmt: skip
    made_outside = set()
    if len(steps):
        making = steps[steps["stage"] == "cutting/sewing"]
        made_outside = set(zip(making["company_id"], making["sku"], strict=True))
    own = products.merge(companies, on="company_id", how="left")
    keep = [
        role != "brand" or (c, s) not in made_outside
        for c, s, role in zip(own["company_id"], own["sku"], own["role"], strict=True)
    ]
    own = own[np.asarray(keep, dtype=bool)]  # a plain empty list would select no columns
    return pd.DataFrame({
        "company_id": own["company_id"], "sku": own["sku"], "stage": "cutting/sewing",
        "process": "making", "tier": 1, "order": 6, "facility_kind": "company",
        "facility_id": own["company_id"], "facility_name": own["name"],
        "facility_country": own["country"], "facility_municipality": own["municipality"],
        "lat": own["lat"], "lon": own["lon"], "source": "companies",
        "evidence": "made by the firm itself",
    })  # fmt: skip


def _distances(steps: pd.DataFrame, companies: pd.DataFrame) -> pd.DataFrame:
    home = companies[["company_id", "lat", "lon"]].rename(columns={"lat": "h_lat", "lon": "h_lon"})
    steps = steps.merge(home, on="company_id", how="left")
    d = haversine_km(steps["lat"], steps["lon"], steps["h_lat"], steps["h_lon"])
    steps["distance_km"] = np.round(d, 1)
    for col in STEP_COLUMNS:
        if col not in steps:
            steps[col] = None
    return steps.drop(columns=["h_lat", "h_lon"])


def indicators(steps: pd.DataFrame, products: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Per product: shares of steps and of material mass within 50 / 100 / 300 km."""
    s = steps.copy()
    s["located"] = s["distance_km"].notna()
    material = s["stage"].isin(MATERIAL_STAGES) & s["mass_kg"].notna()
    s["mass"] = s["mass_kg"].where(material, 0.0).astype(float)
    s["mass_located"] = s["mass"].where(s["located"], 0.0)
    agg = {"steps": ("step_no", "count"), "steps_located": ("located", "sum"),
           "max_tier": ("tier", "max"), "mass_kg": ("mass", "sum"),
           "mass_kg_located": ("mass_located", "sum")}  # fmt: skip
    for r in RADII_KM:
        near = s["distance_km"].le(r)
        s[f"near_{r}"] = near
        s[f"mass_near_{r}"] = s["mass"].where(near, 0.0)
        agg[f"n_{r}"] = (f"near_{r}", "sum")
        agg[f"m_{r}"] = (f"mass_near_{r}", "sum")
    g = s.groupby(["company_id", "sku"]).agg(**agg).reset_index()
    countries = (
        s[s["facility_country"].notna()].groupby(["company_id", "sku"])["facility_country"]
        .agg(lambda v: ",".join(sorted(set(v)))).rename("countries").reset_index()
    )  # fmt: skip
    g = g.merge(countries, on=["company_id", "sku"], how="left")
    for r in RADII_KM:
        g[f"share_steps_{r}km"] = (g[f"n_{r}"] / g["steps"]).round(4)
        g[f"share_mass_{r}km"] = (g[f"m_{r}"] / g["mass_kg"].where(g["mass_kg"] > 0)).round(4)
    g["mass_kg"] = g["mass_kg"].where(g["mass_kg"] > 0)
    g["computed_at"] = now
    cols = [c.name for c in TABLES["product_chain_indicators"].columns]
    return g[cols]


def store(wh: Warehouse, steps: pd.DataFrame, ind: pd.DataFrame) -> ChainSummary:
    """Replace the chain tables with the new build, in one transaction."""
    with wh.transaction() as conn:
        conn.execute(sa.delete(TABLES["supply_chain_steps"]))
        conn.execute(sa.delete(TABLES["product_chain_indicators"]))
        for name, df in (("supply_chain_steps", steps), ("product_chain_indicators", ind)):
            if len(df):
                wh.upsert(conn, name, to_arrow(name, df))
    return ChainSummary(len(ind), len(steps), int(steps["distance_km"].notna().sum()))
