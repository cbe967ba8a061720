"""The whole sample district harmonized: compositions, kg, suppliers merged, supply-chain tiers.

Expected values are derived from the sample's files (through the independent reader of
tests/test_sample.py), not from the hub's own output.
"""

import json
from contextlib import ExitStack

import pytest
from stdnum.it import iva

from hub.harmonization.units import gsm_from_text
from tests.conftest import ROOT, new_district
from tests.test_sample import _violations

FAULTS = json.loads((ROOT / "sample" / "faults.json").read_text())

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    with ExitStack() as stack:
        district = new_district(tmp_path_factory.mktemp("harmonized") / "d", stack)
        district.sync()  # success also depends on later layers (passports, ratings): not asserted
        yield district


@pytest.fixture(scope="module")
def sample_rows():
    return _violations(ROOT / "district.yaml")[1]


def test_every_composition_is_normalized_and_keeps_its_text(synced, sample_rows):
    rows = synced.sql("select company_id, composition, composition_text, composition_detail "
                      "from bom_lines where composition_text is not null")  # fmt: skip
    written = sum(1 for (c, e), recs in sample_rows.items() if e == "bom_lines"
                  for r in recs if r["composition"] and not r["_rule"])  # fmt: skip
    assert len(rows) == written > 0
    for r in rows:
        shares = json.loads(r["composition"])
        assert abs(sum(shares.values()) - 100) <= 0.5, r
        detail = json.loads(r["composition_detail"])
        assert {d["fibre"] for d in detail} == set(shares)
    fibres = {f for r in rows for f in json.loads(r["composition"])}
    assert fibres == {"cotton", "elastane", "polyester", "viscose", "polyamide", "wool",
                      "cashmere", "flax"}  # fmt: skip
    # moda-carpi writes PL and EA: its fibres map says polyester and elastane.
    pl = synced.sql("select composition from bom_lines where composition_text = '100% PL'")
    assert pl and {r["composition"] for r in pl} == {'{"polyester": 100.0}'}
    # The spinning mill's articles (yarns) carry their composition too.
    yarns = synced.sql("select composition, composition_text from products "
                       "where company_id = 'filatura-tresinaro'")  # fmt: skip
    assert yarns and all(r["composition_text"] for r in yarns)
    assert all(sum(json.loads(r["composition"]).values()) == 100 for r in yarns)


def test_the_composition_fault_is_quarantined_with_its_sum(synced):
    q = synced.sql("select rule, reason from quarantine where rule like '%composition%'")
    assert [r["rule"] for r in q] == ["bom_lines.composition_valid"]
    assert "add up to 90%" in q[0]["reason"]


def _bom_lines_as_written(sample_rows) -> dict[tuple, dict]:
    """(company, sku, line_no) → the loadable BOM line as the independent reader parsed it."""
    return {(c, r["sku"], r["line_no"]): r for (c, e), recs in sample_rows.items()
            if e == "bom_lines" for r in recs if not r["_rule"]}  # fmt: skip


def _usual_widths() -> dict[str, float]:
    """company → the firm's usual fabric width (its BOM's `constants: {fabric_width_cm: …}`)."""
    from hub.config import load_district
    from tests.test_sample import _sources

    district = load_district(ROOT / "district.yaml")
    return {firm.company_id: float(m.constants["fabric_width_cm"])
            for firm, _src, entity, m, _fmt, _files in _sources(district)
            if entity == "bom_lines" and "fabric_width_cm" in m.constants}  # fmt: skip


