"""The sync of one firm's entity in three steps, one per layer: extract → validate → load.

Plain Python (no Dagster): the Dagster assets call these per firm, and so do the tests. Steps
hand over through files of the run's workspace (raw and staged Parquet plus a JSON report per
file), so that each layer can be inspected, and rerun, on its own.

A file's rows, its quarantine rows and its ledger entry are committed in one transaction: a
file is loaded once, and a crash leaves the last good state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from connectors.base import FileCursor, FileRejected, SourceError
from connectors.csv_files import CsvConnector
from connectors.csv_parser import CsvOptions
from connectors.local_folder import LocalFolder
from hub import quality
from hub.canonical import ENTITIES, TABLES
from hub.config import CsvFormat, District, Firm, Source
from hub.harmonize import harmonize
from hub.quarantine import quarantine_rows, write_extract
from hub.staging import MissingColumns, stage
from hub.warehouse import Warehouse
from hub.workspace import Workspace

OK, REJECTED, BLOCKED, FAILED = "ok", "rejected", "blocked", "failed"


@dataclass
class FileReport:
    """What happened to one file of a firm's source in this run."""

    source: str
    file: str
    status: str = OK  # ok, rejected (unreadable), blocked (batch rule), failed (source error)
    message: str = ""
    rows_read: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    rules: list[dict] = field(default_factory=list)  # per rule: rule, checked, failed, blocking
    new_columns: list[str] = field(default_factory=list)
    fingerprint: dict | None = None
    header: list[str] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return f"{self.source}__{self.file}"


def sources_for(firm: Firm, entity: str) -> list[Source]:
    return [s for s in firm.sources if entity in s.entities]


def entity_format(district: District, source: Source, entity: str) -> CsvFormat:
    return district.mapping(source, entity).format or source.format


def build_connector(district: District, source: Source) -> CsvConnector:
    """The connector of a configured source (one kind today: CSV files of a local folder)."""
    folder = LocalFolder(district.resolve_path(source.location.path))
    patterns = {e: district.mapping(source, e).files for e in source.entities}
    options = {}
    for e in source.entities:
        fmt = entity_format(district, source, e)
        options[e] = CsvOptions(fmt.delimiter, fmt.quote, fmt.encoding)
    return CsvConnector(folder, patterns, options)


def ledger_cursor(wh: Warehouse, company_id: str, source: str) -> FileCursor:
    t = TABLES["file_ledger"]
    q = sa.select(t.c.path, t.c.sha256, t.c.size, t.c.mtime).where(
        t.c.company_id == company_id, t.c.source == source
    )
    rows = wh.read_arrow(q).to_pylist()
    return FileCursor(
        loaded=frozenset((r["path"], r["sha256"]) for r in rows),
        quick=frozenset((r["path"], r["size"], r["mtime"]) for r in rows),
    )


# --- step 1: extract ---------------------------------------------------------------------------


def extract(ws: Workspace, wh: Warehouse, firm: Firm, entity: str) -> list[FileReport]:
    """Copy the firm's new files of an entity into the raw layer (text columns, immutable)."""
    out_dir = ws.raw_dir(firm.company_id, entity)
    reports = []
    for source in sources_for(firm, entity):
        connector = build_connector(ws.district, source)
        cursor = ledger_cursor(wh, firm.company_id, source.name)
        try:
            for ex in connector.read(entity, cursor):
                rep = FileReport(source.name, ex.name, fingerprint=asdict(ex.fingerprint))
                try:
                    table, rep.header = ex.parse()
                except FileRejected as exc:
                    rep.status, rep.message = REJECTED, str(exc)
                else:
                    rep.rows_read = table.num_rows
                    out_dir.mkdir(parents=True, exist_ok=True)
                    pq.write_table(table, out_dir / f"{rep.stem}.parquet")
                reports.append(rep)
        except SourceError as exc:
            reports.append(FileReport(source.name, "", FAILED, f"{source.name}: {exc}"))
    _write_reports(out_dir, reports)
    return reports


# --- step 2: validate --------------------------------------------------------------------------


