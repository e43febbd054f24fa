"""`flask checklists …`: validate files, list registered versions, diff two versions, load into the database."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from .loader import ChecklistError, Problem, diff_checklists, format_diff, load_checklist, load_directory
from .models import ChecklistVersion
from .schema import Checklist


@click.group("checklists")
def checklists_cli() -> None:
    """Checklist versions: validate, list, diff, load."""


def _echo_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} problem(s) found.", err=True)


@checklists_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def validate(paths: tuple[Path, ...]) -> None:
    """Validate checklist files or folders (default: the checklists folder); exit 1 on any error."""
    targets = list(paths) or [Path(current_app.config["CHECKLISTS_DIR"])]
    problems: list[Problem] = []
    count = 0
    for target in targets:
        if target.is_dir():
            loaded, found = load_directory(target)
            count += len(loaded)
            problems.extend(found)
        else:
            try:
                load_checklist(target)
                count += 1
            except ChecklistError as exc:
                problems.extend(exc.problems)
    if problems:
        _echo_problems(problems)
        sys.exit(1)
    click.echo(f"{count} checklist file(s) valid.")


@checklists_cli.command("list")
@with_appcontext
def list_versions() -> None:
    """List the versions registered in the database and the files not yet registered."""
    rows = db.session.scalars(sa.select(ChecklistVersion).order_by(ChecklistVersion.code, ChecklistVersion.version))
    registered = set()
    click.echo(f"{'code':<16} {'ver':>3}  {'status':<9} {'effective':<10}  {'sha256':<12}  title")
    for row in rows:
        registered.add((row.code, row.version))
        click.echo(f"{row.code:<16} {row.version:>3}  {row.status:<9} {row.effective_from:%Y-%m-%d}  "
                   f"{row.sha256[:12]}  {row.title_vi}")
    loaded, problems = load_directory(current_app.config["CHECKLISTS_DIR"])
    for checklist in loaded:
        if (checklist.code, checklist.version) not in registered:
            click.echo(f"{checklist.code:<16} {checklist.version:>3}  {'(file)':<9} "
                       f"{checklist.effective_from:%Y-%m-%d}  {checklist.sha256[:12]}  not registered yet")
    if problems:
        click.echo(f"{len(problems)} problem(s) in checklist files: run `flask checklists validate`.", err=True)


def _find(code: str, version: int) -> Checklist:
    from .registry import checklist_of

    path = Path(current_app.config["CHECKLISTS_DIR"]) / code / f"v{version}.yaml"
    if path.exists():
        return load_checklist(path)
    row = db.session.scalar(sa.select(ChecklistVersion).where(
        ChecklistVersion.code == code, ChecklistVersion.version == version))
    if row is None:
        raise click.ClickException(f"No checklist '{code}' version {version} in {path.parent} or the database.")
    return checklist_of(row)


@checklists_cli.command("diff")
@click.argument("code")
@click.argument("v1", type=int)
@click.argument("v2", type=int)
@with_appcontext
def diff(code: str, v1: int, v2: int) -> None:
    """Show items added, removed and changed between versions V1 and V2 of checklist CODE."""
    try:
        old, new = _find(code, v1), _find(code, v2)
    except ChecklistError as exc:
        _echo_problems(exc.problems)
        sys.exit(1)
    click.echo(format_diff(diff_checklists(old, new)))


@checklists_cli.command("load")
@with_appcontext
def load() -> None:
    """Register every checklist file in the database; nothing is registered if any file is refused."""
    from .registry import ImmutableVersionError, sync_directory

    try:
        report = sync_directory(current_app.config["CHECKLISTS_DIR"])
    except (ChecklistError, ImmutableVersionError) as exc:
        db.session.rollback()
        _echo_problems(exc.problems)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Checklists: {len(report.added)} added, {len(report.updated)} draft(s) updated, "
               f"{len(report.unchanged)} unchanged"
               + (f", {len(report.corrected)} corrected (legal bases)." if report.corrected else "."))
