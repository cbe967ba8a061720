"""Harmonization units: quantities, places, identifiers, supplier resolution, history."""

import math
import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.harmonization import history, places, units
from hub.harmonization.identifiers import normalize_gtin, normalize_vat
from hub.harmonization.suppliers import (
    Overrides,
    Record,
    normalize_name,
    provisional_id,
    resolve,
)
from hub.warehouse import Warehouse

# --- units ------------------------------------------------------------------------------------


def test_units_reduce_to_base_units():
    qty, base = units.to_base(pa.array([1500.0, 2.0, 250.0, 3.0, 1.0]),
                              pa.array(["g", "kg", "cm", "pcs", "m2"]))  # fmt: skip
    assert qty.to_pylist() == pytest.approx([1.5, 2.0, 2.5, 3.0, 1.0])
    assert base.to_pylist() == ["kg", "kg", "m", "pcs", "m2"]


def test_fabric_metres_become_kg_only_with_weight_and_width():
    kg, basis = units.quantity_kg(
        pa.array([2.0, 2.0, 3.0, 500.0, 1.0]), pa.array(["m", "m", "m2", "g", "pcs"]),
        pa.array([180.0, 180.0, 200.0, None, None]), pa.array([150.0, None, None, None, None]),
    )  # fmt: skip
    assert kg.to_pylist() == pytest.approx([0.54, None, 0.6, 0.5, None])
    assert basis.to_pylist() == [units.BASIS_FABRIC_LENGTH, None, units.BASIS_FABRIC_AREA,
                                 units.BASIS_MASS, None]  # fmt: skip


@pytest.mark.parametrize(("name", "gsm"), [
    ("Jersey di cotone 180 g/m²", 180.0), ("Felpa garzata 300 gr/mq", 300.0),
    ("Popeline 120g/m2", 120.0), ("Tela 145 gsm", 145.0), ("Denim 12 oz", 406.9),
    ("Lino lavato", None), (None, None),
])  # fmt: skip
def test_fabric_weight_is_read_from_a_description(name, gsm):
    assert units.gsm_from_text(name) == (pytest.approx(gsm) if gsm else None)


@settings(deadline=None)  # no timing: the first call loads tables
@given(st.floats(0.001, 1e6), st.sampled_from(["kg", "g"]))
def test_mass_conversion_round_trips(q, unit):
    assert units.convert(units.convert(q, unit, "g"), "g", unit) == pytest.approx(q)


# --- places -----------------------------------------------------------------------------------


def test_gazetteer_covers_every_province_capital_and_the_district_municipalities():
    provs = places.provinces()
    assert len(provs) >= 107
    for town, prov in [("Carpi", "MO"), ("Soliera", "MO"), ("Novi di Modena", "MO"),
                       ("Campogalliano", "MO"), ("Correggio", "RE"), ("Scandiano", "RE"),
                       ("Cavriago", "RE"), ("Argelato", "BO"), ("Castel Maggiore", "BO"),
                       ("Prato", "PO"), ("Biella", "BI"), ("Roma", "RM")]:  # fmt: skip
        place = places.locate(town, prov)
        assert place is not None and place.province == prov, town
    assert places.locate("Reggio Emilia").province == "RE"  # as firms write it
    assert places.locate("Nowhere") is None
    assert places.locate("Carpi", "MO", "DE") is None  # not in Italy: no guess


def test_countries_are_iso_codes_from_codes_and_names():
    got = [
        places.normalize_country(v)
        for v in [
            "IT",
            "ita",
            "Italia",
            "Italy",
            "Cina",
            "Turchia",
            "Deutschland",
            "EC",
            "UE",
            "zz",
            "",
        ]
    ]
    assert got == ["IT", "IT", "IT", "IT", "CN", "TR", "DE", "EU", "EU", None, None]


