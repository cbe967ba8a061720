"""The hub's footprint against Ecobalyse's own results for the same garments.

Reference: Ecobalyse's end-to-end snapshot `tests/e2e-textile.json` at commit eba633bd (MIT),
computed by Ecobalyse's simulator with the same factors as `hub/footprint/data/`; provenance in
`tests/footprint_reference/SOURCE.md`. Issue 8's goal: every total within 5 %.
"""

import json
from pathlib import Path

import pytest

from hub.footprint import footprint

REFERENCE = Path(__file__).parent / "footprint_reference" / "ecobalyse-e2e-textile-eba633bd.json"
CASES = json.loads(REFERENCE.read_text(encoding="utf-8"))["cases"]
TOLERANCE = 0.05  # issue 8: within 5 % of Ecobalyse's result
EXACT = 1e-5  # 0.001 %: what the hub reaches on every case but the known residual below
KNOWN_RESIDUAL = {
    # Ecobalyse's total is 147.8 points (3.5 %) lower; the gap is about a third of the
    # air-freight leg China → France (100 % by air). Not explained by the source available
    # offline; see docs/footprint.md.
    "Pantalon 90% coton, 10% PU, aérien 100%, Chine",
}


def deviation(case: dict) -> float:
    return footprint(case["query"])["total"] / case["ecs"] - 1


def test_reference_is_the_expected_snapshot():
    assert len(CASES) == 15
    assert all(c["ecs"] > 0 and c["query"]["product"] for c in CASES)
    assert {c["name"] for c in CASES} >= KNOWN_RESIDUAL


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_total_within_5_percent_of_ecobalyse(case):
    assert abs(deviation(case)) <= TOLERANCE, (
        f"hub {footprint(case['query'])['total']:.2f} vs Ecobalyse {case['ecs']} Pts"
    )


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["name"] not in KNOWN_RESIDUAL],
    ids=[c["name"] for c in CASES if c["name"] not in KNOWN_RESIDUAL],
)  # fmt: skip
def test_total_matches_ecobalyse_to_the_hundredth_point(case):
    # Same factors, same formulas: the totals agree to Ecobalyse's printed precision.
    assert footprint(case["query"])["total"] == pytest.approx(case["ecs"], rel=EXACT, abs=0.01)


def test_mean_and_max_deviation():
    devs = [abs(deviation(c)) for c in CASES]
    assert max(devs) <= TOLERANCE
    assert sum(devs) / len(devs) <= 0.005
