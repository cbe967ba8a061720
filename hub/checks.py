"""Dagster asset checks of a staged entity: what the operator reads in the UI in the morning.

Two checks per entity: `rows_valid` (row-level rules: failing rows go to quarantine, the rest
loads) and `batch_valid` (file-level rules: unreadable file, missing columns, collapsing row
count — the file is not loaded). Results carry counts per firm and per rule and a capped sample
of failing rows with file and line, confidential columns masked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import dagster as dg
import pyarrow.parquet as pq

from hub.canonical import ENTITIES
from hub.config import District
from hub.pipeline import OK, FileReport
from hub.workspace import Workspace

ROWS_VALID, BATCH_VALID = "rows_valid", "batch_valid"
SAMPLE_ROWS = 20
MASK = "•••"


def check_specs(entity: str, key: list[str]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            ROWS_VALID, asset=key,
            description=f"Every {entity} row passes its rules; failing rows go to quarantine",
        ),
        dg.AssetCheckSpec(
            BATCH_VALID, asset=key, blocking=True,
            description="Each file is readable, has every mapped column and a plausible count",
        ),
    ]  # fmt: skip


def check_results(
    entity: str,
    key: list[str],
    results: dict[str, list[FileReport] | Exception],
    ws: Workspace,
    district: District,
) -> Iterator[dg.AssetCheckResult]:
    reports = {f: r for f, r in results.items() if not isinstance(r, Exception)}
    yield _rows_valid(entity, key, reports, ws, district)
    yield _batch_valid(key, results)


def _rows_valid(entity, key, reports, ws, district) -> dg.AssetCheckResult:  # noqa: ANN001
    checked = failed = 0
    by_rule: dict[str, int] = {}
    firm_lines = ["| firm | rows | quarantined | extract |", "|---|---|---|---|"]
    samples: list[dict] = []
    for firm, reps in sorted(reports.items()):
        loaded = [r for r in reps if r.status == OK]
        n, q = sum(r.rows_read for r in loaded), sum(r.rows_quarantined for r in loaded)
        checked, failed = checked + n, failed + q
        for r in loaded:
            for rule in r.rules:
                if not rule.get("blocking") and rule.get("failed"):
                    by_rule[rule["rule"]] = by_rule.get(rule["rule"], 0) + rule["failed"]
        extract = ws.quarantine_dir(firm) if q else ""
        firm_lines.append(f"| {firm} | {n} | {q} | {extract} |")
        if q and len(samples) < SAMPLE_ROWS:
            samples += _samples(entity, firm, loaded, ws, district, SAMPLE_ROWS - len(samples))
    rule_lines = ["| rule | failing rows |", "|---|---|"]
    rule_lines += [f"| {r} | {n} |" for r, n in sorted(by_rule.items())]
    meta: dict[str, object] = {
        "rows checked": checked,
        "rows quarantined": failed,
        "by firm": dg.MetadataValue.md("\n".join(firm_lines)),
        "by rule": dg.MetadataValue.md("\n".join(rule_lines)),
    }
    if samples:
        meta["failing rows (sample)"] = dg.MetadataValue.md(_sample_table(samples))
    return dg.AssetCheckResult(
        asset_key=key, check_name=ROWS_VALID, passed=failed == 0, metadata=meta,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{failed} of {checked} rows quarantined" if failed else "all rows valid",
    )  # fmt: skip


def _samples(entity, firm, reps, ws, district, cap) -> list[dict]:  # noqa: ANN001
    source_by_name = {s.name: s for s in district.firm(firm).sources}
    out = []
    for r in reps:
        if not r.rows_quarantined:
            continue
        mapping = district.mapping(source_by_name[r.source], entity)
        hidden = {mapping.columns[c.name] for c in ENTITIES[entity].columns
                  if c.confidential and c.name in mapping.columns}  # fmt: skip
        path = ws.staged_dir(firm, entity) / f"{r.stem}.quarantine.parquet"
        for q in pq.read_table(path).slice(0, cap - len(out)).to_pylist():
            row = {k: (MASK if k in hidden else v) for k, v in json.loads(q["row"]).items()}
            out.append(
                {
                    "firm": firm,
                    "file": q["file"],
                    "line": q["line"],
                    "rule": q["rule"],
                    "reason": q["reason"],
                    "row": json.dumps(row, ensure_ascii=False),
                }
            )
        if len(out) >= cap:
            break
    return out


def _sample_table(samples: list[dict]) -> str:
    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")[:300]

    cols = ["firm", "file", "line", "rule", "reason", "row"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(s[c]) for c in cols) + " |" for s in samples]
    return "\n".join(lines)


def _batch_valid(key, results) -> dg.AssetCheckResult:  # noqa: ANN001
    lines = ["| firm | source | file | status | reason |", "|---|---|---|---|---|"]
    blocked_firms, ok_firms = set(), set()
    for firm, reps in sorted(results.items()):
        if isinstance(reps, Exception):
            blocked_firms.add(firm)
            lines.append(f"| {firm} | | | error | {str(reps)[:300]} |")
            continue
        for r in reps:
            if r.status != OK:
                blocked_firms.add(firm)
                lines.append(f"| {firm} | {r.source} | {r.file} | {r.status} | "
                             f"{r.message[:300].replace('|', '/')} |")  # fmt: skip
        if any(r.status == OK for r in reps) or not reps:
            ok_firms.add(firm)
    passed = not blocked_firms
    # ERROR blocks every downstream step of the run: only right when no firm can go on.
    # Otherwise WARN, and harmonization skips the blocked files of those firms only.
    severity = (dg.AssetCheckSeverity.ERROR if blocked_firms and not ok_firms
                else dg.AssetCheckSeverity.WARN)  # fmt: skip
    return dg.AssetCheckResult(
        asset_key=key, check_name=BATCH_VALID, passed=passed, severity=severity,
        metadata={
            "firms blocked": len(blocked_firms),
            "firms": len(results),
            "files not loaded": dg.MetadataValue.md("\n".join(lines)) if not passed else "none",
        },
        description=("all files loadable" if passed else
                     f"files not loaded for: {', '.join(sorted(blocked_firms))}"),
    )  # fmt: skip
