"""Writing to the audit log beside the change it records (flush, never commit), checkpoints, and verification.

Three layers, each catching what the one before cannot:

1. The hash chain (``prev_hash`` → ``hash``) shows an entry edited in place.
2. The HMAC of each entry's hash, with a key kept outside the database (``QA_AUDIT_HMAC_KEY`` or
   ``instance/audit/hmac_key``), shows a chain rewritten and re-hashed from some entry on: whoever can write the
   table can recompute SHA-256, not the HMAC.
3. Checkpoints ("the log had N entries ending with hash H", signed with the same key), stored in the database AND
   appended to a file outside it, and the head recorded by every filed minutes, show entries deleted from the end:
   a trimmed log is still a valid chain, but it ends before a number something outside it remembers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db, utcnow
from .models import AuditCheckpoint, AuditEntry, AuditHead, entry_hash

GENESIS = "0" * 64
HEAD_ID = 1
_PENDING = "audit_checkpoint_lines"


# ---------------------------------------------------------------------------------------------- keys and files


def audit_key() -> bytes:
    """The HMAC key: configuration (QA_AUDIT_HMAC_KEY), else generated once into instance/audit/hmac_key (0600)."""
    configured = current_app.config.get("AUDIT_HMAC_KEY")
    if configured:
        return str(configured).encode()
    folder = Path(current_app.instance_path) / "audit"
    path = folder / "hmac_key"
    if path.exists():
        return path.read_text().strip().encode()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first: use theirs
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key.encode()


def checkpoint_file() -> Path:
    """Where checkpoints are appended outside the database (QA_AUDIT_CHECKPOINT_FILE, else instance/audit/)."""
    configured = current_app.config.get("AUDIT_CHECKPOINT_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit" / "checkpoints.jsonl"


def entry_mac(key: bytes, hash_: str) -> str:
    """HMAC-SHA256 of an entry's hash (the hash already covers its content and its predecessor)."""
    return hmac.new(key, f"entry:{hash_}".encode(), hashlib.sha256).hexdigest()


def checkpoint_mac(key: bytes, seq: int, head_hash: str, at: dt.datetime) -> str:
    """HMAC-SHA256 of a checkpoint's statement."""
    stamp = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return hmac.new(key, f"checkpoint:{seq}:{head_hash}:{stamp}".encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------------- writing


def _lock_head() -> tuple[int, str]:
    """Lock the head row for the rest of the transaction and return (number, hash) of the newest entry."""
    touch = (sa.update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq)
             .returning(AuditHead.seq, AuditHead.hash).execution_options(synchronize_session=False))
    for _attempt in range(3):
        row = db.session.execute(touch).one_or_none()
        if row is not None:
            return int(row.seq), str(row.hash)
        # No head yet (a new database): start it from the log as it stands; a concurrent creator makes us loop.
        last = db.session.execute(sa.select(AuditEntry.seq, AuditEntry.hash)
                                  .order_by(AuditEntry.id.desc()).limit(1)).one_or_none()
        count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) or 0
        try:
            with db.session.begin_nested():
                db.session.add(AuditHead(id=HEAD_ID, seq=(last.seq if last and last.seq else count),
                                         hash=last.hash if last else GENESIS))
        except sa.exc.IntegrityError:
            continue
    raise RuntimeError("could not lock the audit log's head")


def record(action: str, entity_type: str, entity_id: object, *, user_id: int | None = None,
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry chained to the latest one; flushes, the caller commits.

    The head row is locked first, so concurrent transactions append one after the other (no fork in the chain,
    no gap in the numbers). Every ``AUDIT_CHECKPOINT_EVERY`` entries a signed checkpoint is written too.
    """
    seq, prev = _lock_head()
    seq += 1
    at = utcnow()
    details = details or {}
    digest = entry_hash(prev, at, user_id, action, entity_type, str(entity_id), details)
    key = audit_key()
    entry = AuditEntry(at=at, user_id=user_id, action=action, entity_type=entity_type, entity_id=str(entity_id),
                       details=details, prev_hash=prev, hash=digest, seq=seq, mac=entry_mac(key, digest))
    db.session.add(entry)
    db.session.flush()
    db.session.execute(sa.update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=seq, hash=digest)
                       .execution_options(synchronize_session=False))
    every = int(current_app.config.get("AUDIT_CHECKPOINT_EVERY") or 0)
    if every > 0 and seq % every == 0:
        _write_checkpoint(seq, digest, key)
    return entry


def head() -> tuple[int, str]:
    """(number, hash) of the newest entry, locking the head until the transaction ends (minutes filing)."""
    return _lock_head()


def write_checkpoint() -> AuditCheckpoint:
    """A checkpoint of the log as it stands now (``flask audit checkpoint``, e.g. from cron); flush only."""
    seq, digest = _lock_head()
    return _write_checkpoint(seq, digest, audit_key())


def _write_checkpoint(seq: int, digest: str, key: bytes) -> AuditCheckpoint:
    at = utcnow()
    checkpoint = AuditCheckpoint(at=at, seq=seq, head_hash=digest, mac=checkpoint_mac(key, seq, digest, at))
    db.session.add(checkpoint)
    db.session.flush()
    # Appended to the file only once the transaction commits: a rolled-back checkpoint never reaches it.
    db.session.info.setdefault(_PENDING, []).append(
        (checkpoint_file(), {"id": checkpoint.id, "seq": seq, "head_hash": digest,
                             "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
                             "mac": checkpoint.mac}))
    return checkpoint


@event.listens_for(Session, "after_commit")
def _append_checkpoints(session: Session) -> None:
    for path, line in session.info.pop(_PENDING, []):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, sort_keys=True) + "\n")


@event.listens_for(Session, "after_rollback")
def _drop_checkpoints(session: Session) -> None:
    session.info.pop(_PENDING, None)


# ---------------------------------------------------------------------------------------------- verifying


@dataclass
class Report:
    """What `flask audit verify` found."""

    entries: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)


def _ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 9] → "3–5, 9"."""
    parts: list[str] = []
    start = prev = None
    for n in sorted(numbers):
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = prev = n
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}–{prev}")
    return ", ".join(parts)


