"""Onboarding a firm: look at its export files and propose a mapping for district.yaml.

Plain Python, no Dagster. From a folder of CSV files the hub has never seen, `propose` detects
encoding, delimiter, decimal mark, thousands separator and date format, guesses each file's
entity from its name and header, matches headers to canonical columns through the synonyms of
`hub/data/header_synonyms.yaml`, and returns a source block to paste into district.yaml. What
it is not sure about is said, never hidden: every doubt is a `# CHECK:` comment in the YAML.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml

from hub.canonical import CANONICAL_UNITS, ENTITIES

SYNONYMS = Path(__file__).parent / "data" / "header_synonyms.yaml"
DELIMITERS = [";", ",", "\t", "|"]
DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"]
SAMPLE_LINES = 200
SAMPLE_VALUES = 3
_NUM_COMMA = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$|^-?\d+,\d+$")
_NUM_POINT = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$|^-?\d+\.\d+$")
_THOUSANDS_DOT = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_DATE_LIKE = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}$|^\d{8}$")


def norm(header: str) -> str:
    """'Q.tà' → 'qta', 'P. IVA' → 'piva': lower case, no accents, letters and digits only."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


@cache
def synonyms() -> dict[str, dict]:
    data = yaml.safe_load(SYNONYMS.read_text(encoding="utf-8"))
    return {e: d for e, d in data.items() if e in ENTITIES}


@dataclass
class FileGuess:
    """What one file looks like."""

    name: str
    encoding: str = "utf-8"
    delimiter: str = ";"
    header: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    entity: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical → header
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def sniff(name: str, data: bytes) -> FileGuess:
    """Encoding, delimiter, header and the first rows of one file; doubts go to `notes`."""
    g = FileGuess(name)
    if not data.strip():
        g.error = "the file is empty"
        return g
    if b"\x00" in data[:4096]:
        g.error = "binary content, not a CSV text file"
        return g
    g.encoding, text = _encoding(data, g.notes)
    lines = text.splitlines()[: SAMPLE_LINES + 1]
    g.delimiter = _delimiter(lines, g.notes)
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=g.delimiter)
    records = [r for r in reader if any(c.strip() for c in r)]
    if not records:
        g.error = "no lines with values"
        return g
    g.header = [h.strip() for h in records[0]]
    g.rows = [dict(zip(g.header, r, strict=False)) for r in records[1:]]
    if not g.rows:
        g.notes.append("header only: no data rows to learn formats from")
    g.entity = guess_entity(name, g.header, g.notes)
    if g.entity:
        g.columns = match_columns(g.entity, g.header)
    return g


def _encoding(data: bytes, notes: list[str]) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", data.decode("utf-8-sig")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        notes.append(
            "encoding: not UTF-8; cp1252 (Windows) assumed — check that accented letters "
            "(à, è, €) read right in the sample values; latin-1 is the other candidate"
        )
        return "cp1252", data.decode("cp1252", errors="replace")
    return ("ascii" if text.isascii() else "utf-8"), text


def _delimiter(lines: list[str], notes: list[str]) -> str:
    """The delimiter that splits every sampled line into the same number (>1) of fields."""
    scores = {}
    for d in DELIMITERS:
        counts = Counter(len(next(csv.reader([ln], delimiter=d))) for ln in lines if ln.strip())
        if not counts:
            continue
        fields, n = counts.most_common(1)[0]
        if fields > 1:
            scores[d] = (n / sum(counts.values()), fields)
    if not scores:
        notes.append("delimiter: every line is one field; ';' assumed")
        return ";"
    best = max(scores, key=lambda d: scores[d])
    if scores[best][0] < 1:
        notes.append(f"delimiter: {best!r} splits only {scores[best][0]:.0%} of lines alike")
    rivals = [d for d in scores if d != best and scores[d][0] == 1 and scores[d][1] > 1]
    if rivals:
        notes.append(f"delimiter: {best!r} chosen, but {rivals} also split every line alike")
    return best


def guess_entity(name: str, header: list[str], notes: list[str] | None = None) -> str | None:
    """The entity whose synonyms match most headers; the file name breaks ties."""
    words = set(re.split(r"[^a-z]+", name.lower()))
    best, best_score = None, 0.0
    for entity, syn in synonyms().items():
        matched = len(match_columns(entity, header))
        score = matched + (2.5 if words & set(syn.get("files", [])) else 0)
        if score > best_score:
            best, best_score = entity, score
    if best is None or best_score < 3:
        if notes is not None:
            notes.append("entity: not recognised from the name or header; map it by hand")
        return None
    return best


