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
from dataclasses import replace as dc_replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from connectors.base import FileCursor, FileRejected, SourceError
from connectors.csv_files import CsvConnector
from connectors.csv_parser import CsvOptions
from hub import quality
from hub.canonical import ENTITIES, TABLES
from hub.config import FILE_KINDS, CsvFormat, District, Firm, Source
from hub.erp import build_erp_connector, cursor_row, remove_deleted, stored_cursor
from hub.harmonize import harmonize
from hub.quarantine import extract_path, quarantine_rows, write_extract
from hub.resolve import resolve_quarantine
from hub.sftp_source import file_source, inbox_dir
from hub.staging import MissingColumns, Staged, stage
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
    cursor: str | None = None  # database and API sources: committed with the rows
    rows_deleted: int = 0  # database and API sources: records deleted in the source

    @property
    def stem(self) -> str:
        return f"{self.source}__{self.file}"


def sources_for(firm: Firm, entity: str) -> list[Source]:
    return [s for s in firm.sources if entity in s.entities]


def entity_format(district: District, source: Source, entity: str) -> CsvFormat:
    return district.mapping(source, entity).format or source.format


def build_connector(
    district: District, source: Source, cache_dir: Path | None = None
) -> CsvConnector:
    """The connector of a configured source: CSV files of a local or SFTP folder.

    `cache_dir` is where remote files are downloaded (see `hub.sftp_source.inbox_dir`).
    Database and API sources (`kind: sql`, `kind: tryton`) are built by `hub.erp`.
    """
    if source.kind not in FILE_KINDS:
        return build_erp_connector(district, source)
    folder = file_source(district, source.location, cache_dir)
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
        connector = build_connector(
            ws.district, source, inbox_dir(ws.data_dir, firm.company_id, source.name)
        )
        if source.kind in FILE_KINDS:
            cursor = ledger_cursor(wh, firm.company_id, source.name)
        else:
            cursor = stored_cursor(wh, firm.company_id, source.name, entity)
        try:
            for ex in connector.read(entity, cursor):
                rep = FileReport(source.name, ex.name, fingerprint=asdict(ex.fingerprint),
                                 cursor=ex.cursor)  # fmt: skip
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
        finally:
            connector.close()
    _write_reports(out_dir, reports)
    return reports


# --- step 2: validate --------------------------------------------------------------------------


@dataclass
class _Staged:
    """A staged file waiting for its quality checks."""

    firm: Firm
    source: Source
    rep: FileReport
    raw: pa.Table
    staged: Staged
    params: dict


def validate(
    ws: Workspace, wh: Warehouse, firms: list[Firm], entity: str, run_id: str
) -> dict[str, list[FileReport] | Exception]:
    """Map, type and check each firm's raw files: valid rows to staged, rejected to quarantine.

    Files are staged firm by firm (a firm's exception is kept and isolated), then checked
    together: files that share their check parameters go through Great Expectations in one
    validation, since its fixed cost per call outweighs the rows of most files.
    """
    results: dict[str, list[FileReport] | Exception] = {}
    pending: list[_Staged] = []
    for firm in firms:
        try:
            reports = read_reports(ws.raw_dir(firm.company_id, entity))
            pending += _stage_firm(ws, wh, firm, entity, reports)
            results[firm.company_id] = reports
        except Exception as exc:  # one firm's failure must not stop the others
            results[firm.company_id] = exc
    for group in _groups(pending):
        try:
            reports = _check_group(entity, group)
        except Exception as exc:
            for item in group:
                results[item.firm.company_id] = exc
            continue
        for item, report in zip(group, reports, strict=True):
            _finish_file(ws, entity, item, report)
    for firm in firms:
        reports = results[firm.company_id]
        if isinstance(reports, Exception):
            continue
        _write_reports(ws.staged_dir(firm.company_id, entity), reports)
        _write_extracts(ws, firm.company_id, entity, reports)
        # Recorded now too: a blocking check may stop the run before the load step does.
        _record_syncs(ws, wh, firm, entity, reports, run_id, datetime.now(UTC), loaded=False)
    return results


