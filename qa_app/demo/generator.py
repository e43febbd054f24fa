"""Deterministic demo and scale data: units, users, facilities and years of scored inspections.

``generate(DemoParams())`` builds the demo province (the real Lai Châu); ``DemoParams.for_scale("province")``
and ``("national")`` build synthetic sets of the sizes in docs/benchmarks.md. Same parameters
and seed give the same rows: every random draw comes from a ``random.Random`` seeded by the seed and a
stable name (facility code, inspection number), and "today" is a parameter, never the clock.

Rows are written with Core bulk inserts (no ORM objects), in chunks; the function flushes and the caller
commits.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..areas.models import ServiceArea, ServiceAreaCommune
from ..checklists.models import ChecklistVersion
from ..checklists.registry import sync_directory
from ..extensions import db
from ..facilities.models import Facility, FacilityParentLink, FacilityService
from ..inspections.status import refresh_all
from ..regions.models import REFORM_DATE, AdminUnit, HighFertilityStatus, UnitSuccession
from . import geography
from .bulk import _chunks, _insert_returning, _require_empty
from .facilities import FacilitySpec, build_facilities
from .geography import Geography, UnitKey
from .params import (  # noqa: F401 (re-exported: the CLI and tests import the demo logins and presets from here)
    AREA_DEMO_USER,
    DEMO_PASSWORD,
    DEMO_POSITIONS,
    DEMO_USERS,
    LOCAL,
    OPINIONS,
    DemoParams,
    DemoSummary,
    _local,
    parse_scope_code,
    scope_code,
)
from .people import _insert_area_reviewer, _insert_users
from .visits import _plan_inspections, _write_inspections


def generate(params: DemoParams | None = None) -> DemoSummary:
    """Fill an empty database (schema created, inside an app context) with a data set; flush, never commit."""
    params = params or DemoParams()
    started = time.perf_counter()
    _require_empty()
    if db.session.scalar(sa.select(sa.func.count()).select_from(ChecklistVersion)) == 0:
        sync_directory(current_app.config["CHECKLISTS_DIR"])
    summary = DemoSummary(params)
    if params.real_province:
        geo = geography.lai_chau()
    else:
        geo = geography.synthetic(random.Random(f"{params.seed}/geography"), params.provinces,
                                  params.old_provinces, params.districts, params.old_communes, params.communes,
                                  params.split_share)
    unit_ids = _insert_units(geo, summary)
    staff = _insert_users(geo, params, unit_ids, summary)
    facilities = build_facilities(
        geo, params.seed, public_hospitals=params.public_hospitals, private_hospitals=params.private_hospitals,
        clinics=params.clinics, pharmacies=params.pharmacies, never_share=params.never_share,
        biennial_share=params.biennial_share, recent_open_share=params.recent_open_share,
        closed_share=params.closed_share, ethnic_share=params.ethnic_share, today=params.today)
    facility_ids = _insert_facilities(facilities, unit_ids, summary)
    summary.areas = _insert_areas(geo, facilities, facility_ids, unit_ids)
    if params.real_province:
        _insert_area_reviewer(params, summary)
    planned = _plan_inspections(facilities, params, staff)
    _write_inspections(planned, facilities, facility_ids, staff, params, summary)
    db.session.flush()
    # The inspections are written directly, not through the approval: their result intervals too.
    refresh_all()
    summary.seconds = time.perf_counter() - started
    return summary


def _insert_units(geo: Geography, summary: DemoSummary) -> dict[UnitKey, int]:
    table = AdminUnit.__table__
    ids: dict[UnitKey, int] = {}
    paths: dict[UnitKey, str] = {}
    # Level by level, so that every parent id is known before its children are inserted.
    for level in ("province", "district", "commune"):
        specs = [u for u in geo.units if u.level == level]
        rows = [{"system": u.system, "level": u.level, "code": u.code, "name": u.name, "kind": u.kind,
                 "name_en": u.name_en, "parent_id": ids[u.parent] if u.parent else None, "path": "",
                 "valid_from": u.valid[0], "valid_to": u.valid[1]} for u in specs]
        for spec, new_id in zip(specs, _insert_returning(table, rows), strict=True):
            ids[spec.key] = new_id
            paths[spec.key] = (paths[spec.parent] if spec.parent else "/") + f"{new_id}/"
            summary.units[f"{spec.system} {spec.level}"] += 1
    # The materialised path needs the unit's own id, known only after the insert.
    update = sa.update(table).where(table.c.id == sa.bindparam("unit_id")).values(path=sa.bindparam("unit_path"))
    path_rows = [{"unit_id": ids[k], "unit_path": p} for k, p in paths.items()]
    for chunk in _chunks(path_rows, 5_000):
        db.session.execute(update, list(chunk))
    succession_rows = [{"old_unit_id": ids[old], "new_unit_id": ids[new], "whole": whole}
                       for old, new, whole in geo.successions]
    for chunk in _chunks(succession_rows, 5_000):
        db.session.execute(sa.insert(UnitSuccession.__table__), list(chunk))
    summary.successions = len(succession_rows)
    return ids


def _insert_facilities(facilities: list[FacilitySpec], unit_ids: dict[UnitKey, int],
                       summary: DemoSummary) -> list[int]:
    # Registered when the system went live (before the history starts), or when they opened if later.
    live = dt.date(2020, 12, 1)
    rows = [{"code": f.code, "name": f.name, "type": f.type, "ownership": f.ownership,
             "high_fertility": f.high_fertility, "active_from": f.active_from, "active_to": f.active_to,
             "unit_id": unit_ids[f.unit], "legacy_unit_id": unit_ids[f.legacy], "address": f.address,
             "phone": f.phone, "head_name": f.head_name,
             "created_at": _local(max(live, f.active_from), 9, 0)} for f in facilities]
    ids = _insert_returning(Facility.__table__, rows)
    service_rows = [{"facility_id": fid, "service": s} for f, fid in zip(facilities, ids, strict=True)
                    for s in f.services]
    for chunk in _chunks(service_rows, 10_000):
        db.session.execute(sa.insert(FacilityService.__table__), list(chunk))
    by_code = {f.code: fid for f, fid in zip(facilities, ids, strict=True)}
    links = [{"id": fid, "parent_facility_id": by_code[f.parent]} for f, fid in zip(facilities, ids, strict=True)
             if f.parent]
    for chunk in _chunks(links, 10_000):
        db.session.execute(sa.update(Facility.__table__).where(Facility.__table__.c.id == sa.bindparam("b_id"))
                           .values(parent_facility_id=sa.bindparam("b_parent")),
                           [{"b_id": r["id"], "b_parent": r["parent_facility_id"]} for r in chunk])
        db.session.execute(sa.insert(FacilityParentLink.__table__), [
            {"facility_id": r["id"], "parent_facility_id": r["parent_facility_id"], "valid_from": REFORM_DATE,
             "valid_to": None, "source": "demo", "created_at": _local(REFORM_DATE, 9, 0)} for r in chunk])
    # The high-fertility communes (what the 1848 commune-station indicator counts): those of the flagged
    # stations, designated from the day the first of them opened.
    designated: dict[int, dt.date] = {}
    for f in facilities:
        if f.high_fertility:
            unit_id = unit_ids[f.unit]
            designated[unit_id] = min(designated.get(unit_id, f.active_from), f.active_from)
    if designated:
        db.session.execute(sa.insert(HighFertilityStatus.__table__), [
            {"unit_id": unit_id, "high_fertility": True, "valid_from": since, "valid_to": None,
             "source": "demo", "imported_from": "demo"} for unit_id, since in sorted(designated.items())])
    for f in facilities:
        # Sub-stations are counted apart: "TYT" stays the number of legal stations, one per 2025 commune.
        summary.facilities[("DT" if f.parent else f.type, f.ownership)] += 1
    return ids


def _insert_areas(geo: Geography, facilities: list[FacilitySpec], facility_ids: list[int],
                  unit_ids: dict[UnitKey, int]) -> int:
    """One service area per old district: the 2025 communes whose legal station served that district, run by
    the district's former health centre (now a regional one). Returns how many areas were made."""
    by_code = {f.code: fid for f, fid in zip(facilities, facility_ids, strict=True)}
    stations = {(f.province, f.unit): f for f in facilities if f.type == "TYT" and f.parent is None}
    areas: list[dict[str, Any]] = []
    members: list[list[int]] = []
    for p_index, province in enumerate(geo.provinces):
        groups: dict[UnitKey, list[int]] = {}
        for commune in province.communes:
            station = stations.get((p_index, commune.key))
            district = station.district if station else province.old_district_of[commune.predecessors[0]]
            groups.setdefault(district, []).append(unit_ids[commune.key])
        for district in province.districts:
            communes = groups.get(district.key)
            if not communes:
                continue
            areas.append({"code": f"KV-{province.key[2]}-{district.key[2]}", "name": f"Khu vực {district.bare_name}",
                          "province_id": unit_ids[province.key],
                          "owner_facility_id": by_code.get(f"TTYT-{district.key[2]}"),
                          "valid_from": REFORM_DATE, "valid_to": None})
            members.append(communes)
    if not areas:
        return 0
    area_ids = _insert_returning(ServiceArea.__table__, areas)
    rows = [{"area_id": aid, "unit_id": uid} for aid, communes in zip(area_ids, members, strict=True)
            for uid in communes]
    for chunk in _chunks(rows, 10_000):
        db.session.execute(sa.insert(ServiceAreaCommune.__table__), list(chunk))
    return len(areas)


