"""district.yaml: validated on load; every error names the file, the line, the firm, the field."""

import textwrap

import pytest

from hub.config import ConfigError, load_district
from hub.yaml_lines import YamlSyntaxError

GOOD = """\
district:
  id: carpi
  name: Distretto di Carpi
profiles:
  teamsystem-fornitori:
    files: "fornitori.csv"
    columns: {local_code: Codice, name: Ragione sociale}
firms:
  - company_id: maglificio-rossi
    name: Maglificio Rossi S.r.l.
    role: manufacturer
    sources:
      - name: gestionale
        location: {kind: local, path: inbox/rossi}
        format: {delimiter: ";", decimal: ",", encoding: cp1252}
        entities:
          suppliers: teamsystem-fornitori
          orders:
            files: "ordini_*.csv"
            columns:
              order_id: N. ordine
              line_no: Riga
              order_date: Data
              sku: Articolo
              quantity: Q.tà
              unit: UM
            constants: {direction: sale}
"""


def _write(tmp_path, text):
    p = tmp_path / "district.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_a_good_file_loads_with_profiles_and_relative_paths(tmp_path):
    d = load_district(_write(tmp_path, GOOD))
    firm = d.firm("maglificio-rossi")
    src = firm.sources[0]
    assert d.mapping(src, "suppliers").columns["name"] == "Ragione sociale"
    assert d.resolve_path(src.location.path) == tmp_path / "inbox" / "rossi"
    assert src.format.encoding == "cp1252"


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("role: manufacturer", "role: factory", 11, "firms[0] (maglificio-rossi) → role"),
        ('decimal: ","', 'decimal: ";"', 15, "decimal"),
        ("encoding: cp1252", "encoding: klingon", 15, "unknown encoding 'klingon'"),
        ("          suppliers: teamsystem-fornitori", "          suppliers: nope", 17,
         "unknown profile 'nope'"),
        ("              unit: UM", "              colour: Colore", 26,
         "'colour' is not a column of orders"),
        ("              sku: Articolo\n", "", 20, "required column 'sku' of orders is not mapped"),
        ("  - company_id: maglificio-rossi", "  - company_id: Maglificio Rossi", 9,
         "company_id"),
        ("        location: {kind: local, path: inbox/rossi}", "        location: {kind: ftp}",
         14, "location"),
    ],
)  # fmt: skip
def test_errors_name_file_line_firm_and_field(tmp_path, old, new, line, words):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as exc:
        load_district(path)
    msg = str(exc.value)
    assert f"{path}:{line}:" in msg, msg
    assert words in msg, msg


def test_syntax_error_names_the_line(tmp_path):
    path = _write(tmp_path, GOOD.replace("  name: Distretto di Carpi", "  name: [unclosed"))
    with pytest.raises(YamlSyntaxError) as exc:
        load_district(path)
    assert exc.value.line is not None and exc.value.line >= 3
    assert str(path) in str(exc.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(YamlSyntaxError, match="file not found"):
        load_district(tmp_path / "nope.yaml")


def test_duplicate_company_ids_are_refused(tmp_path):
    firm = GOOD[GOOD.index("  - company_id") :]
    path = _write(tmp_path, GOOD + firm)
    with pytest.raises(ConfigError, match="duplicate company_id 'maglificio-rossi'"):
        load_district(path)
