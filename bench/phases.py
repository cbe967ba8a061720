"""The measured phases of the benchmark, each run in its own process by bench.run."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv


def baseline() -> dict:
    """Read every file with pyarrow as declared and write it to DuckDB natively."""
    from hub.config import load_district

    district = load_district()
    out = Path(os.environ["HUB_DATA_DIR"])
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    con = duckdb.connect(str(out / "baseline.duckdb"))
    rows = 0
    for firm in district.firms:
        for src in firm.sources:
            folder = district.resolve_path(src.location.path)
            for entity in src.entities:
                m = district.mapping(src, entity)
                fmt = m.format or src.format
                for i, path in enumerate(sorted(folder.glob(m.files))):
                    t = pacsv.read_csv(
                        path,
                        read_options=pacsv.ReadOptions(encoding=fmt.encoding),
                        parse_options=pacsv.ParseOptions(delimiter=fmt.delimiter),
                    )
                    name = f"{firm.company_id}_{entity}_{i}".replace("-", "_")
                    con.register("t", t)
                    con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM t')
                    con.unregister("t")
                    rows += t.num_rows
    con.close()
    return {"seconds": time.perf_counter() - t0, "rows": rows}


def hub() -> dict:
    """The nightly job, in-process, all firms in one run."""
    import dagster as dg

    from hub.runner import run_sync

    instance = dg.DagsterInstance.get()
    t0 = time.perf_counter()
    result = run_sync(instance=instance)
    seconds = time.perf_counter() - t0
    stages: dict[str, float] = {"raw": 0.0, "staged": 0.0, "harmonized": 0.0}
    for step in instance.get_run_step_stats(result.run_id):
        layer = next((k for k in stages if step.step_key.startswith(k)), None)
        if layer and step.end_time and step.start_time:
            stages[layer] += step.end_time - step.start_time
    rows = sum(r["rows_read"] or 0 for r in result.syncs.to_pylist())
    return {"seconds": seconds, "rows": rows, "success": result.success,
            "stages": {k: round(v, 2) for k, v in stages.items()}}  # fmt: skip


if __name__ == "__main__":
    fn = {"baseline": baseline, "hub": hub}[sys.argv[1]]
    result = fn()
    # Peak resident memory of this process alone (Linux reports KiB).
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
