"""`make demo-erp`: the sample district plus a firm whose data comes from its Tryton ERP.

Starts a real Tryton on loopback (its database made once from the template of
`scripts/tryton-env.sh` and populated through Tryton's API, kept under the data folder), writes
`.district-erp.yaml` beside the district's YAML (the sample district and the Tryton firm), and runs
`hub validate-config` and `hub sync` on it; Tryton is stopped afterwards. A second run syncs
only what changed in Tryton since the first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from hub import tryton_demo

COMPANY_ID = "maglificio-tryton"
PASSWORD_ENV = "TRYTON_HUB_PASSWORD"


def district_with_erp_firm(district: Path, out: Path, url: str, database: str) -> Path:
    """The district's YAML with the Tryton firm added (`out` beside it: same relative paths)."""
    data = yaml.safe_load(district.read_text(encoding="utf-8"))
    data["firms"] = [f for f in data["firms"] if f["company_id"] != COMPANY_ID]
    source = tryton_demo.api_source(url, database, PASSWORD_ENV)
    data["firms"].append(tryton_demo.firm_yaml(COMPANY_ID, source))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def main() -> int:
    data_dir = Path(os.environ.get("HUB_DATA_DIR", "data")).resolve()
    district = Path(os.environ.get("HUB_DISTRICT", "district.yaml"))
    server = tryton_demo.TrytonServer(data_dir / "erp" / "tryton")
    fresh = not server.db_file.exists()
    if fresh:
        server.create_database()
    server.start()
    try:
        if fresh:
            tryton_demo.populate(server.admin())
        config = district_with_erp_firm(district, district.parent / ".district-erp.yaml",
                                        server.url, server.database)  # fmt: skip
        env = {**os.environ, "HUB_DISTRICT": str(config),
               PASSWORD_ENV: tryton_demo.HUB_PASSWORD}  # fmt: skip
        hub = str(Path(sys.executable).parent / "hub")
        sys.stdout.write(f"Tryton {server.url} (database {server.database}); district {config}\n")
        sys.stdout.flush()
        subprocess.run([hub, "validate-config"], env=env, check=True)
        return subprocess.run([hub, "sync"], env=env).returncode
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
