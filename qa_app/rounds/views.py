"""Supervision round pages: list, planning, progress with assignments, my visits, reports, self-assessments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..auth.views import login_required, roles_required
from ..checklists.schema import FACILITY_TYPES
from ..compliance.indicators import DEFAULT_PATH, load_indicators_cached
from ..compliance.plans import config_on
from ..compliance.queries import Area
from ..compliance.reform import plan_key_for
from ..core.security import MAX_DB_INT
from ..extensions import db
from ..facilities.labels import FACILITY_TYPE_LABELS
from ..facilities.services import unit_visible
from ..i18n import local_today
from ..regions.models import AdminUnit
from . import services
from .export import Issuer, build_report_pdf, build_report_xlsx
from .report import collect, rounds_in_region
from .services import PLAN_ROLES, RoundError, RoundInput

bp = Blueprint("rounds", __name__, url_prefix="/rounds")

TYPE_LABELS = FACILITY_TYPE_LABELS
STATE_LABELS = {"unassigned": _l("Not assigned"), "planned": _l("Planned"), "in_progress": _l("In progress"),
                "done": _l("Done"), "approved": _l("Approved"), "overdue": _l("Overdue"),
                "not_required": _l("Not required")}
KIND_LABELS = {"progress": _l("Progress report"), "final": _l("Final report")}
# Level-neutral: the groups are service areas after the reform, districts only for pre-2025 rounds.
BASIS_LABELS = {"facilities": _l("of the facilities of each area"),
                "communes": _l("of the communes of each area")}
CLASS_LABELS = {"meets": _l("Meets the standard"), "conditional": _l("Conditional"),
                "does_not_meet": _l("Does not meet"), "not_assessable": _l("Not assessable: re-visit needed")}
MAX_PERIOD_DAYS = 3 * 366



def _locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "vi"


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"type_labels": TYPE_LABELS, "state_labels": STATE_LABELS, "kind_labels": KIND_LABELS,
            "basis_labels": BASIS_LABELS, "plan_roles": PLAN_ROLES, "class_labels": CLASS_LABELS}


@bp.app_context_processor
def _due_reports() -> dict[str, Any]:
    # The compliance dashboard lists the rounds' reporting dates as due dates (templates/rounds/_due.html).
    def round_due_reports(unit: AdminUnit | None, day: dt.date) -> list[services.DueReport]:
        if g.get("user") is None:
            return []
        return services.due_reports(g.user, unit, day)

    return {"round_due_reports": round_due_reports, "round_kind_labels": KIND_LABELS}


class _BadRequest(Exception):
    """A query parameter that cannot be read; the message names it."""


@bp.errorhandler(_BadRequest)
def _bad_request(exc: _BadRequest) -> ResponseReturnValue:
    return render_template("rounds/error.html", message=str(exc)), 400


def _date_arg(name: str, default: dt.date, label: str) -> dt.date:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise _BadRequest(_("%(field)s: “%(value)s” is not a date like 2026-04-30.", field=label,
                            value=raw[:40])) from None
    if not 1990 <= day.year <= 2100:  # year 1 or 9999 overflows the date arithmetic of the queries (a 500)
        raise _BadRequest(_("%(field)s: “%(value)s” is not a date like 2026-04-30.", field=label, value=raw[:40]))
    return day


def _round_or_404(round_id: int) -> Any:
    rnd = services.round_for(g.user, round_id)
    if rnd is None:
        abort(404)
    return rnd


# ---------------------------------------------------------------------------------------------- pages


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """Rounds the user may see, with their deadlines and targets."""
    today = local_today()
    return render_template("rounds/index.html", rounds=services.rounds_for(g.user), today=today,
                           can_plan=g.user.role in PLAN_ROLES)


def _form_input() -> RoundInput:
    f = request.form
    return RoundInput(name=f.get("name", ""), unit_id=f.get("unit_id", ""), facility_types=f.getlist("facility_types"),
                      start_date=f.get("start_date", ""), deadline=f.get("deadline", ""),
                      coverage_basis=f.get("coverage_basis", "facilities"),
                      coverage_target=f.get("coverage_target", ""), progress_dates=f.get("progress_dates", ""),
                      final_date=f.get("final_date", ""), commune_codes=f.get("commune_codes", ""),
                      decision_number=f.get("decision_number", ""), decision_date=f.get("decision_date", ""),
                      decision_issuer=f.get("decision_issuer", ""))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*PLAN_ROLES)
def new() -> ResponseReturnValue:
    """Plan a round: region, facility types, dates, coverage target and reporting dates."""
    data = RoundInput(facility_types=list(FACILITY_TYPES), coverage_target="80")
    error: RoundError | None = None
    if request.method == "POST":
        data = _form_input()
        try:
            rnd = services.create_round(g.user, data)
        except RoundError as exc:
            db.session.rollback()
            error = exc
        else:
            db.session.commit()
            flash(_("Round “%(name)s” planned. Now assign its facilities to supervisors.", name=rnd.name), "success")
            return redirect(url_for(".view", round_id=rnd.id))
    units = services.plannable_units(g.user)
    return render_template("rounds/new.html", data=data, error=error, units=units, types=FACILITY_TYPES,
                           areas=services.plannable_areas(g.user)), (
        400 if error else 200)


@bp.route("/<int:round_id>/edit", methods=["GET", "POST"])
@roles_required(*PLAN_ROLES)
def edit(round_id: int) -> ResponseReturnValue:
    """Change a round's name, dates, target and reporting dates (its region and facility types stay)."""
    rnd = _round_or_404(round_id)
    if not services.can_manage(g.user, rnd):
        abort(404)
    data = services.input_of(rnd)
    error: RoundError | None = None
    if request.method == "POST":
        data = _form_input()
        try:
            services.update_round(g.user, rnd, data)
        except RoundError as exc:
            db.session.rollback()
            error = exc
        else:
            db.session.commit()
            flash(_("Round “%(name)s” saved.", name=rnd.name), "success")
            return redirect(url_for(".view", round_id=rnd.id))
    return render_template("rounds/new.html", data=data, error=error, units=[rnd.unit], types=FACILITY_TYPES,
                           rnd=rnd), (400 if error else 200)


