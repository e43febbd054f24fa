"""Issued minutes, archived byte-for-byte, and the per-unit, per-year counter that numbers them."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import UTCDateTime, db, intpk


class MinutesCounter(db.Model):
    """Last number issued by a unit in a year; incremented in the issuing transaction so numbers never gap."""

    __tablename__ = "minutes_counter"
    __table_args__ = (sa.CheckConstraint("last_number >= 0", name="last_number_positive"),)

    unit_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Minutes(db.Model):
    """The signed PDF minutes of one approved inspection, exactly as issued (re-downloads return these bytes)."""

    __tablename__ = "minutes"
    __table_args__ = (
        sa.UniqueConstraint("unit_code", "year", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    id: Mapped[intpk]
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id", ondelete="RESTRICT"), unique=True)
    number: Mapped[int]
    unit_code: Mapped[str] = mapped_column(sa.String(32))
    year: Mapped[int]
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Of the archived bytes as they are now: they grow when `flask minutes extend` appends document timestamps.
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Of the revision the unit signature covers, which never changes: a copy downloaded before an extension
    # (a prefix of the archived bytes) is still recognised by it.
    signed_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # The last time `flask minutes extend` added a document timestamp (PAdES B-LTA), if ever.
    extended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    signer_subject: Mapped[str] = mapped_column(sa.String(500))
    # Random, unguessable: the QR code's /verify/<token> link.
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    locale: Mapped[str] = mapped_column(sa.String(5), default="vi")
    demo: Mapped[bool] = mapped_column(default=False)
    # The audit log's head when the minutes were filed (entry number and hash): deleting or rewriting entries
    # up to there no longer matches what the minutes recorded (see `flask audit verify`).
    audit_seq: Mapped[int | None]
    audit_hash: Mapped[str | None] = mapped_column(sa.String(64))

    @property
    def number_label(self) -> str:
        """'07/BB-TTKSBT'."""
        return f"{self.number:02d}/BB-{self.unit_code}"


class VerifyHit(db.Model):
    """Lookups on the public verification page per client and time window: the rate limit, shared by workers.

    Kept in the database (not in a worker's memory) so that the limit holds however many workers serve the
    page; old windows are deleted as new ones start.
    """

    __tablename__ = "verify_hit"
    __table_args__ = (sa.CheckConstraint("hits >= 1", name="hits_positive"),)

    client: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    window: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)  # epoch seconds // window length
    hits: Mapped[int] = mapped_column(default=1)
