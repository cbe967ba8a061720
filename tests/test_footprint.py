"""Footprint (Ecobalyse textile method): the formulas against Ecobalyse's own test vectors and
hand-computed cases, the query's errors, and the `hub footprint` command.

The totals are checked against Ecobalyse's own results for 15 garments computed with the same
factors in `tests/test_footprint_ecobalyse.py`; the 25 examples are pinned here as a regression.
"""

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.footprint import FootprintQueryError, footprint
from hub.footprint.factors import load_factors
from hub.footprint.method import (
    MAKING_KWH_PER_MINUTE,
    non_physical_durability,
    references_index,
    split_transport,
    weaving_picks,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "shared/reference/ecobalyse/textile-examples.json"
COTTON = "62a4d6fb-3276-4ba5-93a3-889ecd3bff84"
LINEN = "a52e486c-b67e-40af-8337-e8143cbf9076"
PET_RECYCLED = "8f44c680-1263-4588-b79b-a9e4dc3d8de4"
FR_ELEC = "931c9bb0-619a-5f75-b41b-ab8061e2ad92"
F = load_factors()


def ecs(process_id: str) -> float:
    return F.processes[process_id]["impacts"]["ecs"]


def query(**kw) -> dict:
    base = {
        "mass": 0.15, "product": "tshirt", "materials": [{"id": COTTON, "share": 1}],
        "countrySpinning": "FR", "countryFabric": "FR", "countryDyeing": "FR",
        "countryMaking": "FR", "physicalDurability": 1.0, "business": "small-business",
        "numberOfReferences": 500, "price": 100, "makingWaste": 0.15, "makingDeadStock": 0.15,
        "trims": [],
    }  # fmt: skip
    base.update(kw)
    return base


# Ecobalyse's own unit-test vectors (tests/Data/Textile/*Test.elm)


@pytest.mark.parametrize(
    "refs, expected",
    [(1, 1), (1000, 1), (2000, 0.91), (3000, 0.83), (4500, 0.7), (7000, 0.5), (11500, 0.25),
     (16000, 0), (100000, 0)],
)  # fmt: skip
def test_number_of_references_index_matches_ecobalyse(refs, expected):
    assert references_index(refs) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    "road, sea, air, ratio, expected",
    [
        (0, 0, 0, 0, (0, 0, 0)),
        (400, 200, 0, 0, (400, 0, 0)),
        (900, 1000, 0, 0, (810, 100, 0)),
        (1800, 1000, 0, 0, (900, 500, 0)),
        (2800, 4000, 0, 0, (700, 3000, 0)),
        (5000, 10000, 0, 0, (0, 10000, 0)),
        (0, 11310, 7300, 0, (0, 11310, 0)),
        (1000, 5000, 5000, 0.5, (250, 1250, 2500)),
    ],
)
def test_transport_split_matches_ecobalyse(road, sea, air, ratio, expected):
    km = split_transport(road, sea, air, ratio)
    assert tuple(round(km[k]) for k in ("road", "sea", "air")) == expected


def test_weaving_picks_match_ecobalyse():
    assert weaving_picks(0.478, 180, 45) == 9958


def test_making_30_minutes_is_087_kwh():
    r = footprint(query(makingComplexity="medium"))
    assert r["stages"]["making"] == pytest.approx(0.87 * ecs(FR_ELEC), abs=1e-3)
    assert pytest.approx(0.87) == 30 * MAKING_KWH_PER_MINUTE


def test_microfibres_complement_of_linen_tshirt():
    # Ecobalyse's snapshot of this T-shirt shows a microfibres complement of 37.5 points.
    r = footprint(query(materials=[{"id": LINEN, "share": 1}]))
    assert r["complements"]["microfibres"] * r["durability"] == pytest.approx(37.5)


