"""A real PostgreSQL 15 for tests: initdb in a temporary folder, on loopback, a free port.

Debian's postgresql-15 (scripts/system-deps.sh) puts initdb and pg_ctl under
/usr/lib/postgresql/15/bin. initdb refuses to run as root: as root the server runs as the
unprivileged `postgres` user (created by the package), or `nobody`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("HUB_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER, SUPERPASSWORD = "hub_admin", "admin-Secret-15"


@dataclass
class Postgres:
    host: str
    port: int

    def url(self, user: str = SUPERUSER, password: str = SUPERPASSWORD, db: str = "postgres",
            driver: str = "psycopg") -> str:  # fmt: skip
        return f"postgresql+{driver}://{user}:{password}@{self.host}:{self.port}/{db}"

    def execute(self, *statements: str, db: str = "postgres") -> None:
        """Run statements as the superuser, autocommit (CREATE DATABASE needs it)."""
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, password=SUPERPASSWORD, dbname=db,
            autocommit=True,
        ) as conn:  # fmt: skip
            for s in statements:
                conn.execute(s)  # test setup, constant text


def available() -> bool:
    return (PG_BIN / "initdb").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    """initdb + pg_ctl start; stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    demote: dict = {}
    if os.geteuid() == 0:
        name = "postgres" if _user_exists("postgres") else "nobody"
        pw = pwd.getpwnam(name)
        shutil.chown(root, pw.pw_uid, pw.pw_gid)
        demote = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
    data, pwfile = root / "data", root / "pw"
    pwfile.write_text(SUPERPASSWORD + "\n")
    if demote:
        os.chown(pwfile, demote["user"], demote["group"])
    port = _free_port()
    run = {"check": True, "capture_output": True, "cwd": root, **demote}
    subprocess.run([str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER, "--pwfile",
                    str(pwfile), "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
                   **run)  # fmt: skip
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
                    str(root / "log"), "-w", "-t", "60", "start"], **run)  # fmt: skip
    try:
        yield Postgres("127.0.0.1", port)
    finally:
        subprocess.run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       **{**run, "check": False})  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
