"""Finishing an inspection, drawn signatures, review decisions, history and corrective-action follow-up."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from sqlalchemy.orm import defer, joinedload
from werkzeug.routing import BuildError

from ..audit.models import AuditEntry
from ..auth.models import User
from ..auth.services import facility_in_scope
from ..auth.views import login_required, roles_required
from ..checklists.registry import checklist_of
from ..checklists.schema import MET, NA, NOT_MET, Checklist, Item
from ..extensions import db
from ..facilities.models import Facility
from ..i18n import date as i18n_date
from ..i18n import pct
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
from ..inspections.services import WorkflowError
from ..scoring import Score
from .forms import (
    DEFAULT_TEAM_ROLES,
    TEAM_ROLE_LABELS,
    ActionDoneForm,
    CommentForm,
    FinishForm,
    ReturnForm,
)

bp = Blueprint("review", __name__, url_prefix="/review")

REVIEWERS = ("reviewer", "provincial_manager", "admin")
EDITORS = ("supervisor", "admin")
QUEUE_TABS = ("submitted", "returned", "approved")
QUEUE_LIMIT = 200
ACTIONS_LIMIT = 500
SIGNATURE_ROLES = ("head", "facility_rep")
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
# HTTP status of a refused operation, by WorkflowError code (the service's own status otherwise).
REFUSAL_STATUS = {"bad_transition": 409, "locked": 409, "conflict": 409, "already_done": 409, "forbidden": 403}


# ---------------------------------------------------------------------------------------------- labels


def status_label(status: str) -> str:
    """The inspection status in words."""
    return {"draft": _("Draft"), "submitted": _("Submitted"), "returned": _("Returned"),
            "approved": _("Approved")}.get(status, status)


def classification_label(classification: str | None) -> str:
    """The classification in words."""
    if classification is None:
        return "—"
    return {"meets": _("Meets the standard"), "conditional": _("Conditional"),
            "does_not_meet": _("Does not meet the standard"),
            "not_assessable": _("Not assessable: re-visit needed")}.get(classification, classification)


def kind_label(kind: str) -> str:
    """External inspection or self-assessment."""
    return _("Self-assessment") if kind == "self" else _("External inspection")


def team_role_label(role: str) -> str:
    """A team role in words."""
    return str(TEAM_ROLE_LABELS.get(role, role))


def _lang() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "vi"


def answer_label(item: Item, value: str | None) -> str:
    """An answer as the supervisor chose it, in the current language."""
    if value is None:
        return _("Not answered")
    if value == NA and item.answer_type != "text":
        return _("Not applicable")
    if item.answer_type == "yes_no_na":
        return {MET: _("Met"), NOT_MET: _("Not met")}.get(value, value)
    if item.answer_type == "scale":
        for level in item.scale:
            if str(level.value) == value:
                return f"{level.value} – {level.label.get(_lang())}"
        return value
    if item.answer_type == "options":
        return next((o.label.get(_lang()) for o in item.options if o.value == value), value)
    if value == "not_observed" and item.scored:
        return _("Not observed")
    if item.answer_type == "number" and item.unit is not None:
        return f"{value} {item.unit.get(_lang())}"
    return value


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"status_label": status_label, "classification_label": classification_label,
            "kind_label": kind_label, "team_role_label": team_role_label, "lang": _lang()}


# ---------------------------------------------------------------------------------------------- helpers


def _inspection_or_404(inspection_id: int) -> Inspection:
    # Out of scope is "not found", so a reviewer cannot even learn that an inspection exists elsewhere.
    return db.one_or_404(services.inspections_in_scope(g.user).where(Inspection.id == inspection_id))


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best_match(["text/html", "application/json"]) == \
        "application/json"


def _refusal_message(exc: WorkflowError, inspection: Inspection | None = None) -> str:
    """A refused operation in the user's language; the service's English detail where no wording exists."""
    status = status_label(inspection.status) if inspection is not None else ""
    if exc.code == "locked":
        return _("This inspection is %(status)s and can no longer be changed.", status=status)
    if exc.code == "bad_transition":
        return _("Only a submitted inspection can be approved or returned; this one is %(status)s.", status=status)
    if exc.code == "forbidden":
        return _("You may not do this.")
    if exc.code == "conflict":
        return _("The inspection was changed by someone else since you opened this page: check it and try again.")
    if exc.code == "already_done":
        return _("This corrective action is already closed.")
    if exc.code == "bad_evidence":
        return _("Describe the evidence that the action was done.")
    if exc.code == "bad_signature":
        return _("The signature was not saved: %(detail)s", detail=exc.message)
    if exc.code == "bad_team":
        return _("The team was not saved: %(detail)s", detail=exc.message)
    if exc.code == "signatures_void" and inspection is not None:
        from ..minutes.content import signature_problems, signers

        names = {key: f"{m.full_name} ({team_role_label(m.role)})" for key, m in signers(inspection)}
        names.update({"head": names.get("head", team_role_label("head")),
                      "facility_rep": names.get("facility_rep", team_role_label("facility_rep"))})
        who = ", ".join(names.get(key, key) for key, _why in signature_problems(inspection))
        return _("The minutes cannot be filed until everyone signs the current content (missing or void: "
                 "%(who)s). Return the inspection so that they sign.", who=who)
    if exc.code == "bad_action":
        return _("The corrective actions were not saved: %(detail)s", detail=exc.message)
    return exc.message


def _refuse(exc: WorkflowError, inspection: Inspection, message: str | None = None) -> ResponseReturnValue:
    """Undo the request's changes and answer with the reason: JSON for scripts, a flash for pages."""
    db.session.rollback()
    message = message or _refusal_message(exc, inspection)
    status = REFUSAL_STATUS.get(exc.code, exc.status)
    if _wants_json():
        return jsonify(error=exc.code, message=message, status=inspection.status), status
    flash(message, "error")
    return redirect(url_for(".inspection", inspection_id=inspection.id))