def test_mass_chain_and_energy_match_an_ecobalyse_response():
    # Ecobalyse's detailed response for "Tshirt lin (150g) - France" (its repository,
    # tests/textile-examples-score.json): masses and kWh do not depend on the impact factors.
    r = footprint(query(materials=[{"id": LINEN, "share": 1}], countrySpinning="TR"))
    m = r["masses_kg"]
    assert m["spinning"]["input"] == pytest.approx(0.24951242529097203, abs=1e-4)
    assert m["spinning"]["output"] == pytest.approx(0.2195709342560554, abs=1e-4)
    assert m["fabric"]["output"] == pytest.approx(0.20761245674740486, abs=1e-4)
    assert m["making"]["input"] == pytest.approx(0.20761245674740486, abs=1e-4)
    kwh = r["electricity_kwh"]
    assert kwh["spinning"] == pytest.approx(0.7026269896193773, abs=1e-4)
    assert kwh["fabric"] == pytest.approx(0.49826989619377166, abs=1e-4)
    assert kwh["making"] == pytest.approx(0.435, abs=1e-4)


# Hand-computed cases


def test_durability_is_non_physical_index_and_bounded():
    assert non_physical_durability("small-business", 500, 100, 10) == 1.45
    assert non_physical_durability("large-business-without-services", 100000, 10, 10) == 0.67
    r = footprint(query(physicalDurability=None))
    assert r["durability"] == 1.45
    assert any("physical durability" in a for a in r["assumptions"])


def test_material_stage_by_hand():
    r = footprint(query())
    knit_waste = F.processes["29dc6c73-8d82-5056-8ac0-faf212bc0367"]["waste"]
    making_in = 0.15 / 0.85 / 0.85
    fabric_in = making_in / (1 - knit_waste)
    spinning_in = fabric_in / (1 - 0.12)
    material = spinning_in * ecs(F.materials[COTTON]["processId"]) + 0.15 * 250  # + microfibres
    assert r["masses_kg"]["material"]["output"] == pytest.approx(spinning_in, abs=1e-4)
    assert r["stages"]["material"] == pytest.approx(material, abs=1e-3)
    spinning = 40 / 50 * 4 * fabric_in * ecs("931c9bb0-619a-5f75-b41b-ab8061e2ad92")
    assert r["stages"]["spinning"] == pytest.approx(spinning, abs=1e-3)
    making = 15 * 0.029 * ecs("931c9bb0-619a-5f75-b41b-ab8061e2ad92")
    assert r["stages"]["making"] == pytest.approx(making, abs=1e-3)


def test_recycled_polyester_by_circular_footprint_formula():
    r = footprint(query(materials=[{"id": PET_RECYCLED, "share": 1}]))
    virgin = ecs("61bab541-9097-5680-9884-254c98f25d80")
    per_kg = 0.5 * ecs("994efc14-cc89-526c-b9d0-0d6a99adbd4f") + 0.5 * 1.0 * virgin
    material = r["masses_kg"]["material"]["output"] * per_kg + 0.15 * 820
    assert r["stages"]["material"] == pytest.approx(material, rel=1e-3)
    assert per_kg < virgin


def test_use_and_end_of_life_by_hand():
    r = footprint(query())
    use = F.products["tshirt"]["use"]
    cycles = 45  # 45 days of wear, 1 wear per wash, durability 1
    kwh = (use["ironingElecInMJ"] / 3.6 + 1.0266 / 3.6 * 0.15) * cycles
    expected = kwh * 19.331 + 0.15 * 15.134 * cycles
    assert r["stages"]["use"] == pytest.approx(expected, abs=1e-3)
    eol = 0.0018 / 0.2 * 1.9419 + 0.15 * 33.11 + 0.049 * 0.15 * 5000
    assert r["stages"]["end_of_life"] == pytest.approx(eol, abs=1e-3)


def test_total_is_sum_of_stages_and_divided_by_durability():
    a = footprint(query(physicalDurability=1.0))
    b = footprint(query(physicalDurability=0.67))
    assert a["total"] == pytest.approx(sum(a["stages"].values()), abs=1e-3)
    # use cycles scale with durability too, so compare the stages that do not
    for stage in ("material", "spinning", "fabric", "ennobling", "making", "transport"):
        assert b["stages"][stage] == pytest.approx(a["stages"][stage] / 0.67, rel=1e-3)


def test_air_transport_outside_europe():
    europe = footprint(query())
    asia = footprint(query(countryMaking="CN"))
    assert europe["transport_km"]["air"] == 0
    assert asia["transport_km"]["air"] > 0
    assert any("flies" in a for a in asia["assumptions"])


def test_unknown_countries_use_defaults_and_say_so():
    r = footprint({"mass": 0.2, "product": "pull", "materials": [{"id": COTTON, "share": 1}]})
    for stage in ("spinning", "fabric", "ennobling", "making"):
        assert any(a.startswith(f"{stage}: country unknown") for a in r["assumptions"])


