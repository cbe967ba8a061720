"""Shared fixtures: a copy of the sample district in a temporary folder, and a sync runner."""

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from hub.resources import HubResource
from hub.runner import SyncResult, run_sync
from hub.warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class District:
    """A sample district copied to tmp, with its own data folder and Dagster instance."""

    root: Path
    hub: HubResource
    instance: dg.DagsterInstance

    def sync(self, company_ids: list[str] | None = None) -> SyncResult:
        return run_sync(company_ids, instance=self.instance, hub=self.hub, log_level="WARNING")

    def sql(self, query: str) -> list[dict]:
        wh = Warehouse(self.hub.warehouse_url)
        try:
            return wh.read_arrow(query).to_pylist()
        finally:
            wh.dispose()

    def file(self, company_id: str, name: str) -> Path:
        return self.root / "sample" / company_id / name


def new_district(root: Path, stack: ExitStack) -> District:
    """Copies the committed sample district (district.yaml + sample/) into `root`."""
    root.mkdir(parents=True)
    shutil.copy(ROOT / "district.yaml", root / "district.yaml")
    shutil.copytree(ROOT / "sample", root / "sample")
    data = root / "data"
    hub = HubResource(
        district_path=str(root / "district.yaml"),
        data_dir=str(data),
        warehouse_url=f"duckdb:///{data}/warehouse.duckdb",
    )
    return District(root, hub, stack.enter_context(dg.instance_for_test()))


@pytest.fixture
def make_district(tmp_path: Path) -> Iterator[Callable[[], District]]:
    """A factory of fresh copies of the sample district, each with its own instance."""
    with ExitStack() as stack:
        counter = iter(range(1000))
        yield lambda: new_district(tmp_path / f"district{next(counter)}", stack)
