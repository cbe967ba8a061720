"""The SFTP file source against a real OpenSSH server on loopback (tests/sftp_server.py).

Completion rules, host key verification, authentication, missing folders, unsafe names,
temporary downloads, archiving, and connections dropped mid-transfer (retried) or servers gone
(a clear failure after bounded retries).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from connectors.base import FileCursor, FileRejected
from connectors.csv_files import CsvConnector
from connectors.csv_parser import CsvOptions
from connectors.sftp import (
    AUTH_REFUSED,
    FOLDER_MISSING,
    HOST_KEY_CHANGED,
    HOST_KEY_UNKNOWN,
    Completion,
    SftpError,
    SftpFolder,
    SftpSettings,
)
from tests.sftp_server import SshServer, free_port, keygen, new_server, require_sshd

pytestmark = pytest.mark.integration

BIG = 48 * 1024 * 1024  # far more than socket buffers hold: a kill lands mid-transfer


@pytest.fixture(scope="module")
def sshd(tmp_path_factory) -> SshServer:
    require_sshd()
    work = tmp_path_factory.mktemp("sshd")
    server = new_server(work / "server").start()
    yield server
    server.stop()


@pytest.fixture
def own_sshd(tmp_path) -> SshServer:
    """A server of the test's own, for tests that stop or break it."""
    require_sshd()
    server = new_server(tmp_path / "own-server").start()
    yield server
    server.stop()


@pytest.fixture
def drop(tmp_path) -> Path:
    """The firm's drop folder on the server (an absolute remote path)."""
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def _settings(server: SshServer, drop: Path, tmp_path: Path, **kw) -> SftpSettings:
    known = server.write_known_hosts(tmp_path / f"known_hosts-{server.port}")
    base = SftpSettings(
        host="127.0.0.1", port=server.port, username=server.user, known_hosts_file=known,
        private_key_file=server.client_key, remote_dir=str(drop), cache_dir=tmp_path / "cache",
        timeout=10, attempts=3, backoff=0.01, backoff_max=0.05,
    )  # fmt: skip
    return replace(base, **kw)


def _put(folder: Path, name: str, text: str = "a;b\n1;2\n", marker: bool = False) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    if marker:
        (folder / f"{name}.ok").write_bytes(b"")
    return path


def _names(files) -> list[str]:  # noqa: ANN001
    return [f.name for f in files]


# --- completion rules ---------------------------------------------------------------------------


def test_marker_rule_picks_only_marked_files_and_never_markers(sshd, drop, tmp_path):
    _put(drop, "ordini_1.csv", marker=True)
    _put(drop, "ordini_2.csv")  # still being written: no marker yet
    _put(drop, "ordini_3.csv.part")
    _put(drop, "ordini_4.csv.tmp", marker=True)
    folder = SftpFolder(_settings(sshd, drop, tmp_path))
    assert _names(folder.list("ordini_*.csv")) == ["ordini_1.csv"]
    assert _names(folder.list("*")) == ["ordini_1.csv"]  # markers and temp files are not data
    (drop / "ordini_2.csv.ok").write_bytes(b"")
    assert _names(folder.list("ordini_*.csv")) == ["ordini_1.csv", "ordini_2.csv"]
    folder.close()


def test_rename_rule_ignores_part_and_tmp_until_renamed(sshd, drop, tmp_path):
    _put(drop, "ordini_1.csv")
    _put(drop, "ordini_2.csv.part")
    _put(drop, "ordini_3.csv.tmp")
    folder = SftpFolder(_settings(sshd, drop, tmp_path, completion=Completion("rename")))
    assert _names(folder.list("*")) == ["ordini_1.csv"]
    (drop / "ordini_2.csv.part").rename(drop / "ordini_2.csv")
    assert _names(folder.list("ordini_*.csv")) == ["ordini_1.csv", "ordini_2.csv"]
    folder.close()


def test_stable_rule_skips_a_file_that_grows_between_two_listings(sshd, drop, tmp_path):
    _put(drop, "done.csv")
    growing = _put(drop, "growing.csv")
    waits: list[float] = []

    def writer_keeps_writing(seconds: float) -> None:  # the ERP appends while the hub waits
        waits.append(seconds)
        with growing.open("a") as fh:
            fh.write("3;4\n")

    settings = _settings(sshd, drop, tmp_path, completion=Completion("stable", stable_seconds=7))
    folder = SftpFolder(settings, sleep=writer_keeps_writing)
    assert _names(folder.list("*.csv")) == ["done.csv"]
    assert waits == [7]
    quiet = SftpFolder(settings, sleep=lambda s: None)  # the writer has finished
    assert _names(quiet.list("*.csv")) == ["done.csv", "growing.csv"]
    folder.close()
    quiet.close()


