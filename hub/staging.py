"""Mapping: a firm's parsed file (text columns, its own headers) → typed canonical columns.

Values are parsed by the formats the source declares (decimal mark, thousands separator, date
format, unit and value maps), never guessed. A value that does not parse is not coerced: its
row is set aside with the rule and a reason naming the firm's column and the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hub.canonical import BOOL, CANONICAL_UNITS, DATE, ENTITIES, FLOAT, INT, TEXT, Entity
from hub.config import CsvFormat, EntityMapping
from hub.harmonization import fibres, substances

# Spellings of units ERPs write, beyond what a source's `units:` map declares.
UNIT_SYNONYMS = {
    "pz": "pcs", "pz.": "pcs", "pezzi": "pcs", "nr": "pcs", "nr.": "pcs", "n.": "pcs",
    "n": "pcs", "pc": "pcs", "pcs": "pcs", "capi": "pcs", "kg": "kg", "kg.": "kg",
    "kgs": "kg", "g": "g", "gr": "g", "gr.": "g", "m": "m", "mt": "m", "mt.": "m", "ml": "m",
    "mtl": "m", "metri": "m", "cm": "cm", "m2": "m2", "mq": "m2", "m²": "m2", "l": "l",
    "lt": "l", "paia": "pair", "pair": "pair", "set": "set",
}  # fmt: skip
TOTALS = re.compile(r"^\s*(totale|totali|total|totals|tot\.?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class RowProblem:
    """A source row that cannot be staged: its line, the rule and a reason a person reads."""

    line: int
    rule: str
    reason: str


@dataclass
class Staged:
    """The outcome of mapping one file."""

    table: pa.Table  # canonical, typed, only the rows that parsed
    problems: list[RowProblem] = field(default_factory=list)
    new_columns: list[str] = field(default_factory=list)  # in the file, not in the mapping


class MissingColumns(Exception):
    """Mapped columns absent from the file: the file cannot be staged (schema drift)."""

    def __init__(self, file: str, missing: dict[str, str], header: list[str], fmt: CsvFormat):
        self.missing = missing
        cols = ", ".join(f"'{src}' ({canon})" for canon, src in missing.items())
        hint = ""
        if len(header) == 1:
            hint = (
                f"; the header was read as one single column '{header[0][:60]}': "
                f"is the delimiter really '{fmt.delimiter}'?"
            )
        super().__init__(
            f"{file}: column(s) {cols} missing from the file "
            f"(it has: {', '.join(header[:12])}){hint}"
        )


def stage(
    table: pa.Table,
    header: list[str],
    *,
    entity: str,
    mapping: EntityMapping,
    fmt: CsvFormat,
    company_id: str,
    file: str,
) -> Staged:
    """Map and type one parsed file. Raises MissingColumns when mapped headers are absent."""
    ent = ENTITIES[entity]
    missing = {c: h for c, h in mapping.columns.items() if h not in header}
    if missing:
        raise MissingColumns(file, missing, header, fmt)
    lines = table.column("_line").to_numpy()
    bad = np.zeros(table.num_rows, dtype=bool)
    structural = np.zeros(table.num_rows, dtype=bool)
    problems: list[RowProblem] = []

    def flag(mask: np.ndarray | pa.Array, rule: str, reason_of: Callable[[int], str]) -> None:
        # A row that is not a record (header, totals) gets one reason, not one per column.
        mask = _mask(mask)
        for i in np.flatnonzero(mask & ~structural):
            problems.append(RowProblem(int(lines[i]), rule, reason_of(i)))
        bad[mask] = True

    cleaned = {src: _clean(table.column(src)) for src in dict.fromkeys(mapping.columns.values())}
    _structure_rows(table, cleaned, flag)
    structural |= bad
    columns: dict[str, pa.Array] = {}
    for col in ent.columns:
        if col.name in mapping.columns:
            src = mapping.columns[col.name]
            raw = cleaned[src]
            columns[col.name] = _typed(raw, col.name, src, col.type, mapping, fmt, flag)
        elif col.name in mapping.constants:
            value = _typed(
                pa.array([mapping.constants[col.name]] * table.num_rows, TEXT),
                col.name, "constant", col.type, mapping, fmt, flag,
            )  # fmt: skip
            columns[col.name] = value
        else:
            columns[col.name] = pa.nulls(table.num_rows, col.type)
    if "composition" in mapping.columns:  # fibre names and shares (BOM lines, articles)
        bad_comp, why = fibres.check_column(columns["composition"], mapping.fibres)
        flag(bad_comp, f"{entity}.composition_valid", lambda i: why[i])
    if "substances" in mapping.columns:  # declared substances: CAS numbers, w/w concentrations
        bad_subs, why_subs = substances.check_column(columns["substances"])
        flag(bad_subs, substances.RULE, lambda i: why_subs[i])
    keep = pa.array(~bad)
    out = _assemble(ent, columns, company_id, file, table.column("_line"))
    mapped = set(mapping.columns.values())
    return Staged(
        table=out.filter(keep),
        problems=sorted(problems, key=lambda p: p.line),
        new_columns=[h for h in header if h not in mapped],
    )


def _structure_rows(table: pa.Table, cleaned: dict[str, pa.Array], flag) -> None:  # noqa: ANN001
    """Rows that are not records: a repeated header, a totals row, an all-empty row."""
    n = table.num_rows
    header_like = np.ones(n, dtype=bool)
    empty = np.ones(n, dtype=bool)
    for src, vals in cleaned.items():
        header_like &= _mask(pc.equal(vals, src))
        empty &= _mask(pc.is_null(vals))
    flag(header_like, "structure.repeated_header", lambda i: "the header row is repeated here")
    flag(empty, "structure.empty_row", lambda i: "the row is empty")
    totals = np.zeros(n, dtype=bool)
    first_cols = [c for c in table.column_names if c != "_line"][:3]
    for c in first_cols:
        found = pc.match_substring_regex(table.column(c), TOTALS.pattern, ignore_case=True)
        totals |= _mask(found)
    cells = {c: table.column(c) for c in first_cols}

    def totals_reason(i: int) -> str:
        label = next(str(cells[c][i]) for c in first_cols if TOTALS.match(str(cells[c][i])))
        return f"a totals row ('{label.strip()}'), not a record"

    flag(totals, "structure.totals_row", totals_reason)


def _mask(mask: np.ndarray | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numpy boolean mask; null (unknown) counts as False."""
    if isinstance(mask, np.ndarray):
        return mask
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _clean(col: pa.ChunkedArray) -> pa.Array:
    """Trimmed text; empty cells become null (an empty cell is a missing value)."""
    trimmed = pc.utf8_trim_whitespace(col.combine_chunks())
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, TEXT), trimmed)


