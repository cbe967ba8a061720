"""The district step of supplier resolution, over what the warehouse holds for every firm.

Reads every firm's `supplier_links` (each with the supplier as that firm lists it), resolves
them with `hub.harmonization.suppliers.resolve`, and rewrites `suppliers` and `supplier_links`
in one transaction: one `suppliers` row per resolved supplier, one link per firm × supplier with
`match_rule` and `match_evidence`, and BOM lines re-pointed at the resolved ids. Firms that
failed tonight keep their last loaded lists, so one firm's failure does not block the others;
the result depends only on the records, not on the order firms were loaded in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from hub.canonical import TABLES
from hub.harmonization import places
from hub.harmonization.suppliers import Overrides, Record, resolve
from hub.warehouse import Warehouse

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ResolutionSummary:
    records: int
    suppliers: int
    merged: int  # suppliers listed by more than one firm
    rules: dict[str, int]
    repointed_bom_lines: int


def resolve_suppliers(wh: Warehouse, overrides_path: Path | None = None) -> ResolutionSummary:
    """Resolve every firm's supplier records into district suppliers, in one transaction."""
    links = wh.read_arrow(sa.select(TABLES["supplier_links"])).to_pylist()
    # A firm's record (company, local code) may be stored twice: under an older resolved id and
    # under the provisional id of tonight's load. The newest wins.
    latest: dict[tuple[str, str], dict] = {}
    for row in sorted(links, key=lambda r: (r["updated_at"] or _EPOCH, r["supplier_id"])):
        for code in (row["local_codes"] or row["local_code"] or "").split(","):
            latest[(row["company_id"], code)] = row
    records = [
        Record(c, code, r["name"], r["vat_number"], r["country"], r["municipality"])
        for (c, code), r in latest.items()
    ]
    result = resolve(records, Overrides.load(overrides_path))
    new_links: dict[tuple[str, str], dict] = {}
    repoint: set[tuple[str, str, str]] = set()  # company, old id, new id
    for (c, code), r in sorted(latest.items()):
        res = result[f"{c}/{code}"]
        for old in {r["supplier_id"], r["source_supplier_id"]} - {None, res.supplier_id}:
            repoint.add((c, old, res.supplier_id))
        link = new_links.get((c, res.supplier_id))
        if link:
            link["local_codes"] = ",".join(sorted({*link["local_codes"].split(","), code}))
            continue
        new_links[(c, res.supplier_id)] = {
            **r, "supplier_id": res.supplier_id, "local_code": code, "local_codes": code,
            "match_rule": res.match_rule, "match_evidence": res.match_evidence,
        }  # fmt: skip
    for old_row in links:  # stale rows of a record now under another id
        key = (old_row["company_id"], old_row["supplier_id"])
        if key not in new_links:
            for code in (old_row["local_codes"] or old_row["local_code"] or "").split(","):
                res = result.get(f"{old_row['company_id']}/{code}")
                if res and res.supplier_id != old_row["supplier_id"]:
                    repoint.add((old_row["company_id"], old_row["supplier_id"], res.supplier_id))
    suppliers = _suppliers(list(new_links.values()))
    bom = TABLES["bom_lines"]
    repointed = 0
    with wh.transaction() as conn:
        conn.execute(sa.delete(TABLES["supplier_links"]))
        conn.execute(sa.delete(TABLES["suppliers"]))
        if new_links:
            wh.upsert(conn, "supplier_links", pa.Table.from_pylist(list(new_links.values())))
        if suppliers:
            wh.upsert(conn, "suppliers", pa.Table.from_pylist(suppliers))
        for company_id, old, new in sorted(repoint):
            res = conn.execute(
                sa.update(bom)
                .where(bom.c.company_id == company_id, bom.c.supplier_id == old)
                .values(supplier_id=new)
            )
            repointed += max(res.rowcount or 0, 0)
    rules = Counter(link["match_rule"] for link in new_links.values())
    return ResolutionSummary(
        records=len(records), suppliers=len(suppliers),
        merged=sum(1 for s in suppliers if (s["firms"] or 0) > 1),
        rules=dict(sorted(rules.items())),
        repointed_bom_lines=repointed,
    )  # fmt: skip


def _suppliers(links: list[dict]) -> list[dict]:
    by_id: dict[str, list[dict]] = {}
    for link in links:
        by_id.setdefault(link["supplier_id"], []).append(link)
    out = []
    for sid, members in sorted(by_id.items()):

        def common(col: str, members: list[dict] = members) -> str | None:
            values = Counter(m[col] for m in members if m[col])
            return min(values, key=lambda v: (-values[v], v)) if values else None

        country = common("country") or "IT"
        place = places.locate(common("municipality"), common("province"), country)
        vat = sid if sid[:2].isalpha() and "@" not in sid else None
        out.append({
            "supplier_id": sid, "name": common("name"), "vat_number": vat, "country": country,
            "municipality": place.municipality if place else common("municipality"),
            "province": place.province if place else common("province"),
            "lat": place.lat if place else None, "lon": place.lon if place else None,
            "processes": ",".join(sorted({m["process"] for m in members if m["process"]})) or None,
            "updated_at": max((m["updated_at"] for m in members if m["updated_at"]), default=None),
            "firms": len({m["company_id"] for m in members}),
            "match_rules": ",".join(sorted({m["match_rule"] for m in members})),
        })  # fmt: skip
    return out


def place_companies(wh: Warehouse) -> int:
    """Fill the firms' missing lat/lon (and province) from the gazetteer; returns rows filled."""
    t = TABLES["companies"]
    rows = wh.read_arrow(sa.select(t.c.company_id, t.c.municipality, t.c.province, t.c.country,
                                   t.c.lat, t.c.lon)).to_pylist()  # fmt: skip
    fills = []
    for r in rows:
        if r["lat"] is not None and r["lon"] is not None:
            continue
        place = places.locate(r["municipality"], r["province"], r["country"])
        if place:
            fills.append({"company_id": r["company_id"], "lat": place.lat, "lon": place.lon,
                          "province": r["province"] or place.province})  # fmt: skip
    if fills:
        with wh.transaction() as conn:
            wh.upsert(conn, "companies", pa.Table.from_pylist(fills))
    return len(fills)
