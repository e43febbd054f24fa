"""`flask areas …`: import service areas from CSV."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..core.imports import run_csv_import
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
    run_csv_import(path, parse_areas, lambda parsed, source, sha: import_areas(parsed, source=source, sha256=sha),
                   dry_run=dry_run, done=lambda r: f"{r.created} created, {r.updated} replaced.",
                   would=lambda r: f"{r.created} would be created, {r.updated} replaced.")
