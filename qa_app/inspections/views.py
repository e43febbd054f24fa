"""Starting an inspection, the tablet form (with a no-script fallback per item) and the photos it shows."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.routing import BuildError

from ..auth.services import facility_in_scope
from ..auth.views import login_required, roles_required
from ..checklists import tablet
from ..checklists.schema import DEFAULT_PROGRAMME, PROGRAMMES
from ..core.security import MAX_DB_INT, db_int
from ..extensions import db
from ..facilities.labels import FACILITY_TYPE_LABELS, INSPECTION_KIND_LABELS, INSPECTION_STATUS_LABELS
from ..facilities.models import Facility
from ..i18n import date as fmt_date
from ..i18n import local_today
from . import present, services
from .forms import PROGRAMME_LABELS, ItemFallbackForm, StartForm
from .models import Inspection, Photo
from .services import ConflictError, WorkflowError

bp = Blueprint("inspections", __name__, url_prefix="/inspections")

EDITORS = ("supervisor", "admin")
THUMB_SIZE = (240, 180)


def _facility_or_404(facility_id: int | None) -> Facility:
    # Out of scope is "not found": a supervisor must not learn that another district's facility exists.
    if facility_id is None or not 0 < facility_id <= MAX_DB_INT:  # a huge number overflowed SQLite (a 500)
        abort(404)
    return db.one_or_404(sa.select(Facility).where(Facility.id == facility_id, facility_in_scope(g.user)))


def _inspection_or_404(inspection_id: int) -> Inspection:
    return db.one_or_404(services.inspections_in_scope(g.user).where(Inspection.id == inspection_id))


def review_url(inspection_id: int) -> str:
    """The read-only page of an inspection (review blueprint), or its stable path."""
    try:
        return url_for("review.inspection", inspection_id=inspection_id)
    except BuildError:
        return f"/review/inspections/{inspection_id}"


def finish_url(inspection_id: int) -> str:
    """The finishing page (team, signatures, submit) of the review blueprint."""
    try:
        return url_for("review.finish", inspection_id=inspection_id)
    except BuildError:
        return f"/review/inspections/{inspection_id}/finish"


# ---------------------------------------------------------------------------------------------- start


def _same_day_external(facility: Facility, on: dt.date) -> int:
    """External inspections of the facility already dated ``on`` (a second one is allowed, but worth a word)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Inspection).where(
        Inspection.facility_id == facility.id, Inspection.inspection_date == on, Inspection.kind == "external")) or 0


def _same_day_warning(facility: Facility, on: dt.date) -> str:
    count = _same_day_external(facility, on)
    if not count:
        return ""
    return ngettext("This facility already has %(num)d external inspection dated %(date)s: check that this one is "
                    "not a duplicate before starting.",
                    "This facility already has %(num)d external inspections dated %(date)s: check that this one is "
                    "not a duplicate before starting.", count, date=fmt_date(on))


def _render_start(facility: Facility, form: StartForm, on: dt.date, error: str = "",
                  status: int = 200) -> ResponseReturnValue:
    preview = present.start_preview(facility, on, form.programme.data or DEFAULT_PROGRAMME)
    return render_template(
        "inspections/start.html", facility=facility, form=form, preview=preview, error=error,
        programme_labels=PROGRAMME_LABELS,
        same_day_warning=_same_day_warning(facility, on),
        type_label=FACILITY_TYPE_LABELS.get(facility.type, facility.type),
        services=present.service_labels(facility.services), today=local_today(),
    ), status


