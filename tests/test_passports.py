"""Passports: UNTP validity, access levels, identifiers, composition, substances, incomplete
data, coverage, versioning, per-firm isolation and the static pages (no browser here)."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from hub.footprint import footprint
from hub.passports.build import refresh_firm
from hub.passports.composition import CompositionError, parse_composition
from hub.passports.facts import ProductFacts, derive
from hub.passports.refresh import refresh, summary_lines
from hub.passports.site import write_site
from hub.passports.substances import (
    SVHC_FILE,
    SubstanceError,
    cas_valid,
    check,
    ec_valid,
    parse_substances,
    svhc_list,
)
from hub.passports.untp import build_views, gtin14, product_uri
from hub.warehouse import Warehouse

SCHEMA = Path(__file__).resolve().parents[2] / "shared/reference/untp/untp-dpp-schema.json"
DOMAIN = "id.district.test"
SUPPLIER_NAMES = ("Tessitura Segreta S.r.l.", "Confezioni Nascoste S.n.c.")


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA.read_text()), format_checker=FormatChecker())


def company() -> dict:
    return {"company_id": "moda-test", "name": "Moda Test S.p.A.", "vat_number": "IT00743110157",
            "role": "brand", "municipality": "Carpi", "province": "MO", "country": "IT",
            "lat": 44.78, "lon": 10.88}  # fmt: skip


def full_facts(**product) -> ProductFacts:
    p = {"company_id": "moda-test", "sku": "MT-001", "gtin": "8054321010035",
         "name": "T-shirt in jersey", "category": "t-shirt", "season": "SS27", "mass_g": 180.0,
         "country_of_making": "IT"} | product  # fmt: skip
    bom = [
        {"sku": "MT-001", "line_no": 1, "component_code": "TJE180", "component_kind": "fabric",
         "component_name": "Jersey 180", "quantity": 1.3, "unit": "m", "quantity_kg": 0.23,
         "supplier_id": "IT01", "composition": "95% CO 5% EA", "recycled_share": 0.0,
         "certifications": "GOTS, OEKO-TEX", "origin_country": "IT",
         "substances": "117-81-7:0.25%; 80-05-7:0.01%"},
        {"sku": "MT-001", "line_no": 2, "component_code": "BOT01", "component_kind": "trim",
         "component_name": "Bottone metallo", "quantity": 4, "unit": "pcs", "quantity_kg": None,
         "supplier_id": "IT02", "composition": None, "recycled_share": None,
         "certifications": None, "origin_country": "IT", "substances": "7439-92-1:0.05%"},
    ]  # fmt: skip
    suppliers = {
        "IT01": {"supplier_id": "IT01", "name": SUPPLIER_NAMES[0], "country": "IT",
                 "municipality": "Prato", "lat": 43.88, "lon": 11.10},
        "IT02": {"supplier_id": "IT02", "name": SUPPLIER_NAMES[1], "country": "IT",
                 "municipality": "Soliera", "lat": 44.74, "lon": 10.92},
    }  # fmt: skip
    links = [{"supplier_id": "IT01", "local_code": "F1", "process": "knitting"},
             {"supplier_id": "IT02", "local_code": "F2", "process": "sewing"}]  # fmt: skip
    orders = [{"order_id": "W1", "sku": "MT-001", "direction": "work_order", "counterparty": "F2",
               "quantity": 300, "unit_price": 4.1}]  # fmt: skip
    return ProductFacts(DOMAIN, company(), p, bom, suppliers, links, orders, [], [])


def views(facts: ProductFacts) -> tuple[dict, dict]:
    return build_views(facts, derive(facts), 1, "2026-11-23T10:00:00Z")


def test_both_views_are_valid_untp_dpp(validator):
    for facts in (full_facts(), ProductFacts(DOMAIN, company(), {"sku": "X", "name": "Bare"})):
        restricted, public = views(facts)
        for doc in (restricted, public):
            errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
            assert errors == []
            assert doc["type"] == ["DigitalProductPassport", "VerifiableCredential"]
            assert "proof" not in doc  # unsigned by default
            assert doc["issuer"]["id"] == f"did:web:{DOMAIN}:moda-test"


def test_schema_rejects_a_broken_passport(validator):
    _, public = views(full_facts())
    del public["issuer"]
    assert list(validator.iter_errors(public))


def test_public_view_has_no_restricted_field():
    restricted, public = views(full_facts())
    text = json.dumps(public)
    restricted_only = ("unit_price", "billOfMaterials", "footprintQuery", "facility", "detail")
    for secret in (*SUPPLIER_NAMES, "Prato", "Soliera", "117-81-7", "TJE180", "BOT01", "4.1",
                   *restricted_only):  # fmt: skip
        assert secret not in text, secret
    rtext = json.dumps(restricted)
    assert SUPPLIER_NAMES[0] in rtext and "117-81-7" in rtext and "billOfMaterials" in rtext


def test_public_view_summarises_substances():
    restricted, public = views(full_facts())
    summary = public["credentialSubject"]["substancesOfConcern"]
    assert summary["declared"] is True and summary["svhcAboveThreshold"] == 1
    detail = restricted["credentialSubject"]["substancesOfConcern"]["detail"]
    flagged = {d["cas"] for d in detail if d["above_threshold"]}
    assert flagged == {"117-81-7"}  # DEHP 0.25 % flagged; BPA 0.01 % and lead 0.05 % are not


def test_product_id_is_gs1_digital_link_when_gtin_known():
    assert product_uri(DOMAIN, "f", "S/1", "8054321010035") == f"https://{DOMAIN}/01/08054321010035"
    assert product_uri(DOMAIN, "f", "S/1", "8054321010036") == f"https://{DOMAIN}/product/f/S%2F1"
    assert product_uri(DOMAIN, "f", "S/1", None) == f"https://{DOMAIN}/product/f/S%2F1"
    assert gtin14("12345") is None


def test_materials_from_bom_with_fractions_and_origin():
    _, public = views(full_facts())
    mats = {m["name"]: m for m in public["credentialSubject"]["materialsProvenance"]}
    assert mats["cotton"]["massFraction"] == pytest.approx(0.95)
    assert mats["elastane"]["recycledMassFraction"] == 0
    assert mats["cotton"]["originCountry"] == "IT"


def test_footprint_is_ecobalyse_of_the_derived_query():
    facts = full_facts()
    d = derive(facts)
    assert d.footprint_query["product"] == "tshirt"
    assert d.footprint_query["fabricProcess"] == "knitting-mix"
    assert d.footprint_query["countryMaking"] == "IT"
    assert d.footprint["total"] == pytest.approx(footprint(d.footprint_query)["total"])
    _, public = build_views(facts, d, 1, "2026-11-23T10:00:00Z")
    assert public["credentialSubject"]["environmentalCost"]["total"] == d.footprint["total"]


def test_incomplete_product_says_what_is_missing_and_invents_nothing(validator):
    facts = ProductFacts(DOMAIN, company(), {"company_id": "moda-test", "sku": "MT-9",
                                             "name": "Giacca", "category": "giacca"})  # fmt: skip
    d = derive(facts)
    _, public = build_views(facts, d, 1, "2026-11-23T10:00:00Z")
    s = public["credentialSubject"]
    missing = " ".join(s["missingData"])
    for field in ("product.gtin", "product.mass", "bill_of_materials", "materials.composition",
                  "footprint", "traceability"):  # fmt: skip
        assert field in missing
    assert s["materialsProvenance"] == [] and "environmentalCost" not in s
    assert "countryOfProduction" not in s["product"] and "dimensions" not in s["product"]
    assert 0 < s["dataCoverage"] < 0.5
    assert not list(validator.iter_errors(public))


def test_unknown_composition_is_reported_not_guessed():
    facts = full_facts()
    facts.bom[0]["composition"] = "tessuto misto"
    d = derive(facts)
    assert any("not understood" in m for m in d.missing)
    assert d.footprint is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("95% CO 5% EA", {"cotton": 0.95, "elastane": 0.05}),
        ("cotone 80% poliestere 20%", {"cotton": 0.8, "polyester": 0.2}),
        ("CO98 EA2", {"cotton": 0.98, "elastane": 0.02}),
        ("100% Lana Merino", {"wool": 1.0}),
        ('{"cotton": 0.7, "polyamide": 0.3}', {"cotton": 0.7, "polyamide": 0.3}),
        ('[{"fibre": "CO", "share": 100}]', {"cotton": 1.0}),
        ('{"flax": 100}', {"linen": 1.0}),  # issue 5's normalized form: Annex I names, percent
    ],
)
def test_composition_formats(text, expected):
    assert parse_composition(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "80% Cotone 10% Elastan", "50% kevlarino 50% CO", "{bad"])
def test_composition_errors(text):
    with pytest.raises(CompositionError):
        parse_composition(text)


def test_substances_parsing_and_check():
    assert cas_valid("117-81-7") and not cas_valid("117-81-8")
    declared = parse_substances('[{"cas": "84-74-2", "concentration": 0.002}]')
    assert check("zip", declared)[0]["above_threshold"] is True
    assert check("zip", parse_substances("84-74-2:0.05%"))[0]["above_threshold"] is False
    assert check("zip", parse_substances("64-17-5:5%"))[0]["svhc"] is False
    with pytest.raises(SubstanceError):
        parse_substances("117-81-8:1%")
    assert parse_substances('[{"cas": "84-74-2", "concentration": 1}]')[0]["concentration"] == 1.0


@pytest.mark.parametrize("concentration", ["true", "false", '"0.5"', "NaN", "Infinity", "[0.1]"])
def test_a_json_concentration_must_be_a_number(concentration):
    # true would read as 1.0 (100 % w/w, above any threshold), "0.5" as a number never written
    text = f'[{{"cas": "84-74-2", "concentration": {concentration}}}]'
    shown = re.escape(concentration)  # as JSON spells it
    with pytest.raises(SubstanceError, match=f"concentration of 84-74-2 is {shown}, not a number"):
        parse_substances(text)


@pytest.mark.parametrize("text", ["84-74-2:nan%", "84-74-2:inf", "84-74-2:-inf%", "84-74-2:1e999%"])
def test_a_text_concentration_must_be_a_finite_number(text):
    with pytest.raises(SubstanceError, match="of 84-74-2 is not a number"):
        parse_substances(text)


@pytest.mark.parametrize(
    "number, valid",
    [("117-81-7", True), ("7439-92-1", True), ("2156592-54-8", True), ("117-81-8", False),
     ("1178-17", False), ("117817", False), ("50-00-0", True), ("50-00-1", False)],
)  # fmt: skip
def test_cas_check_digit(number, valid):
    assert cas_valid(number) is valid


@pytest.mark.parametrize(
    "number, valid",
    [("204-211-0", True), ("231-100-4", True), ("200-001-8", True), ("204-211-1", False),
     ("2042110", False), ("204-21-10", False)],
)  # fmt: skip
def test_ec_check_digit(number, valid):
    assert ec_valid(number) is valid


def svhc_rows() -> list[dict]:
    import csv

    with SVHC_FILE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_svhc_list_numbers_are_valid_and_unique():
    rows = svhc_rows()
    assert len(rows) >= 240
    assert set(rows[0]) == {"substance", "cas", "ec", "reason", "date_added", "source"}
    cas = [c for r in rows for c in r["cas"].split("|") if c]
    ec = [e for r in rows for e in r["ec"].split("|") if e]
    assert [c for c in cas if not cas_valid(c)] == []
    assert [e for e in ec if not ec_valid(e)] == []
    assert sorted({c for c in cas if cas.count(c) > 1}) == []
    assert sorted({e for e in ec if ec.count(e) > 1}) == []
    names = [r["substance"].lower() for r in rows]
    assert len(names) == len(set(names))


def test_svhc_list_rows_are_complete():
    for r in svhc_rows():
        assert r["substance"] and r["reason"] and r["source"] in {"A", "B", "C"}
        assert datetime.strptime(r["date_added"], "%Y-%m-%d").year >= 2008
        # group entries carry no single CAS: they cannot be matched by CAS and say so
        if not r["cas"]:
            assert r["ec"] or "group" in r["substance"].lower(), r["substance"]
    # every CAS is indexed; a group without CAS is not
    assert len(svhc_list()) == sum(len([c for c in r["cas"].split("|") if c]) for r in svhc_rows())
    assert svhc_list()["1303-28-2"].substance == "Diarsenic pentaoxide"


# --- with a warehouse --------------------------------------------------------------------------


def load(wh: Warehouse, facts: ProductFacts) -> None:
    wh.create_all()
    with wh.transaction() as conn:
        wh.upsert(conn, "companies", pa.Table.from_pylist([facts.company]))
        wh.upsert(conn, "products", pa.Table.from_pylist([facts.product]))
        wh.upsert(conn, "bom_lines", pa.Table.from_pylist(
            [{"company_id": "moda-test", **b} for b in facts.bom]))  # fmt: skip
        wh.upsert(conn, "suppliers", pa.Table.from_pylist(list(facts.suppliers.values())))
        wh.upsert(conn, "supplier_links", pa.Table.from_pylist(
            [{"company_id": "moda-test", **lk} for lk in facts.links]))  # fmt: skip
        wh.upsert(
            conn,
            "order_lines",
            pa.Table.from_pylist(
                [{"company_id": "moda-test", "line_no": 1, **o} for o in facts.work_orders]
            ),
        )


@pytest.fixture
def warehouse(tmp_path):
    wh = Warehouse(f"duckdb:///{tmp_path}/wh.duckdb")
    yield wh
    wh.dispose()


def test_versions_only_when_content_changes(warehouse, tmp_path):
    facts = full_facts()
    load(warehouse, facts)
    t0 = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
    first = refresh_firm(warehouse, DOMAIN, "moda-test", tmp_path, t0)
    again = refresh_firm(warehouse, DOMAIN, "moda-test", tmp_path, t0)
    assert (first.new_versions, again.new_versions) == (1, 0)
    with warehouse.transaction() as conn:
        warehouse.upsert(conn, "products", pa.Table.from_pylist(
            [facts.product | {"name": "T-shirt in jersey biologico"}]))  # fmt: skip
    changed = refresh_firm(warehouse, DOMAIN, "moda-test", tmp_path, t0)
    assert changed.new_versions == 1
    rows = warehouse.read_arrow("SELECT version, public_json FROM passports ORDER BY version")
    versions = rows.to_pylist()
    assert [r["version"] for r in versions] == [1, 2]  # the old version is kept
    assert (
        "biologico" in versions[1]["public_json"] and "biologico" not in versions[0]["public_json"]
    )
    public = json.loads((tmp_path / "passports/moda-test/MT-001.json").read_text())
    assert public["version"] == 2 and public["id"].endswith("/v2")
    assert (tmp_path / "passports/moda-test/MT-001.restricted.json").exists()
    assert first.coverage is not None and 0 < first.coverage <= 1


def test_a_firm_failure_is_isolated(warehouse, tmp_path):
    from hub.config import District, DistrictInfo

    load(warehouse, full_facts())
    district = District.model_construct(
        district=DistrictInfo(id="test-district", name="Distretto", domain=DOMAIN),
        firms=[],
        profiles={},
    )
    results = refresh(warehouse, district, ["ghost-firm", "moda-test"], tmp_path)
    assert isinstance(results["ghost-firm"], LookupError)
    assert results["moda-test"].products == 1
    (line,) = summary_lines(tmp_path)  # what `hub sync` prints: per firm, with its coverage
    assert "moda-test" in line and "1 passports" in line and "coverage" in line
    index = (tmp_path / "passports-site/index.html").read_text()
    assert "moda-test" in index and "T-shirt in jersey" in index


def test_pages_are_public_only_and_bilingual(warehouse, tmp_path):
    load(warehouse, full_facts())
    refresh_firm(warehouse, DOMAIN, "moda-test", tmp_path)
    index = write_site(tmp_path, "Distretto di prova")
    page = (index.parent / "moda-test" / "MT-001.html").read_text()
    for text in ("Composizione", "Composition", "Filiera", "Supply chain", "<svg", "95%",
                 "GOTS", 'name="viewport"'):  # fmt: skip
        assert text in page, text
    assert f'aria-label="QR: https://{DOMAIN}/01/08054321010035"' in page  # GS1 Digital Link
    for secret in (*SUPPLIER_NAMES, "117-81-7", "TJE180"):
        assert secret not in page
    assert not list(index.parent.rglob("*.restricted.json"))


def test_supply_chain_steps_are_used_when_they_name_facilities(warehouse, tmp_path):
    import sqlalchemy as sa

    load(warehouse, full_facts())
    with warehouse.transaction() as conn:
        conn.execute(sa.text(
            "CREATE TABLE IF NOT EXISTS supply_chain_steps (company_id VARCHAR, sku VARCHAR, "
            "step_no BIGINT, stage VARCHAR, process VARCHAR, tier BIGINT, facility_id VARCHAR, "
            "facility_name VARCHAR, facility_country VARCHAR, facility_municipality VARCHAR, "
            "distance_km DOUBLE, component_code VARCHAR)"))  # fmt: skip
        conn.execute(
            sa.text(
                "INSERT INTO supply_chain_steps (company_id, sku, step_no, stage, process, tier, "
                "facility_id, facility_name, facility_country, facility_municipality, distance_km, "
                "component_code) VALUES ('moda-test', 'MT-001', 1, 'fabric', "
                "'dyeing', 2, 'IT09', 'Tintoria Riservata', 'IT', 'Carpi', 12.5, 'TJE180')"
            )
        )
    refresh_firm(warehouse, DOMAIN, "moda-test", tmp_path)
    folder = tmp_path / "passports/moda-test"
    public = json.loads((folder / "MT-001.json").read_text())
    restricted = (folder / "MT-001.restricted.json").read_text()
    steps = public["credentialSubject"]["traceabilityInformation"]
    assert [(s["valueChainProcess"], s["distanceKm"]) for s in steps] == [("dyeing", 12.5)]
    assert "Tintoria Riservata" in restricted and "Tintoria Riservata" not in json.dumps(public)


def test_public_gaps_name_no_component():
    facts = full_facts()
    facts.bom[0]["composition"] = "tessuto misto"
    restricted, public = views(facts)
    assert "TJE180" in json.dumps(restricted["credentialSubject"]["missingData"])
    assert "TJE180" not in json.dumps(public)
    assert any(m.startswith("materials.composition") for m in
               public["credentialSubject"]["missingData"])  # fmt: skip


def test_issue5_composition_detail_gives_recycled_share():
    facts = full_facts()
    facts.bom[0]["recycled_share"] = None
    facts.bom[0]["composition_detail"] = json.dumps([
        {"fibre": "cotton", "share": 60.0, "recycled": True},
        {"fibre": "cotton", "share": 35.0, "recycled": False},
        {"fibre": "elastane", "share": 5.0, "recycled": False}])  # fmt: skip
    d = derive(facts)
    assert d.recycled_share == pytest.approx(0.6)
    mats = {m["name"]: m for m in d.materials}
    assert mats["cotton"]["massFraction"] == pytest.approx(0.95)
    assert mats["cotton"]["recycledMassFraction"] == pytest.approx(0.6 / 0.95, abs=1e-4)
    assert mats["elastane"]["recycledMassFraction"] == 0
    assert any(
        m["id"] == "457e9b0d-9eda-4dca-b199-deeb0a154fa9" or m["id"] == "coton-rdpc"
        for m in d.footprint_query["materials"]
    )  # recycled cotton, by the CFF


def test_claim_is_verified_by_a_valid_certificate_of_the_supplier():
    from datetime import date

    facts = full_facts()
    facts.certificates = [
        {"holder_id": "IT01", "supplier_id": "IT01", "scheme": "GOTS", "number": "CU-1",
         "valid_from": date(2025, 1, 1), "valid_to": date(2099, 1, 1)},
        {"holder_id": "IT01", "supplier_id": "IT01", "scheme": "OEKO-TEX", "number": "OT-9",
         "valid_from": date(2020, 1, 1), "valid_to": date(2021, 1, 1)},  # expired
    ]  # fmt: skip
    restricted, public = views(facts)
    claims = {c.get("referenceStandard", {}).get("name"): c
              for c in public["credentialSubject"]["conformityClaim"]}  # fmt: skip
    assert claims["GOTS"]["verified"] is True and claims["OEKO-TEX"]["verified"] is False
    assert "CU-1" in json.dumps(restricted) and "CU-1" not in json.dumps(public)


def test_producer_certificates_are_claims():
    from datetime import date

    facts = full_facts()
    facts.certificates = [{"holder_id": "moda-test", "supplier_id": "moda-test",
                           "scheme": "SA8000", "number": "SA-7", "valid_from": date(2025, 1, 1),
                           "valid_to": date(2099, 1, 1)}]  # fmt: skip
    _, public = views(facts)
    claims = {c.get("referenceStandard", {}).get("name"): c
              for c in public["credentialSubject"]["conformityClaim"]}  # fmt: skip
    assert claims["SA8000"]["verified"] is True
    assert claims["SA8000"]["conformityTopic"] == "social.labour"
