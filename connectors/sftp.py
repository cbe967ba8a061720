"""SFTP file source: a firm's nightly exports picked up from an SFTP server, safely.

Plain Python over paramiko (no Dagster). What makes it safe:

- the server's host key is verified against the configured known_hosts (paramiko's
  `RejectPolicy`: unknown and changed keys are refused, never added);
- key authentication (a password only when a firm cannot do otherwise); no SSH agent, no
  default keys looked up; connect, banner, auth and channel timeouts and a keepalive;
- a remote name that is absolute, holds `..`, a separator or a control character, or would
  resolve outside the download folder is refused and reported, never downloaded;
- a file is picked only when its completion rule says the firm finished writing it, is
  downloaded to a temporary name and renamed into the local cache, and is moved into the
  server's archive folder only when the hub says its rows are committed (`archive`);
- a dropped connection is retried with bounded exponential backoff and jitter, then fails with
  a message naming the server, the file and the reason;
- passwords and key passphrases are callables resolved at connect time: they are never
  attributes of this object, never in its repr, never in a message.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import posixpath
import socket
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import paramiko
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from connectors.base import CheckResult, FileRejected, SourceError
from connectors.files import RemoteFile

Secret = Callable[[], str | None]
TEMP_SUFFIXES = (".part", ".tmp")


class SftpError(SourceError):
    """An SFTP source cannot be used; `reason` is one of the REASONS below."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


UNREACHABLE, HOST_KEY_UNKNOWN = "unreachable", "host-key-unknown"
HOST_KEY_CHANGED, AUTH_REFUSED = "host-key-changed", "auth-refused"
FOLDER_MISSING, TRANSFER_FAILED = "folder-missing", "transfer-failed"
PERMISSION_DENIED = "permission-denied"
REASONS = (UNREACHABLE, HOST_KEY_UNKNOWN, HOST_KEY_CHANGED, AUTH_REFUSED, FOLDER_MISSING,
           TRANSFER_FAILED, PERMISSION_DENIED)  # fmt: skip


@dataclass(frozen=True)
class Completion:
    """When a remote file is complete (the firm has finished writing it).

    Attributes:
        kind: `marker` — complete once `<name><marker_suffix>` exists beside it;
            `rename` — the firm writes `<name>.part` (or `.tmp`) and renames it when done;
            `stable` — size and mtime unchanged over `stable_seconds`.
        marker_suffix: suffix of marker files (never picked as data).
        stable_seconds: how long size and mtime must stay unchanged.
        temp_suffixes: files ending so are being written: never picked, whatever the kind.
    """

    kind: Literal["marker", "rename", "stable"] = "marker"
    marker_suffix: str = ".ok"
    stable_seconds: float = 30.0
    temp_suffixes: tuple[str, ...] = TEMP_SUFFIXES


@dataclass(frozen=True)
class SftpSettings:
    """Everything needed to reach one firm's SFTP folder (no secret in clear).

    Attributes:
        host: server name or address.
        port: TCP port.
        username: the account the firm gave the hub.
        known_hosts_file: OpenSSH known_hosts file holding the server's key.
        known_hosts: known_hosts lines (alternative or addition to the file).
        private_key_file: the hub's private key for this server (recommended).
        passphrase: returns the key's passphrase, resolved at connect time.
        password: returns the password (when no key), resolved at connect time.
        remote_dir: the folder the firm drops files in (relative to the login folder or absolute).
        archive_dir: where committed files are moved (relative to remote_dir, or absolute);
            None: files are left in place.
        completion: when a file counts as complete.
        cache_dir: local folder files are downloaded into.
        timeout: seconds for TCP connect, banner, authentication and channel operations.
        keepalive: seconds between keepalive packets.
        attempts: tries of an operation before it fails (a dropped connection is retried).
        backoff: base seconds of the exponential backoff between tries (with jitter).
        backoff_max: longest wait between tries.
    """

    host: str
    port: int
    username: str
    known_hosts_file: Path | None = None
    known_hosts: tuple[str, ...] = ()
    private_key_file: Path | None = None
    passphrase: Secret | None = field(default=None, repr=False)
    password: Secret | None = field(default=None, repr=False)
    remote_dir: str = "."
    archive_dir: str | None = None
    completion: Completion = Completion()
    cache_dir: Path = Path("data/inbox")
    timeout: float = 20.0
    keepalive: int = 15
    attempts: int = 4
    backoff: float = 1.0
    backoff_max: float = 30.0

    @property
    def url(self) -> str:
        return f"sftp://{self.username}@{self.host}:{self.port}/{self.remote_dir.lstrip('/')}"


def unsafe_name(name: str, cache_dir: Path) -> str | None:
    """Why a remote file name cannot be used locally, or None when it is safe."""
    if not name or name in (".", ".."):
        return "empty or special name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in name:
        return "contains '..'"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "contains a control character"
    base = cache_dir.resolve()
    if (base / name).resolve().parent != base:
        return "resolves outside the download folder"
    return None


