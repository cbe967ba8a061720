"""CSV parser: bytes in a declared encoding and delimiter → an Arrow table of text columns.

Every column is read as text; typing happens later by the mapping's declared formats, so that
nothing is guessed (leading zeros, decimal commas, dates). Each row keeps its physical line
number. A file that cannot be read as declared is rejected whole with the file, line and reason.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.base import FileRejected


@dataclass(frozen=True)
class CsvOptions:
    """How a file is written. Mirrors the `format:` block of a source in district.yaml."""

    delimiter: str = ";"
    quote: str = '"'
    encoding: str = "utf-8"


def parse_csv(data: bytes, name: str, options: CsvOptions) -> tuple[pa.Table, list[str]]:
    """Parse one CSV file.

    Args:
        data: the file's bytes.
        name: the file name, for messages.
        options: delimiter, quote character and encoding.

    Returns:
        The table (source headers as column names, all text, plus int64 `_line`) and the header.

    Raises:
        FileRejected: empty, binary, undecodable, header only, duplicate headers, or rows whose
            field count differs from the header (a truncated line, a stray delimiter).
    """
    text = _decode(data, name, options.encoding)
    utf8 = text.encode("utf-8")
    header = _header(text, name, options)
    invalid: list[tuple[int | None, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(
                use_threads=False, column_names=header, skip_rows=1, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=options.delimiter,
                quote_char=options.quote,
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise FileRejected(name, f"not a valid CSV as declared: {exc}") from exc
    if invalid:
        number, row = invalid[0]
        more = f" (and {len(invalid) - 1} more such lines)" if len(invalid) > 1 else ""
        raise FileRejected(
            name,
            f"{_fields(row, options)} fields where the header has {len(header)}: "
            f"truncated line or stray delimiter ('{row[:60]}'){more}",
            line=number,
        )
    if table.num_rows == 0:
        raise FileRejected(name, "the file has a header but no data rows", line=1)
    lines = _line_numbers(utf8, table.num_rows, options)
    return table.append_column("_line", pa.array(lines, pa.int64())), header


def _decode(data: bytes, name: str, encoding: str) -> str:
    if not data.strip():
        raise FileRejected(name, "the file is empty")
    nul = data.find(b"\x00")
    if nul >= 0 and not encoding.lower().startswith("utf-16"):
        raise FileRejected(name, f"binary content, not text (NUL byte at offset {nul})")
    try:
        text = codecs.decode(data, encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRejected(
            name, f"not valid {encoding} text (byte 0x{data[exc.start]:02x})", line=line
        ) from exc
    return text.removeprefix("\ufeff")


def _header(text: str, name: str, options: CsvOptions) -> list[str]:
    first = next(
        csv.reader(io.StringIO(text), delimiter=options.delimiter, quotechar=options.quote), []
    )
    header = [h.strip() for h in first]
    if not any(header):
        raise FileRejected(name, "the first line holds no column names", line=1)
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise FileRejected(name, f"column '{h}' appears twice in the header", line=1)
        seen.add(h)
    if "" in header:
        raise FileRejected(name, f"column {header.index('') + 1} of the header has no name", line=1)
    return header


def _fields(row: str, options: CsvOptions) -> int:
    return len(next(csv.reader([row], delimiter=options.delimiter, quotechar=options.quote)))


def _line_numbers(utf8: bytes, rows: int, options: CsvOptions) -> np.ndarray:
    """Physical line of each row: the non-empty lines after the header, when lines are rows."""
    buf = np.frombuffer(utf8, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(buf)]))
    length = stops - starts
    # A line made only of "\r" is empty too (Windows line endings).
    cr_only = (length == 1) & (buf[np.minimum(starts, len(buf) - 1)] == 13)
    nonempty = np.flatnonzero((length > 0) & ~cr_only) + 1
    if len(nonempty) - 1 == rows:
        return nonempty[1:]
    # Quoted values span lines: let the csv module count physical lines (slow, rare).
    reader = csv.reader(
        io.StringIO(utf8.decode("utf-8")), delimiter=options.delimiter, quotechar=options.quote
    )
    out: list[int] = []
    start = 1
    for i, rec in enumerate(reader):
        if i and rec:
            out.append(start)
        start = reader.line_num + 1
    return np.asarray(out[:rows], dtype=np.int64)