@bp.get("/<int:round_id>")
@login_required
def view(round_id: int) -> ResponseReturnValue:
    """Progress of a round per district against its coverage target, and its facilities."""
    rnd = _round_or_404(round_id)
    day = _date_arg("date", local_today(), _("As of"))
    prog = services.progress(rnd, g.user, day)
    manage = services.can_manage(g.user, rnd)
    state = request.args.get("state", "")
    facilities = [f for f in prog.facilities if not state or f.state == state]
    return render_template(
        "rounds/view.html", rnd=rnd, prog=prog, day=day, manage=manage, facilities=facilities, state=state,
        supervisors=services.assignable_supervisors(rnd, g.user) if manage else [], today=local_today())


@bp.post("/<int:round_id>/assign")
@roles_required(*PLAN_ROLES)
def assign(round_id: int) -> ResponseReturnValue:
    """Assign the ticked facilities to a supervisor (or remove their assignment)."""
    rnd = _round_or_404(round_id)
    if not services.can_manage(g.user, rnd):
        abort(404)
    raw_ids = request.form.getlist("facility_ids")
    raw_sup = request.form.get("supervisor_id", "").strip()
    raw_due = request.form.get("due_date", "").strip()
    try:
        if not all(r.isdigit() for r in raw_ids):
            raise RoundError("facility_ids", _("Facilities: the list sent is not valid; reload the page."))
        if raw_sup not in ("", "none") and not raw_sup.isdigit():
            raise RoundError("supervisor_id", _("Supervisor: choose one from the list."))
        try:
            due = dt.date.fromisoformat(raw_due) if raw_due else None
        except ValueError:
            raise RoundError("due_date", _("Visit due date: “%(value)s” is not a date like 2026-04-30.",
                                           value=raw_due[:40])) from None
        if raw_sup == "":
            raise RoundError("supervisor_id", _("Supervisor: choose one, or “Remove the assignment”."))
        count = services.assign(rnd, g.user, [int(r) for r in raw_ids],
                                None if raw_sup == "none" else int(raw_sup), due)
    except RoundError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".view", round_id=rnd.id)), 303
    except sa.exc.IntegrityError:
        # Two managers assigning the same facility at once: the second one's change is refused whole.
        db.session.rollback()
        flash(_("Someone else changed these assignments at the same time: nothing was saved, please try again."),
              "error")
        return redirect(url_for(".view", round_id=rnd.id)), 303
    db.session.commit()
    flash(ngettext("%(num)d facility updated.", "%(num)d facilities updated.", count), "success")
    return redirect(url_for(".view", round_id=rnd.id)), 303


@bp.get("/mine")
@login_required
def mine() -> ResponseReturnValue:
    """The signed-in supervisor's assigned visits, overdue first (as of date=, default today)."""
    today = _date_arg("date", local_today(), _("As of"))
    return render_template("rounds/mine.html", visits=services.my_visits(g.user, today), today=today)


# ---------------------------------------------------------------------------------------------- reports


def _issuer(today: dt.date) -> Issuer:
    from ..minutes.services import setting

    recipients = setting("MINUTES_RECIPIENTS") or ()
    if isinstance(recipients, str):
        recipients = [r for r in recipients.split(";") if r.strip()]
    return Issuer(parent_body=str(setting("ISSUING_UNIT_PARENT")), issuing_body=str(setting("ISSUING_UNIT_NAME")),
                  unit_code=str(setting("ISSUING_UNIT_CODE")), place=str(setting("ISSUING_UNIT_PLACE")),
                  issued_on=today, recipients=tuple(str(r) for r in recipients))