def test_haversine_distances():
    carpi, modena = places.locate("Carpi", "MO"), places.locate("Modena", "MO")
    d = places.distance_km((carpi.lat, carpi.lon), (modena.lat, modena.lon))
    assert 14 < d < 18
    assert places.distance_km((carpi.lat, carpi.lon), None) is None
    rome, milan = places.provinces()["RM"], places.provinces()["MI"]
    assert 470 < places.distance_km((rome.lat, rome.lon), (milan.lat, milan.lon)) < 490


# --- identifiers ------------------------------------------------------------------------------


def test_vat_numbers_and_gtins_are_normalized_as_text():
    assert normalize_vat("16950570362") == "IT16950570362"
    assert normalize_vat("IT 169 505 70362") == "IT16950570362"
    assert normalize_vat("16950570363") is None  # wrong check digit
    assert normalize_vat("05713320363") == "IT05713320363"  # leading zero kept
    assert normalize_gtin("8054321010011") == "08054321010011"
    assert normalize_gtin("8054321010012") is None
    assert normalize_gtin("8,05E+12") is None


# --- supplier resolution ----------------------------------------------------------------------

WEAVER_VAT = "16950570362"
OTHER_VAT = "10515401007"


def _rec(company, code, name, vat=None, town="Modena"):
    return Record(company, code, name, vat, "IT", town)


def test_legal_forms_accents_and_punctuation_do_not_matter():
    assert normalize_name("Tessitura Serica Modenese S.r.l.") == "tessitura serica modenese"
    assert normalize_name("TESSITURA SERICA MODENESE SRL") == "tessitura serica modenese"
    assert normalize_name("Stireria Più S.n.c.") == normalize_name("STIRERIA PIU' SNC")
    assert provisional_id("Tintoria Sécchia S.r.l.", None, "IT", "Correggio") == (
        "tintoria-secchia@correggio"
    )


def test_same_vat_merges_across_firms():
    res = resolve([_rec("a", "1", "Tessitura Serica Modenese S.r.l.", WEAVER_VAT),
                   _rec("b", "X9", "Tess. Serica Modenese", WEAVER_VAT)])  # fmt: skip
    assert res["a/1"].supplier_id == res["b/X9"].supplier_id == "IT" + WEAVER_VAT
    assert res["b/X9"].match_rule == "vat" and WEAVER_VAT in res["b/X9"].match_evidence


def test_srl_vs_SRL_and_accents_merge_by_name_and_town():
    res = resolve([_rec("a", "1", "Stireria Più S.r.l."), _rec("b", "2", "STIRERIA PIU' SRL")])
    assert res["a/1"].supplier_id == res["b/2"].supplier_id
    assert res["a/1"].match_rule == "name+municipality"


def test_a_typo_merges_by_fuzzy_name_in_the_same_town_with_its_score():
    res = resolve([_rec("a", "1", "Tessitura Serica Modenese S.r.l.", WEAVER_VAT),
                   _rec("b", "2", "Tesitura Serica Modenese srl")])  # fmt: skip
    assert res["b/2"].supplier_id == "IT" + WEAVER_VAT
    assert res["b/2"].match_rule == "fuzzy_name+municipality"
    assert "/100" in res["b/2"].match_evidence


def test_similar_names_in_different_towns_stay_apart():
    res = resolve([_rec("a", "1", "Lavanderia Moderna S.n.c.", town="Carpi"),
                   _rec("b", "2", "Lavanderia Moderna S.n.c.", town="Prato")])  # fmt: skip
    assert res["a/1"].supplier_id != res["b/2"].supplier_id
    assert res["a/1"].match_rule == res["b/2"].match_rule == "single"


def test_the_same_name_with_different_vat_numbers_stays_apart():
    res = resolve([_rec("a", "1", "Confezioni Elena S.r.l.", WEAVER_VAT),
                   _rec("b", "2", "Confezioni Elena S.r.l.", OTHER_VAT),
                   _rec("c", "3", "Confezioni Elena srl")])  # fmt: skip
    ids = {res[r].supplier_id for r in ("a/1", "b/2")}
    assert ids == {"IT" + WEAVER_VAT, "IT" + OTHER_VAT}
    # The record without a VAT number cannot join both: it joins one, deterministically.
    assert res["c/3"].supplier_id in ids


