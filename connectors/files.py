"""What every file source (local folder, SFTP) offers: list files and read their bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connectors.base import CheckResult


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: float


class FileSource(Protocol):
    """Where bytes come from; parsers (CSV, XLSX) decide how they are read."""

    def check(self) -> CheckResult: ...

    def list(self, pattern: str = "*") -> list[RemoteFile]: ...

    def read_bytes(self, name: str) -> bytes: ...
