"""Supervision rounds: planning, assignments and progress (flush, never commit; views commit).

Scope works as everywhere else: a user manages rounds whose region lies in their own subtree (or whose
facilities all lie in it, across the two unit systems: a 2025 province over a pre-2025 district); a user whose
subtree lies inside a round's region (a reviewer of a district or service area under a provincial round), or
shares facilities with it, sees that round, but only the facilities of their own subtree. Everything else is a 404 in the views.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import aliased

from ..areas.importers import split_codes
from ..areas.models import ServiceArea, ServiceAreaCommune
from ..audit.services import record
from ..auth.models import User
from ..auth.services import facility_in_scope
from ..checklists.schema import FACILITY_TYPES
from ..extensions import db
from ..facilities.models import Facility
from ..inspections.models import Inspection
from ..regions.models import AdminUnit

# Who sees and manages a round; re-exported for the views and the other domains.
from .access import (  # noqa: F401
    PLAN_ROLES,
    _area_communes,
    can_manage,
    can_see,
    covers,
    narrower_region,
    overlaps,
    plannable_areas,
    plannable_units,
    region_facility_ids,
    round_for,
    rounds_for,
    unit_in_scope,
)
from .coverage import BASES, FacilityVisit, GroupCoverage, RoundWindow, coverage, state, total
from .models import REPORT_KINDS, RoundAssignment, RoundCommune, RoundReportDate, SupervisionRound

MAX_NAME = 200
MAX_REPORT_DATES = 12
# Ranks of what an inspection within the round's window amounts to (the best one counts).
_VISIT_RANK = {"draft": 1, "returned": 2, "submitted": 2, "approved": 3}
_RANK_VISIT = {0: "none", 1: "draft", 2: "done", 3: "approved"}


class RoundError(ValueError):
    """Input that cannot make a round; ``field`` names the form field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# ---------------------------------------------------------------------------------------------- planning


@dataclass
class RoundInput:
    """What the planning form sends, as text, before checking."""

    name: str = ""
    unit_id: str = ""
    facility_types: Sequence[str] = ()
    start_date: str = ""
    deadline: str = ""
    coverage_basis: str = "facilities"
    coverage_target: str = ""
    progress_dates: str = ""
    final_date: str = ""
    # 2025 commune codes: the round covers only these communes of the chosen province.
    commune_codes: str = ""
    # The decision establishing the team: number, date (ISO), issuing body; all three or none.
    decision_number: str = ""
    decision_date: str = ""
    decision_issuer: str = ""


def _date(field: str, raw: str, label: str) -> dt.date:
    raw = (raw or "").strip()
    if not raw:
        raise RoundError(field, _("%(label)s: a date is required", label=label))
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise RoundError(field, _("%(label)s: “%(raw)s” is not a date like 2026-04-30",
                                  label=label, raw=raw[:40])) from None


def _dates(field: str, raw: str, label: str) -> list[dt.date]:
    parts = [p for p in (raw or "").replace(";", ",").replace("\n", ",").split(",") if p.strip()]
    if len(parts) > MAX_REPORT_DATES:
        raise RoundError(field, _("%(label)s: at most %(n)d dates", label=label, n=MAX_REPORT_DATES))
    return sorted({_date(field, p, label) for p in parts})


