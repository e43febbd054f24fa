"""Applying a station reorganisation to the registry (flush, never commit; the command commits or rolls back)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..audit.services import record
from ..extensions import db
from ..regions.importers import ParseResult
from ..regions.models import AdminUnit
from .models import Facility, FacilityParentLink
from .stations import SUB_STATION, Plan, PlanRow, Station, plan_stations


def successors_of(parsed: ParseResult) -> dict[str, list[str]]:
    """old commune code → its 2025 communes, from a parsed conversion table."""
    result: dict[str, list[str]] = {}
    for link in parsed.links:
        if link.old_code:
            result.setdefault(link.old_code, [])
            if link.new_code not in result[link.old_code]:
                result[link.old_code].append(link.new_code)
    return result


def _stations_query(province: str | None, on: dt.date) -> sa.Select:
    unit, legacy, prov = aliased(AdminUnit), aliased(AdminUnit), aliased(AdminUnit)
    stmt = (sa.select(Facility.code, Facility.name, unit.code, legacy.code)
            .join(unit, unit.id == Facility.unit_id).outerjoin(legacy, legacy.id == Facility.legacy_unit_id)
            .where(Facility.type == "TYT", Facility.parent_facility_id.is_(None), Facility.active_from <= on,
                   sa.or_(Facility.active_to.is_(None), Facility.active_to >= on), unit.level == "commune"))
    if province:
        stmt = stmt.join(prov, prov.id == unit.parent_id).where(prov.code == province)
    return stmt


def propose(parsed: ParseResult, province: str | None, on: dt.date) -> Plan:
    """The plan for the stations of the registry (one province, or all), from a parsed conversion table."""
    stations = [Station(code, name, unit_code, legacy_code)
                for code, name, unit_code, legacy_code in db.session.execute(_stations_query(province, on))]
    names = {u.code: u.name for u in db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.system == "2025", AdminUnit.level == "commune"))}
    return plan_stations(stations, successors_of(parsed), names)


def apply_plan(rows: Sequence[PlanRow], on: dt.date, *, source: str = "", sha256: str = "",
               user_id: int | None = None) -> tuple[int, list[str]]:
    """Make the plan's sub-stations sub-stations, all or nothing; returns (linked, problems).

    Compare-and-set: a facility is linked only if it is still an active station without a parent, and its
    station is one too (and does not itself become a sub-station in this plan).
    """
    subs = [row for row in rows if row.role == SUB_STATION]
    codes = sorted({row.facility_code for row in subs} | {row.station_code for row in subs})
    found = ({f.code: f for f in db.session.scalars(sa.select(Facility).where(Facility.code.in_(codes)))}
             if codes else {})
    becoming = {row.facility_code for row in subs}
    problems: list[str] = []
    for row in subs:
        facility, station = found.get(row.facility_code), found.get(row.station_code)
        if facility is None:
            problems.append(f"{row.facility_code}: no such facility")
        elif facility.type != "TYT" or facility.parent_facility_id is not None or not facility.is_active(on):
            problems.append(f"{row.facility_code}: no longer an active commune station without a parent")
        if station is None:
            problems.append(f"{row.station_code}: no such facility")
        elif station.type != "TYT" or station.parent_facility_id is not None or row.station_code in becoming:
            problems.append(f"{row.station_code}: cannot be a station (not a TYT, or itself a sub-station)")
    if problems:
        return 0, problems
    for row in subs:
        facility = found[row.facility_code]
        facility.parent_facility_id = found[row.station_code].id
        db.session.add(FacilityParentLink(facility_id=facility.id, parent_facility_id=found[row.station_code].id,
                                          valid_from=on, source=source[:200]))
    db.session.flush()
    record("facilities.reorganised", "facility_reorganisation", sha256 or "-", user_id=user_id,
           details={"source": source[:200], "date": on.isoformat(), "sub_stations": len(subs),
                    "stations": len({row.station_code for row in subs})})
    return len(subs), []
