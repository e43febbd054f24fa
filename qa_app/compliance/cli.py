"""`flask compliance …`: rebuild and check the status read model (the facilities' result intervals)."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..inspections import status


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
