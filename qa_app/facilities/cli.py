"""`flask facilities …`: import the facility registry from a CSV file."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..auth.models import User
from ..core.imports import run_csv_import
from ..extensions import db
from ..regions.importers import FileFormatError, parse_conversion
from ..regions.models import REFORM_DATE
from ..regions.services import file_sha256
from .importers import parse_facilities
from .reorganise import apply_plan, propose
from .services import import_facilities
from .stations import plan_csv, read_plan


@click.group("facilities")
def facilities_cli() -> None:
    """Facility registry: import from CSV."""


@facilities_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", metavar="USERNAME",
              help="Import as this user: their region limits the import and the audit log names them.")
@click.option("--dry-run", is_flag=True, help="Check the file against the database; write nothing.")
@with_appcontext
def import_command(path: Path, username: str | None, dry_run: bool) -> None:
    """Create or update facilities from a CSV file (docs/import-formats.md); nothing is written on any error."""
    started = time.perf_counter()
    user = None
    if username:
        user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise click.ClickException(f"no user '{username}'")
    run_csv_import(path, parse_facilities,
                   lambda parsed, source, sha: import_facilities(parsed, user, source=source, sha256=sha),
                   dry_run=dry_run,
                   done=lambda r: f"{r.created} created, {r.updated} updated, {r.unchanged} unchanged "
                                  f"({r.rows_read} rows, {time.perf_counter() - started:.2f} s).",
                   would=lambda r: f"{r.created} would be created, {r.updated} updated, {r.unchanged} unchanged.")


@facilities_cli.command("reorganise-stations")
@click.option("--conversion", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The official 2025 new-to-old commune conversion table: propose (and apply) from it.")
@click.option("--plan", "plan_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Apply a reviewed plan (the CSV a dry run wrote).")
@click.option("--province", default=None, help="Only this 2025 province (two-digit code).")
@click.option("--date", "on", default=REFORM_DATE.isoformat(), show_default=True,
              help="The day the old stations became sub-stations (recorded in their history).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("stations-plan.csv"),
              show_default=True, help="Where a dry run writes the reviewable plan.")
@click.option("--dry-run", is_flag=True, help="Write the plan; change nothing.")
@with_appcontext
def reorganise_stations(conversion: Path | None, plan_path: Path | None, province: str | None, on: str,
                        out: Path, dry_run: bool) -> None:
    """Old commune stations become sub-stations (điểm trạm) of the new commune's station; all or nothing, audited."""
    if (conversion is None) == (plan_path is None):
        raise click.ClickException("give exactly one of --conversion FILE or --plan FILE")
    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        raise click.ClickException(f"--date '{on}' is not a date like 2025-07-01") from None
    if conversion is not None:
        data = conversion.read_bytes()
        try:
            parsed = parse_conversion(data, province)
        except FileFormatError as exc:
            raise click.ClickException("; ".join(str(p) for p in exc.problems)) from None
        plan = propose(parsed, province, day)
        for problem in plan.problems:
            click.echo(f"not placed: {problem}", err=True)
        rows, source = plan.rows, conversion.name
        click.echo(f"{len(plan.stations)} stations (one per 2025 commune), {len(plan.sub_stations)} sub-stations.")
        if dry_run:
            out.write_text("\ufeff" + plan_csv(plan), encoding="utf-8")
            click.echo(f"Dry run: plan written to {out}; review it, then apply it with --plan {out}.")
            return
    else:
        data = plan_path.read_bytes()
        rows, problems = read_plan(data.decode("utf-8", errors="replace"))
        if problems:
            for problem in problems:
                click.echo(f"{plan_path.name}: {problem}", err=True)
            sys.exit(1)
        source = plan_path.name
        if dry_run:
            click.echo(f"Dry run: {sum(1 for r in rows if r.role == 'sub_station')} sub-stations would be linked.")
            return
    linked, problems = apply_plan(rows, day, source=source, sha256=file_sha256(data))
    if problems:
        db.session.rollback()
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"{len(problems)} problem(s); nothing was changed.", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{linked} stations became sub-stations.")