def match_columns(entity: str, header: list[str]) -> dict[str, str]:
    """Canonical column → header, by synonyms in their order of preference; one header each."""
    by_norm = {norm(h): h for h in header}
    used: set[str] = set()
    out: dict[str, str] = {}
    for column, names in synonyms()[entity]["columns"].items():
        for n in [column, *names]:
            h = by_norm.get(norm(n))
            if h and h not in used:
                out[column], used = h, used | {h}
                break
    return out


def detect_numbers(values: list[str], notes: list[str]) -> tuple[str, str]:
    """(decimal mark, thousands separator) from number-like values of the files."""
    vals = [v.strip() for v in values if v and v.strip()]
    comma = sum(bool(_NUM_COMMA.match(v)) for v in vals)
    point = sum(bool(_NUM_POINT.match(v)) for v in vals)
    if not comma and not point:
        notes.append("decimal mark: no decimals seen; ',' assumed (Italian exports)")
        return ",", ""
    if comma and point:
        notes.append(f"decimal mark: both seen ({comma} values with ',', {point} with '.')")
    decimal = "," if comma >= point else "."
    if decimal == ",":
        thousands = "." if any(_THOUSANDS_DOT.match(v) for v in vals) else ""
    else:
        thousands = "," if any(_THOUSANDS_COMMA.match(v) for v in vals) else ""
        if any(re.match(r"^-?\d{1,3}\.\d{3}$", v) for v in vals):
            notes.append("decimal mark: values like '1.234' could be a thousand with a '.' "
                         "separator; '.' read as decimal mark")  # fmt: skip
    return decimal, thousands


def detect_date_format(values: list[str], notes: list[str]) -> str | None:
    """The format that reads every date-like value; doubts (day ≤ 12 everywhere) are noted."""
    vals = [v.strip() for v in values if v and _DATE_LIKE.match(v.strip())]
    if not vals:
        return None
    fits = []
    for fmt in DATE_FORMATS:
        ok = 0
        for v in vals:
            try:
                datetime.strptime(v, fmt)
                ok += 1
            except ValueError:
                pass
        fits.append((ok, fmt))
    ok, best = max(fits, key=lambda t: t[0])
    if ok < len(vals):
        notes.append(f"date format: {best!r} reads {ok} of {len(vals)} dates; the others "
                     "may be faulty or written another way")  # fmt: skip
    ties = [f for n, f in fits if n == ok and f != best]
    if ties:
        notes.append(f"date format: {best!r} chosen, but {ties} read the same dates")
    return best


def files_glob(names: list[str]) -> str:
    """'ordini_20261120.csv', 'ordini_20261121.csv' → 'ordini_*.csv'."""
    globs = {re.sub(r"\d{4,}", "*", n) for n in names}
    return globs.pop() if len(globs) == 1 else names[0]


@dataclass
class Proposal:
    files: list[FileGuess]
    source: dict
    notes: list[str]

    def yaml(self) -> str:
        """The source block, commented with every doubt, to paste under a firm's `sources:`."""
        head = [
            "# Proposed by `hub discover`. Answer every CHECK, then paste the block, indented,",
            "# under the firm's `sources:` in district.yaml; run `hub validate-config` (it warns",
            "# of placeholders left) and `hub check --company ID`.",
        ]
        head += [f"# CHECK: {n}" for n in self.notes]
        body = yaml.safe_dump([self.source], allow_unicode=True, sort_keys=False, width=100)
        return "\n".join(head) + "\n" + body


