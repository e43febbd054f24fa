"""Per-facility compliance lists: each facility's status on a date (the failing list, the API's pages, the
streamed exports) and the items failed most often. Built on the statements of :mod:`.queries`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..facilities.models import Facility
from ..inspections.models import Answer, Inspection, SectionResult
from ..regions.fertility import in_high_fertility_area
from .indicators import Indicator
from .queries import DEFAULT_SECTION_MIN, Area, _Query, version_rules


@dataclass
class FacilityStatus:
    """One facility's status on the day, as exported and listed."""

    id: int
    code: str
    name: str
    type: str
    ownership: str
    high_fertility: bool
    unit: str
    legacy_unit: str | None
    inspection_id: int | None
    inspection_date: dt.date | None
    classification: str | None
    overall_percent: float | None
    critical_failures: int | None
    valid: bool
    # indicator id -> None (not counted by it), True (meets its rule) or False.
    indicators: dict[str, bool | None] = field(default_factory=dict)
    failing_sections: list[tuple[str, float | None, int]] = field(default_factory=list)
    # Score group results of the valid inspection ([{"id", "percent", "classification"}]; empty without groups).
    groups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """not_assessed, expired, or the classification of the valid inspection."""
        if self.inspection_id is None:
            return "not_assessed"
        if not self.valid:
            return "expired"
        return self.classification or "not_assessed"


def _status_statement(area: Area, indicators: tuple[Indicator, ...], main: Indicator, *, failing_only: bool,
                      with_total: bool) -> sa.Select[Any]:
    """Facilities of the area with their main-indicator inspection and one (counted, meeting) pair per indicator,
    sorted by unit, name and id; ``with_total`` adds a window count of the whole filtered set to each row."""
    q = _Query(area, indicators)
    flags: list[Any] = [sa.case((q.valid(main), 1), else_=0)]
    for ind in indicators:
        flags += [sa.case((q.denominator(ind), 1), else_=0), sa.case((q.meeting(ind), 1), else_=0)]
    shown = q.latest_of(main)  # the inspection the main indicator reads (routine supervision unless it says)
    high_fertility = sa.case((in_high_fertility_area(Facility.unit_id, Facility.legacy_unit_id, area.day), 1), else_=0)
    cols = [Facility.id, Facility.code, Facility.name, Facility.type, Facility.ownership, high_fertility,
            q.cur.name, q.leg.name, shown.c.id, shown.c.inspection_date, shown.c.classification,
            shown.c.overall_percent, shown.c.critical_failures]
    if with_total:
        flags.append(sa.func.count().over().label("total"))
    stmt = q.select_from(sa.select(*cols, *flags))
    if failing_only:
        # Not meeting includes "not assessable" (listed with its own status: a re-visit is due).
        stmt = stmt.where(q.denominator(main), sa.not_(sa.func.coalesce(q.meeting(main), False)))
    return stmt.order_by(q.cur.name, Facility.name, Facility.id)


def _status_of(values: list[Any], indicators: tuple[Indicator, ...]) -> FacilityStatus:
    """One row of ``_status_statement`` (without the total) as a FacilityStatus."""
    base, rest = values[:13], values[13:]
    status = FacilityStatus(
        id=base[0], code=base[1], name=base[2], type=base[3], ownership=base[4], high_fertility=bool(base[5]),
        unit=base[6], legacy_unit=base[7], inspection_id=base[8], inspection_date=base[9],
        classification=base[10], overall_percent=float(base[11]) if base[11] is not None else None,
        critical_failures=base[12], valid=bool(rest[0]))
    for i, ind in enumerate(indicators):
        status.indicators[ind.id] = bool(rest[2 + 2 * i]) if rest[1 + 2 * i] else None
    return status


def facility_statuses(area: Area, indicators: tuple[Indicator, ...], main: Indicator, *, failing_only: bool = False,
                      limit: int | None = None, offset: int = 0) -> tuple[list[FacilityStatus], int]:
    """Facilities of the area with their status (a page of them, and how many there are in all)."""
    # The total comes with each row (a window count over the whole filtered set, before LIMIT): one statement.
    stmt = _status_statement(area, indicators, main, failing_only=failing_only, with_total=True).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    result = []
    total: int | None = None
    for row in db.session.execute(stmt):
        values = list(row)
        total = values[-1]
        result.append(_status_of(values[:-1], indicators))
    if total is None:
        # An empty page: either nothing matches, or the page is past the end and the total needs its own count.
        total = 0 if offset == 0 else db.session.scalar(
            sa.select(sa.func.count()).select_from(stmt.limit(None).offset(None).order_by(None).subquery())) or 0
    _attach_failing_sections(result)
    _attach_groups(result)
    return result, int(total)


