"""Ratings of the sample district after a real sync: grades, history, pages in headless Chromium.

The nightly job runs the `ratings` assets after the harmonized tables; the rating date is fixed
with HUB_RATINGS_AS_OF so that certificates' validity, and so the grades, do not depend on
the day the tests run.
"""

from __future__ import annotations

import json
import subprocess
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import pytest

from hub.ratings.store import refresh_ratings
from hub.warehouse import Warehouse
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.conftest import new_district

pytestmark = pytest.mark.integration

AS_OF = "2026-11-23"
# The sample firms' overall grades on AS_OF, and why (see README "Ratings").
EXPECTED = {
    "moda-carpi": "C",  # SA8000 and BSCI B, waste all recovered; no chemical certificate
    "maglificio-fossoli": "D",  # knit cuttings to landfill, ISO 45001 expired, BSCI C
    "confezioni-reno": "E",  # cotton scraps to landfill, no certificate list at all
    "tintoria-secchia": "D",  # ZDHC, but dye-house sludge to landfill and no social audit
    # waste recovered, GOTS/GRS/OEKO-TEX, ISO 45001; but its fibre lots say where its fibres
    # come from: wool and cashmere tops from Biella (233 km), so fewer steps within 50 km
    "filatura-tresinaro": "B",
    "lavanderia-novese": None,  # orders and suppliers only: insufficient data
    "stamperia-soliera": None,  # orders and suppliers only (over SFTP): insufficient data
}


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HUB_RATINGS_AS_OF", AS_OF)
    with ExitStack() as stack:
        district = new_district(tmp_path_factory.mktemp("ratings") / "d", stack)
        result = district.sync()
        yield district, result
    mp.undo()


def _overall(district) -> dict[str, dict]:
    rows = district.sql(f"select * from company_ratings where criterion = 'overall' "
                        f"and as_of = DATE '{AS_OF}'")  # fmt: skip
    return {r["company_id"]: r for r in rows}


def test_the_sync_rates_every_firm_with_the_expected_grades(synced):
    district, result = synced
    assert result.success
    overall = _overall(district)
    firms = set(result.firms)
    assert set(overall) == firms
    assert {k: overall[k]["grade"] for k in firms} == {k: EXPECTED[k] for k in firms}
    for k in firms:
        if EXPECTED[k] is None:
            assert overall[k]["status"] == "insufficient_data" and overall[k]["score"] is None
        steps = json.loads(overall[k]["improvement"])
        assert steps, f"{k}: no improvement path"


def test_evidence_names_the_rows_behind_a_score(synced):
    district, _ = synced
    row = district.sql(f"select evidence from company_ratings where company_id = "
                       f"'maglificio-fossoli' and criterion = 'social' "
                       f"and as_of = DATE '{AS_OF}'")[0]  # fmt: skip
    inds = {i["id"]: i for i in json.loads(row["evidence"])["indicators"]}
    iso = inds["iso45001"]
    assert iso["value"] == 0.0 and iso["evidence"][0]["number"] == "IT-45001-2210"
    assert inds["bsci"]["note"] == "amfori BSCI grade C"


def test_a_later_rating_keeps_history_and_the_change(synced):
    district, _ = synced
    wh = Warehouse(district.hub.warehouse_url)
    try:
        later = {r.company_id: r for r in refresh_ratings(wh, date(2027, 2, 1))}
    finally:
        wh.dispose()
    rows = district.sql("select as_of, score, change, previous_as_of from company_ratings "
                        "where company_id = 'moda-carpi' and criterion = 'social' "
                        "order by as_of")  # fmt: skip
    assert [r["as_of"] for r in rows] == [date(2026, 11, 23), date(2027, 2, 1)]
    # SA8000 of moda-carpi ended on 2027-02-28: still valid; its BSCI too: no change
    assert rows[1]["previous_as_of"] == date(2026, 11, 23) and rows[1]["change"] == 0
    # maglificio-fossoli's BSCI audit ended on 2027-01-31: its social score drops, and
    # renewing the audit is on its improvement path
    knit = district.sql("select change from company_ratings where company_id = "
                        "'maglificio-fossoli' and criterion = 'social' and "
                        "as_of = DATE '2027-02-01'")[0]  # fmt: skip
    assert knit["change"] < 0
    steps = later["maglificio-fossoli"].improvement
    assert any(s["indicator"] == "bsci" for s in steps)


def test_symbiosis_matches_of_the_sample(synced):
    district, _ = synced
    rows = district.sql("select * from symbiosis_matches")
    pairs = {(r["offer_company_id"], r["demand_company_id"]) for r in rows}
    assert ("confezioni-reno", "moda-carpi") in pairs  # cotton scraps → cotton users
    assert ("maglificio-fossoli", "moda-carpi") in pairs  # knit cuttings → wool users
    assert not any(r["ewc_code"] == "04 02 20" for r in rows)  # sludge: no district use
    assert sum(r["landfill_kg_avoided"] for r in rows) > 0


def _screenshot(url: str, out: Path, profile: Path, size: str = "1280,1600") -> None:
    profile.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(CHROMIUM), *CHROMIUM_ARGS, f"--user-data-dir={profile}",
                    f"--screenshot={out}", f"--window-size={size}", url],
                   check=True, capture_output=True, timeout=120)  # fmt: skip


def test_pages_render_in_chromium_and_a_firm_sees_no_other_firm(synced, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    district, result = synced
    folder = Path(district.hub.data_dir) / "ratings"
    index = folder / "index.html"
    assert index.exists()
    names = {r["company_id"]: r["name"] for r in district.sql("select * from companies")}
    certs = district.sql("select holder_id, number from certifications")
    ARTIFACTS.mkdir(exist_ok=True)
    _screenshot(index.as_uri(), ARTIFACTS / "ratings-district.png", tmp_path / "p1")
    _screenshot((folder / "firms" / "maglificio-fossoli.html").as_uri(),
                ARTIFACTS / "ratings-firm.png", tmp_path / "p2")  # fmt: skip
    assert (ARTIFACTS / "ratings-district.png").stat().st_size > 10_000
    # the DOM as Chromium sees it
    dom = subprocess.run([str(CHROMIUM), *CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'p3'}",
                          "--dump-dom", index.as_uri()], check=True, capture_output=True,
                         text=True, timeout=120).stdout  # fmt: skip
    assert dom.count("<svg") >= 7 and 'id="matches"' in dom
    for cid in result.firms:
        page = (folder / "firms" / f"{cid}.html").read_text(encoding="utf-8")
        assert names[cid] in page
        for other, name in names.items():
            if other != cid:
                assert name not in page and other not in page, f"{cid} shows {other}"
        for c in certs:
            if c["holder_id"] != cid:
                assert c["number"] not in page, f"{cid} shows a certificate of another firm"
