"""The small protocol every connector follows, and the values it exchanges with the hub.

A connector checks its source, discovers what it offers and reads an entity as *extracts*: units
the hub commits atomically (a file, or a page of a query), each with a fingerprint the hub keeps
in its ledger, so that connectors store no state of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa


class SourceError(Exception):
    """A source cannot be read (unreachable, refused, missing folder). Names the source."""


class FileRejected(SourceError):
    """One file cannot be parsed as declared. Names the file, the line when known, and why."""

    def __init__(self, file: str, reason: str, line: int | None = None) -> None:
        self.file, self.reason, self.line = file, reason, line
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Fingerprint:
    """What the file ledger records of an extract: a re-seen extract is a no-op."""

    path: str
    size: int
    mtime: float
    sha256: str


@dataclass
class Extract:
    """One unit of data read from a source, committed atomically by the hub.

    Attributes:
        name: the file name (or query page) rows came from, for quarantine and messages.
        fingerprint: what the ledger records once the rows are committed.
        parse: returns the rows as an Arrow table, every source column as text (header names
            as written) plus int64 `_line` (1-based physical line, header = 1), and the header.
            Raises FileRejected when the unit cannot be read as declared.
    """

    name: str
    fingerprint: Fingerprint
    parse: Callable[[], tuple[pa.Table, list[str]]]
    cursor: str | None = None  # value sources: the cursor to commit with these rows


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


@dataclass
class Stream:
    """What `discover` finds: a file (or table) with its columns and sample values."""

    name: str
    entity: str | None
    columns: list[str]
    samples: dict[str, list[str]] = field(default_factory=dict)
    rows: int | None = None


@dataclass(frozen=True)
class FileCursor:
    """Files already committed: (path, sha256) pairs and (path, size, mtime) quick keys."""

    loaded: frozenset[tuple[str, str]] = frozenset()
    quick: frozenset[tuple[str, int, float]] = frozenset()


@dataclass(frozen=True)
class ValueCursor:
    """Database and API sources: the last committed cursor (e.g. a write date), as the
    connector encoded it in `Extract.cursor`; None on the first sync (read everything)."""

    value: str | None = None


class Connector(Protocol):
    """The protocol of every connector kind (registered by name in `connectors.registry`)."""

    def check(self) -> CheckResult: ...

    def discover(self) -> list[Stream]: ...

    def read(self, entity: str, cursor: FileCursor | ValueCursor) -> Iterator[Extract]: ...