def check_input(user: User, data: RoundInput, fixed_unit: AdminUnit | None = None) -> dict[str, object]:
    """Every field checked; the first problem raises RoundError naming the field. Returns clean values.

    ``fixed_unit``: editing a round, whose region does not change (its assignments depend on it).
    """
    name = unicodedata.normalize("NFC", (data.name or "").strip())
    if not name:
        raise RoundError("name", _("Name: required"))
    if len(name) > MAX_NAME:
        raise RoundError("name", _("Name: at most %(n)d characters", n=MAX_NAME))
    raw_unit = (data.unit_id or "").strip()
    area, communes = None, []
    if fixed_unit is None and raw_unit.startswith("area:"):
        area = _plannable_area(user, raw_unit[5:])
        unit = area.province if area is not None else None
    else:
        unit = fixed_unit or (db.session.get(AdminUnit, int(raw_unit)) if raw_unit.isdigit() else None)
        if unit is not None and fixed_unit is None and not unit_in_scope(user, unit) and not (
                user.scope_area_id is not None and unit.id == user.scope_unit_id and data.commune_codes.strip()):
            unit = None
    if unit is None:
        raise RoundError("unit_id", _("Region: choose a province, a service area or a district of your scope"))
    if unit.level == "commune":
        raise RoundError("unit_id", _("Region: to visit some communes, choose their province and list the communes"))
    if fixed_unit is None and data.commune_codes.strip():
        communes = _communes_of(user, unit, data.commune_codes)
    types = [t for t in data.facility_types if t]
    unknown = [t for t in types if t not in FACILITY_TYPES]
    if unknown:
        raise RoundError("facility_types", _("Facility types: unknown %(codes)s", codes=", ".join(unknown)))
    if not types:
        raise RoundError("facility_types", _("Facility types: choose at least one"))
    start = _date("start_date", data.start_date, _("Start date"))
    deadline = _date("deadline", data.deadline, _("Deadline"))
    if deadline < start:
        raise RoundError("deadline", _("Deadline: must not be before the start date"))
    if data.coverage_basis not in BASES:
        raise RoundError("coverage_basis", _("Coverage basis: choose facilities or communes"))
    try:
        target = Decimal((data.coverage_target or "").strip().replace(",", "."))
    except InvalidOperation:
        raise RoundError("coverage_target", _("Coverage target: a percentage such as 80")) from None
    if not target.is_finite() or not 0 < target <= 100:
        raise RoundError("coverage_target", _("Coverage target: a percentage above 0 and at most 100"))
    progress = _dates("progress_dates", data.progress_dates, _("Progress report dates"))
    final = _dates("final_date", data.final_date, _("Final report date"))
    if len(final) > 1:
        raise RoundError("final_date", _("Final report date: one date"))
    for day in progress + final:
        if day < start:
            raise RoundError("progress_dates" if day in progress else "final_date",
                             _("Report dates: %(date)s is before the start of the round", date=day.isoformat()))
    if final and any(p > final[0] for p in progress):
        raise RoundError("progress_dates", _("Progress report dates: must come before the final report date"))
    decision = _decision(data, deadline)
    return {"decision": decision, "name": name, "unit": unit, "area": area, "communes": communes,
            "facility_types": sorted(set(types), key=FACILITY_TYPES.index),
            "start_date": start, "deadline": deadline, "coverage_basis": data.coverage_basis,
            "coverage_target": target.quantize(Decimal("0.01")),
            "report_dates": [("progress", d) for d in progress] + [("final", d) for d in final]}


def _decision(data: RoundInput, deadline: dt.date) -> tuple[str, dt.date | None, str]:
    """The team decision of the round: number, date and issuing body together, or none of them."""
    number = unicodedata.normalize("NFC", (data.decision_number or "").strip())
    issuer = unicodedata.normalize("NFC", (data.decision_issuer or "").strip())
    raw_date = (data.decision_date or "").strip()
    if not (number or issuer or raw_date):
        return "", None, ""
    if not number:
        raise RoundError("decision_number", _("Team decision: write its number, or leave all three fields empty"))
    if len(number) > 60:
        raise RoundError("decision_number", _("Team decision: the number has at most %(n)d characters", n=60))
    on = _date("decision_date", raw_date, _("Team decision date"))
    if on > deadline:
        raise RoundError("decision_date", _("Team decision date: must not be after the deadline of the round"))
    if not issuer:
        raise RoundError("decision_issuer", _("Team decision: write the issuing body, or leave all three fields empty"))
    if len(issuer) > 200:
        raise RoundError("decision_issuer", _("Team decision: the issuing body has at most %(n)d characters", n=200))
    return number, on, issuer