def validate(
    ws: Workspace, wh: Warehouse, firm: Firm, entity: str, run_id: str
) -> list[FileReport]:
    """Map, type and check each raw file: valid rows to staged, rejected rows to quarantine."""
    reports = read_reports(ws.raw_dir(firm.company_id, entity))
    out_dir = ws.staged_dir(firm.company_id, entity)
    for rep in reports:
        if rep.status != OK:
            continue
        source = next(s for s in firm.sources if s.name == rep.source)
        raw = pq.read_table(ws.raw_dir(firm.company_id, entity) / f"{rep.stem}.parquet")
        _validate_file(ws, wh, firm, entity, source, rep, raw, out_dir)
    _write_reports(out_dir, reports)
    # Recorded now too: a blocking check may stop the run before the load step records it.
    _record_syncs(ws, wh, firm, entity, reports, run_id, datetime.now(UTC), loaded=False)
    return reports


def _validate_file(ws, wh, firm, entity, source, rep, raw, out_dir) -> None:  # noqa: ANN001
    mapping = ws.district.mapping(source, entity)
    fmt = entity_format(ws.district, source, entity)
    try:
        staged = stage(raw, rep.header, entity=entity, mapping=mapping, fmt=fmt,
                       company_id=firm.company_id, file=rep.file)  # fmt: skip
    except MissingColumns as exc:
        rep.status, rep.message = BLOCKED, f"schema.missing_column: {exc}"
        rep.rules = [{"rule": "schema.missing_column", "checked": 1, "failed": 1,
                      "blocking": True, "reason": str(exc)}]  # fmt: skip
        return
    rep.new_columns = staged.new_columns
    params = _parameters(wh, firm.company_id, source.name, entity, mapping)
    report = quality.validate(entity, staged.table.to_pandas(), params)
    rep.rules = [asdict(r) for r in report.rules]
    parse_rules: dict[str, int] = {}
    for p in staged.problems:
        parse_rules[p.rule] = parse_rules.get(p.rule, 0) + 1
    rep.rules += [{"rule": r, "checked": rep.rows_read, "failed": n, "blocking": False,
                   "description": "the value is parsed by the declared format"}
                  for r, n in sorted(parse_rules.items())]  # fmt: skip
    if report.blocking_failures:
        rep.status = BLOCKED
        rep.message = "; ".join(f"{r.rule}: {r.reason}" for r in report.blocking_failures)
    lines = staged.table.column("_line").to_pylist()
    problems = [(p.line, p.rule, p.reason) for p in staged.problems]
    problems += [(lines[i.row], i.rule, i.reason) for i in report.row_issues]
    bad_lines = {line for line, _, _ in problems}
    valid = staged.table.filter(pa.array([line not in bad_lines for line in lines], pa.bool_()))
    q = quarantine_rows(raw, problems, sync_id=ws.sync_id(firm.company_id, source.name, entity),
                        company_id=firm.company_id, entity=entity, source=source.name,
                        file=rep.file)  # fmt: skip
    rep.rows_valid, rep.rows_quarantined = valid.num_rows, q.num_rows
    out_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(valid, out_dir / f"{rep.stem}.parquet")
    pq.write_table(q, out_dir / f"{rep.stem}.quarantine.parquet")


def _parameters(wh, company_id, source, entity, mapping) -> dict:  # noqa: ANN001
    params: dict[str, object] = {"min_row_count": 0}
    if mapping.full_snapshot:
        last = _last_rows_read(wh, company_id, source, entity)
        params["min_row_count"] = math.ceil(last * mapping.min_row_ratio) if last else 0
    if entity == "bom_lines":
        links = TABLES["supplier_links"]
        q = sa.select(links.c.local_code).where(links.c.company_id == company_id)
        params["known_supplier_codes"] = sorted(
            c for c in wh.read_arrow(q).column("local_code").to_pylist() if c
        )
    return params


def _last_rows_read(wh: Warehouse, company_id: str, source: str, entity: str) -> int | None:
    s = TABLES["syncs"]
    q = (
        sa.select(s.c.rows_read)
        .where(
            s.c.company_id == company_id,
            s.c.source == source,
            s.c.entity == entity,
            s.c.status == OK,
        )  # fmt: skip
        .order_by(s.c.finished_at.desc())
        .limit(1)
    )
    rows = wh.read_arrow(q).column("rows_read").to_pylist()
    return rows[0] if rows else None


# --- step 3: load ------------------------------------------------------------------------------


