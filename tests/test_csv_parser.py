"""The CSV parser: declared encodings and delimiters, line numbers, malformed files rejected."""

import pytest

from connectors.base import FileRejected
from connectors.csv_parser import CsvOptions, parse_csv

SEMI = CsvOptions(";", '"', "utf-8")


def test_text_columns_and_line_numbers_skip_blank_lines():
    data = b"Codice;Q.ta\n001;1,5\n\n002;2\n"
    table, header = parse_csv(data, "f.csv", SEMI)
    assert header == ["Codice", "Q.ta"]
    assert table.column("Codice").to_pylist() == ["001", "002"]  # leading zeros kept
    assert table.column("_line").to_pylist() == [2, 4]


def test_cp1252_and_windows_line_endings():
    data = "Qualità;Città\r\nAlta;Carpi\r\nBassa;Forlì\r\n".encode("cp1252")
    table, header = parse_csv(data, "f.csv", CsvOptions(";", '"', "cp1252"))
    assert header == ["Qualità", "Città"]
    assert table.column("Città").to_pylist() == ["Carpi", "Forlì"]
    assert table.column("_line").to_pylist() == [2, 3]


def test_utf8_bom_is_not_part_of_the_first_header():
    data = "\ufeffCodice;Nome\nA;B\n".encode()
    _, header = parse_csv(data, "f.csv", SEMI)
    assert header == ["Codice", "Nome"]


def test_quoted_newlines_keep_physical_line_numbers():
    data = b'Codice;Note\nA;"two\nlines"\nB;one\n'
    table, _ = parse_csv(data, "f.csv", SEMI)
    assert table.column("Note").to_pylist() == ["two\nlines", "one"]
    assert table.column("_line").to_pylist() == [2, 4]


@pytest.mark.parametrize(
    ("data", "words", "line"),
    [
        (b"", "empty", None),
        (b"  \n", "empty", None),
        (b"Codice;Nome\n", "no data rows", 1),
        (b"\x00\x01\x02binary\x00", "binary", None),
        (b"Codice;Nome;Q\nA;B;1\nC;D", "truncated", 3),
        (b"Codice;Codice\nA;B\n", "appears twice", 1),
        ("Città;Nome\nA;B\n".encode("cp1252"), "not valid utf-8", 1),
    ],
)
def test_malformed_files_are_rejected_with_file_line_and_reason(data, words, line):
    with pytest.raises(FileRejected) as exc:
        parse_csv(data, "ordini.csv", SEMI)
    assert "ordini.csv" in str(exc.value)
    assert words in str(exc.value).lower()
    assert exc.value.line == line