def test_quantity_kg_is_filled_wherever_it_can_be_derived(synced, sample_rows):
    written = _bom_lines_as_written(sample_rows)
    usual = _usual_widths()
    assert usual == {"moda-carpi": 150.0}
    rows = synced.sql(
        "select company_id, sku, line_no, component_kind, unit, quantity, quantity_kg, "
        "quantity_kg_basis, fabric_weight_gsm, fabric_width_cm from bom_lines"
    )
    assert len(rows) == len(written)
    measured = assumed = 0
    for r in rows:
        line = written[(r["company_id"], r["sku"], r["line_no"])]
        if r["unit"] in ("kg", "g"):
            assert r["quantity_kg"] == pytest.approx(r["quantity"] / (1 if r["unit"] == "kg"
                                                                      else 1000))  # fmt: skip
        elif r["unit"] == "m" and (
            (gsm := r["fabric_weight_gsm"] or gsm_from_text(line.get("component_name")))
            and (width := r["fabric_width_cm"] or usual.get(r["company_id"]))
        ):  # derivable: the line's sheet, else the weight in its name and the usual width
            expected = r["quantity"] * width / 100 * gsm / 1000
            assert r["quantity_kg"] == pytest.approx(expected), r
            declared = isinstance(line.get("fabric_weight_gsm"), float) and isinstance(
                line.get("fabric_width_cm"), float
            )
            if declared:  # the technical sheet: a measured basis, no assumption
                assert r["quantity_kg_basis"] == "length × width × g/m²", r
                assert r["fabric_weight_gsm"] == line["fabric_weight_gsm"]
                measured += 1
            else:  # g/m² from the name and the firm's usual width: an estimate, said so
                assert r["quantity_kg_basis"].startswith("length × width × g/m² — assumed: ")
                assert "name" in r["quantity_kg_basis"] and "usual width" in r["quantity_kg_basis"]
                assert r["fabric_width_cm"] is None, r  # the usual width is not the line's
                assert r["fabric_weight_gsm"] is None, r  # nor the name's weight
                assumed += 1
        else:
            assert r["quantity_kg"] is None and r["quantity_kg_basis"] is None
    assert measured and assumed, "declared technical sheets and the name/width fallback"
    # Trims, labels, yarns declare no width: the firm's usual one is not written on them.
    undeclared = [r["fabric_width_cm"] for r in rows if r["component_kind"] != "fabric"]
    assert undeclared and all(w is None for w in undeclared)
    # Two firms export g/m² and width; confezioni-reno has no usual width: a fabric without its
    # sheet stays without kg there, even when its name gives the weight (Denim 12 oz).
    exporting = {c for (c, _, _), line in written.items()
                 if isinstance(line.get("fabric_weight_gsm"), float)}  # fmt: skip
    assert {"moda-carpi", "confezioni-reno"} <= exporting
    denim = synced.sql(
        "select quantity_kg, fabric_weight_gsm, fabric_width_cm from bom_lines "
        "where company_id = 'confezioni-reno' and component_code = 'TDN12'"
    )
    assert denim and all(
        r["quantity_kg"] is None
        and r["fabric_width_cm"] is None
        and r["fabric_weight_gsm"] is None  # 12 oz in its name: not a declared weight
        for r in denim
    )


def test_an_absurd_fabric_weight_is_quarantined_with_its_rule(synced):
    fault = next(f for f in FAULTS if f["fault"] == "fabric_weight_absurd")
    q = synced.sql(
        f"select file, line, rule, reason from quarantine where company_id = "
        f"'{fault['company_id']}' and rule = 'bom_lines.fabric_weight_range'"
    )
    assert [(r["file"].rsplit("/", 1)[-1], r["line"]) for r in q] == [
        (fault["file"].rsplit("/", 1)[-1], fault["line"])
    ]
    assert f"{fault['value']} g/m²" in q[0]["reason"]


def test_order_lines_carry_base_units(synced, sample_rows):
    factor = {"g": (0.001, "kg"), "cm": (0.01, "m")}
    rows = synced.sql("select company_id, order_id, line_no, quantity, unit, base_quantity, "
                      "base_unit from order_lines")  # fmt: skip
    written = {(c, r["order_id"], r["line_no"]): r for (c, e), recs in sample_rows.items()
               if e == "orders" for r in recs if not r["_rule"]}  # fmt: skip
    assert rows and len(rows) <= len(written)
    for r in rows:
        line = written[(r["company_id"], r["order_id"], r["line_no"])]
        f, base = factor.get(line["unit"], (1.0, line["unit"]))
        assert (r["base_quantity"], r["base_unit"]) == (pytest.approx(line["quantity"] * f), base)
    # An order line's unit that the firm's map does not know is quarantined, with its line.
    for fault in (f for f in FAULTS if f["fault"] == "unknown_unit"):
        q = synced.sql(f"select file, reason from quarantine where company_id = "
                       f"'{fault['company_id']}' and line = {fault['line']} "
                       f"and rule = 'unit.unknown'")  # fmt: skip
        assert len(q) == 1 and q[0]["file"].endswith(fault["file"].rsplit("/", 1)[-1])
        assert f"'{fault['value']}' is not known" in q[0]["reason"]