def round_of_inspection(inspection: Inspection) -> SupervisionRound | None:
    """The round an inspection was made in: an external visit of a facility the round assigned, dated within the
    round (the latest-starting such round when rounds overlap)."""
    if inspection.kind != "external":
        return None
    return db.session.scalar(
        sa.select(SupervisionRound).join(RoundAssignment, RoundAssignment.round_id == SupervisionRound.id)
        .where(RoundAssignment.facility_id == inspection.facility_id,
               SupervisionRound.start_date <= inspection.inspection_date,
               SupervisionRound.deadline >= inspection.inspection_date)
        .order_by(SupervisionRound.start_date.desc(), SupervisionRound.id.desc()).limit(1))


def _plannable_area(user: User, raw_id: str) -> ServiceArea | None:
    """The service area a user may plan over: their own, or any area of a province in their scope."""
    area = db.session.get(ServiceArea, int(raw_id)) if raw_id.isdigit() else None
    if area is None:
        return None
    if user.scope_area_id is not None:
        return area if area.id == user.scope_area_id else None
    return area if unit_in_scope(user, area.province) else None


def _communes_of(user: User, unit: AdminUnit, raw: str) -> list[AdminUnit]:
    """The listed 2025 communes of ``unit`` (a 2025 province), each in the user's scope."""
    if unit.system != "2025" or unit.level != "province":
        raise RoundError("commune_codes", _("Communes: list communes only with a 2025 province as region"))
    codes = split_codes(raw)
    found = {u.code: u for u in db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.system == "2025", AdminUnit.level == "commune", AdminUnit.parent_id == unit.id,
        AdminUnit.code.in_(codes)))}
    allowed = _area_communes(user) if user.scope_area_id is not None else None
    for code in codes:
        if code not in found or (allowed is not None and found[code].id not in allowed):
            raise RoundError("commune_codes", _("Communes: %(code)s is not a commune of %(province)s in your scope",
                                                code=code, province=unit.name))
    return [found[code] for code in dict.fromkeys(codes)]


def create_round(user: User, data: RoundInput) -> SupervisionRound:
    """Check the input and add the round with its reporting dates (flush only)."""
    if user.role not in PLAN_ROLES:
        raise RoundError("", _("Only reviewers and provincial managers plan rounds"))
    clean = check_input(user, data)
    rnd = SupervisionRound(
        name=clean["name"], unit=clean["unit"], area=clean["area"], facility_types=clean["facility_types"],
        start_date=clean["start_date"], deadline=clean["deadline"], coverage_basis=clean["coverage_basis"],
        coverage_target=clean["coverage_target"], created_by_id=user.id)
    rnd.team_decision_number, rnd.team_decision_date, rnd.team_decision_issuer = clean["decision"]
    rnd.report_dates = [RoundReportDate(kind=k, due_date=d) for k, d in clean["report_dates"]]
    rnd.commune_rows = [RoundCommune(unit_id=unit.id) for unit in clean["communes"]]
    db.session.add(rnd)
    db.session.flush()
    record("round.created", "supervision_round", rnd.id, user_id=user.id, details={
        "name": rnd.name, "unit": rnd.unit_id, "area": rnd.area_id,
        "communes": [unit.code for unit in clean["communes"]], "types": rnd.facility_types,
        "start": rnd.start_date.isoformat(),
        "deadline": rnd.deadline.isoformat(), "basis": rnd.coverage_basis, "target": str(rnd.coverage_target),
        "decision": _decision_audit(rnd)})
    return rnd


