"""`flask regions …`: import the official administrative unit lists."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..core.imports import run_csv_import
from ..extensions import db
from .importers import FileFormatError, ParseResult, parse_conversion, parse_gso
from .services import file_sha256, import_units


@click.group("regions")
def regions_cli() -> None:
    """Administrative units: import the GSO list and the 2025 conversion table."""


def _run(path: Path, province: str | None, parse: Callable[[bytes, str | None], ParseResult], dry_run: bool,
         verbose: bool) -> None:
    started = time.perf_counter()
    data = path.read_bytes()
    try:
        parsed = parse(data, province)
    except FileFormatError as exc:
        for problem in exc.problems:
            click.echo(f"{path.name}: {problem}", err=True)
        sys.exit(1)
    parsed_at = time.perf_counter()
    for warning in parsed.warnings if verbose else ():
        click.echo(f"{path.name}: {warning} (warning)", err=True)
    if parsed.warnings and not verbose:
        click.echo(f"{len(parsed.warnings)} warning(s); --verbose lists them.", err=True)
    if parsed.errors:
        for problem in parsed.errors:
            click.echo(f"{path.name}: {problem}", err=True)
        click.echo(f"{len(parsed.errors)} problem(s) found; nothing was imported.", err=True)
        sys.exit(1)
    click.echo(f"Read {parsed.rows_read} rows in {parsed_at - started:.2f} s: "
               + ", ".join(f"{parsed.count(level)} {level}s" for level in ("province", "district", "commune")
                           if parsed.count(level)))
    if dry_run:
        click.echo("Dry run: nothing written.")
        return
    report = import_units(parsed, source=path.name, sha256=file_sha256(data))
    db.session.commit()
    click.echo(report.describe())
    click.echo(f"Total {time.perf_counter() - started:.2f} s.")


_province = click.option("--province", metavar="CODE", help="Import one province only (its code, e.g. 12).")
_dry_run = click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
_verbose = click.option("--verbose", "-v", is_flag=True, help="List warnings (rows skipped or worked out).")


@regions_cli.command("import-gso")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_province
@_dry_run
@_verbose
@with_appcontext
def import_gso(path: Path, province: str | None, dry_run: bool, verbose: bool) -> None:
    """Import the GSO pre-2025 list of provinces, districts and communes (all or nothing)."""
    _run(path, province, parse_gso, dry_run, verbose)


@regions_cli.command("import-conversion")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_province
@_dry_run
@_verbose
@with_appcontext
def import_conversion(path: Path, province: str | None, dry_run: bool, verbose: bool) -> None:
    """Import the July 2025 new-to-old table: 2025 provinces, communes and their predecessors (all or nothing)."""
    _run(path, province, parse_conversion, dry_run, verbose)


@regions_cli.command("import-high-fertility")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_dry_run
@with_appcontext
def import_high_fertility(path: Path, dry_run: bool) -> None:
    """Record which communes are in a high-fertility area, from a date (docs/import-formats.md); all or nothing."""
    from .fertility import import_statuses
    from .fertility_csv import parse_statuses

    run_csv_import(path, parse_statuses,
                   lambda parsed, source, sha: import_statuses(parsed, source=source, sha256=sha), dry_run=dry_run,
                   done=lambda r: f"{r.created} status(es) recorded, {r.closed} period(s) closed, "
                                  f"{r.unchanged} unchanged.",
                   would=lambda r: f"{r.created} status(es) would be recorded, {r.closed} period(s) closed, "
                                   f"{r.unchanged} unchanged.")