def test_overrides_merge_and_split_and_name_the_id(tmp_path):
    path = tmp_path / "supplier_overrides.yaml"
    path.write_text(
        "same:\n  - members: [a/1, b/2]\n    supplier_id: weaver-x\n    note: same firm\n"
        "different:\n  - [a/3, b/4]\n", encoding="utf-8",
    )  # fmt: skip
    ov = Overrides.load(path)
    res = resolve([_rec("a", "1", "Alpha", town="Carpi"), _rec("b", "2", "Beta", town="Prato"),
                   _rec("a", "3", "Gamma S.r.l."), _rec("b", "4", "Gamma SRL")], ov)  # fmt: skip
    assert res["a/1"].supplier_id == res["b/2"].supplier_id == "weaver-x"
    assert res["a/1"].match_rule == "manual" and "same firm" in res["a/1"].match_evidence
    assert res["a/3"].supplier_id != res["b/4"].supplier_id


def test_a_malformed_overrides_file_names_the_entry(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text("same:\n  - members: [a/1]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"same\[0\] needs `members:`"):
        Overrides.load(path)


def test_resolution_does_not_depend_on_the_order_firms_were_loaded():
    recs = [_rec("a", "1", "Tessitura Serica Modenese S.r.l.", WEAVER_VAT),
            _rec("b", "2", "Tesitura Serica Modenese srl"),
            _rec("c", "3", "TESSITURA SERICA MODENESE"),
            _rec("d", "4", "Bottonificio Emiliano", town="Cavriago"),
            _rec("e", "5", "Bottonificio Emiliano S.n.c.", town="Cavriago"),
            _rec("f", "6", "Bottonificio Emiliano", town="Carpi")]  # fmt: skip
    first = resolve(recs)
    for seed in range(5):
        shuffled = recs[:]
        random.Random(seed).shuffle(shuffled)
        assert resolve(shuffled) == first


# --- history ----------------------------------------------------------------------------------


@pytest.fixture
def wh(tmp_path):
    w = Warehouse(f"duckdb:///{tmp_path}/wh.duckdb")
    w.create_all()
    yield w
    w.dispose()


def _product(name, at):
    row = {"company_id": "a", "sku": "S1", "name": name, "gtin": None, "category": "maglia",
           "season": "SS27", "mass_g": 300.0, "country_of_making": "IT", "sync_id": "s",
           "updated_at": at}  # fmt: skip
    return pa.Table.from_pylist([row])


def test_history_keeps_each_version_and_reads_the_past(wh):
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    with wh.transaction() as conn:
        wh.upsert(conn, "products", _product("Maglia blu", t0))
    assert history.record(wh, now=t0)["products"] == {"opened": 1, "closed": 0}
    assert history.record(wh, now=t0 + timedelta(hours=1))["products"] == {"opened": 0, "closed": 0}
    t1 = t0 + timedelta(days=1)
    with wh.transaction() as conn:  # the same content re-synced: no new version
        wh.upsert(conn, "products", _product("Maglia blu", t1))
    assert history.record(wh, now=t1)["products"] == {"opened": 0, "closed": 0}
    t2 = t0 + timedelta(days=2)
    with wh.transaction() as conn:
        wh.upsert(conn, "products", _product("Maglia blu navy", t2))
    assert history.record(wh, now=t2)["products"] == {"opened": 1, "closed": 1}
    past = history.as_of(wh, "products", t0 + timedelta(hours=12), sku="S1").to_pylist()
    now = history.as_of(wh, "products", t2 + timedelta(hours=1), sku="S1").to_pylist()
    assert [r["name"] for r in past] == ["Maglia blu"]
    assert [r["name"] for r in now] == ["Maglia blu navy"]
    with wh.transaction() as conn:
        wh.delete_where(conn, "products", company_id="a")
    t3 = t0 + timedelta(days=3)
    assert history.record(wh, now=t3)["products"] == {"opened": 0, "closed": 1}
    assert history.as_of(wh, "products", t3 + timedelta(hours=1)).num_rows == 0


# --- configuration ----------------------------------------------------------------------------


def test_a_fibres_map_naming_an_unknown_fibre_is_a_config_error(tmp_path):
    from hub.config import ConfigError, load_district
    from tests.conftest import ROOT

    text = (ROOT / "district.yaml").read_text(encoding="utf-8")
    assert "EA: elastane" in text
    (tmp_path / "district.yaml").write_text(text.replace("EA: elastane", "EA: spandexx"),
                                            encoding="utf-8")  # fmt: skip
    with pytest.raises(ConfigError, match=r"fibres\.EA: 'spandexx' is not a fibre"):
        load_district(tmp_path / "district.yaml")


# --- base units of order lines, through the BOM lines' path -----------------------------------


def test_every_canonical_unit_has_a_base_unit():
    from hub.canonical import CANONICAL_UNITS

    assert set(units.factors()) == set(CANONICAL_UNITS)
    # What is not canonical has no base: staging quarantines it before (unit.unknown).
    qty, base = units.to_base(pa.array([1.0, 2.0]), pa.array(["pcs", "CT"]))
    assert qty.to_pylist() == [1.0, None] and base.to_pylist() == ["pcs", None]


def _staged_orders(rows: list[dict]) -> pa.Table:
    from hub.canonical import ENTITIES

    base = {"order_id": "O1", "direction": "purchase", "order_date": None, "sku": "TJE180",
            "counterparty": "F1", "delivery_date": None, "unit_price": 1.0,
            "company_id": "acme", "_file": "ordini.csv", "_line": 2}  # fmt: skip
    data = [{**base, "line_no": i + 1, **r} for i, r in enumerate(rows)]
    return pa.Table.from_pylist(data, schema=ENTITIES["orders"].schema())


def test_order_lines_get_base_quantity_and_unit_like_bom_lines():
    from hub.harmonize import harmonize

    staged = _staged_orders(
        [
            {"quantity": 1500.0, "unit": "g"},
            {"quantity": 250.0, "unit": "cm"},
            {"quantity": 12.0, "unit": "pcs"},
            {"quantity": 3.0, "unit": "m2"},
        ]
    )
    out = harmonize("orders", staged, sync_id="s", supplier_ids={})["order_lines"]
    assert out.column("base_quantity").to_pylist() == pytest.approx([1.5, 2.5, 12.0, 3.0])
    assert out.column("base_unit").to_pylist() == ["kg", "m", "pcs", "m2"]
    assert out.column("quantity").to_pylist() == [1500.0, 250.0, 12.0, 3.0]  # as written
    from hub.canonical import arrow_schema

    assert set(out.column_names) == set(arrow_schema("order_lines").names)


@pytest.mark.parametrize("entity", ["orders", "bom_lines"])
def test_an_unknown_unit_is_quarantined_by_the_same_rule_for_orders_and_bom_lines(entity):
    from connectors.csv_parser import CsvOptions, parse_csv
    from hub.config import CsvFormat, EntityMapping
    from hub.staging import stage

    fmt = CsvFormat(delimiter=";", decimal=",", encoding="utf-8")
    if entity == "orders":
        header = "Nr;Riga;Tipo;Data;Articolo;Qta;UM"
        rows = ["1;1;V;01/02/2026;A1;3;PZ", "1;2;V;01/02/2026;A1;3;CT"]
        cols = {"order_id": "Nr", "line_no": "Riga", "direction": "Tipo", "order_date": "Data",
                "sku": "Articolo", "quantity": "Qta", "unit": "UM"}  # fmt: skip
    else:
        header = "Articolo;Riga;Componente;Qta;UM"
        rows = ["A1;1;C1;3;PZ", "A1;2;C2;3;CT"]
        cols = {"sku": "Articolo", "line_no": "Riga", "component_code": "Componente",
                "quantity": "Qta", "unit": "UM"}  # fmt: skip
    mapping = EntityMapping(files="x.csv", columns=cols, values={"direction": {"V": "sale"}})
    data = ("\n".join([header, *rows]) + "\n").encode()
    table, head = parse_csv(data, "x.csv", CsvOptions(";", '"', "utf-8"))
    staged = stage(table, head, entity=entity, mapping=mapping, fmt=fmt, company_id="acme",
                   file="x.csv")  # fmt: skip
    assert [(p.line, p.rule) for p in staged.problems] == [(3, "unit.unknown")]
    assert "'CT' is not known" in staged.problems[0].reason
    assert staged.table.column("unit").to_pylist() == ["pcs"]


# --- fabric weight and width: declared, or estimated and said so ------------------------------


def test_a_weight_read_from_the_name_and_the_usual_width_are_flagged_as_assumed():
    gsm, gsm_est = units.gsm_column(pa.array([150.0, None, None, None]),
                                    pa.array(["Crêpe 180 g/m²", "Jersey 180 g/m²", "Lino",
                                              "Denim 12 oz"]))  # fmt: skip
    assert gsm.to_pylist() == pytest.approx([150.0, 180.0, None, 406.9])  # declared wins
    assert gsm_est.to_pylist() == [False, True, False, True]
    width, width_est = units.width_column(pa.array([140.0, None, None, None]), 150.0)
    assert width.to_pylist() == [140.0, 150.0, 150.0, 150.0]
    assert width_est.to_pylist() == [False, True, True, True]
    kg, basis = units.quantity_kg(pa.array([2.0, 2.0, 2.0, 1.0]), pa.array(["m", "m", "m", "m2"]),
                                  gsm, width, gsm_est, width_est)  # fmt: skip
    assert kg.to_pylist() == pytest.approx([0.42, 0.54, None, 0.4069])
    assert basis.to_pylist() == [
        units.BASIS_FABRIC_LENGTH,
        units.BASIS_FABRIC_LENGTH + units.ASSUMED + units.GSM_FROM_NAME + "; " + units.USUAL_WIDTH,
        None,  # no weight at all: no kg, nothing invented
        units.BASIS_FABRIC_AREA + units.ASSUMED + units.GSM_FROM_NAME,  # width plays no part
    ]


def test_a_width_constant_without_a_width_column_is_an_estimate_on_every_row():
    width, est = units.width_column(pa.array([150.0, 150.0]), 150.0, mapped=False)
    assert width.to_pylist() == [150.0, 150.0] and est.to_pylist() == [True, True]
    width, est = units.width_column(pa.array([150.0, None]), None)  # no usual width
    assert width.to_pylist() == [150.0, None] and est.to_pylist() == [False, False]


def _staged_bom(rows: list[dict]) -> pa.Table:
    from hub.canonical import ENTITIES

    base = {c: None for c in ENTITIES["bom_lines"].names}
    base |= {"company_id": "acme", "sku": "A1", "component_kind": "fabric", "unit": "m",
             "quantity": 2.0, "_file": "bom.csv", "_line": 2}  # fmt: skip
    data = [{**base, "line_no": i + 1, "component_code": f"C{i}", **r} for i, r in enumerate(rows)]
    return pa.Table.from_pylist(data, schema=ENTITIES["bom_lines"].schema())


@pytest.mark.parametrize(("constant", "mapped", "expected", "kg"), [
    ("150", True, [140.0, None], [True, True]),   # the usual width gives the kg of the line
    ("150", False, [None, None], [True, True]),   # no width column: staging wrote it on every row
    ("1,5 m", True, [140.0, None], [True, False]),  # not a number: no usual width, no kg
    (None, True, [140.0, None], [True, False]),
])  # fmt: skip
def test_harmonized_bom_lines_use_the_firms_usual_width_only_where_a_line_has_none(
    constant, mapped, expected, kg
):
    from hub.config import EntityMapping
    from hub.harmonize import harmonize

    cols = {"sku": "a", "line_no": "b", "component_code": "c", "quantity": "d", "unit": "e"}
    if mapped:
        cols["fabric_width_cm"] = "w"
    mapping = EntityMapping(
        files="x", columns=cols, constants={"fabric_width_cm": constant} if constant else {}
    )
    widths = [140.0, None] if mapped else [150.0, 150.0]
    staged = _staged_bom([{"component_name": "Jersey 180 g/m²", "fabric_width_cm": w}
                          for w in widths])  # fmt: skip
    out = harmonize("bom_lines", staged, sync_id="s", supplier_ids={}, mapping=mapping)
    rows = out["bom_lines"].to_pylist()
    assert [r["fabric_width_cm"] for r in rows] == expected  # as declared, never the usual one
    assert [r["quantity_kg"] is not None for r in rows] == kg
    for r in rows:
        if r["quantity_kg"] is None:
            assert r["quantity_kg_basis"] is None
        else:
            assert "assumed" in r["quantity_kg_basis"]  # g/m² from the name, at least
            usual = constant and (not mapped or r["line_no"] == 2)
            assert ("usual width" in r["quantity_kg_basis"]) == bool(usual)
            assert r["base_quantity"] == 2.0 and r["base_unit"] == "m"


def test_the_usual_width_is_never_written_as_a_lines_width_trims_included():
    from hub.config import EntityMapping
    from hub.harmonize import harmonize

    cols = {"sku": "a", "line_no": "b", "component_code": "c", "quantity": "d", "unit": "e",
            "fabric_width_cm": "w"}  # fmt: skip
    mapping = EntityMapping(files="x", columns=cols, constants={"fabric_width_cm": "150"})
    staged = _staged_bom([
        {"component_name": "Bottone 18L", "component_kind": "trim", "unit": "pcs",
         "quantity": 6.0},
        {"component_name": "Jersey 180 g/m²"},  # 2 m, no width declared
        {"component_name": "Jersey 180 g/m²", "fabric_width_cm": 140.0},
        {"component_name": "Etichetta", "component_kind": "label", "unit": "pcs",
         "quantity": 1.0},
    ])  # fmt: skip
    out = harmonize("bom_lines", staged, sync_id="s", supplier_ids={}, mapping=mapping)
    rows = out["bom_lines"].to_pylist()
    assert [r["fabric_width_cm"] for r in rows] == [None, None, 140.0, None]
    trim, fabric, declared, label = rows
    assert trim["quantity_kg"] is None and trim["quantity_kg_basis"] is None
    assert label["quantity_kg"] is None and label["quantity_kg_basis"] is None
    assert fabric["quantity_kg"] == pytest.approx(2.0 * 1.5 * 180 / 1000)  # the usual 150 cm
    assert units.ASSUMED in fabric["quantity_kg_basis"]
    assert units.USUAL_WIDTH in fabric["quantity_kg_basis"]
    assert declared["quantity_kg"] == pytest.approx(2.0 * 1.4 * 180 / 1000)
    assert units.USUAL_WIDTH not in declared["quantity_kg_basis"]


def test_fabric_weight_and_width_out_of_range_are_quarantined():
    from hub import quality
    from tests.test_quality import bom

    df = bom(5, fabric_weight_gsm=[180.0, -180.0, 1800.0, None, 12.0],
             fabric_width_cm=[150.0, 1.5, 150.0, 1500.0, 150.0])  # fmt: skip
    report = quality.validate("bom_lines", df)
    weight = [i for i in report.row_issues if i.rule == "bom_lines.fabric_weight_range"]
    width = [i for i in report.row_issues if i.rule == "bom_lines.fabric_width_range"]
    assert [i.row for i in weight] == [1, 2, 4] and "-180" in weight[0].reason
    assert [i.row for i in width] == [1, 3] and "1.5 cm" in width[0].reason


# --- declared substances: the passports' reader, run at staging -------------------------------


def _cas(body: str) -> str:
    check = sum(int(d) * i for i, d in enumerate(reversed(body), 1)) % 10
    return f"{body[:-2]}-{body[-2:]}-{check}"


_CAS_BODY = st.text("0123456789", min_size=4, max_size=9).filter(lambda b: b[0] != "0")
_PCT = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)


@settings(deadline=None)
@given(st.lists(st.tuples(_CAS_BODY, _PCT, st.sampled_from([".", ","])), min_size=1,
                max_size=4), st.sampled_from(["; ", ";", "\n"]))  # fmt: skip
def test_well_formed_declarations_pass_and_read_back(parts, sep):
    from hub.harmonization.substances import error
    from hub.passports.substances import parse_substances

    text = sep.join(f"{_cas(b)}:{str(p).replace('.', d)}%" for b, p, d in parts)
    assert error(text) is None, text
    read = parse_substances(text)
    assert [r["cas"] for r in read] == [_cas(b) for b, _, _ in parts]
    expected = [float(p) / 100 for _, p, _ in parts]
    assert [r["concentration"] for r in read] == pytest.approx(expected)


@settings(deadline=None)
@given(_CAS_BODY, st.integers(1, 9), _PCT)
def test_a_wrong_check_digit_is_rejected(body, delta, pct):
    from hub.harmonization.substances import error

    good = _cas(body)
    bad = good[:-1] + str((int(good[-1]) + delta) % 10)
    assert "is not a valid CAS number" in error(f"{bad}:{pct}%")


@settings(deadline=None)
@given(_CAS_BODY, st.floats(100.001, 1e9) | st.floats(-1e9, -0.001))
def test_a_concentration_outside_0_to_100_percent_is_rejected(body, pct):
    from hub.harmonization.substances import error

    assert "not between 0 and 100 %" in error(f"{_cas(body)}:{pct}%")


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=40))
def test_any_text_gets_a_verdict_never_an_exception(text):
    from hub.harmonization.substances import error
    from hub.passports.substances import parse_substances

    why = error(text)
    if why is None:  # what staging lets through, the passports can read
        parse_substances(text)
    else:
        assert why.startswith("substances ")


