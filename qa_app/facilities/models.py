"""Facilities that provide family-planning services."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..checklists.schema import FACILITY_TYPES, SERVICES, FacilityProfile
from ..extensions import db, intpk, timestamp
from ..regions.models import AdminUnit

OWNERSHIPS = ("public", "non_public")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Facility(db.Model):
    """A commune health station (or one of its sub-stations), health centre, hospital, clinic, pharmacy, provincial
    CDC, maternity home, workplace clinic or mobile team."""

    __tablename__ = "facility"
    __table_args__ = (
        sa.CheckConstraint(_in("type", FACILITY_TYPES), name="type"),
        sa.CheckConstraint(_in("ownership", OWNERSHIPS), name="ownership"),
        sa.CheckConstraint("active_to IS NULL OR active_to >= active_from", name="active_dates"),
        # Commune stations are public by definition.
        sa.CheckConstraint("type <> 'TYT' OR ownership = 'public'", name="tyt_public"),
        sa.CheckConstraint("parent_facility_id IS NULL OR parent_facility_id <> id", name="not_own_parent"),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(4), index=True)
    ownership: Mapped[str] = mapped_column(sa.String(10))
    high_fertility: Mapped[bool] = mapped_column(default=False)
    active_from: Mapped[dt.date] = mapped_column(sa.Date)
    active_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    # The unit in the current (2025) system, and the pre-2025 unit for history and district drill-down.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    legacy_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    # Set on a sub-station (điểm trạm): the commune health station it now belongs to. The legal station is the
    # one without a parent; the history of the link is in FacilityParentLink.
    # NO ACTION, not RESTRICT: checked at the end of the statement, so a whole table can be emptied at once.
    parent_facility_id: Mapped[int | None] = mapped_column(sa.ForeignKey("facility.id"), index=True)
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    head_name: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[timestamp]

    unit: Mapped[AdminUnit] = relationship(foreign_keys=[unit_id])
    legacy_unit: Mapped[AdminUnit | None] = relationship(foreign_keys=[legacy_unit_id])
    parent: Mapped[Facility | None] = relationship(remote_side="Facility.id", foreign_keys=[parent_facility_id])
    service_rows: Mapped[list[FacilityService]] = relationship(
        back_populates="facility", cascade="all, delete-orphan", order_by="FacilityService.service"
    )

    @property
    def services(self) -> list[str]:
        """Codes of the methods this facility offers."""
        return [row.service for row in self.service_rows]

    @services.setter
    def services(self, codes: list[str]) -> None:
        wanted = set(codes)
        self.service_rows = [row for row in self.service_rows if row.service in wanted] + [
            FacilityService(service=code)
            for code in sorted(wanted - {row.service for row in self.service_rows})
        ]

    def profile(self) -> FacilityProfile:
        """What scoring needs to know about this facility."""
        return FacilityProfile(type=self.type, services=frozenset(self.services), ownership=self.ownership)

    def is_active(self, on: dt.date) -> bool:
        """Whether the facility operated on ``on``."""
        return self.active_from <= on and (self.active_to is None or self.active_to >= on)


class FacilityParentLink(db.Model):
    """When a facility became (and, if so, stopped being) a sub-station of a station: the link's history."""

    __tablename__ = "facility_parent_link"
    __table_args__ = (sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),)

    id: Mapped[intpk]
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facility.id", ondelete="CASCADE"), index=True)
    parent_facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facility.id", ondelete="RESTRICT"))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    # Where the link came from, e.g. the conversion table file's name.
    source: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[timestamp]


class FacilityService(db.Model):
    """One method offered by a facility."""

    __tablename__ = "facility_service"
    __table_args__ = (sa.CheckConstraint(_in("service", SERVICES), name="service"),)

    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facility.id", ondelete="CASCADE"), primary_key=True)
    service: Mapped[str] = mapped_column(sa.String(8), primary_key=True)

    facility: Mapped[Facility] = relationship(back_populates="service_rows")
