"""Refresh passports for some firms, each on its own, then the district's static site."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from hub.config import District
from hub.passports.build import PASSPORTS_DIR, FirmPassports, refresh_firm
from hub.passports.site import write_site
from hub.warehouse import Warehouse


def refresh(wh: Warehouse, district: District, company_ids: list[str], data_dir: Path,
            now: datetime | None = None) -> dict[str, FirmPassports | Exception]:  # fmt: skip
    """Passports of the given firms; one firm's failure is kept and the others go on."""
    wh.create_all()
    out: dict[str, FirmPassports | Exception] = {}
    for company_id in company_ids:
        try:
            out[company_id] = refresh_firm(wh, district.district.domain, company_id, data_dir, now)
        except Exception as exc:  # isolate the firm: its error is reported, not raised
            out[company_id] = exc
    write_site(data_dir, district.district.name)
    return out


def summary_lines(data_dir: Path) -> list[str]:
    """Passports per firm and their data coverage, from the files of the last refresh."""
    lines = []
    for path in sorted((data_dir / PASSPORTS_DIR).glob("*/coverage.json")):
        c = json.loads(path.read_text())
        if not c.get("products"):
            continue
        cov = "n.d." if c.get("coverage") is None else f"{c['coverage']:.0%}"
        errs = f", {len(c['errors'])} without passport" if c.get("errors") else ""
        lines.append(f"  {c['company_id']:<24}{c['products']:>5} passports, coverage {cov}{errs}")
    return lines
