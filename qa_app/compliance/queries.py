"""Compliance as SQL aggregates: each facility's status on a date from its latest approved external inspection.

Read-only queries; nothing here loads inspections into Python loops. The latest inspection per facility is
a ROW_NUMBER() window (SQLite >= 3.25 and PostgreSQL); the validity window and the section minimum come
from each checklist version's scoring rules, turned into a CASE over the (few) registered versions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import aliased

from ..areas.models import ServiceArea, ServiceAreaCommune
from ..auth.models import User
from ..auth.services import facility_in_scope
from ..checklists.models import ChecklistVersion
from ..checklists.registry import per_version
from ..extensions import db
from ..facilities.models import Facility, FacilityService
from ..inspections.models import Answer, Inspection, StatusInterval
from ..inspections.status import DEFAULT_VALIDITY_MONTHS, months_back, validity_months
from ..regions.fertility import in_high_fertility_area
from ..regions.models import AdminUnit
from .indicators import Indicator

DEFAULT_SECTION_MIN = 50.0
GROUPS = ("all", "unit", "ownership", "type")


ROUTINE = "routine"
DEFAULT_PROGRAMMES: tuple[str, ...] = (ROUTINE,)
NOT_ASSESSABLE = "not_assessable"
# Answer values that are not a result: never "met", whatever the stored failed flag says.
NOT_MET_VALUES = ("na", "not_observed", NOT_ASSESSABLE)



def version_rules() -> dict[int, tuple[int, float]]:
    """(validity_months, section_min) of every registered checklist version, by version id.

    Read once per request (a dashboard builds several queries): versions registered during a request are not
    seen by that request's later queries, which is what a consistent page needs anyway.
    """
    if has_request_context():
        memo = g.get("_compliance_version_rules")
        if memo is None:
            memo = g._compliance_version_rules = _version_rules()
        return memo
    return _version_rules()


def _rules_of(content: dict[str, Any] | None) -> tuple[int, float]:
    scoring = (content or {}).get("scoring") or {}
    # The validity as the read model reads it (inspections.status): one rule for both.
    return validity_months(content), float(scoring.get("section_min", DEFAULT_SECTION_MIN))


def _version_rules() -> dict[int, tuple[int, float]]:
    return per_version("compliance_rules", _rules_of)


@dataclass(frozen=True)
class Area:
    """Where to count: the user's scope, optionally narrowed to one unit's subtree, on one day."""

    user: User
    day: dt.date
    unit: AdminUnit | None = None
    # The unit system used to group by child unit when ``unit`` is None (whole country).
    system: str = "2025"
    # A service area (of ``unit``, a 2025 province): only its communes' facilities count.
    service_area: ServiceArea | None = None

    @property
    def group_system(self) -> str:
        """The system whose units the drill-down lists."""
        return self.unit.system if self.unit is not None else self.system


@dataclass
class Counts:
    """Facilities counted by an indicator, assessed (valid inspection) and meeting its rule."""

    total: int = 0
    assessed: int = 0
    meeting: int = 0

    @property
    def value(self) -> float | None:
        """Share meeting the rule, in percent (None with no facility)."""
        return 100.0 * self.meeting / self.total if self.total else None

    @property
    def coverage(self) -> float | None:
        """Share with a valid assessment, in percent."""
        return 100.0 * self.assessed / self.total if self.total else None


@dataclass
class GroupRow:
    """One row of an aggregate: a group key and label, and the counts of each indicator."""

    key: Any
    label: str
    counts: dict[str, Counts] = field(default_factory=dict)


def latest_per_facility(stmt: sa.Select) -> sa.Select:
    """From ``stmt`` (inspection rows), each facility's latest row by (date, id), with an ``rn`` column of 1.

    PostgreSQL gets DISTINCT ON, not "row_number() = 1": it estimates a window filter at ~0.5 % of the rows
    (550 for 45,000 facilities nationally) and then joins facilities to the result with a nested loop, one
    scan per facility: minutes at national scale. DISTINCT ON is estimated from the facility_id statistics, so
    the join is hashed. SQLite plans the window well and has no DISTINCT ON.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import distinct_on

        return (stmt.add_columns(sa.literal(1).label("rn")).ext(distinct_on(Inspection.facility_id))
                .order_by(Inspection.facility_id, Inspection.inspection_date.desc(), Inspection.id.desc()))
    rank = sa.func.row_number().over(
        partition_by=Inspection.facility_id, order_by=(Inspection.inspection_date.desc(), Inspection.id.desc()))
    ranked = stmt.add_columns(rank.label("rn")).subquery("ranked")
    return sa.select(ranked).where(ranked.c.rn == 1)


