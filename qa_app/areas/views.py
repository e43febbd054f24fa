"""Administration of service areas: the list, a CSV upload, and editing one area (administrators only)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..auth.views import roles_required
from ..core.imports import run_upload_import
from ..extensions import db
from ..regions.importers import N_, RowError
from .importers import MAX_FILE_BYTES, AreaFile, AreaRow, parse_areas, split_codes
from .models import ServiceArea, ServiceAreaCommune
from .services import all_areas, import_areas

bp = Blueprint("areas", __name__, url_prefix="/admin/areas")


class AreaImportForm(FlaskForm):
    """Upload of a service-area CSV file."""

    file = FileField(_l("CSV file (UTF-8)"), validators=[FileRequired(_l("Choose a CSV file."))],
                     render_kw={"accept": ".csv,text/csv"})


class AreaForm(FlaskForm):
    """One area's name, running unit, communes and dates."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    owner_code = StringField(_l("Running unit (facility code)"), validators=[Optional(), Length(max=32)])
    commune_codes = TextAreaField(_l("Commune codes (2025)"), validators=[InputRequired()])
    valid_from = DateField(_l("Valid from"), validators=[InputRequired()])
    valid_to = DateField(_l("Valid to"), validators=[Optional()])


def _counts() -> dict[int, int]:
    return {area_id: count for area_id, count in db.session.execute(
        sa.select(ServiceAreaCommune.area_id, sa.func.count()).group_by(ServiceAreaCommune.area_id))}


@bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def index() -> ResponseReturnValue:
    """Every area, and the CSV import (all or nothing, every problem with its row)."""
    form = AreaImportForm()
    problems: list[RowError] = []
    if form.validate_on_submit():
        report, problems = run_upload_import(
            form.file.data, MAX_FILE_BYTES, parse_areas,
            lambda parsed, source, sha: import_areas(parsed, user_id=g.user.id, source=source, sha256=sha))
        if report is not None and not problems:
            flash(_("Service areas created: %(created)d, replaced: %(updated)d.", created=report.created,
                    updated=report.updated), "success")
            return redirect(url_for(".index"))
    status = 400 if problems or (request.method == "POST" and form.errors) else 200
    return render_template("admin/areas.html", areas=all_areas(), counts=_counts(), form=form,
                           problems=problems), status


@bp.route("/<int:area_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit(area_id: int) -> ResponseReturnValue:
    """Change one area; the same checks as the import (communes of one province, no overlap, owner type)."""
    area = db.get_or_404(ServiceArea, area_id)
    form = AreaForm(obj=area)
    if not form.is_submitted():
        form.owner_code.data = area.owner.code if area.owner else ""
        form.commune_codes.data = " ".join(sorted(link.unit.code for link in area.commune_rows))
    problems: list[RowError] = []
    if form.validate_on_submit():
        codes = split_codes(form.commune_codes.data or "")
        if form.valid_to.data and form.valid_to.data < form.valid_from.data:
            form.valid_to.errors.append(_("valid_to is before valid_from."))
        else:
            # One row of the import, so a page edit and a file obey exactly the same rules.
            row = AreaRow(1, area.code, form.name.data.strip(), (form.owner_code.data or "").strip() or None,
                          tuple(dict.fromkeys(codes)), form.valid_from.data, form.valid_to.data)
            bad = [c for c in row.commune_codes if not (c.isdigit() and len(c) == 5)]
            problems = [RowError(0, N_("'%(value)s' is not a 5-digit commune code."), {"value": c}) for c in bad]
            if not problems:
                problems = import_areas(AreaFile(rows=[row]), user_id=g.user.id, source="edit").errors
            if problems:
                db.session.rollback()
            else:
                db.session.commit()
                flash(_("Service area %(code)s saved.", code=area.code), "success")
                return redirect(url_for(".index"))
    status = 400 if problems or form.errors else 200
    return render_template("admin/area_form.html", area=area, form=form, problems=problems), status
