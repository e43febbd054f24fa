"""Province plans in the browser: provincial managers (their province) and administrators edit targets and filters.

Every save is a new version (compare-and-set on the version the form was opened at) with its audit entry, in
one transaction; the dashboard reads the version in force on its date at once.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from ..audit.models import AuditEntry
from ..auth.models import User
from ..auth.views import roles_required
from ..core.imports import run_upload_import
from ..core.security import MAX_DB_INT
from ..extensions import db
from ..facilities.services import unit_visible
from ..i18n import local_today
from ..regions.importers import RowError
from ..regions.models import AdminUnit
from .indicators import DEFAULT_PATH, MAX_YEAR, MIN_YEAR, IndicatorError, IndicatorSet, load_indicators_cached
from .plan_models import ProvincePlanVersion
from .plans import PlanConflict, PlanInput, current_version, file_only_parts, save_plan, versions_of
from .population import POPULATION_INDICATORS
from .population_import import MAX_FILE_BYTES as POPULATION_MAX_BYTES
from .population_import import parse_population
from .population_services import import_population
from .queries import province_of
from .reform import overlaps_scope

bp = Blueprint("plans", __name__, url_prefix="/compliance/plans")

EDITOR_ROLES = ("provincial_manager", "admin")
# high_fertility filter choices of the form: keep the national definition, count every station, or only
# stations in high-fertility areas (the 1848 wording).
FERTILITY_CHOICES = ("", "any", "high")
# "2025: 85; 2030: 95" (a comma may also separate entries when a year follows it).
_ENTRY_SPLIT = re.compile(r"[;\n]|,(?=\s*\d{4}\s*[:=])")
_ENTRY = re.compile(r"^\s*(\d{1,4})\s*[:=]\s*(\d{1,3}(?:[.,]\d{1,2})?)\s*%?\s*$")
MAX_NAME, MAX_NUMBER = 300, 60
# Population figures a plan may set targets on (percentages; a count such as pregnancies has none).
POPULATION_TARGETED = tuple(i for i, ind in POPULATION_INDICATORS.items() if ind.kind == "percent")


def _national() -> IndicatorSet:
    return load_indicators_cached(current_app.config.get("COMPLIANCE_INDICATORS", DEFAULT_PATH))


def _locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "vi"


def _province_of_request() -> AdminUnit:
    """The province the page is about: ?unit= (any unit of it) or the user's own; 404 outside the user's region."""
    user = g.user
    raw = request.values.get("unit", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) > MAX_DB_INT:
            abort(404)
        unit = db.session.get(AdminUnit, int(raw))
        # A manager of a merged 2025 province also keeps the plans of the provinces merged into it.
        if unit is None or (user.scope_unit is not None and not unit_visible(user, unit) and not (
                unit.system == "pre2025" and user.scope_area_id is None and overlaps_scope(user, unit))):
            abort(404)
    else:
        unit = user.scope_unit
        if unit is None:
            abort(404)  # an administrator of the whole country picks a province from the list
    province = province_of(unit)
    if province is None:
        abort(404)
    if user.role != "admin" and (user.scope_area_id is not None or user.scope_unit is None
                                 or user.scope_unit.level != "province"):
        # A manager of part of a province (a service area, a pre-2025 district) sees the plan's targets on the
        # dashboard; the plan itself is the province's managers'.
        abort(403)
    return province


def parse_targets(raw: str, label: str) -> tuple[dict[int, float], list[str]]:
    """'2025: 85; 2030: 95' → {2025: 85.0, 2030: 95.0}, or the problems in the user's language."""
    targets: dict[int, float] = {}
    problems: list[str] = []
    for part in (p.strip() for p in _ENTRY_SPLIT.split(raw)):
        if not part:
            continue
        match = _ENTRY.match(part)
        value = float(match.group(2).replace(",", ".")) if match else None
        year = int(match.group(1)) if match else None
        if match is None or value is None or not 0 <= value <= 100 or not MIN_YEAR <= year <= MAX_YEAR:
            problems.append(_("Targets of “%(indicator)s”: “%(part)s” is not valid. Write year: percentage, e.g. "
                              "2025: 85; 2030: 95 (the percentage from 0 to 100, the year from %(first)d to "
                              "%(last)d).", indicator=label, part=part[:40], first=MIN_YEAR, last=MAX_YEAR))
        elif year in targets:
            problems.append(_("Targets of “%(indicator)s”: the year %(year)d is given twice.", indicator=label,
                              year=year))
        else:
            targets[year] = value
    return targets, problems