class _Query:
    """The pieces shared by every compliance query for one area, date and set of indicators.

    Each facility's latest result is read from the read model (``status_interval``, see docs/read-model.md):
    an interval lookup, for every indicator that reads one programme's external inspections (all the shipped
    ones). An indicator that reads several programmes together, or self-assessments, has its latest result
    ranked from the inspections, as is everything with ``source = "raw"``; the equivalence tests compare both.
    """

    source = "intervals"

    def __init__(self, area: Area, indicators: tuple[Indicator, ...],
                 timeline: sa.CTE | dict[tuple[str, ...], sa.CTE] | None = None,
                 rules: dict[int, tuple[int, float]] | None = None) -> None:
        self.area = area
        self.indicators = indicators
        self.rules = rules if rules is not None else version_rules()
        self.cur = aliased(AdminUnit, name="cur_unit")
        self.leg = aliased(AdminUnit, name="leg_unit")
        # With a timeline (see timeline_cte), the latest inspection on the area's day is picked from it by date;
        # several _Query objects for different days then share one window computation in one statement.
        self.timeline = timeline
        # One latest-inspection CTE per set of programmes the indicators read: routine supervision for all but
        # an indicator that names others (filters.programmes). The routine one always exists: lists show it.
        sets = [DEFAULT_PROGRAMMES] + sorted({ind.filters.programmes for ind in indicators} - {DEFAULT_PROGRAMMES})
        if isinstance(timeline, dict):
            self.latests = {progs: timeline[progs] for progs in sets}
        elif timeline is not None:
            self.latests = {DEFAULT_PROGRAMMES: timeline}
        else:
            self.latests = {progs: self._latest(progs, i) for i, progs in enumerate(sets)}
        self.latest = self.latests[DEFAULT_PROGRAMMES]

    def latest_of(self, indicator: Indicator) -> Any:
        """The latest-inspection CTE the indicator reads (by its programmes)."""
        return self.latests[indicator.filters.programmes]

    def _eligible(self, programmes: tuple[str, ...], *columns: Any) -> sa.Select:
        """Approved external inspections of the area up to its day, in ``programmes``, corrected ones left out."""
        superseded = (sa.select(Inspection.supersedes_id)
                      .where(Inspection.supersedes_id.is_not(None), Inspection.status == "approved"))
        # A facility's own self-assessment is not an external inspection; an indicator reads it only when it
        # names the self-assessment programme.
        kinds = ("external", "self") if "self_assessment" in programmes else ("external",)
        stmt = (sa.select(Inspection.id, Inspection.facility_id, Inspection.inspection_date,
                          Inspection.checklist_version_id, Inspection.classification, Inspection.overall_percent,
                          Inspection.critical_failures, *columns)
                .where(Inspection.status == "approved", Inspection.kind.in_(kinds),
                       Inspection.inspection_date <= self.area.day,
                       # The indicators measure routine quality supervision unless they say otherwise: a
                       # campaign visit or a GPP inspection uses another checklist and must not replace the
                       # facility's routine result.
                       Inspection.checklist_version_id.in_(
                           sa.select(ChecklistVersion.id).where(ChecklistVersion.programme.in_(programmes))),
                       # An approved correction replaces the inspection it corrects.
                       Inspection.id.not_in(superseded)))
        area_ids = self._area_facility_ids()
        if area_ids is not None:
            # Rank only the area's inspections: a district's drill-down must not sort the nation's. The
            # sub-stations of the area's stations too, wherever they lie: the roll-up rule reads them.
            sub = aliased(Facility, name="area_sub")
            subs = sa.select(sub.id).where(sub.parent_facility_id.in_(area_ids))
            stmt = stmt.where(sa.or_(Inspection.facility_id.in_(area_ids), Inspection.facility_id.in_(subs)))
        return stmt

    def _latest(self, programmes: tuple[str, ...] = DEFAULT_PROGRAMMES, index: int = 0) -> sa.CTE:
        # MATERIALIZED: computed once per query. Without it SQLite re-runs the window for every facility
        # of the outer join (60 s instead of milliseconds at province scale).
        name = "latest" if index == 0 else f"latest_{index}"
        if self._reads_intervals(programmes):
            day = self.area.day
            return (self._intervals(programmes[0])
                    .where(sa.or_(StatusInterval.ends_on.is_(None), StatusInterval.ends_on > day))
                    .cte(name).prefix_with("MATERIALIZED"))
        return latest_per_facility(self._eligible(programmes)).cte(name).prefix_with("MATERIALIZED")

    def _reads_intervals(self, programmes: tuple[str, ...]) -> bool:
        """The intervals hold each programme's own sequence of external results: one programme, not self."""
        return self.source == "intervals" and len(programmes) == 1 and programmes[0] != "self_assessment"

    def _intervals(self, programme: str, *columns: Any) -> sa.Select:
        """The programme's result intervals of the area's facilities that start on or before its day.

        Named like the inspection columns the raw path gives, so every query reads either the same way.
        """
        stmt = (sa.select(StatusInterval.inspection_id.label("id"), StatusInterval.facility_id,
                          StatusInterval.starts_on.label("inspection_date"), StatusInterval.checklist_version_id,
                          StatusInterval.classification, StatusInterval.overall_percent,
                          StatusInterval.critical_failures, StatusInterval.expires_on, *columns)
                .where(StatusInterval.programme == programme, StatusInterval.starts_on <= self.area.day))
        area_ids = self._area_facility_ids()
        if area_ids is not None:
            sub = aliased(Facility, name="area_sub")
            subs = sa.select(sub.id).where(sub.parent_facility_id.in_(area_ids))
            stmt = stmt.where(sa.or_(StatusInterval.facility_id.in_(area_ids), StatusInterval.facility_id.in_(subs)))
        return stmt

    def timeline_cte(self) -> dict[tuple[str, ...], sa.CTE]:
        """Every eligible inspection with the date of the facility's next one (NULL for its latest), per set of
        programmes the indicators read.

        The inspection that is the latest on a day D <= the area's day is the one with inspection_date <= D and
        no next one on or before D: the same pick as ROW_NUMBER() ordered by (date desc, id desc), since the
        next one in (date, id) order of a same-day pair has the same date. One window for every day asked.
        """
        following = sa.func.lead(Inspection.inspection_date).over(
            partition_by=Inspection.facility_id, order_by=(Inspection.inspection_date, Inspection.id))
        result = {}
        for i, progs in enumerate(self.latests):
            name = "timeline" if i == 0 else f"timeline_{i}"
            if self._reads_intervals(progs):
                # An interval's end is the date of the facility's next result: the timeline is the table itself.
                stmt = self._intervals(progs[0], StatusInterval.ends_on.label("next_date"))
            else:
                stmt = self._eligible(progs, following.label("next_date"))
            result[progs] = stmt.cte(name).prefix_with("MATERIALIZED")
        return result

    def _latest_on(self, latest: Any = None) -> sa.ColumnElement[bool]:
        """Join condition of a facility with its latest inspection on the area's day."""
        latest = self.latest if latest is None else latest
        on = latest.c.facility_id == Facility.id
        if self.timeline is not None:
            day = self.area.day
            on = sa.and_(on, latest.c.inspection_date <= day,
                         sa.or_(latest.c.next_date.is_(None), latest.c.next_date > day))
        return on

    def _area_facility_ids(self) -> sa.Select | None:
        """Ids of the facilities of the area (None: the whole country, no filter needed)."""
        user, unit = self.area.user, self.area.unit
        if unit is None and user.role == "admin" and user.scope_unit_id is None:
            return None
        cur, leg = aliased(AdminUnit, name="area_cur"), aliased(AdminUnit, name="area_leg")
        stmt = (sa.select(Facility.id).join(cur, cur.id == Facility.unit_id)
                .outerjoin(leg, leg.id == Facility.legacy_unit_id).where(facility_in_scope(user)))
        if unit is not None:
            stmt = stmt.where((leg if unit.system == "pre2025" else cur).path.startswith(unit.path, autoescape=True))
        if self.area.service_area is not None:
            stmt = stmt.where(Facility.unit_id.in_(_area_communes(self.area.service_area.id)))
        return stmt

    def valid(self, indicator: Indicator) -> sa.ColumnElement[bool]:
        """The latest inspection exists and is within its validity window on the day."""
        return self._valid_on(self.latest_of(indicator), indicator)

    def assessable(self, indicator: Indicator | None = None) -> sa.ColumnElement[bool]:
        """The latest inspection reached a result: a "not assessable" visit (re-visit needed) is neither met nor
        failed, so it counts neither as meeting nor as assessed."""
        classification = (self.latest if indicator is None else self.latest_of(indicator)).c.classification
        return sa.or_(classification.is_(None), classification != NOT_ASSESSABLE)

    def counted(self, indicator: Indicator) -> sa.ColumnElement[bool]:
        """The facility falls under the indicator's filters (a sub-station never does: its station counts)."""
        f = indicator.filters
        conditions = [Facility.type.in_(f.facility_types), Facility.ownership.in_(f.ownership),
                      Facility.parent_facility_id.is_(None)]
        if f.high_fertility is not None:
            # The commune's designation on the day (regions.fertility), not a flag without dates.
            inside = in_high_fertility_area(Facility.unit_id, Facility.legacy_unit_id, self.area.day)
            conditions.append(inside if f.high_fertility else ~inside)
        return sa.and_(*conditions)

    def denominator(self, indicator: Indicator) -> sa.ColumnElement[bool]:
        """The facility is in the indicator's denominator: counted, and for ``denominator: assessed`` also
        holding a valid inspection with a result."""
        counted = self.counted(indicator)
        if indicator.denominator == "assessed":
            return sa.and_(counted, self.valid(indicator), self.assessable(indicator))
        return counted

    def _valid_on(self, latest: Any, indicator: Indicator) -> sa.ColumnElement[bool]:
        """valid() for another alias of the latest-inspection CTE."""
        day = self.area.day
        if indicator.validity_months:
            return latest.c.inspection_date > months_back(day, indicator.validity_months)
        if "expires_on" in latest.c:
            return latest.c.expires_on > day  # read from the intervals: the expiry written with the row
        months = {vid: m for vid, (m, _) in self.rules.items()}
        distinct = set(months.values()) | {DEFAULT_VALIDITY_MONTHS}
        if len(distinct) == 1:
            return latest.c.inspection_date > months_back(day, distinct.pop())
        cutoff = sa.case({vid: months_back(day, m) for vid, m in months.items()},
                         value=latest.c.checklist_version_id, else_=months_back(day, DEFAULT_VALIDITY_MONTHS))
        return latest.c.inspection_date > cutoff

    def _rule(self, latest: Any, indicator: Indicator) -> sa.ColumnElement[bool]:
        """The indicator's measure on one facility's latest inspection row (``latest``, an alias of the CTE)."""
        if indicator.ever_assessed and not (indicator.classifications or indicator.items_met
                                            or indicator.items_not_met):
            # Any approved external inspection up to the day, valid or not, whatever its result.
            return latest.c.id.is_not(None)
        conditions = [self._valid_on(latest, indicator)]
        if indicator.classifications:
            conditions.append(latest.c.classification.in_(indicator.classifications))
        if indicator.items_met or indicator.items_not_met:
            # Items are read from a visit that reached a result; a "not assessable" visit proves nothing.
            conditions.append(sa.or_(latest.c.classification.is_(None),
                                     latest.c.classification != NOT_ASSESSABLE))
        if indicator.items_met:
            # "Met" only: not applicable, not observed or unanswered never make an item of a readiness set met.
            met = (sa.select(sa.func.count(Answer.item_id)).where(
                Answer.inspection_id == latest.c.id, Answer.item_id.in_(indicator.items_met),
                Answer.failed.is_(False), Answer.value.is_not(None), Answer.value.not_in(NOT_MET_VALUES))
                .scalar_subquery())
            conditions.append(met == len(indicator.items_met))
        if indicator.items_not_met:
            conditions.append(sa.select(Answer.id).where(
                Answer.inspection_id == latest.c.id, Answer.item_id.in_(indicator.items_not_met),
                Answer.failed.is_(True)).exists())
        return sa.and_(*conditions)

    def substations_meet(self, indicator: Indicator) -> sa.ColumnElement[bool]:
        """Roll-up rule: no active sub-station of the facility that offers FP services fails the indicator.

        A sub-station is inspected on its own; it "meets" when its own latest inspection meets the indicator's
        measure on the day (the services rule applies to the station as a whole).
        """
        sub = aliased(Facility, name="sub")
        latest = self.latest_of(indicator).alias()  # anonymous: one per indicator and per branch of a UNION
        on = latest.c.facility_id == sub.id
        if self.timeline is not None:
            day = self.area.day
            on = sa.and_(on, latest.c.inspection_date <= day,
                         sa.or_(latest.c.next_date.is_(None), latest.c.next_date > day))
        day = self.area.day
        offers = sa.select(FacilityService.facility_id).where(FacilityService.facility_id == sub.id)
        # The stations with a failing sub-station, as one set computed once per statement: each active FP
        # sub-station joined to its own latest row, the rule tested on that row. (Written per facility, as a
        # correlated EXISTS, PostgreSQL rescanned the unindexed materialised latest rows for every station:
        # quadratic, minutes for the national set.)
        failing = (sa.select(sub.parent_facility_id).select_from(sub).outerjoin(latest, on)
                   .where(sub.parent_facility_id.is_not(None), sub.active_from <= day,
                          sa.or_(sub.active_to.is_(None), sub.active_to >= day), offers.exists(),
                          ~sa.func.coalesce(self._rule(latest, indicator), False)))
        return Facility.id.not_in(failing)

    def meeting(self, indicator: Indicator) -> sa.ColumnElement[bool]:
        """The facility meets the indicator's rule on the day (a station: with every FP sub-station, see above)."""
        conditions = [self._rule(self.latest_of(indicator), indicator), self.substations_meet(indicator)]
        if indicator.requires_services:
            offered = (sa.select(sa.func.count()).select_from(FacilityService)
                       .where(FacilityService.facility_id == Facility.id,
                              FacilityService.service.in_(indicator.requires_services))
                       .scalar_subquery())
            conditions.append(offered == len(indicator.requires_services))
        return sa.and_(*conditions)

    def path_column(self, system: str) -> sa.ColumnElement[str]:
        """The facility's unit path in ``system`` (its 2025 unit, or its pre-2025 unit)."""
        return self.leg.path if system == "pre2025" else self.cur.path

    def select_from(self, stmt: sa.Select) -> sa.Select:
        """Facilities active on the day, in the user's scope and the area's unit, with their latest inspection."""
        day, unit = self.area.day, self.area.unit
        stmt = (stmt.select_from(Facility)
                .join(self.cur, self.cur.id == Facility.unit_id)
                .outerjoin(self.leg, self.leg.id == Facility.legacy_unit_id)
                .outerjoin(self.latest, self._latest_on()))
        for progs, latest in self.latests.items():
            if progs != DEFAULT_PROGRAMMES:
                stmt = stmt.outerjoin(latest, self._latest_on(latest))
        stmt = (stmt
                .where(Facility.active_from <= day,
                       sa.or_(Facility.active_to.is_(None), Facility.active_to >= day),
                       facility_in_scope(self.area.user)))
        if unit is not None:
            stmt = stmt.where(self.path_column(unit.system).startswith(unit.path, autoescape=True))
        if self.area.service_area is not None:
            stmt = stmt.where(Facility.unit_id.in_(_area_communes(self.area.service_area.id)))
        return stmt


