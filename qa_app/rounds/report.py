"""Period reports (sơ kết / tổng kết): the figures, collected once, for the PDF and the XLSX builders.

Compliance figures come from qa_app.compliance (indicator_counts, summarise, most_failed_items) with the
same Area the dashboard builds for the region and the period's last day, so the report and the dashboard
agree to the unit. Everything else (classes of the period's inspections, corrective actions, the rounds'
coverage, self-assessments) is counted here with SQL aggregates over the same facilities.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..auth.models import User
from ..auth.services import facility_in_scope
from ..checklists.models import ChecklistVersion
from ..checklists.registry import checklist_of
from ..compliance.indicators import Indicator
from ..compliance.listing import most_failed_items
from ..compliance.queries import (
    DEFAULT_SECTION_MIN,
    Area,
    _Query,
    indicator_counts,
    latest_per_facility,
)
from ..compliance.report import summarise
from ..extensions import db
from ..facilities.models import Facility
from ..inspections.models import Answer, CorrectiveAction, Inspection, SectionResult
from ..regions.models import AdminUnit
from .coverage import GroupCoverage
from .models import SupervisionRound
from .services import progress

MAIN_INDICATOR = "facilities_meeting_standard"
CLASSES = ("meets", "conditional", "does_not_meet")
# Score bands of the distribution (lower bound inclusive, upper exclusive; the last includes 100).
BANDS = ((0, 50), (50, 70), (70, 80), (80, 90), (90, 100))
TOP_ITEMS = 10


@dataclass
class IndicatorLine:
    """One indicator against its targets (as on the dashboard)."""

    id: str
    title: str
    total: int
    assessed: int
    meeting: int
    value: float | None
    coverage: float | None
    target_now: float | None
    target_2025: float | None
    target_2030: float | None
    on_track: bool | None


@dataclass
class RoundLine:
    """A round overlapping the period, with its coverage in total and per district."""

    id: int
    name: str
    start: dt.date
    deadline: dt.date
    basis: str
    target: float
    total: GroupCoverage
    groups: list[tuple[str, GroupCoverage]]


@dataclass
class ItemLine:
    """An item or section failed most often."""

    id: str
    text: str
    failed: int
    answered: int


@dataclass
class DistrictLine:
    """The main indicator in one child unit of the region."""

    name: str
    total: int
    assessed: int
    meeting: int
    value: float | None
    coverage: float | None


@dataclass
class SelfPair:
    """A facility's self-assessment beside its external result in the period."""

    facility: str
    self_date: dt.date
    self_percent: float | None
    self_class: str | None
    ext_date: dt.date
    ext_percent: float | None
    ext_class: str | None

    @property
    def gap(self) -> float | None:
        """Self minus external score, in points."""
        if self.self_percent is None or self.ext_percent is None:
            return None
        return self.self_percent - self.ext_percent


@dataclass
class Disagreement:
    """An item on which self-assessments and external inspections of the same facilities disagree."""

    id: str
    text: str
    self_met_ext_failed: int
    self_failed_ext_met: int
    pairs: int

    @property
    def total(self) -> int:
        """Facilities on which the two answers differ."""
        return self.self_met_ext_failed + self.self_failed_ext_met


@dataclass
class ReportData:
    """Every figure one period report prints, as plain data."""

    kind: str
    region: str
    period_start: dt.date
    period_end: dt.date
    indicators: list[IndicatorLine]
    rounds: list[RoundLine]
    inspections: int
    classes: dict[str, int]
    bands: list[tuple[tuple[int, int], int]]
    failed_items: list[ItemLine]
    failed_sections: list[ItemLine]
    actions_opened: int
    actions_done: int
    actions_overdue: int
    districts: list[DistrictLine]
    district_label: str
    self_pairs: list[SelfPair] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)


def _area_facilities(area: Area) -> sa.Select:
    """Ids of the facilities in the user's scope and the area's unit (any active dates)."""
    cur, leg = aliased(AdminUnit, name="rp_cur"), aliased(AdminUnit, name="rp_leg")
    stmt = (sa.select(Facility.id).join(cur, cur.id == Facility.unit_id)
            .outerjoin(leg, leg.id == Facility.legacy_unit_id).where(facility_in_scope(area.user)))
    if area.unit is not None:
        column = leg.path if area.unit.system == "pre2025" else cur.path
        stmt = stmt.where(column.startswith(area.unit.path, autoescape=True))
    return stmt


def _not_superseded() -> sa.ColumnElement[bool]:
    superseded = sa.select(Inspection.supersedes_id).where(Inspection.supersedes_id.is_not(None),
                                                           Inspection.status == "approved")
    return Inspection.id.not_in(superseded)


def _period_inspections(area: Area, start: dt.date, kind: str = "external") -> list[sa.ColumnElement[bool]]:
    return [Inspection.status == "approved", Inspection.kind == kind, Inspection.inspection_date >= start,
            Inspection.inspection_date <= area.day, Inspection.facility_id.in_(_area_facilities(area)),
            _not_superseded()]


