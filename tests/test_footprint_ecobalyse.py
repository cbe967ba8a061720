"""The hub's footprint against Ecobalyse's own results for the same garments.

Reference: Ecobalyse's end-to-end snapshot `tests/e2e-textile.json` at commit eba633bd (MIT),
computed by Ecobalyse's simulator; provenance in `tests/footprint_reference/SOURCE.md`.
Issue 8's goal: every total within 5 %.

The snapshot used the factors of `hub/footprint/data/` (ecobalyse-data ac7292ce) for everything
these garments touch but one: air freight. Ecobalyse has since added the climate effect of
contrails to its air-freight process (same id, "…aircraft, long haul, with longtails",
88.593 Pt/t·km in our export); at eba633bd it was still Ecoinvent's plain long-haul air freight,
59.315 Pt/t·km (back-solved to five digits; Ecobalyse's methodology page "Transport par avion -
prise en compte des trainées" gives 59.32 Pt/t·km before, 88.6 after). Only the trousers flown
from China use air freight. With that one factor set back, all 15 totals agree to Ecobalyse's
printed precision.
"""

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from hub.footprint import factors as F
from hub.footprint import footprint
from hub.footprint.method import compute
from hub.footprint.query import parse_query

REFERENCE = Path(__file__).parent / "footprint_reference" / "ecobalyse-e2e-textile-eba633bd.json"
CASES = json.loads(REFERENCE.read_text(encoding="utf-8"))["cases"]
TOLERANCE = 0.05  # issue 8: within 5 % of Ecobalyse's result
EXACT = 1e-5  # 0.001 %
AIR_FREIGHT_AT_EBA633BD = 59.315  # Pt/t·km, before contrails were counted
FLOWN = "Pantalon 90% coton, 10% PU, aérien 100%, Chine"


def factors_at_snapshot() -> F.Factors:
    """Our factors with air freight as Ecobalyse had it at eba633bd (the cached ones untouched)."""
    f = F.load_factors()
    processes = dict(f.processes)
    air = copy.deepcopy(processes[F.AIR_TRANSPORT])
    air["impacts"]["ecs"] = AIR_FREIGHT_AT_EBA633BD
    processes[F.AIR_TRANSPORT] = air
    return dataclasses.replace(f, processes=processes)


SNAPSHOT_FACTORS = factors_at_snapshot()


def total_at_snapshot(case: dict) -> float:
    return compute(parse_query(case["query"], SNAPSHOT_FACTORS), SNAPSHOT_FACTORS).total


def deviation(case: dict) -> float:
    return footprint(case["query"])["total"] / case["ecs"] - 1


def test_reference_is_the_expected_snapshot():
    assert len(CASES) == 15
    assert all(c["ecs"] > 0 and c["query"]["product"] for c in CASES)
    assert FLOWN in {c["name"] for c in CASES}


def test_only_air_freight_differs_from_the_snapshot_factors():
    current = F.load_factors()
    assert current.ecs(F.AIR_TRANSPORT) == 88.593  # with contrails (ecobalyse-data ac7292ce)
    assert SNAPSHOT_FACTORS.ecs(F.AIR_TRANSPORT) == AIR_FREIGHT_AT_EBA633BD
    snapshot = SNAPSHOT_FACTORS.processes
    changed = [k for k, p in current.processes.items() if p != snapshot[k]]
    assert changed == [F.AIR_TRANSPORT]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_total_within_5_percent_of_ecobalyse(case):
    # With the hub's own (current) factors: issue 8's goal.
    assert abs(deviation(case)) <= TOLERANCE, (
        f"hub {footprint(case['query'])['total']:.2f} vs Ecobalyse {case['ecs']} Pts"
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_total_matches_ecobalyse_to_the_hundredth_point(case):
    # Same factors as the snapshot, same formulas: the totals agree to Ecobalyse's precision.
    assert total_at_snapshot(case) == pytest.approx(case["ecs"], rel=EXACT, abs=0.01)


def test_contrails_explain_the_whole_gap_of_the_flown_trousers():
    case = next(c for c in CASES if c["name"] == FLOWN)
    now = footprint(case["query"])
    extra = 0.45 / 1000 * 8189 * (88.593 - AIR_FREIGHT_AT_EBA633BD) / now["durability"]
    assert now["transport_km"]["air"] == 8189  # China → France, the garment's 0.45 kg
    assert now["total"] - total_at_snapshot(case) == pytest.approx(extra, abs=1e-3)  # 4 decimals
    assert now["total"] - case["ecs"] == pytest.approx(extra, abs=0.01)


def test_mean_and_max_deviation():
    devs = [abs(total_at_snapshot(c) / c["ecs"] - 1) for c in CASES]
    assert max(devs) <= EXACT
    current = [abs(deviation(c)) for c in CASES]
    assert max(current) <= TOLERANCE
    assert sum(current) / len(current) <= 0.005
