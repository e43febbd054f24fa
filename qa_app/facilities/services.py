"""Facility registry use cases: the scoped list, one facility's page, and the CSV import (flush, never commit)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..areas.models import ServiceAreaCommune
from ..audit.services import record
from ..auth.models import User
from ..auth.services import facility_in_scope
from ..checklists.schema import FACILITY_TYPES
from ..extensions import db
from ..inspections.models import Inspection
from ..regions.importers import N_, RowError, fold
from ..regions.models import AdminUnit, UnitSuccession
from .importers import FacilityFile, FacilityRow
from .models import OWNERSHIPS, Facility
from .status import STATUSES, status_columns

PER_PAGE = 50
MAX_COMMUNE_OPTIONS = 300
CHUNK = 500


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


# ---------------------------------------------------------------------------------------------- list


@dataclass
class FacilityFilters:
    """What the list is narrowed to; unknown values are ignored rather than refused."""

    q: str = ""
    unit_id: int | None = None
    type: str | None = None
    ownership: str | None = None
    status: str | None = None
    page: int = 1

    def cleaned(self) -> FacilityFilters:
        """The same filters with values outside the known codes dropped."""
        return FacilityFilters(
            q=" ".join(self.q.split())[:100], unit_id=self.unit_id,
            type=self.type if self.type in FACILITY_TYPES else None,
            ownership=self.ownership if self.ownership in OWNERSHIPS else None,
            status=self.status if self.status in STATUSES else None, page=max(1, self.page))


@dataclass
class FacilityListRow:
    """One facility of the list with its status and the date of its latest approved external inspection."""

    facility: Facility
    status: str
    last_inspection_date: dt.date | None


@dataclass
class FacilityPage:
    """One page of the facility list."""

    rows: list[FacilityListRow]
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))


def _name_matches(q: str) -> sa.ColumnElement[bool]:
    """Name or code contains ``q``, ignoring case and (on SQLite, or once name_key exists) accents."""
    key = fold(q)
    column = getattr(Facility, "name_key", None)
    if column is not None:
        # An indexed, stored search key (see the report: facility.name_key) makes this work at national scale.
        return sa.or_(column.contains(key, autoescape=True), Facility.code.icontains(q, autoescape=True))
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # SQLite's lower() folds ASCII only: register our folding (per connection, deterministic, cheap).
        connection.connection.driver_connection.create_function("qa_fold", 1, fold, deterministic=True)
        return sa.or_(sa.func.qa_fold(Facility.name).contains(key, autoescape=True),
                      Facility.code.icontains(q, autoescape=True))
    # PostgreSQL ILIKE folds case in every alphabet; accents need the name_key column.
    return sa.or_(Facility.name.icontains(q, autoescape=True), Facility.code.icontains(q, autoescape=True))


def _under(unit: AdminUnit) -> sa.ColumnElement[bool]:
    """The facility's unit (in either system) lies in ``unit``'s subtree."""
    subtree = sa.select(AdminUnit.id).where(AdminUnit.path.startswith(unit.path, autoescape=True))
    return sa.or_(Facility.unit_id.in_(subtree), Facility.legacy_unit_id.in_(subtree))


def list_facilities(user: User, filters: FacilityFilters, on: dt.date,
                    allowed_units: set[int] | None = None) -> FacilityPage:
    """The facilities of ``user``'s region matching ``filters``, one page, with their status on ``on``."""
    filters = filters.cleaned()
    conditions = [facility_in_scope(user)]
    if filters.q:
        conditions.append(_name_matches(filters.q))
    if filters.type:
        conditions.append(Facility.type == filters.type)
    if filters.ownership:
        conditions.append(Facility.ownership == filters.ownership)
    if filters.unit_id is not None:
        unit = db.session.get(AdminUnit, filters.unit_id)
        allowed = allowed_unit_ids(user) if allowed_units is None else allowed_units
        if unit is not None and unit.id in allowed:
            conditions.append(_under(unit))
    cols = status_columns(on)
    if filters.status:
        conditions.append(cols.status == filters.status)
        ids = cols.join(sa.select(Facility.id).select_from(Facility)).where(*conditions)
    else:
        # Without a status filter the status is computed for the shown page only, not the whole region.
        ids = sa.select(Facility.id).where(*conditions)
    # The total rides along with the page (one pass: the status of a whole region is computed once).
    ordered = ids.add_columns(sa.func.count().over().label("total")).order_by(Facility.name, Facility.id)
    page = filters.page
    found = db.session.execute(ordered.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    if found:
        total = found[0].total
    else:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery())) or 0
        if total and page > 1:  # past the last page: show the last one
            page = max(1, math.ceil(total / PER_PAGE))
            found = db.session.execute(ordered.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    page_ids = [row.id for row in found]
    rows = db.session.execute(
        cols.join(sa.select(Facility, cols.status.label("status"), cols.latest.inspection_date.label("last_date"))
                  .select_from(Facility))
        .where(Facility.id.in_(page_ids))
        .options(selectinload(Facility.unit), selectinload(Facility.legacy_unit).selectinload(AdminUnit.parent))
        .order_by(Facility.name, Facility.id))
    return FacilityPage([FacilityListRow(row.Facility, row.status, row.last_date) for row in rows], total, page)


# ---------------------------------------------------------------------------------------------- unit filter


@dataclass(frozen=True)
class UnitOption:
    """One unit of the unit filter."""

    id: int
    system: str
    level: str
    code: str
    name: str
    kind: str


@dataclass
class UnitGroup:
    """Options of the unit filter of one system and level."""

    system: str
    level: str
    units: list[UnitOption] = field(default_factory=list)


def _scope_path(user: User) -> str | None:
    """Materialised path of the user's scope unit (None: the whole country)."""
    return user.scope_unit.path if user.scope_unit_id is not None and user.scope_unit is not None else None


def _facility_units(user: User) -> list[sa.Row[Any]]:
    """(id, path) of every unit, in either system, that holds one of the user's facilities (one query)."""
    in_scope = facility_in_scope(user)
    return list(db.session.execute(sa.select(AdminUnit.id, AdminUnit.path).where(sa.or_(
        AdminUnit.id.in_(sa.select(Facility.unit_id).where(in_scope)),
        AdminUnit.id.in_(sa.select(Facility.legacy_unit_id).where(in_scope))))))


def allowed_unit_ids(user: User) -> set[int]:
    """Units the list may be filtered by: those holding the user's facilities, and their ancestors."""
    # Derived from the facilities themselves, so a unit of another district never shows up; an ancestor
    # (a pre-2025 district for a 2025 province's manager) is only a coarser filter over the same facilities.
    ids: set[int] = set()
    for row in _facility_units(user):
        ids.update(int(part) for part in row.path.strip("/").split("/") if part)
        ids.add(row.id)
    return ids


def unit_options(user: User, allowed: set[int] | None = None) -> list[UnitGroup]:
    """The unit filter's options, grouped by system and level (communes left out when there are too many)."""
    ids = sorted(allowed_unit_ids(user) if allowed is None else allowed)
    groups: dict[tuple[str, str], UnitGroup] = {}
    for system, level in (("2025", "province"), ("2025", "commune"), ("pre2025", "province"),
                          ("pre2025", "district"), ("pre2025", "commune")):
        groups[(system, level)] = UnitGroup(system, level)
    columns = (AdminUnit.id, AdminUnit.system, AdminUnit.level, AdminUnit.code, AdminUnit.name, AdminUnit.kind)
    for batch in _chunks(ids, 2000):
        for row in db.session.execute(sa.select(*columns).where(AdminUnit.id.in_(batch))):
            groups[(row.system, row.level)].units.append(UnitOption(*row))
    for key in (("2025", "commune"), ("pre2025", "commune")):
        if len(groups[key].units) > MAX_COMMUNE_OPTIONS:
            groups[key].units = []
    for group in groups.values():
        # By the name without its kind, so "Xã Bản Bo" sorts under B, not X.
        group.units.sort(key=lambda u: (fold(u.name.split(" ", 1)[-1] if u.kind else u.name), u.code))
    return [group for group in groups.values() if group.units]


# ---------------------------------------------------------------------------------------------- one facility


def facility_for(user: User, facility_id: int) -> Facility | None:
    """The facility if it lies in the user's region, else None (the view answers 404 either way)."""
    return db.session.scalar(sa.select(Facility).where(Facility.id == facility_id, facility_in_scope(user)))


def unit_chain(unit: AdminUnit | None) -> list[AdminUnit]:
    """The unit and its ancestors, province first."""
    if unit is None:
        return []
    ids = [int(p) for p in unit.path.strip("/").split("/") if p] or [unit.id]
    units = {u.id: u for u in db.session.scalars(sa.select(AdminUnit).where(AdminUnit.id.in_(ids)))}
    return [units[i] for i in ids if i in units]


def inspection_history(facility_id: int) -> list[Inspection]:
    """Every inspection of the facility, newest first."""
    return list(db.session.scalars(
        sa.select(Inspection).where(Inspection.facility_id == facility_id)
        .order_by(Inspection.inspection_date.desc(), Inspection.id.desc())))


# ---------------------------------------------------------------------------------------------- import


@dataclass
class FacilityImportReport:
    """The outcome of an import: problems (then nothing was written) or the counts."""

    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the import was written."""
        return not self.errors


@dataclass
class _Unit:
    id: int
    system: str
    level: str
    code: str
    name: str
    path: str


_LEVEL_BY_LENGTH = {2: "province", 3: "district", 5: "commune"}


def _load_units(rows: Sequence[FacilityRow]) -> dict[tuple[str, str], _Unit]:
    """Units named by the file, by (system, code) (the code's length gives its level)."""
    wanted: dict[str, set[str]] = {"2025": set(), "pre2025": set()}
    for row in rows:
        if row.unit_system == "2025":
            wanted["2025"].add(row.unit_code)
        else:
            wanted["pre2025"].add(row.unit_code)
        if row.legacy_unit_code:
            wanted["pre2025"].add(row.legacy_unit_code)
    found: dict[tuple[str, str], _Unit] = {}
    for system, codes in wanted.items():
        for batch in _chunks(sorted(codes)):
            for u in db.session.execute(
                    sa.select(AdminUnit.id, AdminUnit.system, AdminUnit.level, AdminUnit.code, AdminUnit.name,
                              AdminUnit.path).where(AdminUnit.system == system, AdminUnit.code.in_(batch))):
                if _LEVEL_BY_LENGTH.get(len(u.code)) == u.level:
                    found[(system, u.code)] = _Unit(*u)
    return found


def _successors(old_ids: Sequence[int]) -> dict[int, list[_Unit]]:
    """2025 successors of pre-2025 units."""
    result: dict[int, list[_Unit]] = {}
    for batch in _chunks(sorted(set(old_ids))):
        for row in db.session.execute(
                sa.select(UnitSuccession.old_unit_id, AdminUnit.id, AdminUnit.system, AdminUnit.level,
                          AdminUnit.code, AdminUnit.name, AdminUnit.path)
                .join(AdminUnit, AdminUnit.id == UnitSuccession.new_unit_id)
                .where(UnitSuccession.old_unit_id.in_(batch)).order_by(AdminUnit.code)):
            result.setdefault(row[0], []).append(_Unit(*row[1:]))
    return result


def _resolve_units(row: FacilityRow, units: dict[tuple[str, str], _Unit],
                   successors: dict[int, list[_Unit]]) -> tuple[list[RowError], _Unit | None, _Unit | None]:
    """The row's 2025 unit and pre-2025 unit, or the problems that prevent finding them."""
    problems: list[RowError] = []

    def problem(template: str, **params: object) -> None:
        problems.append(RowError(row.row, template, params))

    unit: _Unit | None = None
    legacy: _Unit | None = None
    if row.unit_system == "2025":
        unit = units.get(("2025", row.unit_code))
        if len(row.unit_code) == 3:
            problem(N_("Unit code %(code)s is a district code, and there are no districts in system 2025: "
                       "give the commune (5 digits) or the province (2 digits)."), code=row.unit_code)
        elif unit is None:
            problem(N_("Unknown unit code %(code)s in system %(system)s."), code=row.unit_code, system="2025")
        if row.legacy_unit_code:
            legacy = units.get(("pre2025", row.legacy_unit_code))
            if legacy is None:
                problem(N_("Unknown unit code %(code)s in system %(system)s."), code=row.legacy_unit_code,
                        system="pre2025")
        return problems, unit, legacy
    legacy = units.get(("pre2025", row.unit_code))
    if legacy is None:
        problem(N_("Unknown unit code %(code)s in system %(system)s."), code=row.unit_code, system="pre2025")
    elif row.legacy_unit_code and row.legacy_unit_code != row.unit_code:
        problem(N_("unit_system is pre2025 with unit_code %(code)s, but legacy_unit_code says %(legacy)s: "
                   "leave legacy_unit_code empty or make them equal."), code=row.unit_code,
                legacy=row.legacy_unit_code)
    else:
        # The 2025 unit follows from the succession table when the old commune went whole into one new one.
        nexts = successors.get(legacy.id, [])
        if len(nexts) == 1:
            unit = nexts[0]
        elif not nexts:
            problem(N_("Pre-2025 unit %(code)s (%(name)s) has no 2025 successor in the database: give "
                       "the 2025 unit code (unit_system 2025)."), code=row.unit_code, name=legacy.name)
        else:
            problem(N_("Pre-2025 unit %(code)s (%(name)s) was split between %(choices)s: give the 2025 "
                       "unit code of the facility (unit_system 2025)."), code=row.unit_code,
                    name=legacy.name, choices=", ".join(f"{u.name} ({u.code})" for u in nexts))
    return problems, unit, legacy


def import_facilities(parsed: FacilityFile, user: User | None, *, source: str = "",
                      sha256: str = "") -> FacilityImportReport:
    """Create or update the facilities of a checked file, all or nothing; ``user`` None = whole country (CLI)."""
    report = FacilityImportReport(rows_read=parsed.rows_read, errors=list(parsed.errors),
                                  warnings=list(parsed.warnings))
    rows = parsed.rows
    units = _load_units(rows)
    old_ids = [units[("pre2025", r.unit_code)].id for r in rows
               if r.unit_system == "pre2025" and ("pre2025", r.unit_code) in units]
    successors = _successors(old_ids)
    scope = _scope_path(user) if user is not None else None
    existing: dict[str, Facility] = {}
    codes = sorted({r.code for r in rows})
    for batch in _chunks(codes):
        existing.update({f.code: f for f in db.session.scalars(
            sa.select(Facility).where(Facility.code.in_(batch)).options(selectinload(Facility.service_rows)))})
    visible = {f.id for f in existing.values()}
    if user is not None and visible:
        ids = sorted(visible)
        visible = set()
        for batch in _chunks(ids):
            visible.update(db.session.scalars(sa.select(Facility.id).where(Facility.id.in_(batch),
                                                                           facility_in_scope(user))))

    resolved: list[tuple[FacilityRow, _Unit, _Unit | None]] = []
    for row in rows:
        problems, unit, legacy = _resolve_units(row, units, successors)
        if scope is not None and unit is not None and not (
                unit.path.startswith(scope) or (legacy is not None and legacy.path.startswith(scope))):
            problems.append(RowError(row.row, N_("Unit %(code)s (%(name)s) is outside your scope."),
                                     {"code": unit.code, "name": unit.name}))
        old = existing.get(row.code)
        if old is not None and old.id not in visible:
            problems.append(RowError(row.row, N_("Code '%(code)s' belongs to a facility outside your scope."),
                                     {"code": row.code}))
        if problems:
            report.errors.extend(problems)
        elif unit is not None:
            resolved.append((row, unit, legacy))
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report

    created_codes: list[str] = []
    updated_codes: list[str] = []
    for row, unit, legacy in resolved:
        values = {"name": row.name, "type": row.type, "ownership": row.ownership,
                  "high_fertility": row.high_fertility, "active_from": row.active_from, "active_to": row.active_to,
                  "unit_id": unit.id, "legacy_unit_id": legacy.id if legacy else None, "address": row.address,
                  "phone": row.phone, "head_name": row.head_name}
        facility = existing.get(row.code)
        if facility is None:
            facility = Facility(code=row.code, **values)
            facility.services = list(row.services)
            db.session.add(facility)
            report.created += 1
            created_codes.append(row.code)
            continue
        changed = [key for key, value in values.items() if getattr(facility, key) != value]
        if set(facility.services) != set(row.services):
            changed.append("services")
            facility.services = list(row.services)
        for key in changed:
            if key != "services":
                setattr(facility, key, values[key])
        if changed:
            report.updated += 1
            updated_codes.append(row.code)
        else:
            report.unchanged += 1
    db.session.flush()
    record("facilities.imported", "facility_import", sha256 or "-", user_id=user.id if user else None,
           details={"source": source[:200], "rows": parsed.rows_read, "created": report.created,
                    "updated": report.updated, "unchanged": report.unchanged,
                    "created_codes": created_codes[:500], "updated_codes": updated_codes[:500]})
    return report


def unit_visible(user: User, unit: AdminUnit) -> bool:
    """Whether the user may open pages about ``unit`` (a dashboard, a report): 404 otherwise.

    A unit-scoped user sees their subtree. An area-scoped user sees the area's communes, the province (its
    figures count only the area's facilities, like every query), and any unit of either system that holds
    one of the area's facilities (a pre-2025 district, for history).
    """
    if user.scope_unit_id is None:
        return user.role == "admin"
    if user.scope_area_id is not None:
        if unit.id == user.scope_unit_id:
            return True
        from ..auth.services import area_commune_ids

        if db.session.scalar(area_commune_ids(user.scope_area_id).where(
                ServiceAreaCommune.unit_id == unit.id)) is not None:
            return True
        return unit.id in allowed_unit_ids(user)
    return unit.path.startswith(user.scope_unit.path)


def sub_stations_for(user: User, facility_id: int) -> list[Facility]:
    """The sub-stations (điểm trạm) of a station that lie in the user's region, by name."""
    return list(db.session.scalars(sa.select(Facility).where(
        Facility.parent_facility_id == facility_id, facility_in_scope(user)).order_by(Facility.name)))
