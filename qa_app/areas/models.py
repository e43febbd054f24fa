"""A service area (khu vực): the catchment of a regional health centre or the provincial CDC after 2025.

The 2025 reform left two administrative levels, but visits and reviews below the province are organised by
a health unit whose catchment is a set of 2025 communes that need not match an old district. An area is
that set, named and dated, inside one 2025 province.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db, intpk
from ..regions.models import AdminUnit


class ServiceArea(db.Model):
    """A named, dated set of 2025 communes of one province, owned by a health unit."""

    __tablename__ = "service_area"
    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Always a 2025 province: areas exist only in the two-level system (checked by the services).
    province_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    # The health unit that runs the area (a regional health centre or the provincial CDC); optional because
    # an area may be declared before its unit is in the registry.
    owner_facility_id: Mapped[int | None] = mapped_column(sa.ForeignKey("facility.id", ondelete="RESTRICT"))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)

    province: Mapped[AdminUnit] = relationship(foreign_keys=[province_id])
    owner = relationship("Facility", foreign_keys=[owner_facility_id])
    commune_rows: Mapped[list[ServiceAreaCommune]] = relationship(
        back_populates="area", cascade="all, delete-orphan")

    @property
    def label(self) -> str:
        """Name with its code, as shown in lists."""
        return f"{self.name} ({self.code})"

    def is_valid(self, on: dt.date) -> bool:
        """Whether the area was in force on ``on``."""
        return self.valid_from <= on and (self.valid_to is None or self.valid_to >= on)


class ServiceAreaCommune(db.Model):
    """One 2025 commune of an area."""

    __tablename__ = "service_area_commune"

    area_id: Mapped[int] = mapped_column(sa.ForeignKey("service_area.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"), primary_key=True,
                                         index=True)

    area: Mapped[ServiceArea] = relationship(back_populates="commune_rows")
    unit: Mapped[AdminUnit] = relationship()
