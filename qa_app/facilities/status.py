"""A facility's standing on a date, computed in SQL so that lists can filter and count by it.

The rule (docs/indicators.md, "How a facility's status is decided"): the latest APPROVED EXTERNAL inspection
dated on or before the date decides, if it is still within its checklist's validity window
(``scoring.validity_months``, default 24). Self-assessments, drafts, submitted or returned inspections, and
approved inspections corrected by a later approved one never count. No such inspection, or an expired one:
"not_assessed".

Validity in whole calendar months: an inspection of 15/03/2023 with a 24-month window counts up to and
including 14/03/2025. (A window ending on a day the month lacks runs to the end of that month.) Each checklist
version's window is read once per query build, not per row, and turned into a first valid inspection date.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import overload

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import AliasedClass

from ..checklists.models import ChecklistVersion
from ..extensions import db
from ..inspections.models import Inspection
from .models import Facility

STATUSES = ("meets", "conditional", "does_not_meet", "not_assessable", "not_assessed")
DEFAULT_VALIDITY_MONTHS = 24


@dataclass(frozen=True)
class FacilityStatus:
    """Status on a date, the inspection it comes from, and the latest approved external one even if expired."""

    facility_id: int
    status: str
    inspection_id: int | None
    inspection_date: dt.date | None
    last_approved_id: int | None
    last_approved_date: dt.date | None


@dataclass(frozen=True)
class StatusColumns:
    """The pieces to add a facility's status to any select that has ``Facility`` in its FROM clause."""

    on: dt.date
    latest: AliasedClass[Inspection]  # latest approved external inspection dated <= on (expired or not)
    status: sa.ColumnElement[str]
    valid: sa.ColumnElement[bool]

    def join(self, stmt: sa.Select) -> sa.Select:
        """Outer-join the latest approved external inspection."""
        return stmt.outerjoin(self.latest, self.latest.id == latest_approved_id(self.on))


def latest_approved_id(on: dt.date) -> sa.ScalarSelect[int]:
    """Correlated subquery: id of the facility's latest approved external inspection dated <= ``on``."""
    inspection = aliased(Inspection, name="status_candidate")
    correction = aliased(Inspection, name="status_correction")
    # Same facility first, so the check uses the (facility_id, status, date) index, not a scan per candidate.
    corrected = sa.exists().where(correction.facility_id == inspection.facility_id, correction.status == "approved",
                                  correction.supersedes_id == inspection.id)
    return (
        sa.select(inspection.id)
        .where(inspection.facility_id == Facility.id, inspection.kind == "external",
               inspection.status == "approved", inspection.inspection_date <= on, ~corrected,
               # A facility's standing is its routine supervision result (as in the indicators): a campaign
               # visit uses another checklist and does not replace it.
               inspection.checklist_version_id.in_(
                   sa.select(ChecklistVersion.id).where(ChecklistVersion.programme == "routine")))
        .order_by(inspection.inspection_date.desc(), inspection.id.desc())
        .limit(1)
        .correlate(Facility)
        .scalar_subquery()
    )


def first_valid_date(on: dt.date, months: int) -> dt.date:
    """The earliest inspection date still valid on ``on`` with a window of ``months`` months."""
    index = on.year * 12 + on.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    if on.day < calendar.monthrange(year, month)[1]:
        return dt.date(year, month, on.day + 1)
    # The window's last day does not exist in that month (31/08 + 6 months): it runs to the month's end.
    return dt.date(year + month // 12, month % 12 + 1, 1)


def validity_by_version() -> dict[int, int]:
    """Validity window in months of every registered checklist version (a handful of small rows)."""
    months = ChecklistVersion.content[("scoring", "validity_months")].as_integer()
    return {row.id: row.months or DEFAULT_VALIDITY_MONTHS
            for row in db.session.execute(sa.select(ChecklistVersion.id, months.label("months")))}


def status_columns(on: dt.date) -> StatusColumns:
    """Build the status expression for date ``on`` (use ``.join(stmt)`` then select ``.status``)."""
    latest = aliased(Inspection, name="status_inspection")
    # Each version's window becomes a date literal here: reading it from the (large) JSON content in the
    # query cost a JSON parse per facility row, 40 s for the national list on PostgreSQL.
    windows = validity_by_version()
    default = first_valid_date(on, DEFAULT_VALIDITY_MONTHS)
    thresholds = {version_id: first_valid_date(on, months) for version_id, months in windows.items()}
    if thresholds and set(thresholds.values()) != {default}:
        earliest = sa.case(thresholds, value=latest.checklist_version_id, else_=default)
        valid = latest.inspection_date >= earliest
    else:
        valid = latest.inspection_date >= default
    status = sa.case((sa.and_(latest.id.is_not(None), valid), latest.classification), else_="not_assessed")
    return StatusColumns(on=on, latest=latest, status=status, valid=valid)


@overload
def facility_status(facility_ids: int, on: dt.date) -> FacilityStatus: ...


@overload
def facility_status(facility_ids: Iterable[int], on: dt.date) -> dict[int, FacilityStatus]: ...


def facility_status(facility_ids: int | Iterable[int], on: dt.date) -> FacilityStatus | dict[int, FacilityStatus]:
    """Status of one facility on ``on``, or of several (a dict by id) in one query."""
    single = isinstance(facility_ids, int)
    ids = [facility_ids] if single else sorted(set(facility_ids))
    cols = status_columns(on)
    stmt = cols.join(sa.select(Facility.id, cols.status.label("status"), cols.latest.id.label("latest_id"),
                               cols.latest.inspection_date.label("latest_date")).select_from(Facility))
    result: dict[int, FacilityStatus] = {}
    for start in range(0, len(ids), 500):
        for row in db.session.execute(stmt.where(Facility.id.in_(ids[start:start + 500]))):
            assessed = row.status != "not_assessed"
            result[row.id] = FacilityStatus(
                facility_id=row.id, status=row.status,
                inspection_id=row.latest_id if assessed else None,
                inspection_date=row.latest_date if assessed else None,
                last_approved_id=row.latest_id, last_approved_date=row.latest_date)
    if single:
        if facility_ids not in result:
            raise LookupError(f"no facility {facility_ids}")
        return result[facility_ids]
    return result