def load(ws: Workspace, wh: Warehouse, firm: Firm, entity: str, run_id: str) -> list[FileReport]:
    """Upsert each valid file with its quarantine rows and ledger entry, one transaction each."""
    staged_dir = ws.staged_dir(firm.company_id, entity)
    reports = read_reports(staged_dir) if staged_dir.exists() else read_reports(
        ws.raw_dir(firm.company_id, entity))  # fmt: skip
    started = datetime.now(UTC)
    supplier_ids = _supplier_ids(wh, firm.company_id) if entity == "bom_lines" else {}
    for rep in reports:
        if rep.status != OK:
            continue
        sync_id = ws.sync_id(firm.company_id, rep.source, entity)
        valid = pq.read_table(staged_dir / f"{rep.stem}.parquet")
        q = pq.read_table(staged_dir / f"{rep.stem}.quarantine.parquet")
        tables = harmonize(entity, valid, sync_id=sync_id, supplier_ids=supplier_ids)
        with wh.transaction() as conn:
            for name, rows in tables.items():
                wh.upsert(conn, name, rows)
            if q.num_rows:
                wh.upsert(conn, "quarantine", q)
            wh.upsert(conn, "file_ledger", _ledger_row(firm.company_id, rep, entity, sync_id))
        if q.num_rows:
            write_extract(ws.quarantine_dir(firm.company_id) / f"{sync_id.replace(':', '_')}.csv",
                          q)  # fmt: skip
    _record_syncs(ws, wh, firm, entity, reports, run_id, started)
    return reports


def _supplier_ids(wh: Warehouse, company_id: str) -> dict[str, str]:
    links = TABLES["supplier_links"]
    q = sa.select(links.c.local_code, links.c.supplier_id).where(links.c.company_id == company_id)
    return {r["local_code"]: r["supplier_id"] for r in wh.read_arrow(q).to_pylist()}


def _ledger_row(company_id: str, rep: FileReport, entity: str, sync_id: str) -> pa.Table:
    fp = rep.fingerprint or {}
    return pa.Table.from_pylist([{
        "company_id": company_id, "source": rep.source, "path": fp["path"],
        "sha256": fp["sha256"], "size": fp["size"], "mtime": fp["mtime"], "entity": entity,
        "status": "loaded", "sync_id": sync_id, "loaded_at": datetime.now(UTC),
    }])  # fmt: skip


def _record_syncs(ws, wh, firm, entity, reports, run_id, started, loaded=True) -> None:  # noqa: ANN001
    """One `syncs` row per source of the entity; before the load, valid rows count as 0."""
    now = datetime.now(UTC)
    rows = []
    for source in sources_for(firm, entity):
        mine = [r for r in reports if r.source == source.name]
        statuses = {r.status for r in mine}
        status = next((s for s in (FAILED, REJECTED, BLOCKED) if s in statuses), OK)
        rows.append({
            "sync_id": ws.sync_id(firm.company_id, source.name, entity), "run_id": run_id,
            "company_id": firm.company_id, "source": source.name, "entity": entity,
            "started_at": started, "finished_at": now,
            "status": status if loaded or status != OK else "validated",
            "rows_read": sum(r.rows_read for r in mine),
            "rows_loaded": sum(r.rows_valid for r in mine if r.status == OK) if loaded else 0,
            "rows_quarantined": (
                sum(r.rows_quarantined for r in mine if r.status == OK) if loaded else 0
            ),
            "cursor": json.dumps(sorted(r.file for r in mine if r.status == OK)),
            "message": "; ".join(r.message for r in mine if r.message)[:2000] or None,
        })  # fmt: skip
    if rows:
        with wh.transaction() as conn:
            wh.upsert(conn, "syncs", pa.Table.from_pylist(rows))


def upsert_companies(wh: Warehouse, firms: list[Firm]) -> None:
    """The district's firms, as configured."""
    now = datetime.now(UTC)
    cols = [c.name for c in TABLES["companies"].columns if c.name != "updated_at"]
    rows = [{**{c: getattr(f, c) for c in cols}, "updated_at": now} for f in firms]
    with wh.transaction() as conn:
        wh.upsert(conn, "companies", pa.Table.from_pylist(rows))


# --- reports -----------------------------------------------------------------------------------


def _write_reports(folder: Path, reports: list[FileReport]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reports.json").write_text(
        json.dumps([asdict(r) for r in reports], indent=1, default=str), encoding="utf-8"
    )


def read_reports(folder: Path) -> list[FileReport]:
    path = folder / "reports.json"
    if not path.exists():
        return []
    return [FileReport(**r) for r in json.loads(path.read_text(encoding="utf-8"))]


def entities() -> Iterator[str]:
    yield from ENTITIES
