"""The SFTP source without a real server: names, configuration, secrets, and a hostile server.

The hostile server is paramiko's in-memory SFTP server, used only because OpenSSH cannot be made
to list names such as `../evil.csv` or `/etc/evil.csv` (a real directory cannot hold them).
"""

from __future__ import annotations

import io
import socket
import stat
import textwrap
import threading
from pathlib import Path

import paramiko
import pytest

from connectors.base import FileCursor, FileRejected
from connectors.csv_files import CsvConnector
from connectors.csv_parser import CsvOptions
from connectors.sftp import SftpFolder, SftpSettings, unsafe_name
from hub.config import ConfigError, load_district
from hub.sftp_source import file_source

# --- remote names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.csv", "'..'"),
        ("ordini..csv", "'..'"),
        ("/etc/passwd", "absolute"),
        ("\\\\server\\x.csv", "absolute"),
        ("C:evil.csv", "absolute"),
        ("sub/evil.csv", "separator"),
        ("sub\\evil.csv", "separator"),
        ("ordini\n.csv", "control"),
        ("", "empty"),
        (".", "special"),
    ],
)
def test_unsafe_remote_names_are_refused(tmp_path, name, why):
    problem = unsafe_name(name, tmp_path)
    assert problem and why in problem


@pytest.mark.parametrize("name", ["ordini_20261121.csv", "fornitori.csv", ".hidden.csv", "a b.csv"])
def test_ordinary_names_are_accepted(tmp_path, name):
    assert unsafe_name(name, tmp_path) is None


def test_a_name_resolving_outside_the_download_folder_is_refused(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "link.csv").symlink_to(tmp_path / "elsewhere.csv")
    assert "outside" in unsafe_name("link.csv", cache)


# --- configuration ------------------------------------------------------------------------------

YAML = """\
district: {id: carpi, name: Carpi}
firms:
  - company_id: stamperia-soliera
    name: Stamperia Digitale Soliera S.r.l.
    role: subcontractor
    sources:
      - name: sftp-notturno
        location:
          kind: sftp
          host: sftp.stamperia.example
          port: ${HUB_TEST_SFTP_PORT:-2222}
          username: hub
          private_key_file: keys/hub_ed25519
          private_key_passphrase: ${HUB_TEST_PASSPHRASE}
          known_hosts_file: keys/known_hosts
          remote_dir: export
          archive_dir: archivio
          completion: {kind: rename}
        entities:
          orders:
            files: "lavori_*.csv"
            columns: {order_id: Nr, line_no: Riga, order_date: Data, sku: Articolo,
                      quantity: Qta, unit: UM}
            constants: {direction: work_order}
"""


def _load(tmp_path: Path, text: str = YAML):
    path = tmp_path / "district.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path, load_district(path)


def test_an_sftp_location_loads_and_resolves_at_run_time(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_TEST_PASSPHRASE", "s3cret-passphrase")
    _, d = _load(tmp_path)
    src = d.firms[0].sources[0]
    assert src.location.kind == "sftp" and src.location.completion.kind == "rename"
    assert src.location.private_key_passphrase == "${HUB_TEST_PASSPHRASE}", "kept as reference"
    folder = file_source(d, src.location, tmp_path / "cache")
    s = folder.settings
    assert (s.host, s.port, s.remote_dir, s.archive_dir) == (
        "sftp.stamperia.example", 2222, "export", "archivio")  # fmt: skip
    assert s.private_key_file == tmp_path / "keys" / "hub_ed25519"
    assert s.passphrase() == "s3cret-passphrase"
    assert "s3cret" not in repr(folder) + repr(s) + str(src.model_dump())
    monkeypatch.setenv("HUB_TEST_SFTP_PORT", "2022")
    assert file_source(d, src.location).settings.port == 2022


def test_a_missing_secret_variable_is_named_not_guessed(tmp_path, monkeypatch):
    monkeypatch.delenv("HUB_TEST_PASSPHRASE", raising=False)
    _, d = _load(tmp_path)
    s = file_source(d, d.firms[0].sources[0].location).settings
    with pytest.raises(Exception, match="HUB_TEST_PASSPHRASE is not set"):
        s.passphrase()


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("private_key_passphrase: ${HUB_TEST_PASSPHRASE}", "private_key_passphrase: hunter2",
         "private_key_passphrase: write secrets as a ${ENV_VAR} reference"),
        ("          private_key_file: keys/hub_ed25519\n", "",
         "give private_key_file (recommended) or password"),
        ("          known_hosts_file: keys/known_hosts\n", "",
         "give known_hosts_file or known_hosts"),
        ("port: ${HUB_TEST_SFTP_PORT:-2222}", "port: 99999", "port 99999 is not between"),
        ("port: ${HUB_TEST_SFTP_PORT:-2222}", "port: twenty-two", "port must be a number"),
        ("{kind: rename}", "{kind: whenever}", "completion.kind"),
        ("          host: sftp.stamperia.example\n", "", "host"),
    ],
)  # fmt: skip
def test_bad_sftp_settings_name_file_line_firm_and_field(tmp_path, old, new, words):
    assert old in YAML
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, YAML.replace(old, new))
    msg = str(exc.value)
    assert "district.yaml:" in msg and "firms[0] (stamperia-soliera)" in msg, msg
    assert "sources[0].location" in msg and words in msg, msg