def as_staged_text(col: pa.ChunkedArray | pa.Array, name: str, mapping: EntityMapping) -> pa.Array:
    """A source column as staging reads a text column `name`: trimmed, `values:` map applied
    (what a key read straight from the source is compared by with the stored one)."""
    raw = _clean(col if isinstance(col, pa.ChunkedArray) else pa.chunked_array([col], TEXT))
    return _map_values(raw, mapping.values[name]) if name in mapping.values else raw


def _typed(raw, name, src, type_, mapping, fmt, flag) -> pa.Array:  # noqa: ANN001
    if name == "unit":
        return _units(raw, src, mapping, flag)
    if name in mapping.values:
        raw = _map_values(raw, mapping.values[name])
    if type_ == TEXT:
        return raw
    if type_ in (FLOAT, INT):
        return _number(raw, name, src, type_, fmt, flag)
    if type_ == DATE:
        return _date(raw, name, src, fmt, flag)
    if type_ == BOOL:
        return _bool(raw, name, src, fmt, flag)
    raise TypeError(f"no parser for {type_}")


def _per_distinct(raw: pa.Array, parse: Callable[[pa.Array], tuple[pa.Array, pa.Array]]):  # noqa: ANN202
    """Apply `parse` (values → (parsed, invalid)) once per distinct value, then expand.

    ERP columns repeat few values (dates, units, codes): parsing the distinct ones is what
    keeps typing a 2-million-row file cheap.
    """
    enc = pc.dictionary_encode(raw)
    parsed, invalid = parse(enc.dictionary)
    return pc.take(parsed, enc.indices), pc.take(invalid, enc.indices)