def test_italy_is_accepted_and_flagged():
    r = footprint(query(countryMaking="IT", countryDyeing="IT"))
    assert any("IT is not offered" in a for a in r["assumptions"])


def test_missing_electricity_mix_falls_back_to_europe():
    r = footprint(query(countryMaking="PT"))
    assert any("PT's electricity mix is missing" in a for a in r["assumptions"])


def test_examples_all_compute():
    examples = json.loads(EXAMPLES.read_text())
    totals = [footprint(e["query"])["total"] for e in examples]
    assert len(totals) == 25 and all(t > 0 for t in totals)
    # regression: the hub's own values (not Ecobalyse's), to catch unintended changes
    assert totals[0] == pytest.approx(352.4, abs=0.5)
    assert totals[18] == pytest.approx(1669.1, abs=0.5)


def test_transport_skips_disabled_steps():
    # Ecobalyse carries each step's output to the next *enabled* step: with fabric disabled,
    # the fabric zone plays no part in the transports.
    a = footprint(query(disabledSteps=["fabric"], countrySpinning="TR", countryFabric="CN"))
    b = footprint(query(disabledSteps=["fabric"], countrySpinning="TR", countryFabric="FR"))
    assert a["transport_km"] == b["transport_km"]
    assert a["stages"]["transport"] == pytest.approx(b["stages"]["transport"])


def test_fading_on_making_output_before_dead_stock():
    base = query(product="jean", mass=0.45, countryMaking="TR", makingWaste=0.2)
    faded = footprint({**base, "fading": True})["stages"]["making"]
    plain = footprint(base)["stages"]["making"]
    fading = "24edc372-b238-5426-8ac9-059218936641"
    per_kg = (
        ecs(fading)
        + F.elec_kwh(fading) * ecs("930c987b-9fcc-5bfb-a5fd-f3cb2d7e420a")
        + (F.heat_mj(fading) * ecs("3561ace1-f710-50ce-a69c-9cf842e729e4"))
    )
    assert faded - plain == pytest.approx(0.45 / 0.8 * per_kg, rel=1e-6)


def test_upcycled_skips_upstream_stages():
    r = footprint(query(upcycled=True))
    assert r["stages"]["material"] == r["stages"]["spinning"] == 0
    assert r["stages"]["making"] > footprint(query())["stages"]["making"]  # high complexity


def test_trims_add_their_metal():
    zip_ = "0e8ea799-9b06-490c-a925-37564746c454"
    r = footprint(query(trims=[{"id": zip_, "quantity": 1}]))
    assert r["stages"]["trims"] == pytest.approx(0.01 * 7376.7, abs=1e-3)


# Bad queries


@pytest.mark.parametrize(
    "change, field",
    [
        ({"materials": [{"id": "nope", "share": 1}]}, "materials[0].id"),
        ({"materials": [{"id": COTTON, "share": 0.6}]}, "materials"),
        ({"countryDyeing": "XX"}, "countryDyeing"),
        ({"materials": [{"id": COTTON, "share": 1, "country": "XX"}]}, "materials[0].country"),
        ({"mass": -1}, "mass"),
        ({"product": "sari"}, "product"),
        ({"fabricProcess": "felting"}, "fabricProcess"),
        ({"airTransportRatio": 2}, "airTransportRatio"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_queries_name_the_field(change, field):
    with pytest.raises(FootprintQueryError) as err:
        footprint(query(**change))
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


def test_cli_reads_file_and_stdin(tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps(query()))
    runner = CliRunner()
    from_file = runner.invoke(main, ["footprint", str(path)])
    from_stdin = runner.invoke(main, ["footprint"], input=json.dumps(query()))
    assert from_file.exit_code == 0 and from_stdin.exit_code == 0
    a, b = json.loads(from_file.output), json.loads(from_stdin.output)
    assert a == b and math.isclose(a["total"], sum(a["stages"].values()), abs_tol=1e-3)


def test_cli_explains_bad_query():
    r = CliRunner().invoke(main, ["footprint"], input=json.dumps(query(countryMaking="XX")))
    assert r.exit_code == 2
    assert "countryMaking: unknown country" in r.output
