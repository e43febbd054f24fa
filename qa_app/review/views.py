"""Finishing an inspection, drawn signatures, review decisions, history and corrective-action follow-up."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..audit.models import AuditEntry
from ..auth.models import User
from ..auth.services import facility_in_scope
from ..auth.views import login_required, roles_required
from ..checklists.schema import Checklist, Item
from ..extensions import db
from ..facilities.models import Facility
from ..i18n import local_today, pct
from ..inspections import services
from ..inspections.models import (
    Answer,
    CorrectiveAction,
    Inspection,
    Photo,
    ReviewComment,
    Signature,
    TeamMember,
)
from ..inspections.pages import (  # noqa: F401 (re-exported: api.sync words its refusals with _refusal_message)
    EDITORS,
    REFUSAL_STATUS,
    REVIEWERS,
    _form_url,
    _inspection_or_404,
    _lang,
    _refusal_message,
    _refuse,
    _wants_json,
    answer_label,
    classification_label,
    kind_label,
    status_label,
    team_role_label,
)
from ..inspections.services import WorkflowError
from ..scoring import Score
from .blueprint import bp
from .forms import (
    CommentForm,
    ReturnForm,
)

QUEUE_TABS = ("submitted", "returned", "approved")
QUEUE_LIMIT = 200


def _user_names(ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all())


# ---------------------------------------------------------------------------------------------- queue


@bp.get("/")
@roles_required(*REVIEWERS)
def queue() -> ResponseReturnValue:
    """Submitted inspections waiting for review (oldest first), returned ones and recently approved ones."""
    tab = request.args.get("tab", "submitted")
    if tab not in QUEUE_TABS:
        tab = "submitted"
    query = (services.inspections_in_scope(g.user)
             .options(joinedload(Inspection.facility), joinedload(Inspection.created_by))
             .where(Inspection.status == tab))
    if tab == "submitted":
        query = query.order_by(Inspection.submitted_at, Inspection.id)
    elif tab == "returned":
        query = query.order_by(Inspection.updated_at, Inspection.id)
    else:
        query = query.order_by(Inspection.approved_at.desc(), Inspection.id.desc())
    rows = db.session.scalars(query.limit(QUEUE_LIMIT)).all()
    counts = dict(db.session.execute(
        sa.select(Inspection.status, sa.func.count(Inspection.id))
        .join(Facility, Facility.id == Inspection.facility_id)
        .where(facility_in_scope(g.user), Inspection.status.in_(QUEUE_TABS))
        .group_by(Inspection.status)).all())
    return render_template("review/queue.html", tab=tab, tabs=QUEUE_TABS, rows=rows, counts=counts,
                           limit=QUEUE_LIMIT)


# ---------------------------------------------------------------------------------------------- inspection page


@dataclass
class ItemRow:
    """One applicable item as shown on the inspection page."""

    item: Item
    text: str
    answer: str
    answered: bool
    note: str
    failed: bool
    critical: bool
    photos: list[int] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    action: CorrectiveAction | None = None


@dataclass
class SectionRow:
    """One section: its result and its applicable items."""

    id: str
    title: str
    percent: float | None
    earned: float
    possible: float
    failed: int
    critical: int
    items: list[ItemRow]
    excluded: int


def _section_rows(inspection: Inspection, checklist: Checklist, score: Score,
                  answers: dict[str, Answer], photos: dict[str, list[int]],
                  comments: dict[str | None, list[dict[str, Any]]],
                  actions: dict[str, CorrectiveAction]) -> list[SectionRow]:
    lang = _lang()
    # Past draft, the stored results are the record (the pinned checklist makes them equal to a rescore).
    stored = ({r.section_id: r for r in inspection.section_results}
              if inspection.status in ("submitted", "approved") else {})
    rows = []
    for section, result in zip(checklist.sections, score.sections, strict=True):
        items = []
        excluded = 0
        for item in section.items:
            res = score.items[item.id]
            if not res.applicable:
                excluded += 1
                continue
            answer = answers.get(item.id)
            items.append(ItemRow(
                item=item, text=item.text.get(lang), answer=answer_label(item, answer.value if answer else None),
                answered=res.answered, note=answer.note if answer else "", failed=res.failed,
                critical=res.failed and res.critical, photos=photos.get(item.id, []),
                comments=comments.get(item.id, []), action=actions.get(item.id)))
        if not items:
            continue
        saved = stored.get(section.id)
        percent = float(saved.percent) if saved is not None and saved.percent is not None else result.percent
        rows.append(SectionRow(
            id=section.id, title=section.title.get(lang), percent=percent,
            earned=float(saved.earned) if saved is not None else float(result.earned),
            possible=float(saved.possible) if saved is not None else float(result.possible),
            failed=len(result.failed_items), critical=len(result.critical_failures), items=items,
            excluded=excluded))
    return rows


def _history(inspection: Inspection, checklist: Checklist, action_ids: list[int]) -> list[dict[str, Any]]:
    """The audit log of the inspection (and of its corrective actions) as readable lines, oldest first."""
    condition = sa.and_(AuditEntry.entity_type == "inspection", AuditEntry.entity_id == str(inspection.id))
    if action_ids:
        condition = sa.or_(condition, sa.and_(AuditEntry.entity_type == "corrective_action",
                                              AuditEntry.entity_id.in_([str(i) for i in action_ids])))
    entries = db.session.execute(
        sa.select(AuditEntry, User.full_name).outerjoin(User, User.id == AuditEntry.user_id)
        .where(condition).order_by(AuditEntry.id)).all()
    # A return writes its comment twice (the comment, then the return carrying it): show it once.
    return_comments = {(e.user_id, (e.details.get("comment") or "")[:500])
                       for e, _name in entries if e.action == "inspection.returned"}

    def label(item_id: object, value: object) -> str:
        try:
            return answer_label(checklist.item(str(item_id)), None if value is None else str(value))
        except KeyError:
            return str(value)

    lines = []
    for entry, name in entries:
        d = entry.details or {}
        detail = ""
        if entry.action == "inspection.started":
            text = _("Started the inspection")
            detail = str(d.get("checklist") or "")
        elif entry.action in ("inspection.submitted", "inspection.resubmitted"):
            overall = d.get("overall")
            score = pct(float(overall)) if overall not in (None, "", "None") else "—"
            if entry.action == "inspection.submitted":
                text = _("Submitted for review")
            else:
                text = _("Resubmitted after corrections")
            detail = f"{score} · {classification_label(d.get('classification'))}"
        elif entry.action == "inspection.returned":
            text = _("Returned to the supervisor")
            detail = str(d.get("comment") or "")
        elif entry.action == "inspection.approved":
            text = _("Approved")
        elif entry.action == "inspection.commented":
            body = str(d.get("body") or "")
            if d.get("item") is None and (entry.user_id, body[:500]) in return_comments:
                continue
            text = (_("Commented on item %(item)s", item=d["item"]) if d.get("item") else _("Commented"))
            detail = body
        elif entry.action == "answer.changed_after_return":
            item_id = d.get("item", "?")
            parts = []
            if "value" in d:
                if "old_value" in d:
                    parts.append(_("Changed the answer to item %(item)s from “%(old)s” to “%(new)s”",
                                   item=item_id, old=label(item_id, d["old_value"]), new=label(item_id, d["value"])))
                else:
                    parts.append(_("Changed the answer to item %(item)s to “%(new)s”", item=item_id,
                                   new=label(item_id, d["value"])))
            if "note" in d:
                parts.append(_("Changed the note of item %(item)s", item=item_id))
                detail = str(d.get("note") or "")
            text = "; ".join(parts) or _("Changed item %(item)s after the return", item=item_id)
        elif entry.action == "corrective_action.done":
            text = _("Closed the corrective action of item %(item)s", item=d.get("item", "?"))
            detail = str(d.get("evidence") or "")
        else:
            text = entry.action
        lines.append({"at": entry.at, "who": name or _("System"), "text": text, "detail": detail,
                      "action": entry.action})
    return lines


def _inspection_context(inspection: Inspection) -> dict[str, Any]:
    checklist = services.checklist_for(inspection)
    score = services.current_score(inspection)
    answers = services.answers_of(inspection)
    photos: dict[str, list[int]] = defaultdict(list)
    # Ids only: the image bytes are served one by one by the inspections blueprint.
    for photo_id, item_id in db.session.execute(
            sa.select(Photo.id, Photo.item_id).where(Photo.inspection_id == inspection.id)
            .order_by(Photo.id)):
        photos[item_id].append(photo_id)
    comment_rows = db.session.scalars(sa.select(ReviewComment).where(ReviewComment.inspection_id == inspection.id)
                                      .order_by(ReviewComment.created_at, ReviewComment.id)).all()
    names = _user_names({c.author_id for c in comment_rows} | {inspection.submitted_by_id, inspection.approved_by_id})
    comments: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for c in comment_rows:
        comments[c.item_id].append({"body": c.body, "author": names.get(c.author_id, ""), "at": c.created_at,
                                    "item_id": c.item_id})
    action_rows = db.session.scalars(sa.select(CorrectiveAction).where(
        CorrectiveAction.inspection_id == inspection.id).order_by(CorrectiveAction.item_id)).all()
    actions = {a.item_id: a for a in action_rows}
    team = db.session.scalars(sa.select(TeamMember).where(TeamMember.inspection_id == inspection.id)
                              .order_by(TeamMember.position_order, TeamMember.id)).all()
    signatures = db.session.execute(
        sa.select(Signature.role, Signature.member_key, Signature.signer_name, Signature.signed_at, Signature.id)
        .where(Signature.inspection_id == inspection.id)).all()
    from ..minutes.content import signers

    # Who signs: the head, the facility representative, then every other named member (signer keys).
    signer_rows = [("head", "head"), ("facility_rep", "facility_rep")] + [
        (key, member.role) for key, member in signers(inspection) if member.role not in ("head", "facility_rep")]
    sections = _section_rows(inspection, checklist, score, answers, photos, comments, actions)
    user = g.user
    reviewer = services.can_review(user, inspection)
    lang = _lang()
    return {
        "inspection": inspection, "checklist": checklist, "score": score, "sections": sections,
        "item_texts": {i.id: i.text.get(lang) for i in checklist.items},
        "general_comments": comments.get(None, []), "comment_count": len(comment_rows),
        "commented_items": [i.id for i in checklist.items if i.id in comments],
        "actions": action_rows, "team": team, "signatures": {s.member_key or s.role: s for s in signatures},
        "signer_rows": signer_rows,
        "history": _history(inspection, checklist, [a.id for a in action_rows]),
        "sha256": inspection.checklist_sha256 or inspection.checklist_version.sha256,
        "version_label": services.version_label(inspection.checklist_version),
        "submitted_by": names.get(inspection.submitted_by_id or 0, ""),
        "approved_by": names.get(inspection.approved_by_id or 0, ""),
        "can_edit": services.can_edit(user, inspection),
        "can_decide": reviewer and inspection.status == "submitted",
        "can_comment": reviewer and inspection.status in ("submitted", "returned"),
        "form_url": _form_url(inspection),
        "today": local_today(),
        # Approval issues the signed minutes; the record page is where people look for them.
        "minutes_url": (url_for("minutes.download", inspection_id=inspection.id)
                        if inspection.status == "approved" and _has_minutes(inspection.id) else None),
        # Before filing, the record of the visit (no number yet); a self-assessment's form at any time after.
        "record_url": (url_for("minutes.record", inspection_id=inspection.id)
                       if inspection.status != "draft" and (inspection.kind == "self"
                                                            or inspection.status != "approved") else None),
        "record_is_self": inspection.kind == "self",
    }


def _has_minutes(inspection_id: int) -> bool:
    from ..minutes.models import Minutes  # the minutes package imports the inspection services

    return db.session.scalar(sa.select(Minutes.id).where(Minutes.inspection_id == inspection_id)) is not None


@bp.get("/inspections/<int:inspection_id>")
@login_required
def inspection(inspection_id: int) -> ResponseReturnValue:
    """An inspection as recorded: scores, answers, photos, actions, team, signatures, comments and history."""
    inspection = _inspection_or_404(inspection_id)
    return render_template("inspections/view.html", **_inspection_context(inspection))


# ---------------------------------------------------------------------------------------------- review decisions


@bp.post("/inspections/<int:inspection_id>/comments")
@roles_required(*REVIEWERS)
def comment(inspection_id: int) -> ResponseReturnValue:
    """Add a reviewer's comment on the inspection or one item (submitted or returned inspections)."""
    inspection = _inspection_or_404(inspection_id)
    if not services.can_review(g.user, inspection):
        abort(403)
    if inspection.status not in ("submitted", "returned"):
        return _refuse(WorkflowError("bad_transition", "no comments on this status"), inspection,
                       _("Comments can only be added while an inspection is under review; this one is %(status)s.",
                         status=status_label(inspection.status)))
    form = CommentForm()
    if not form.validate():
        return _refuse(WorkflowError("bad_comment", "invalid comment"), inspection,
                       _("The comment is too long."))
    try:
        services.add_comment(inspection, g.user, form.body.data or "", item_id=form.item_id.data or None)
    except WorkflowError as exc:
        message = _("The comment is empty.") if exc.code == "comment_required" else None
        return _refuse(exc, inspection, message)
    db.session.commit()
    if _wants_json():
        return jsonify(ok=True, status=inspection.status), 201
    flash(_("Comment added."), "success")
    anchor = f"item-{form.item_id.data}" if form.item_id.data else "comments"
    return redirect(url_for(".inspection", inspection_id=inspection.id, _anchor=anchor))