def _number(raw, name, src, type_, fmt: CsvFormat, flag) -> pa.Array:  # noqa: ANN001
    d, t = re.escape(fmt.decimal), re.escape(fmt.thousands)
    grouped = rf"\d{{1,3}}({t}\d{{3}})+|" if fmt.thousands else ""
    frac = rf"({d}\d+)?" if type_ == FLOAT else ""
    pattern = rf"^[+-]?({grouped}\d+){frac}$"

    def parse(values: pa.Array) -> tuple[pa.Array, pa.Array]:
        invalid = pc.invert(pc.match_substring_regex(values, pattern))
        text = pc.if_else(invalid, pa.scalar(None, TEXT), values)
        if fmt.thousands:
            text = pc.replace_substring(text, fmt.thousands, "")
        if fmt.decimal != ".":
            text = pc.replace_substring(text, fmt.decimal, ".")
        return pc.cast(text, type_), invalid

    parsed, invalid = _per_distinct(raw, parse)
    kind = "a number" if type_ == FLOAT else "a whole number"
    flag(invalid, "parse.number", lambda i: (
        f"{name} ('{src}') '{raw[i]}' is not {kind} (declared decimal mark '{fmt.decimal}'"
        + (f", thousands separator '{fmt.thousands}')" if fmt.thousands else ")")
    ))  # fmt: skip
    return parsed


def _date(raw, name, src, fmt: CsvFormat, flag) -> pa.Array:  # noqa: ANN001
    def parse(values: pa.Array) -> tuple[pa.Array, pa.Array]:
        parsed = pc.strptime(values, format=fmt.date_format, unit="s", error_is_null=True)
        # strptime rolls 31/02 over to 03/03: a date must print back as it was written.
        back = pc.strftime(parsed, format=fmt.date_format)
        rolled = pc.fill_null(pc.not_equal(_unpadded(back), _unpadded(values)), False)
        parsed = pc.if_else(rolled, pa.scalar(None, parsed.type), parsed)
        return pc.cast(parsed, DATE), pc.is_null(parsed)

    parsed, invalid = _per_distinct(raw, parse)
    flag(invalid, "parse.date", lambda i: (
        f"{name} ('{src}') '{raw[i]}' is not a date in the declared format {fmt.date_format}"
    ))  # fmt: skip
    return parsed


def _unpadded(text: pa.Array) -> pa.Array:
    """'01/02/2026' and '1/2/2026' name the same day."""
    return pc.replace_substring_regex(text, r"(^|\D)0+(\d)", r"\1\2")


def _bool(raw, name, src, fmt: CsvFormat, flag) -> pa.Array:  # noqa: ANN001
    low = pc.utf8_lower(raw)
    yes = pc.is_in(low, pa.array([v.lower() for v in fmt.true_values]))
    no = pc.is_in(low, pa.array([v.lower() for v in fmt.false_values]))
    invalid = pc.and_(pc.is_valid(raw), pc.invert(pc.or_(yes, no)))
    flag(invalid, "parse.boolean", lambda i: (
        f"{name} ('{src}') '{raw[i]}' is neither yes ({', '.join(fmt.true_values[:3])}…) "
        f"nor no ({', '.join(v for v in fmt.false_values[:3] if v)}…)"
    ))  # fmt: skip
    return pc.if_else(pc.is_valid(raw), yes, pa.scalar(None, BOOL))


def _map_values(raw: pa.Array, table: dict[str, str]) -> pa.Array:
    """Replace source codes by canonical values (exact, then case-insensitive)."""
    lookup = {k.lower(): v for k, v in table.items()}
    keys = pa.array(list(lookup))
    idx = pc.index_in(pc.utf8_lower(raw), value_set=keys)
    mapped = pc.take(pa.array(list(lookup.values()), TEXT), idx)
    return pc.coalesce(mapped, raw)


def _units(raw: pa.Array, src: str, mapping: EntityMapping, flag) -> pa.Array:  # noqa: ANN001
    table = {**UNIT_SYNONYMS, **{k.lower(): v for k, v in mapping.units.items()}}
    table.update({u: u for u in CANONICAL_UNITS})
    keys = pa.array(list(table))
    idx = pc.index_in(pc.utf8_lower(raw), value_set=keys)
    units = pc.take(pa.array(list(table.values()), TEXT), idx)
    unknown = pc.and_(pc.is_valid(raw), pc.is_null(units))
    flag(unknown, "unit.unknown", lambda i: (
        f"unit ('{src}') '{raw[i]}' is not known: add it to the source's units map "
        f"(canonical units: {', '.join(CANONICAL_UNITS)})"
    ))  # fmt: skip
    return units


def _assemble(
    ent: Entity, columns: dict[str, pa.Array], company_id: str, file: str, lines: pa.ChunkedArray
) -> pa.Table:
    n = len(lines)
    arrays = [pa.repeat(pa.scalar(company_id, TEXT), n)]
    arrays += [columns[c.name] for c in ent.columns]
    arrays += [pa.repeat(pa.scalar(file, TEXT), n), lines.combine_chunks()]
    return pa.Table.from_arrays(arrays, schema=ent.schema())
