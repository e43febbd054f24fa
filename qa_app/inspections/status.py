"""The compliance read model: each facility's latest approved result as date intervals (``StatusInterval``).

One function computes a facility's intervals from the raw tables (``compute``); the approval writes them with
it in its own transaction (``refresh``), and ``rebuild`` / ``check`` use it for the whole database. There is no
nightly job: an interval ends at the facility's next result, and expiry is a date stored on the row, so "as of
any day" is a lookup.

The rules are the ones the compliance queries apply to the raw tables (docs/indicators.md, "As of a date"):
an approved external inspection counts unless an approved correction replaces it; within one programme, the
facility's latest inspection on day D is the last by (inspection date, id) dated on or before D; it is valid on
D while D is before its expiry, its checklist's ``validity_months`` after the inspection date.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from ..checklists.models import ChecklistVersion
from ..checklists.registry import per_version
from ..extensions import db
from ..facilities.models import Facility
from .models import Inspection, StatusInterval

DEFAULT_VALIDITY_MONTHS = 24

# The columns compared by check(): everything but the row id.
FIELDS = ("facility_id", "inspection_id", "programme", "checklist_version_id", "starts_on", "ends_on",
          "expires_on", "classification", "overall_percent", "critical_failures")


def months_back(day: dt.date, months: int) -> dt.date:
    """``day`` minus ``months`` calendar months (the 31st becomes the month's last day)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry(start: dt.date, months: int) -> dt.date:
    """The first day on which an inspection of ``start`` is no longer valid with a validity of ``months``.

    The queries call an inspection valid on D when ``start > months_back(D, months)``; months_back is
    non-decreasing in D, so the first D where that fails is found a few days around start + months.
    """
    total = start.year * 12 + start.month - 1 + months
    year, month = divmod(total, 12)
    candidate = dt.date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))
    day = candidate - dt.timedelta(days=4)
    while start > months_back(day, months):
        day += dt.timedelta(days=1)
    return day


def validity_months(content: dict[str, Any] | None) -> int:
    """The validity (months) a checklist version's scoring rules give its inspections."""
    return int(((content or {}).get("scoring") or {}).get("validity_months", DEFAULT_VALIDITY_MONTHS))


def _validities() -> dict[int, int]:
    return per_version("validity_months", validity_months)


def compute(facility_ids: Sequence[int], validities: dict[int, int] | None = None) -> list[dict[str, Any]]:
    """The intervals the raw tables give the facilities, as rows (dicts of ``FIELDS``), in (facility, start) order."""
    if not facility_ids:
        return []
    validities = validities if validities is not None else _validities()
    # A correction is of the same facility (inspections.services.start_inspection refuses any other), so the
    # corrected inspections are looked for among these facilities' only: over the whole table this subquery was
    # most of an approval's read-model write at national scale (85 ms).
    replaced = (sa.select(Inspection.supersedes_id)
                .where(Inspection.facility_id.in_(list(facility_ids)), Inspection.supersedes_id.is_not(None),
                       Inspection.status == "approved"))
    rows = db.session.execute(
        sa.select(Inspection.id, Inspection.facility_id, Inspection.inspection_date, Inspection.checklist_version_id,
                  Inspection.classification, Inspection.overall_percent, Inspection.critical_failures,
                  ChecklistVersion.programme)
        .join(ChecklistVersion, ChecklistVersion.id == Inspection.checklist_version_id)
        .where(Inspection.facility_id.in_(list(facility_ids)), Inspection.status == "approved",
               Inspection.kind == "external", Inspection.id.not_in(replaced))
        .order_by(Inspection.facility_id, ChecklistVersion.programme, Inspection.inspection_date, Inspection.id)
    ).all()
    out: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        following = rows[index + 1] if index + 1 < len(rows) else None
        same = (following is not None and following.facility_id == row.facility_id
                and following.programme == row.programme)
        out.append({
            "facility_id": row.facility_id, "inspection_id": row.id, "programme": row.programme,
            "checklist_version_id": row.checklist_version_id, "starts_on": row.inspection_date,
            "ends_on": following.inspection_date if same else None,
            "expires_on": expiry(row.inspection_date,
                                 validities.get(row.checklist_version_id, DEFAULT_VALIDITY_MONTHS)),
            "classification": row.classification, "overall_percent": row.overall_percent,
            "critical_failures": row.critical_failures,
        })
    return out


def stored(facility_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The intervals stored for the facilities, in the order of compute()."""
    if not facility_ids:
        return []
    columns = [getattr(StatusInterval, name) for name in FIELDS]
    return [dict(zip(FIELDS, row, strict=True)) for row in db.session.execute(
        sa.select(*columns).where(StatusInterval.facility_id.in_(list(facility_ids)))
        .order_by(StatusInterval.facility_id, StatusInterval.programme, StatusInterval.starts_on,
                  StatusInterval.inspection_id))]


def refresh(facility_ids: Iterable[int], validities: dict[int, int] | None = None) -> int:
    """Replace the facilities' intervals with what the raw tables give now; flush only (the caller commits).

    Called inside the approval's transaction: a facility's intervals change together with its new result, or
    not at all. Returns the number of rows written.
    """
    ids = sorted(set(facility_ids))
    if not ids:
        return 0
    # Two approvals of the same facility at once would each compute from a snapshot without the other's result
    # and both write (PostgreSQL, read committed). Locking the facility rows first makes the second wait for the
    # first to commit, then compute from both. (SQLite serialises writers already; FOR UPDATE is a no-op there.)
    db.session.execute(sa.select(Facility.id).where(Facility.id.in_(ids)).order_by(Facility.id).with_for_update())
    rows = compute(ids, validities)
    db.session.execute(sa.delete(StatusInterval).where(StatusInterval.facility_id.in_(ids))
                       .execution_options(synchronize_session=False))
    if rows:
        db.session.execute(sa.insert(StatusInterval), rows)
    return len(rows)


def _batches(size: int) -> Iterable[list[int]]:
    last = 0
    while True:
        ids = list(db.session.scalars(sa.select(Facility.id).where(Facility.id > last)
                                      .order_by(Facility.id).limit(size)))
        if not ids:
            return
        yield ids
        last = ids[-1]


def refresh_all(batch: int = 2000) -> int:
    """refresh() every facility, a batch at a time; flush only (for generators that write in one transaction)."""
    validities = _validities()
    return sum(refresh(ids, validities) for ids in _batches(batch))


def rebuild(batch: int = 2000, progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every facility's intervals from the raw tables, committing per batch of facilities.

    Idempotent: running it twice writes the same rows. ``progress(done, total)`` is called after each batch.
    """
    validities = _validities()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Facility)) or 0
    # Rows of facilities that no longer exist cannot remain (ON DELETE CASCADE); nothing else to clear.
    written = done = 0
    for ids in _batches(batch):
        written += refresh(ids, validities)
        db.session.commit()
        done += len(ids)
        if progress is not None:
            progress(done, total)
    return written


def check(batch: int = 2000) -> list[int]:
    """The ids of the facilities whose stored intervals differ from a recomputation (empty: all agree)."""
    validities = _validities()
    differing: list[int] = []
    for ids in _batches(batch):
        wanted, have = compute(ids, validities), stored(ids)
        if wanted == have:
            continue
        by_facility: dict[int, list[list[dict[str, Any]]]] = {}
        for index, rows in enumerate((wanted, have)):
            for row in rows:
                by_facility.setdefault(row["facility_id"], [[], []])[index].append(row)
        differing.extend(fid for fid, (w, h) in sorted(by_facility.items()) if w != h)
    return differing
