"""The one way a command-line import reads a CSV file: parse it, apply it all or nothing, report every problem
with the file's name, and exit 1 on any; ``--dry-run`` checks against the database and writes nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click

from ..extensions import db
from ..regions.importers import FileFormatError
from ..regions.services import file_sha256


class ImportReport(Protocol):
    """What every importer returns: whether it can be committed, and the problems if not."""

    @property
    def ok(self) -> bool: ...

    @property
    def errors(self) -> list[Any]: ...


R = TypeVar("R", bound=ImportReport)


def run_csv_import(path: Path, parse: Callable[[bytes], Any], apply: Callable[[Any, str, str], R], *,
                   dry_run: bool, done: Callable[[R], str], would: Callable[[R], str]) -> R:
    """Parse ``path`` and ``apply(parsed, source, sha256)`` it; commit, or roll back on a dry run or a problem.

    ``done`` words what was written, ``would`` what a dry run would have written.
    """
    data = path.read_bytes()
    try:
        parsed = parse(data)
    except FileFormatError as exc:
        for problem in exc.problems:
            click.echo(f"{path.name}: {problem}", err=True)
        sys.exit(1)
    report = apply(parsed, path.name, file_sha256(data))
    if not report.ok:
        db.session.rollback()
        for problem in report.errors:
            click.echo(f"{path.name}: {problem}", err=True)
        click.echo(f"{len(report.errors)} problem(s) found; nothing was imported.", err=True)
        sys.exit(1)
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: {would(report)}")
        return report
    db.session.commit()
    click.echo(done(report))
    return report
