"""Benchmark of the nightly sync against a native baseline measured in the same run.

Generates a district (`BENCH_FIRMS` firms, `BENCH_ORDER_LINES` order lines in all), then, each
in a fresh subprocess so that peak memory is its own:
- baseline: read every generated file with pyarrow and write it to DuckDB natively;
- hub: the nightly job in-process (extract → validate → load) on an empty warehouse.
Prints rows/s per stage, peak RSS and the ratio hub / baseline; writes bench/results/bench.json.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def _child(mode: str, workdir: Path) -> dict:
    """Run one measured phase in a fresh subprocess; returns what it measured."""
    env = {**os.environ, "HUB_DISTRICT": str(workdir / "district.yaml"),
           "HUB_DATA_DIR": str(workdir / f"data-{mode}"),
           "DAGSTER_HOME": str(workdir / f"dagster-{mode}")}  # fmt: skip
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    out = subprocess.run(
        [sys.executable, "-m", "bench.phases", mode], cwd=ROOT, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        sys.stderr.write(out.stdout[-4000:] + out.stderr[-4000:])
        raise SystemExit(f"{mode} phase failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from hub.sample import write_sample_district

    firms = int(os.environ.get("BENCH_FIRMS", "12"))
    total = int(os.environ.get("BENCH_ORDER_LINES", "300000"))
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        write_sample_district(work, n_firms=firms, orders_per_firm=max(1, total // firms),
                              faults=False)  # fmt: skip
        gen_s = time.perf_counter() - t0
        files = sorted(p for p in (work / "sample").rglob("*") if p.is_file())
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        base = _child("baseline", work)
        hub = _child("hub", work)
        has_pg = Path("/usr/lib/postgresql/15/bin/initdb").exists()
        pg = _child("postgres", work) if has_pg else None
    ratio = hub["seconds"] / base["seconds"]
    report = {
        "firms": firms, "order_lines": total, "files": len(files), "input_mb": round(size_mb, 1),
        "generate_s": round(gen_s, 2), "baseline": base, "hub": hub,
        "ratio_total_time": round(ratio, 2), "postgres": pg,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench.json").write_text(json.dumps(report, indent=2))
    print(f"district: {firms} firms, {total} order lines, {len(files)} files, {size_mb:.1f} MB")
    print(
        f"baseline (pyarrow → DuckDB native): {base['seconds']:.2f} s, "
        f"{base['rows'] / base['seconds']:,.0f} rows/s, peak {base['peak_rss_mb']} MB"
    )
    print(
        f"hub sync: {hub['seconds']:.2f} s, {hub['rows'] / hub['seconds']:,.0f} rows/s, "
        f"peak {hub['peak_rss_mb']} MB"
    )
    for stage, s in hub["stages"].items():
        print(f"  {stage:<11} {s:7.2f} s  {hub['rows'] / s if s else 0:>12,.0f} rows/s")
    print(f"ratio hub / baseline: {ratio:.2f} (goal ≤ 3)")
    if pg:
        print(
            f"PostgreSQL, {pg['rows']:,} order lines: plain COPY {pg['copy_s']:.2f} s, "
            f"Warehouse.upsert insert {pg['upsert_insert_s']:.2f} s "
            f"(ratio {pg['ratio_insert']:.2f}, goal ≤ 2), update of every key "
            f"{pg['upsert_update_s']:.2f} s (ratio {pg['ratio_update']:.2f})"
        )
    else:
        print("PostgreSQL: skipped (postgresql-15 is not installed: scripts/system-deps.sh)")
    print(f"report: {RESULTS / 'bench.json'}")


if __name__ == "__main__":
    main()
