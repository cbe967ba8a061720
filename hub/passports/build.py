"""Build a firm's passports from the warehouse: versioned rows in `passports`, JSON files.

For each product of the firm: read its rows, derive the passport, and write a new version to
the `passports` table only when the content changed (old versions are kept). The latest
version is written under the data folder as `passports/<company_id>/<sku>.json` (public view)
and `<sku>.restricted.json` beside it; `coverage.json` there summarizes the firm.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import sqlalchemy as sa

from hub.canonical import TABLES
from hub.passports.facts import ProductFacts, derive
from hub.passports.untp import build_views
from hub.warehouse import Warehouse

PASSPORTS_DIR = "passports"


@dataclass
class FirmPassports:
    """What a refresh did for one firm."""

    company_id: str
    products: int = 0
    new_versions: int = 0
    coverage: float | None = None
    errors: dict[str, str] = field(default_factory=dict)  # sku → reason
    files: list[Path] = field(default_factory=list)


def file_stem(sku: str) -> str:
    """A SKU as a safe file name (SKUs may hold '/', spaces…)."""
    return quote(sku, safe="-_.") or "_"


def _rows(wh: Warehouse, table: str, **equals: Any) -> list[dict[str, Any]]:
    t = TABLES[table]
    query = sa.select(t).where(*(t.c[k] == v for k, v in equals.items()))
    return wh.read_arrow(query).to_pylist()


def _optional_rows(wh: Warehouse, table: str, **equals: Any) -> list[dict[str, Any]]:
    """Rows of a table other work may not have created yet (issue 5's supply chain)."""
    if not sa.inspect(wh.engine).has_table(table):
        return []
    query = sa.select(sa.text("*")).select_from(sa.table(table))
    query = query.where(*(sa.column(k) == v for k, v in equals.items()))
    return wh.read_arrow(query).to_pylist()


def _vat(value: Any) -> str:
    """VAT number compared by its digits (IT01234567897 and 01234567897 are one firm)."""
    return re.sub(r"\D", "", str(value or ""))


def load_facts(wh: Warehouse, domain: str, company_id: str) -> list[ProductFacts]:
    """Every product of the firm with the rows its passport needs."""
    companies = _rows(wh, "companies", company_id=company_id)
    if not companies:
        raise LookupError(f"firm {company_id} is not in the companies table (sync it first)")
    company = companies[0]
    products = _rows(wh, "products", company_id=company_id)
    bom = _rows(wh, "bom_lines", company_id=company_id)
    links = _rows(wh, "supplier_links", company_id=company_id)
    # Work orders say which subcontractor worked on a SKU: one row per pair, not per order line.
    t = TABLES["order_lines"]
    orders = wh.read_arrow(
        sa.select(t.c.sku, t.c.counterparty).distinct()
        .where(t.c.company_id == company_id, t.c.direction == "work_order")
        .order_by(t.c.sku, t.c.counterparty)
    ).to_pylist()  # fmt: skip
    steps = _optional_rows(wh, "supply_chain_steps", company_id=company_id)
    ids = {r["supplier_id"] for r in links} | {r["supplier_id"] for r in bom if r["supplier_id"]}
    suppliers = {r["supplier_id"]: r for r in _rows(wh, "suppliers") if r["supplier_id"] in ids}
    # Certificates are held by a district firm (holder_id = company_id) or by a supplier:
    # a firm that is also a supplier is recognised by its VAT number.
    vat_of = {r["company_id"]: _vat(r.get("vat_number")) for r in _rows(wh, "companies")}
    supplier_of_vat = {_vat(s.get("vat_number")): sid for sid, s in suppliers.items()}
    supplier_of_vat.pop("", None)
    certs = []
    for r in _rows(wh, "certifications"):
        holder = r["holder_id"]
        sid = holder if holder in ids else supplier_of_vat.get(vat_of.get(holder))
        if holder == company_id or sid:
            certs.append(r | {"supplier_id": company_id if holder == company_id else sid})
    by_sku = {name: _by_sku(rows) for name, rows in (("bom", bom), ("orders", orders),
                                                      ("steps", steps))}  # fmt: skip
    return [
        ProductFacts(
            domain=domain, company=company, product=p,
            bom=by_sku["bom"].get(p["sku"], []), suppliers=suppliers, links=links,
            work_orders=by_sku["orders"].get(p["sku"], []),
            chain_steps=by_sku["steps"].get(p["sku"], []), certificates=certs,
        )  # fmt: skip
        for p in products
    ]


def _by_sku(rows: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r.get("sku"), []).append(r)
    return out


def _digest(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _latest(wh: Warehouse, company_id: str) -> dict[str, dict[str, Any]]:
    rows = wh.read_arrow(
        "SELECT sku, version, content_sha256, public_json, restricted_json "
        "FROM passports WHERE company_id = :c",
        {"c": company_id},
    ).to_pylist()
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["sku"] not in latest or r["version"] > latest[r["sku"]]["version"]:
            latest[r["sku"]] = r
    return latest


def refresh_firm(wh: Warehouse, domain: str, company_id: str, data_dir: Path,
                 now: datetime | None = None) -> FirmPassports:  # fmt: skip
    """Passports of one firm's products; a product's failure is reported, the others go on."""
    now = now or datetime.now(UTC)
    issued = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    report = FirmPassports(company_id)
    latest = _latest(wh, company_id)
    new_rows, coverages = [], []
    folder = data_dir / PASSPORTS_DIR / company_id
    folder.mkdir(parents=True, exist_ok=True)
    for facts in load_facts(wh, domain, company_id):
        sku = facts.product["sku"]
        try:
            derived = derive(facts)
            probe, _ = build_views(facts, derived, 0, "")
            prev = latest.get(sku)
            digest = _digest(probe)  # the content without version and date
            if prev is None or prev["content_sha256"] != digest:
                version = 1 + (prev["version"] if prev else 0)
                restricted, public = build_views(facts, derived, version, issued)
                row = {"company_id": company_id, "sku": sku, "version": version,
                       "passport_id": public["id"], "issued_at": now, "content_sha256": digest,
                       "public_json": json.dumps(public, ensure_ascii=False, default=str),
                       "restricted_json": json.dumps(restricted, ensure_ascii=False,
                                                     default=str)}  # fmt: skip
                new_rows.append(row)
                latest[sku] = row
            else:
                public = json.loads(prev["public_json"])
                restricted = json.loads(prev["restricted_json"])
            stem = file_stem(sku)
            for name, doc in ((f"{stem}.json", public), (f"{stem}.restricted.json", restricted)):
                (folder / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False))
                report.files.append(folder / name)
            coverages.append(derived.coverage)
            report.products += 1
        except Exception as exc:  # one product's bad data must not stop the firm's others
            report.errors[sku] = f"{type(exc).__name__}: {exc}"
    if new_rows:
        table = pa.Table.from_pylist(new_rows)
        with wh.transaction() as conn:
            wh.upsert(conn, "passports", table)
    report.new_versions = len(new_rows)
    report.coverage = round(sum(coverages) / len(coverages), 3) if coverages else None
    (folder / "coverage.json").write_text(json.dumps({
        "company_id": company_id, "products": report.products, "coverage": report.coverage,
        "errors": report.errors, "refreshed_at": issued,
    }, indent=2))  # fmt: skip
    return report
