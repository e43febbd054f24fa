"""Finishing an inspection at the visit: the team, the drawn signatures, the corrective actions, the
facility's opinion, the decision establishing the team and the conclusion; then following the actions up.
Every write is guarded like an answer (``inspections.editing``). Re-exported by ``inspections.services``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from ..audit.services import record
from ..auth.models import User
from ..extensions import db, utcnow
from .editing import _bump, _clean, _content_changed, _require_editable, facility_visible
from .models import (
    CorrectiveAction,
    Inspection,
    Signature,
    TeamMember,
)
from .photos import process_photo

# The read helpers live below this module and minutes.services both; re-exported for existing callers.
from .reading import WorkflowError, answers_of, checklist_for, profile_of  # noqa: F401

# ---------------------------------------------------------------------------------------------- finishing


def set_team(inspection: Inspection, members: Iterable[Mapping[str, str]], user: User) -> list[TeamMember]:
    """Replace the team and facility representatives; needs one head and one facility representative."""
    _require_editable(inspection, user)
    rows: list[TeamMember] = []
    for order, member in enumerate(members):
        role = (member.get("role") or "").strip()
        name = _clean(member.get("full_name") or "")
        if not name:
            continue
        if role not in ("head", "deputy", "member", "secretary", "facility_rep"):
            raise WorkflowError("bad_team", _("unknown team role “%(role)s”", role=role))
        if len(name) > 120 or len(member.get("position") or "") > 160:
            raise WorkflowError("bad_team", _("the name or position of “%(name)s” is too long", name=name[:40]))
        rows.append(TeamMember(inspection_id=inspection.id, role=role, full_name=name,
                               position=_clean(member.get("position") or ""), position_order=order))
    for role, message in (("head", _("name exactly one head of the team")),
                          ("facility_rep", _("name exactly one facility representative"))):
        if sum(1 for r in rows if r.role == role) != 1:
            raise WorkflowError("bad_team", message)
    _bump(inspection, user)
    db.session.execute(sa.delete(TeamMember).where(TeamMember.inspection_id == inspection.id))
    db.session.add_all(rows)
    db.session.flush()
    _content_changed(inspection, user)
    return rows


def save_signature(inspection: Inspection, role: str, signer_name: str, png: bytes, strokes: list,
                   user: User) -> Signature:
    """Store a drawn signature; an empty pad (no strokes) is refused.

    ``role`` is the signer key of a team member (``signer_keys``: "head", "secretary", "member-2", …); the head
    and the facility representative may sign before the team is saved.
    """
    _require_editable(inspection, user)
    from ..minutes.content import signers

    key = role
    named = dict(signers(inspection))
    if key in named:
        role = named[key].role
    elif key not in ("head", "facility_rep"):
        raise WorkflowError("bad_signature", _("unknown signer “%(role)s”: no such member in the team", role=key))
    if not isinstance(strokes, list) or not any(isinstance(s, list) and len(s) >= 2 for s in strokes):
        raise WorkflowError("bad_signature", _("the signature pad is empty: please sign before saving"))
    if sum(len(s) for s in strokes if isinstance(s, list)) > 20_000:
        raise WorkflowError("bad_signature", _("the signature has too many points"))
    image = process_photo(png, max_side=800)
    signer_name = _clean(signer_name or "")
    if not signer_name:
        raise WorkflowError("bad_signature", _("the signer's name is required"))
    _bump(inspection, user)
    db.session.execute(sa.delete(Signature).where(Signature.inspection_id == inspection.id,
                                                  Signature.member_key == key))
    # Keep the PNG as drawn (transparent strokes) when it is a PNG; photos go through JPEG.
    from ..minutes.content import content_sha256

    sig = Signature(inspection_id=inspection.id, role=role, member_key=key, signer_name=signer_name[:120],
                    png=png if png.startswith(b"\x89PNG") else image.data, strokes=strokes,
                    content_sha256=content_sha256(inspection))
    db.session.add(sig)
    db.session.flush()
    return sig


def set_corrective_actions(inspection: Inspection, actions: Iterable[Mapping[str, object]],
                           user: User) -> list[CorrectiveAction]:
    """Replace the corrective actions of an editable inspection (what, who, deadline per failed item)."""
    _require_editable(inspection, user)
    checklist = checklist_for(inspection)
    rows = []
    for entry in actions:
        item_id = str(entry.get("item_id") or "")
        try:
            checklist.item(item_id)
        except KeyError:
            raise WorkflowError("bad_action", _("item %(item)s is not in this checklist", item=item_id)) from None
        what = _clean(str(entry.get("action") or ""))
        who = _clean(str(entry.get("responsible") or ""))
        deadline = entry.get("deadline")
        if isinstance(deadline, str):
            try:
                deadline = dt.date.fromisoformat(deadline)
            except ValueError:
                raise WorkflowError("bad_action", _("item %(item)s: “%(deadline)s” is not a date", item=item_id,
                                                      deadline=deadline)) from None
        if not what or not who or not isinstance(deadline, dt.date):
            raise WorkflowError("bad_action", _("item %(item)s: say what must be done, by whom and by when",
                                                  item=item_id))
        if deadline < inspection.inspection_date:
            raise WorkflowError("bad_action", _("item %(item)s: the deadline is before the inspection", item=item_id))
        rows.append(CorrectiveAction(inspection_id=inspection.id, facility_id=inspection.facility_id,
                                     item_id=item_id, action=what[:4000], responsible=who[:160], deadline=deadline))
    _bump(inspection, user)
    db.session.execute(sa.delete(CorrectiveAction).where(CorrectiveAction.inspection_id == inspection.id))
    db.session.add_all(rows)
    db.session.flush()
    _content_changed(inspection, user)
    return rows


def set_facility_opinion(inspection: Inspection, opinion: str, user: User, *, no_opinion: bool = False) -> None:
    """Record the inspected facility's opinion (ý kiến của cơ sở), or its explicit choice to give none."""
    _require_editable(inspection, user)
    opinion = _clean(opinion or "")
    if len(opinion) > 4000:
        raise WorkflowError("bad_opinion", "the facility's opinion is longer than 4000 characters")
    if opinion and no_opinion:
        raise WorkflowError("bad_opinion", "either write the facility's opinion or record that it has none")
    if opinion != inspection.facility_opinion or bool(no_opinion) != bool(inspection.facility_no_opinion):
        inspection.facility_opinion = opinion
        inspection.facility_no_opinion = bool(no_opinion)
        _bump(inspection, user)
        db.session.flush()
        _content_changed(inspection, user)