def _local_today() -> dt.date:
    return dt.datetime.now(get_timezone()).date()


def _form_url(inspection: Inspection) -> str:
    # The form lives in another blueprint; fall back to its stable redirecting URL if the endpoint differs.
    try:
        return url_for("inspections.form", inspection_id=inspection.id)
    except BuildError:
        return f"/inspections/{inspection.id}"


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
        "today": _local_today(),
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


# ---------------------------------------------------------------------------------------------- finishing


def _default_deadline(inspection: Inspection, score: Score) -> dt.date:
    if score.provisional_classification == "conditional":
        return services.default_deadline(inspection)
    return inspection.inspection_date + dt.timedelta(days=30)


def _fill_finish_form(form: FinishForm, inspection: Inspection, score: Score) -> None:
    """Prefill the finishing form from what is saved, with sensible defaults for what is not."""
    existing = {a.item_id: a for a in db.session.scalars(
        sa.select(CorrectiveAction).where(CorrectiveAction.inspection_id == inspection.id))}
    deadline = _default_deadline(inspection, score)
    facility = inspection.facility
    for item_id in score.failed_items:
        action = existing.get(item_id)
        form.actions.append_entry({
            "item_id": item_id, "action": action.action if action else "",
            "responsible": action.responsible if action else facility.head_name,
            "deadline": action.deadline if action else deadline})
    team = db.session.scalars(sa.select(TeamMember).where(TeamMember.inspection_id == inspection.id)
                              .order_by(TeamMember.position_order, TeamMember.id)).all()
    if team:
        for member in team:
            form.team.append_entry({"role": member.role, "full_name": member.full_name,
                                    "position": member.position})
        # Two spare rows so people can be added without JavaScript.
        for _i in range(2):
            form.team.append_entry({"role": "member", "full_name": "", "position": ""})
    else:
        for role in DEFAULT_TEAM_ROLES:
            # The head of the team is, nearly always, the supervisor filling in the form.
            name = facility.head_name if role == "facility_rep" else g.user.full_name if role == "head" else ""
            form.team.append_entry({"role": role, "full_name": name, "position": ""})
    form.facility_opinion.data = inspection.facility_opinion
    form.facility_no_opinion.data = bool(inspection.facility_no_opinion)
    # The decision establishing the team: the inspection's own, else its round's (the minutes cite the same).
    from ..minutes.content import team_decision_of

    number, on, issuer = team_decision_of(inspection)
    form.decision_number.data, form.decision_date.data, form.decision_issuer.data = number, on, issuer
    # The Kết luận as written, else the one the results suggest, as a starting text to edit.
    suggested = _suggested_conclusion(inspection, score)
    form.conclusion_strengths.data = inspection.conclusion_strengths or suggested[0]
    form.conclusion_shortcomings.data = inspection.conclusion_shortcomings or suggested[1]
    form.revision.data = str(inspection.revision)


