"""The warehouse rows a rating reads, grouped by firm.

A firm's `FirmData` holds only its own rows (and the district suppliers it links to): indicator
functions receive one firm at a time, so that no indicator can read another firm's values.
Tables written by other parts of the hub that may not exist yet (supply-chain indicators,
passports) are read when present and empty otherwise: an indicator then reports missing data.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from hub.canonical import TABLES
from hub.warehouse import Warehouse

# table → columns read (only what the indicators need: order lines are never read whole)
COLUMNS: dict[str, tuple[str, ...]] = {
    "companies": ("company_id", "name", "role", "municipality", "province", "country", "lat",
                  "lon"),
    "bom_lines": ("company_id", "sku", "line_no", "component_code", "component_name",
                  "component_kind", "quantity", "unit", "quantity_kg", "composition",
                  "recycled_share", "certifications"),
    "waste_streams": ("company_id", "material", "ewc_code", "quantity_kg_year", "destination"),
    "certifications": ("holder_id", "scheme", "number", "valid_from", "valid_to", "grade"),
    "supplier_links": ("company_id", "supplier_id", "local_code", "process", "municipality"),
    "suppliers": ("supplier_id", "lat", "lon", "municipality", "country"),
    "product_chain_indicators": ("company_id", "sku", "steps", "steps_located",
                                 "share_steps_50km", "share_steps_100km", "share_steps_300km",
                                 "share_mass_50km", "share_mass_100km", "share_mass_300km"),
    "products": ("company_id", "sku", "mass_g"),
    "passports": ("company_id", "sku", "version", "public_json"),
    "syncs": ("company_id", "entity", "status", "rows_read", "rows_loaded", "rows_quarantined"),
}  # fmt: skip
OWNER = {"certifications": "holder_id"}  # the column naming the firm, where not company_id


@dataclass
class FirmData:
    """One firm's rows of the tables a rating reads."""

    company_id: str
    company: dict[str, Any]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    suppliers: dict[str, dict[str, Any]] = field(default_factory=dict)  # the firm's suppliers

    @property
    def role(self) -> str | None:
        return self.company.get("role")

    def table(self, name: str) -> list[dict[str, Any]]:
        return self.rows.get(name, [])


def _read(wh: Warehouse, name: str) -> list[dict[str, Any]]:
    t = TABLES[name]
    return wh.read_arrow(sa.select(*(t.c[c] for c in COLUMNS[name]))).to_pylist()


def load_district_data(wh: Warehouse) -> dict[str, FirmData]:
    """Every firm's rows, by company_id in id order (the warehouse's tables are created
    by `Warehouse.create_all`: a table no step has written yet is empty, not absent)."""
    companies = sorted(_read(wh, "companies"), key=lambda r: r["company_id"])
    firms = {c["company_id"]: FirmData(c["company_id"], c) for c in companies}
    suppliers = {s["supplier_id"]: s for s in _read(wh, "suppliers")}
    for name in COLUMNS:
        if name in ("companies", "suppliers"):
            continue
        by_firm: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in _read(wh, name):
            by_firm[r[OWNER.get(name, "company_id")]].append(r)
        for company_id, rows in by_firm.items():
            if company_id in firms:
                firms[company_id].rows[name] = rows
    for f in firms.values():
        f.rows["passports"] = _latest_passports(f.table("passports"))
        f.suppliers = {
            link["supplier_id"]: suppliers[link["supplier_id"]]
            for link in f.table("supplier_links")
            if link["supplier_id"] in suppliers
        }
    return firms


def _latest_passports(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["sku"] not in latest or r["version"] > latest[r["sku"]]["version"]:
            latest[r["sku"]] = r
    out = []
    for sku in sorted(latest):
        r = dict(latest[sku])
        try:
            r["public"] = json.loads(r["public_json"] or "{}")
        except ValueError:
            r["public"] = {}
        out.append(r)
    return out
