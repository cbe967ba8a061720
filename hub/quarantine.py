"""Quarantine: rejected source rows kept whole, with file, line, rule and reason."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from hub.canonical import arrow_schema

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def quarantine_rows(
    raw: pa.Table,
    problems: list[tuple[int, str, str]],
    *,
    sync_id: str,
    company_id: str,
    entity: str,
    source: str,
    file: str,
) -> pa.Table:
    """One quarantine row per rejected source line, all its rules and reasons together.

    Args:
        raw: the file as parsed (source headers, text, `_line`): the row is kept as written.
        problems: (line, rule, reason) triples; a line may fail several rules.
    """
    by_line: dict[int, list[tuple[str, str]]] = {}
    for line, rule, reason in problems:
        by_line.setdefault(line, []).append((rule, reason))
    lines = sorted(by_line)
    rows = raw.filter(pc.is_in(raw.column("_line"), pa.array(lines, pa.int64())))
    originals = {r.pop("_line"): r for r in rows.to_pylist()}
    now = datetime.now(UTC)
    out = []
    for line in lines:
        found = by_line[line]
        out.append({
            "sync_id": sync_id, "company_id": company_id, "entity": entity,
            "source": source, "line": line, "file": file,
            "rule": ",".join(dict.fromkeys(r for r, _ in found)),
            "reason": "; ".join(dict.fromkeys(m for _, m in found)),
            "row": json.dumps(originals.get(line, {}), ensure_ascii=False),
            "created_at": now, "resolved_at": None,
        })  # fmt: skip
    return pa.Table.from_pylist(out, schema=arrow_schema("quarantine"))


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def extract_path(folder: Path, sync_id: str) -> Path:
    """The CSV extract of one firm's sync of a source and entity, in the firm's folder."""
    return folder / f"{sync_id.replace(':', '_')}.csv"


def write_extract(path: Path, table: pa.Table) -> Path:
    """The full quarantine extract of a sync, for the operator and the firm (CSV, UTF-8 BOM)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = ["file", "line", "rule", "reason", "row"]
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(cols)
        for r in table.select(cols).to_pylist():
            w.writerow([safe_cell(r[c]) for c in cols])
    return path
