"""The one way a CSV import runs, from the command line or from an uploaded file: parse it, apply it all or
nothing, and report every problem (with the file's name on the command line, with its row on a page).

The parsers (pure, ``*/importers.py``) and the importers (services, which flush and never commit) do the work;
this module only commits or rolls back and reports."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click
from flask import flash
from flask_babel import ngettext
from werkzeug.datastructures import FileStorage

from ..extensions import db
from ..regions.importers import FileFormatError, RowError
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


def run_upload_import(upload: FileStorage, max_bytes: int, parse: Callable[[bytes], Any],
                      apply: Callable[[Any, str, str], R]) -> tuple[R | None, list[RowError]]:
    """Import an uploaded CSV file: (the report, or None when the file could not be read; the problems).

    At most ``max_bytes`` + 1 bytes are read, so the parser can refuse a longer file. Committed when there is no
    problem; otherwise rolled back, with a message saying how many problems there are (the page lists them).
    """
    data = upload.read(max_bytes + 1)
    report: R | None = None
    try:
        report = apply(parse(data), upload.filename or "", file_sha256(data))
    except FileFormatError as exc:
        problems = list(exc.problems)
    else:
        problems = list(report.errors)
    if problems:
        db.session.rollback()
        flash(ngettext("%(num)d problem found: nothing was imported.",
                       "%(num)d problems found: nothing was imported.", len(problems)), "error")
    else:
        db.session.commit()
    return report, problems
