"""Local folder file source: the firm's exports in a folder the hub can read."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from connectors.base import CheckResult, SourceError
from connectors.files import RemoteFile


class LocalFolder:
    """Files in one local folder (not recursive), listed by a glob pattern."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"LocalFolder({self.path})"

    def check(self) -> CheckResult:
        if not self.path.is_dir():
            return CheckResult(False, f"folder {self.path} does not exist")
        n = sum(1 for p in self.path.iterdir() if p.is_file())
        return CheckResult(True, f"folder {self.path} readable, {n} files")

    def list(self, pattern: str = "*") -> list[RemoteFile]:
        if not self.path.is_dir():
            raise SourceError(f"folder {self.path} does not exist")
        out = []
        for p in sorted(self.path.iterdir()):
            if p.is_file() and fnmatch.fnmatchcase(p.name, pattern):
                st = p.stat()
                out.append(RemoteFile(p.name, st.st_size, st.st_mtime))
        return out

    def read_bytes(self, name: str) -> bytes:
        p = self.path / name
        if p.parent.resolve() != self.path.resolve() or not p.is_file():
            raise SourceError(f"{name}: not a file of {self.path}")
        return p.read_bytes()

    def archive(self, name: str) -> str | None:
        """Local exports are left in place (the folder belongs to the firm): a no-op."""
        return None
