"""Harmonization of one firm's batch: valid staged rows → rows of the district's warehouse tables.

- bom_lines: the fibre composition normalized (`composition` = fibre → share as JSON, the text
  as written in `composition_text`, per-fibre detail with the recycled flag in
  `composition_detail`; `recycled_share` derived from it when the ERP gives none), quantities in
  base units and in kg wherever derivable (`quantity_kg`, `quantity_kg_basis`), countries as
  ISO 3166 codes, supplier codes → district supplier ids.
- suppliers: a provisional district id per record (valid VAT number, else name@municipality),
  placed on the gazetteer; the district step `hub.harmonization.resolution` then merges the
  same supplier across firms (fuzzy names, manual overrides), whatever order firms loaded in.
- order lines: quantities in base units too (`base_quantity`, `base_unit`, as for BOM lines);
  they stay columnar (millions of rows).
- products: stamped with their sync.

See `hub/harmonization/` for the tables and rules behind each step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from hub.canonical import TEXT, TIMESTAMP
from hub.config import EntityMapping
from hub.harmonization import fibres as fibre_rules
from hub.harmonization import places, units
from hub.harmonization.identifiers import normalize_vat
from hub.harmonization.suppliers import provisional_id

__all__ = ["harmonize", "normalize_vat", "supplier_id"]


def supplier_id(name: str | None, vat: str | None, country: str | None, municipality: str | None
                ) -> str:  # fmt: skip
    """The provisional district id of a supplier: its VAT number, else its name and town."""
    return provisional_id(name, vat, country, municipality)


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
    fibres: Mapping[str, str] | None = None,
    mapping: EntityMapping | None = None,
) -> dict[str, pa.Table]:
    """Warehouse rows for one staged batch.

    Args:
        entity: the staged entity.
        staged: valid, typed rows (canonical columns, company_id, lineage).
        sync_id: the sync the rows come from.
        supplier_ids: the firm's supplier codes → district supplier ids.
        fibres: the source's fibre codes/names → fibre (its `fibres:` map; default: the
            mapping's).
        mapping: the source's mapping of the entity: what it declares per line and what is a
            firm-wide constant (a BOM's usual fabric width is an estimate: used for the kg,
            flagged as such in their basis, never written as the line's width).

    Returns:
        Table name → rows to upsert.
    """
    now = datetime.now(UTC)
    if fibres is None and mapping is not None:
        fibres = mapping.fibres
    if entity == "suppliers":
        return _suppliers(staged, sync_id, now)
    body = staged.drop_columns(["_file", "_line"])
    if entity == "orders":
        return {"order_lines": _stamp(_with_base_units(body), sync_id, now)}
    if entity == "products":
        body = _set(body, "country_of_making", _countries(body.column("country_of_making")))
        body = _compositions(body, fibres or {})
        return {"products": _stamp(body, sync_id, now)}
    if entity == "bom_lines":
        body = _bom_lines(body, supplier_ids, fibres or {}, mapping)
        return {"bom_lines": _stamp(body, sync_id, now)}
    if entity == "waste_streams":  # EWC codes written one way: "04 02 22" (hazardous: "*")
        body = _set(body, "ewc_code", _per_distinct(body.column("ewc_code").combine_chunks(),
                                                    _ewc_code))  # fmt: skip
        return {"waste_streams": _stamp(body, sync_id, now)}
    if entity == "certifications":  # the holder is the firm whose source lists it
        body = body.rename_columns(["holder_id" if c == "company_id" else c
                                    for c in body.column_names])  # fmt: skip
        return {"certifications": _stamp(body, sync_id, now)}
    raise ValueError(f"no harmonization for entity '{entity}'")


def _ewc_code(code: str | None) -> str | None:
    """'040222' or '04 02 22' → '04 02 22'; the hazardous mark '*' kept at the end."""
    if code is None:
        return None
    digits, star = code.replace(" ", ""), "*" if code.endswith("*") else ""
    digits = digits.rstrip("*")
    return f"{digits[0:2]} {digits[2:4]} {digits[4:6]}{star}" if len(digits) == 6 else code


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def _countries(col: pa.ChunkedArray) -> pa.Array:
    """ISO 3166-1 alpha-2 per distinct value; a value not recognized is kept as written."""
    col = col.combine_chunks()
    distinct = pc.unique(col)
    codes = pa.array([places.normalize_country(v) or v for v in distinct.to_pylist()], TEXT)
    return pc.take(codes, pc.index_in(col, value_set=distinct))


def _per_distinct(col: pa.Array, fn) -> pa.Array:  # noqa: ANN001
    distinct = pc.unique(col)
    mapped = pa.array([fn(v) for v in distinct.to_pylist()], TEXT)
    return pc.take(mapped, pc.index_in(col, value_set=distinct))


def _parsed(text: str | None, fibres: Mapping[str, str]) -> fibre_rules.Composition | None:
    return fibre_rules.parse(text, fibres) if text else None


def _compositions(body: pa.Table, fibres: Mapping[str, str]) -> pa.Table:
    """`composition` normalized (fibre → share JSON), with `composition_text` as written and
    `composition_detail` ([{fibre, share, recycled}]); rows that do not parse never get here."""
    text = body.column("composition").combine_chunks()
    comp = _per_distinct(text, lambda v: (c := _parsed(v, fibres)) and c.ok and c.to_json() or None)
    detail = _per_distinct(
        text, lambda v: (c := _parsed(v, fibres)) and c.ok and c.detail_json() or None
    )
    body = _set(body, "composition", comp)
    return body.append_column("composition_text", text).append_column("composition_detail", detail)


def _usual_width(mapping: EntityMapping | None) -> tuple[float | None, bool]:
    """The firm's usual fabric width (a constant), and whether the source maps a width column."""
    if mapping is None:
        return None, True
    mapped = "fabric_width_cm" in mapping.columns
    text = mapping.constants.get("fabric_width_cm")
    try:
        return (float(str(text).replace(",", ".")) if text else None), mapped
    except ValueError:  # not a number: staging quarantines it where it is the only width
        return None, mapped


_NONE = pa.scalar(None, pa.float64())


def _bom_lines(body: pa.Table, supplier_ids: Mapping[str, str], fibres: Mapping[str, str],
               mapping: EntityMapping | None = None) -> pa.Table:  # fmt: skip
    codes = body.column("supplier_code").to_pylist()
    ids = pa.array([supplier_ids.get(c) if c else None for c in codes], TEXT)
    text = body.column("composition").combine_chunks()
    recycled = _per_distinct(
        text, lambda v: (c := _parsed(v, fibres)) and c.ok and str(c.recycled_share()) or None
    )
    recycled_share = pc.coalesce(body.column("recycled_share"), pc.cast(recycled, pa.float64()))
    qty, unit = body.column("quantity").combine_chunks(), body.column("unit").combine_chunks()
    gsm, gsm_estimated = units.gsm_column(
        body.column("fabric_weight_gsm").combine_chunks(),
        body.column("component_name").combine_chunks(),
    )
    width, width_estimated = units.width_column(
        body.column("fabric_width_cm").combine_chunks(), *_usual_width(mapping)
    )
    kg, basis = units.quantity_kg(qty, unit, gsm, width, gsm_estimated, width_estimated)
    body = _compositions(body, fibres)
    body = _set(body, "recycled_share", recycled_share)
    # The line's own weight and width only: a weight read from the name and the firm's usual
    # width served the kg above, where the basis says they were assumed; written on the line
    # they would pass for declared ones (the usual width on trims too).
    body = _set(body, "fabric_weight_gsm", pc.if_else(gsm_estimated, _NONE, gsm))
    body = _set(body, "fabric_width_cm", pc.if_else(width_estimated, _NONE, width))
    body = _set(body, "origin_country", _countries(body.column("origin_country")))
    body = _with_base_units(body.drop_columns(["supplier_code"]))
    extra = {"supplier_id": ids, "quantity_kg": kg, "quantity_kg_basis": basis}
    for name, values in extra.items():
        body = body.append_column(name, values)
    return body


def _with_base_units(body: pa.Table) -> pa.Table:
    """`base_quantity` and `base_unit` appended: the quantity in kg, m, m2, l, pcs, pair or set.

    One path for BOM lines and order lines. Staging lets only canonical units through (an
    unknown one is quarantined as `unit.unknown`), and every canonical unit has a base unit
    (`units.factors`), so no loaded row is left without one.
    """
    qty, unit = body.column("quantity").combine_chunks(), body.column("unit").combine_chunks()
    base_qty, base_unit = units.to_base(qty, unit)
    return body.append_column("base_quantity", base_qty).append_column("base_unit", base_unit)


def _suppliers(staged: pa.Table, sync_id: str, now: datetime) -> dict[str, pa.Table]:
    rows = staged.to_pylist()
    suppliers: dict[str, dict] = {}
    links: dict[tuple[str, str], dict] = {}
    for r in rows:
        country = places.normalize_country(r["country"]) or r["country"] or "IT"
        sid = supplier_id(r["name"], r["vat_number"], country, r["municipality"])
        place = places.locate(r["municipality"], r["province"], country)
        s = suppliers.setdefault(sid, {
            "supplier_id": sid, "name": r["name"], "vat_number": normalize_vat(r["vat_number"],
                                                                               country),
            "country": country, "municipality": place.municipality if place else r["municipality"],
            "province": place.province if place else r["province"],
            "lat": place.lat if place else None, "lon": place.lon if place else None,
            "processes": set(), "updated_at": now,
        })  # fmt: skip
        if r["process"]:
            s["processes"].add(r["process"])
        link = links.get((r["company_id"], sid))
        if link is not None:  # two local codes of one firm name the same supplier: one link
            link["local_codes"] = ",".join(sorted({*link["local_codes"].split(","),
                                                   r["local_code"]}))  # fmt: skip
            continue
        links[(r["company_id"], sid)] = {
            "company_id": r["company_id"], "supplier_id": sid, "local_code": r["local_code"],
            "process": r["process"], "subcontractor": r["subcontractor"], "sync_id": sync_id,
            "updated_at": now, "name": r["name"], "vat_number": r["vat_number"],
            "country": country, "municipality": r["municipality"], "province": r["province"],
            "local_codes": r["local_code"], "source_supplier_id": sid,
            "match_rule": "pending", "match_evidence": "resolved by the district step",
        }  # fmt: skip
    for s in suppliers.values():
        s["processes"] = ",".join(sorted(s["processes"])) or None
    return {
        "suppliers": pa.Table.from_pylist(list(suppliers.values())),
        "supplier_links": pa.Table.from_pylist(list(links.values())),
    }
