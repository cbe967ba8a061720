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


def postgres() -> dict:
    """PostgreSQL: Warehouse.upsert of order lines (insert, then update of every key) against a
    plain COPY of the same rows into an empty table of the same shape, on a server started for
    the benchmark (Debian's postgresql-15)."""
    import io

    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from hub.warehouse import Warehouse
    from tests import postgres as pgtest

    n = int(os.environ.get("BENCH_PG_ROWS", "300000"))
    rows = _order_rows(n)
    names = ", ".join(rows.column_names)
    with pgtest.running_postgres() as pg:
        pg.execute("CREATE DATABASE bench")
        wh = Warehouse(pg.url(db="bench"))
        wh.create_all()
        # Same columns, types and primary key as the warehouse table, both logged.
        pg.execute("CREATE TABLE plain (LIKE order_lines INCLUDING ALL)", db="bench")
        changed = rows.set_column(rows.schema.get_field_index("quantity"), "quantity",
                                  pa.array([2.0] * n))  # fmt: skip
        copies, inserts, updates = [], [], []
        for _ in range(3):  # best of three: the machine's noise is not the hub's
            pg.execute("TRUNCATE plain, order_lines", db="bench")
            conn = psycopg.connect(host=pg.host, port=pg.port, user=pgtest.SUPERUSER,
                                   password=pgtest.SUPERPASSWORD, dbname="bench")  # fmt: skip
            t0 = time.perf_counter()
            with conn, conn.cursor().copy(f"COPY plain ({names}) FROM STDIN (FORMAT csv)") as cp:
                for batch in rows.to_batches(max_chunksize=100_000):
                    buf = io.BytesIO()
                    pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False))
                    cp.write(buf.getvalue())
            copies.append(time.perf_counter() - t0)
            for data, times in ((rows, inserts), (changed, updates)):
                t0 = time.perf_counter()
                with wh.transaction() as c:
                    wh.upsert(c, "order_lines", data)
                times.append(time.perf_counter() - t0)
        assert wh.count("order_lines", quantity=2.0) == n
        wh.dispose()
    copy_s, insert_s, update_s = min(copies), min(inserts), min(updates)
    return {"rows": n, "copy_s": round(copy_s, 3), "upsert_insert_s": round(insert_s, 3),
            "upsert_update_s": round(update_s, 3),
            "ratio_insert": round(insert_s / copy_s, 2),
            "ratio_update": round(update_s / copy_s, 2), "seconds": insert_s}  # fmt: skip


def _order_rows(n: int):  # noqa: ANN202 - a pyarrow table
    import datetime as dt

    import numpy as np
    import pyarrow as pa

    i = np.arange(n)
    days = (np.datetime64("2026-01-01") + (i % 300)).astype("datetime64[D]")
    return pa.table({
        "company_id": pa.array([f"firm-{k}" for k in i % 12]),
        "order_id": pa.array([f"ORD-{k:07d}" for k in i // 8]),
        "line_no": pa.array(i % 8 + 1, pa.int64()),
        "direction": pa.array(["sale", "purchase"] * (n // 2) + ["sale"] * (n % 2)),
        "order_date": pa.array(days, pa.date32()),
        "sku": pa.array([f"SKU-{k:05d}" for k in i % 5000]),
        "quantity": pa.array((i % 97) * 1.5, pa.float64()),
        "unit": pa.array(["pcs"] * n),
        "counterparty": pa.array([f"C{k:04d}" for k in i % 900]),
        "delivery_date": pa.array(days + 14, pa.date32()),
        "unit_price": pa.array((i % 50) + 0.99, pa.float64()),
        "sync_id": pa.array(["bench"] * n),
        "updated_at": pa.array([dt.datetime(2026, 11, 23, tzinfo=dt.UTC)] * n,
                               pa.timestamp("us", tz="UTC")),
    })  # fmt: skip


if __name__ == "__main__":
    fn = {"baseline": baseline, "hub": hub, "postgres": postgres}[sys.argv[1]]
    result = fn()
    # Peak resident memory of this process alone (Linux reports KiB).
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
