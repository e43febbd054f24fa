"""The frozen content of a visit record and the drawn signatures bound to it.

A drawn signature covers the content it was made over, identified by the SHA-256 of a canonical form of that
content (what the minutes print from the visit: facility, date, checklist, answers and notes, team, corrective
actions, facility opinion). When the content changes after someone signed (a reviewer's return lets the
supervisor edit off site), their signature is *voided*: it shows as void (the audit history records which
signature, which hashes), is never printed on the minutes, and submission and filing are refused until that
person signs again over the new content.
Re-signing was chosen over an addendum (biên bản bổ sung): the record stays one document that everyone who
signed it has seen whole.

``canonical_digest`` is pure; the rest reads the database (flush only, the caller commits).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from ..audit.services import record
from ..extensions import db, utcnow
from ..inspections.models import Answer, CorrectiveAction, Inspection, Signature, TeamMember, signer_keys

CONTENT_VERSION = 1  # bump when the canonical form changes (old hashes then no longer match anything)


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    if isinstance(value, Mapping):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


def canonical_digest(content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``content`` in a canonical JSON form: NFC text, sorted keys, no insignificant spaces."""
    text = json.dumps(_norm(content), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def team_decision_of(inspection: Inspection) -> tuple[str, dt.date | None, str]:
    """The decision establishing the team that the minutes cite: the inspection's own, else its round's.

    (number, date, issuing body), or ("", None, "") when neither records one.
    """
    if inspection.team_decision_number:
        return inspection.team_decision_number, inspection.team_decision_date, inspection.team_decision_issuer
    from ..rounds.services import round_of_inspection  # rounds import inspections: import here, not at the top

    rnd = round_of_inspection(inspection)
    if rnd is not None and rnd.team_decision_number:
        return rnd.team_decision_number, rnd.team_decision_date, rnd.team_decision_issuer
    return "", None, ""


def content_of(inspection: Inspection) -> dict[str, Any]:
    """What the visit record says, as plain data (signatures excluded: they are made over this)."""
    iid = inspection.id
    answers = db.session.execute(sa.select(Answer.item_id, Answer.value, Answer.note)
                                 .where(Answer.inspection_id == iid).order_by(Answer.item_id)).all()
    team = db.session.execute(sa.select(TeamMember.role, TeamMember.full_name, TeamMember.position)
                              .where(TeamMember.inspection_id == iid)
                              .order_by(TeamMember.position_order, TeamMember.id)).all()
    actions = db.session.execute(sa.select(CorrectiveAction.item_id, CorrectiveAction.action,
                                           CorrectiveAction.responsible, CorrectiveAction.deadline)
                                 .where(CorrectiveAction.inspection_id == iid)
                                 .order_by(CorrectiveAction.item_id, CorrectiveAction.id)).all()
    # The decision as cited, so a change of the round's decision also voids the signatures made under the old one.
    number, on, issuer = team_decision_of(inspection)
    return {
        "v": CONTENT_VERSION,
        "inspection": inspection.uuid,
        "facility": inspection.facility_id,
        "facility_type": inspection.facility_type,
        "date": inspection.inspection_date.isoformat(),
        "checklist": inspection.checklist_version_id,
        "answers": [[a.item_id, a.value, a.note or ""] for a in answers],
        "team": [[t.role, t.full_name, t.position or ""] for t in team],
        "actions": [[a.item_id, a.action, a.responsible, a.deadline.isoformat()] for a in actions],
        "opinion": inspection.facility_opinion or "",
        "no_opinion": bool(inspection.facility_no_opinion),
        "decision": [number or "", issuer or "", on.isoformat() if on else ""],
        "conclusion": [inspection.conclusion_strengths or "", inspection.conclusion_shortcomings or ""],
    }


def content_sha256(inspection: Inspection) -> str:
    """The hash of the inspection's current visit content."""
    db.session.flush()
    return canonical_digest(content_of(inspection))


def signature_valid(signature: Signature, current: str) -> bool:
    """A signature counts when it is not void and covers ``current`` (unbound rows from before: they count)."""
    if signature.voided_at is not None:
        return False
    return signature.content_sha256 is None or signature.content_sha256 == current


def void_stale_signatures(inspection: Inspection, user_id: int | None) -> list[str]:
    """Void every live signature whose content hash differs from the current content; one audit entry each."""
    live = list(db.session.scalars(sa.select(Signature).where(
        Signature.inspection_id == inspection.id, Signature.voided_at.is_(None),
        Signature.content_sha256.is_not(None))))
    if not live:
        return []
    current = content_sha256(inspection)
    voided = []
    now = utcnow()
    for sig in live:
        if sig.content_sha256 == current:
            continue
        # Compare-and-set: only a still-live row is voided (two requests never void it twice).
        done = db.session.execute(
            sa.update(Signature).where(Signature.id == sig.id, Signature.voided_at.is_(None))
            .values(voided_at=now).execution_options(synchronize_session="fetch")).rowcount
        if done:
            voided.append(sig.role)
            record("signature.voided", "inspection", inspection.id, user_id=user_id,
                   details={"role": sig.role, "member": sig.member_key,
                            "signer": sig.signer_name, "signed_content": sig.content_sha256,
                            "content": current, "status": inspection.status})
    return voided


def signers(inspection: Inspection) -> list[tuple[str, TeamMember]]:
    """Every named person who signs the record, in team order, with their signer key (``signer_keys``)."""
    team = list(db.session.scalars(sa.select(TeamMember).where(TeamMember.inspection_id == inspection.id)
                                   .order_by(TeamMember.position_order, TeamMember.id)))
    return list(zip(signer_keys([m.role for m in team]), team, strict=True))


def signature_problems(inspection: Inspection) -> list[tuple[str, str]]:
    """(signer key, 'missing' | 'void') for each signer whose signature does not cover the content.

    Every named person signs the record of the visit: the head of the team, the facility representative and every
    other team member (deputy, secretary, members). Submission asks for all of them, as filing does: both forms
    offer a pad per person, and they are all present at the visit, not when a reviewer files it weeks later.
    """
    current = content_sha256(inspection)
    sigs = {s.member_key or s.role: s
            for s in db.session.scalars(sa.select(Signature).where(Signature.inspection_id == inspection.id))}
    keys = [key for key, _member in signers(inspection)]
    others = [k for k in keys if k not in ("head", "facility_rep")]
    required = ["head", "facility_rep"] + others
    problems = []
    for key in required:
        sig = sigs.get(key)
        if sig is None:
            problems.append((key, "missing"))
        elif not signature_valid(sig, current):
            problems.append((key, "void"))
    return problems
