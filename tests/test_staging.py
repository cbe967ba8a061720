"""Mapping and typing by the declared formats: nothing coerced, every rejection explained."""

import datetime as dt

import pytest

from connectors.csv_parser import CsvOptions, parse_csv
from hub.config import CsvFormat, EntityMapping
from hub.staging import MissingColumns, stage

HEADER = "N. ordine;Riga;Tipo;Data ordine;Codice articolo;Q.tà;UM;Fornitore"
MAPPING = EntityMapping(
    files="ordini*.csv",
    columns={
        "order_id": "N. ordine", "line_no": "Riga", "direction": "Tipo",
        "order_date": "Data ordine", "sku": "Codice articolo", "quantity": "Q.tà",
        "unit": "UM", "counterparty": "Fornitore",
    },
    values={"direction": {"V": "sale", "CL": "work_order"}},
    units={"CF": "set"},
)  # fmt: skip
FMT = CsvFormat(delimiter=";", decimal=",", thousands=".", encoding="utf-8")


def _stage(*rows: str, mapping: EntityMapping = MAPPING, fmt: CsvFormat = FMT):
    data = ("\n".join([HEADER, *rows]) + "\n").encode()
    table, header = parse_csv(data, "ordini.csv", CsvOptions(fmt.delimiter, '"', fmt.encoding))
    return stage(table, header, entity="orders", mapping=mapping, fmt=fmt, company_id="acme",
                 file="ordini.csv")  # fmt: skip


def test_values_are_typed_by_the_declared_format():
    s = _stage("A1;1;V;01/02/2026;0042;1.234,50;pz;F01", "A1;2;cl;3/2/2026;0043;2;CF;F02")
    assert s.problems == []
    rows = s.table.to_pylist()
    assert rows[0]["quantity"] == 1234.5
    assert rows[0]["sku"] == "0042"
    assert rows[0]["order_date"] == dt.date(2026, 2, 1)
    assert rows[1]["order_date"] == dt.date(2026, 2, 3)
    assert [r["unit"] for r in rows] == ["pcs", "set"]
    assert [r["direction"] for r in rows] == ["sale", "work_order"]
    assert [r["_line"] for r in rows] == [2, 3]
    assert rows[0]["company_id"] == "acme"


@pytest.mark.parametrize(
    ("cells", "rule", "words"),
    [
        ("A1;1;V;01/02/2026;S;1,2,3;PZ;F", "parse.number", "'1,2,3' is not a number"),
        ("A1;1;V;01/02/2026;S;1.5;PZ;F", "parse.number", "'1.5' is not a number"),
        ("A1;x;V;01/02/2026;S;1;PZ;F", "parse.number", "'x' is not a whole number"),
        ("A1;1;V;31/02/2026;S;1;PZ;F", "parse.date", "'31/02/2026' is not a date"),
        ("A1;1;V;2026-02-01;S;1;PZ;F", "parse.date", "'2026-02-01' is not a date"),
        ("A1;1;V;01/02/2026;S;1;PZZ;F", "unit.unknown", "'PZZ' is not known"),
        ("TOTALE;;;;;1.230,5;;", "structure.totals_row", "totals row"),
        (HEADER, "structure.repeated_header", "header row is repeated"),
        (";;;;;;;", "structure.empty_row", "empty"),
    ],
)
def test_bad_values_are_set_aside_with_rule_and_reason(cells, rule, words):
    s = _stage("A0;1;V;01/02/2026;S;1;PZ;F", cells)
    assert s.table.num_rows == 1  # the good row is kept
    assert [(p.line, p.rule) for p in s.problems] == [(3, rule)]
    assert words in s.problems[0].reason


def test_a_row_with_several_bad_values_gets_every_reason():
    s = _stage("A1;1;V;ieri;S;abc;XX;F")
    assert sorted(p.rule for p in s.problems) == ["parse.date", "parse.number", "unit.unknown"]
    assert s.table.num_rows == 0


def test_missing_mapped_column_blocks_the_file_and_hints_at_the_delimiter():
    fmt = CsvFormat(delimiter=",", decimal=".", encoding="utf-8")
    data = (HEADER + "\nA1;1;V;01/02/2026;S;1;PZ;F\n").encode()
    table, header = parse_csv(data, "ordini.csv", CsvOptions(",", '"', "utf-8"))
    with pytest.raises(MissingColumns) as exc:
        stage(table, header, entity="orders", mapping=MAPPING, fmt=fmt, company_id="a",
              file="ordini.csv")  # fmt: skip
    assert "'Q.tà' (quantity)" in str(exc.value)
    assert "delimiter" in str(exc.value)


def test_columns_not_in_the_mapping_are_reported_as_new():
    data = (HEADER + ";Colore\nA1;1;V;01/02/2026;S;1;PZ;F;rosso\n").encode()
    table, header = parse_csv(data, "ordini.csv", CsvOptions(";", '"', "utf-8"))
    s = stage(table, header, entity="orders", mapping=MAPPING, fmt=FMT, company_id="a",
              file="ordini.csv")  # fmt: skip
    assert s.new_columns == ["Colore"]


def test_constants_fill_unmapped_required_columns():
    cols = {k: v for k, v in MAPPING.columns.items() if k != "direction"}
    m = EntityMapping(files="*.csv", columns=cols, constants={"direction": "purchase"})
    s = _stage("A1;1;V;01/02/2026;S;1;PZ;F", mapping=m)
    assert s.table.column("direction").to_pylist() == ["purchase"]