def item_texts(locale: str) -> tuple[dict[str, str], dict[str, str]]:
    items: dict[str, str] = {}
    sections: dict[str, str] = {}
    for version in db.session.scalars(sa.select(ChecklistVersion).order_by(ChecklistVersion.version)):
        checklist = checklist_of(version)
        for section in checklist.sections:
            sections[section.id] = section.title.get(locale)
        for item in checklist.items:
            items[item.id] = item.text.get(locale)
    return items, sections


def _failed_sections(area: Area, main: Indicator) -> list[ItemLine]:
    """Sections below their minimum (or with a critical failure) in the latest valid inspections (dashboard basis)."""
    q = _Query(area, (main,))
    rules = q.rules
    minimum = (sa.case({vid: smin for vid, (_, smin) in rules.items()}, value=q.latest.c.checklist_version_id,
                       else_=DEFAULT_SECTION_MIN) if rules else sa.literal(DEFAULT_SECTION_MIN))
    failing = sa.or_(SectionResult.percent < minimum, SectionResult.critical_failures > 0)
    failed = sa.func.sum(sa.case((failing, 1), else_=0))
    stmt = (q.select_from(sa.select(SectionResult.section_id, failed, sa.func.count()))
            .join(SectionResult, SectionResult.inspection_id == q.latest.c.id)
            .where(q.counted(main), q.valid(main))
            .group_by(SectionResult.section_id).having(failed > 0)
            .order_by(failed.desc(), SectionResult.section_id))
    return [ItemLine(id=r[0], text="", failed=int(r[1]), answered=int(r[2])) for r in db.session.execute(stmt)]


def _actions(area: Area, start: dt.date) -> tuple[int, int, int]:
    """Corrective actions of the period's inspections opened, done in the period, and overdue at its end."""
    end = area.day
    base = (sa.select(sa.func.count()).select_from(CorrectiveAction)
            .join(Inspection, Inspection.id == CorrectiveAction.inspection_id)
            .where(Inspection.status != "draft", CorrectiveAction.facility_id.in_(_area_facilities(area))))
    end_ts = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    start_ts = dt.datetime.combine(start, dt.time(0), tzinfo=dt.UTC)
    opened = db.session.scalar(base.where(Inspection.inspection_date >= start, Inspection.inspection_date <= end))
    done = db.session.scalar(base.where(CorrectiveAction.status == "done", CorrectiveAction.done_at >= start_ts,
                                        CorrectiveAction.done_at < end_ts))
    # Overdue at the end of the period: its deadline passed and it was not done by then.
    overdue = db.session.scalar(base.where(
        Inspection.inspection_date <= end, CorrectiveAction.deadline < end,
        sa.or_(CorrectiveAction.status == "open", CorrectiveAction.done_at >= end_ts)))
    return int(opened or 0), int(done or 0), int(overdue or 0)


def self_comparison(area: Area, start: dt.date, items: dict[str, str]) -> tuple[list[SelfPair], list[Disagreement]]:
    """Each facility's latest self-assessment and latest external inspection of the period, side by side."""
    def latest(kind: str) -> sa.Subquery:
        conditions = _period_inspections(area, start, kind)
        if kind == "self":
            # Self-assessments are not reviewed like external ones: a submitted one is the facility's word.
            conditions[0] = Inspection.status.in_(("submitted", "approved"))
        inner = (sa.select(Inspection.id, Inspection.facility_id, Inspection.inspection_date,
                           Inspection.overall_percent, Inspection.classification).where(*conditions))
        return latest_per_facility(inner).subquery(f"latest_{kind}")

    own, ext = latest("self"), latest("external")
    rows = db.session.execute(
        sa.select(Facility.name, own.c.inspection_date, own.c.overall_percent, own.c.classification,
                  ext.c.inspection_date, ext.c.overall_percent, ext.c.classification, own.c.id, ext.c.id)
        .join(own, own.c.facility_id == Facility.id).join(ext, ext.c.facility_id == Facility.id)
        .order_by(Facility.name, Facility.id)).all()
    pairs = [SelfPair(facility=r[0], self_date=r[1], self_percent=float(r[2]) if r[2] is not None else None,
                      self_class=r[3], ext_date=r[4], ext_percent=float(r[5]) if r[5] is not None else None,
                      ext_class=r[6]) for r in rows]
    if not rows:
        return pairs, []
    a_self, a_ext = aliased(Answer, name="a_self"), aliased(Answer, name="a_ext")
    pair_ids = (sa.select(own.c.id.label("self_id"), ext.c.id.label("ext_id"))
                .join(ext, ext.c.facility_id == own.c.facility_id).subquery("pairs"))
    up = sa.func.sum(sa.case((sa.and_(a_self.failed.is_(False), a_ext.failed.is_(True)), 1), else_=0))
    down = sa.func.sum(sa.case((sa.and_(a_self.failed.is_(True), a_ext.failed.is_(False)), 1), else_=0))
    stmt = (sa.select(a_self.item_id, up, down, sa.func.count())
            .select_from(pair_ids)
            .join(a_self, a_self.inspection_id == pair_ids.c.self_id)
            .join(a_ext, sa.and_(a_ext.inspection_id == pair_ids.c.ext_id, a_ext.item_id == a_self.item_id))
            .where(a_self.failed.is_not(None), a_ext.failed.is_not(None))
            .group_by(a_self.item_id)
            .having((up + down) > 0)
            .order_by((up + down).desc(), a_self.item_id)
            .limit(TOP_ITEMS))
    disagreements = [Disagreement(id=r[0], text=items.get(r[0], ""), self_met_ext_failed=int(r[1]),
                                  self_failed_ext_met=int(r[2]), pairs=int(r[3])) for r in db.session.execute(stmt)]
    return pairs, disagreements