def update_round(user: User, rnd: SupervisionRound, data: RoundInput) -> SupervisionRound:
    """Change a round's name, dates, target and reporting dates (a deadline extension, most often).

    The region and the facility types stay: assignments were made for them. Refused whole when an assigned
    visit's own due date would fall outside the new dates.
    """
    if not can_manage(user, rnd):
        raise RoundError("", _("You cannot change this round"))
    data.facility_types = list(rnd.facility_types)
    clean = check_input(user, data, fixed_unit=rnd.unit)
    start, deadline = clean["start_date"], clean["deadline"]
    outside = db.session.scalar(sa.select(sa.func.count()).select_from(RoundAssignment).where(
        RoundAssignment.round_id == rnd.id, RoundAssignment.due_date.is_not(None),
        sa.or_(RoundAssignment.due_date < start, RoundAssignment.due_date > deadline)))
    if outside:
        raise RoundError("deadline", ngettext(
            "Dates: %(num)d assigned visit is due outside the new dates; change its due date first.",
            "Dates: %(num)d assigned visits are due outside the new dates; change their due dates first.",
            outside))
    before = {"name": rnd.name, "start": rnd.start_date.isoformat(), "deadline": rnd.deadline.isoformat(),
              "basis": rnd.coverage_basis, "target": str(rnd.coverage_target),
              "reports": [(r.kind, r.due_date.isoformat()) for r in rnd.report_dates],
              "decision": _decision_audit(rnd)}
    rnd.team_decision_number, rnd.team_decision_date, rnd.team_decision_issuer = clean["decision"]
    rnd.name, rnd.start_date, rnd.deadline = clean["name"], start, deadline
    rnd.coverage_basis, rnd.coverage_target = clean["coverage_basis"], clean["coverage_target"]
    wanted = set(clean["report_dates"])
    rnd.report_dates = [r for r in rnd.report_dates if (r.kind, r.due_date) in wanted] + [
        RoundReportDate(kind=k, due_date=d) for k, d in sorted(wanted - {(r.kind, r.due_date)
                                                                          for r in rnd.report_dates})]
    db.session.flush()
    record("round.changed", "supervision_round", rnd.id, user_id=user.id, details={
        "before": before, "after": {"name": rnd.name, "start": start.isoformat(), "deadline": deadline.isoformat(),
                                    "basis": rnd.coverage_basis, "target": str(rnd.coverage_target),
                                    "reports": [(k, d.isoformat()) for k, d in sorted(wanted)],
                                    "decision": _decision_audit(rnd)}})
    return rnd


def _decision_audit(rnd: SupervisionRound) -> list[str]:
    return [rnd.team_decision_number or "", rnd.team_decision_date.isoformat() if rnd.team_decision_date else "",
            rnd.team_decision_issuer or ""]


def input_of(rnd: SupervisionRound) -> RoundInput:
    """The planning form filled with a round's current values."""
    return RoundInput(
        name=rnd.name, unit_id=str(rnd.unit_id), facility_types=list(rnd.facility_types),
        start_date=rnd.start_date.isoformat(), deadline=rnd.deadline.isoformat(), coverage_basis=rnd.coverage_basis,
        coverage_target=f"{rnd.coverage_target.normalize():f}",
        progress_dates=", ".join(r.due_date.isoformat() for r in rnd.report_dates if r.kind == "progress"),
        final_date=next((r.due_date.isoformat() for r in rnd.report_dates if r.kind == "final"), ""),
        decision_number=rnd.team_decision_number or "", decision_issuer=rnd.team_decision_issuer or "",
        decision_date=rnd.team_decision_date.isoformat() if rnd.team_decision_date else "")


# ---------------------------------------------------------------------------------------------- facilities


