"""Onboarding checks of configured sources: a real sample read, and mapped headers present.

Used by `hub check` (connect, folder present, parse the newest file of each entity, mapped
headers in it) and `hub validate-config` (mapped headers missing from the current files are
warnings that name the YAML line, the firm, the source, the entity, the file and the field).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from connectors.base import FileRejected, SourceError
from connectors.csv_parser import CsvOptions, parse_csv
from hub.config import District, Source
from hub.yaml_lines import load_yaml


@dataclass
class Probe:
    """What reading one entity of a source found."""

    entity: str
    ok: bool
    detail: str


def _files(connector):  # noqa: ANN001, ANN202
    return getattr(connector, "files", None)


def probe_source(district: District, source: Source) -> list[Probe]:
    """Parse the newest file of each entity as declared and look for every mapped header."""
    from hub.pipeline import build_connector, entity_format

    connector = build_connector(district, source)
    files = _files(connector)
    if files is None or not hasattr(files, "list"):
        return []  # database and API sources: their own check covers the sample read
    out = []
    for entity in source.entities:
        mapping = district.mapping(source, entity)
        try:
            found = files.list(mapping.files)
        except SourceError as exc:
            out.append(Probe(entity, False, str(exc)))
            continue
        if not found:
            out.append(Probe(entity, True, f"no file matches '{mapping.files}' yet"))
            continue
        newest = found[-1].name
        fmt = entity_format(district, source, entity)
        try:
            table, header = parse_csv(
                files.read_bytes(newest), newest, CsvOptions(fmt.delimiter, fmt.quote, fmt.encoding)
            )
        except (FileRejected, SourceError) as exc:
            out.append(Probe(entity, False, f"{exc}"))
            continue
        missing = [f"{col} ← '{h}'" for col, h in mapping.columns.items() if h not in header]
        if missing:
            out.append(Probe(entity, False, f"{newest}, line 1: mapped headers missing: "
                             f"{', '.join(missing)}"))  # fmt: skip
        else:
            out.append(Probe(entity, True, f"{newest}: {table.num_rows} rows read"))
    return out


def header_warnings(district: District, path: Path) -> list[str]:
    """Mapped headers absent from the newest file of reachable local folders, located."""
    _, where = load_yaml(path)
    out = []
    for fi, firm in enumerate(district.firms):
        for si, source in enumerate(firm.sources):
            out += _unanswered(path, where, fi, si, firm.company_id, source)
            if getattr(getattr(source, "location", None), "kind", None) != "local":
                continue
            folder = district.resolve_path(source.location.path)
            if not folder.is_dir():
                line = where.line(("firms", fi, "sources", si, "location", "path"))
                out.append(f"{path}:{line}: firms[{fi}] ({firm.company_id}) → sources[{si}] "
                           f"({source.name}): folder {folder} not reachable; headers not "
                           "checked")  # fmt: skip
                continue
            for entity, m in source.entities.items():
                out += _entity_warnings(district, path, where, fi, si, firm.company_id, source,
                                        entity, m, folder)  # fmt: skip
    return out


def _unanswered(path, where, fi, si, company_id, source) -> list[str]:  # noqa: ANN001
    """Placeholders of a `hub discover` proposal left as they were ('CHECK: …')."""
    out = []
    for entity, m in source.entities.items():
        if isinstance(m, str):
            continue
        found = [(("values", col, code), v) for col, codes in m.values.items()
                 for code, v in codes.items()]  # fmt: skip
        found += [(("units", u), v) for u, v in m.units.items()]
        for loc, v in found:
            if str(v).startswith("CHECK"):
                full = ("firms", fi, "sources", si, "entities", entity, *loc)
                out.append(f"{path}:{where.line(full)}: firms[{fi}] ({company_id}) → "
                           f"sources[{si}].entities.{entity}.{'.'.join(loc)}: still the "
                           f"placeholder '{v}' of `hub discover`: answer it")  # fmt: skip
    return out


def _entity_warnings(district, path, where, fi, si, company_id, source, entity, m, folder):  # noqa: ANN001, ANN202, PLR0913
    from hub.pipeline import entity_format

    mapping = district.mapping(source, entity)
    files = sorted(p for p in folder.glob(mapping.files) if p.is_file())
    if not files:
        return []
    newest = files[-1]
    fmt = entity_format(district, source, entity)
    try:
        text = newest.read_bytes().decode(fmt.encoding).removeprefix("\ufeff")
        header = [h.strip() for h in next(csv.reader(io.StringIO(text), delimiter=fmt.delimiter,
                                                     quotechar=fmt.quote), [])]  # fmt: skip
    except (UnicodeDecodeError, OSError) as exc:
        return [f"{path}: {company_id} / {source.name} / {entity}: {newest.name}, line 1: "
                f"cannot read the header as {fmt.encoding}: {exc}"]  # fmt: skip
    out = []
    for col, h in mapping.columns.items():
        if h in header:
            continue
        if isinstance(m, str):  # a profile: point at the profile's line
            loc: tuple = ("profiles", m, "columns", col)
            field = f"profiles.{m}.columns.{col}"
        else:
            loc = ("firms", fi, "sources", si, "entities", entity, "columns", col)
            field = f"firms[{fi}] ({company_id}) → sources[{si}].entities.{entity}.columns.{col}"
        out.append(f"{path}:{where.line(loc)}: {field}: header '{h}' not in {newest.name}, "
                   f"line 1 (headers: {', '.join(header)})")  # fmt: skip
    return out
