"""Administrative units as one tree per system: pre-2025 (province/district/commune) and 2025 (province/commune)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db, intpk

SYSTEMS = ("pre2025", "2025")
LEVELS = ("province", "district", "commune")
# The day the two-level system took effect (Resolution 202/2025/QH15, Decision 19/2025/QĐ-TTg).
REFORM_DATE = dt.date(2025, 7, 1)


class AdminUnit(db.Model):
    """A province, district or commune of one system; a code alone is ambiguous, (system, level, code) is not."""

    __tablename__ = "admin_unit"
    __table_args__ = (
        sa.UniqueConstraint("system", "level", "code"),
        sa.CheckConstraint("system IN ('pre2025', '2025')", name="system"),
        sa.CheckConstraint("level IN ('province', 'district', 'commune')", name="level"),
        # The 2025 reform abolished districts.
        sa.CheckConstraint("NOT (system = '2025' AND level = 'district')", name="no_district_after_2025"),
        sa.CheckConstraint(
            "(level = 'province' AND parent_id IS NULL) OR (level <> 'province' AND parent_id IS NOT NULL)",
            name="parent_by_level",
        ),
        sa.CheckConstraint(
            "(level = 'province' AND length(code) = 2) OR (level = 'district' AND length(code) = 3)"
            " OR (level = 'commune' AND length(code) = 5)",
            name="code_length",
        ),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
    )

    id: Mapped[intpk]
    system: Mapped[str] = mapped_column(sa.String(8))
    level: Mapped[str] = mapped_column(sa.String(8))
    code: Mapped[str] = mapped_column(sa.String(5))
    name: Mapped[str] = mapped_column(sa.String(120))
    # Xã, Phường, Thị trấn, Đặc khu, Huyện, Quận, Thị xã, Thành phố, Tỉnh…: names and kinds change, codes stay.
    kind: Mapped[str] = mapped_column(sa.String(30), default="")
    name_en: Mapped[str | None] = mapped_column(sa.String(120))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    # Materialised path of ids ("/3/17/245/") so a region subtree is one indexed prefix match.
    path: Mapped[str] = mapped_column(sa.String(64), index=True, default="")
    valid_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)

    parent: Mapped[AdminUnit | None] = relationship(remote_side="AdminUnit.id", back_populates="children")
    children: Mapped[list[AdminUnit]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<AdminUnit {self.system}:{self.level}:{self.code} {self.name}>"

    @property
    def label(self) -> str:
        """Name with its code, as shown in lists."""
        return f"{self.name} ({self.code})"


class UnitSuccession(db.Model):
    """How a pre-2025 commune maps onto 2025 communes; a partly merged commune maps to several."""

    __tablename__ = "unit_succession"

    old_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="CASCADE"), primary_key=True)
    new_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="CASCADE"), primary_key=True)
    whole: Mapped[bool] = mapped_column(default=True)


class HighFertilityStatus(db.Model):
    """Whether a commune belongs to a high-fertility area (vùng có mức sinh cao), for a period.

    Decision 1848's commune-station target is for stations "thuộc vùng có mức sinh cao". The designation is the
    population sector's, by commune, and it changes over time (a list is revised, communes merge in 2025), so
    it is kept here as dated periods rather than as a flag on each facility: a station is in a high-fertility
    area on a day when its 2025 commune or its pre-2025 commune has a "yes" period covering that day. A new
    status closes the previous period the day before (regions.fertility.import_statuses); nothing is edited in
    place, so the history stays readable.
    """

    __tablename__ = "high_fertility_status"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "valid_from"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        sa.Index("ix_high_fertility_status_lookup", "unit_id", "high_fertility", "valid_from"),
    )

    id: Mapped[intpk]
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    high_fertility: Mapped[bool]
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    # The decision or list the status comes from, as the CSV gave it, and the file it was imported from.
    source: Mapped[str] = mapped_column(sa.String(200), default="")
    imported_from: Mapped[str] = mapped_column(sa.String(200), default="")

    unit: Mapped[AdminUnit] = relationship()
