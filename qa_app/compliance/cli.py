"""``flask indicators``: check an indicators file, copy its province plans into the database, import reported
figures; ``flask compliance``: rebuild and check the status read model (the facilities' result intervals)."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..core.imports import run_csv_import
from ..extensions import db
from ..inspections import status
from .indicators import DEFAULT_PATH, IndicatorError, load_indicators

indicators_cli = AppGroup("indicators", help="Compliance indicators and province plans.")


@indicators_cli.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def validate(path: Path | None) -> None:
    """Check an indicators file (default: the configured one); every problem as file:line, exit 1 on any.

    The same validator as start-up and the province plan page.
    """
    target = path or Path(current_app.config.get("COMPLIANCE_INDICATORS", DEFAULT_PATH))
    try:
        config = load_indicators(target)
    except IndicatorError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) in {target}: nothing in it can be used.", err=True)
        sys.exit(1)
    click.echo(f"{target}: valid ({len(config.indicators)} indicator(s), {len(config.provinces)} province plan(s)).")


@indicators_cli.command("seed-plans")
@click.option("--from-date", "from_date", default="2021-01-01", show_default=True,
              help="date from which the copied plans are in force")
def seed_plans(from_date: str) -> None:
    """Copy the file's province plans into the database (as version 1) where the province has none yet."""
    from .plans import file_only_parts, seed_from_file

    try:
        day = dt.date.fromisoformat(from_date)
    except ValueError:
        raise click.BadParameter(f"{from_date!r} is not a date like 2021-01-01", param_hint="--from-date") from None
    config = load_indicators(current_app.config.get("COMPLIANCE_INDICATORS", DEFAULT_PATH))
    stored = seed_from_file(config, day)
    db.session.commit()
    click.echo(f"{stored} province plan(s) stored.")
    for (system, code), plan in config.provinces.items():
        if parts := file_only_parts(plan):
            click.echo(f"{system}:{code} left in the file: a stored plan cannot hold {', '.join(parts)}.", err=True)


@indicators_cli.command("import-population")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file against the database; write nothing.")
def import_population_command(path: Path, dry_run: bool) -> None:
    """Reported population figures (unit, year, indicator, value, source) from CSV; nothing is written on any error."""
    from .population_import import parse_population
    from .population_services import import_population

    run_csv_import(path, parse_population,
                   lambda parsed, source, sha: import_population(parsed, source=source, sha256=sha),
                   dry_run=dry_run, done=lambda r: f"{r.created} figure(s) added, {r.replaced} replaced.",
                   would=lambda r: f"{r.created} figure(s) would be added, {r.replaced} replaced.")


@click.group("compliance")
def compliance_cli() -> None:
    """The compliance read model: each facility's latest approved result as date intervals."""


@compliance_cli.command("rebuild")
@click.option("--batch", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Facilities per transaction.")
@with_appcontext
def rebuild_command(batch: int) -> None:
    """Recompute every facility's result intervals from the inspections (idempotent, committed per batch)."""
    started = time.monotonic()
    if sys.stderr.isatty():
        with click.progressbar(length=1, label="Facilities", file=sys.stderr) as bar:
            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            written = status.rebuild(batch, progress)
    else:
        written = status.rebuild(batch)
    click.echo(f"{written} result intervals written in {time.monotonic() - started:.1f} s.")


@compliance_cli.command("check")
@click.option("--batch", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Facilities compared per query.")
@with_appcontext
def check_command(batch: int) -> None:
    """Compare the stored intervals with a recomputation; exit 1 naming the facilities that differ."""
    differing = status.check(batch)
    db.session.rollback()
    if differing:
        shown = ", ".join(str(fid) for fid in differing[:50])
        more = f" and {len(differing) - 50} more" if len(differing) > 50 else ""
        click.echo(f"Facilities whose result intervals differ from a recomputation: {len(differing)} "
                   f"(ids {shown}{more}); run `flask compliance rebuild`.", err=True)
        sys.exit(1)
    click.echo("The result intervals agree with the inspections.")