# --- downloads and archive ----------------------------------------------------------------------


def test_download_goes_to_a_temporary_name_then_is_renamed(sshd, drop, tmp_path, monkeypatch):
    _put(drop, "ordini_1.csv", "x;y\n" + "1;2\n" * 20_000, marker=True)
    settings = _settings(sshd, drop, tmp_path)
    seen: list[tuple[bool, list[str]]] = []

    def during(name: str, done: int, total: int) -> None:
        final = settings.cache_dir / name
        seen.append((final.exists(), [p.name for p in settings.cache_dir.iterdir()]))

    monkeypatch.setattr(SftpFolder, "progress_hook", staticmethod(during))
    folder = SftpFolder(settings)
    data = folder.read_bytes("ordini_1.csv")
    folder.close()
    assert data == (drop / "ordini_1.csv").read_bytes()
    assert seen and not any(final for final, _ in seen), "the final name appears only when done"
    assert all(n.endswith(".part") for _, names in seen for n in names)
    assert sorted(p.name for p in settings.cache_dir.iterdir()) == ["ordini_1.csv"]


def test_archive_moves_file_and_marker_under_unique_names(sshd, drop, tmp_path):
    folder = SftpFolder(_settings(sshd, drop, tmp_path, archive_dir="archivio"))
    _put(drop, "ordini_1.csv", marker=True)
    first = folder.archive("ordini_1.csv")
    _put(drop, "ordini_1.csv", "a;b\n5;6\n", marker=True)  # the same name again, next night
    second = folder.archive("ordini_1.csv")
    folder.close()
    assert first != second
    archived = sorted(p.name for p in (drop / "archivio").iterdir())
    assert len(archived) == 4 and sum(n.endswith(".csv.ok") for n in archived) == 2
    assert not list(drop.glob("ordini_1.csv*"))
    assert {Path(first).name, Path(second).name} <= set(archived)


def test_a_local_folder_is_never_archived(tmp_path):
    from connectors.local_folder import LocalFolder

    _put(tmp_path, "ordini_1.csv")
    assert LocalFolder(tmp_path).archive("ordini_1.csv") is None
    assert (tmp_path / "ordini_1.csv").exists()


# --- refusals -----------------------------------------------------------------------------------


def test_unknown_host_key_is_refused_and_known_hosts_left_untouched(sshd, drop, tmp_path):
    _put(drop, "ordini_1.csv", marker=True)
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    folder = SftpFolder(_settings(sshd, drop, tmp_path, known_hosts_file=empty))
    result = folder.check()
    assert not result.ok
    assert "host key unknown" in result.message and "SHA256:" in result.message
    with pytest.raises(SftpError) as exc:
        folder.list("*")
    assert exc.value.reason == HOST_KEY_UNKNOWN
    assert empty.read_text() == "", "never added to known_hosts"
    assert not (tmp_path / "cache").exists()


def test_changed_host_key_is_refused(sshd, drop, tmp_path):
    other = keygen(tmp_path / "impostor_ed25519")
    known = sshd.write_known_hosts(tmp_path / "known_hosts_old", host_key=other)
    folder = SftpFolder(_settings(sshd, drop, tmp_path, known_hosts_file=known))
    result = folder.check()
    assert not result.ok and "host key CHANGED" in result.message, result.message
    with pytest.raises(SftpError) as exc:
        folder.list("*")
    assert exc.value.reason == HOST_KEY_CHANGED


def test_inline_known_hosts_entry_is_enough(sshd, drop, tmp_path):
    settings = _settings(sshd, drop, tmp_path, known_hosts_file=None,
                         known_hosts=(sshd.known_hosts_line(),))  # fmt: skip
    assert SftpFolder(settings).check().ok


def test_wrong_client_key_is_refused(sshd, drop, tmp_path):
    stranger = keygen(tmp_path / "stranger_ed25519")
    folder = SftpFolder(_settings(sshd, drop, tmp_path, private_key_file=stranger))
    result = folder.check()
    assert not result.ok and "authentication refused" in result.message, result.message
    with pytest.raises(SftpError) as exc:
        folder.list("*")
    assert exc.value.reason == AUTH_REFUSED


