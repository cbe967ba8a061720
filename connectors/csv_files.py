"""The CSV connector: any file source (local folder, SFTP) read by the CSV parser."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping

from connectors.base import (
    CheckResult,
    Extract,
    FileCursor,
    FileRejected,
    Fingerprint,
    SourceError,
    Stream,
)
from connectors.csv_parser import CsvOptions, parse_csv
from connectors.files import FileSource

SAMPLE_VALUES = 3


class CsvConnector:
    """Reads entities from CSV files of a file source, one glob pattern per entity.

    Args:
        files: where the bytes come from.
        patterns: entity → glob of its files, e.g. {"orders": "ordini_*.csv"}.
        options: entity → how its files are written.
    """

    def __init__(
        self,
        files: FileSource,
        patterns: Mapping[str, str],
        options: Mapping[str, CsvOptions],
    ) -> None:
        self.files, self.patterns, self.options = files, dict(patterns), dict(options)

    def check(self) -> CheckResult:
        return self.files.check()

    def discover(self) -> list[Stream]:
        """Every file of the source with its header and a few sample values."""
        streams = []
        default = next(iter(self.options.values()), CsvOptions())
        for f in self.files.list("*"):
            entity = next((e for e, p in self.patterns.items() if _match(f.name, p)), None)
            opts = self.options.get(entity, default) if entity else default
            try:
                table, header = parse_csv(self.files.read_bytes(f.name), f.name, opts)
            except FileRejected as exc:
                streams.append(Stream(f.name, entity, [], {"error": [str(exc)]}))
                continue
            samples = {h: [v for v in table.column(h).to_pylist()[:SAMPLE_VALUES]] for h in header}
            streams.append(Stream(f.name, entity, header, samples, rows=table.num_rows))
        return streams

    def read(self, entity: str, cursor: FileCursor) -> Iterator[Extract]:
        """New files of the entity, oldest name first; files in the cursor are skipped."""
        if entity not in self.patterns:
            raise SourceError(f"no file pattern for entity '{entity}'")
        opts = self.options[entity]
        for f in self.files.list(self.patterns[entity]):
            if f.problem:  # refused by the source (e.g. an unsafe remote name): reported
                fp = Fingerprint(f.name, f.size, f.mtime, "")
                yield Extract(repr(f.name), fp, _refused(repr(f.name), f.problem))
                continue
            if (f.name, f.size, f.mtime) in cursor.quick:
                continue
            data = self.files.read_bytes(f.name)
            digest = hashlib.sha256(data).hexdigest()
            if (f.name, digest) in cursor.loaded:
                continue
            fp = Fingerprint(f.name, len(data), f.mtime, digest)
            yield Extract(f.name, fp, _parser(data, f.name, opts))

    def committed(self, entity: str, cursor: FileCursor) -> list[str]:
        """Files of the entity still on the source that the ledger says are committed."""
        # Every file present, complete or not (SFTP: no second listing to wait for stability).
        listing = getattr(self.files, "present", self.files.list)
        return [
            f.name
            for f in listing(self.patterns[entity])
            if not f.problem and (f.name, f.size, f.mtime) in cursor.quick
        ]

    def archive(self, name: str) -> str | None:
        """Move a committed file out of the way, if the file source can (SFTP); else None."""
        archive = getattr(self.files, "archive", None)
        return archive(name) if archive is not None else None

    def close(self) -> None:
        """Release the file source's connection, if it holds one."""
        close = getattr(self.files, "close", None)
        if close is not None:
            close()


def _refused(name: str, reason: str):  # noqa: ANN202 - a closure
    def parse() -> tuple:
        raise FileRejected(name, reason)

    return parse


def _parser(data: bytes, name: str, opts: CsvOptions):  # noqa: ANN202 - a closure
    return lambda: parse_csv(data, name, opts)


def _match(name: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name, pattern)