def test_declared_substances_load_and_a_malformed_one_is_quarantined(synced, sample_rows):
    declared = {k: r["substances"] for k, r in _bom_lines_as_written(sample_rows).items()
                if r.get("substances")}  # fmt: skip
    assert len({c for c, _, _ in declared}) == 2  # moda-carpi and confezioni-reno
    rows = synced.sql("select company_id, sku, line_no, substances from bom_lines "
                      "where substances is not null")  # fmt: skip
    assert {(r["company_id"], r["sku"], r["line_no"]): r["substances"] for r in rows} == declared
    fault = next(f for f in FAULTS if f["fault"] == "substances_malformed")
    q = synced.sql(
        f"select line, reason from quarantine where company_id = "
        f"'{fault['company_id']}' and rule = 'bom_lines.substances_valid'"
    )
    assert [r["line"] for r in q] == [fault["line"]]
    assert "is not a valid CAS number" in q[0]["reason"] and fault["value"] in q[0]["reason"]


def test_suppliers_merge_by_vat_across_firms_with_the_rule_of_each_merge(synced, sample_rows):
    vats = {}
    for (company, entity), recs in sample_rows.items():
        if entity == "suppliers":
            for r in recs:
                if not r["_rule"]:
                    vats.setdefault("IT" + iva.compact(r["vat_number"]), set()).add(company)
    suppliers = {r["supplier_id"]: r for r in synced.sql("select * from suppliers")}
    assert set(suppliers) == set(vats)
    for sid, firms in vats.items():
        assert suppliers[sid]["firms"] == len(firms)
        assert suppliers[sid]["lat"] is not None, sid  # every sample town is in the gazetteer
    links = synced.sql("select supplier_id, match_rule, match_evidence from supplier_links")
    for link in links:
        shared = len(vats[link["supplier_id"]]) > 1
        assert link["match_rule"] == ("vat" if shared else "single"), link
        assert link["match_evidence"]


def test_every_firm_is_placed(synced):
    assert all(r["lat"] and r["lon"] for r in synced.sql("select lat, lon from companies"))


def test_each_product_has_a_chain_with_tiers_and_distances(synced):
    products = synced.sql("select company_id, sku from products")
    steps = synced.sql("select * from supply_chain_steps")
    by_product = {}
    for s in steps:
        by_product.setdefault((s["company_id"], s["sku"]), []).append(s)
    assert set(by_product) == {(p["company_id"], p["sku"]) for p in products}
    for key, chain in by_product.items():
        tiers = {s["tier"] for s in chain}
        assert 1 in tiers, key  # somebody makes it
        assert [s["step_no"] for s in chain] == list(range(1, len(chain) + 1))
        for s in chain:
            if s["stage"] == "fibre":
                assert s["tier"] == 4
            if s["facility_id"] is None:  # nothing invented: no facility, no place, no distance
                assert s["distance_km"] is None and s["facility_kind"] == "unknown", s
            elif s["lat"] is not None:
                assert s["distance_km"] is not None and s["distance_km"] >= 0
    yarn = synced.sql("select distinct tier from supply_chain_steps where stage = 'yarn'")
    fabric = synced.sql("select distinct tier from supply_chain_steps where stage = 'fabric'")
    assert yarn == [{"tier": 3}] and fabric == [{"tier": 2}]
    # The brand sends garments to district subcontractors: work-order steps, close by.
    work = synced.sql("select * from supply_chain_steps where source = 'order_lines.work_order' "
                      "and company_id = 'moda-carpi'")  # fmt: skip
    assert work and all(s["tier"] == 1 and s["distance_km"] < 100 for s in work)
    assert {"sewing", "dyeing", "printing"} <= {s["process"] for s in work}
    # The knitwear maker sends its yarns to the dye house: a tier-2 step of each product that
    # uses them, at Tintoria Secchia in Correggio.
    dyed = synced.sql("select * from supply_chain_steps where company_id = 'maglificio-fossoli' "
                      "and process = 'dyeing'")  # fmt: skip
    assert dyed and all(s["tier"] == 2 and s["component_code"] for s in dyed)
    assert {s["facility_name"] for s in dyed} == {"Tintoria Secchia S.r.l."}


