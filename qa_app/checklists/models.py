"""Registered checklist versions: immutable content with the hash recorded when first registered."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db, intpk, timestamp


class ChecklistVersion(db.Model):
    """One version of one checklist as registered; inspections point here, so history never rescores."""

    __tablename__ = "checklist_version"
    __table_args__ = (
        sa.UniqueConstraint("code", "version"),
        sa.CheckConstraint("status IN ('draft', 'published')", name="status"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_length"),
        sa.CheckConstraint("programme IN ('routine', 'campaign', 'self_assessment', 'gpp')", name="programme"),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(10))
    title_vi: Mapped[str] = mapped_column(sa.String(300))
    title_en: Mapped[str] = mapped_column(sa.String(300), default="")
    effective_from: Mapped[dt.date] = mapped_column(sa.Date)
    # Copied from the content so that queries (start page, indicators) can filter without parsing it.
    programme: Mapped[str] = mapped_column(sa.String(20), default="routine", server_default="routine")
    facility_types: Mapped[list] = mapped_column(sa.JSON)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[dict] = mapped_column(sa.JSON)
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    registered_at: Mapped[timestamp]

    def __repr__(self) -> str:
        return f"<ChecklistVersion {self.code} v{self.version} {self.status}>"
