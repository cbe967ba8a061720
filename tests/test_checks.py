"""What a check result tells the operator: counts per firm, rules in plain words, the extract."""

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from hub import checks
from hub.config import load_district
from hub.pipeline import FileReport
from hub.quarantine import quarantine_rows
from hub.workspace import Workspace
from tests.conftest import ROOT


def _ws(tmp_path) -> Workspace:
    return Workspace(load_district(ROOT / "district.yaml"), tmp_path, "20261123T033000Z-abc")


def test_rules_are_described_in_plain_words():
    text = checks.describe_rule("orders", "orders.quantity_positive,parse.date")
    assert "the ordered quantity is greater than zero" in text
    assert "a date is a real date written in the declared format" in text
    assert checks.describe_rule("orders", "some.new_rule") == "some.new_rule"


def test_a_passed_check_shows_its_counts(tmp_path):
    ws = _ws(tmp_path)
    rep = FileReport("gestionale", "ordini_20261121.csv", rows_read=36, rows_valid=36)
    [rows, batch] = checks.check_results(
        "orders", ["staged", "orders"], {"moda-carpi": [rep]}, ws, ws.district
    )
    assert rows.passed and batch.passed
    assert rows.metadata[checks.ROWS_CHECKED].value == 36
    assert rows.metadata[checks.ROWS_FAILED].value == 0
    assert rows.description == "all 36 rows valid (1 firms)"
    assert batch.metadata["files checked"].value == 1


def test_a_failed_check_names_firm_rule_rows_and_the_exact_extract(tmp_path):
    ws = _ws(tmp_path)
    rep = FileReport("gestionale", "ordini_20261120.csv", rows_read=150, rows_valid=149,
                     rows_quarantined=1, rules=[{"rule": "orders.quantity_positive",
                                                 "failed": 1, "blocking": False}])  # fmt: skip
    raw = pa.table({"N. ordine": ["26/01032"], "Q.tà": ["-391,54"], "Prezzo unitario €": ["12,07"],
                    "_line": pa.array([50], pa.int64())})  # fmt: skip
    q = quarantine_rows(raw, [(50, "orders.quantity_positive", "quantity -391.54 is not > 0")],
                        sync_id=ws.sync_id("moda-carpi", "gestionale", "orders"),
                        company_id="moda-carpi", entity="orders", source="gestionale",
                        file=rep.file)  # fmt: skip
    staged = ws.staged_dir("moda-carpi", "orders")
    staged.mkdir(parents=True)
    pq.write_table(q, staged / f"{rep.stem}.quarantine.parquet")
    [rows, _] = checks.check_results(
        "orders", ["staged", "orders"], {"moda-carpi": [rep]}, ws, ws.district
    )
    assert not rows.passed
    assert rows.description.startswith("1 of 150 rows failed and went to quarantine")
    assert "moda-carpi 1 of 150" in rows.description
    extract = rows.metadata[checks.EXTRACT]
    assert isinstance(extract, dg.PathMetadataValue)
    assert extract.value.endswith(
        "quarantine/moda-carpi/20261123T033000Z-abc_moda-carpi_gestionale_orders.csv"
    )
    [rule] = rows.metadata[checks.BY_RULE].records
    assert rule.data["in plain words"] == "the ordered quantity is greater than zero"
    [sample] = rows.metadata[checks.SAMPLE].records
    assert (sample.data["file"], sample.data["line"]) == ("ordini_20261120.csv", 50)
    # The price of an order line is confidential: masked; the failing quantity is shown.
    assert "Q.tà=-391,54 · Prezzo unitario €=•••" in sample.data["row as written"]
