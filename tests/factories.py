"""Dependency-free test factories (Redash style): small regions, facilities and users, and ``login``, the one way
request tests sign a client in."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.regions.models import AdminUnit


def unit(system: str, level: str, code: str, name: str, parent: AdminUnit | None = None) -> AdminUnit:
    """Add a unit and set its materialised path."""
    u = AdminUnit(system=system, level=level, code=code, name=name, parent=parent)
    db.session.add(u)
    db.session.flush()
    u.path = (parent.path if parent else "/") + f"{u.id}/"
    db.session.flush()
    return u


def two_districts() -> dict[str, AdminUnit]:
    """A province in both systems, two pre-2025 districts with a commune each, and their 2025 communes."""
    old_p = unit("pre2025", "province", "12", "Tỉnh Lai Châu")
    d1 = unit("pre2025", "district", "106", "Huyện Tam Đường", old_p)
    d2 = unit("pre2025", "district", "107", "Huyện Phong Thổ", old_p)
    c1 = unit("pre2025", "commune", "03430", "Xã Bản Giang", d1)
    c2 = unit("pre2025", "commune", "03451", "Xã Mường So", d2)
    new_p = unit("2025", "province", "12", "Tỉnh Lai Châu")
    n1 = unit("2025", "commune", "03430", "Xã Bản Bo", new_p)
    n2 = unit("2025", "commune", "03451", "Xã Khổng Lào", new_p)
    return {"old_province": old_p, "d1": d1, "d2": d2, "c1": c1, "c2": c2, "province": new_p, "n1": n1, "n2": n2}


def user(username: str, role: str, scope: AdminUnit | None, password: str = "Mat-khau-2025",
         full_name: str | None = None) -> User:
    """Add a user with a known password."""
    u = User(username=username, full_name=full_name or username.title(), role=role, scope_unit=scope)
    u.set_password(password)
    db.session.add(u)
    db.session.flush()
    return u


def facility(code: str, name: str, unit_: AdminUnit, legacy: AdminUnit | None = None, type_: str = "TYT",
             ownership: str = "public", services: tuple[str, ...] = ("VU", "BCS", "TT", "DCTC")) -> Facility:
    """Add a facility offering ``services``."""
    f = Facility(code=code, name=name, type=type_, ownership=ownership, unit=unit_, legacy_unit=legacy,
                 active_from=dt.date(2015, 1, 1))
    f.services = list(services)
    db.session.add(f)
    db.session.flush()
    return f


def login(client: FlaskClient, user: int | str | User | None, *, locale: str | None = None) -> None:
    """Sign ``client`` in as ``user`` (an id, a username or a User) by writing the session, as the sign-in page
    would (much faster than hashing a password per test); ``None`` signs it out. Whatever the session held
    before is dropped. ``locale="en"`` shows English pages, so that assertions can read the msgids."""
    with client.session_transaction() as session:
        session.clear()
        if user is None:
            return
        with client.application.app_context():
            if isinstance(user, str):
                found = db.session.scalar(sa.select(User).where(User.username == user))
            else:
                found = db.session.get(User, user if isinstance(user, int) else user.id)
            assert found is not None, f"no such user: {user!r}"
            session["user_id"] = found.id
            session["pw"] = found.password_hash[-16:]
            session["gen"] = found.session_generation
        if locale is not None:
            session["locale"] = locale
