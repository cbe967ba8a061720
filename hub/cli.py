"""The `hub` command: run the sync, test and explore sources, check the configuration."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hub.config import ConfigError, load_district
from hub.yaml_lines import YamlSyntaxError


def _echo_table(rows: list[dict], cols: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    click.echo("  ".join(c.ljust(widths[c]) for c in cols))
    click.echo("  ".join("-" * widths[c] for c in cols))
    for r in rows:
        click.echo("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols))


def _district(path: str | None):  # noqa: ANN202
    try:
        return load_district(path)
    except (ConfigError, YamlSyntaxError) as exc:
        click.echo(f"configuration error:\n{exc}", err=True)
        sys.exit(2)


@click.group()
@click.option("--district", "district_path", envvar="HUB_DISTRICT", default="district.yaml",
              show_default=True, help="the district YAML")  # fmt: skip
@click.pass_context
def main(ctx: click.Context, district_path: str) -> None:
    """District data hub: firms' ERP exports to validated, harmonized district tables."""
    ctx.obj = {"district": district_path}
    os.environ["HUB_DISTRICT"] = district_path
    os.environ.setdefault("DAGSTER_HOME", str(Path("dagster_home").resolve()))


@main.command("validate-config")
@click.pass_obj
def validate_config(obj: dict) -> None:
    """Check district.yaml and its mapping profiles without running anything."""
    d = _district(obj["district"])
    sources = sum(len(f.sources) for f in d.firms)
    click.echo(f"{obj['district']}: OK — {len(d.firms)} firms, {sources} sources")


@main.command()
@click.option("--company", "company_ids", multiple=True, help="only this firm (repeatable)")
@click.pass_obj
def sync(obj: dict, company_ids: tuple[str, ...]) -> None:
    """Run the nightly sync once, in-process, on the same Dagster instance as the UI."""
    from hub.runner import run_sync
    from hub.summary import print_summary

    d = _district(obj["district"])
    for c in company_ids:
        if c not in {f.company_id for f in d.firms}:
            raise click.BadParameter(f"no firm '{c}' in {obj['district']}", param_hint="--company")
    result = run_sync(list(company_ids) or None)
    print_summary(result)
    sys.exit(0 if result.success else 1)


@main.command()
@click.option("--company", "company_id", default=None, help="only this firm")
@click.pass_obj
def check(obj: dict, company_id: str | None) -> None:
    """Test each configured source: reachable, readable, files present."""
    from hub.pipeline import build_connector

    d = _district(obj["district"])
    rows, failed = [], 0
    for firm in d.firms:
        if company_id and firm.company_id != company_id:
            continue
        for source in firm.sources:
            result = build_connector(d, source).check()
            failed += not result.ok
            rows.append(
                {
                    "firm": firm.company_id,
                    "source": source.name,
                    "kind": source.kind,
                    "status": "ok" if result.ok else "BROKEN",
                    "detail": result.message,
                }
            )
    _echo_table(rows, ["firm", "source", "kind", "status", "detail"])
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--company", "company_id", required=True, help="the firm")
@click.option("--source", "source_name", default=None, help="the source (default: all)")
@click.pass_obj
def discover(obj: dict, company_id: str, source_name: str | None) -> None:
    """List what a source offers: files, their columns and sample values."""
    from hub.pipeline import build_connector

    d = _district(obj["district"])
    firm = d.firm(company_id)
    for source in firm.sources:
        if source_name and source.name != source_name:
            continue
        click.echo(f"# {firm.company_id} / {source.name}")
        for s in build_connector(d, source).discover():
            click.echo(f"- {s.name}  (entity: {s.entity or 'not mapped'}, rows: {s.rows})")
            for col in s.columns:
                click.echo(f"    {col}: {', '.join(repr(v) for v in s.samples.get(col, []))}")
            if "error" in s.samples:
                click.echo(f"    error: {s.samples['error'][0]}")


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path), default=Path("."))
@click.option("--firms", default=6, show_default=True)
@click.option("--orders-per-firm", default=None, type=int)
def sample(out_dir: Path, firms: int, orders_per_firm: int | None) -> None:
    """Write the sample district (district.yaml and sample/) into OUT_DIR."""
    from hub.sample import write_sample_district

    path = write_sample_district(out_dir, n_firms=firms, orders_per_firm=orders_per_firm)
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