def collect(user: User, unit: AdminUnit | None, start: dt.date, end: dt.date, kind: str,
            indicators: tuple[Indicator, ...], locale: str, rounds: list[SupervisionRound] | None = None,
            region_label: str = "", district_label: str = "") -> ReportData:
    """Every figure of the report on the region for [start, end] (compliance as of ``end``)."""
    area = Area(user=user, day=end, unit=unit, system=unit.system if unit is not None else "2025")
    main = next((i for i in indicators if i.id == MAIN_INDICATOR), indicators[0])
    summaries = summarise(area, indicators, trajectory=False)
    lines = [IndicatorLine(id=s.indicator.id, title=s.indicator.title.get(locale), total=s.counts.total,
                           assessed=s.counts.assessed, meeting=s.counts.meeting, value=s.counts.value,
                           coverage=s.counts.coverage, target_now=s.target_now, target_2025=s.target_2025,
                           target_2030=s.target_2030, on_track=s.on_track) for s in summaries]
    items, sections = item_texts(locale)

    period = _period_inspections(area, start)
    classes = {c: 0 for c in CLASSES}
    for cls, count in db.session.execute(sa.select(Inspection.classification, sa.func.count())
                                         .where(*period).group_by(Inspection.classification)):
        if cls in classes:
            classes[cls] = int(count)
    band_cols = []
    for low, high in BANDS:
        upper = Inspection.overall_percent <= high if high == 100 else Inspection.overall_percent < high
        band_cols.append(sa.func.coalesce(sa.func.sum(sa.case((sa.and_(Inspection.overall_percent >= low, upper), 1),
                                                              else_=0)), 0))
    band_counts = db.session.execute(sa.select(*band_cols).where(*period)).one()
    bands = [(band, int(n)) for band, n in zip(BANDS, band_counts, strict=True)]

    failed_items = [ItemLine(id=f.item_id, text=items.get(f.item_id, ""), failed=f.failed, answered=f.answered)
                    for f in most_failed_items(area, main, limit=TOP_ITEMS)]
    failed_sections = [ItemLine(id=s.id, text=sections.get(s.id, ""), failed=s.failed, answered=s.answered)
                       for s in _failed_sections(area, main)]
    opened, done, overdue = _actions(area, start)

    districts = []
    for row in indicator_counts(area, (main,), "unit"):
        c = row.counts[main.id]
        if row.key is None and c.total == 0:
            continue
        districts.append(DistrictLine(name=row.label or "—", total=c.total, assessed=c.assessed, meeting=c.meeting,
                                      value=c.value, coverage=c.coverage))

    round_lines = []
    for rnd in rounds or []:
        if rnd.deadline < start or rnd.start_date > end:
            continue
        p = progress(rnd, user, end)
        round_lines.append(RoundLine(
            id=rnd.id, name=rnd.name, start=rnd.start_date, deadline=rnd.deadline, basis=rnd.coverage_basis,
            target=float(rnd.coverage_target), total=p.total,
            groups=[(p.group_names.get(g.group_id, region_label), g) for g in p.groups]))

    pairs, disagreements = self_comparison(area, start, items)
    return ReportData(
        kind=kind, region=region_label, period_start=start, period_end=end, indicators=lines, rounds=round_lines,
        inspections=sum(classes.values()), classes=classes, bands=bands, failed_items=failed_items,
        failed_sections=failed_sections, actions_opened=opened, actions_done=done, actions_overdue=overdue,
        districts=districts, district_label=district_label, self_pairs=pairs, disagreements=disagreements)


def rounds_in_region(user: User, unit: AdminUnit | None, start: dt.date, end: dt.date) -> list[SupervisionRound]:
    """Rounds the user sees that overlap the region and the period."""
    from .services import region_facility_ids, rounds_for

    area = Area(user=user, day=end, unit=unit)

    def shares_facilities(rnd: SupervisionRound) -> bool:
        # The other unit system: the round belongs to the report when they share a facility.
        return db.session.scalar(sa.select(Facility.id).where(
            Facility.id.in_(region_facility_ids(rnd)), Facility.id.in_(_area_facilities(area))).limit(1)) is not None

    out = []
    for rnd in rounds_for(user):
        if rnd.deadline < start or rnd.start_date > end:
            continue
        nested = unit is None or rnd.unit.path.startswith(unit.path) or unit.path.startswith(rnd.unit.path)
        if nested or (rnd.unit.system != unit.system and shares_facilities(rnd)):
            out.append(rnd)
    return sorted(out, key=lambda r: (r.start_date, r.id))
