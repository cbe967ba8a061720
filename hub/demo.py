"""`make demo` and `make ui`: the sample district with the servers its firms deliver through.

The sample has a firm that delivers its files over SFTP (served by `scripts/sftp-demo.sh`, a
local OpenSSH server) and a firm whose data comes from its own Tryton ERP (installed by
`scripts/tryton-env.sh` into `.venv-tryton/`, started here on a free loopback port, its database
kept under `$HUB_DATA_DIR/erp/tryton/` and populated through Tryton's API on the first run).
Both servers are started, the command runs with their settings in its environment (the Tryton
firm is `enabled: ${HUB_TRYTON_DEMO:-false}` in district.yaml), and both are stopped afterwards,
also when the command fails or is interrupted. A server that cannot be had (no sshd; no network
to install Tryton) is reported and its firm left out; the rest of the district still runs.

    python -m hub.demo sync          validate the configuration, run `hub sync` once
    python -m hub.demo run CMD ...   run CMD (e.g. `dagster dev …`) with the servers up
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub import tryton_demo

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = 3  # scripts/sftp-demo.sh: the server cannot be had, its firm is skipped


def _say(message: str) -> None:
    sys.stderr.write(f"demo: {message}\n")
    sys.stderr.flush()


@contextmanager
def sftp_server() -> Iterator[bool]:
    """scripts/sftp-demo.sh's sshd, stopped on exit; False when it cannot be had."""
    script = str(ROOT / "scripts" / "sftp-demo.sh")
    started = subprocess.run([script, "start"], cwd=ROOT).returncode == 0
    try:
        yield started
    finally:
        if started:
            subprocess.run([script, "stop"], cwd=ROOT)


@contextmanager
def tryton_server(data_dir: Path) -> Iterator[dict[str, str]]:
    """The demo's Tryton, installed if needed: the environment that enables its firm, or {}
    when it cannot be had. Stopped on exit."""
    setup = subprocess.run([str(ROOT / "scripts" / "tryton-env.sh")], cwd=ROOT)
    if setup.returncode != 0:
        _say(f"scripts/tryton-env.sh failed (exit {setup.returncode}): the firm "
             f"{tryton_demo.COMPANY_ID} (its Tryton ERP) is skipped")  # fmt: skip
        yield {}
        return
    folder = data_dir / "erp" / "tryton"
    try:
        server = tryton_demo.start_demo(folder)
    except Exception as exc:
        _say(f"Tryton did not start ({exc}; log {folder / 'trytond.log'}): the firm "
             f"{tryton_demo.COMPANY_ID} is skipped")  # fmt: skip
        yield {}
        return
    _say(f"Tryton on {server.url} (database {server.database}) for {tryton_demo.COMPANY_ID}")
    try:
        yield {
            tryton_demo.ENABLED_ENV: "true",
            tryton_demo.URL_ENV: server.url,
            tryton_demo.DATABASE_ENV: server.database,
            tryton_demo.PASSWORD_ENV: tryton_demo.HUB_PASSWORD,
        }
    finally:
        server.stop()
        _say("Tryton stopped")


def run(command: list[str], env: dict[str, str]) -> int:
    """Run a command; stopped by a signal, stop it first (SIGTERM, then SIGKILL after 30 s) so
    that it ends before the servers it uses."""
    child = subprocess.Popen(command, env=env)
    try:
        return child.wait()
    except BaseException:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        raise


def sync_args(district: Path, env: dict[str, str], sftp: bool) -> list[str]:
    """`hub sync` arguments: every enabled firm, or, without the SFTP server, the others."""
    if sftp:
        return []
    from hub.config import load_district
    from hub.sftp_source import over_sftp

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        d = load_district(district)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    kept = [f.company_id for f in d.firms if not any(over_sftp(s) for s in f.sources)]
    return [a for c in kept for a in ("--company", c)]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("sync", "run") or (args[0] == "run" and len(args) < 2):
        sys.stderr.write(__doc__ or "")
        return 2
    # Ctrl-C, or SIGTERM (a CI job cancelled): unwind, so that the servers are stopped. SIGINT
    # too when it was inherited ignored (a background job of a non-interactive shell).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    data_dir = Path(os.environ.get("HUB_DATA_DIR", ROOT / "data")).resolve()
    district = Path(os.environ.get("HUB_DISTRICT", ROOT / "district.yaml"))
    bin_dir = Path(sys.executable).parent
    with sftp_server() as sftp, tryton_server(data_dir) as tryton_env:
        env = {**os.environ, **tryton_env}
        if args[0] == "run":
            return run(args[2:] if args[1] == "--" else args[1:], env)
        hub = str(bin_dir / "hub")
        checked = run([hub, "validate-config"], env)
        if checked != 0:
            return checked
        return run([hub, "sync", *sync_args(district, tryton_env, sftp)], env)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the servers are stopped by now
        sys.exit(130)