def _area_communes(area_id: int) -> sa.Select:
    return sa.select(ServiceAreaCommune.unit_id).where(ServiceAreaCommune.area_id == area_id)


def _join_areas(q: _Query, stmt: sa.Select, area: Any) -> sa.Select:
    """Join each facility to the service area holding its 2025 commune on the day (none: NULL)."""
    day = q.area.day
    link = aliased(ServiceAreaCommune, name="area_link")
    in_force = sa.and_(area.valid_from <= day, sa.or_(area.valid_to.is_(None), area.valid_to >= day))
    held = (sa.select(link.area_id).join(ServiceArea, ServiceArea.id == link.area_id)
            .where(link.unit_id == Facility.unit_id, ServiceArea.valid_from <= day,
                   sa.or_(ServiceArea.valid_to.is_(None), ServiceArea.valid_to >= day))
            .limit(1).scalar_subquery())
    return stmt.outerjoin(area, sa.and_(area.id == held, in_force))


def _sum(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _count_columns(q: _Query, indicators: tuple[Indicator, ...]) -> list[Any]:
    columns: list[Any] = []
    for ind in indicators:
        counted = q.denominator(ind)
        columns += [_sum(counted), _sum(sa.and_(counted, q.valid(ind), q.assessable(ind))),
                    _sum(sa.and_(counted, q.meeting(ind)))]
    return columns


def _group_keys(group: str, child: Any) -> list[Any]:
    if group == "ownership":
        return [Facility.ownership]
    if group == "type":
        return [Facility.type]
    if group in ("unit", "area"):
        return [child.id, child.name, child.code]
    return []


def _join_children(q: _Query, stmt: sa.Select, child: Any) -> sa.Select:
    """Join each facility to the child unit (of the area's unit, or province of the country) it lies in."""
    area = q.area
    path = q.path_column(area.group_system)
    if area.unit is not None:
        on = sa.and_(child.parent_id == area.unit.id, path.startswith(child.path))
    else:
        on = sa.and_(child.level == "province", child.system == area.group_system, path.startswith(child.path))
    return stmt.outerjoin(child, on)


def _group_row(group: str, head: list[Any], tail: list[Any], indicators: tuple[Indicator, ...]) -> GroupRow:
    key = head[0] if head else None
    label = (f"{head[1]} ({head[2]})" if group in ("unit", "area") and key is not None
             else (str(key) if key else ""))
    counts = {ind.id: Counts(int(tail[3 * i]), int(tail[3 * i + 1]), int(tail[3 * i + 2]))
              for i, ind in enumerate(indicators)}
    return GroupRow(key=key, label=label, counts=counts)


def _empty_all(indicators: tuple[Indicator, ...]) -> list[GroupRow]:
    return [GroupRow(key=None, label="", counts={ind.id: Counts() for ind in indicators})]


def indicator_counts(area: Area, indicators: tuple[Indicator, ...], group: str = "all") -> list[GroupRow]:
    """Counts of every indicator for the area, overall or grouped by child unit, ownership or facility type."""
    q = _Query(area, indicators)
    child = aliased(ServiceArea, name="child_area") if group == "area" else aliased(AdminUnit, name="child")
    keys = _group_keys(group, child)
    stmt = q.select_from(sa.select(*keys, *_count_columns(q, indicators)))
    if group == "unit":
        stmt = _join_children(q, stmt, child)
    elif group == "area":
        stmt = _join_areas(q, stmt, child)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys[-1:] if group in ("unit", "area") else keys)
    rows = []
    for row in db.session.execute(stmt):
        values = list(row)
        rows.append(_group_row(group, values[:len(keys)], values[len(keys):], indicators))
    if group == "all" and not rows:
        rows = _empty_all(indicators)
    return rows


def province_of(unit: AdminUnit | None) -> AdminUnit | None:
    """The province a unit lies in (itself for a province)."""
    if unit is None:
        return None
    if unit.level == "province":
        return unit
    first = unit.path.strip("/").split("/")[0]
    return db.session.get(AdminUnit, int(first)) if first.isdigit() else None


def children_of(unit: AdminUnit | None, system: str) -> list[AdminUnit]:
    """The units one level down (provinces of ``system`` for the whole country)."""
    stmt = sa.select(AdminUnit)
    if unit is None:
        stmt = stmt.where(AdminUnit.level == "province", AdminUnit.system == system)
    else:
        stmt = stmt.where(AdminUnit.parent_id == unit.id)
    return list(db.session.scalars(stmt.order_by(AdminUnit.code)))
