"""JSON API under /api/v1: autosave of answers, photos and the refresh of an inspection (see docs/api.md).

It authenticates with the session cookie; every write carries the CSRF token in the X-CSRFToken header, which
CSRFProtect checks before the view runs. Errors are always JSON: {"error": code, "message": words}.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import sqlalchemy as sa
from flask import g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, defer

from ..extensions import db
from ..facilities.labels import INSPECTION_STATUS_LABELS
from ..inspections import present, services
from ..inspections.models import Inspection, Photo
from ..inspections.services import ConflictError, WorkflowError
from .common import _answer_problem, api_login_required, bp, error  # noqa: F401 (re-exported)

# HTTP status of a refused operation by WorkflowError code: 422 for a value the server understood and refused.
STATUS_BY_CODE = {
    "forbidden": 403, "locked": 409, "conflict": 409, "uuid_taken": 409,
    "unknown_item": 422, "not_applicable": 422, "bad_answer": 422, "bad_note": 422, "bad_photo": 422,
    "bad_uuid": 422, "empty": 400,
}
_MISSING = object()


def _inspection(inspection_id: int) -> Inspection | None:
    # Out of scope is "not found", as for pages. The facility comes in the same query (the scope check joins
    # it anyway), and the check's result is remembered, so the edit checks that follow do not repeat it.
    inspection = db.session.scalar(services.inspections_in_scope(g.user).where(Inspection.id == inspection_id)
                                   .options(contains_eager(Inspection.facility)))
    if inspection is not None:
        services.note_visible(g.user, inspection.facility_id)
    return inspection


def _not_found() -> ResponseReturnValue:
    return error("not_found", _("No such inspection in your region."), 404)


def _edit_refusal(inspection: Inspection) -> ResponseReturnValue | None:
    """The same refusals as the services' editability check, made before any other check of the request."""
    if inspection.status not in services.EDITABLE:
        return error("locked", _("This inspection is %(status)s and can no longer be changed.",
                                 status=str(INSPECTION_STATUS_LABELS.get(inspection.status, inspection.status))),
                     409, status=inspection.status)
    if not services.can_edit(g.user, inspection):
        return error("forbidden", _("You may not change this inspection."), 403)
    return None


def _refusal(exc: WorkflowError, inspection: Inspection, item_id: str, value: object = _MISSING) -> ResponseReturnValue:
    """Undo the request and answer a refused operation with its code, status and message."""
    db.session.rollback()
    status = STATUS_BY_CODE.get(exc.code, exc.status)
    code = exc.code
    if code == "locked":
        return _edit_refusal(inspection) or error(code, exc.message, status)
    if code == "forbidden":
        message = _("You may not change this inspection.")
    elif code == "unknown_item":
        message = _("Item %(item)s is not in this checklist.", item=item_id)
    elif code == "not_applicable":
        message = _("Item %(item)s does not apply to this facility.", item=item_id)
    elif code == "bad_answer" and value is not _MISSING:
        message = _answer_problem(services.checklist_for(inspection).item(item_id), value)
    elif code == "bad_note":
        message = _("The note of item %(item)s was refused: it must be text of at most 4000 characters.",
                    item=item_id)
    elif code == "empty":
        message = _("Nothing to save for item %(item)s: send a value or a note.", item=item_id)
    elif code == "bad_photo":
        message = _("The photo of item %(item)s was refused: %(detail)s", item=item_id, detail=exc.message)
    elif code == "uuid_taken":
        message = _("This photo id is already used for another photo.")
    else:
        message = exc.message
    return error(code, message, status, item_id=item_id)


def _inspection_json(inspection: Inspection) -> dict[str, Any]:
    return {"id": inspection.id, "revision": inspection.revision, "status": inspection.status}


# ---------------------------------------------------------------------------------------------- read


@bp.get("/inspections/<int:inspection_id>")
@api_login_required
def inspection(inspection_id: int) -> ResponseReturnValue:
    """An inspection with its answers (and their revisions), photo metadata and running score."""
    inspection = _inspection(inspection_id)
    if inspection is None:
        return _not_found()
    checklist = services.checklist_for(inspection)
    answers = services.answers_of(inspection)
    names = present.user_names({a.updated_by_id for a in answers.values()})
    items = {item.id: item for item in checklist.items}
    return jsonify(
        inspection={
            **_inspection_json(inspection), "uuid": inspection.uuid, "kind": inspection.kind,
            "inspection_date": inspection.inspection_date.isoformat(),
            "facility": {"id": inspection.facility_id, "name": inspection.facility.name,
                         "type": inspection.facility_type, "services": list(inspection.facility_services)},
            "checklist": {"code": inspection.checklist_version.code, "version": inspection.checklist_version.version,
                          "sha256": inspection.checklist_version.sha256},
            "editable": services.can_edit(g.user, inspection),
        },
        answers={item_id: present.answer_json(a, names, items.get(item_id)) for item_id, a in answers.items()},
        photos=[present.photo_json(p) for p in present.photos_of(inspection)],
        score=present.score_json(services.current_score(inspection)),
    )


