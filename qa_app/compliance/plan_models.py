"""Province plans stored in the database: one row per saved version, never updated in place."""

from __future__ import annotations

import datetime as dt
import decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import db, intpk, timestamp


class ProvincePlanVersion(db.Model):
    """One version of a province plan (kế hoạch của UBND tỉnh), as a manager saved it.

    The plan is keyed like the indicators file's ``provinces`` entries, by the province's (system, code), so a
    pre-2025 province keeps its plan after the merger. Saving makes version n+1 (a compare-and-set on n: the
    unique key refuses a second writer); the version in force on a day is the highest one whose
    ``effective_from`` is on or before that day. ``overrides`` has the indicators file's shape (indicator id →
    targets by year, filters), so the one validator of the file also checks it.
    """

    __tablename__ = "province_plan_version"
    __table_args__ = (
        sa.UniqueConstraint("system", "code", "version"),
        sa.CheckConstraint("system IN ('pre2025', '2025')", name="plan_system"),
        sa.CheckConstraint("version >= 1", name="plan_version_positive"),
    )

    id: Mapped[intpk]
    system: Mapped[str] = mapped_column(sa.String(8))
    code: Mapped[str] = mapped_column(sa.String(2))
    version: Mapped[int] = mapped_column()
    effective_from: Mapped[dt.date] = mapped_column(sa.Date)
    name: Mapped[str] = mapped_column(sa.String(300))
    # Số hiệu of the plan (e.g. "91/KH-UBND") and its date of issue.
    number: Mapped[str] = mapped_column(sa.String(60), default="")
    issued_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    overrides: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Targets on reported population figures: {"mcpr": {"2025": 50}} (see population.py).
    population_targets: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    created_at: Mapped[timestamp]

    created_by: Mapped[User | None] = relationship()


class PopulationFigure(db.Model):
    """A reported population figure of a unit for a year (imported from CSV; never measured by the app).

    One value per (unit, year, indicator): a later import replaces it, and the audit entry keeps the old one.
    """

    __tablename__ = "population_figure"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "year", "indicator"),
        sa.CheckConstraint("value >= 0", name="population_value_positive"),
    )

    id: Mapped[intpk]
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column()
    indicator: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 2))
    source: Mapped[str] = mapped_column(sa.String(300))
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    imported_at: Mapped[timestamp]