def _file_checkpoints(path: Path, problems: list[str]) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
            rows.append({"id": int(row["id"]), "seq": int(row["seq"]), "head_hash": str(row["head_hash"]),
                         "at": dt.datetime.fromisoformat(row["at"]), "mac": str(row["mac"]), "line": number})
        except (ValueError, KeyError, TypeError):
            problems.append(f"checkpoint file {path} line {number}: not a checkpoint")
    return rows


def verify_log() -> Report:
    """Check the chain, the entries' HMACs, the checkpoints (database and file) and the minutes' recorded heads."""
    from ..minutes.models import Minutes  # the minutes import services that import this module

    key = audit_key()
    report = Report()
    problems = report.problems
    stored = db.session.scalars(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all()
    from_file = _file_checkpoints(checkpoint_file(), problems)
    minutes = db.session.execute(sa.select(Minutes.number, Minutes.unit_code, Minutes.year, Minutes.audit_seq,
                                           Minutes.audit_hash).where(Minutes.audit_seq.is_not(None))).all()
    wanted = {c.seq for c in stored} | {c["seq"] for c in from_file} | {m.audit_seq for m in minutes}
    hashes: dict[int, str] = {}

    prev, last_seq, authenticated = GENESIS, 0, False
    bad_mac: list[int] = []
    for entry in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        report.entries += 1
        number = entry.seq if entry.seq is not None else last_seq + 1
        if entry.seq is not None and entry.seq != last_seq + 1:
            if entry.seq > last_seq + 1:
                problems.append(f"entries {_ranges(list(range(last_seq + 1, entry.seq)))} are missing: deleted "
                                f"before entry {entry.seq}")
            else:
                problems.append(f"entry {entry.seq}: numbered out of order (after entry {last_seq})")
        if entry.prev_hash != prev:
            problems.append(f"entry {number}: previous hash does not match the entry before it")
        expected = entry_hash(entry.prev_hash, entry.at, entry.user_id, entry.action, entry.entity_type,
                              entry.entity_id, entry.details)
        if entry.hash != expected:
            problems.append(f"entry {number}: content does not match its hash")
        if entry.mac is not None:
            authenticated = True
            if not hmac.compare_digest(entry.mac, entry_mac(key, entry.hash)):
                bad_mac.append(number)
        elif authenticated:
            bad_mac.append(number)  # an HMAC removed to hide a rewrite
        if number in wanted:
            hashes[number] = entry.hash
        prev, last_seq = entry.hash, number
    if bad_mac:
        which = f"entry {bad_mac[0]}" if len(bad_mac) == 1 else f"entries {_ranges(bad_mac)}"
        problems.append(f"{which}: HMAC does not match: rewritten and re-hashed (or the HMAC key is not the one "
                        "it was written with)")

    def check_head(where: str, seq: int, head_hash: str) -> None:
        if seq > last_seq:
            problems.append(f"{where} counts {seq} entries but the log ends at entry {last_seq}: entries "
                            f"{_ranges(list(range(last_seq + 1, seq + 1)))} were deleted")
        elif hashes.get(seq) != head_hash:
            problems.append(f"{where}: entry {seq} is not the one it recorded: the chain was rewritten up to there")

    stored_ids = set()
    for checkpoint in stored:
        report.checkpoints += 1
        stored_ids.add(checkpoint.id)
        if not hmac.compare_digest(checkpoint.mac, checkpoint_mac(key, checkpoint.seq, checkpoint.head_hash,
                                                                  checkpoint.at)):
            problems.append(f"checkpoint {checkpoint.id} (entry {checkpoint.seq}): its signature does not match: "
                            "forged or edited")
            continue
        check_head(f"checkpoint {checkpoint.id}", checkpoint.seq, checkpoint.head_hash)
    for row in from_file:
        if not hmac.compare_digest(row["mac"], checkpoint_mac(key, row["seq"], row["head_hash"], row["at"])):
            problems.append(f"checkpoint file line {row['line']}: its signature does not match: forged or edited")
            continue
        if row["id"] not in stored_ids:
            problems.append(f"checkpoint {row['id']} (entry {row['seq']}) is in the checkpoint file but missing "
                            "from the database: deleted")
            check_head(f"checkpoint {row['id']} (file)", row["seq"], row["head_hash"])
    for m in minutes:
        check_head(f"minutes {m.number:02d}/BB-{m.unit_code}/{m.year} (filed at entry {m.audit_seq})",
                   m.audit_seq, m.audit_hash)
    head_row = db.session.get(AuditHead, HEAD_ID)
    if head_row is not None and head_row.seq > last_seq:
        problems.append(f"the log's head counts {head_row.seq} entries but the log ends at entry {last_seq}: "
                        f"entries {_ranges(list(range(last_seq + 1, head_row.seq + 1)))} were deleted")
    return report


def verify_chain() -> list[str]:
    """Every problem found (empty when intact); see verify_log."""
    return verify_log().problems
