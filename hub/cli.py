"""The `hub` command: run the sync, test and explore sources, check the configuration."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hub.config import ConfigError, load_district
from hub.ratings.commands import ratings, ratings_check
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
    from hub.onboarding import header_warnings

    d = _district(obj["district"])
    sources = sum(len(f.sources) for f in d.firms)
    warnings = header_warnings(d, Path(obj["district"]))
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    more = f", {len(warnings)} warnings" if warnings else ""
    if d.disabled_firms:
        more += f"; disabled (enabled: false): {', '.join(d.disabled_firms)}"
    click.echo(f"{obj['district']}: OK — {len(d.firms)} firms, {sources} sources{more}")


@main.command()
@click.option("--company", "company_ids", multiple=True, help="only this firm (repeatable)")
@click.option("--accept-deletions", is_flag=True,
              help="remove records deleted in the firm's ERP even past the collapse guard "
                   "(min_row_ratio), this run only; needs --company")  # fmt: skip
@click.pass_obj
def sync(obj: dict, company_ids: tuple[str, ...], accept_deletions: bool) -> None:
    """Run the nightly sync once, in-process, on the same Dagster instance as the UI."""
    from hub.runner import run_sync
    from hub.summary import print_summary

    d = _district(obj["district"])
    for c in company_ids:
        _firm(d, c)  # an unknown or disabled firm is named
    if accept_deletions and not company_ids:
        raise click.UsageError("--accept-deletions applies to the firms named with --company: "
                               "a mass deletion is accepted firm by firm")  # fmt: skip
    result = run_sync(list(company_ids) or None, accept_deletions=accept_deletions)
    print_summary(result)
    sys.exit(0 if result.success else 1)


@main.command()
@click.option("--company", "company_id", default=None, help="only this firm")
@click.pass_obj
def check(obj: dict, company_id: str | None) -> None:
    """Test each configured source: reachable, readable, a sample read of each entity."""
    from hub.onboarding import probe_source
    from hub.pipeline import build_connector
    from hub.sftp_source import over_sftp

    d = _district(obj["district"])
    if company_id:
        _firm(d, company_id)
    rows, failed = [], 0
    for firm in d.firms:
        if company_id and firm.company_id != company_id:
            continue
        for source in firm.sources:
            click.echo(f"checking {firm.company_id} / {source.name} …", err=True)
            kind = source.kind + ("/sftp" if over_sftp(source) else "")
            row = {"firm": firm.company_id, "source": source.name, "kind": kind}
            try:
                result = build_connector(d, source).check()
                probes = probe_source(d, source) if result.ok else []
            except Exception as exc:  # a broken source is a row of the table, not a crash
                result, probes = None, []
                message = f"{type(exc).__name__}: {exc}"
            ok = bool(result and result.ok) and all(p.ok for p in probes)
            failed += not ok
            rows.append({**row, "entity": "", "status": "ok" if ok else "BROKEN",
                         "detail": result.message if result else message})  # fmt: skip
            rows += [{**row, "entity": p.entity, "status": "ok" if p.ok else "BROKEN",
                      "detail": p.detail} for p in probes]  # fmt: skip
    _echo_table(rows, ["firm", "source", "entity", "kind", "status", "detail"])
    click.echo(f"{len(rows)} checks, {failed} sources broken")
    sys.exit(1 if failed else 0)


def _firm(d, company_id: str):  # noqa: ANN001, ANN202
    try:
        return d.firm(company_id)
    except KeyError as exc:
        raise click.BadParameter(str(exc).strip("'\""), param_hint="--company") from None


@main.command()
@click.option("--company", "company_id", default=None, help="a configured firm")
@click.option("--source", "source_name", default=None, help="its source (default: all)")
@click.option(
    "--path",
    "folder",
    default=None,
    type=click.Path(path_type=Path),
    help="a folder of export files not yet in district.yaml (onboarding)",
)
@click.option(
    "--write",
    "write_path",
    default=None,
    type=click.Path(path_type=Path),
    help="write the proposed source block (YAML) to this file",
)
@click.option(
    "--name",
    "new_name",
    default="gestionale",
    show_default=True,
    help="source name in the proposal (with --path)",
)
@click.pass_obj
def discover(obj: dict, company_id: str | None, source_name: str | None, folder: Path | None,
             write_path: Path | None, new_name: str) -> None:  # fmt: skip
    """List files, their columns and sample values; propose a mapping (YAML) to edit."""
    from hub.discovery import propose, sample_values

    if bool(company_id) == bool(folder):
        raise click.UsageError("give either --company ID [--source NAME] or --path FOLDER")
    blocks = []
    if folder:
        if not folder.is_dir():
            raise click.BadParameter(f"{folder} is not a folder", param_hint="--path")
        files = [(f.name, f.read_bytes()) for f in sorted(folder.iterdir()) if f.is_file()]
        # district.yaml resolves paths against its own folder: write the path that way.
        base = Path(obj["district"]).resolve().parent
        rel = os.path.relpath(folder.resolve(), base)
        blocks.append(
            (
                str(folder),
                propose(files, source_name=new_name, location={"kind": "local", "path": rel}),
            )
        )
    else:
        from hub.pipeline import build_connector

        d = _district(obj["district"])
        firm = _firm(d, company_id)
        sources = [s for s in firm.sources if not source_name or s.name == source_name]
        if not sources:
            raise click.BadParameter(f"{company_id} has no source '{source_name}'",
                                     param_hint="--source")  # fmt: skip
        for source in sources:
            connector = build_connector(d, source)
            files_src = getattr(connector, "files", None)
            if files_src is None:  # a database or an API: its tables (or entities) and columns
                click.echo(f"# {company_id} / {source.name} (kind {source.kind})")
                for s in connector.discover():
                    click.echo(f"- {s.name}  (entity: {s.entity or 'not mapped'})")
                    for col in s.columns:
                        vals = ", ".join(repr(v) for v in s.samples.get(col, []))
                        click.echo(f"    {col}: {vals}")
                continue
            names = [f.name for f in files_src.list("*")]
            files = [(n, files_src.read_bytes(n)) for n in names]
            location = source.location.model_dump(exclude_none=True)
            blocks.append(
                (
                    f"{company_id} / {source.name}",
                    propose(files, source_name=source.name, location=location),
                )
            )
    out = []
    for title, prop in blocks:
        click.echo(f"# {title}: {len(prop.files)} files")
        for g in prop.files:
            click.echo(f"- {g.name}  (entity: {g.entity or 'unknown'}, rows sampled: "
                       f"{len(g.rows)}, {g.encoding}, delimiter {g.delimiter!r})")  # fmt: skip
            if g.error:
                click.echo(f"    not usable: {g.error}")
            for h, vals in sample_values(g).items():
                mapped = next((c for c, x in g.columns.items() if x == h), None)
                arrow = f" → {mapped}" if mapped else ""
                click.echo(f"    {h}{arrow}: {', '.join(repr(v) for v in vals)}")
        out.append(prop.yaml())
    text = "\n".join(out)
    if write_path:
        write_path.write_text(text, encoding="utf-8")
        click.echo(f"proposal written to {write_path}: edit it, then paste it into district.yaml")
    else:
        click.echo("\n" + text)
    doubts = sum(len(p.notes) for _, p in blocks)
    click.echo(f"{sum(len(p.files) for _, p in blocks)} files looked at, {doubts} points to "
               "check (# CHECK: lines)")  # fmt: skip


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path), default=Path("."))
@click.option("--firms", default=6, show_default=True)
@click.option("--orders-per-firm", default=None, type=int)
def sample(out_dir: Path, firms: int, orders_per_firm: int | None) -> None:
    """Write the sample district (district.yaml and sample/) into OUT_DIR."""
    from hub.sample import write_sample_district

    path = write_sample_district(out_dir, n_firms=firms, orders_per_firm=orders_per_firm)
    click.echo(f"wrote {path}")


@main.command()
@click.argument("query_file", type=click.File("r", encoding="utf-8"), default="-")
def footprint(query_file) -> None:  # noqa: ANN001
    """Environmental cost of a garment (Ecobalyse method) from a JSON query file or stdin."""
    import json

    from hub.footprint import FootprintQueryError
    from hub.footprint import footprint as compute_footprint

    try:
        result = compute_footprint(json.load(query_file))
    except json.JSONDecodeError as exc:
        click.echo(f"{query_file.name}: not JSON: {exc}", err=True)
        sys.exit(2)
    except FootprintQueryError as exc:
        click.echo(f"{query_file.name}: {exc}", err=True)
        sys.exit(2)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


main.add_command(ratings_check)  # hub/ratings/commands.py
main.add_command(ratings)


if __name__ == "__main__":
    main()
