"""The summary printed after a sync: firms, rows per entity, failed checks, where to look."""

from __future__ import annotations

import click

from hub.passports.refresh import summary_lines
from hub.runner import SyncResult
from hub.workspace import data_dir


def print_summary(result: SyncResult) -> None:
    rows = result.syncs.to_pylist()
    click.echo(f"\nSync {result.run_id[:8]}: {len(result.firms)} firms, "
               f"{'succeeded' if result.success else 'FAILED'}")  # fmt: skip
    by_entity: dict[str, dict[str, int]] = {}
    for r in rows:
        e = by_entity.setdefault(r["entity"], {"read": 0, "loaded": 0, "quarantined": 0})
        e["read"] += r["rows_read"] or 0
        e["loaded"] += r["rows_loaded"] or 0
        e["quarantined"] += r["rows_quarantined"] or 0
    click.echo(f"\n{'entity':<12}{'rows read':>12}{'loaded':>10}{'quarantined':>13}")
    for entity, n in sorted(by_entity.items()):
        click.echo(f"{entity:<12}{n['read']:>12}{n['loaded']:>10}{n['quarantined']:>13}")
    if deleted := [r for r in rows if r.get("rows_deleted")]:
        click.echo("\nDeleted in the source (removed from the warehouse, kept in "
                   "source_deletions):")  # fmt: skip
        for r in deleted:
            click.echo(f"  {r['company_id']}/{r['source']}/{r['entity']}: "
                       f"{r['rows_deleted']} records — {(r['message'] or '')[:200]}")  # fmt: skip
    problems = [r for r in rows if r["status"] != "ok"]
    if problems:
        click.echo("\nNot loaded (blocked or unreadable files):")
        for r in problems:
            click.echo(f"  {r['company_id']}/{r['source']}/{r['entity']}: {r['status']} — "
                       f"{(r['message'] or '')[:200]}")  # fmt: skip
    if result.failed_checks:
        click.echo("\nFailed checks: " + ", ".join(sorted(set(result.failed_checks))))
    if passports := summary_lines(data_dir()):
        click.echo("\nProduct passports:\n" + "\n".join(passports))
    click.echo(
        f"\nWhere to look next:\n"
        f"  make ui                      the Dagster UI: asset graph, this run, failed checks\n"
        f"  {data_dir()}/passports-site/index.html  the product passports' pages\n"
        f"  {data_dir()}/quarantine/      rejected rows per firm, with file, line, rule, reason\n"
        f"  {data_dir()}/warehouse.duckdb the harmonized tables (duckdb CLI or any SQL client)"
    )