class _Reject(paramiko.RejectPolicy):
    """paramiko's RejectPolicy, remembering the refused key so that the message can show it."""

    def __init__(self) -> None:
        self.key: paramiko.PKey | None = None

    def missing_host_key(self, client, hostname, key) -> None:  # noqa: ANN001
        self.key = key
        super().missing_host_key(client, hostname, key)


def _transient(exc: BaseException) -> bool:
    """A network fault worth another try (not a refusal, not a missing file)."""
    if isinstance(exc, SftpError):
        return exc.reason in (UNREACHABLE, TRANSFER_FAILED)
    if isinstance(exc, paramiko.AuthenticationException | paramiko.BadHostKeyException):
        return False
    if isinstance(exc, FileNotFoundError | PermissionError):
        return False
    if isinstance(exc, OSError) and exc.errno in (errno.ENOENT, errno.EACCES, errno.EPERM):
        return False
    return isinstance(exc, OSError | EOFError | paramiko.SSHException)


class SftpFolder:
    """Files in one folder of an SFTP server (not recursive), listed by a glob pattern.

    Args:
        settings: server, account, folders, completion rule, timeouts and retries.
        sleep: waits between the two listings of the `stable` rule (a test seam).
    """

    # Called with (name, bytes so far, total) while a file downloads: a test seam.
    progress_hook: Callable[[str, int, int], None] | None = None

    def __init__(self, settings: SftpSettings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self._sleep = sleep
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def __repr__(self) -> str:
        return f"SftpFolder({self.settings.url})"

    # --- connection ---------------------------------------------------------------------------

    def _connect(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        s = self.settings
        client = paramiko.SSHClient()
        hosts = client.get_host_keys()
        if s.known_hosts_file is not None:
            if not s.known_hosts_file.is_file():
                raise SftpError(HOST_KEY_UNKNOWN, f"{s.url}: known_hosts file "
                                f"{s.known_hosts_file} does not exist")  # fmt: skip
            hosts.load(str(s.known_hosts_file))
        for line in s.known_hosts:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
            if entry is None:
                raise SftpError(HOST_KEY_UNKNOWN, f"{s.url}: known_hosts entry is not valid")
            for name in entry.hostnames:
                hosts.add(name, entry.key.get_name(), entry.key)
        policy = _Reject()
        client.set_missing_host_key_policy(policy)
        pkey = None
        if s.private_key_file is not None:
            pkey = self._load_key(s.private_key_file)
        password = s.password() if s.password is not None else None
        try:
            client.connect(
                s.host, port=s.port, username=s.username, pkey=pkey, password=password,
                timeout=s.timeout, banner_timeout=s.timeout, auth_timeout=s.timeout,
                channel_timeout=s.timeout, allow_agent=False, look_for_keys=False,
            )  # fmt: skip
            transport = client.get_transport()
            assert transport is not None
            transport.set_keepalive(s.keepalive)
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(s.timeout)
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise SftpError(
                HOST_KEY_CHANGED,
                f"{s.url}: host key CHANGED: the server showed "
                f"{exc.key.get_name()} {exc.key.fingerprint}, known_hosts has "
                f"{exc.expected_key.fingerprint}; refused (the server was "
                "reinstalled, or someone is in between: ask the firm)",
            ) from None
        except paramiko.AuthenticationException:
            client.close()
            how = f"key {s.private_key_file}" if pkey is not None else "password"
            raise SftpError(
                AUTH_REFUSED, f"{s.url}: authentication refused for user '{s.username}' ({how})"
            ) from None
        except paramiko.SSHException as exc:
            client.close()
            if policy.key is not None:
                k = policy.key
                raise SftpError(
                    HOST_KEY_UNKNOWN,
                    f"{s.url}: host key unknown: the server "
                    f"showed {k.get_name()} {k.fingerprint}, not in the configured "
                    "known_hosts; refused (verify the fingerprint with the firm, then "
                    "add the key)",
                ) from None
            raise SftpError(TRANSFER_FAILED, f"{s.url}: SSH error: {exc}") from None
        except (OSError, EOFError) as exc:
            client.close()
            raise SftpError(UNREACHABLE, f"{s.url}: host unreachable: {_plain(exc)}") from None
        finally:
            del password
        self._client, self._sftp = client, sftp
        return sftp

    def _load_key(self, path: Path) -> paramiko.PKey:
        s = self.settings
        if not path.is_file():
            raise SftpError(AUTH_REFUSED, f"{s.url}: private key file {path} does not exist")
        passphrase = s.passphrase() if s.passphrase is not None else None
        try:
            secret = passphrase.encode("utf-8") if passphrase is not None else None
            return paramiko.PKey.from_path(path, password=secret)
        except paramiko.PasswordRequiredException:
            raise SftpError(
                AUTH_REFUSED,
                f"{s.url}: private key {path} is encrypted and no passphrase is configured",
            ) from None
        except Exception as exc:  # noqa: BLE001 - whatever fails, say so without the secret
            # Never the passphrase: only the exception's class.
            raise SftpError(
                AUTH_REFUSED,
                f"{s.url}: private key {path} cannot be loaded "
                f"({'wrong passphrase' if passphrase else 'no passphrase configured'} "
                f"or not a key: {type(exc).__name__})",
            ) from None
        finally:
            del passphrase
            secret = None

    def close(self) -> None:
        """Close the connection (a later call reconnects)."""
        if self._client is not None:
            self._client.close()
        self._client = self._sftp = None

    def _retrying(self, op: Callable[[paramiko.SFTPClient], object]) -> object:
        """Run `op` on a connection; a dropped connection is closed and retried with backoff."""
        s = self.settings
        for attempt in Retrying(
            stop=stop_after_attempt(max(1, s.attempts)),
            wait=wait_random_exponential(multiplier=s.backoff, max=s.backoff_max),
            retry=retry_if_exception(_transient),
            reraise=True,
        ):
            with attempt:
                try:
                    return op(self._connect())
                except BaseException as exc:
                    if _transient(exc):
                        self.close()
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True raises above

    def _run(self, what: str, op: Callable[[paramiko.SFTPClient], object]) -> object:
        s = self.settings
        try:
            return self._retrying(op)
        except SftpError as exc:
            if exc.reason in (UNREACHABLE, TRANSFER_FAILED) and s.attempts > 1:
                raise SftpError(
                    exc.reason, f"{what}: failed after {s.attempts} attempts: {exc}"
                ) from None
            raise
        except FileNotFoundError as exc:
            raise SftpError(
                FOLDER_MISSING, f"{what}: not found on {s.url}: {_plain(exc)}"
            ) from None
        except PermissionError as exc:
            raise SftpError(
                PERMISSION_DENIED, f"{what}: permission denied on {s.url} for user "
                f"'{s.username}': {_plain(exc)}",
            ) from None  # fmt: skip
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise SftpError(
                TRANSFER_FAILED,
                f"{what}: connection to {s.url} lost, failed "
                f"after {s.attempts} attempts: {_plain(exc)}",
            ) from None

    # --- the FileSource protocol ----------------------------------------------------------------

    def check(self) -> CheckResult:
        """Connect once (no retry): host, key, account and folder, each with its reason."""
        s = self.settings
        try:
            sftp = self._connect()
            try:
                entries = sftp.listdir_attr(s.remote_dir)
            except FileNotFoundError:
                return CheckResult(False, f"{s.url}: folder missing: remote folder "
                                   f"'{s.remote_dir}' does not exist")  # fmt: skip
            transport = self._client.get_transport() if self._client else None
            key = transport.get_remote_server_key() if transport else None
            names = [e.filename for e in entries if stat.S_ISREG(e.st_mode or 0)]
            c = s.completion
            data = [n for n in names if not n.endswith(c.temp_suffixes)
                    and not (c.kind == "marker" and n.endswith(c.marker_suffix))]  # fmt: skip
            complete = [f for f in self._complete(entries, "*") if f.problem is None]
            unsafe = [n for n in names if unsafe_name(n, s.cache_dir)]
            archive = ""
            if s.archive_dir:
                try:
                    sftp.stat(self._archive_path())
                    archive = f", archive folder '{s.archive_dir}'"
                except FileNotFoundError:
                    archive = f", archive folder '{s.archive_dir}' will be created"
            msg = (f"{s.url}: connected, host key {key.get_name()} {key.fingerprint} verified, "
                   f"{len(data)} files ({len(complete)} complete){archive}")  # fmt: skip
            if unsafe:
                msg += f"; {len(unsafe)} unsafe names refused: {', '.join(map(repr, unsafe[:3]))}"
            return CheckResult(True, msg)
        except SourceError as exc:  # SftpError, or a secret's variable that is not set
            return CheckResult(False, str(exc))
        except (OSError, EOFError, paramiko.SSHException) as exc:
            return CheckResult(False, f"connection lost: {s.url}: {_plain(exc)}")
        finally:
            self.close()

    def list(self, pattern: str = "*") -> list[RemoteFile]:
        """Complete files matching `pattern`; unsafe names are returned with their `problem`."""
        s = self.settings
        entries = self._run(f"listing {s.url}", lambda c: c.listdir_attr(s.remote_dir))
        files = self._complete(entries, pattern)  # type: ignore[arg-type]
        if s.completion.kind == "stable" and any(f.problem is None for f in files):
            self._sleep(s.completion.stable_seconds)
            again = self._run(f"listing {s.url}", lambda c: c.listdir_attr(s.remote_dir))
            now = {(f.name, f.size, f.mtime) for f in self._complete(again, pattern)}  # type: ignore[arg-type]
            files = [f for f in files if f.problem or (f.name, f.size, f.mtime) in now]
        return files

    def present(self, pattern: str = "*") -> list[RemoteFile]:
        """Every file matching `pattern` now, without waiting for the `stable` rule."""
        s = self.settings
        entries = self._run(f"listing {s.url}", lambda c: c.listdir_attr(s.remote_dir))
        return self._complete(entries, pattern)  # type: ignore[arg-type]

    def _complete(self, entries: list[paramiko.SFTPAttributes], pattern: str) -> list[RemoteFile]:
        c, s = self.settings.completion, self.settings
        regular = [e for e in entries if stat.S_ISREG(e.st_mode or 0)]
        names = {e.filename for e in regular}
        out = []
        for e in sorted(regular, key=lambda e: e.filename):
            name = e.filename
            if name.endswith(c.temp_suffixes) or not fnmatch.fnmatchcase(name, pattern):
                continue
            if c.kind == "marker" and name.endswith(c.marker_suffix):
                continue
            problem = unsafe_name(name, s.cache_dir)
            if problem:
                out.append(RemoteFile(name, e.st_size or 0, float(e.st_mtime or 0),
                                      problem=f"remote name refused: {problem}"))  # fmt: skip
                continue
            if c.kind == "marker" and name + c.marker_suffix not in names:
                continue
            out.append(RemoteFile(name, e.st_size or 0, float(e.st_mtime or 0)))
        return out

    def read_bytes(self, name: str) -> bytes:
        """Download `name` into the cache (temporary name, then rename) and return its bytes."""
        return self.download(name).read_bytes()

    def download(self, name: str) -> Path:
        """Download `name` into the cache folder; returns the local path.

        Raises:
            FileRejected: the name is unsafe.
            SftpError: the server cannot be reached or the transfer keeps failing.
        """
        s = self.settings
        problem = unsafe_name(name, s.cache_dir)
        if problem:
            raise FileRejected(repr(name), f"remote name refused: {problem}")
        s.cache_dir.mkdir(parents=True, exist_ok=True)
        dest = s.cache_dir / name
        tmp = s.cache_dir / f".{name}.{uuid.uuid4().hex[:8]}.part"
        remote = posixpath.join(s.remote_dir, name)
        hook = type(self).progress_hook

        def fetch(sftp: paramiko.SFTPClient) -> None:
            size = sftp.stat(remote).st_size
            with tmp.open("wb") as fh:
                sftp.getfo(remote, fh, callback=(lambda n, t: hook(name, n, t)) if hook else None)
            got = tmp.stat().st_size
            if size is not None and got != size:
                raise EOFError(f"received {got} of {size} bytes")

        try:
            self._run(f"download of {name}", fetch)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def archive(self, name: str) -> str | None:
        """Move a committed file (and its marker) into the archive folder, under a unique name.

        Returns:
            The archived remote path, or None when no archive folder is configured.
        """
        s = self.settings
        if not s.archive_dir:
            return None
        problem = unsafe_name(name, s.cache_dir)
        if problem:
            raise FileRejected(repr(name), f"remote name refused: {problem}")
        folder = self._archive_path()
        stem, dot, ext = name.rpartition(".")
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        target = posixpath.join(folder, f"{stem}.{stamp}.{ext}" if dot and stem else
                                f"{name}.{stamp}")  # fmt: skip
        marker = name + s.completion.marker_suffix if s.completion.kind == "marker" else None

        def move(sftp: paramiko.SFTPClient) -> None:
            try:
                sftp.stat(folder)
            except FileNotFoundError:
                sftp.mkdir(folder)
            try:
                sftp.rename(posixpath.join(s.remote_dir, name), target)
            except FileNotFoundError:
                # Already moved by an earlier attempt whose reply was lost.
                sftp.stat(target)
            if marker:
                # No marker to move: an earlier attempt did, or the firm removed it.
                with contextlib.suppress(FileNotFoundError):
                    sftp.rename(
                        posixpath.join(s.remote_dir, marker), target + s.completion.marker_suffix
                    )

        self._run(f"archive of {name}", move)
        return target

    def _archive_path(self) -> str:
        s = self.settings
        assert s.archive_dir
        if s.archive_dir.startswith("/"):
            return s.archive_dir
        return posixpath.join(s.remote_dir, s.archive_dir)


def _plain(exc: BaseException) -> str:
    """An exception as a short phrase (sockets say 'timed out' with no class name)."""
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError) and exc.errors:
        return "; ".join(sorted({e.strerror or str(e) for e in exc.errors.values()}))
    text = str(exc) or type(exc).__name__
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"timed out ({text})"
    return text