def _region_columns(rnd: SupervisionRound) -> tuple[sa.ColumnElement, Any, sa.ColumnElement, list]:
    """(unit path, commune, group id, joins) of a facility in the round's unit system.

    Pre-2025 rounds group by district (the parent of the facility's pre-2025 commune). A 2025 round has no
    districts in its own system; it groups by the service area holding the facility's commune on the round's
    start (the unit that organises the visits after the reform; group id = minus the area id), else by the
    pre-2025 district where the registry knows it, else by the facility's own 2025 commune: a station opened
    after the reform outside any area is its commune's group, never a province-wide bucket.
    """
    commune = aliased(AdminUnit, name="r_commune")
    if rnd.unit.system == "pre2025":
        return commune.path, commune, commune.parent_id, [(commune, commune.id == Facility.legacy_unit_id)]
    legacy = aliased(AdminUnit, name="r_legacy")
    day = rnd.start_date
    area = (sa.select(ServiceAreaCommune.area_id).join(ServiceArea, ServiceArea.id == ServiceAreaCommune.area_id)
            .where(ServiceAreaCommune.unit_id == Facility.unit_id, ServiceArea.valid_from <= day,
                   sa.or_(ServiceArea.valid_to.is_(None), ServiceArea.valid_to >= day))
            .order_by(ServiceArea.id).limit(1).scalar_subquery())
    group = sa.case((area.is_not(None), -area), (legacy.level == "commune", legacy.parent_id), else_=commune.id)
    return commune.path, commune, group, [(commune, commune.id == Facility.unit_id),
                                          (legacy, legacy.id == Facility.legacy_unit_id)]


def _visit_rank(rnd: SupervisionRound) -> sa.ScalarSelect:
    rank = sa.case(*[(Inspection.status == s, r) for s, r in _VISIT_RANK.items()], else_=0)
    return (sa.select(sa.func.coalesce(sa.func.max(rank), 0))
            .where(Inspection.facility_id == Facility.id, Inspection.kind == "external",
                   Inspection.inspection_date >= rnd.start_date, Inspection.inspection_date <= rnd.deadline)
            .scalar_subquery())


@dataclass
class RoundFacility:
    """A facility of the round as listed on the progress page."""

    id: int
    code: str
    name: str
    type: str
    commune: str
    group_id: int
    assignment_id: int | None
    supervisor_id: int | None
    supervisor: str
    due_date: dt.date | None
    visit: FacilityVisit
    state: str = ""


def round_facilities(rnd: SupervisionRound, user: User, day: dt.date,
                     facility_ids: Iterable[int] | None = None) -> list[RoundFacility]:
    """Facilities of the round's region and types, within the user's scope, with assignment and visit."""
    path, commune, group_id, joins = _region_columns(rnd)
    sup = aliased(User, name="sup")
    stmt = (sa.select(Facility.id, Facility.code, Facility.name, Facility.type, commune.name, commune.id, group_id,
                      Facility.active_from, Facility.active_to, RoundAssignment.id, RoundAssignment.supervisor_id,
                      sup.full_name, RoundAssignment.due_date, _visit_rank(rnd))
            .select_from(Facility).join(*joins[0])
            .outerjoin(RoundAssignment, sa.and_(RoundAssignment.facility_id == Facility.id,
                                                RoundAssignment.round_id == rnd.id))
            .outerjoin(sup, sup.id == RoundAssignment.supervisor_id)
            .where(path.startswith(rnd.unit.path, autoescape=True), narrower_region(rnd),
                   Facility.type.in_(rnd.facility_types),
                   facility_in_scope(user),
                   # Facilities that closed before the round or opened after its deadline are not part of it.
                   Facility.active_from <= rnd.deadline,
                   sa.or_(Facility.active_to.is_(None), Facility.active_to >= rnd.start_date)))
    for target, on in joins[1:]:
        stmt = stmt.outerjoin(target, on)
    if facility_ids is not None:
        stmt = stmt.where(Facility.id.in_(list(facility_ids)))
    window = window_of(rnd)
    rows = []
    for r in db.session.execute(stmt.order_by(commune.name, Facility.name, Facility.id)):
        visit = FacilityVisit(facility_id=r[0], group_id=int(r[6]) if r[6] is not None else 0, commune_id=r[5],
                              active_from=r[7], active_to=r[8], visit=_RANK_VISIT[int(r[13] or 0)],
                              assigned=r[9] is not None, due=r[12])
        rows.append(RoundFacility(id=r[0], code=r[1], name=r[2], type=r[3], commune=r[4], group_id=visit.group_id,
                                  assignment_id=r[9], supervisor_id=r[10], supervisor=r[11] or "", due_date=r[12],
                                  visit=visit, state=state(visit, window, day)))
    return rows