def test_missing_folder_is_reported(sshd, drop, tmp_path):
    folder = SftpFolder(_settings(sshd, drop / "nope", tmp_path))
    result = folder.check()
    assert not result.ok and "folder missing" in result.message, result.message
    with pytest.raises(SftpError) as exc:
        folder.list("*")
    assert exc.value.reason == FOLDER_MISSING


def test_unreachable_host_is_reported_after_bounded_retries(sshd, drop, tmp_path):
    settings = replace(_settings(sshd, drop, tmp_path), port=free_port())
    result = SftpFolder(settings).check()
    assert not result.ok and "host unreachable" in result.message, result.message
    with pytest.raises(SftpError) as exc:
        SftpFolder(settings).list("*")
    assert "failed after 3 attempts" in str(exc.value)
    assert "host unreachable" in str(exc.value)


def test_unsafe_names_on_a_real_server_are_refused_and_reported(sshd, drop, tmp_path):
    _put(drop, "ordini_..x.csv", marker=True)
    _put(drop, "ordini_a\\b.csv", marker=True)
    _put(drop, "ordini_ok.csv", marker=True)
    settings = _settings(sshd, drop, tmp_path)
    folder = SftpFolder(settings)
    listed = {f.name: f.problem for f in folder.list("ordini_*.csv")}
    assert listed["ordini_ok.csv"] is None
    assert "contains '..'" in listed["ordini_..x.csv"]
    assert "separator" in listed["ordini_a\\b.csv"]
    connector = CsvConnector(folder, {"orders": "ordini_*.csv"}, {"orders": CsvOptions()})
    outcomes = {}
    for ex in connector.read("orders", FileCursor()):
        try:
            ex.parse()
            outcomes[ex.name] = "read"
        except FileRejected as exc:
            outcomes[ex.name] = str(exc)
    assert outcomes["ordini_ok.csv"] == "read"
    refused = [v for k, v in outcomes.items() if k != "ordini_ok.csv"]
    assert len(refused) == 2 and all("remote name refused" in v for v in refused)
    with pytest.raises(FileRejected):
        folder.read_bytes("../ordini_ok.csv")
    folder.close()
    assert sorted(p.name for p in settings.cache_dir.iterdir()) == ["ordini_ok.csv"]


# --- dropped connections ------------------------------------------------------------------------

# paramiko's read-ahead thread dies with the dropped connection (EOFError in its own thread):
# expected here; the transfer's own failure is what these tests check.
_PREFETCH_THREAD_DIES = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnhandledThreadExceptionWarning"
)


@_PREFETCH_THREAD_DIES
def test_a_connection_dropped_mid_transfer_is_retried(own_sshd, drop, tmp_path, monkeypatch):
    big = drop / "big.csv"
    big.write_bytes(os.urandom(BIG))
    killed: list[int] = []

    def drop_once(name: str, done: int, total: int) -> None:
        if not killed:
            killed.append(own_sshd.kill_sessions())

    monkeypatch.setattr(SftpFolder, "progress_hook", staticmethod(drop_once))
    folder = SftpFolder(_settings(own_sshd, drop, tmp_path, completion=Completion("rename")))
    data = folder.read_bytes("big.csv")
    folder.close()
    assert killed and killed[0] >= 1, "a session was killed during the transfer"
    assert data == big.read_bytes()
    logins = own_sshd.log.read_text().count("Accepted publickey")
    assert logins >= 2, "the download reconnected"


@_PREFETCH_THREAD_DIES
def test_a_server_gone_mid_transfer_fails_clearly(own_sshd, drop, tmp_path, monkeypatch):
    (drop / "big.csv").write_bytes(os.urandom(BIG))
    monkeypatch.setattr(SftpFolder, "progress_hook",
                        staticmethod(lambda name, done, total: own_sshd.stop()))  # fmt: skip
    settings = _settings(own_sshd, drop, tmp_path, completion=Completion("rename"))
    folder = SftpFolder(settings)
    with pytest.raises(SftpError) as exc:
        folder.read_bytes("big.csv")
    folder.close()
    message = str(exc.value)
    assert "download of big.csv" in message and "failed after 3 attempts" in message, message
    assert f"127.0.0.1:{own_sshd.port}" in message
    assert list(settings.cache_dir.iterdir()) == [], "no partial file is left"