def _suggested_conclusion(inspection: Inspection, score: Score) -> tuple[str, str]:
    """Strengths and shortcomings drawn from the passed and failed sections, in the minutes' language."""
    from ..minutes.services import setting
    from ..minutes.text import suggest_conclusion

    checklist = services.checklist_for(inspection)
    locale = str(setting("MINUTES_LOCALE") or "vi")
    return suggest_conclusion(
        [(checklist.section(s.section_id).title.get(locale), s.percent, len(s.critical_failures))
         for s in score.sections if s.applicable], list(score.failed_items), locale)


def _same_text(a: str | None, b: str | None) -> bool:
    # A browser sends a textarea's line breaks as CRLF; the suggestion has none of its own.
    return " ".join((a or "").split()) == " ".join((b or "").split())


def _save_record_fields(form: FinishForm, inspection: Inspection, score: Score) -> list[str]:
    """Team decision, Kết luận and the facility's opinion; the (Vietnamese by default) messages of what is wrong.

    Each of them is content of the visit record: saving a different value voids the signatures made before.
    A value left as prefilled (the round's decision, the suggested conclusion) is not copied onto the inspection,
    so opening and saving the page changes nothing under the signatures.
    """
    from ..minutes.content import team_decision_of

    errors = []
    number, on, issuer = form.decision_number.data or "", form.decision_date.data, form.decision_issuer.data or ""
    if (number, on, issuer) != team_decision_of(inspection) or inspection.team_decision_number:
        if (number or on or issuer) and not (number and on and issuer):
            missing = [label for value, label in ((number, _("its number")), (on, _("its date")),
                                                  (issuer, _("the issuing body"))) if not value]
            errors.append(_("Decision establishing the team: write %(missing)s too, or leave all three fields "
                            "empty.", missing=", ".join(missing)))
        elif on is not None and on > inspection.inspection_date:
            errors.append(_("Decision establishing the team: its date (%(date)s) is after the inspection date.",
                            date=i18n_date(on)))
        else:
            try:
                services.set_team_decision(inspection, number, on, issuer, g.user)
            except WorkflowError as exc:
                errors.append(_refusal_message(exc, inspection))
    strengths, shortcomings = form.conclusion_strengths.data or "", form.conclusion_shortcomings.data or ""
    suggested = _suggested_conclusion(inspection, score)
    untouched = (not inspection.conclusion_strengths and not inspection.conclusion_shortcomings
                 and _same_text(strengths, suggested[0]) and _same_text(shortcomings, suggested[1]))
    if not untouched:
        try:
            services.set_conclusion(inspection, strengths, shortcomings, g.user)
        except WorkflowError as exc:
            errors.append(_refusal_message(exc, inspection))
    opinion, no_opinion = form.facility_opinion.data or "", bool(form.facility_no_opinion.data)
    if opinion and no_opinion:
        errors.append(_("Opinion of the facility: either write what the facility said, or tick “The facility "
                        "has no opinion”, not both."))
    else:
        try:
            services.set_facility_opinion(inspection, opinion, g.user, no_opinion=no_opinion)
        except WorkflowError as exc:
            errors.append(_refusal_message(exc, inspection))
    return errors