# ---------------------------------------------------------------------------------------------- answers


@bp.put("/inspections/<int:inspection_id>/answers/<item_id>")
@api_login_required
def put_answer(inspection_id: int, item_id: str) -> ResponseReturnValue:
    """Save one answer and/or note with compare-and-set on the answer's revision (409 when stale)."""
    inspection = _inspection(inspection_id)
    if inspection is None:
        return _not_found()
    refusal = _edit_refusal(inspection)
    if refusal is not None:
        return refusal
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error("bad_json", _("Send a JSON object such as {\"value\": \"met\", \"base_revision\": 0}."), 400)
    base = body.get("base_revision")
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        return error("bad_revision", _("base_revision must be the answer's revision you last saw (0 for none)."),
                     400, item_id=item_id)
    changes = {key: body[key] for key in ("value", "note") if key in body}
    try:
        answer = services.save_answer(inspection, item_id, g.user, base_revision=base, **changes)
    except ConflictError as exc:
        db.session.rollback()
        item = services.checklist_for(inspection).item(item_id)
        current = present.conflict_json(item, exc.current)
        message = (_("Item %(item)s was changed by %(name)s at %(time)s.", item=item_id,
                     name=current.get("updated_by") or _("someone else"), time=current["updated_at_display"])
                   if current.get("revision") else
                   _("Item %(item)s has no saved answer any more.", item=item_id))
        return error("conflict", message, 409, item_id=item_id, current=current)
    except WorkflowError as exc:
        return _refusal(exc, inspection, item_id, changes.get("value", _MISSING))
    # The reply is built before the commit, inside the same transaction (so it shows exactly what is being
    # committed): after a commit every loaded object is expired and would be read again, statement by statement.
    item = services.checklist_for(inspection).item(item_id)
    names = {g.user.id: g.user.full_name}  # save_answer stamps the answer with the signed-in user
    reply = {"answer": present.answer_json(answer, names, item), "inspection": _inspection_json(inspection),
             "score": present.score_json(services.current_score(inspection))}
    db.session.commit()
    return jsonify(reply)


# ---------------------------------------------------------------------------------------------- photos


@bp.post("/inspections/<int:inspection_id>/photos")
@api_login_required
def post_photo(inspection_id: int) -> ResponseReturnValue:
    """Attach a photo to an item (multipart: item_id, file, client_uuid); 201, or 200 when the uuid was seen."""
    inspection = _inspection(inspection_id)
    if inspection is None:
        return _not_found()
    refusal = _edit_refusal(inspection)
    if refusal is not None:
        return refusal
    item_id = (request.form.get("item_id") or "").strip()
    upload = request.files.get("file")
    if upload is None:
        return error("no_file", _("Choose a photo to upload."), 400, item_id=item_id)
    client_uuid = (request.form.get("client_uuid") or "").strip() or None
    if client_uuid is not None:
        try:
            client_uuid = str(uuidlib.UUID(client_uuid))
        except ValueError:
            return error("bad_uuid", _("client_uuid must be a UUID."), 422, item_id=item_id)
    existing = None
    if client_uuid is not None:
        existing = db.session.scalar(sa.select(Photo).options(defer(Photo.data)).where(Photo.uuid == client_uuid))
    try:
        present.require_applicable_item(inspection, item_id)
        # One byte over the limit is enough for the service to refuse it without reading a huge body.
        photo = services.add_photo(inspection, item_id, upload.read(services.MAX_PHOTO_BYTES + 1), g.user,
                                   client_uuid=client_uuid)
    except WorkflowError as exc:
        return _refusal(exc, inspection, item_id)
    db.session.commit()
    return jsonify(photo=present.photo_json(photo), inspection=_inspection_json(inspection)), \
        200 if existing is not None else 201


@bp.delete("/photos/<photo_uuid>")
@api_login_required
def delete_photo(photo_uuid: str) -> ResponseReturnValue:
    """Remove a photo from an editable inspection."""
    photo = db.session.scalar(sa.select(Photo).options(defer(Photo.data)).where(Photo.uuid == photo_uuid))
    inspection = _inspection(photo.inspection_id) if photo is not None else None
    if photo is None or inspection is None:
        return error("not_found", _("No such photo in your region."), 404)
    refusal = _edit_refusal(inspection)
    if refusal is not None:
        return refusal
    try:
        services.delete_photo(photo, g.user)
    except WorkflowError as exc:
        return _refusal(exc, inspection, photo.item_id)
    db.session.commit()
    return jsonify(deleted=photo_uuid, inspection=_inspection_json(inspection))


# The offline sync endpoints live in their own module and register on this blueprint.
from . import sync  # noqa: E402,F401