def test_secrets_given_in_clear_are_not_echoed(tmp_path):
    text = YAML.replace("${HUB_TEST_PASSPHRASE}", "hunter2-in-clear")
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, text)
    assert "hunter2-in-clear" not in str(exc.value)


# --- a hostile server ---------------------------------------------------------------------------

HOSTILE = ["../evil.csv", "/etc/evil.csv", "sub/evil.csv", "..\\evil.csv", "ok.csv"]


class _Server(paramiko.ServerInterface):
    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED


class _HostileSftp(paramiko.SFTPServerInterface):
    """Lists names no real directory holds; records what the client opens."""

    opened: list[str] = []

    def _attr(self, name: str) -> paramiko.SFTPAttributes:
        a = paramiko.SFTPAttributes()
        a.filename, a.st_mode, a.st_size, a.st_mtime = name, stat.S_IFREG | 0o644, 8, 1_790_000_000
        return a

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes]:
        return [self._attr(n) for n in HOSTILE] + [self._attr(n + ".ok") for n in HOSTILE]

    def stat(self, path: str) -> paramiko.SFTPAttributes:
        return self._attr(path.rsplit("/", 1)[-1])

    lstat = stat

    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> paramiko.SFTPHandle:
        type(self).opened.append(path)
        handle = paramiko.SFTPHandle(flags)
        handle.readfile = io.BytesIO(b"a;b\n1;2\n")
        return handle


@pytest.fixture
def hostile_server():
    host_key = paramiko.RSAKey.generate(2048)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    transports: list[paramiko.Transport] = []
    _HostileSftp.opened = []

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            t = paramiko.Transport(conn)
            t.add_server_key(host_key)
            t.set_subsystem_handler("sftp", paramiko.SFTPServer, _HostileSftp)
            t.start_server(server=_Server())
            transports.append(t)

    threading.Thread(target=serve, daemon=True).start()
    port = sock.getsockname()[1]
    yield port, f"[127.0.0.1]:{port} {host_key.get_name()} {host_key.get_base64()}"
    sock.close()
    for t in transports:
        t.close()


@pytest.mark.integration
def test_a_hostile_servers_names_are_refused_and_nothing_lands_outside(tmp_path, hostile_server):
    port, known = hostile_server
    client_key = tmp_path / "client_rsa"
    paramiko.RSAKey.generate(2048).write_private_key_file(str(client_key))
    cache = tmp_path / "inbox" / "firm" / "source"
    settings = SftpSettings(
        "127.0.0.1", port, "hub", known_hosts=(known,), private_key_file=client_key,
        remote_dir="export", cache_dir=cache, attempts=1, timeout=10,
    )  # fmt: skip
    folder = SftpFolder(settings)
    listed = {f.name: f.problem for f in folder.list("*.csv")}
    assert listed["ok.csv"] is None
    assert all(listed[n] and "refused" in listed[n] for n in HOSTILE if n != "ok.csv")
    connector = CsvConnector(folder, {"orders": "*.csv"}, {"orders": CsvOptions()})
    read, refused = [], []
    for ex in connector.read("orders", FileCursor()):
        try:
            ex.parse()
            read.append(ex.name)
        except FileRejected as exc:
            refused.append(str(exc))
    folder.close()
    assert read == ["ok.csv"] and len(refused) == 4
    assert _HostileSftp.opened == ["export/ok.csv"], "no hostile name was ever opened"
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["client_rsa", "inbox/firm/source/ok.csv"]