def _save_finish(form: FinishForm, inspection: Inspection) -> list[str]:
    """Save actions, team and opinion from the form; the messages of whatever was refused."""
    errors = []
    actions = [
        {"item_id": row.item_id.data, "action": row.action.data, "responsible": row.responsible.data,
         "deadline": row.deadline.data}
        for row in (entry.form for entry in form.actions)
        # A row without "what" is a row not filled in yet (who and when come prefilled).
        if (row.action.data or "").strip()
    ]
    try:
        services.set_corrective_actions(inspection, actions, g.user)
    except WorkflowError as exc:
        errors.append(_refusal_message(exc, inspection))
    members = [{"role": row.role.data, "full_name": row.full_name.data or "", "position": row.position.data or ""}
               for row in (entry.form for entry in form.team)]
    if any(m["full_name"].strip() for m in members):
        try:
            services.set_team(inspection, members, g.user)
        except WorkflowError as exc:
            errors.append(_refusal_message(exc, inspection))
    errors.extend(_save_record_fields(form, inspection, services.current_score(inspection)))
    return errors


def _checklist(inspection: Inspection, score: Score, problems: list[str]) -> list[dict[str, Any]]:
    """What submission needs, item by item, in the user's language (the service decides; this explains)."""
    roles = set(db.session.scalars(sa.select(TeamMember.role).where(TeamMember.inspection_id == inspection.id)))
    signed = set(db.session.scalars(sa.select(Signature.member_key).where(Signature.inspection_id == inspection.id)))
    from ..minutes.content import signature_problems, signers

    # A signature made before the content last changed no longer counts (it covered other content).
    unsigned = dict(signature_problems(inspection))
    void = _("Void: the content changed after this signature was made; sign again.")
    acted = set(db.session.scalars(sa.select(CorrectiveAction.item_id)
                                   .where(CorrectiveAction.inspection_id == inspection.id)))
    failed_with_action = sum(1 for i in score.failed_items if i in acted)
    rows = [
        {"ok": not score.unanswered,
         "text": _("Every applicable item answered (%(answered)s of %(total)s)",
                   answered=score.answered_count, total=score.applicable_count),
         "detail": ", ".join(score.unanswered[:20]) + ("…" if len(score.unanswered) > 20 else "")},
        {"ok": "head" in roles and "facility_rep" in roles,
         "text": _("Head of the team and facility representative named"), "detail": ""},
        {"ok": "head" in signed and "head" not in unsigned, "text": _("Head of the team has signed"),
         "detail": void if unsigned.get("head") == "void" else ""},
        {"ok": "facility_rep" in signed and "facility_rep" not in unsigned,
         "text": _("Facility representative has signed"),
         "detail": void if unsigned.get("facility_rep") == "void" else ""},
        # Every other named member signs too: one line each, so the page says who is still missing.
        *({"ok": key in signed and key not in unsigned,
           "text": _("%(name)s (%(role)s) has signed (needed to file the minutes)", name=member.full_name,
                     role=team_role_label(member.role)),
           "detail": void if unsigned.get(key) == "void" else ""}
          for key, member in signers(inspection) if member.role not in ("head", "facility_rep")),
        {"ok": failed_with_action == len(score.failed_items),
         "text": _("A corrective action for each failed item (%(done)s of %(total)s)",
                   done=failed_with_action, total=len(score.failed_items)),
         "detail": ", ".join(i for i in score.failed_items if i not in acted)},
    ]
    if score.complete and score.overall_percent is None:
        rows.append({"ok": False, "text": _("At least one item must be scorable (not everything N/A)"),
                     "detail": ""})
    if problems and all(r["ok"] for r in rows):
        # The service found something this page does not know how to word: show it as it is.
        rows.extend({"ok": False, "text": p, "detail": ""} for p in problems)
    return rows


