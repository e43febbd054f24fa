"""Writing to the audit log beside the change it records (flush, never commit)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..extensions import db, utcnow
from .models import AuditEntry, entry_hash

GENESIS = "0" * 64


def record(action: str, entity_type: str, entity_id: object, *, user_id: int | None = None,
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry chained to the latest one; flushes, the caller commits."""
    prev = db.session.scalar(sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    at = utcnow()
    details = details or {}
    entry = AuditEntry(at=at, user_id=user_id, action=action, entity_type=entity_type, entity_id=str(entity_id),
                       details=details, prev_hash=prev,
                       hash=entry_hash(prev, at, user_id, action, entity_type, str(entity_id), details))
    db.session.add(entry)
    db.session.flush()
    return entry


def verify_chain() -> list[str]:
    """Re-hash every entry in order; return a problem per broken link (empty when intact)."""
    problems: list[str] = []
    prev = GENESIS
    for entry in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        expected = entry_hash(entry.prev_hash, entry.at, entry.user_id, entry.action, entry.entity_type,
                              entry.entity_id, entry.details)
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.id}: previous hash does not match entry before it")
        if entry.hash != expected:
            problems.append(f"entry {entry.id}: content does not match its hash")
        prev = entry.hash
    return problems
