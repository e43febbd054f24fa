"""Facility registry pages: the scoped list, one facility, and the CSV import."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from ..auth.views import login_required, roles_required
from ..checklists.schema import FACILITY_TYPES
from ..core.imports import run_upload_import
from ..core.security import db_int
from ..i18n import local_today
from ..inspections.services import open_actions
from ..regions.fertility import high_fertility_on
from . import labels
from .forms import FacilityImportForm
from .importers import COLUMNS, MAX_FILE_BYTES, parse_facilities
from .models import OWNERSHIPS
from .services import (
    FacilityFilters,
    allowed_unit_ids,
    facility_for,
    import_facilities,
    inspection_history,
    list_facilities,
    sub_stations_for,
    unit_chain,
    unit_options,
)
from .status import STATUSES, facility_status

bp = Blueprint("facilities", __name__, url_prefix="/facilities")

IMPORT_ROLES = ("provincial_manager", "admin")
START_ROLES = ("supervisor", "admin")


def inspection_url(inspection_id: int) -> str:
    """Link to an inspection's page (a plain path until the inspections blueprint has its view)."""
    try:
        return url_for("inspections.view", inspection_id=inspection_id)
    except BuildError:
        return f"/inspections/{inspection_id}"


@bp.context_processor
def _registry_helpers() -> dict[str, Any]:
    return {"labels": labels, "inspection_url": inspection_url}


def _int_arg(name: str) -> int | None:
    try:
        return db_int(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """Facility list of the user's region: search, filters, status badges, 50 per page."""
    filters = FacilityFilters(
        q=request.args.get("q", ""), unit_id=_int_arg("unit"), type=request.args.get("type") or None,
        ownership=request.args.get("ownership") or None, status=request.args.get("status") or None,
        page=_int_arg("page") or 1).cleaned()
    allowed = allowed_unit_ids(g.user)
    page = list_facilities(g.user, filters, local_today(), allowed_units=allowed)
    args = {k: v for k, v in request.args.items() if k not in ("page", "lang") and v}
    return render_template(
        "facilities/index.html", page=page, filters=filters, unit_groups=unit_options(g.user, allowed),
        types=FACILITY_TYPES, ownerships=OWNERSHIPS, statuses=STATUSES, page_args=args,
        can_import=g.user.role in IMPORT_ROLES, today=local_today())


@bp.get("/<int:facility_id>")
@login_required
def view(facility_id: int) -> ResponseReturnValue:
    """One facility: profile, services, status, inspection history, open corrective actions."""
    facility = facility_for(g.user, facility_id)
    if facility is None:
        # 404, not 403: a facility outside the user's region must not be known to exist.
        abort(404)
    today = local_today()
    return render_template(
        "facilities/view.html", facility=facility, today=today, status=facility_status(facility.id, today),
        unit_path=unit_chain(facility.unit), legacy_path=unit_chain(facility.legacy_unit),
        inspections=inspection_history(facility.id), actions=open_actions(facility.id),
        can_start=g.user.role in START_ROLES and facility.is_active(today),
        # The dated designation of its commune, as the indicators count it (not the facility's old flag).
        high_fertility=high_fertility_on(facility.unit_id, facility.legacy_unit_id, today),
        # The station it belongs to and its own sub-stations, as far as the user's region reaches.
        parent=facility_for(g.user, facility.parent_facility_id) if facility.parent_facility_id else None,
        sub_stations=sub_stations_for(g.user, facility.id))


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*IMPORT_ROLES)
def import_csv() -> ResponseReturnValue:
    """Import facilities from a CSV file: every problem listed with its row, nothing written unless all is valid."""
    form = FacilityImportForm()
    report = None
    problems = []
    if form.validate_on_submit():
        report, problems = run_upload_import(
            form.file.data, MAX_FILE_BYTES, parse_facilities,
            lambda parsed, source, sha: import_facilities(parsed, g.user, source=source, sha256=sha))
        if report is not None and not problems:
            flash(_("Created: %(created)d, updated: %(updated)d, unchanged: %(unchanged)d.",
                    created=report.created, updated=report.updated, unchanged=report.unchanged), "success")
            current_app.logger.info("facility import by %s: %s created, %s updated", g.user.username,
                                    report.created, report.updated)
    status = 400 if problems or (request.method == "POST" and form.errors) else 200
    return render_template("facilities/import.html", form=form, report=report, problems=problems,
                           max_mb=MAX_FILE_BYTES // (1024 * 1024)), status


@bp.get("/import/template.csv")
@roles_required(*IMPORT_ROLES)
def import_template() -> ResponseReturnValue:
    """A CSV template with the header and one example row (UTF-8 with BOM, so Excel shows Vietnamese)."""
    example = ("TYT-03430,Trạm Y tế xã Bản Bo,TYT,public,2025,03430,03430,VU;BCS;TT;DCTC,1,2015-01-01,,"
               "\"Bản Bo, Tam Đường, Lai Châu\",0213 3870 123,Nguyễn Văn A")
    body = "\ufeff" + ",".join(COLUMNS) + "\r\n" + example + "\r\n"
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=facilities-template.csv"})
