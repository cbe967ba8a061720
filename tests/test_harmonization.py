"""Harmonization units: quantities, places, identifiers, supplier resolution, history."""

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