def _date(raw: str, label: str, problems: list[str], required: bool) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        if required:
            problems.append(_("%(field)s: required.", field=label))
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(_("%(field)s: “%(value)s” is not a date (e.g. 2025-07-01).", field=label, value=raw[:20]))
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        problems.append(_("%(field)s: the year must be between %(first)d and %(last)d.", field=label,
                          first=MIN_YEAR, last=MAX_YEAR))
        return None
    return day


def read_form(form: Any, national: IndicatorSet, previous: dict[str, Any]) -> tuple[PlanInput | None, list[str]]:
    """The plan entered in the form, or the problems (each naming its field, in the user's language)."""
    problems: list[str] = []
    locale = _locale()
    name = form.get("name", "").strip()
    if not name:
        problems.append(_("%(field)s: required.", field=_("Plan name")))
    elif len(name) > MAX_NAME:
        problems.append(_("%(field)s: at most %(n)d characters.", field=_("Plan name"), n=MAX_NAME))
    number = form.get("number", "").strip()
    if len(number) > MAX_NUMBER:
        problems.append(_("%(field)s: at most %(n)d characters.", field=_("Number"), n=MAX_NUMBER))
    issued_on = _date(form.get("issued_on", ""), _("Date of issue"), problems, required=False)
    effective = _date(form.get("effective_from", ""), _("In force from"), problems, required=True)
    overrides: dict[str, dict[str, Any]] = {}
    for indicator in national.indicators:
        if not form.get(f"override-{indicator.id}"):
            continue
        label = indicator.title.get(locale)
        change: dict[str, Any] = {}
        targets, found = parse_targets(form.get(f"targets-{indicator.id}", ""), label)
        # The file's validator refuses it too, but in its own words; here, in the manager's, naming the indicator.
        baseline = indicator.baseline_year
        early = sorted(year for year in targets if baseline is not None and year <= baseline)
        if early:
            found.append(_("Targets of “%(indicator)s”: %(year)d is not after the baseline year %(baseline)d.",
                           indicator=label, year=early[0], baseline=baseline))
        problems += found
        if targets:
            change["targets"] = targets
        fertility = form.get(f"fertility-{indicator.id}", "")
        if fertility not in FERTILITY_CHOICES:
            problems.append(_("Filter of “%(indicator)s”: unknown choice.", indicator=label))
        # Filters the form does not show (facility types, ownership) are kept as the previous version had them.
        filters = dict((previous.get(indicator.id) or {}).get("filters") or {})
        filters.pop("high_fertility", None)
        if fertility:
            filters["high_fertility"] = True if fertility == "high" else None
        if filters:
            change["filters"] = filters
        if not change and not found:
            problems.append(_("“%(indicator)s” is ticked as changed by the plan: give its targets or a filter, "
                              "or untick it.", indicator=label))
        overrides[indicator.id] = change
    population: dict[str, dict[int, float]] = {}
    for ident in POPULATION_TARGETED:
        targets, found = parse_targets(form.get(f"population-{ident}", ""),
                                       POPULATION_INDICATORS[ident].title.get(locale))
        problems += found
        if targets:
            population[ident] = targets
    if problems or effective is None:
        return None, problems
    return PlanInput(name=name, number=number, issued_on=issued_on, effective_from=effective,
                     overrides=overrides, population_targets=population), []