def _seen_revision() -> int | None:
    """The inspection revision the decision form was built from (optional for scripts; pages always send it)."""
    value: object = request.form.get("revision")
    if request.is_json:
        body = request.get_json(silent=True)
        value = body.get("revision") if isinstance(body, dict) else None
    try:
        return int(value) if value not in (None, "") else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return -1  # never a real revision: a garbled field is refused as a conflict, never skips the check


def _approval_confirmed() -> bool:
    """The reviewer confirmed the approval: the ticked box (``confirm=1``) or ``"confirm": true`` from a script."""
    if request.is_json:
        body = request.get_json(silent=True)
        return isinstance(body, dict) and body.get("confirm") is True
    return request.form.get("confirm") == "1"


@bp.post("/inspections/<int:inspection_id>/approve")
@roles_required(*REVIEWERS)
def approve(inspection_id: int) -> ResponseReturnValue:
    """Approve a submitted inspection (final)."""
    inspection = _inspection_or_404(inspection_id)
    # Approving files the minutes and cannot be undone, so the page's "I have checked…" tick is required here too,
    # not only by the browser. Only when it would approve: any other status, or a user who may not review this
    # inspection, keeps its own refusal.
    if (inspection.status == "submitted" and services.can_review(g.user, inspection)
            and not _approval_confirmed()):
        return _refuse(WorkflowError("confirmation_required", "approval not confirmed"), inspection,
                       _("Tick “I have checked the inspection” to approve it. Nothing was approved."))
    try:
        services.approve(inspection, g.user, seen_revision=_seen_revision())
    except WorkflowError as exc:
        return _refuse(exc, inspection)
    db.session.commit()
    if _wants_json():
        return jsonify(ok=True, status=inspection.status)
    flash(_("The inspection is approved."), "success")
    return redirect(url_for(".inspection", inspection_id=inspection.id))


@bp.post("/inspections/<int:inspection_id>/return", endpoint="return_inspection")
@roles_required(*REVIEWERS)
def return_(inspection_id: int) -> ResponseReturnValue:
    """Return a submitted inspection to the supervisor with a mandatory comment."""
    inspection = _inspection_or_404(inspection_id)
    form = ReturnForm()
    if not form.validate():
        return _refuse(WorkflowError("bad_comment", "invalid comment"), inspection, _("The comment is too long."))
    try:
        services.return_inspection(inspection, g.user, form.comment.data or "", seen_revision=_seen_revision())
    except WorkflowError as exc:
        message = (_("Write a comment saying what must be corrected: an inspection cannot be returned without one.")
                   if exc.code == "comment_required" else None)
        return _refuse(exc, inspection, message)
    db.session.commit()
    if _wants_json():
        return jsonify(ok=True, status=inspection.status)
    flash(_("The inspection was returned to the supervisor."), "success")
    return redirect(url_for(".inspection", inspection_id=inspection.id))