@bp.get("/start")
@roles_required(*EDITORS)
def start_page() -> ResponseReturnValue:
    """What starting an inspection of a facility would do: the checklist version and the items left out, and why."""
    facility_id = request.args.get("facility_id", type=db_int)
    if facility_id is None:
        flash(_("Choose the facility to inspect, then press “Start an inspection”."), "error")
        return redirect(url_for("facilities.index"))
    facility = _facility_or_404(facility_id)
    on = local_today()
    raw_date = request.args.get("inspection_date")
    if raw_date:
        try:
            on = dt.date.fromisoformat(raw_date)
        except ValueError:
            flash(_("'%(value)s' is not a date: showing today instead.", value=raw_date), "error")
    programme = request.args.get("programme")
    form = StartForm(formdata=None, facility_id=facility.id, inspection_date=on,
                     kind=request.args.get("kind") if request.args.get("kind") in ("external", "self") else "external",
                     programme=programme if programme in PROGRAMMES else DEFAULT_PROGRAMME)
    return _render_start(facility, form, on)


@bp.post("/start")
@roles_required(*EDITORS)
def start() -> ResponseReturnValue:
    """Start an inspection with the checklist version chosen by rule, then open its form."""
    form = StartForm()
    facility = _facility_or_404(form.facility_id.data if form.facility_id.data is not None
                                else request.form.get("facility_id", type=db_int))
    on = form.inspection_date.data or local_today()
    if not form.validate():
        problems = [f"{getattr(form, name).label.text}: {'; '.join(errors)}" for name, errors in form.errors.items()
                    if name != "csrf_token"]
        if "csrf_token" in form.errors:
            problems.insert(0, _("The page had expired: please press Start again."))
        return _render_start(facility, form, on, " ".join(problems), 400)
    duplicate = _same_day_warning(facility, on) if form.kind.data == "external" else ""
    try:
        inspection = services.start_inspection(facility, g.user, on=on, kind=form.kind.data,
                                               programme=form.programme.data or DEFAULT_PROGRAMME)
    except WorkflowError as exc:
        db.session.rollback()
        message = present.start_problem(exc.code, facility, on) or exc.message
        return _render_start(facility, form, on, message, 409 if exc.code == "no_checklist" else 400)
    db.session.commit()
    flash(_("Inspection started with checklist %(label)s.", label=services.version_label(inspection.checklist_version)),
          "success")
    if duplicate:
        # A warning, not a refusal: two teams may really inspect the same facility on one day.
        flash(duplicate, "warning")
    return redirect(url_for(".form", inspection_id=inspection.id))


# ---------------------------------------------------------------------------------------------- form


@bp.get("/<int:inspection_id>")
@login_required
def view(inspection_id: int) -> ResponseReturnValue:
    """An inspection: its form for whoever may edit it, otherwise the read-only record."""
    inspection = _inspection_or_404(inspection_id)
    if services.can_edit(g.user, inspection):
        return redirect(url_for(".form", inspection_id=inspection.id))
    return redirect(review_url(inspection.id))


@bp.get("/<int:inspection_id>/form")
@login_required
def form(inspection_id: int) -> ResponseReturnValue:
    """The tablet form of a draft or returned inspection: every applicable item, saved answers, photos, score."""
    inspection = _inspection_or_404(inspection_id)
    if not services.can_edit(g.user, inspection):
        return redirect(url_for(".view", inspection_id=inspection.id))
    view_model = present.form_view(inspection)
    response = Response(render_template(
        "inspections/form.html", v=view_model, inspection=inspection, score=view_model.score,
        finish_url=finish_url(inspection.id),
        version_label=services.version_label(inspection.checklist_version),
        status_label=INSPECTION_STATUS_LABELS.get(inspection.status, inspection.status),
        kind_label=INSPECTION_KIND_LABELS.get(inspection.kind, inspection.kind),
        classification_label=present.classification_label, today=local_today(),
        engine={"checklist": tablet.checklist_json(services.checklist_for(inspection),
                                                   inspection.checklist_version.sha256),
                "profile": tablet.profile_json(services.profile_of(inspection))}))
    # The page carries saved answers: a back button must not show a stale copy over newer saves.
    response.headers["Cache-Control"] = "no-store"
    return response


