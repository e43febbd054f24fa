"""The audit log is append-only and chained by hash."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from qa_app.audit.models import AuditEntry
from qa_app.audit.services import record, verify_chain
from qa_app.extensions import db


def test_chain_verifies_and_detects_tampering(app: Flask) -> None:
    with app.app_context():
        first = record("inspection.created", "inspection", 1, details={"facility": "Trạm Y tế xã Bản Giang"})
        second = record("inspection.submitted", "inspection", 1, details={"score": 91.5})
        db.session.commit()
        assert second.prev_hash == first.hash
        assert verify_chain() == []
        # Someone edits a row behind the application's back.
        with db.engine.begin() as conn:
            conn.execute(sa.update(AuditEntry).where(AuditEntry.id == first.id).values(action="inspection.deleted"))
        db.session.expire_all()
        problems = verify_chain()
        assert problems == [f"entry {first.id}: content does not match its hash"]


def test_entries_cannot_be_changed_or_deleted_through_the_orm(app: Flask) -> None:
    with app.app_context():
        entry = record("user.created", "user", 7)
        db.session.commit()
        entry.action = "user.deleted"
        with pytest.raises(PermissionError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, entry.id))
        with pytest.raises(PermissionError):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1