def test_fibre_steps_have_a_facility_only_where_the_data_says(synced, sample_rows):
    """The spinning mill exports its fibre lots and their suppliers: the fibres of yarns bought
    from it are located at those suppliers; other fibres stay without a facility, saying why."""
    mill = "filatura-tresinaro"
    names = {(c, r["local_code"]): r["name"] for (c, e), recs in sample_rows.items()
             if e == "suppliers" for r in recs}  # fmt: skip
    lots = {r["component_code"]: names[(mill, r["supplier_code"])]
            for r in sample_rows[(mill, "bom_lines")] if not r["_rule"]}  # fmt: skip
    assert lots, "the mill exports its fibre lots"
    steps = synced.sql("select * from supply_chain_steps where stage = 'fibre'")
    own = [s for s in steps if s["company_id"] == mill]
    assert own and all(s["facility_name"] == lots[s["component_code"]] for s in own)
    upstream = [s for s in steps if s["facility_kind"] == "upstream supplier"]
    assert upstream and {s["facility_name"] for s in upstream} <= set(lots.values())
    assert all(mill in s["evidence"] and s["distance_km"] is not None for s in upstream)
    # Yarn lines bought from the mill are exactly the ones whose fibres are located upstream.
    mill_name = "Filatura Tresinaro S.p.A."
    from_mill = {
        (c, r["sku"], r["component_code"])
        for (c, e), recs in sample_rows.items()
        if e == "bom_lines" and c != mill
        for r in recs
        if not r["_rule"] and names.get((c, r["supplier_code"])) == mill_name
    }
    assert from_mill == {(s["company_id"], s["sku"], s["component_code"]) for s in upstream}
    unknown = [s for s in steps if s["facility_id"] is None]
    assert unknown and all("not in the data" in s["evidence"] for s in unknown)


def test_a_product_has_its_chain_located_from_fibre_to_making(synced):
    steps = synced.sql("select * from supply_chain_steps order by company_id, sku, step_no")
    chains = {}
    for s in steps:
        chains.setdefault((s["company_id"], s["sku"]), []).append(s)
    full = []
    for key, chain in chains.items():
        for code in {s["component_code"] for s in chain if s["stage"] == "yarn"}:
            path = [s for s in chain if s["component_code"] == code or s["tier"] == 1]
            if all(s["facility_id"] and s["facility_country"] for s in path) and {
                s["tier"] for s in path
            } >= {1, 3, 4}:
                full.append((key, code, path))
    assert full, "no product with facilities from fibre to making"
    (_, _, path) = full[0]
    assert [s["stage"] for s in path][0] == "fibre" and path[-1]["process"] in (
        "making",
        "knitting",
        "cutting",
        "sewing",
        "finishing",
        "laundry",
    )


def test_filiera_corta_indicators(synced):
    rows = synced.sql("select * from product_chain_indicators")
    assert len(rows) == synced.sql("select count(*) n from products")[0]["n"]
    for r in rows:
        assert 0 <= r["share_steps_50km"] <= r["share_steps_100km"] <= r["share_steps_300km"] <= 1
        assert r["steps_located"] <= r["steps"]
        if r["share_mass_50km"] is not None:
            assert 0 <= r["share_mass_50km"] <= r["share_mass_100km"] <= r["share_mass_300km"] <= 1
    assert any(r["mass_kg"] for r in rows)


def test_history_has_one_open_version_per_current_row(synced):
    for table in ("products", "bom_lines", "supplier_links"):
        n = synced.sql(f"select count(*) n from {table}")[0]["n"]
        h = synced.sql(f"select count(*) n from {table}_history where valid_to is null")[0]["n"]
        assert n == h > 0, table


def test_resolution_does_not_depend_on_the_order_firms_are_loaded(synced, make_district):
    other = make_district()
    firms = [r["company_id"] for r in synced.sql("select company_id from companies")]
    for company_id in reversed(firms):
        other.sync([company_id])
    q = ("select company_id, supplier_id, local_code, match_rule from supplier_links "
         "order by 1, 2")  # fmt: skip
    assert other.sql(q) == synced.sql(q)
    q = "select supplier_id, name, firms, processes from suppliers order by 1"
    assert other.sql(q) == synced.sql(q)
    q = "select company_id, sku, step_no, tier, facility_id from supply_chain_steps order by 1,2,3"
    assert other.sql(q) == synced.sql(q)


def test_a_manual_override_merges_two_suppliers_and_says_so(make_district):
    district = make_district()
    overrides = district.root / "sample" / "supplier_overrides.yaml"
    overrides.write_text(
        "same:\n  - members: [moda-carpi/F00128, moda-carpi/F00137]\n"
        "    supplier_id: tessiture-riunite\n    note: one group, two plants\n",
        encoding="utf-8",
    )
    district.sync(["moda-carpi"])
    links = district.sql("select supplier_id, local_code, local_codes, match_rule, "
                         "match_evidence from supplier_links where company_id = 'moda-carpi' "
                         "and supplier_id = 'tessiture-riunite'")  # fmt: skip
    assert len(links) == 1  # one firm × one supplier, both codes kept
    assert links[0]["local_codes"] == "F00128,F00137"
    assert links[0]["match_rule"] == "manual"
    assert "one group, two plants" in links[0]["match_evidence"]
    bom = district.sql("select count(*) n from bom_lines where supplier_id = 'tessiture-riunite'")
    assert bom[0]["n"] > 0  # BOM lines of either code point at the merged supplier
