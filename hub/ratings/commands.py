"""`hub ratings-check` and `hub ratings`: check the methodology files, rate without a sync."""

from __future__ import annotations

from datetime import date

import click

from hub.ratings.methodology import MethodologyError, load_methodology, methodology_path
from hub.symbiosis import DEFAULT_PATH as SYMBIOSIS_PATH
from hub.symbiosis import load_rules


@click.command("ratings-check")
def ratings_check() -> None:
    """Check methodology/ratings.yaml and methodology/symbiosis.yaml; exit 1 on a problem."""
    try:
        m = load_methodology()
        rules = load_rules()
    except MethodologyError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    click.echo(f"{methodology_path()}: version {m.version}, {len(m.criteria)} criteria, "
               f"{sum(len(c.indicators) for c in m.criteria)} indicators: ok")  # fmt: skip
    click.echo(f"{SYMBIOSIS_PATH}: {len(rules.uses)} uses, radius {rules.radius_km:g} km: ok")


@click.command("ratings")
@click.option("--as-of", "as_of", default=None, help="rating date YYYY-MM-DD (default: today)")
def ratings(as_of: str | None) -> None:
    """Rate every firm on the warehouse as it is, rebuild matches and pages (no sync)."""
    from hub.ratings.assets import as_of_today
    from hub.ratings.pages import write_pages
    from hub.ratings.store import refresh_ratings
    from hub.resources import HubResource
    from hub.symbiosis import refresh_matches

    try:
        m, rules = load_methodology(), load_rules()
    except MethodologyError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    day = date.fromisoformat(as_of) if as_of else as_of_today()
    hub = HubResource()
    wh = hub.warehouse()
    try:
        rated = refresh_ratings(wh, day, m)
        matches, _ = refresh_matches(wh, day, rules)
        index = write_pages(wh, hub.resolved_data_dir() / "ratings", m)
    finally:
        wh.dispose()
    for r in rated:
        click.echo(f"{r.company_id:<28} {r.overall.grade or 'insufficient data':<18} "
                   f"{r.overall.score if r.overall.score is not None else '–'}")  # fmt: skip
    click.echo(f"{len(matches)} symbiosis matches; report: {index}")