def _form_values(row: Any, national: IndicatorSet) -> dict[str, str]:
    """The form's fields filled from a stored version (or from the file's entry, before any version)."""
    values: dict[str, str] = {}
    if row is None:
        return values
    # Not the stored version's "in force from": a new version starts on its own date (today unless changed),
    # and keeping the old date would apply the edit to the past.
    values.update(name=row.name, number=row.number, issued_on=row.issued_on.isoformat() if row.issued_on else "")
    for ident, change in (row.overrides or {}).items():
        values[f"override-{ident}"] = "y"
        targets = change.get("targets") or {}
        values[f"targets-{ident}"] = "; ".join(f"{y}: {v:g}" for y, v in sorted(
            ((int(k), float(v)) for k, v in targets.items() if str(k).isdigit() and isinstance(v, int | float))))
        filters = change.get("filters") or {}
        if "high_fertility" in filters:
            values[f"fertility-{ident}"] = "high" if filters["high_fertility"] else "any"
    for ident, targets in (row.population_targets or {}).items():
        values[f"population-{ident}"] = _targets_text(targets.items())
    return values


def _targets_text(pairs: Any) -> str:
    """{2025: 85, 2030: 95} as the form writes it: '2025: 85; 2030: 95'."""
    return "; ".join(f"{y}: {v:g}" for y, v in sorted(
        (int(k), float(v)) for k, v in pairs if str(k).isdigit() and isinstance(v, int | float)))


def _history(key: str) -> list[tuple[AuditEntry, str]]:
    entries = list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.entity_type == "province_plan", AuditEntry.entity_id == key).order_by(AuditEntry.id.desc())))
    names = dict(db.session.execute(sa.select(User.id, User.full_name).where(
        User.id.in_({e.user_id for e in entries if e.user_id is not None}))).all())
    return [(e, names.get(e.user_id, "")) for e in entries]


@bp.get("/")
@roles_required(*EDITOR_ROLES)
def index() -> ResponseReturnValue:
    """The province plans the user may edit: their province's, or for an administrator every province."""
    user = g.user
    if user.scope_unit is not None:
        return redirect(url_for("plans.edit"))
    stored = db.session.execute(sa.select(ProvincePlanVersion.system, ProvincePlanVersion.code).distinct()).all()
    keys = sorted({*_national().provinces, *((s, c) for s, c in stored)})
    provinces = {(u.system, u.code): u for u in db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.level == "province"))}
    all_provinces = sorted(provinces.values(), key=lambda u: (u.system != "2025", u.code))
    return render_template("compliance/plans_index.html", keys=keys, provinces=provinces,
                           all_provinces=all_provinces)


