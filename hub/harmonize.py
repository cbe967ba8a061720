"""Harmonization: valid staged rows of one firm → rows of the district's warehouse tables.

Suppliers are resolved to one district-wide id (by VAT number when valid, otherwise by name and
municipality), so that the same supplier in many firms' lists becomes one `suppliers` row with
one `supplier_links` row per firm.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from stdnum.eu import vat as eu_vat
from stdnum.it import iva as it_iva

from hub.canonical import TEXT, TIMESTAMP

LEGAL_FORMS = re.compile(
    r"\b(s\.?\s?r\.?\s?l\.?s?|s\.?\s?p\.?\s?a\.?|s\.?\s?n\.?\s?c\.?|s\.?\s?a\.?\s?s\.?|"
    r"soc\.?\s?coop\.?|di\s)\b",
    re.IGNORECASE,
)


def normalize_vat(vat: str | None, country: str | None = "IT") -> str | None:
    """A VAT number with its country prefix ('IT01234567890'), or None when not valid."""
    if not vat:
        return None
    compact = re.sub(r"[\s.\-/]", "", vat).upper()
    if compact[:2].isalpha() and eu_vat.is_valid(compact):
        return eu_vat.compact(compact)
    if (country or "IT").upper() == "IT" and it_iva.is_valid(compact):
        return "IT" + it_iva.compact(compact)
    return None


def slug(text: str | None) -> str:
    """Lower-case ASCII words joined by '-': 'Tintoria Secchia S.n.c.' → 'tintoria-secchia'."""
    if not text:
        return ""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_ = LEGAL_FORMS.sub(" ", ascii_)
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def supplier_id(name: str | None, vat: str | None, country: str | None, municipality: str | None
                ) -> str:  # fmt: skip
    """The district-wide id of a supplier: its VAT number, else its name and town."""
    return normalize_vat(vat, country) or f"{slug(name)}@{slug(municipality) or 'unknown'}"


def _stamp(table: pa.Table, sync_id: str, now: datetime) -> pa.Table:
    n = table.num_rows
    return table.append_column("sync_id", pa.repeat(pa.scalar(sync_id, TEXT), n)).append_column(
        "updated_at", pa.repeat(pa.scalar(now, TIMESTAMP), n)
    )


def harmonize(
    entity: str,
    staged: pa.Table,
    *,
    sync_id: str,
    supplier_ids: Mapping[str, str],
) -> dict[str, pa.Table]:
    """Warehouse rows for one staged batch.

    Args:
        entity: the staged entity.
        staged: valid, typed rows (canonical columns, company_id, lineage).
        sync_id: the sync the rows come from.
        supplier_ids: the firm's supplier codes → district supplier ids.

    Returns:
        Table name → rows to upsert.
    """
    now = datetime.now(UTC)
    if entity == "suppliers":
        return _suppliers(staged, sync_id, now)
    body = staged.drop_columns(["_file", "_line"])
    if entity == "orders":
        return {"order_lines": _stamp(body, sync_id, now)}
    if entity == "products":
        return {"products": _stamp(body, sync_id, now)}
    if entity == "bom_lines":
        codes = body.column("supplier_code").to_pylist()
        ids = pa.array([supplier_ids.get(c) if c else None for c in codes], TEXT)
        qty, unit = body.column("quantity"), body.column("unit")
        kg = pc.if_else(
            pc.equal(unit, "kg"), qty, pc.if_else(pc.equal(unit, "g"), pc.divide(qty, 1000.0),
                                                  pa.scalar(None, pa.float64()))
        )  # fmt: skip
        body = body.drop_columns(["supplier_code"])
        body = body.append_column("supplier_id", ids).append_column("quantity_kg", kg)
        return {"bom_lines": _stamp(body, sync_id, now)}
    raise ValueError(f"no harmonization for entity '{entity}'")


def _suppliers(staged: pa.Table, sync_id: str, now: datetime) -> dict[str, pa.Table]:
    rows = staged.to_pylist()
    suppliers: dict[str, dict] = {}
    links = []
    for r in rows:
        sid = supplier_id(r["name"], r["vat_number"], r["country"], r["municipality"])
        s = suppliers.setdefault(sid, {
            "supplier_id": sid, "name": r["name"], "vat_number": normalize_vat(r["vat_number"],
                                                                               r["country"]),
            "country": r["country"] or "IT", "municipality": r["municipality"],
            "processes": set(), "updated_at": now,
        })  # fmt: skip
        if r["process"]:
            s["processes"].add(r["process"])
        links.append({
            "company_id": r["company_id"], "supplier_id": sid, "local_code": r["local_code"],
            "process": r["process"], "subcontractor": r["subcontractor"], "sync_id": sync_id,
            "updated_at": now,
        })  # fmt: skip
    for s in suppliers.values():
        s["processes"] = ",".join(sorted(s["processes"])) or None
    # Two local codes of one firm may name the same supplier: keep one link, the first code.
    unique_links = list({(lk["company_id"], lk["supplier_id"]): lk for lk in reversed(links)}
                        .values())[::-1]  # fmt: skip
    return {
        "suppliers": pa.Table.from_pylist(list(suppliers.values())),
        "supplier_links": pa.Table.from_pylist(unique_links),
    }