def set_team_decision(inspection: Inspection, number: str, on: dt.date | None, issuer: str, user: User) -> None:
    """Record the decision establishing the team (số, ngày, cơ quan ban hành); all three, or none to clear."""
    _require_editable(inspection, user)
    number, issuer = _clean(number or ""), _clean(issuer or "")
    if (number or issuer or on) and not (number and issuer and on):
        raise WorkflowError("bad_decision", "give the decision's number, date and issuing body together")
    if len(number) > 60 or len(issuer) > 200:
        raise WorkflowError("bad_decision", "the decision number (60) or issuing body (200) is too long")
    if on is not None and on > inspection.inspection_date:
        raise WorkflowError("bad_decision", "the team was established after the inspection date")
    if (number, on, issuer) != (inspection.team_decision_number, inspection.team_decision_date,
                                inspection.team_decision_issuer):
        inspection.team_decision_number, inspection.team_decision_date = number, on
        inspection.team_decision_issuer = issuer
        _bump(inspection, user)
        db.session.flush()
        _content_changed(inspection, user)


def set_conclusion(inspection: Inspection, strengths: str, shortcomings: str, user: User) -> None:
    """The team's Kết luận: strengths (ưu điểm) and shortcomings (tồn tại, hạn chế), as written."""
    _require_editable(inspection, user)
    strengths, shortcomings = _clean(strengths or ""), _clean(shortcomings or "")
    if len(strengths) > 4000 or len(shortcomings) > 4000:
        raise WorkflowError("bad_conclusion", "a conclusion field is longer than 4000 characters")
    if (strengths, shortcomings) != (inspection.conclusion_strengths, inspection.conclusion_shortcomings):
        inspection.conclusion_strengths, inspection.conclusion_shortcomings = strengths, shortcomings
        _bump(inspection, user)
        db.session.flush()
        _content_changed(inspection, user)


def default_deadline(inspection: Inspection) -> dt.date:
    """The checklist's default corrective deadline (conditional class) counted from the inspection date."""
    return inspection.inspection_date + dt.timedelta(days=checklist_for(inspection).scoring.corrective_days)


def mark_action_done(action: CorrectiveAction, evidence: str, user: User) -> CorrectiveAction:
    """Close a corrective action with the evidence that it was done."""
    if action.status == "done":
        raise WorkflowError("already_done", "this corrective action is already closed")
    evidence = _clean(evidence or "")
    if not evidence:
        raise WorkflowError("bad_evidence", "describe the evidence that the action was done")
    if not facility_visible(user, action.facility_id):
        raise WorkflowError("forbidden", "you may not change this facility's actions")
    # Compare-and-set: of two people closing the action at once, one wins and the other gets "already_done"; the
    # inspection must still be past editing (a return reopens its actions for editing).
    now = utcnow()
    under_review = sa.select(Inspection.id).where(Inspection.id == CorrectiveAction.inspection_id,
                                                   Inspection.status.in_(("submitted", "approved"))).exists()
    changed = db.session.execute(
        sa.update(CorrectiveAction)
        .where(CorrectiveAction.id == action.id, CorrectiveAction.status == "open", under_review)
        .values(status="done", evidence=evidence[:4000], done_at=now, done_by_id=user.id)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise WorkflowError("already_done", "this corrective action was closed (or its inspection returned) meanwhile")
    for key, value in (("status", "done"), ("evidence", evidence[:4000]), ("done_at", now), ("done_by_id", user.id)):
        set_committed_value(action, key, value)
    record("corrective_action.done", "corrective_action", action.id, user_id=user.id,
           details={"inspection_id": action.inspection_id, "item": action.item_id, "evidence": evidence[:500]})
    return action


def open_actions(facility_id: int) -> list[CorrectiveAction]:
    """Open corrective actions of a facility, oldest deadline first."""
    return list(db.session.scalars(
        sa.select(CorrectiveAction).join(Inspection)
        .where(CorrectiveAction.facility_id == facility_id, CorrectiveAction.status == "open",
               Inspection.status.in_(("submitted", "approved")))
        .order_by(CorrectiveAction.deadline)))


def previous_inspection(inspection: Inspection) -> Inspection | None:
    """The facility's latest submitted or approved inspection before this one."""
    return db.session.scalar(
        sa.select(Inspection)
        .where(Inspection.facility_id == inspection.facility_id, Inspection.id != inspection.id,
               Inspection.status.in_(("submitted", "approved")),
               Inspection.inspection_date <= inspection.inspection_date)
        .order_by(Inspection.inspection_date.desc(), Inspection.id.desc()).limit(1))
