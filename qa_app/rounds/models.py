"""Supervision rounds (đợt giám sát): region, dates, coverage target, reporting dates and assigned visits."""

from __future__ import annotations

import datetime as dt
import decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..areas.models import ServiceArea
from ..auth.models import User
from ..extensions import db, intpk, timestamp
from ..facilities.models import Facility
from ..regions.models import AdminUnit

REPORT_KINDS = ("progress", "final")


class SupervisionRound(db.Model):
    """A round planned by a reviewer or a provincial manager over one region.

    The region is a unit subtree (a province, or a pre-2025 district), a service area (``area_id``; ``unit``
    is then its province), or a list of 2025 communes (``commune_rows``; ``unit`` is their province).
    """

    __tablename__ = "supervision_round"
    __table_args__ = (
        sa.CheckConstraint("deadline >= start_date", name="dates"),
        sa.CheckConstraint("coverage_target >= 0 AND coverage_target <= 100", name="target_range"),
        sa.CheckConstraint("coverage_basis IN ('facilities', 'communes')", name="basis"),
        sa.CheckConstraint("length(trim(name)) > 0", name="name_present"),
    )

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(200))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    # Facility type codes the round visits (TYT, TTYT, BV, PK, NT).
    facility_types: Mapped[list] = mapped_column(sa.JSON, default=list)
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    deadline: Mapped[dt.date] = mapped_column(sa.Date)
    coverage_basis: Mapped[str] = mapped_column(sa.String(10), default="facilities")
    coverage_target: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(5, 2))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    created_at: Mapped[timestamp]

    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_area.id", ondelete="RESTRICT"))
    # The decision establishing the team of the round (số, ngày, cơ quan ban hành): the minutes of the round's
    # visits cite it unless the inspection records its own. All three or none (checked by the service).
    team_decision_number: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    team_decision_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    team_decision_issuer: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")

    unit: Mapped[AdminUnit] = relationship()
    area: Mapped[ServiceArea | None] = relationship()
    commune_rows: Mapped[list[RoundCommune]] = relationship(cascade="all, delete-orphan")
    created_by: Mapped[User] = relationship()
    report_dates: Mapped[list[RoundReportDate]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundReportDate.due_date")
    assignments: Mapped[list[RoundAssignment]] = relationship(back_populates="round", cascade="all, delete-orphan")


class RoundCommune(db.Model):
    """One 2025 commune of a round planned over a list of communes."""

    __tablename__ = "round_commune"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_round.id", ondelete="CASCADE"),
                                          primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"), primary_key=True)


class RoundReportDate(db.Model):
    """A date a progress (sơ kết) or final (tổng kết) report of the round is due."""

    __tablename__ = "round_report_date"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "kind", "due_date"),
        sa.CheckConstraint("kind IN ('progress', 'final')", name="kind"),
    )

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_round.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    due_date: Mapped[dt.date] = mapped_column(sa.Date)

    round: Mapped[SupervisionRound] = relationship(back_populates="report_dates")


class RoundAssignment(db.Model):
    """A facility to visit in the round, and the supervisor who visits it."""

    __tablename__ = "round_assignment"
    __table_args__ = (sa.UniqueConstraint("round_id", "facility_id"),)

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_round.id", ondelete="CASCADE"), index=True)
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facility.id", ondelete="RESTRICT"))
    supervisor_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    # Optional earlier due date for this visit; None means the round's deadline.
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    created_at: Mapped[timestamp]

    round: Mapped[SupervisionRound] = relationship(back_populates="assignments")
    facility: Mapped[Facility] = relationship()
    supervisor: Mapped[User] = relationship()
