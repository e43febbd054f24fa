"""The inspection's own last steps, after the answers: the supervisor's finish page (corrective actions, team,
decision, conclusion, the facility's opinion, submit), the drawn signatures, and the corrective actions'
follow-up list.

They register on the ``/review`` blueprint (``review.blueprint``) so that their URLs and endpoint names
(``review.finish``, ``review.save_signature``, ``review.signature_image``, ``review.actions``,
``review.action_done``) stay what links, templates and the tablet already use. The reviewer's queue and
decisions stay in ``review.views``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import math
import re
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import defer

from ..auth.services import facility_in_scope
from ..auth.views import login_required, roles_required
from ..checklists.registry import checklist_of
from ..extensions import db
from ..facilities.models import Facility
from ..i18n import date as i18n_date
from ..i18n import local_today
from ..review.blueprint import bp
from ..review.forms import DEFAULT_TEAM_ROLES, TEAM_ROLE_LABELS, ActionDoneForm, FinishForm
from ..scoring import Score
from . import services
from .models import CorrectiveAction, Inspection, Signature, TeamMember
from .pages import (
    EDITORS,
    REFUSAL_STATUS,
    _form_url,
    _inspection_or_404,
    _lang,
    _refusal_message,
    _wants_json,
    status_label,
    team_role_label,
)
from .services import WorkflowError

ACTIONS_LIMIT = 500
SIGNATURE_ROLES = ("head", "facility_rep")
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024


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


def _checklist(inspection: Inspection, score: Score, problems: list[str],
               unsigned: dict[str, str]) -> list[dict[str, Any]]:
    """What submission needs, item by item, in the user's language (the service decides; this explains)."""
    roles = set(db.session.scalars(sa.select(TeamMember.role).where(TeamMember.inspection_id == inspection.id)))
    signed = set(db.session.scalars(sa.select(Signature.member_key).where(Signature.inspection_id == inspection.id)))
    from ..minutes.content import signers

    # ``unsigned``: signature_problems() by signer; a signature made before the content last changed no longer
    # counts (it covered other content).
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
           "text": _("%(name)s (%(role)s) has signed", name=member.full_name,
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
    from ..minutes.content import signature_problems, signers

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
    # One reading of which signatures still cover the content, for the pads and for "Before submitting".
    unsigned = dict(signature_problems(inspection))
    for pad in pads:
        saved = signatures.get(pad["key"])
        pad["saved"] = saved
        pad["void"] = unsigned.get(pad["key"]) == "void"  # made before the content last changed: sign again
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
        sections=sections, checklist_rows=_checklist(inspection, score, problems, unsigned), can_submit=not problems,
        item_texts={i.id: i.text.get(lang) for i in checklist.items},
        critical_items=set(score.critical_failures), pads=pads, team_roles=list(TEAM_ROLE_LABELS.items()),
        form_url=_form_url(inspection), version_label=services.version_label(inspection.checklist_version),
        saved=status == 200 and request.args.get("saved") == "1",  # 200: a page shown, never a refusal
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
        # Saving comes before signing: the page opens again at the signatures, saying it was saved there.
        return redirect(url_for(".finish", inspection_id=inspection.id, saved=1, _anchor="signatures"))
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


# ---------------------------------------------------------------------------------------------- corrective actions


@bp.get("/actions")
@login_required
def actions() -> ResponseReturnValue:
    """Open corrective actions in the user's region, earliest deadline first; ?overdue=1 for late ones."""
    overdue = request.args.get("overdue") == "1"
    today = local_today()
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