def window_of(rnd: SupervisionRound) -> RoundWindow:
    """The pure view of the round's dates and target."""
    return RoundWindow(start=rnd.start_date, deadline=rnd.deadline, target=float(rnd.coverage_target),
                       basis=rnd.coverage_basis)


@dataclass
class Progress:
    """A round's coverage per district and in total on one day."""

    round: SupervisionRound
    day: dt.date
    groups: list[GroupCoverage]
    total: GroupCoverage
    group_names: dict[int, str]
    facilities: list[RoundFacility]


def group_names(ids: Iterable[int]) -> dict[int, str]:
    """Names of coverage groups: units by id, service areas by minus their id (see _region_columns)."""
    wanted = list(ids)
    units = [i for i in wanted if i > 0]
    areas = [-i for i in wanted if i < 0]
    names = {u.id: u.name for u in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(units)))}
    names.update({-a.id: a.name for a in db.session.scalars(sa.select(ServiceArea).where(ServiceArea.id.in_(areas)))})
    return names


def progress(rnd: SupervisionRound, user: User, day: dt.date) -> Progress:
    """Coverage of the round per district (per the user's scope) on ``day``."""
    facilities = round_facilities(rnd, user, day)
    window = window_of(rnd)
    groups = coverage((f.visit for f in facilities), window, day)
    names = group_names([g.group_id for g in groups if g.group_id])
    # Computed over all facilities, not summed: a 2025 commune may hold facilities of two old districts.
    whole = coverage((f.visit for f in facilities), window, day, by_group=False)
    return Progress(round=rnd, day=day, groups=groups, total=whole[0] if whole else total([], window),
                    group_names=names, facilities=facilities)


# ---------------------------------------------------------------------------------------------- assignments


def assignable_supervisors(rnd: SupervisionRound, manager: User) -> list[User]:
    """Active supervisors who cover at least one facility of the round that the manager also covers."""
    region = region_facility_ids(rnd).where(facility_in_scope(manager))
    users = list(db.session.scalars(sa.select(User).where(User.role == "supervisor", User.active.is_(True))
                                    .order_by(User.full_name, User.id)))
    # One small query per supervisor of the country is fine for a province; the scope test is the same
    # SQL condition every list uses, so a supervisor offered here can always be assigned.
    return [u for u in users if db.session.scalar(
        sa.select(Facility.id).where(Facility.id.in_(region), facility_in_scope(u)).limit(1)) is not None]


