"""Headless Chromium as the tests use it: Debian's build, no network chatter, no sandbox (root)."""

from pathlib import Path

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"  # screenshots kept for a person to look at (git-ignored)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