def _child_label(unit: AdminUnit | None) -> str:
    if unit is not None and unit.system == "pre2025" and unit.level == "province":
        return _("District")
    return _("Commune") if unit is not None else _("Province")


def _region_unit() -> AdminUnit | None:
    """unit= of the request (404 outside the user's scope), else the user's scope unit."""
    raw = request.args.get("unit", "").strip()
    if not raw:
        return g.user.scope_unit
    unit = db.session.get(AdminUnit, int(raw)) if raw.isdigit() and int(raw) <= MAX_DB_INT else None
    if unit is None or not unit_visible(g.user, unit):
        abort(404)
    return unit


def _report_response(kind: str, ext: str, unit: AdminUnit | None, start: dt.date, end: dt.date,
                     rounds: list, stem: str) -> Response:
    if end < start:
        raise _BadRequest(_("The end of the period is before its start."))
    if (end - start).days > MAX_PERIOD_DAYS:
        raise _BadRequest(_("A report covers at most three years."))
    locale = _locale()
    area = Area(user=g.user, day=end, unit=unit, system=unit.system if unit is not None else "2025")
    # The province plans in force at the end of the period, as the compliance pages use them.
    config = config_on(load_indicators_cached(current_app.config.get("COMPLIANCE_INDICATORS", DEFAULT_PATH)),
                       end).config
    indicators = config.for_province(plan_key_for(config, area))
    region = unit.name if unit is not None else _("Whole country")
    data = collect(g.user, unit, start, end, kind, indicators, locale, rounds=rounds, region_label=region,
                   district_label=_child_label(unit))
    issuer = _issuer(local_today())
    name = f"{stem}-{kind}-{start.isoformat()}-{end.isoformat()}.{ext}"
    if ext == "pdf":
        return Response(build_report_pdf(data, issuer, locale), mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(build_report_xlsx(data, issuer, locale),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/<int:round_id>/report/<any(progress, final):kind>.<any(pdf, xlsx):fmt>")
@roles_required(*PLAN_ROLES)
def round_report(round_id: int, kind: str, fmt: str) -> ResponseReturnValue:
    """A round's progress report (as of date=, default today) or final report (as of its deadline)."""
    rnd = _round_or_404(round_id)
    default_end = rnd.deadline if kind == "final" else min(local_today(), rnd.deadline)
    end = _date_arg("date", default_end, _("Report date"))
    # Report on the round's region, or on the user's own part of it when the round is wider than their scope.
    own = services.unit_in_scope(g.user, rnd.unit) or services.covers(g.user, rnd)
    unit = rnd.unit if own else g.user.scope_unit
    return _report_response(kind, fmt, unit, rnd.start_date, max(end, rnd.start_date), [rnd], f"round-{rnd.id}")


@bp.get("/reports")
@roles_required(*PLAN_ROLES)
def reports() -> ResponseReturnValue:
    """Choose a region and a period for a progress or final report."""
    today = local_today()
    unit = _region_unit()
    start = _date_arg("start", dt.date(today.year, 1, 1), _("From"))
    end = _date_arg("end", today, _("To"))
    return render_template("rounds/reports.html", unit=unit, units=services.plannable_units(g.user), start=start,
                           end=end,
                           rounds=rounds_in_region(g.user, unit, start, end) if start <= end else [])


@bp.get("/reports/<any(progress, final):kind>.<any(pdf, xlsx):fmt>")
@roles_required(*PLAN_ROLES)
def period_report(kind: str, fmt: str) -> ResponseReturnValue:
    """The report of a region and period: compliance, rounds' coverage, classes, failures, actions, districts."""
    today = local_today()
    unit = _region_unit()
    start = _date_arg("start", dt.date(today.year, 1, 1), _("From"))
    end = _date_arg("end", today, _("To"))
    stem = f"report-{unit.system}-{unit.code}" if unit is not None else "report"
    return _report_response(kind, fmt, unit, start, end, rounds_in_region(g.user, unit, start, end), stem)


@bp.get("/self-assessments")
@roles_required(*PLAN_ROLES)
def self_assessments() -> ResponseReturnValue:
    """Self-assessments beside the external results of the same period, and the items they disagree on most."""
    today = local_today()
    unit = _region_unit()
    start = _date_arg("start", dt.date(today.year, 1, 1), _("From"))
    end = _date_arg("end", today, _("To"))
    if end < start:
        raise _BadRequest(_("The end of the period is before its start."))
    from .report import item_texts, self_comparison

    area = Area(user=g.user, day=end, unit=unit, system=unit.system if unit is not None else "2025")
    items, _sections = item_texts(_locale())
    pairs, disagreements = self_comparison(area, start, items)
    return render_template("rounds/self.html", unit=unit, units=services.plannable_units(g.user), start=start,
                           end=end, pairs=pairs, disagreements=disagreements)
