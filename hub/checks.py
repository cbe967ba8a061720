"""Dagster asset checks of a staged entity: what the operator reads in the UI in the morning.

Two checks per entity: `rows_valid` (row-level rules: failing rows go to quarantine, the rest
loads) and `batch_valid` (file-level rules: unreadable file, missing columns, collapsing row
count — the file is not loaded). A result says, per firm, how many rows failed out of how many,
each rule in plain words, a capped sample of failing rows with file, line, rule and reason
(confidential columns masked), and the path of the firm's full quarantine extract of this sync.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import dagster as dg
import pyarrow.parquet as pq

from hub import quality
from hub.canonical import ENTITIES
from hub.config import District
from hub.pipeline import OK, FileReport
from hub.quarantine import extract_path
from hub.workspace import Workspace

ROWS_VALID, BATCH_VALID = "rows_valid", "batch_valid"
SAMPLE_ROWS = 20
MASK = "•••"
CELL_CHARS = 300
# Metadata keys: the UI lists them in name order, hence the numbers.
ROWS_FAILED, ROWS_CHECKED = "1. rows failed", "2. rows checked"
BY_FIRM, BY_RULE = "3. by firm, with the quarantine extract", "4. by rule, in plain words"
SAMPLE, EXTRACT = "5. failing rows (sample)", "6. quarantine extract"
FILES_NOT_LOADED = "files not loaded"

# Rules checked while mapping and typing (hub.staging), before the Great Expectations suite.
STAGING_RULES = {
    "structure.repeated_header": "the line repeats the header: it is not a record",
    "structure.totals_row": "the line is a totals row, not a record",
    "structure.empty_row": "the line is empty",
    "parse.number": "a number is written as declared (decimal mark, thousands separator)",
    "parse.date": "a date is a real date written in the declared format",
    "parse.boolean": "a yes/no value is one of the declared true or false words",
    "unit.unknown": "the unit of measure is a known unit or is mapped under `units:`",
    "schema.missing_column": "every mapped column is present in the file's header",
}


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


def describe_rule(entity: str, rule: str) -> str:
    """A rule id (or several, comma separated, as in quarantine) in plain words."""
    try:
        known = {**STAGING_RULES, **quality.rule_descriptions(entity)}
    except (KeyError, FileNotFoundError, ValueError):
        known = dict(STAGING_RULES)
    return "; ".join(known.get(r, r) for r in rule.split(",") if r)


@dataclass
class _Firm:
    """One firm's part of a rows_valid result."""

    firm: str
    checked: int = 0
    failed: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    extracts: list[str] = field(default_factory=list)


def _rows_valid(entity, key, reports, ws, district) -> dg.AssetCheckResult:  # noqa: ANN001
    firms: list[_Firm] = []
    samples: list[dict] = []
    for firm, reps in sorted(reports.items()):
        loaded = [r for r in reps if r.status == OK]
        f = _Firm(firm, sum(r.rows_read for r in loaded), sum(r.rows_quarantined for r in loaded))
        for r in loaded:
            for rule in r.rules:
                if not rule.get("blocking") and rule.get("failed"):
                    f.by_rule[rule["rule"]] = f.by_rule.get(rule["rule"], 0) + rule["failed"]
        sources = sorted({r.source for r in loaded if r.rows_quarantined})
        f.extracts = [
            str(extract_path(ws.quarantine_dir(firm), ws.sync_id(firm, s, entity))) for s in sources
        ]
        firms.append(f)
        if f.failed and len(samples) < SAMPLE_ROWS:
            samples += _samples(entity, firm, loaded, ws, district, SAMPLE_ROWS - len(samples))
    checked, failed = sum(f.checked for f in firms), sum(f.failed for f in firms)
    meta: dict[str, object] = {
        ROWS_FAILED: failed,
        ROWS_CHECKED: checked,
        BY_FIRM: _firm_table(firms),
        BY_RULE: _rule_table(entity, firms),
    }
    if samples:
        meta[SAMPLE] = _sample_table(samples)
    extracts = [p for f in firms for p in f.extracts]
    if len(extracts) == 1:
        meta[EXTRACT] = dg.MetadataValue.path(extracts[0])
    return dg.AssetCheckResult(
        asset_key=key, check_name=ROWS_VALID, passed=failed == 0, metadata=meta,
        severity=dg.AssetCheckSeverity.WARN, description=_rows_description(entity, firms),
    )  # fmt: skip


def _rows_description(entity: str, firms: list[_Firm]) -> str:
    checked, failed = sum(f.checked for f in firms), sum(f.failed for f in firms)
    if not failed:
        return f"all {checked} rows valid ({len(firms)} firms)"
    parts = [f"{f.firm} {f.failed} of {f.checked}" for f in firms if f.failed]
    return (f"{failed} of {checked} rows failed and went to quarantine — "
            f"{', '.join(parts)}. Rules, failing rows and extracts below.")  # fmt: skip


