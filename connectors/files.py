"""What every file source (local folder, SFTP) offers: list files and read their bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connectors.base import CheckResult


@dataclass(frozen=True)
class RemoteFile:
    """A file a source offers. `problem` says why it is refused (e.g. an unsafe remote name):
    such a file is never read, and is reported instead of silently skipped."""

    name: str
    size: int
    mtime: float
    problem: str | None = None


class FileSource(Protocol):
    """Where bytes come from; parsers (CSV, XLSX) decide how they are read."""

    def check(self) -> CheckResult: ...

    def list(self, pattern: str = "*") -> list[RemoteFile]: ...

    def read_bytes(self, name: str) -> bytes: ...


class ArchivingFileSource(FileSource, Protocol):
    """A file source that can move a committed file out of the way (SFTP's archive folder)."""

    def archive(self, name: str) -> str | None: ...
