"""`flask areas …`: import service areas from CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..regions.importers import FileFormatError
from ..regions.services import file_sha256
from .importers import parse_areas
from .services import import_areas


@click.group("areas")
def areas_cli() -> None:
    """Service areas (khu vực): the communes a regional health centre or the CDC looks after."""


@areas_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file against the database; write nothing.")
@with_appcontext
def import_command(path: Path, dry_run: bool) -> None:
    """Create or replace service areas from a CSV file (docs/import-formats.md); nothing is written on any error."""
    data = path.read_bytes()
    try:
        parsed = parse_areas(data)
    except FileFormatError as exc:
        for problem in exc.problems:
            click.echo(f"{path.name}: {problem}", err=True)
        sys.exit(1)
    report = import_areas(parsed, source=path.name, sha256=file_sha256(data))
    if not report.ok:
        db.session.rollback()
        for problem in report.errors:
            click.echo(f"{path.name}: {problem}", err=True)
        click.echo(f"{len(report.errors)} problem(s) found; nothing was imported.", err=True)
        sys.exit(1)
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: {report.created} would be created, {report.updated} replaced.")
        return
    db.session.commit()
    click.echo(f"{report.created} created, {report.updated} replaced.")