@bp.route("/edit", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def edit() -> ResponseReturnValue:
    """Edit the province's plan: a new version in force from the date given, audited."""
    province = _province_of_request()
    national = _national()
    system, code = province.system, province.code
    versions = versions_of(system, code)
    latest = versions[0] if versions else None
    file_plan = national.provinces.get((system, code))
    problems: list[str] = []
    status = 200
    base = -1
    if request.method == "POST":
        raw_base = request.form.get("base_version", "")
        base = int(raw_base) if raw_base.isdigit() and int(raw_base) <= MAX_DB_INT else -1
        plan, problems = read_form(request.form, national, latest.overrides if latest else {})
        if latest is None and file_plan is not None and (parts := file_only_parts(file_plan)):
            # Saving would replace the file's entry whole and lose what the form cannot hold.
            problems = [_("This province's plan in the indicators file has parts the form cannot hold (%(parts)s): "
                          "change it in the file.", parts=", ".join(parts))]
            plan = None
        if plan is not None and latest is not None and plan.effective_from < latest.effective_from:
            # A version dated before the one in force would replace it from then on and rewrite past figures.
            problems = [_("“In force from” (%(date)s) is before version %(version)d, in force from %(latest)s. "
                          "A new version applies from that date or later.", date=plan.effective_from.strftime(
                              "%d/%m/%Y"), version=latest.version, latest=latest.effective_from.strftime("%d/%m/%Y"))]
            plan = None
        if plan is not None:
            try:
                row = save_plan(system, code, base, plan, national, g.user.id)
            except IndicatorError as exc:
                db.session.rollback()
                problems = [_("The plan is not valid: %(problem)s", problem=p.message) for p in exc.problems]
            except PlanConflict:
                db.session.rollback()
                problems = [_("Someone saved this plan while you were editing it (now version %(version)d). "
                              "Your changes were not saved: reload the page and enter them again.",
                              version=current_version(system, code))]
                status = 409
            else:
                db.session.commit()
                flash(_("Plan saved as version %(version)d, in force from %(date)s.", version=row.version,
                        date=row.effective_from.strftime("%d/%m/%Y")), "success")
                return redirect(url_for("plans.edit", unit=province.id))
        values = request.form.to_dict()
        status = status if status != 200 else 400
    else:
        values = _form_values(latest, national)
        if latest is None and file_plan is not None:
            values.update(name=file_plan.plan or file_plan.name)
            for ident, change in file_plan.overrides.items():
                values[f"override-{ident}"] = "y"
                values[f"targets-{ident}"] = "; ".join(f"{y}: {v:g}" for y, v in change.get("targets", ()))
                if "high_fertility" in (change.get("filters") or {}):
                    values[f"fertility-{ident}"] = "high" if change["filters"]["high_fertility"] else "any"
            for ident, targets in file_plan.population_targets.items():
                values[f"population-{ident}"] = _targets_text(targets)
        values.setdefault("effective_from", local_today().isoformat())
    return render_template("compliance/plan_edit.html", province=province, national=national,
                           values=values, problems=problems, versions=versions,
                           # After a conflict the form keeps the version it was built from, so saving again is
                           # refused again until the page is reloaded (never overwriting the other manager's).
                           base_version=base if status == 409 else current_version(system, code),
                           history=_history(f"{system}:{code}"),
                           locale=_locale(), file_plan=file_plan,
                           population=[POPULATION_INDICATORS[i] for i in POPULATION_TARGETED]), status


class PopulationImportForm(FlaskForm):
    """Upload of a population-figures CSV file."""

    file = FileField(_l("CSV file (UTF-8)"), validators=[FileRequired(_l("Choose a CSV file."))],
                     render_kw={"accept": ".csv,text/csv"})


@bp.route("/population", methods=["GET", "POST"])
@roles_required(*EDITOR_ROLES)
def population() -> ResponseReturnValue:
    """Import reported population figures from CSV (all or nothing, every problem with its row)."""
    form = PopulationImportForm()
    problems: list[RowError] = []
    user = g.user
    if user.role != "admin" and user.scope_area_id is not None:
        abort(403)  # figures are reported for provinces and communes, by the province

    def allowed(unit: AdminUnit) -> bool:
        return user.scope_unit is None or unit_visible(user, unit) or (
            unit.system == "pre2025" and overlaps_scope(user, unit))

    if form.validate_on_submit():
        report, problems = run_upload_import(
            form.file.data, POPULATION_MAX_BYTES, parse_population,
            lambda parsed, source, sha: import_population(parsed, user_id=user.id, source=source, sha256=sha,
                                                          allowed=allowed))
        if report is not None and not problems:
            flash(_("Population figures added: %(created)d, replaced: %(replaced)d.", created=report.created,
                    replaced=report.replaced), "success")
            return redirect(url_for(".population"))
    status = 400 if problems or (request.method == "POST" and form.errors) else 200
    return render_template("compliance/population_import.html", form=form, problems=problems,
                           indicators=POPULATION_INDICATORS, locale=_locale()), status
