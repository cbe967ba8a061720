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