def _fallback_message(exc: WorkflowError, item_id: str) -> str:
    if isinstance(exc, ConflictError):
        return _("Item %(item)s was changed by someone else meanwhile: check it and answer again.", item=item_id)
    if exc.code == "locked":
        return _("This inspection can no longer be changed.")
    if exc.code == "bad_photo":
        return _("The photo of item %(item)s was refused: %(detail)s", item=item_id, detail=exc.message)
    return _("Item %(item)s was not saved: %(detail)s", item=item_id, detail=exc.message)


@bp.post("/<int:inspection_id>/items/<item_id>")
@roles_required(*EDITORS)
def save_item(inspection_id: int, item_id: str) -> ResponseReturnValue:
    """Save one item without JavaScript (answer, note, photo or photo deletion), then back to the item."""
    inspection = _inspection_or_404(inspection_id)
    back = url_for(".form", inspection_id=inspection.id, _anchor=f"item-{item_id}")
    if not services.can_edit(g.user, inspection):
        flash(_("This inspection can no longer be changed."), "error")
        return redirect(url_for(".view", inspection_id=inspection.id))
    fallback = ItemFallbackForm()
    if not fallback.validate():
        flash(_("Item %(item)s was not saved: the page had expired or the form was incomplete; try again.",
                item=item_id), "error")
        return redirect(back)
    answers = services.answers_of(inspection)
    current = answers.get(item_id)
    changes: dict[str, object] = {}
    if fallback.value_choice.data:
        changes["value"] = fallback.value_choice.data
    elif "value" in request.form:
        changes["value"] = request.form["value"]
    # Only what changed: a plain form sends every field, and an unchanged one must not bump the revision.
    if "value" in changes and str(changes["value"]).strip() == ((current.value if current else None) or ""):
        del changes["value"]
    if "note" in request.form and request.form["note"].strip() != (current.note if current else ""):
        changes["note"] = request.form["note"]
    try:
        if fallback.delete_photo.data:
            photo = db.session.scalar(sa.select(Photo).where(Photo.uuid == fallback.delete_photo.data,
                                                             Photo.inspection_id == inspection.id))
            if photo is not None:
                services.delete_photo(photo, g.user)
        upload = fallback.photo.data
        if upload and getattr(upload, "filename", ""):
            present.require_applicable_item(inspection, item_id)
            services.add_photo(inspection, item_id, upload.read(services.MAX_PHOTO_BYTES + 1), g.user)
        if changes:
            services.save_answer(inspection, item_id, g.user, base_revision=fallback.base_revision.data, **changes)
    except WorkflowError as exc:
        db.session.rollback()
        flash(_fallback_message(exc, item_id), "error")
        return redirect(back)
    db.session.commit()
    return redirect(back)


# ---------------------------------------------------------------------------------------------- photos


@bp.get("/<int:inspection_id>/photos/<int:photo_id>")
@login_required
def photo(inspection_id: int, photo_id: int) -> ResponseReturnValue:
    """The bytes of one photo, for whoever may see the inspection (privately cached: photos never change)."""
    inspection = _inspection_or_404(inspection_id)
    photo = db.one_or_404(sa.select(Photo).where(Photo.id == photo_id, Photo.inspection_id == inspection.id))
    thumb = request.args.get("size") == "thumb"
    etag = (photo.sha256 or hashlib.sha256(photo.data).hexdigest()) + ("-thumb" if thumb else "")
    if etag in request.if_none_match:
        response = Response(status=304)
    elif thumb:
        # The form shows 96 px thumbnails: sending the 1600 px photo for each would cost a 3G tablet dearly.
        response = Response(_thumbnail(photo.data), mimetype="image/jpeg")
    else:
        response = Response(photo.data, mimetype=photo.content_type)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = f'inline; filename="{photo.item_id}-{photo.id}.jpg"'
    return response


def _thumbnail(data: bytes) -> bytes:
    """A small JPEG of a stored (already checked and re-encoded) photo."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail(THUMB_SIZE)
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=70)
        return out.getvalue()