_NOT_A_NUMBER = (st.booleans() | st.text(max_size=8)
                 | st.sampled_from([math.nan, math.inf, -math.inf])
                 | st.lists(st.floats(0, 1), max_size=2))  # fmt: skip


@settings(deadline=None)
@given(_CAS_BODY, _NOT_A_NUMBER)
def test_a_json_concentration_that_is_not_a_number_is_rejected_naming_cas_and_value(body, value):
    import json

    from hub.harmonization.substances import error
    from hub.passports.substances import SubstanceError, parse_substances

    text = json.dumps([{"cas": _cas(body), "concentration": value}])
    why = error(text)  # true is not 100 %, "0.5" is not 50 %
    assert why is not None and f"of {_cas(body)} is {json.dumps(value)}, not a number" in why
    with pytest.raises(SubstanceError):  # the passports' reader refuses it too
        parse_substances(text)


@settings(deadline=None)
@given(_CAS_BODY, st.floats(0, 1) | st.integers(0, 1) | st.none())
def test_a_json_concentration_that_is_a_number_or_null_reads_back(body, value):
    import json

    from hub.harmonization.substances import error
    from hub.passports.substances import parse_substances

    text = json.dumps([{"cas": _cas(body), "concentration": value}])
    assert error(text) is None
    read = parse_substances(text)[0]["concentration"]
    assert read == value and (read is None or type(read) is float)


