"""A real OpenSSH server on loopback for the SFTP tests: `/usr/sbin/sshd -D -e -f <config>`.

Each server gets a fresh host key, an authorized client key and a free port, serves SFTP with
`internal-sftp` (start folder `root`), and is stopped afterwards. sshd runs as root here (the
tests run as root in CI): `PermitRootLogin prohibit-password` lets the hub log in as root by
key only, on 127.0.0.1 only; `StrictModes no` because the keys live in pytest's tmp folders.
As another user, sshd runs unprivileged and only that user can log in, which is all we need.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

SSHD = Path("/usr/sbin/sshd")
READY_TIMEOUT = 20.0  # seconds for sshd to say it listens (a startup bound, not an assertion)


def sshd_available() -> bool:
    return SSHD.is_file() and shutil.which("ssh-keygen") is not None


def require_sshd() -> None:
    if not sshd_available():
        pytest.skip("OpenSSH server not installed (scripts/system-deps.sh installs it)")


def keygen(path: Path, passphrase: str = "", kind: str = "ed25519") -> Path:
    """A new key pair at `path` (private) and `path.pub`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, path.with_name(path.name + ".pub")):
        p.unlink(missing_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "hub-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SshServer:
    """A running sshd: where it listens, its keys, and how to stop or break it."""

    workdir: Path
    root: Path  # the SFTP start folder: relative remote paths resolve against it
    port: int
    host_key: Path
    client_key: Path
    user: str = field(default_factory=getpass.getuser)
    proc: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.workdir / "sshd.log"

    def known_hosts_line(self, host_key: Path | None = None) -> str:
        key = host_key or self.host_key
        pub = key.with_name(key.name + ".pub").read_text().split()
        return f"[127.0.0.1]:{self.port} {pub[0]} {pub[1]}"

    def write_known_hosts(self, path: Path, host_key: Path | None = None) -> Path:
        path.write_text(self.known_hosts_line(host_key) + "\n")
        return path

    def env(self, known_hosts: Path) -> dict[str, str]:
        """The variables the sample district's SFTP source reads."""
        return {
            "HUB_SFTP_PORT": str(self.port),
            "HUB_SFTP_USER": self.user,
            "HUB_SFTP_KEY": str(self.client_key),
            "HUB_SFTP_KNOWN_HOSTS": str(known_hosts),
        }

    def start(self, password_auth: bool = False) -> SshServer:
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation folder
        auth = self.workdir / "authorized_keys"
        auth.write_text(self.client_key.with_name(self.client_key.name + ".pub").read_text())
        config = self.workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {auth}",
                    "StrictModes no",
                    "PermitRootLogin prohibit-password",
                    f"AllowUsers {self.user}",
                    "PubkeyAuthentication yes",
                    f"PasswordAuthentication {'yes' if password_auth else 'no'}",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "X11Forwarding no",
                    "AllowTcpForwarding no",
                    "MaxStartups 50",
                    f"Subsystem sftp internal-sftp -d {self.root}",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        self.log.unlink(missing_ok=True)
        log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while "Server listening" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sshd did not start:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.05)
        return self

    def sessions(self) -> list[psutil.Process]:
        """The per-connection sshd processes (children of the listener)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return psutil.Process(self.proc.pid).children(recursive=True)

    def kill_sessions(self) -> int:
        """Drop every open connection (the listener keeps accepting new ones)."""
        procs = self.sessions()
        for p in procs:
            p.kill()
        return len(procs)

    def stop(self) -> None:
        """Stop the listener and every session (a server that goes away)."""
        if self.proc is None:
            return
        for p in self.sessions():
            p.kill()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def restart(self, host_key: Path | None = None) -> SshServer:
        self.stop()
        if host_key is not None:
            self.host_key = host_key
        return self.start()


def new_server(workdir: Path, root: Path | None = None) -> SshServer:
    """A server (not started) with fresh keys under `workdir`, serving `root` (default: workdir)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return SshServer(
        workdir=workdir,
        root=root or workdir,
        port=free_port(),
        host_key=keygen(workdir / "host_ed25519"),
        client_key=keygen(workdir / "client_ed25519"),
    )
