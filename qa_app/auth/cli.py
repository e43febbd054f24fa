"""`flask users …`: create users and change their role or scope."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..audit.services import record
from ..extensions import db
from .models import ROLES, User
from .services import PasswordRuleError, create_user, end_sessions, parse_scope


@click.group("users")
def users_cli() -> None:
    """Manage user accounts."""


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, as printed on minutes.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--scope", default="", help="Region as system:level:code, e.g. 2025:province:12 (admins may omit).")
@click.option("--position", default="", help="Position (chức vụ).")
@click.password_option()
@with_appcontext
def create(username: str, full_name: str, role: str, scope: str, position: str, password: str) -> None:
    """Create a user."""
    try:
        user = create_user(username, password, full_name, role, parse_scope(scope), position=position)
    except (ValueError, PasswordRuleError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.username} ({user.role}).")


@users_cli.command("set-role")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--scope", default=None, help="New region as system:level:code (unchanged if omitted).")
@with_appcontext
def set_role(username: str, role: str, scope: str | None) -> None:
    """Change a user's role and optionally their scope."""
    user = db.session.scalar(sa.select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"no user '{username}'")
    try:
        unit = parse_scope(scope) if scope is not None else user.scope_unit
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if role != "admin" and unit is None:
        raise click.ClickException("only an administrator may have the whole country as scope")
    before = {"role": user.role, "scope": user.scope_unit_id}
    user.role, user.scope_unit = role, unit
    db.session.flush()
    end_sessions(user.id)  # the old rights end with every open session
    record("user.role_changed", "user", user.id, details={"before": before,
                                                          "after": {"role": role, "scope": user.scope_unit_id}})
    db.session.commit()
    click.echo(f"{user.username} is now {role}.")


@users_cli.command("sign-out")
@click.argument("username")
@with_appcontext
def sign_out(username: str) -> None:
    """End every session of a user on every device (a lost tablet, a leaked password)."""
    user = db.session.scalar(sa.select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"no user '{username}'")
    end_sessions(user.id)
    record("user.signed_out_everywhere", "user", user.id)
    db.session.commit()
    click.echo(f"Every session of {user.username} has ended.")