# Rows fetched (and completed with their failing sections and groups) at a time by an export.
STREAM_BATCH = 1000


def iter_facility_statuses(area: Area, indicators: tuple[Indicator, ...], main: Indicator, *,
                           batch: int | None = None) -> Iterator[FacilityStatus]:
    """Every facility of the area with its status, in the order of ``facility_statuses``, a batch at a time.

    For the exports: one statement read through a server-side cursor on PostgreSQL (``yield_per``), so memory
    holds one batch whatever the size of the area, and no window count over the whole set is computed.
    """
    stmt = _status_statement(area, indicators, main, failing_only=False, with_total=False)
    result = db.session.execute(stmt.execution_options(yield_per=batch or STREAM_BATCH))
    for partition in result.partitions():
        statuses = [_status_of(list(row), indicators) for row in partition]
        _attach_failing_sections(statuses)
        _attach_groups(statuses)
        yield from statuses


def _attach_groups(statuses: list[FacilityStatus]) -> None:
    ids = {s.inspection_id: s for s in statuses if s.inspection_id is not None and s.valid}
    if not ids:
        return
    stmt = sa.select(Inspection.id, Inspection.group_results).where(Inspection.id.in_(list(ids)),
                                                                   Inspection.group_results.is_not(None))
    for inspection_id, groups in db.session.execute(stmt):
        ids[inspection_id].groups = list(groups or [])


def _attach_failing_sections(statuses: list[FacilityStatus]) -> None:
    ids = {s.inspection_id: s for s in statuses if s.inspection_id is not None and s.valid}
    if not ids:
        return
    rules = version_rules()
    minimum = sa.case({vid: smin for vid, (_, smin) in rules.items()}, value=Inspection.checklist_version_id,
                      else_=DEFAULT_SECTION_MIN) if rules else sa.literal(DEFAULT_SECTION_MIN)
    stmt = (sa.select(SectionResult.inspection_id, SectionResult.section_id, SectionResult.percent,
                      SectionResult.critical_failures)
            .join(Inspection, Inspection.id == SectionResult.inspection_id)
            .where(SectionResult.inspection_id.in_(list(ids)),
                   sa.or_(SectionResult.percent < minimum, SectionResult.critical_failures > 0))
            .order_by(SectionResult.inspection_id, SectionResult.section_id))
    for inspection_id, section_id, percent, critical in db.session.execute(stmt):
        ids[inspection_id].failing_sections.append(
            (section_id, float(percent) if percent is not None else None, int(critical or 0)))


@dataclass
class FailedItem:
    """An item failed in the latest valid inspections of the area."""

    item_id: str
    version_id: int
    failed: int
    answered: int


def most_failed_items(area: Area, main: Indicator, limit: int = 10) -> list[FailedItem]:
    """The items failed most often across the latest valid inspections of the facilities counted by ``main``.

    Two steps, so that nothing reads every answer of those inspections (~2.4 million nationally, 4 s on
    PostgreSQL): the failures are counted from the partial index of failed answers (about one answer in
    seven), then the answers are counted only for the ``limit`` items found.
    """
    q = _Query(area, (main,))
    latest = q.latest_of(main)
    inspections = (q.select_from(sa.select(latest.c.id.label("id"), latest.c.checklist_version_id.label("vid")))
                   .where(q.counted(main), q.valid(main))).cte("counted_latest")
    failed = sa.func.count()
    top = db.session.execute(
        sa.select(Answer.item_id, sa.func.max(inspections.c.vid), failed)
        .join(inspections, inspections.c.id == Answer.inspection_id)
        # The same predicate as ix_answer_failed, so both databases can read that index alone.
        .where(Answer.failed.is_(True))
        .group_by(Answer.item_id)
        .order_by(failed.desc(), Answer.item_id)
        .limit(limit)).all()
    if not top:
        return []
    answered = dict(db.session.execute(
        sa.select(Answer.item_id, sa.func.count())
        .join(inspections, inspections.c.id == Answer.inspection_id)
        .where(Answer.item_id.in_([row[0] for row in top]), Answer.failed.is_not(None))
        .group_by(Answer.item_id)).all())
    return [FailedItem(item_id=item, version_id=vid, failed=int(count), answered=int(answered.get(item, 0)))
            for item, vid, count in top]