@pytest.mark.parametrize(("text", "words"), [
    ("DEHP 0,3%", "is not a valid CAS number"),
    ("117-81-8:0,3%", "is not a valid CAS number"),
    ("117-81-7:tre%", "is not a number"),
    ("117-81-7:130%", "not between 0 and 100 %"),
    ('[{"cas": "117-81-7", "concentration": {"v": 1}}]', 'of 117-81-7 is {"v": 1}, not a number'),
    ('[{"cas": "117-81-7", "concentration": true}]', "of 117-81-7 is true, not a number"),
    ('[{"cas": "117-81-7", "concentration": "0.5"}]', 'of 117-81-7 is "0.5", not a number'),
    ('[{"cas": "117-81-7", "concentration": NaN}]', "of 117-81-7 is NaN, not a number"),
    ("117-81-7:nan%", "'nan%' of 117-81-7 is not a number"),
    ("117-81-7:inf", "'inf' of 117-81-7 is not a number"),
    ("[{}, 1]", "not a list of"),
    ("[oops", "not valid JSON"),
])  # fmt: skip
def test_malformed_declarations_are_set_aside_at_staging_with_a_reason(text, words):
    from hub.harmonization import substances

    bad, why = substances.check_column(pa.array(["117-81-7:0,25%", text, None, text]))
    assert bad.tolist() == [False, True, False, True]
    assert words in why[1] and why[0] is None and why[2] is None


