"""Users, their role and the region subtree they may see."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..areas.models import ServiceArea
from ..extensions import UTCDateTime, db, intpk, timestamp
from ..regions.models import AdminUnit

ROLES = ("supervisor", "reviewer", "provincial_manager", "admin")
# Roles whose scope may be a service area instead of an administrative unit.
AREA_ROLES = ("reviewer", "provincial_manager")


class User(db.Model):
    """A person who signs in: supervisor, reviewer, provincial manager or administrator.

    The scope is a unit subtree (a province, or for history a pre-2025 district) or a service area. An
    area-scoped account also keeps the area's province as ``scope_unit``: the outer bound that every
    unit-based check already understands, narrowed to the area's communes by ``facility_in_scope``.
    """

    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint("role IN ('supervisor', 'reviewer', 'provincial_manager', 'admin')", name="role"),
        # Only an administrator may have the whole country as scope.
        sa.CheckConstraint("role = 'admin' OR scope_unit_id IS NOT NULL", name="scope_required"),
        sa.CheckConstraint("failed_logins >= 0", name="failed_logins"),
        sa.CheckConstraint("scope_area_id IS NULL OR (role IN ('reviewer', 'provincial_manager')"
                           " AND scope_unit_id IS NOT NULL)", name="area_scope"),
    )

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[str] = mapped_column(sa.String(120), default="")
    email: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(20))
    scope_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    scope_area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_area.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Copied into the session cookie at sign-in and compared on every request: bumping it (sign-out, password,
    # role or scope change, "sign out everywhere") ends every copy of every session of this user at once.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[timestamp]

    scope_unit: Mapped[AdminUnit | None] = relationship()
    scope_area: Mapped[ServiceArea | None] = relationship()

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)


class LoginThrottle(db.Model):
    """Sign-in attempts per client address ("addr:…") and in total ("global") in the current window.

    Kept in the database, not in a worker's memory, so the limits hold across gunicorn workers and across app
    servers sharing one PostgreSQL.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
