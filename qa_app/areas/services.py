"""Service areas: import, lookups for scopes, drill-down and coverage (flush, never commit; callers commit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..audit.services import record
from ..extensions import db
from ..facilities.models import Facility
from ..regions.importers import N_, RowError
from ..regions.models import AdminUnit
from .importers import AreaFile
from .models import ServiceArea, ServiceAreaCommune

# Units that may run an area: a regional health centre (the reorganised district centre) or a provincial CDC
# / reproductive-health centre.
OWNER_TYPES = ("TTYT", "CDC")


@dataclass
class AreaImportReport:
    """What an import wrote, or every problem that stopped it."""

    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _overlaps(a_from: dt.date, a_to: dt.date | None, b_from: dt.date, b_to: dt.date | None) -> bool:
    return (a_to is None or a_to >= b_from) and (b_to is None or b_to >= a_from)


def import_areas(parsed: AreaFile, *, user_id: int | None = None, source: str = "",
                 sha256: str = "") -> AreaImportReport:
    """Create or replace the areas of a checked file; writes nothing unless every row is right (all or nothing)."""
    report = AreaImportReport(errors=list(parsed.errors))
    codes = sorted({c for row in parsed.rows for c in row.commune_codes})
    communes = {u.code: u for u in db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.system == "2025", AdminUnit.level == "commune", AdminUnit.code.in_(codes)))} if codes else {}
    owners = {f.code.upper(): f for f in db.session.scalars(sa.select(Facility).where(
        sa.func.upper(Facility.code).in_([r.owner_code.upper() for r in parsed.rows if r.owner_code])))}
    existing = {a.code.upper(): a for a in db.session.scalars(sa.select(ServiceArea))}
    in_file = {row.code.upper() for row in parsed.rows}
    # Communes held by areas that this file does not replace, with those areas' dates.
    held: dict[int, list[ServiceArea]] = {}
    for area in existing.values():
        if area.code.upper() in in_file:
            continue
        for link in area.commune_rows:
            held.setdefault(link.unit_id, []).append(area)
    plans: list[tuple[int, ServiceArea | None, dict[str, object], list[AdminUnit]]] = []
    for row in parsed.rows:
        found: list[RowError] = []
        units = []
        for code in row.commune_codes:
            unit = communes.get(code)
            if unit is None:
                found.append(RowError(row.row, N_("No 2025 commune with code %(code)s."), {"code": code}))
                continue
            units.append(unit)
            for other in held.get(unit.id, []):
                if _overlaps(row.valid_from, row.valid_to, other.valid_from, other.valid_to):
                    found.append(RowError(row.row, N_("Commune %(code)s already belongs to area %(area)s at "
                                                      "these dates."), {"code": code, "area": other.code}))
        provinces = {unit.parent_id for unit in units}
        if len(provinces) > 1:
            found.append(RowError(row.row, N_("The communes of an area must all be in one province.")))
        owner = None
        if row.owner_code:
            owner = owners.get(row.owner_code.upper())
            if owner is None:
                found.append(RowError(row.row, N_("No facility with code '%(code)s'."), {"code": row.owner_code}))
            elif owner.type not in OWNER_TYPES:
                found.append(RowError(row.row, N_("Facility %(code)s is a %(type)s; an area is run by one of "
                                                  "%(types)s."),
                                      {"code": owner.code, "type": owner.type, "types": ", ".join(OWNER_TYPES)}))
        report.errors.extend(found)
        if not found:
            values = {"code": row.code, "name": row.name, "province_id": units[0].parent_id,
                      "owner_facility_id": owner.id if owner else None,
                      "valid_from": row.valid_from, "valid_to": row.valid_to}
            plans.append((row.row, existing.get(row.code.upper()), values, units))
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report
    for _row, area, values, units in plans:
        if area is None:
            area = ServiceArea(**values)
            db.session.add(area)
            report.created += 1
        else:
            for key, value in values.items():
                setattr(area, key, value)
            report.updated += 1
        area.commune_rows = [ServiceAreaCommune(unit=unit) for unit in units]
    db.session.flush()
    record("areas.imported", "service_area_import", sha256 or "-", user_id=user_id,
           details={"source": source[:200], "created": report.created, "updated": report.updated,
                    "areas": sorted(row.code for row in parsed.rows)})
    return report


def areas_of_province(province_id: int, on: dt.date | None = None) -> list[ServiceArea]:
    """The areas of a 2025 province (in force on ``on`` when given), by name."""
    stmt = sa.select(ServiceArea).where(ServiceArea.province_id == province_id)
    if on is not None:
        stmt = stmt.where(ServiceArea.valid_from <= on,
                          sa.or_(ServiceArea.valid_to.is_(None), ServiceArea.valid_to >= on))
    return list(db.session.scalars(stmt.order_by(ServiceArea.name, ServiceArea.code)))


def commune_ids(area: ServiceArea) -> set[int]:
    """Ids of the area's 2025 communes."""
    return set(db.session.scalars(sa.select(ServiceAreaCommune.unit_id).where(ServiceAreaCommune.area_id == area.id)))


def area_by_commune(province_id: int, on: dt.date) -> dict[int, ServiceArea]:
    """commune id → the area holding it on ``on`` (communes outside every area are absent)."""
    result: dict[int, ServiceArea] = {}
    for area in areas_of_province(province_id, on):
        for link in area.commune_rows:
            result[link.unit_id] = area
    return result


def all_areas() -> list[ServiceArea]:
    """Every area, by province then name (the administration page and the scope choices)."""
    return list(db.session.scalars(sa.select(ServiceArea).order_by(ServiceArea.province_id, ServiceArea.name)))