def assign(rnd: SupervisionRound, manager: User, facility_ids: Sequence[int], supervisor_id: int | None,
           due_date: dt.date | None = None) -> int:
    """Assign (or reassign) facilities to a supervisor; ``supervisor_id`` None removes the assignments.

    Every facility must belong to the round and the manager's scope, and lie in the supervisor's scope;
    any refusal leaves nothing changed. Returns the number of facilities changed.
    """
    if not can_manage(manager, rnd):
        raise RoundError("", _("You cannot change this round's assignments"))
    wanted = sorted({int(i) for i in facility_ids})
    if not wanted:
        raise RoundError("facility_ids", _("Facilities: choose at least one"))
    known = {f.id: f for f in round_facilities(rnd, manager, rnd.start_date, wanted)}
    missing = [i for i in wanted if i not in known]
    if missing:
        raise RoundError("facility_ids", _("Facilities: %(n)d of the chosen facilities are not part of this round",
                                           n=len(missing)))
    if due_date is not None and not rnd.start_date <= due_date <= rnd.deadline:
        raise RoundError("due_date", _("Visit due date: must lie between the round's start date and its deadline"))
    existing = {a.facility_id: a for a in db.session.scalars(sa.select(RoundAssignment).where(
        RoundAssignment.round_id == rnd.id, RoundAssignment.facility_id.in_(wanted)))}
    if supervisor_id is None:
        for a in existing.values():
            db.session.delete(a)
        db.session.flush()
        record("round.unassigned", "supervision_round", rnd.id, user_id=manager.id,
               details={"facilities": sorted(existing)})
        return len(existing)
    supervisor = db.session.get(User, supervisor_id)
    if supervisor is None or supervisor not in assignable_supervisors(rnd, manager):
        raise RoundError("supervisor_id", _("Supervisor: choose an active supervisor of this round's area"))
    outside = [known[i].code for i in wanted
               if db.session.scalar(sa.select(Facility.id).where(Facility.id == i, facility_in_scope(supervisor)))
               is None]
    if outside:
        raise RoundError("supervisor_id", _("Supervisor: %(name)s does not cover %(codes)s",
                                            name=supervisor.full_name, codes=", ".join(outside)))
    for i in wanted:
        a = existing.get(i)
        if a is None:
            db.session.add(RoundAssignment(round_id=rnd.id, facility_id=i, supervisor_id=supervisor.id,
                                           due_date=due_date))
        else:
            a.supervisor_id, a.due_date = supervisor.id, due_date
    db.session.flush()
    record("round.assigned", "supervision_round", rnd.id, user_id=manager.id,
           details={"facilities": wanted, "supervisor": supervisor.id,
                    "due": due_date.isoformat() if due_date else None})
    return len(wanted)


@dataclass
class MyVisit:
    """An assigned visit as the supervisor sees it."""

    round: SupervisionRound
    facility: RoundFacility


def my_visits(user: User, day: dt.date) -> list[MyVisit]:
    """The user's assigned visits in rounds not finished more than 30 days ago, due soonest first."""
    rounds = db.session.scalars(
        sa.select(SupervisionRound).where(SupervisionRound.id.in_(
            sa.select(RoundAssignment.round_id).where(RoundAssignment.supervisor_id == user.id)),
            SupervisionRound.deadline >= day - dt.timedelta(days=30))
        .order_by(SupervisionRound.deadline))
    out = []
    for rnd in rounds:
        for f in round_facilities(rnd, user, day):
            if f.supervisor_id == user.id:
                out.append(MyVisit(rnd, f))
    order = {"overdue": 0, "in_progress": 1, "planned": 2, "done": 3, "approved": 4, "not_required": 5}
    out.sort(key=lambda v: (order.get(v.facility.state, 9), v.facility.due_date or v.round.deadline,
                            v.facility.name))
    return out


# ---------------------------------------------------------------------------------------------- due dates


@dataclass(frozen=True)
class DueReport:
    """A reporting date of a round, as the compliance dashboard lists it."""

    round_id: int
    round_name: str
    kind: str
    due_date: dt.date


def due_reports(user: User, unit: AdminUnit | None, day: dt.date, past_days: int = 30,
                ahead_days: int = 120) -> list[DueReport]:
    """Reporting dates of the rounds the user sees, for the viewed unit, around ``day``."""
    rows = []
    for rnd in rounds_for(user):
        if unit is not None and not (rnd.unit.path.startswith(unit.path) or unit.path.startswith(rnd.unit.path)):
            continue
        for rd in rnd.report_dates:
            if day - dt.timedelta(days=past_days) <= rd.due_date <= day + dt.timedelta(days=ahead_days):
                rows.append(DueReport(rnd.id, rnd.name, rd.kind, rd.due_date))
    return sorted(rows, key=lambda r: (r.due_date, r.round_name))


__all__ = ["REPORT_KINDS", "PLAN_ROLES", "RoundError", "RoundInput", "create_round", "assign", "progress",
           "round_for", "rounds_for", "my_visits", "due_reports"]