def _stage_firm(ws, wh, firm, entity, reports) -> list[_Staged]:  # noqa: ANN001
    out = []
    for rep in reports:
        if rep.status != OK:
            continue
        source = next(s for s in firm.sources if s.name == rep.source)
        raw = pq.read_table(ws.raw_dir(firm.company_id, entity) / f"{rep.stem}.parquet")
        mapping = ws.district.mapping(source, entity)
        try:
            staged = stage(raw, rep.header, entity=entity, mapping=mapping,
                           fmt=entity_format(ws.district, source, entity),
                           company_id=firm.company_id, file=rep.file)  # fmt: skip
        except MissingColumns as exc:
            rep.status, rep.message = BLOCKED, f"schema.missing_column: {exc}"
            rep.rules = [{"rule": "schema.missing_column", "checked": 1, "failed": 1,
                          "blocking": True, "reason": str(exc)}]  # fmt: skip
            continue
        rep.new_columns = staged.new_columns
        params = _parameters(wh, firm.company_id, source.name, entity, mapping)
        out.append(_Staged(firm, source, rep, raw, staged, params))
    return out


# Rows per Great Expectations call: large enough to spread its fixed cost (~0.4 s), small
# enough that the pandas copy it needs stays a fraction of memory (2M order lines in one
# call took 1.6 GB). A file is never split: its uniqueness rules hold within the file.
MAX_ROWS_PER_CHECK = 400_000


def _groups(pending: list[_Staged]) -> list[list[_Staged]]:
    """Files checked together: same parameters, and no batch-level rule that could fail
    (a minimum row count applies to one file, so such a file is checked alone)."""
    groups: dict[str, list[_Staged]] = {}
    for i, item in enumerate(pending):
        key = f"alone-{i}" if item.params.get("min_row_count") else json.dumps(
            item.params, sort_keys=True, default=str)  # fmt: skip
        groups.setdefault(key, []).append(item)
    out: list[list[_Staged]] = []
    for group in groups.values():
        chunk: list[_Staged] = []
        rows = 0
        for item in group:
            n = item.staged.table.num_rows
            if chunk and rows + n > MAX_ROWS_PER_CHECK:
                out.append(chunk)
                chunk, rows = [], 0
            chunk.append(item)
            rows += n
        out.append(chunk)
    return out


def _check_group(entity: str, group: list[_Staged]) -> list[quality.ValidationReport]:
    """One Great Expectations validation for the group, split back into one report per file."""
    tables = [item.staged.table for item in group]
    batch = pa.concat_tables(tables)
    read = quality.columns_read(entity)
    batch = batch.select([c for c in batch.column_names if c in read])
    report = quality.validate(entity, batch.to_pandas(), group[0].params)
    if len(group) == 1:
        return [report]
    out, start = [], 0
    for t in tables:
        stop = start + t.num_rows
        issues = [dc_replace(i, row=i.row - start) for i in report.row_issues
                  if start <= i.row < stop]  # fmt: skip
        failed: dict[str, set[int]] = {}
        for i in issues:
            failed.setdefault(i.rule, set()).add(i.row)
        rules = [dc_replace(r, checked=t.num_rows if r.checked else 0,
                            failed=len(failed.get(r.rule, ())))
                 for r in report.rules]  # fmt: skip
        out.append(quality.ValidationReport(entity, t.num_rows, issues, rules))
        start = stop
    return out


def _finish_file(ws: Workspace, entity: str, item: _Staged, report) -> None:  # noqa: ANN001
    rep, staged, firm = item.rep, item.staged, item.firm
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
    lines = staged.table.column("_line")
    problems = [(p.line, p.rule, p.reason) for p in staged.problems]
    if report.row_issues:
        line_of = lines.to_numpy()
        problems += [(int(line_of[i.row]), i.rule, i.reason) for i in report.row_issues]
    bad = pa.array(sorted({line for line, _, _ in problems}), pa.int64())
    valid = staged.table.filter(pc.invert(pc.is_in(lines, value_set=bad)))
    q = quarantine_rows(item.raw, problems,
                        sync_id=ws.sync_id(firm.company_id, item.source.name, entity),
                        company_id=firm.company_id, entity=entity, source=item.source.name,
                        file=rep.file)  # fmt: skip
    rep.rows_valid, rep.rows_quarantined = valid.num_rows, q.num_rows
    out_dir = ws.staged_dir(firm.company_id, entity)
    out_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(valid, out_dir / f"{rep.stem}.parquet")
    pq.write_table(q, out_dir / f"{rep.stem}.quarantine.parquet")


