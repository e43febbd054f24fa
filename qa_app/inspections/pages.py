"""What the inspection's pages and the reviewer's pages share: labels in the user's language, the scoped lookup,
and a refused workflow operation in words (also used by the API's sync).

Used by ``inspections.finish`` and ``review.views``; ``review.views`` re-exports these names.
"""

from __future__ import annotations

from flask import flash, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from ..checklists.schema import MET, NA, NOT_MET, Item
from ..extensions import db
from ..review.forms import TEAM_ROLE_LABELS
from . import services
from .models import Inspection
from .services import WorkflowError

REVIEWERS = ("reviewer", "provincial_manager", "admin")
EDITORS = ("supervisor", "admin")
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


def _form_url(inspection: Inspection) -> str:
    # The form lives in another blueprint; fall back to its stable redirecting URL if the endpoint differs.
    try:
        return url_for("inspections.form", inspection_id=inspection.id)
    except BuildError:
        return f"/inspections/{inspection.id}"
