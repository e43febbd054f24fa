"""Compliance dashboard, CSV/XLSX exports and the JSON API (/api/v1/compliance)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..areas.models import ServiceArea
from ..auth.views import login_required
from ..checklists.models import ChecklistVersion
from ..checklists.registry import checklist_of
from ..core.security import MAX_DB_INT
from ..extensions import db
from ..facilities.labels import FACILITY_TYPE_LABELS
from ..facilities.services import unit_visible
from ..i18n import local_today
from ..regions.models import AdminUnit
from .chart import Chart, build_chart
from .distance import TARGET_YEARS, TargetMark, target_marks
from .indicators import DEFAULT_PATH, Indicator, IndicatorError, IndicatorSet, load_indicators_cached
from .listing import FacilityStatus, facility_statuses, iter_facility_statuses, most_failed_items
from .plans import PlanState, config_on
from .population_services import population_lines
from .queries import Area, children_of
from .reform import counterparts, overlaps_scope, plan_key_for, reform_view
from .report import IndicatorSummary, has_area_breakdown, indicator_rows, province_key, summarise_with_groups

bp = Blueprint("compliance", __name__, url_prefix="/compliance")
api_bp = Blueprint("compliance_api", __name__, url_prefix="/api/v1/compliance")

MAIN_INDICATOR = "facilities_meeting_standard"
FAILING_LIMIT = 100
API_PAGE_SIZE = 100
# Dates the compliance pages accept: the programme runs to 2030; year 1 or 9999 would overflow date arithmetic.
MIN_YEAR, MAX_YEAR = 1990, 2100
# Cells starting with these are formulas to Excel/LibreOffice: an apostrophe keeps them text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

OWNERSHIP_LABELS = {"public": _l("Public"), "non_public": _l("Non-public")}
TYPE_LABELS = FACILITY_TYPE_LABELS
STATUS_LABELS = {"meets": _l("Meets the standard"), "conditional": _l("Conditional"),
                 "does_not_meet": _l("Does not meet"), "expired": _l("Assessment expired"),
                 "not_assessed": _l("Never assessed"),
                 # Neither met nor failed: the latest visit could not observe what the checklist requires.
                 "not_assessable": _l("Not assessable: re-visit needed")}


def _locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "vi"


def _national_config() -> IndicatorSet:
    """The indicators file (checked at start-up; see ``_file_broken`` if it is edited into a broken state)."""
    return load_indicators_cached(current_app.config.get("COMPLIANCE_INDICATORS", DEFAULT_PATH))


def _plan_state(area: Area) -> PlanState:
    """The indicators with the province plans in force on the area's day (a broken stored plan left out)."""
    return config_on(_national_config(), area.day)


def _indicators_for(state: PlanState, area: Area) -> tuple[Indicator, ...]:
    """The indicators of the plan that applies to the area (a predecessor's plan in a part of a merged province)."""
    return state.config.for_province(plan_key_for(state.config, area))


def _indicators_config(area: Area) -> tuple[Indicator, ...]:
    return _indicators_for(_plan_state(area), area)


class _BadRequest(Exception):
    """A query parameter that cannot be read; the message says which."""


def _area() -> Area:
    """The area of the request: date=, unit= (404 outside the user's scope) and system= (whole country)."""
    raw_date = request.args.get("date", "").strip()
    if raw_date:
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise _BadRequest(_("The date must look like 2025-12-31.")) from None
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            # Year 1 or 9999 would overflow the date arithmetic of the queries (a 500, not an answer).
            raise _BadRequest(_("The date must be between %(first)d and %(last)d.", first=MIN_YEAR, last=MAX_YEAR))
    else:
        day = local_today()  # Vietnam's day, as inspections are dated
    user = g.user
    unit = user.scope_unit
    raw_unit = request.args.get("unit", "").strip()
    if raw_unit:
        if not raw_unit.isdigit() or int(raw_unit) > MAX_DB_INT:
            abort(404)
        unit = db.session.get(AdminUnit, int(raw_unit))
        if unit is None or (user.scope_unit is not None and not unit_visible(user, unit)
                            and not (user.scope_area_id is None and overlaps_scope(user, unit))):
            abort(404)
    system = request.args.get("system", "2025")
    service_area = None
    raw_area = request.args.get("area", "").strip()
    if user.scope_area_id is not None:
        # An area-scoped user always looks at their own area (their facilities are only there anyway).
        service_area = user.scope_area
        if raw_area and raw_area != str(user.scope_area_id):
            abort(404)
    elif raw_area:
        if not raw_area.isdigit() or int(raw_area) > MAX_DB_INT:
            abort(404)
        service_area = db.session.get(ServiceArea, int(raw_area))
        if service_area is None or (user.scope_unit is not None and not unit_visible(user, service_area.province)):
            abort(404)
    if service_area is not None and (unit is None or unit.system != "2025" or unit.level != "commune"):
        # An area is a level of the 2025 tree: province -> area -> commune.
        unit = service_area.province
    return Area(user=user, day=day, unit=unit, system=system if system in ("2025", "pre2025") else "2025",
                service_area=service_area)