def _render_finish(inspection: Inspection, form: FinishForm, errors: list[str],
                   status: int = 200) -> ResponseReturnValue:
    checklist = services.checklist_for(inspection)
    score = services.current_score(inspection)
    problems = services.submission_problems(inspection, score)
    lang = _lang()
    from ..minutes.content import signers

    signatures = {s.member_key or s.role: s for s in db.session.scalars(
        sa.select(Signature).options(defer(Signature.png), defer(Signature.strokes))
        .where(Signature.inspection_id == inspection.id))}
    # One pad per named signer (every team member and the facility representative); before the team is saved,
    # the head's and the facility representative's.
    named = signers(inspection)
    pads = [{"key": key, "role": member.role, "name": member.full_name} for key, member in named]
    for role in SIGNATURE_ROLES:
        if not any(p["key"] == role for p in pads):
            pads.append({"key": role, "role": role, "name": ""})
    pads.sort(key=lambda p: {"head": 0, "facility_rep": 1}.get(p["key"], 2))
    for pad in pads:
        saved = signatures.get(pad["key"])
        pad["saved"] = saved
        if saved is not None:
            pad["name"] = saved.signer_name
    sections = [{"id": s.section_id, "title": checklist.section(s.section_id).title.get(lang), "percent": s.percent,
                 "answered": s.answered, "applicable": s.applicable, "failed": len(s.failed_items),
                 "critical": len(s.critical_failures)}
                for s in score.sections if s.applicable]
    round_decision = ""
    if not inspection.team_decision_number:
        from ..rounds.services import round_of_inspection

        rnd = round_of_inspection(inspection)
        round_decision = rnd.name if rnd is not None and rnd.team_decision_number else ""
    return render_template(
        "inspections/finish.html", inspection=inspection, form=form, errors=errors, score=score,
        round_decision=round_decision,
        sections=sections, checklist_rows=_checklist(inspection, score, problems), can_submit=not problems,
        item_texts={i.id: i.text.get(lang) for i in checklist.items},
        critical_items=set(score.critical_failures), pads=pads, team_roles=list(TEAM_ROLE_LABELS.items()),
        form_url=_form_url(inspection), version_label=services.version_label(inspection.checklist_version),
    ), status


@bp.route("/inspections/<int:inspection_id>/finish", methods=["GET", "POST"])
@roles_required(*EDITORS)
def finish(inspection_id: int) -> ResponseReturnValue:
    """Finish an inspection: summary, corrective actions, team, signatures, facility opinion, submit."""
    inspection = _inspection_or_404(inspection_id)
    if inspection.status not in services.EDITABLE:
        flash(_("This inspection is %(status)s and can no longer be changed.", status=status_label(inspection.status)),
              "error")
        return redirect(url_for(".inspection", inspection_id=inspection.id))
    if not services.can_edit(g.user, inspection):
        abort(403)
    form = FinishForm()
    if request.method == "GET":
        _fill_finish_form(form, inspection, services.current_score(inspection))
        return _render_finish(inspection, form, [])
    if not form.validate():
        return _render_finish(inspection, form, [_("Some fields are not valid: see the marked fields.")], 400)
    seen_revision = form.revision.data
    changed_meanwhile = seen_revision != str(inspection.revision)
    if request.form.get("do") == "submit" and not changed_meanwhile:
        # Atomic version of the check above, taken before this page's own writes (see claim_revision).
        changed_meanwhile = not services.claim_revision(inspection, int(seen_revision))
    errors = _save_finish(form, inspection)
    if errors:
        db.session.rollback()
        return _render_finish(inspection, form, [_("Nothing was saved."), *errors], 400)
    if request.form.get("do") != "submit":
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for(".finish", inspection_id=inspection.id))
    stale_message = _("The inspection was changed since you opened this page (for example an answer saved from "
                      "another tablet). Your changes here are saved; check the summary and submit again.")
    if changed_meanwhile:
        # Someone (another tablet, the autosave) changed it after this page was built: the score shown
        # may be stale, so save this page's work and let the supervisor look again before submitting (409: the
        # submit lost to the other change).
        db.session.commit()
        form.revision.data = str(inspection.revision)  # submitting again from this page submits what it now shows
        return _render_finish(inspection, form, [stale_message], 409)
    try:
        services.submit(inspection, g.user)
    except WorkflowError as exc:
        # submit() refuses before changing anything, so what this page saved is kept.
        db.session.commit()
        if exc.code == "conflict":
            # Lost a race: an autosave (or another submit) landed between reading the page and submitting.
            db.session.refresh(inspection)
            form.revision.data = str(inspection.revision)
            if inspection.status not in services.EDITABLE:
                return _render_finish(inspection, form,
                                      [_refusal_message(WorkflowError("locked", exc.message), inspection)], 409)
            return _render_finish(inspection, form, [stale_message], 409)
        if exc.code == "incomplete":
            flash(_("The inspection cannot be submitted yet: see what is missing below."), "error")
        else:
            flash(_refusal_message(exc, inspection), "error")
        return redirect(url_for(".finish", inspection_id=inspection.id))
    db.session.commit()
    flash(_("The inspection was submitted for review. Its answers are now locked."), "success")
    return redirect(url_for(".inspection", inspection_id=inspection.id))


