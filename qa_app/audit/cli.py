"""`flask audit verify`: re-hash the whole audit chain, for operators and scheduled checks."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..extensions import db
from .services import checkpoint_file, verify_log, write_checkpoint


@click.group("audit")
def audit_cli() -> None:
    """The append-only, hash-chained audit log."""


@audit_cli.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check the audit log; exit 1 and name each problem with its entry numbers.

    Re-hashes the chain (edited entries), checks each entry's HMAC (a chain rewritten and re-hashed), and
    compares the log with the signed checkpoints in the database and in the checkpoint file and with the head
    recorded by each filed minutes (entries deleted from the end, deleted checkpoints).
    """
    report = verify_log()
    for problem in report.problems:
        click.echo(f"BROKEN {problem}", err=True)
    click.echo(f"{report.entries} audit entries checked, {len(report.problems)} problem(s) "
               f"({report.checkpoints} checkpoints in the database, file {checkpoint_file()})")
    sys.exit(1 if report.problems else 0)


@audit_cli.command("checkpoint")
@with_appcontext
def checkpoint_command() -> None:
    """Write a signed checkpoint of the log now (run it from cron: entries after the last one are the only
    ones that can be deleted without `flask audit verify` noticing)."""
    checkpoint = write_checkpoint()
    db.session.commit()
    click.echo(f"Checkpoint {checkpoint.id}: {checkpoint.seq} entries, head {checkpoint.head_hash[:16]}…")