def _drill_groups(area: Area) -> tuple[str, str, str]:
    """The drill-down of a 2025 province with service areas lists the areas; anywhere else, child units."""
    if has_area_breakdown(area):
        return ("area", "ownership", "type")
    return ("unit", "ownership", "type")


def _labels(area: Area) -> dict[str, dict[str, str]]:
    return {
        "ownership": {k: str(v) for k, v in OWNERSHIP_LABELS.items()},
        "type": {k: str(v) for k, v in TYPE_LABELS.items()},
        "none": {"all": area.unit.label if area.unit is not None else _("Whole country"),
                 "unit": _("Directly in this unit"), "area": _("Communes outside any service area")},
    }


def _breadcrumbs(area: Area) -> list[AdminUnit]:
    """The unit's ancestors that the user may open, top down."""
    if area.unit is None:
        return []
    ids = [int(part) for part in area.unit.path.strip("/").split("/") if part.isdigit()]
    units = {u.id: u for u in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(ids)))}
    scope = g.user.scope_unit
    return [units[i] for i in ids if i in units and (scope is None or unit_visible(g.user, units[i])
                                                     or overlaps_scope(g.user, units[i]))]


def _versions() -> list[ChecklistVersion]:
    """Every registered checklist version (a handful), read once for the item texts and section titles."""
    return list(db.session.scalars(sa.select(ChecklistVersion).order_by(ChecklistVersion.version)))


def _item_texts(version_ids: Iterable[int], locale: str,
                versions: list[ChecklistVersion]) -> dict[tuple[int, str], str]:
    texts: dict[tuple[int, str], str] = {}
    wanted = set(version_ids)
    for version in versions:
        if version.id not in wanted:
            continue
        for item in checklist_of(version).items:
            texts[(version.id, item.id)] = item.text.get(locale)
    return texts