def propose(
    files: list[tuple[str, bytes]], *, source_name: str = "gestionale", location: dict
) -> Proposal:
    """Detect formats and mappings of a folder's files and build a source block."""
    guesses = [sniff(n, d) for n, d in files if n.lower().endswith((".csv", ".txt"))]
    notes: list[str] = []
    for g in guesses:
        notes += [f"{g.name}: {n}" for n in g.notes]
        if g.error:
            notes.append(f"{g.name}: not usable: {g.error}")
    ok = [g for g in guesses if not g.error]
    if not ok:
        notes.append("no readable CSV file found")
        return Proposal(guesses, {"name": source_name, "kind": "csv", "location": location,
                                  "entities": {}}, notes)  # fmt: skip
    # ASCII-only files read alike in any of the candidates: they do not vote.
    votes = Counter(g.encoding for g in ok if g.encoding != "ascii")
    encoding = votes.most_common(1)[0][0] if votes else "utf-8"
    if not votes:
        notes.append("encoding: only ASCII characters seen; utf-8 and cp1252 read them alike")
    if len(votes) > 1:
        notes.append(f"encoding: files differ ({dict(votes)}); each is given its own below")
    delimiter = Counter(g.delimiter for g in ok).most_common(1)[0][0]
    numbers, dates = [], []
    for g in ok:
        for col, header in g.columns.items():
            kind = _kind(g.entity, col)
            values = [r.get(header, "") for r in g.rows]
            if kind == "number":
                numbers += values
            elif kind == "date":
                dates += values
    decimal, thousands = detect_numbers(numbers, notes)
    date_format = detect_date_format(dates, notes) or "%d/%m/%Y"
    if not dates:
        notes.append("date format: no date column recognised; '%d/%m/%Y' assumed")
    fmt = {"delimiter": delimiter, "decimal": decimal, "thousands": thousands,
           "encoding": encoding, "date_format": date_format}  # fmt: skip
    entities: dict[str, dict] = {}
    for entity in ENTITIES:
        mine = [g for g in ok if g.entity == entity]
        if not mine:
            continue
        g = mine[0]
        block: dict = {"files": files_glob([m.name for m in mine]), "columns": g.columns}
        if len({tuple(m.header) for m in mine}) > 1:
            notes.append(f"{entity}: files {[m.name for m in mine]} have different headers")
        if any(m.encoding not in (encoding, "ascii") or m.delimiter != delimiter for m in mine):
            enc = g.encoding if g.encoding != "ascii" else encoding
            block["format"] = {**fmt, "encoding": enc, "delimiter": g.delimiter}
        missing = [c.name for c in ENTITIES[entity].columns if c.required
                   and c.name not in g.columns]  # fmt: skip
        if missing:
            notes.append(
                f"{entity} ({g.name}): required columns not found: {', '.join(missing)}"
                " — map a header or set them under constants:"
            )
        unmapped = [h for h in g.header if h not in g.columns.values()]
        if unmapped:
            notes.append(f"{entity} ({g.name}): headers left unmapped: {', '.join(unmapped)}")
        _values_notes(entity, g, block, notes)
        entities[entity] = block
    for g in ok:
        if g.entity is None:
            notes.append(f"{g.name}: entity unknown; headers: {', '.join(g.header)}")
    seen = [g.entity for g in ok if g.entity]
    for e, n in Counter(seen).items():
        names = [g.name for g in ok if g.entity == e]
        if n > 1 and files_glob(names) == names[0]:
            notes.append(f"{e}: several files with different names: {names}; the glob "
                         "matches only the first — widen it by hand")  # fmt: skip
    source = {"name": source_name, "kind": "csv", "location": location, "format": fmt,
              "entities": entities}  # fmt: skip
    return Proposal(guesses, source, notes)


def _kind(entity: str | None, column: str) -> str:
    if entity is None:
        return "text"
    col = next((c for c in ENTITIES[entity].columns if c.name == column), None)
    t = str(getattr(col, "type", "")).lower()
    if "date" in t:
        return "date"
    if any(k in t for k in ("float", "int", "double", "numeric")) and column != "line_no":
        return "number"
    return "text"


def _values_notes(entity: str, g: FileGuess, block: dict, notes: list[str]) -> None:
    """Codes the mapping must translate: order direction codes and unknown units."""
    if "direction" in g.columns:
        codes = sorted({r.get(g.columns["direction"], "").strip() for r in g.rows} - {""})
        known = {"sale", "purchase", "work_order"}
        if codes and not set(codes) <= known:
            block["values"] = {"direction": {c: "CHECK: sale, purchase or work_order"
                                             for c in codes}}  # fmt: skip
            notes.append(f"{entity}: direction codes {codes} must be mapped under values:")
    if "unit" in g.columns:
        from hub.staging import UNIT_SYNONYMS

        units = sorted({r.get(g.columns["unit"], "").strip() for r in g.rows} - {""})
        unknown = [u for u in units if u.lower() not in CANONICAL_UNITS
                   and u.lower() not in UNIT_SYNONYMS]  # fmt: skip
        if unknown:
            block["units"] = {u: "CHECK: pcs, kg, g, m, cm, m2, l, pair, set" for u in unknown}
            notes.append(f"{entity}: units {unknown} are not known: map them under units:")


def sample_values(g: FileGuess) -> dict[str, list[str]]:
    return {h: [r.get(h, "") for r in g.rows[:SAMPLE_VALUES]] for h in g.header}
