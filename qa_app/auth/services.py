"""Sign-in checks, lockout, and the region scope every query of a signed-in user goes through."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from ..areas.models import ServiceArea, ServiceAreaCommune
from ..audit.services import record
from ..extensions import db, utcnow
from ..facilities.models import Facility
from ..regions.models import AdminUnit
from .models import AREA_ROLES, ROLES, User

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10


class PasswordRuleError(ValueError):
    """A password that breaks the rules; the message says which rule."""


def check_password_rules(password: str, username: str = "") -> None:
    """Refuse short passwords, ones without letters and digits, and ones containing the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        # Lazy: the admin form shows str(exc) in the user's language; the CLI gets the default language.
        raise PasswordRuleError(_l("password must have at least %(n)d characters", n=MIN_PASSWORD_LENGTH))
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise PasswordRuleError(_l("password must contain letters and digits"))
    if username and username.lower() in password.lower():
        raise PasswordRuleError(_l("password must not contain the username"))


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None; counts failures and locks for a while, never forever."""
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    now = utcnow()
    if user is None or not user.active:
        return None
    if user.locked_until is not None and user.locked_until > now:
        return None
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            # A lockout that expires: an attacker can slow a user down but not shut them out for good.
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            record("user.locked", "user", user.id, details={"until": user.locked_until.isoformat()})
        db.session.flush()
        return None
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    return user


def parse_scope(spec: str | None) -> AdminUnit | None:
    """Resolve 'system:level:code' (e.g. 'pre2025:district:106') to a unit; None for the whole country."""
    if not spec:
        return None
    try:
        system, level, code = spec.split(":")
    except ValueError:
        raise ValueError(f"scope '{spec}' must look like system:level:code, e.g. 2025:province:12") from None
    unit = db.session.scalar(sa.select(AdminUnit).where(
        AdminUnit.system == system, AdminUnit.level == level, AdminUnit.code == code))
    if unit is None:
        raise ValueError(f"no administrative unit {spec}")
    return unit


def create_user(username: str, password: str, full_name: str, role: str, scope: AdminUnit | None,
                position: str = "", actor_id: int | None = None, area: ServiceArea | None = None) -> User:
    """Create a user after checking the role, the scope rule and the password rules (flush only)."""
    username = username.strip().lower()
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}'; choose one of {', '.join(ROLES)}")
    if role != "admin" and scope is None and area is None:
        raise ValueError("only an administrator may have the whole country as scope")
    check_password_rules(password, username)
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise ValueError(f"username '{username}' is taken")
    user = User(username=username, full_name=full_name, role=role, position=position)
    set_scope(user, scope, area)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("user.created", "user", user.id, user_id=actor_id,
           details={"username": username, "role": role, "scope": user.scope_unit.id if user.scope_unit else None,
                    "area": area.id if area else None})
    return user


def area_commune_ids(area_id: int) -> sa.Select:
    """Ids of the 2025 communes of a service area (a subquery)."""
    return sa.select(ServiceAreaCommune.unit_id).where(ServiceAreaCommune.area_id == area_id)


def parse_area_scope(spec: str) -> ServiceArea:
    """Resolve 'area:CODE' to a service area."""
    code = spec.split(":", 1)[1].strip()
    area = db.session.scalar(sa.select(ServiceArea).where(ServiceArea.code == code))
    if area is None:
        raise ValueError(f"no service area {code}")
    return area


def set_scope(user: User, unit: AdminUnit | None, area: ServiceArea | None = None) -> None:
    """Give ``user`` a unit scope, or an area scope (with the area's province as the outer bound)."""
    if area is not None:
        if user.role not in AREA_ROLES:
            raise ValueError(f"a service area can scope only the roles {', '.join(AREA_ROLES)}")
        user.scope_area, user.scope_unit = area, area.province
    else:
        user.scope_area, user.scope_unit = None, unit


def scope_of(user: User) -> dict[str, int | None]:
    """The scope as recorded in the audit log."""
    return {"unit": user.scope_unit_id, "area": user.scope_area_id}


def facility_in_scope(user: User) -> sa.ColumnElement[bool]:
    """SQL condition: the facility lies in the user's region subtree, in either unit system."""
    if user.role == "admin" and user.scope_unit_id is None:
        return sa.true()
    if user.scope_area_id is not None:
        # An area is a set of 2025 communes: the facility's current unit decides, whatever its legacy unit.
        return Facility.unit_id.in_(area_commune_ids(user.scope_area_id))
    scope_path = user.scope_unit.path
    current = aliased(AdminUnit)
    legacy = aliased(AdminUnit)
    in_current = sa.select(current.id).where(current.id == Facility.unit_id,
                                             current.path.startswith(scope_path, autoescape=True))
    in_legacy = sa.select(legacy.id).where(legacy.id == Facility.legacy_unit_id,
                                           legacy.path.startswith(scope_path, autoescape=True))
    return sa.or_(in_current.exists(), in_legacy.exists())
