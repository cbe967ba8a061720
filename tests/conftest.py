"""Shared fixtures: a copy of the sample district in a temporary folder, and a sync runner."""

import atexit
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml

from hub.resources import HubResource
from hub.runner import SyncResult, run_sync
from hub.warehouse import Warehouse
from tests import sftp_server

ROOT = Path(__file__).resolve().parent.parent
SFTP_FIRM = "stamperia-soliera"  # the sample firm that delivers over SFTP
_sample_sshd: list[sftp_server.SshServer] = []  # started on first use, stopped after the session


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
    _serve_sftp_firm(root)
    return District(root, hub_in(root), stack.enter_context(dg.instance_for_test()))


def hub_in(root: Path, config: dict | None = None, warehouse_url: str = "") -> HubResource:
    """The hub of the district in `root` (its district.yaml written from `config` if given):
    data under root/data, the warehouse a DuckDB file there unless `warehouse_url` says."""
    if config is not None:
        text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
        (root / "district.yaml").write_text(text, encoding="utf-8")
    return HubResource(
        district_path=str(root / "district.yaml"),
        data_dir=str(root / "data"),
        warehouse_url=warehouse_url or f"duckdb:///{root}/data/warehouse.duckdb",
    )


def _serve_sftp_firm(root: Path) -> None:
    """The sample's SFTP firm is served by a real sshd on loopback (one for the session), its
    remote folder pointed at this copy's files; without sshd the firm is removed from the copy,
    with a warning, so that the other firms' tests still run."""
    yaml_path = root / "district.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    if not sftp_server.sshd_available():
        warnings.warn(f"sshd not installed: {SFTP_FIRM} is left out of this test district",
                      stacklevel=2)  # fmt: skip
        data = yaml.safe_load(text)
        data["firms"] = [f for f in data["firms"] if f["company_id"] != SFTP_FIRM]
        yaml_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return
    if not _sample_sshd:
        workdir = Path(tempfile.mkdtemp(prefix="hub-sshd-"))
        server = sftp_server.new_server(workdir).start()
        atexit.register(server.stop)  # also if the session ends without its teardown
        os.environ.update(server.env(server.write_known_hosts(workdir / "known_hosts")))
        _sample_sshd.append(server)
    remote = f"remote_dir: sample/{SFTP_FIRM}"
    assert text.count(remote) == 1, "the sample's SFTP firm changed: update tests/conftest.py"
    yaml_path.write_text(
        text.replace(remote, f"remote_dir: {root}/sample/{SFTP_FIRM}"), encoding="utf-8"
    )


@pytest.fixture(scope="session", autouse=True)
def _stop_sample_sshd() -> Iterator[None]:
    yield
    for server in _sample_sshd:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture
def make_district(tmp_path: Path) -> Iterator[Callable[[], District]]:
    """A factory of fresh copies of the sample district, each with its own instance."""
    with ExitStack() as stack:
        counter = iter(range(1000))
        yield lambda: new_district(tmp_path / f"district{next(counter)}", stack)
