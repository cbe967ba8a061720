"""The IT manager's commands on the sample district and on a new firm's folder: `hub check`,
`hub discover` (with a proposed mapping), `hub validate-config` (headers checked as warnings),
and the README's onboarding walk from an unknown folder to a loaded firm."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hub.cli import main
from hub.discovery import detect_date_format, detect_numbers, match_columns, norm
from tests.conftest import ROOT

NEW_FIRM = "ricamificio-panaro"
# A firm the hub has never seen: its own headers, cp1252, ';', decimal comma, dd/mm/yyyy.
ORDERS = (
    "Numero ordine;Pos.;Causale;Data documento;Cod. articolo;Qtà;U.M.;Cliente;Data consegna\r\n"
    "R-001;1;VEN;03/11/2026;RIC-01;120;PZ;C001;20/11/2026\r\n"
    "R-001;2;VEN;03/11/2026;RIC-02;1.250,5;MT;C001;20/11/2026\r\n"
    "R-002;1;ACQ;14/11/2026;FIL-77;35,75;KG;F010;28/11/2026\r\n"
)
SUPPLIERS = (
    "Codice fornitore;Ragione sociale;P.IVA;Città;Provincia;Nazione\r\n"
    "F010;Filati Ricamo S.r.l.;IT00743110157;Carpi;MO;IT\r\n"
)


@pytest.fixture
def district(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "district.yaml", tmp_path / "district.yaml")
    shutil.copytree(ROOT / "sample", tmp_path / "sample")
    return tmp_path


@pytest.fixture
def new_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "exports" / NEW_FIRM
    folder.mkdir(parents=True)
    (folder / "ordini_20261122.csv").write_bytes(ORDERS.encode("cp1252"))
    (folder / "fornitori.csv").write_bytes(SUPPLIERS.encode("cp1252"))
    return folder


def _run(district: Path, *args: str):  # noqa: ANN202
    return CliRunner().invoke(main, ["--district", str(district / "district.yaml"), *args])


def test_synonyms_match_italian_and_english_headers():
    assert norm("Q.tà") == "qta" and norm("P. IVA") == "piva"
    cols = match_columns("orders", ["Qty", "UoM", "Order No", "Line"])
    assert cols == {"quantity": "Qty", "unit": "UoM", "order_id": "Order No", "line_no": "Line"}
    assert match_columns("suppliers", ["Partita IVA"]) == {"vat_number": "Partita IVA"}
    assert match_columns("orders", ["Quantità", "UM"]) == {"quantity": "Quantità", "unit": "UM"}


def test_format_detection_says_what_it_is_not_sure_about():
    notes: list[str] = []
    assert detect_numbers(["1.250,5", "35,75", "120"], notes) == (",", ".")
    assert detect_date_format(["03/11/2026", "20/11/2026"], notes) == "%d/%m/%Y"
    assert not notes
    assert detect_date_format(["03/11/2026", "05/10/2026"], notes) == "%d/%m/%Y"
    assert any("'%m/%d/%Y'" in n for n in notes), notes  # day and month both ≤ 12


def test_check_reads_a_sample_of_every_entity(district):
    result = _run(district, "check", "--company", "moda-carpi")
    assert result.exit_code == 0, result.output
    assert "ordini_20261121.csv: 36 rows read" in result.output
    assert "fornitori.csv" in result.output


def test_check_fails_on_a_missing_mapped_header_and_names_file_and_line(district):
    path = district / "sample" / "lavanderia-novese" / "fornitori.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Fornitore", "Nome", 1), "utf-8")
    result = _run(district, "check", "--company", "lavanderia-novese")
    assert result.exit_code == 1
    assert "BROKEN" in result.output
    assert "fornitori.csv, line 1: mapped headers missing: name ← 'Fornitore'" in result.output


def test_check_names_an_unknown_firm(district):
    result = _run(district, "check", "--company", "nessuna")
    assert result.exit_code == 2 and "no firm 'nessuna'" in result.output


def test_validate_config_warns_of_mapped_headers_absent_from_current_files(district):
    path = district / "sample" / "lavanderia-novese" / "fornitori.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Fornitore", "Nome", 1), "utf-8")
    result = CliRunner().invoke(
        main, ["--district", str(district / "district.yaml"), "validate-config"]
    )
    assert result.exit_code == 0
    assert "1 warnings" in result.output
    warning = next(ln for ln in result.output.splitlines() if ln.startswith("warning:"))
    assert "district.yaml:" in warning and "(lavanderia-novese)" in warning
    assert "columns.name: header 'Fornitore' not in fornitori.csv, line 1" in warning


def test_discover_a_configured_source_lists_columns_and_proposes_its_mapping(district):
    result = _run(district, "discover", "--company", "confezioni-reno")
    assert result.exit_code == 0, result.output
    assert "Qty → quantity: " in result.output
    proposal = yaml.safe_load(result.output.split("\n\n", 1)[1].rsplit("\n", 2)[0])
    fmt = proposal[0]["format"]
    assert (fmt["delimiter"], fmt["decimal"], fmt["date_format"]) == (",", ".", "%Y-%m-%d")
    assert proposal[0]["entities"]["orders"]["columns"]["unit"] == "UoM"


def test_discover_an_unknown_folder_writes_a_proposal_with_its_doubts(district, new_folder):
    out = district / "proposal.yaml"
    result = _run(district, "discover", "--path", str(new_folder), "--write", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    [source] = yaml.safe_load(text)
    assert source["format"] == {"delimiter": ";", "decimal": ",", "thousands": ".",
                                "encoding": "cp1252", "date_format": "%d/%m/%Y"}  # fmt: skip
    orders = source["entities"]["orders"]
    assert orders["files"] == "ordini_*.csv"
    assert orders["columns"]["quantity"] == "Qtà" and orders["columns"]["unit"] == "U.M."
    assert orders["columns"]["order_date"] == "Data documento"
    assert source["entities"]["suppliers"]["columns"]["vat_number"] == "P.IVA"
    # Honest: the direction codes cannot be guessed, cp1252 is an assumption.
    assert "# CHECK: orders: direction codes ['ACQ', 'VEN'] must be mapped" in text
    assert "cp1252 (Windows) assumed" in text


@pytest.mark.integration
def test_onboarding_a_new_firm_from_its_folder_to_a_sync(district, new_folder, monkeypatch):
    """The README's walk: discover, edit the proposal, add the firm, validate, check, sync."""
    out = district / "proposal.yaml"
    assert _run(district, "discover", "--path", str(new_folder), "--write", str(out)).exit_code == 0
    [source] = yaml.safe_load(out.read_text(encoding="utf-8"))
    # What the IT manager edits: the direction codes the proposal marks CHECK.
    source["entities"]["orders"]["values"] = {"direction": {"VEN": "sale", "ACQ": "purchase"}}
    config = yaml.safe_load((district / "district.yaml").read_text(encoding="utf-8"))
    config["firms"] = [f for f in config["firms"] if f["company_id"] == "lavanderia-novese"]
    config["firms"].append({"company_id": NEW_FIRM, "name": "Ricamificio Panaro S.n.c.",
                            "role": "subcontractor", "municipality": "Carpi", "province": "MO",
                            "sources": [source]})  # fmt: skip
    (district / "district.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    result = _run(district, "validate-config")
    assert result.exit_code == 0 and "0 warnings" not in result.output, result.output
    assert "warning" not in result.output
    result = _run(district, "check", "--company", NEW_FIRM)
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("HUB_DATA_DIR", str(district / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(district / "dagster_home"))
    (district / "dagster_home").mkdir()
    result = _run(district, "sync", "--company", NEW_FIRM)
    assert "orders                 3         3            0" in result.output, result.output
    from hub.warehouse import Warehouse

    wh = Warehouse(f"duckdb:///{district / 'data' / 'warehouse.duckdb'}")
    try:
        rows = wh.read_arrow(
            f"select order_id, line_no, direction, quantity, unit from order_lines "
            f"where company_id = '{NEW_FIRM}' order by order_id, line_no"
        ).to_pylist()
    finally:
        wh.dispose()
    assert rows[1] == {"order_id": "R-001", "line_no": 2, "direction": "sale",
                       "quantity": 1250.5, "unit": "m"}  # fmt: skip
    assert rows[2]["direction"] == "purchase"
