"""The operator's morning view: a failed check in the real Dagster UI, in headless Chromium.

Starts `dagster-webserver` on an instance where the sample district (with its seeded faults) has
been synced, opens the failed `rows_valid` check of `staged/orders` and asserts that the firm,
the reason and the failing rows (file and line) are visible. The screenshot is kept under
test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from hub.resources import HubResource
from hub.runner import run_sync
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

# A faulty order line of the sample (see sample/faults.json): the UI must show it.
FAULTS = json.loads((ROOT / "sample" / "faults.json").read_text())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, limit_s: float = 180) -> None:
    """Wait until the webserver answers (a start-up wait, not an assertion on speed)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"dagster-webserver did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def webserver(tmp_path_factory) -> Iterator[str]:
    """The UI on an instance where the whole sample district has been synced once."""
    root = tmp_path_factory.mktemp("ui")
    shutil.copy(ROOT / "district.yaml", root / "district.yaml")
    shutil.copytree(ROOT / "sample", root / "sample")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    data = root / "data"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "HUB_DISTRICT": str(root / "district.yaml"),
        "HUB_DATA_DIR": str(data),
        "HUB_WAREHOUSE_URL": f"duckdb:///{data}/warehouse.duckdb",
    }
    hub = HubResource(district_path=env["HUB_DISTRICT"], data_dir=str(data),
                      warehouse_url=env["HUB_WAREHOUSE_URL"])  # fmt: skip
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = run_sync(None, instance=instance, hub=hub, log_level="WARNING")
    assert "staged/orders:rows_valid" in result.failed_checks
    port = _free_port()
    log = root / "webserver.log"
    cmd = [str(Path(sys.executable).parent / "dagster-webserver"), "-m", "hub.definitions",
           "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_a_failed_check_shows_firm_reason_and_failing_rows(webserver, browser):
    fault = next(f for f in FAULTS if f["entity"] == "orders")
    context = browser.new_context(viewport={"width": 1600, "height": 3200})
    page = context.new_page()
    page.goto(f"{webserver}/assets/staged/orders?view=checks&checkDetail=rows_valid")
    page.get_by_text("rows failed and went to quarantine").first.wait_for(timeout=60_000)
    skip = page.get_by_role("button", name="Skip")  # Dagster's first-visit newsletter dialog
    if skip.count():
        skip.first.click()
    page.get_by_text("failing rows (sample)").first.wait_for(timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "failed_check.png"))
    body = page.inner_text("body")
    context.close()
    assert "rows_valid" in body and "Failed" in body
    assert fault["company_id"] in body
    assert "rows failed and went to quarantine" in body
    # the rule in plain words, a failing row with its file and line, the masking, the extract
    assert "the ordered quantity is greater than zero" in body
    assert Path(fault["file"]).name in body
    assert "is not greater than zero" in body
    assert "•••" in body
    assert f"quarantine/{fault['company_id']}/" in body