def _write_extracts(ws, company_id, entity, reports) -> None:  # noqa: ANN001
    """One CSV extract of failing rows per source of the sync, to send to the firm.

    Written at validation, so that the checks can name it; its rows are those of the files
    that load (a blocked file is answered by the `batch_valid` check instead).
    """
    staged_dir = ws.staged_dir(company_id, entity)
    for source in sorted({r.source for r in reports if r.status == OK and r.rows_quarantined}):
        parts = [pq.read_table(staged_dir / f"{r.stem}.quarantine.parquet") for r in reports
                 if r.source == source and r.status == OK and r.rows_quarantined]  # fmt: skip
        path = extract_path(ws.quarantine_dir(company_id), ws.sync_id(company_id, source, entity))
        write_extract(path, pa.concat_tables(parts))


def _parameters(wh, company_id, source, entity, mapping) -> dict:  # noqa: ANN001
    params: dict[str, object] = {"min_row_count": 0}
    if mapping.full_snapshot:
        last = _last_rows_read(wh, company_id, source, entity)
        params["min_row_count"] = math.ceil(last * mapping.min_row_ratio) if last else 0
    if entity == "bom_lines":
        params["known_supplier_codes"] = sorted(_supplier_ids(wh, company_id))
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
        # The source's mapping: its own fibre codes, what is a firm-wide constant (an estimate).
        mapping = ws.district.mapping(next(s for s in firm.sources if s.name == rep.source),
                                      entity)  # fmt: skip
        # A file whose every row is quarantined still commits its quarantine and ledger entry.
        tables = harmonize(entity, valid, sync_id=sync_id, supplier_ids=supplier_ids,
                           mapping=mapping) if valid.num_rows else {}  # fmt: skip
        with wh.transaction() as conn:
            for name, rows in tables.items():
                wh.upsert(conn, name, rows)
            if q.num_rows:
                wh.upsert(conn, "quarantine", q)
            wh.upsert(conn, "file_ledger", _ledger_row(firm.company_id, rep, entity, sync_id))
            if rep.cursor is not None:
                wh.upsert(
                    conn,
                    "source_cursors",
                    cursor_row(firm.company_id, rep.source, entity, rep.cursor, sync_id),
                )
            source = next(s for s in firm.sources if s.name == rep.source)
            resolve_quarantine(conn, company_id=firm.company_id, entity=entity,
                               source=rep.source, file=rep.file, sync_id=sync_id, valid=valid,
                               quarantined_lines=q.column("line").to_pylist(),
                               mapping=ws.district.mapping(source, entity))  # fmt: skip
    reports += remove_deleted(ws, wh, firm, entity, reports)  # database and API sources
    archive_committed(ws, wh, firm, entity, reports)
    _record_syncs(ws, wh, firm, entity, reports, run_id, started)
    return reports


def archive_committed(
    ws: Workspace, wh: Warehouse, firm: Firm, entity: str, reports: list[FileReport]
) -> None:
    """After the commits: move the files the ledger holds out of sources that archive (SFTP).

    Driven by the ledger, not by this run: a file committed by a run that crashed before
    archiving is archived by the next one (and its rows are not loaded twice).
    """
    for source in sources_for(firm, entity):
        if not getattr(getattr(source, "location", None), "archive_dir", None):
            continue
        if any(r.source == source.name and r.status == FAILED for r in reports):
            continue  # the server failed this run: its leftovers are archived by a later one
        connector = build_connector(
            ws.district, source, inbox_dir(ws.data_dir, firm.company_id, source.name)
        )
        try:
            cursor = ledger_cursor(wh, firm.company_id, source.name)
            for name in connector.committed(entity, cursor):
                connector.archive(name)
        except SourceError as exc:
            # The rows are committed: only the archiving is left, retried by the next sync.
            note = f"archive: {exc} (rows committed; the file is archived by the next sync)"
            mine = [r for r in reports if r.source == source.name]
            if mine:
                mine[-1].message = "; ".join(m for m in (mine[-1].message, note) if m)
            else:
                reports.append(FileReport(source.name, "", OK, note))
        finally:
            connector.close()


def _supplier_ids(wh: Warehouse, company_id: str) -> dict[str, str]:
    links = TABLES["supplier_links"]
    q = sa.select(links.c.local_code, links.c.local_codes, links.c.supplier_id).where(
        links.c.company_id == company_id
    )
    # A firm may list one supplier under several codes (`local_codes`, kept by resolution).
    return {
        code: r["supplier_id"]
        for r in wh.read_arrow(q).to_pylist()
        for code in (r["local_codes"] or r["local_code"] or "").split(",")
        if code
    }


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
            "cursor": json.dumps(sorted(r.file for r in mine if r.status == OK and r.file)),
            "rows_deleted": sum(r.rows_deleted for r in mine) if loaded else 0,
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
