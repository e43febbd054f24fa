"""`flask users …`: create users and change their role or scope."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..audit.services import record
from ..extensions import db
from .models import ROLES, User
from .services import (PasswordRuleError, create_user, end_sessions, parse_area_scope, parse_scope, scope_of,
                       set_scope)


def _scope(spec: str) -> tuple[object, object]:
    """(unit, area) from 'system:level:code' or 'area:CODE'."""
    if spec.startswith("area:"):
        return None, parse_area_scope(spec)
    return parse_scope(spec), None


@click.group("users")
def users_cli() -> None:
    """Manage user accounts."""


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, as printed on minutes.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--scope", default="",
              help="Region as system:level:code (e.g. 2025:province:12) or a service area as area:CODE "
                   "(admins may omit).")
@click.option("--position", default="", help="Position (chức vụ).")
@click.password_option()
@with_appcontext
def create(username: str, full_name: str, role: str, scope: str, position: str, password: str) -> None:
    """Create a user."""
    try:
        unit, area = _scope(scope)
        user = create_user(username, password, full_name, role, unit, position=position, area=area)
    except (ValueError, PasswordRuleError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.username} ({user.role}).")


@users_cli.command("set-role")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--scope", default=None, help="New region as system:level:code or area:CODE (unchanged if omitted).")
@with_appcontext
def set_role(username: str, role: str, scope: str | None) -> None:
    """Change a user's role and optionally their scope."""
    user = db.session.scalar(sa.select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"no user '{username}'")
    before = {"role": user.role, **scope_of(user)}
    try:
        unit, area = _scope(scope) if scope is not None else (user.scope_unit, user.scope_area)
        if role != "admin" and unit is None and area is None:
            raise ValueError("only an administrator may have the whole country as scope")
        user.role = role
        set_scope(user, unit, area)
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.flush()
    end_sessions(user.id)  # the old rights end with every open session
    record("user.role_changed", "user", user.id, details={"before": before,
                                                          "after": {"role": role, **scope_of(user)}})
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