# ---------------------------------------------------------------------------------------------- signatures


def _decode_png(data_url: object) -> bytes | None:
    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        return None
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) <= MAX_SIGNATURE_BYTES else None


def _clean_strokes(strokes: object) -> list[list[list[float]]] | None:
    """Strokes as lists of [x, y] in 0..1 (rounded); None when the shape is wrong."""
    if not isinstance(strokes, list):
        return None
    clean = []
    for stroke in strokes:
        if not isinstance(stroke, list):
            return None
        points = []
        for point in stroke:
            if (not isinstance(point, list | tuple) or len(point) != 2
                    or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                               for v in point)):
                return None
            points.append([round(min(max(float(point[0]), 0.0), 1.0), 4),
                           round(min(max(float(point[1]), 0.0), 1.0), 4)])
        clean.append(points)
    return clean


@bp.post("/inspections/<int:inspection_id>/signatures")
@roles_required(*EDITORS)
def save_signature(inspection_id: int) -> ResponseReturnValue:
    """Store a drawn signature sent as JSON {role, signer_name, png (data URL), strokes}."""
    inspection = _inspection_or_404(inspection_id)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="bad_request", message=_("Send the signature as JSON.")), 400
    strokes = _clean_strokes(data.get("strokes"))
    if strokes is None:
        return jsonify(error="bad_signature", message=_("The strokes of the signature are not valid.")), 400
    png = _decode_png(data.get("png"))
    if png is None and any(len(s) >= 2 for s in strokes):
        return jsonify(error="bad_signature", message=_("The signature image is missing or is not a PNG.")), 400
    # The signer key of a team member ("head", "secretary", "member-2"; see signer_keys).
    role = str(data.get("member") or data.get("role") or "")
    if not re.fullmatch(r"[a-z_]{2,16}(-[0-9]{1,2})?", role):
        return jsonify(error="bad_signature", message=_("Unknown signer.")), 400
    try:
        signature = services.save_signature(inspection, role, str(data.get("signer_name") or ""), png or b"",
                                            strokes, g.user)
    except WorkflowError as exc:
        db.session.rollback()
        if exc.code == "bad_signature" and not any(len(s) >= 2 for s in strokes):
            message = _("The signature pad is empty: please sign before saving.")
        elif exc.code == "bad_signature" and "unknown signer" in exc.message:
            message = _("Unknown signer: name this person in the team and save the page before they sign.")
        elif exc.code == "bad_signature" and "name" in exc.message:
            message = _("Write the name of the person signing.")
        else:
            message = _refusal_message(exc, inspection)
        return jsonify(error=exc.code, message=message), REFUSAL_STATUS.get(exc.code, exc.status)
    db.session.commit()
    return jsonify(ok=True, role=signature.member_key, signer_name=signature.signer_name,
                   url=url_for(".signature_image", inspection_id=inspection.id, role=role, v=signature.id),
                   revision=inspection.revision, message=_("Signature saved.")), 201


