"""The Dagster resource that gives assets the district, the warehouse and the run's workspace."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from hub.config import District, load_district
from hub.warehouse import Warehouse, default_url
from hub.workspace import Workspace, run_key


class HubResource(dg.ConfigurableResource):
    """Where the district configuration, the data folder and the warehouse are.

    Empty fields fall back, at run time, to HUB_DISTRICT, HUB_DATA_DIR and HUB_WAREHOUSE_URL,
    then to the defaults (district.yaml, data/, an embedded DuckDB file in the data folder).
    """

    district_path: str = Field("", description="district YAML (default $HUB_DISTRICT)")
    data_dir: str = Field("", description="data folder (default $HUB_DATA_DIR or data/)")
    warehouse_url: str = Field("", description="SQLAlchemy URL (default $HUB_WAREHOUSE_URL)")
    accept_deletions: bool = Field(
        False,
        description="this run only: remove the records deleted in ERP sources even when more "
        "than min_row_ratio of them are gone (after checking that they were deleted indeed)",
    )

    def resolved_data_dir(self) -> Path:
        return Path(self.data_dir or os.environ.get("HUB_DATA_DIR", "data"))

    def district(self) -> District:
        return load_district(self.district_path or os.environ.get("HUB_DISTRICT", "district.yaml"))

    def warehouse(self) -> Warehouse:
        url = self.warehouse_url or os.environ.get("HUB_WAREHOUSE_URL")
        wh = Warehouse(url or default_url(self.resolved_data_dir()))
        wh.create_all()
        return wh

    def workspace(self, context: dg.AssetExecutionContext) -> Workspace:
        record = context.instance.get_run_record_by_id(context.run_id)
        started = record.create_timestamp if record else None
        return Workspace(
            self.district(), self.resolved_data_dir(), run_key(context.run_id, started),
            accept_deletions=self.accept_deletions,
        )