# --- fibre steps: a facility only where the data says ------------------------------------------


def test_fibre_facilities_from_a_district_spinning_mill_or_none():
    import json

    import pandas as pd

    from hub.harmonization.supply_chain import _fibre_steps

    def detail(*fibres):
        return json.dumps([{"fibre": f, "share": 100 / len(fibres), "recycled": False}
                           for f in fibres])  # fmt: skip

    mill_vat = "IT16950570362"
    bom = pd.DataFrame([
        # the mill's own fibre lots: wool from two suppliers, cotton from one
        ("mill", "Y1", 1, "FB-WO", "fibre", 1.0, "W1", detail("wool")),
        ("mill", "Y2", 1, "FB-WO2", "fibre", 1.0, "W2", detail("wool")),
        ("mill", "Y3", 1, "FB-CO", "fibre", 1.0, "C1", detail("cotton")),
        # a knitter's yarns: from the mill, from a mill that exports nothing, with no supplier
        ("knit", "K1", 1, "YCO", "yarn", 0.3, mill_vat, detail("cotton")),
        ("knit", "K1", 2, "YWO", "yarn", 0.3, mill_vat, detail("wool")),
        ("knit", "K1", 3, "YPA", "yarn", 0.3, mill_vat, detail("polyamide")),
        ("knit", "K1", 4, "YXX", "yarn", 0.3, "IT00743110157", detail("cotton")),
        ("knit", "K1", 5, "YNN", "yarn", 0.3, None, detail("cotton")),
    ], columns=["company_id", "sku", "line_no", "component_code", "component_kind",
                "quantity_kg", "supplier_id", "composition_detail"])  # fmt: skip
    companies = pd.DataFrame({"company_id": ["mill", "knit"], "vat_number": ["16950570362", None],
                              "country": ["IT", "IT"]})  # fmt: skip
    suppliers = pd.DataFrame({"supplier_id": ["W1", "W2", "C1"], "name": ["Wool A", "Wool B",
                              "Cotton C"], "country": ["IT", "AU", "IT"], "municipality":
                              ["Biella", None, "Bologna"], "lat": [45.56, None, 44.49],
                              "lon": [8.05, None, 11.34]})  # fmt: skip
    steps = _fibre_steps(bom, companies, suppliers).set_index("component_code")
    assert steps.loc["FB-CO", "facility_name"] == "Cotton C"  # a lot: at its supplier
    assert steps.loc["FB-CO", "facility_kind"] == "supplier"
    assert steps.loc["YCO", "facility_name"] == "Cotton C"
    assert steps.loc["YCO", "facility_kind"] == "upstream supplier"
    assert "bought by mill" in steps.loc["YCO", "evidence"]
    for code, why in [("YWO", "several: Wool A, Wool B"), ("YPA", "lists no polyamide lot"),
                      ("YXX", "not in the data"), ("YNN", "not in the data")]:  # fmt: skip
        assert pd.isna(steps.loc[code, "facility_id"]), code
        assert steps.loc[code, "facility_kind"] == "unknown" and why in steps.loc[code, "evidence"]
    assert pd.isna(steps.loc["YWO", "lat"])  # no facility, no place