@bp.get("/inspections/<int:inspection_id>/signatures/<role>.png")
@login_required
def signature_image(inspection_id: int, role: str) -> ResponseReturnValue:
    """The saved signature image of one signer (same scope as the inspection)."""
    inspection = _inspection_or_404(inspection_id)
    signature = db.one_or_404(sa.select(Signature).where(Signature.inspection_id == inspection.id,
                                                         Signature.member_key == role))
    mimetype = "image/png" if signature.png.startswith(b"\x89PNG") else "image/jpeg"
    response = send_file(io.BytesIO(signature.png), mimetype=mimetype, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


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
    # not only by the browser. Only when it would approve: any other status keeps its own refusal.
    if inspection.status == "submitted" and not _approval_confirmed():
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


# ---------------------------------------------------------------------------------------------- corrective actions


@bp.get("/actions")
@login_required
def actions() -> ResponseReturnValue:
    """Open corrective actions in the user's region, earliest deadline first; ?overdue=1 for late ones."""
    overdue = request.args.get("overdue") == "1"
    today = _local_today()
    query = (sa.select(CorrectiveAction, Inspection, Facility)
             .join(Inspection, Inspection.id == CorrectiveAction.inspection_id)
             .join(Facility, Facility.id == CorrectiveAction.facility_id)
             .where(facility_in_scope(g.user), CorrectiveAction.status == "open",
                    Inspection.status.in_(("submitted", "approved"))))
    if overdue:
        query = query.where(CorrectiveAction.deadline < today)
    rows = db.session.execute(query.order_by(CorrectiveAction.deadline, CorrectiveAction.id)
                              .limit(ACTIONS_LIMIT)).all()
    lang = _lang()
    texts: dict[tuple[int, str], str] = {}
    for action, inspection, _facility in rows:
        key = (inspection.checklist_version_id, action.item_id)
        if key not in texts:
            try:
                texts[key] = checklist_of(inspection.checklist_version).item(action.item_id).text.get(lang)
            except KeyError:
                texts[key] = ""
    return render_template("review/actions.html", rows=rows, texts=texts, overdue=overdue, today=today,
                           limit=ACTIONS_LIMIT)


@bp.post("/actions/<int:action_id>/done")
@login_required
def action_done(action_id: int) -> ResponseReturnValue:
    """Close a corrective action with the evidence that it was done."""
    action = db.one_or_404(
        sa.select(CorrectiveAction).join(Facility, Facility.id == CorrectiveAction.facility_id)
        .where(CorrectiveAction.id == action_id, facility_in_scope(g.user)))
    inspection = db.session.get_one(Inspection, action.inspection_id)
    back = request.form.get("next") or ""
    target = back if back.startswith("/review/") and not back.startswith("//") else url_for(".actions")

    def refuse(message: str, status: int) -> ResponseReturnValue:
        db.session.rollback()
        if _wants_json():
            return jsonify(error="refused", message=message), status
        flash(message, "error")
        return redirect(target)

    if inspection.status not in ("submitted", "approved"):
        return refuse(_("The inspection of this action is still being edited."), 409)
    form = ActionDoneForm()
    if not form.validate():
        return refuse(_("The evidence is too long."), 400)
    try:
        services.mark_action_done(action, form.evidence.data or "", g.user)
    except WorkflowError as exc:
        return refuse(_refusal_message(exc, inspection), REFUSAL_STATUS.get(exc.code, exc.status))
    db.session.commit()
    if _wants_json():
        return jsonify(ok=True, status=action.status)
    flash(_("The corrective action is closed."), "success")
    return redirect(target)
