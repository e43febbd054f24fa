"""`flask audit verify`: re-hash the whole audit chain, for operators and scheduled checks."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from .models import AuditEntry
from .services import verify_chain


@click.group("audit")
def audit_cli() -> None:
    """The append-only, hash-chained audit log."""


@audit_cli.command("verify")
@with_appcontext
def verify_command() -> None:
    """Re-hash every audit entry in order; exit 1 and list each broken link if the chain was tampered with."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0
    problems = verify_chain()
    for problem in problems:
        click.echo(f"BROKEN {problem}", err=True)
    click.echo(f"{total} audit entries checked, {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)