def _section_titles(locale: str, versions: list[ChecklistVersion]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for version in versions:
        for section in checklist_of(version).sections:
            titles[section.id] = section.title.get(locale)
    return titles


@bp.errorhandler(_BadRequest)
def _bad_request(exc: _BadRequest) -> ResponseReturnValue:
    return render_template("compliance/error.html", message=str(exc)), 400


@bp.errorhandler(IndicatorError)
def _file_broken(exc: IndicatorError) -> ResponseReturnValue:
    # The file is checked at start-up; edited into a broken state while running, it is named, not a bare 500.
    current_app.logger.error("indicators file has problems:\n%s", exc)
    return render_template("compliance/error.html",
                           message=_("The indicators file has problems; the administrator must correct it "
                                     "(flask indicators validate): %(problems)s", problems=str(exc))), 503


@bp.get("/")
@login_required
def dashboard() -> ResponseReturnValue:
    """Indicators against targets for the user's scope, with drill-down, breakdowns and failing facilities."""
    area = _area()
    locale = _locale()
    state = _plan_state(area)
    key = plan_key_for(state.config, area)
    indicators = state.config.for_province(key)
    main = _main_indicator(indicators)
    # One statement for the values and the three breakdowns (it used to be ~10 round trips). The past years
    # of the trajectory cost as much again per year, and the failing list and most-failed items each about
    # half the day's figures, so the page asks for them after its first paint (trajectory(), failing());
    # without scripts, a link reloads the page with everything in it (?full=1).
    inline = request.args.get("full") == "1"
    drill = _drill_groups(area)
    summaries, groups = summarise_with_groups(area, indicators, trajectory=inline, groups=drill)
    marks = _marks(area, summaries)
    charts = _charts(summaries, marks)
    plan_row = state.versions.get(key) if key else None
    own_key = province_key(area)
    broken = state.broken_for(own_key) + [b for b in state.broken_for(key) if key != own_key]
    by_unit, by_ownership, by_type = groups[drill[0]], groups["ownership"], groups["type"]
    children = {u.id: u for u in children_of(area.unit, area.group_system)}
    return render_template(
        "compliance/dashboard.html", area=area, drill=drill[0], indicators=indicators, summaries=summaries,
        charts=charts,
        by_unit=by_unit, by_ownership=by_ownership, by_type=by_type, children=children,
        breadcrumbs=_breadcrumbs(area), locale=locale,
        ownership_labels=OWNERSHIP_LABELS, type_labels=TYPE_LABELS,
        query=_query_args(area), main=main, marks=marks, broken_plans=broken, plan_row=plan_row,
        plan_key=key, own_key=own_key, reform=reform_view(state.config, area), counterparts=counterparts(area),
        population=population_lines(area.unit, area.day, state.config.provinces.get(key) if key else None),
        trajectory_pending=not inline, failing_pending=not inline,
        **(_failing_context(area, main, locale) if inline else {}))


def _failing_context(area: Area, main: Indicator, locale: str) -> dict[str, Any]:
    """What the failing list and the most-failed items need (compliance/_failing.html)."""
    failing, failing_total = facility_statuses(area, (main,), main, failing_only=True, limit=FAILING_LIMIT)
    failed_items = most_failed_items(area, main)
    versions = _versions()
    return {"failing": failing, "failing_total": failing_total, "failing_limit": FAILING_LIMIT,
            "failed_items": failed_items, "item_texts": _item_texts((f.version_id for f in failed_items), locale,
                                                                    versions),
            "section_titles": _section_titles(locale, versions), "status_labels": STATUS_LABELS}


@bp.get("/failing")
@login_required
def failing() -> ResponseReturnValue:
    """The dashboard's failing facilities and most-failed items, drawn into the page after it opens."""
    area = _area()
    main = _main_indicator(_indicators_config(area))
    return render_template("compliance/_failing.html", area=area, ownership_labels=OWNERSHIP_LABELS,
                           type_labels=TYPE_LABELS, **_failing_context(area, main, _locale()))


@bp.get("/trajectory")
@login_required
def trajectory() -> ResponseReturnValue:
    """The dashboard's trajectory section with the measured past years, drawn into the page after it opens."""
    area = _area()
    summaries, _groups = summarise_with_groups(area, _indicators_config(area), trajectory=True)
    marks = _marks(area, summaries)
    return render_template("compliance/_trajectory.html", area=area, summaries=summaries,
                           charts=_charts(summaries, marks), locale=_locale(), query=_query_args(area),
                           trajectory_pending=False)


def _marks(area: Area, summaries: list[IndicatorSummary]) -> dict[str, list[TargetMark]]:
    return {s.indicator.id: target_marks({area.day.year: s.target_now, 2025: s.target_2025,
                                          2030: s.target_2030}, area.day.year, s.counts.meeting, s.counts.total)
            for s in summaries}


def _charts(summaries: list[IndicatorSummary], marks: dict[str, list[TargetMark]]) -> dict[str, Chart]:
    # Before the past years are measured the chart has its axes and target line already: same size, no shift.
    return {s.indicator.id: build_chart(s.trajectory, s.target_line, s.projection, first_year=s.first_year,
                                        # The named target years only: a label per year would overlap.
                                        marks=[(m.year, m.value) for m in marks[s.indicator.id]
                                               if m.year in TARGET_YEARS])
            for s in summaries}


def _query_args(area: Area) -> dict[str, str]:
    args = {"date": area.day.isoformat()}
    if area.unit is not None and area.unit != g.user.scope_unit:
        args["unit"] = str(area.unit.id)
    if area.unit is None and area.system != "2025":
        args["system"] = area.system
    if area.service_area is not None and g.user.scope_area_id is None:
        args["area"] = str(area.service_area.id)
    return args


# --------------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _indicator_table(area: Area) -> tuple[list[str], list[list[Any]]]:
    indicators = _indicators_config(area)
    rows = indicator_rows(area, indicators, _locale(), _labels(area))
    headers = [_("Date"), _("Indicator"), _("Title"), _("Group"), _("Key"), _("Name"), _("Meeting"),
               _("Facilities"), _("Assessed"), _("Value (percent)"), _("Coverage (percent)"),
               _("Target this year (percent)"), _("Target 2025 (percent)"), _("Target 2030 (percent)")]
    group_names = {"all": _("All"), "unit": _("Unit"), "ownership": _("Ownership"), "type": _("Facility type"),
                   "area": _("Service area")}
    body = [[r["date"], r["indicator"], r["title"], group_names[r["group"]], r["key"], r["label"], r["numerator"],
             r["denominator"], r["assessed"], r["value"], r["coverage"], r["target_this_year"], r["target_2025"],
             r["target_2030"]] for r in rows]
    return headers, body


def _main_indicator(indicators: tuple[Indicator, ...]) -> Indicator:
    return next((i for i in indicators if i.id == MAIN_INDICATOR), indicators[0])


def _record(s: FacilityStatus) -> dict[str, Any]:
    """One facility's status as the API and the exports give it."""
    return {
        "id": s.id, "code": s.code, "name": s.name, "type": s.type, "ownership": s.ownership,
        "high_fertility": s.high_fertility, "unit": s.unit, "legacy_unit": s.legacy_unit, "status": s.status,
        "inspection_id": s.inspection_id,
        "inspection_date": s.inspection_date.isoformat() if s.inspection_date else None,
        "classification": s.classification, "overall_percent": s.overall_percent,
        "critical_failures": s.critical_failures,
        "failing_sections": [sid for sid, _pct, _crit in s.failing_sections],
        "groups": list(s.groups),
        "indicators": dict(s.indicators),
    }


def _facility_records(area: Area, limit: int, offset: int = 0) -> tuple[list[dict[str, Any]], int,
                                                                        tuple[Indicator, ...]]:
    indicators = _indicators_config(area)
    statuses, total = facility_statuses(area, indicators, _main_indicator(indicators), limit=limit, offset=offset)
    return [_record(s) for s in statuses], total, indicators


def _groups_cell(groups: list[dict[str, Any]]) -> str:
    """'readiness 100% Meets the standard; clinical 50% Does not meet' (empty for a checklist without groups)."""
    parts = []
    for g in groups:
        percent = "" if g.get("percent") is None else f" {g['percent']:g}%"
        label = STATUS_LABELS.get(g.get("classification") or "", "")
        parts.append(f"{g['id']}{percent} {label}".strip())
    return "; ".join(parts)


def _facility_table(area: Area) -> tuple[list[str], Iterator[list[Any]]]:
    """The headers, and the rows as they are read (a national export never holds every facility at once)."""
    indicators = _indicators_config(area)
    statuses = iter_facility_statuses(area, indicators, _main_indicator(indicators))
    yes, no = _("yes"), _("no")
    day = area.day.isoformat()

    def flag(value: bool | None) -> str:
        return "" if value is None else (yes if value else no)

    headers = [_("Date"), _("Code"), _("Facility"), _("Type"), _("Ownership"), _("High-fertility area"), _("Unit"),
               _("Pre-2025 unit"), _("Status"), _("Last approved external inspection"), _("Overall (percent)"),
               _("Critical failures"), _("Failing sections"), _("Score groups")] + [ind.id for ind in indicators]
    ownership = {key: str(label) for key, label in OWNERSHIP_LABELS.items()}
    status = {key: str(label) for key, label in STATUS_LABELS.items()}
    body = ([day, r["code"], r["name"], r["type"], ownership[r["ownership"]], flag(r["high_fertility"]), r["unit"],
             r["legacy_unit"] or "", status[r["status"]], r["inspection_date"] or "", r["overall_percent"],
             r["critical_failures"], " ".join(r["failing_sections"]), _groups_cell(r["groups"])]
            + [flag(r["indicators"][ind.id]) for ind in indicators]
            for r in map(_record, statuses))
    return headers, body


# CSV rows written per chunk of a streamed export: few enough to keep memory flat, enough to send few packets.
CSV_CHUNK_ROWS = 500


def _csv(name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """Stream the table as CSV, UTF-8 with a BOM, a chunk of rows at a time."""

    def chunks() -> Iterator[bytes]:
        buffer = io.StringIO()
        # The BOM makes Excel read the file as UTF-8, so Vietnamese names survive a double-click.
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow([neutralise(h) for h in headers])
        for n, row in enumerate(rows, start=1):
            writer.writerow(["" if v is None else neutralise(v) for v in row])
            if n % CSV_CHUNK_ROWS == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    # stream_with_context: the rows are read from the database while the response is sent, inside the request.
    return Response(stream_with_context(chunks()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _xlsx(name: str, sheet: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """The table as XLSX, built in openpyxl's write-only mode (rows go to a temporary file as they come)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append([neutralise(h) for h in headers])
    for row in rows:
        ws.append([neutralise(v) for v in row])
    # Only the finished, compressed file is held in memory (a few MB for the whole country).
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), headers={"Content-Disposition": f'attachment; filename="{name}"'},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _export_name(kind: str, area: Area, ext: str) -> str:
    where = f"-{area.unit.system}-{area.unit.code}" if area.unit is not None else ""
    return f"compliance-{kind}{where}-{area.day.isoformat()}.{ext}"


@bp.get("/export/indicators.<any(csv, xlsx):ext>")
@login_required
def export_indicators(ext: str) -> ResponseReturnValue:
    """Indicator values for the area and date, as CSV (UTF-8 with BOM) or XLSX."""
    area = _area()
    headers, rows = _indicator_table(area)
    name = _export_name("indicators", area, ext)
    return _csv(name, headers, rows) if ext == "csv" else _xlsx(name, "indicators", headers, rows)


@bp.get("/export/facilities.<any(csv, xlsx):ext>")
@login_required
def export_facilities(ext: str) -> ResponseReturnValue:
    """Every active facility of the area with its status on the date, as CSV or XLSX."""
    area = _area()
    headers, rows = _facility_table(area)
    name = _export_name("facilities", area, ext)
    return _csv(name, headers, rows) if ext == "csv" else _xlsx(name, "facilities", headers, rows)


# --------------------------------------------------------------------------------------------------
# JSON API
# --------------------------------------------------------------------------------------------------


@api_bp.before_request
def _require_user() -> ResponseReturnValue | None:
    if g.get("user") is None:
        return jsonify(error="authentication required"), 401
    return None


@api_bp.errorhandler(_BadRequest)
def _api_bad_request(exc: _BadRequest) -> ResponseReturnValue:
    return jsonify(error=str(exc)), 400


@api_bp.errorhandler(IndicatorError)
def _api_file_broken(exc: IndicatorError) -> ResponseReturnValue:
    current_app.logger.error("indicators file has problems:\n%s", exc)
    return jsonify(error="the indicators file has problems", problems=[str(p) for p in exc.problems]), 503


@api_bp.errorhandler(404)
def _api_not_found(exc: Exception) -> ResponseReturnValue:
    return jsonify(error="not found"), 404


def _unit_json(area: Area) -> dict[str, Any] | None:
    unit = area.unit
    if unit is None:
        return None
    return {"id": unit.id, "system": unit.system, "level": unit.level, "code": unit.code, "name": unit.name}


@api_bp.get("/indicators")
def api_indicators() -> ResponseReturnValue:
    """Indicator values for the area and date (same rows as the indicators export)."""
    area = _area()
    state = _plan_state(area)
    indicators = _indicators_for(state, area)
    # A broken stored plan is left out (national targets) and named, as on the dashboard.
    broken = [{"system": b.system, "code": b.code, "name": b.name, "version": b.version, "problems": list(b.problems)}
              for b in state.broken_for(province_key(area))]
    return jsonify(date=area.day.isoformat(), unit=_unit_json(area),
                   rows=indicator_rows(area, indicators, _locale(), _labels(area)), broken_plans=broken)


@api_bp.get("/facilities")
def api_facilities() -> ResponseReturnValue:
    """Facility statuses for the area and date, a page at a time (page=1…)."""
    area = _area()
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_DB_INT else 1
    records, total, _indicators = _facility_records(area, limit=API_PAGE_SIZE, offset=(page - 1) * API_PAGE_SIZE)
    pages = max(1, -(-total // API_PAGE_SIZE))
    next_url = (url_for("compliance_api.api_facilities", **{**request.args.to_dict(), "page": page + 1})
                if page < pages else None)
    return jsonify(date=area.day.isoformat(), unit=_unit_json(area), page=page, per_page=API_PAGE_SIZE,
                   total=total, pages=pages, next=next_url, items=records)
