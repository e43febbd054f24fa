"""Someone with write access to the database trims, rewrites or un-checkpoints the audit log: `flask audit verify`
exits 1 and names the entries. On a SQLite file, or on PostgreSQL when QA_TEST_DATABASE_URL names one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from qa_app.audit.models import AuditCheckpoint, AuditEntry, AuditHead, entry_hash
from qa_app.audit.services import record
from qa_app.extensions import db

from .conftest import make_app, reset_schema

ENTRIES = 23  # checkpoints after entries 5, 10, 15 and 20


@pytest.fixture
def log_app(tmp_path: Path) -> Iterator[Flask]:
    url = os.environ.get("QA_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url, AUDIT_CHECKPOINT_EVERY=5)
    with app.app_context():
        reset_schema()
        db.create_all()
        for n in range(1, ENTRIES + 1):
            record("inspection.commented", "inspection", n % 4, details={"body": f"ý kiến {n}"})
            db.session.commit()  # one transaction per entry, as requests write them
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
        db.engine.dispose()


def verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def tamper(app: Flask, *statements: sa.Executable) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(statement)
        db.session.remove()


def test_an_intact_log_verifies(log_app: Flask) -> None:
    code, output = verify(log_app)
    assert code == 0, output
    assert f"{ENTRIES} audit entries checked, 0 problem(s) (4 checkpoints" in output
    lines = (Path(log_app.instance_path) / "audit" / "checkpoints.jsonl").read_text().splitlines()
    assert len(lines) == 4  # the file outside the database holds the same checkpoints


def test_deleting_the_newest_entries_is_reported_with_their_numbers(log_app: Flask) -> None:
    tamper(log_app, sa.delete(AuditEntry).where(AuditEntry.seq > 18))
    code, output = verify(log_app)
    assert code == 1
    assert "checkpoint 4 counts 20 entries but the log ends at entry 18: entries 19–20 were deleted" in output
    assert "the log's head counts 23 entries but the log ends at entry 18: entries 19–23 were deleted" in output
    # Covering the tracks in the database too (head row, checkpoint rows) still leaves the checkpoint file.
    tamper(log_app, sa.delete(AuditCheckpoint).where(AuditCheckpoint.seq > 18),
           sa.update(AuditHead).values(seq=18))
    code, output = verify(log_app)
    assert code == 1
    assert "checkpoint 4 (entry 20) is in the checkpoint file but missing from the database" in output
    assert "checkpoint 4 (file) counts 20 entries but the log ends at entry 18: entries 19–20 were deleted" in output


def test_a_rewritten_and_rehashed_middle_entry_is_reported(log_app: Flask) -> None:
    # The attacker edits entry 7 and recomputes every hash after it with the application's own function.
    with log_app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        rows = [(e.id, e.seq, e.at, e.user_id, e.action, e.entity_type, e.entity_id, dict(e.details))
                for e in entries]
        db.session.remove()
    statements = []
    prev = "0" * 64
    for id_, seq, at, user_id, action, entity_type, entity_id, details in rows:
        if seq == 7:
            details = {"body": "ý kiến đã sửa"}
        digest = entry_hash(prev, at, user_id, action, entity_type, entity_id, details)
        statements.append(sa.update(AuditEntry).where(AuditEntry.id == id_)
                          .values(details=details, prev_hash=prev, hash=digest))
        prev = digest
    statements.append(sa.update(AuditHead).values(hash=prev))
    tamper(log_app, *statements)
    code, output = verify(log_app)
    assert code == 1
    assert "content does not match" not in output and "previous hash" not in output  # the chain itself holds
    assert "entries 7–23: HMAC does not match: rewritten and re-hashed" in output
    for checkpoint, seq in ((2, 10), (3, 15), (4, 20)):
        assert f"checkpoint {checkpoint}: entry {seq} is not the one it recorded" in output
    assert "checkpoint 1:" not in output  # entries 1–5 are untouched


def test_a_deleted_checkpoint_is_reported(log_app: Flask) -> None:
    tamper(log_app, sa.delete(AuditCheckpoint).where(AuditCheckpoint.seq == 10))
    code, output = verify(log_app)
    assert code == 1
    assert "checkpoint 2 (entry 10) is in the checkpoint file but missing from the database: deleted" in output


def test_a_forged_checkpoint_is_reported(log_app: Flask) -> None:
    tamper(log_app, sa.update(AuditCheckpoint).where(AuditCheckpoint.seq == 20).values(seq=18))
    code, output = verify(log_app)
    assert code == 1
    assert "checkpoint 4 (entry 18): its signature does not match: forged or edited" in output


def test_a_removed_hmac_is_reported(log_app: Flask) -> None:
    tamper(log_app, sa.update(AuditEntry).where(AuditEntry.seq == 22).values(mac=None))
    code, output = verify(log_app)
    assert code == 1 and "entry 22: HMAC does not match" in output


def test_minutes_remember_the_head_when_every_checkpoint_is_gone(app: Flask) -> None:
    from qa_app.minutes.models import Minutes

    from .web.test_minutes import build_approved

    build_approved(app)
    with app.app_context():
        minutes = db.session.scalars(sa.select(Minutes)).one()
        filed_at = minutes.audit_seq
        label = f"minutes {minutes.number:02d}/BB-{minutes.unit_code}/{minutes.year} (filed at entry {filed_at})"
        db.session.remove()
    assert verify(app)[0] == 0
    # Trim the log back before the minutes were filed, and the head row with it; no checkpoint was written.
    tamper(app, sa.delete(AuditEntry).where(AuditEntry.seq >= filed_at - 1),
           sa.update(AuditHead).values(seq=filed_at - 2))
    code, output = verify(app)
    assert code == 1
    assert f"{label} counts {filed_at} entries but the log ends at entry {filed_at - 2}" in output
