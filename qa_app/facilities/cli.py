"""`flask facilities …`: import the facility registry from a CSV file."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..auth.models import User
from ..extensions import db
from ..regions.importers import FileFormatError
from ..regions.services import file_sha256
from .importers import parse_facilities
from .services import import_facilities


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
    data = path.read_bytes()
    try:
        parsed = parse_facilities(data)
    except FileFormatError as exc:
        for problem in exc.problems:
            click.echo(f"{path.name}: {problem}", err=True)
        sys.exit(1)
    report = import_facilities(parsed, user, source=path.name, sha256=file_sha256(data))
    if not report.ok:
        db.session.rollback()
        for problem in report.errors:
            click.echo(f"{path.name}: {problem}", err=True)
        click.echo(f"{len(report.errors)} problem(s) found; nothing was imported.", err=True)
        sys.exit(1)
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: {report.created} would be created, {report.updated} updated, "
                   f"{report.unchanged} unchanged.")
        return
    db.session.commit()
    click.echo(f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged "
               f"({report.rows_read} rows, {time.perf_counter() - started:.2f} s).")