def _firm_table(firms: list[_Firm]) -> dg.TableMetadataValue:
    schema = dg.TableSchema(columns=[
        dg.TableColumn("firm"), dg.TableColumn("rows checked", "int"),
        dg.TableColumn("rows failed", "int"),
        dg.TableColumn("quarantine extract", description="full list of failing rows (CSV)"),
    ])  # fmt: skip
    records = [
        dg.TableRecord({"firm": f.firm, "rows checked": f.checked, "rows failed": f.failed,
                        "quarantine extract": "\n".join(f.extracts) or "–"})
        for f in firms
    ]  # fmt: skip
    return dg.MetadataValue.table(records, schema)


def _rule_table(entity: str, firms: list[_Firm]) -> dg.TableMetadataValue:
    schema = dg.TableSchema(columns=[
        dg.TableColumn("firm"), dg.TableColumn("rule"), dg.TableColumn("in plain words"),
        dg.TableColumn("rows failed", "int"),
    ])  # fmt: skip
    records = [
        dg.TableRecord({"firm": f.firm, "rule": r, "in plain words": describe_rule(entity, r),
                        "rows failed": n})
        for f in firms for r, n in sorted(f.by_rule.items())
    ]  # fmt: skip
    return dg.MetadataValue.table(records, schema)


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
            written = " · ".join(f"{k}={v}" for k, v in row.items())
            out.append(
                {
                    "firm": firm,
                    "file": q["file"],
                    "line": q["line"],
                    "rule": q["rule"],
                    "reason": q["reason"],
                    "row": written,
                }
            )
        if len(out) >= cap:
            break
    return out


def _cell(v: object) -> str:
    return str(v).replace("\n", " ")[:CELL_CHARS]


def _sample_table(samples: list[dict]) -> dg.TableMetadataValue:
    schema = dg.TableSchema(columns=[
        dg.TableColumn("firm"), dg.TableColumn("file"), dg.TableColumn("line", "int"),
        dg.TableColumn("rule"), dg.TableColumn("reason"),
        dg.TableColumn("row as written", description=f"confidential columns shown as {MASK}"),
    ])  # fmt: skip
    records = [
        dg.TableRecord({"firm": s["firm"], "file": s["file"], "line": s["line"],
                        "rule": s["rule"], "reason": _cell(s["reason"]),
                        "row as written": _cell(s["row"])})
        for s in samples
    ]  # fmt: skip
    return dg.MetadataValue.table(records, schema)


def _batch_valid(key, results) -> dg.AssetCheckResult:  # noqa: ANN001
    schema = dg.TableSchema(columns=[
        dg.TableColumn("firm"), dg.TableColumn("source"), dg.TableColumn("file"),
        dg.TableColumn("status"), dg.TableColumn("reason"),
    ])  # fmt: skip
    records = []
    blocked_firms, ok_firms = set(), set()
    files = 0
    for firm, reps in sorted(results.items()):
        if isinstance(reps, Exception):
            blocked_firms.add(firm)
            records.append(dg.TableRecord({"firm": firm, "source": "", "file": "",
                                           "status": "error", "reason": _cell(reps)}))  # fmt: skip
            continue
        files += len(reps)
        for r in reps:
            if r.status != OK:
                blocked_firms.add(firm)
                records.append(dg.TableRecord({"firm": firm, "source": r.source, "file": r.file,
                                               "status": r.status,
                                               "reason": _cell(r.message)}))  # fmt: skip
        if any(r.status == OK for r in reps) or not reps:
            ok_firms.add(firm)
    passed = not blocked_firms
    # ERROR blocks every downstream step of the run: only right when no firm can go on.
    # Otherwise WARN, and harmonization skips the blocked files of those firms only.
    severity = (dg.AssetCheckSeverity.ERROR if blocked_firms and not ok_firms
                else dg.AssetCheckSeverity.WARN)  # fmt: skip
    meta: dict[str, object] = {"firms": len(results), "firms blocked": len(blocked_firms),
                               "files checked": files}  # fmt: skip
    if not passed:
        meta[FILES_NOT_LOADED] = dg.MetadataValue.table(records, schema)
    if passed:
        description = f"all {files} files loadable ({len(results)} firms)"
    else:
        description = "files not loaded — " + " | ".join(
            f"{rec.data['firm']}: {rec.data['file'] or rec.data['source'] or 'firm'} "
            f"({rec.data['status']}): {rec.data['reason']}"
            for rec in records
        )
    return dg.AssetCheckResult(
        asset_key=key, check_name=BATCH_VALID, passed=passed, severity=severity,
        metadata=meta, description=description[:2000],
    )  # fmt: skip
