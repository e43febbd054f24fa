"""High-fertility areas by commune, with their history: import a list, and the SQL test the indicators use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..audit.services import head as audit_head
from ..audit.services import record
from ..extensions import db
from .fertility_csv import StatusFile
from .importers import N_, RowError
from .models import AdminUnit, HighFertilityStatus


@dataclass
class StatusReport:
    """What an import did (or would do), or every problem that stopped it."""

    created: int = 0
    closed: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_statuses(parsed: StatusFile, *, source: str, sha256: str | None = None,
                    user_id: int | None = None) -> StatusReport:
    """Record each row's status from its date; nothing is written if any row has a problem.

    A commune's current period is closed the day before the new status starts, and the new status opens a
    period with no end. A status equal to the current one changes nothing. A date on or before the start of the
    commune's current period is refused: history is appended, never rewritten (correct it with a later row).
    The caller commits (or rolls back on a dry run).
    """
    report = StatusReport(errors=list(parsed.errors))
    # The existing periods are locked below, but a commune with none yet has nothing to lock: two imports at once
    # could both open a first period. The audit log's head lock makes audited imports run one after the other.
    audit_head()
    keys = {(row.system, row.code) for row in parsed.rows}
    units: dict[tuple[str, str], AdminUnit] = {}
    for system in {s for s, _ in keys}:
        codes = [c for s, c in keys if s == system]
        for unit in db.session.scalars(sa.select(AdminUnit).where(
                AdminUnit.system == system, AdminUnit.level == "commune", AdminUnit.code.in_(codes))):
            units[(system, unit.code)] = unit
    current: dict[int, HighFertilityStatus] = {}
    if units:
        for status in db.session.scalars(
                sa.select(HighFertilityStatus)
                .where(HighFertilityStatus.unit_id.in_([u.id for u in units.values()]))
                .order_by(HighFertilityStatus.valid_from).with_for_update()):
            current[status.unit_id] = status  # the latest period of each commune
    plans: list[tuple[Any, AdminUnit, HighFertilityStatus | None]] = []
    for row in parsed.rows:
        unit = units.get((row.system, row.code))
        if unit is None:
            report.errors.append(RowError(row.row, N_("No %(system)s commune with code %(code)s."),
                                          {"system": row.system, "code": row.code}))
            continue
        last = current.get(unit.id)
        if last is not None and row.valid_from <= last.valid_from:
            report.errors.append(RowError(
                row.row, N_("Commune %(code)s already has a status from %(date)s: a new status must start "
                            "later."), {"code": row.code, "date": last.valid_from.isoformat()}))
            continue
        plans.append((row, unit, last))
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report
    for row, unit, last in plans:
        if last is not None and last.high_fertility == row.high_fertility and last.valid_to is None:
            report.unchanged += 1
            continue
        if last is not None and (last.valid_to is None or last.valid_to >= row.valid_from):
            last.valid_to = row.valid_from - dt.timedelta(days=1)
            report.closed += 1
        db.session.add(HighFertilityStatus(unit_id=unit.id, high_fertility=row.high_fertility,
                                           valid_from=row.valid_from, valid_to=None, source=row.source,
                                           imported_from=source[:200]))
        report.created += 1
    db.session.flush()
    record("regions.high_fertility_imported", "high_fertility_import", sha256 or "-", user_id=user_id,
           details={"source": source[:200], "created": report.created, "closed": report.closed,
                    "unchanged": report.unchanged,
                    "communes": sorted(f"{row.system}:{row.code}" for row in parsed.rows)})
    return report


def high_fertility_on(unit_id: int | None, legacy_unit_id: int | None, day: dt.date) -> bool:
    """Whether a facility with these units stands in a commune designated high-fertility on ``day`` (the rule the
    indicators apply, for one facility's page)."""
    return bool(db.session.scalar(sa.select(in_high_fertility_area(unit_id, legacy_unit_id, day))))


def in_high_fertility_area(unit_id: Any, legacy_unit_id: Any, day: dt.date) -> sa.ColumnElement[bool]:
    """SQL: the facility whose units are given stands, on ``day``, in a commune designated high-fertility.

    Its 2025 commune or its pre-2025 commune may carry the designation (a list made before the reform names
    old communes). Uses ix_high_fertility_status_lookup.
    """
    return (sa.select(HighFertilityStatus.id)
            .where(HighFertilityStatus.unit_id.in_([unit_id, legacy_unit_id]),
                   HighFertilityStatus.high_fertility.is_(True), HighFertilityStatus.valid_from <= day,
                   sa.or_(HighFertilityStatus.valid_to.is_(None), HighFertilityStatus.valid_to >= day))
            .exists())
