"""File sources of configured locations: a local folder, or a folder on an SFTP server.

`${ENV_VAR}` references are resolved here, when the source is built, except secrets (password,
key passphrase): those stay references until the connector connects, so that no object that
may be logged or shown holds them.
"""

from __future__ import annotations

import os
from pathlib import Path

from connectors.base import SourceError
from connectors.local_folder import LocalFolder
from connectors.sftp import Completion, Secret, SftpFolder, SftpSettings
from hub.config import ConfigError, District, LocalLocation, SftpLocation, expand_env


def over_sftp(source: object) -> bool:
    """Whether a configured source reads its files from an SFTP server."""
    return isinstance(getattr(source, "location", None), SftpLocation)


def inbox_dir(data_dir: Path, company_id: str, source: str) -> Path:
    """Where files downloaded from a firm's remote source are cached: inbox/<firm>/<source>/."""
    return Path(data_dir) / "inbox" / company_id / source


def file_source(
    district: District, location: LocalLocation | SftpLocation, cache_dir: Path | None = None
) -> LocalFolder | SftpFolder:
    """The file source of a configured location.

    Args:
        district: resolves relative paths and `${ENV_VAR}` references.
        location: the `location:` block of a source.
        cache_dir: where remote files are downloaded (default: `$HUB_DATA_DIR/inbox/_check`,
            for commands that download nothing).
    """
    if isinstance(location, LocalLocation):
        return LocalFolder(district.resolve_path(location.path))
    cache = cache_dir or Path(os.environ.get("HUB_DATA_DIR", "data")) / "inbox" / "_check"
    return SftpFolder(sftp_settings(district, location, cache))


def sftp_settings(district: District, loc: SftpLocation, cache_dir: Path) -> SftpSettings:
    """The connector's settings of an `sftp` location (secrets left as resolvers)."""
    port = expand_env(str(loc.port))
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError([f"location.port: '{port}' (from {loc.port}) is not a port number"])
    c = loc.completion
    return SftpSettings(
        host=expand_env(loc.host),
        port=int(port),
        username=expand_env(loc.username),
        known_hosts_file=(
            district.resolve_path(loc.known_hosts_file) if loc.known_hosts_file else None
        ),
        known_hosts=tuple(loc.known_hosts),
        private_key_file=(
            district.resolve_path(loc.private_key_file) if loc.private_key_file else None
        ),
        passphrase=_secret(loc.private_key_passphrase, "private_key_passphrase"),
        password=_secret(loc.password, "password"),
        remote_dir=expand_env(loc.remote_dir),
        archive_dir=expand_env(loc.archive_dir) if loc.archive_dir else None,
        completion=Completion(c.kind, c.marker_suffix, c.stable_seconds),
        cache_dir=cache_dir,
        timeout=loc.timeout_seconds,
        keepalive=loc.keepalive_seconds,
        attempts=loc.attempts,
        backoff=loc.backoff_seconds,
        backoff_max=loc.backoff_max_seconds,
    )


def _secret(reference: str | None, field: str) -> Secret | None:
    """A resolver of a `${ENV_VAR}` secret, called at connect time; its errors name the
    variable, never a value."""
    if reference is None:
        return None

    def resolve() -> str:
        try:
            return expand_env(reference)
        except ConfigError as exc:
            raise SourceError(f"location.{field}: {exc}") from None

    return resolve
