"""Append-only audit log; each entry is chained to the previous one by hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..extensions import UTCDateTime, db, intpk, utcnow


class AuditEntry(db.Model):
    """Who did what to which record, and when; never updated or deleted."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_entry_entity", "entity_type", "entity_id"),
        sa.CheckConstraint("length(hash) = 64", name="hash_length"),
    )

    id: Mapped[intpk]
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(sa.String(40))
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str] = mapped_column(sa.String(64))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    # The entry's number: 1, 2, 3… without gaps (ids have gaps on PostgreSQL), so a deleted entry is a missing
    # number. Empty only for entries written before numbering (they are numbered by the migration).
    seq: Mapped[int | None] = mapped_column(unique=True)
    # HMAC-SHA256 of ``hash`` with a key kept outside the database: whoever can write the table cannot
    # recompute it after rewriting an entry. Empty for entries written before keys existed.
    mac: Mapped[str | None] = mapped_column(sa.String(64))


class AuditHead(db.Model):
    """The one row holding the newest entry's number and hash.

    Every append locks it first (UPDATE … RETURNING), so concurrent transactions chain one after the other instead
    of both chaining to the same predecessor, and the numbers have no gaps.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditCheckpoint(db.Model):
    """A signed statement "the log had ``seq`` entries ending with ``head_hash``", also appended to a file."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[intpk]
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seq: Mapped[int]
    head_hash: Mapped[str] = mapped_column(sa.String(64))
    mac: Mapped[str] = mapped_column(sa.String(64))


def entry_hash(prev_hash: str, at: dt.datetime, user_id: int | None, action: str, entity_type: str,
               entity_id: str, details: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and this entry's canonical content."""
    payload = json.dumps(
        [prev_hash, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), user_id, action, entity_type,
         entity_id, details],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: Any, instances: Any) -> None:
    # The log is evidence: the application may add to it, never rewrite it.
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise PermissionError("audit entries are append-only")
