"""Sign-in checks, lockout, and the region scope every query of a signed-in user goes through."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from ..areas.models import ServiceArea, ServiceAreaCommune
from ..audit.services import record
from ..extensions import db, utcnow
from ..facilities.models import Facility
from ..regions.models import AdminUnit
from .models import AREA_ROLES, ROLES, LoginThrottle, User

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


# Checked against when the username is unknown, inactive or locked, so every failure costs one password hash:
# answer time no longer tells which usernames exist (it was ~190 ms for a real one, ~10 ms for an unknown one).
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None; counts failures and locks for a while, never forever.

    The failure count is incremented by the database (``failed_logins = failed_logins + 1``) in the same UPDATE
    that sets the lock, so concurrent wrong passwords cannot overwrite each other's count; a success clears the
    count only if no lock was set meanwhile (compare-and-set), so a burst cannot end with the right password in.
    """
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    now = utcnow()
    if user is None or not user.active or (user.locked_until is not None and user.locked_until > now):
        check_password_hash(_DUMMY_HASH, password)  # the same work as a real check
        return None
    if not user.check_password(password):
        _count_failure(user, now)
        return None
    cleared = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=0, locked_until=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.expire(user, ["failed_logins", "locked_until"])
    return user if cleared == 1 else None


def _count_failure(user: User, now: dt.datetime) -> None:
    """One more failure, counted and (at MAX_FAILURES) turned into a lock by one atomic UPDATE."""
    until = now + LOCKOUT
    reaches = User.failed_logins + 1 >= MAX_FAILURES
    row = db.session.execute(
        sa.update(User).where(User.id == user.id)
        .values(failed_logins=sa.case((reaches, 0), else_=User.failed_logins + 1),
                # A lockout that expires: an attacker can slow a user down but not shut them out for good.
                locked_until=sa.case((reaches, until), else_=User.locked_until))
        .returning(User.failed_logins, User.locked_until)
        .execution_options(synchronize_session=False)).one()
    db.session.expire(user, ["failed_logins", "locked_until"])
    if row.failed_logins == 0 and row.locked_until is not None:
        record("user.locked", "user", user.id, details={"until": until.isoformat()})


# ---------------------------------------------------------------------------------------------- throttle


@dataclass(frozen=True)
class Throttled:
    """Why a sign-in attempt is refused before any password is checked, and for how long."""

    scope: str  # "address" or "global"
    retry_after: int  # seconds


def throttle_attempt(address: str, limits: dict[str, int], now: dt.datetime | None = None) -> Throttled | None:
    """Count one sign-in attempt for the client address and in total; a Throttled when either is over its limit.

    ``limits``: ``per_address``, ``global`` (attempts per window) and ``window`` (seconds). Counted by one
    UPDATE per key (``attempts = attempts + 1``, or 1 in a new window), so concurrent requests and several
    workers or app servers all count. The caller commits at once, before checking any password, so that the
    counter rows are not held locked while a password hash is computed.
    """
    now = now or utcnow()
    window = dt.timedelta(seconds=limits["window"])
    for scope, key, limit in (("address", f"addr:{address}"[:80], limits["per_address"]),
                              ("global", "global", limits["global"])):
        attempts, started = _bump_counter(key, now, now - window)
        if attempts > limit:
            retry = max(1, int((started + window - now).total_seconds()) + 1)
            return Throttled(scope, retry)
    return None


def _bump_counter(key: str, now: dt.datetime, cutoff: dt.datetime) -> tuple[int, dt.datetime]:
    expired = LoginThrottle.window_start <= cutoff
    bump = (sa.update(LoginThrottle).where(LoginThrottle.key == key)
            .values(attempts=sa.case((expired, 1), else_=LoginThrottle.attempts + 1),
                    window_start=sa.case((expired, now), else_=LoginThrottle.window_start))
            .returning(LoginThrottle.attempts, LoginThrottle.window_start)
            .execution_options(synchronize_session=False))
    for _attempt in range(3):
        row = db.session.execute(bump).one_or_none()
        if row is not None:
            return int(row.attempts), row.window_start
        try:
            with db.session.begin_nested():  # first attempt from this address: a concurrent creator wins
                db.session.add(LoginThrottle(key=key, window_start=now, attempts=1))
            # A row per address would otherwise stay for ever: addresses whose window has ended are forgotten
            # when a new one is first seen (a returning address starts a fresh window anyway).
            db.session.execute(sa.delete(LoginThrottle)
                               .where(LoginThrottle.window_start <= cutoff, LoginThrottle.key != "global")
                               .execution_options(synchronize_session=False))
            return 1, now
        except sa.exc.IntegrityError:
            continue
    raise RuntimeError(f"could not count a sign-in attempt for {key}")


def end_sessions(user_id: int) -> None:
    """End every session of the user, on every device (the cookie's generation no longer matches); flush only."""
    db.session.execute(sa.update(User).where(User.id == user_id)
                       .values(session_generation=User.session_generation + 1)
                       .execution_options(synchronize_session=False))
    user = db.session.identity_map.get(sa.inspect(User).identity_key_from_primary_key((user_id,)))
    if user is not None:
        db.session.expire(user, ["session_generation"])


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
