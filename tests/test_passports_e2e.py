"""Passports after a real nightly sync of the sample district, and their pages in headless
Chromium (Debian's `chromium`, never a downloaded browser). The screenshot of a product page is
kept under test-artifacts/ for a person to look at."""

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ROOT, District, new_district

pytestmark = pytest.mark.integration

SCHEMA = ROOT.parent / "shared/reference/untp/untp-dpp-schema.json"


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Iterator[District]:
    with ExitStack() as stack:
        district = new_district(tmp_path_factory.mktemp("passports") / "district", stack)
        result = district.sync()
        assert result.success
        yield district


def test_every_product_of_the_district_gets_a_valid_passport(synced):
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    products = synced.sql("SELECT company_id, sku FROM products")
    rows = synced.sql("SELECT company_id, sku, max(version) AS v FROM passports GROUP BY 1, 2")
    assert {(r["company_id"], r["sku"]) for r in rows} == {
        (p["company_id"], p["sku"]) for p in products
    }
    folder = Path(synced.hub.resolved_data_dir()) / "passports"
    for p in products[:40]:
        for name in (f"{p['sku']}.json", f"{p['sku']}.restricted.json"):
            doc = json.loads((folder / p["company_id"] / name).read_text())
            assert not list(validator.iter_errors(doc)), name
    cov = json.loads((folder / "moda-carpi" / "coverage.json").read_text())
    assert 0 < cov["coverage"] <= 1 and cov["products"] > 0


def test_public_passports_hold_no_supplier_name(synced):
    names = [r["name"] for r in synced.sql("SELECT name FROM suppliers") if r["name"]]
    firms = {r["company_id"]: r["name"] for r in synced.sql("SELECT * FROM companies")}
    folder = Path(synced.hub.resolved_data_dir()) / "passports"
    checked = 0
    for path in folder.glob("*/*.json"):
        if path.name.endswith(".restricted.json") or path.name == "coverage.json":
            continue
        text = path.read_text()
        own = firms[path.parent.name]  # the issuer names itself; its suppliers stay unnamed
        assert not [n for n in names if n in text and n != own], path
        checked += 1
    assert checked > 50


def test_passport_page_in_headless_chromium(synced, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    site = Path(synced.hub.resolved_data_dir()) / "passports-site"
    page_file = site / "moda-carpi" / "MC261003.html"
    doc = json.loads((site / "moda-carpi" / "MC261003.json").read_text())
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 390, "height": 844}, is_mobile=True,
        )  # fmt: skip
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            body = page.inner_text("body")
            for text in (doc["credentialSubject"]["product"]["name"], "Composizione",
                         "Composition", "Supply chain", "Impatto ambientale"):  # fmt: skip
                assert text in body, text
            assert page.locator(".qr svg").is_visible()
            assert page.locator(".bar .fill").count() >= 5
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390  # no sideways scrolling on a phone
            page.screenshot(path=str(ARTIFACTS / "passport-MC261003.png"), full_page=True)
            page.goto((site / "index.html").as_uri())
            assert page.locator("a[href$='MC261003.html']").count() == 1
        finally:
            browser.close()
    assert errors == []


def test_declared_substances_reach_the_restricted_view_and_only_a_summary_is_public(synced):
    """moda-carpi's zip declares DEHP above 0.1 % w/w, lead below it and titanium dioxide (not of
    very high concern): the restricted passport lists each with its component and flags DEHP;
    the public one says only how many Candidate-List substances are above the threshold."""
    lines = synced.sql(
        "SELECT company_id, sku, component_code, substances FROM bom_lines "
        "WHERE substances LIKE '%117-81-7%' ORDER BY company_id, sku"
    )
    assert lines, "no BOM line of the sample declares DEHP"
    folder = Path(synced.hub.resolved_data_dir()) / "passports"
    for line in lines[:5]:
        base = folder / line["company_id"] / line["sku"]
        restricted = json.loads(base.with_name(f"{line['sku']}.restricted.json").read_text())
        public_text = base.with_name(f"{line['sku']}.json").read_text()
        public = json.loads(public_text)
        detail = restricted["credentialSubject"]["substancesOfConcern"]["detail"]
        mine = {d["cas"]: d for d in detail if d["component"] == line["component_code"]}
        assert set(mine) == {"117-81-7", "7439-92-1", "13463-67-7"}, detail
        dehp, lead, tio2 = mine["117-81-7"], mine["7439-92-1"], mine["13463-67-7"]
        assert dehp["svhc"] and dehp["above_threshold"] and dehp["concentration"] == 0.0025
        assert lead["svhc"] and not lead["above_threshold"] and lead["concentration"] == 0.0005
        assert not tio2["svhc"] and not tio2["above_threshold"]
        summary = public["credentialSubject"]["substancesOfConcern"]
        assert summary["declared"] is True
        assert summary["svhcAboveThreshold"] == sum(d["above_threshold"] for d in detail) >= 1
        assert summary["containsSvhcAbove0.1Percent"] is True
        assert "detail" not in summary
        for secret in ("117-81-7", "7439-92-1", "13463-67-7", line["component_code"]):
            assert secret not in public_text, secret


def test_a_product_without_declarations_says_so(synced):
    sku = synced.sql(
        "SELECT p.sku FROM products p WHERE p.company_id = 'maglificio-fossoli' "
        "AND NOT EXISTS (SELECT 1 FROM bom_lines b WHERE b.company_id = p.company_id "
        "AND b.sku = p.sku AND b.substances IS NOT NULL) LIMIT 1"
    )[0]["sku"]
    folder = Path(synced.hub.resolved_data_dir()) / "passports" / "maglificio-fossoli"
    summary = json.loads((folder / f"{sku}.json").read_text())["credentialSubject"][
        "substancesOfConcern"
    ]
    assert summary["declared"] is False and summary["containsSvhcAbove0.1Percent"] is None
