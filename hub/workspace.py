"""Settings and the folders one sync run writes: raw, staged and quarantine extracts."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hub.config import District


def data_dir() -> Path:
    return Path(os.environ.get("HUB_DATA_DIR", "data"))


def run_key(run_id: str, started: datetime | None = None) -> str:
    """A sortable, readable key of a run: 20261123T010000Z-1a2b3c4d."""
    started = started or datetime.now(UTC)
    return f"{started:%Y%m%dT%H%M%SZ}-{re.sub(r'[^a-z0-9]', '', run_id.lower())[:8]}"


@dataclass(frozen=True)
class Workspace:
    """Where a run of the sync reads its configuration and keeps its files."""

    district: District
    data_dir: Path
    run_key: str
    # This run removes records deleted in ERP sources even past the collapse guard (an
    # operator's decision for one run, after a guard blocked a real mass deletion).
    accept_deletions: bool = False

    def sync_id(self, company_id: str, source: str, entity: str) -> str:
        return f"{self.run_key}:{company_id}:{source}:{entity}"

    def raw_dir(self, company_id: str, entity: str) -> Path:
        return self.data_dir / "raw" / company_id / entity / self.run_key

    def staged_dir(self, company_id: str, entity: str) -> Path:
        return self.data_dir / "staged" / company_id / entity / self.run_key

    def quarantine_dir(self, company_id: str) -> Path:
        return self.data_dir / "quarantine" / company_id
