"""Deterministic demo and scale data: units, users, facilities and years of scored inspections.

``generate(DemoParams())`` builds the demo province (the real Lai Châu); ``DemoParams.for_scale("province")``
and ``("national")`` build synthetic sets of the sizes in DESIGN.md "Scale to plan for". Same parameters
and seed give the same rows: every random draw comes from a ``random.Random`` seeded by the seed and a
stable name (facility code, inspection number), and "today" is a parameter, never the clock.

Rows are written with Core bulk inserts (no ORM objects), in chunks; the function flushes and the caller
commits.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import random
import string
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..areas.models import ServiceArea, ServiceAreaCommune
from ..auth.models import User
from ..checklists.models import ChecklistVersion
from ..checklists.registry import checklist_of, sync_directory, version_for
from ..checklists.schema import Checklist, FacilityProfile
from ..extensions import db
from ..facilities.models import Facility, FacilityParentLink, FacilityService
from ..inspections.models import (
    Answer,
    CorrectiveAction,
    Inspection,
    ReviewComment,
    SectionResult,
    Signature,
    TeamMember,
)
from ..inspections.status import refresh_all
from ..regions.models import REFORM_DATE, AdminUnit, HighFertilityStatus, UnitSuccession
from ..scoring import score_inspection
from . import geography
from .answering import (
    Answers,
    Outcome,
    Plan,
    build_plan,
    engine_outcome,
    fast_outcome,
    generate_answers,
    met_probability,
)
from .facilities import FacilitySpec, build_facilities
from .geography import Geography, UnitKey
from .names import person
from .signatures import signature

# Every demo account has this password (printed by `flask qa setup`); it is public, so never seed production.
DEMO_PASSWORD = "DemoQA@2025"

# (username, full name, role, scope) with the scope as "system:level:code" of an admin unit, or None.
DEMO_USERS: list[tuple[str, str, str, str | None]] = [
    ("admin", "Nguyễn Minh Tuấn", "admin", None),
    ("quanly.tinh", "Lò Thị Hương", "provincial_manager", "2025:province:12"),
    ("duyet.tamduong", "Trần Văn Hùng", "reviewer", "pre2025:district:106"),
    ("duyet.phongtho", "Lường Thị Thu", "reviewer", "pre2025:district:109"),
    ("giamsat.td1", "Lò Văn Phong", "supervisor", "pre2025:district:106"),
    ("giamsat.td2", "Đỗ Thị Thanh Hà", "supervisor", "pre2025:district:106"),
    ("giamsat.pt", "Giàng A Lử", "supervisor", "pre2025:district:109"),
    # The provincial inspection team, which visits the districts that have no supervisor account of their own.
    ("giamsat.tinh", "Phạm Thu Trang", "supervisor", "2025:province:12"),
]
# A reviewer of the regional health centre that runs the Tam Đường service area (demo set only): the
# post-reform scope, beside the district-scoped reviewers kept for the pre-2025 history.
AREA_DEMO_USER = ("duyet.khuvuc", "Vàng Thị Mai", "reviewer", "KV-12-106",
                  "Phó Giám đốc Trung tâm Y tế khu vực Tam Đường")

DEMO_POSITIONS: dict[str, str] = {
    "admin": "Quản trị hệ thống, Sở Y tế tỉnh Lai Châu",
    "quanly.tinh": "Phó Chi cục trưởng Chi cục Dân số, Sở Y tế tỉnh Lai Châu",
    "duyet.tamduong": "Phó Giám đốc Trung tâm Y tế huyện Tam Đường",
    "duyet.phongtho": "Trưởng khoa Chăm sóc sức khỏe sinh sản, Trung tâm Y tế huyện Phong Thổ",
    "giamsat.td1": "Viên chức Dân số, Trung tâm Y tế huyện Tam Đường",
    "giamsat.td2": "Nữ hộ sinh, khoa Chăm sóc sức khỏe sinh sản, Trung tâm Y tế huyện Tam Đường",
    "giamsat.pt": "Y sĩ sản nhi, Trung tâm Y tế huyện Phong Thổ",
    "giamsat.tinh": "Chuyên viên phòng Nghiệp vụ, Chi cục Dân số tỉnh Lai Châu",
}

LOCAL = dt.timezone(dt.timedelta(hours=7))  # Vietnam: visits happen in office hours, local time
OPINIONS = (
    "Cơ sở thống nhất với kết quả kiểm tra và cam kết khắc phục các tồn tại trong thời hạn 30 ngày.",
    "Cơ sở nhất trí với biên bản; đề nghị Trung tâm Y tế hỗ trợ bổ sung dụng cụ đặt DCTC.",
    "Thống nhất. Cơ sở sẽ báo cáo kết quả khắc phục trước ngày giám sát lần sau.",
    "Cơ sở nhất trí với nội dung biên bản.",
)


def scope_code(system: str, level: str, code: str) -> str:
    """The scope notation of DEMO_USERS: 'pre2025:district:106'."""
    return f"{system}:{level}:{code}"


def parse_scope_code(text: str | None) -> UnitKey | None:
    """(system, level, code) from 'pre2025:district:106'; None for the whole country."""
    if text is None:
        return None
    system, level, code = text.split(":")
    return (system, level, code)


@dataclass(frozen=True)
class DemoParams:
    """What to generate; ``for_scale`` gives the three standard sets, fields allow tiny test sets."""

    seed: int = 2025
    # The day the data set ends; fixed so that the same seed gives the same rows on any day.
    today: dt.date = dt.date(2026, 11, 15)
    history_from: dt.date = dt.date(2021, 1, 1)
    # True: the real Lai Châu (demo). False: synthetic provinces of the sizes below.
    real_province: bool = True
    provinces: int = 1  # 2025 provinces
    old_provinces: int = 1  # pre-2025 provinces
    districts: int = 12  # pre-2025 districts, in total
    old_communes: int = 300  # pre-2025 communes, in total
    communes: int = 110  # 2025 communes (one commune health station each), in total
    split_share: float = 0.03  # share of old communes split between two new ones
    # Facilities besides one station per 2025 commune and one centre per old district, in total.
    public_hospitals: int = 1
    private_hospitals: int = 1
    clinics: int = 15
    pharmacies: int = 20
    recent_open_share: float = 0.1  # private facilities opened in 2023–2024
    closed_share: float = 0.015  # private facilities closed (the first in 2025)
    ethnic_share: float = 0.6  # heads and staff from the mountain peoples (Lai Châu)
    # Inspections.
    never_share: float = 0.08  # facilities never inspected externally
    biennial_share: float = 0.22  # facilities inspected every two years instead of yearly
    self_share: float = 0.15  # chance of a self-assessment per facility and year
    na_rate: float = 0.03
    critical_factor: float = 0.05  # critical items fail this much less often than others
    note_rate: float = 0.35  # share of failed items with a written finding
    recent_days: int = 60  # the window with work in progress (submitted, returned, draft)
    drafts: int = 2  # at least this many drafts in the recent window
    submitted: int = 3  # at least this many visits of the last weeks awaiting review
    returned: int = 1  # at least this many returned inspections
    # Scoring: True uses the precomputed fast path (verified against score_inspection in the tests).
    fast_scoring: bool = False
    staff_users: bool = False  # one reviewer and one supervisor per district, one manager per province
    signatures: bool = True  # drawn signatures (PNG) of team head and facility representative
    chunk_size: int = 10_000  # answer rows per insert

    @classmethod
    def for_scale(cls, scale: str, seed: int = 2025, **overrides: Any) -> DemoParams:
        """'demo' (Lai Châu), 'province' (~600 facilities) or 'national' (~50,000 facilities)."""
        if scale == "demo":
            params = cls(seed=seed)
        elif scale == "province":
            params = cls(seed=seed, real_province=False, provinces=1, old_provinces=1, districts=12,
                         old_communes=300, communes=110, public_hospitals=3, private_hospitals=1, clinics=200,
                         pharmacies=270, ethnic_share=0.3, drafts=4, returned=2, fast_scoring=True,
                         staff_users=True)
        elif scale == "national":
            params = cls(seed=seed, real_province=False, provinces=34, old_provinces=63, districts=696,
                         old_communes=10_056, communes=3_321, public_hospitals=34 * 3, private_hospitals=34,
                         clinics=16_000, pharmacies=29_500, ethnic_share=0.15, drafts=200, returned=80,
                         fast_scoring=True, staff_users=True, signatures=False, chunk_size=20_000)
        else:
            raise ValueError(f"unknown scale {scale!r}: demo, province or national")
        return replace(params, **overrides)


@dataclass
class DemoSummary:
    """What was generated, for the command line."""

    params: DemoParams
    units: Counter[str] = field(default_factory=Counter)  # "pre2025 commune" -> count
    successions: int = 0
    facilities: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, ownership) -> count
    inspections: Counter[str] = field(default_factory=Counter)  # status -> count
    kinds: Counter[str] = field(default_factory=Counter)
    never_assessed: int = 0
    answers: int = 0
    section_results: int = 0
    team_members: int = 0
    signatures: int = 0
    corrective_actions: int = 0
    review_comments: int = 0
    users: Counter[str] = field(default_factory=Counter)  # role -> count
    skipped: int = 0  # planned visits with no checklist version in force
    areas: int = 0  # service areas (one per old district)
    seconds: float = 0.0

    def describe(self) -> str:
        """A few lines: units, facilities by type, inspections by status, answers, users."""
        order = ("pre2025 province", "pre2025 district", "pre2025 commune", "2025 province", "2025 commune")
        units = ", ".join(f"{self.units[name]} {name}" for name in order if self.units[name])
        by_type: Counter[str] = Counter()
        for (ftype, _), n in self.facilities.items():
            by_type[ftype] += n
        types = ", ".join(f"{t} {by_type[t]}" for t in ("TYT", "DT", "TTYT", "BV", "PK", "NT") if by_type[t])
        public = sum(n for (_, own), n in self.facilities.items() if own == "public")
        statuses = ", ".join(f"{s} {self.inspections[s]}" for s in ("approved", "submitted", "returned", "draft"))
        roles = ", ".join(f"{r} {n}" for r, n in sorted(self.users.items()))
        lines = [
            f"Demo data (seed {self.params.seed}, up to {self.params.today:%d/%m/%Y}) in {self.seconds:.1f} s",
            f"  Units: {units}; {self.successions} old-to-new successions",
            f"  Facilities: {sum(self.facilities.values())} ({types}; {public} public), "
            f"{self.never_assessed} never inspected; {self.areas} service areas",
            f"  Inspections: {sum(self.inspections.values())} ({statuses}; "
            f"{self.kinds['external']} external, {self.kinds['self']} self-assessments)",
            f"  Answers: {self.answers}; section results: {self.section_results}; team members: "
            f"{self.team_members}; signatures: {self.signatures}; corrective actions: {self.corrective_actions}; "
            f"review comments: {self.review_comments}",
            f"  Users: {sum(self.users.values())} ({roles})",
        ]
        if self.skipped:
            lines.append(f"  Skipped {self.skipped} planned visits with no checklist version in force")
        return "\n".join(lines)


@dataclass
class _Planned:
    facility: int
    day: dt.date
    kind: str
    seq: int
    status: str = "approved"
    next_external: dt.date | None = None


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


def _require_empty() -> None:
    for model in (AdminUnit, User, Facility, Inspection):
        if db.session.scalar(sa.select(sa.func.count()).select_from(model)):
            raise RuntimeError(f"demo data goes into an empty database; table {model.__tablename__} has rows")


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _insert_returning(table: sa.Table, rows: list[dict[str, Any]], size: int = 5_000) -> list[int]:
    """Insert rows and return their new ids in the same order (one batched statement per chunk)."""
    ids: list[int] = []
    for chunk in _chunks(rows, size):
        stmt = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids += db.session.execute(stmt, list(chunk)).scalars().all()
    return ids


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


def _password_hash(seed: int) -> str:
    """A Werkzeug-compatible scrypt hash of DEMO_PASSWORD with a seeded salt (so runs are identical)."""
    rng = random.Random(f"{seed}/salt")
    salt = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))
    n, r, p = 2**15, 8, 1
    digest = hashlib.scrypt(DEMO_PASSWORD.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p)
    return f"scrypt:{n}:{r}:{p}${salt}${digest.hex()}"


@dataclass
class _Staff:
    """Who inspects and who approves, by pre-2025 district and by 2025 province."""

    creators: dict[UnitKey, list[int]] = field(default_factory=dict)  # district -> supervisor ids
    reviewer: dict[UnitKey, int] = field(default_factory=dict)  # district -> reviewer id
    province_creator: dict[UnitKey, int] = field(default_factory=dict)
    manager: dict[UnitKey, int] = field(default_factory=dict)
    focus: set[UnitKey] = field(default_factory=set)  # districts of the demo supervisors
    provinces: list[UnitKey] = field(default_factory=list)  # 2025 provinces, by Geography index
    people: dict[int, tuple[str, str]] = field(default_factory=dict)  # user id -> (full name, position)
    created_at: dt.datetime = dt.datetime(2020, 12, 1, tzinfo=dt.UTC)


def _demo_scope(geo: Geography, scope: str | None, real: bool) -> UnitKey | None:
    """Map a DEMO_USERS scope onto the generated units: itself in Lai Châu, by position in a synthetic set."""
    key = parse_scope_code(scope)
    if key is None or real:
        return key
    province = geo.provinces[0]
    if key[1] == "province":
        return province.key
    districts = province.districts
    slots = {"106": 1, "109": 2} if len(districts) >= 3 else {"106": 0, "109": len(districts) - 1}
    return districts[slots.get(key[2], 0)].key


def _insert_users(geo: Geography, params: DemoParams, unit_ids: dict[UnitKey, int],
                  summary: DemoSummary) -> _Staff:
    password_hash = _password_hash(params.seed)
    staff = _Staff(created_at=dt.datetime.combine(params.history_from - dt.timedelta(days=45), dt.time(2, 0),
                                                  tzinfo=dt.UTC), provinces=[p.key for p in geo.provinces])
    rows: list[dict[str, Any]] = []
    scopes: list[UnitKey | None] = []
    for username, full_name, role, scope in DEMO_USERS:
        key = _demo_scope(geo, scope, params.real_province)
        scopes.append(key)
        rows.append({"username": username, "full_name": full_name, "position": DEMO_POSITIONS.get(username, ""),
                     "email": f"{username}@demo.invalid", "role": role,
                     "scope_unit_id": unit_ids[key] if key else None})
    if params.staff_users:
        rng = random.Random(f"{params.seed}/staff")
        for province in geo.provinces:
            p_code = province.key[2]
            for prefix, role, title in (("ql", "provincial_manager", "Chi cục Dân số"),
                                        ("gst", "supervisor", "Đoàn kiểm tra tỉnh")):
                rows.append({"username": f"{prefix}.{p_code}", "full_name": person(rng, params.ethnic_share),
                             "position": f"{title} {province.kind.lower()} {province.bare_name}", "email": None,
                             "role": role, "scope_unit_id": unit_ids[province.key]})
                scopes.append(province.key)
            for district in province.districts:
                d_code = district.key[2]
                centre = f"Trung tâm Y tế {district.kind.lower()} {district.bare_name}"
                for prefix, role in (("dg", "reviewer"), ("gs", "supervisor")):
                    rows.append({"username": f"{prefix}.{d_code}", "full_name": person(rng, params.ethnic_share),
                                 "position": centre, "email": None, "role": role,
                                 "scope_unit_id": unit_ids[district.key]})
                    scopes.append(district.key)
    for row in rows:
        row.update(password_hash=password_hash, active=True, locale=None, failed_logins=0,
                   created_at=staff.created_at)
    ids = _insert_returning(User.__table__, rows)
    for row, key, user_id in zip(rows, scopes, ids, strict=True):
        summary.users[row["role"]] += 1
        staff.people[user_id] = (row["full_name"], row["position"])
        if key is None:
            continue
        if row["role"] == "supervisor":
            if key[1] == "district":
                staff.creators.setdefault(key, []).append(user_id)
                if row["username"] in {u[0] for u in DEMO_USERS}:
                    staff.focus.add(key)
            else:
                staff.province_creator.setdefault(key, user_id)
        elif row["role"] == "reviewer":
            staff.reviewer.setdefault(key, user_id)
        elif row["role"] == "provincial_manager":
            staff.manager.setdefault(key, user_id)
    return staff


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


def _insert_area_reviewer(params: DemoParams, summary: DemoSummary) -> None:
    username, full_name, role, area_code, position = AREA_DEMO_USER
    area = db.session.scalar(sa.select(ServiceArea).where(ServiceArea.code == area_code))
    if area is None:
        return
    db.session.execute(sa.insert(User.__table__).values(
        username=username, full_name=full_name, position=position, email=None, role=role,
        scope_unit_id=area.province_id, scope_area_id=area.id, password_hash=_password_hash(params.seed),
        active=True, locale=None, failed_logins=0, created_at=_local(dt.date(2025, 7, 1), 8, 0)))
    summary.users[role] += 1


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


def _plan_inspections(facilities: list[FacilitySpec], params: DemoParams, staff: _Staff) -> list[_Planned]:
    """Visit dates and kinds for every facility, then the statuses of the recent ones."""
    planned: list[_Planned] = []
    last = params.today - dt.timedelta(days=1)
    for index, f in enumerate(facilities):
        rng = random.Random(f"{params.seed}/schedule/{f.code}")
        start = max(params.history_from, f.active_from + dt.timedelta(days=60))
        end = min(last, f.active_to or last)
        if start > end:
            continue
        visits: list[tuple[dt.date, str]] = []
        if f.cadence != "never":
            step = 365 if f.cadence == "yearly" else 730
            day = start + dt.timedelta(days=rng.randint(0, min(step - 1, (end - start).days)))
            while day <= end:
                visits.append((day, "external"))
                day += dt.timedelta(days=step + rng.randint(-45, 45))
        for year in range(start.year, end.year + 1):
            if rng.random() < params.self_share:
                lo, hi = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
                if lo <= hi:
                    visits.append((lo + dt.timedelta(days=rng.randint(0, (hi - lo).days)), "self"))
        visits.sort()
        planned += [_Planned(index, day, kind, seq) for seq, (day, kind) in enumerate(visits)]
    _add_work_in_progress(planned, facilities, params, staff)
    _assign_statuses(planned, facilities, params, staff)
    # The next external visit is when the team checks last visit's corrective actions.
    following: dict[int, dt.date] = {}
    for p in sorted(planned, key=lambda p: (p.facility, -p.day.toordinal(), -p.seq)):
        p.next_external = following.get(p.facility)
        if p.kind == "external" and p.status != "draft":
            following[p.facility] = p.day
    return planned


def _add_work_in_progress(planned: list[_Planned], facilities: list[FacilitySpec], params: DemoParams,
                          staff: _Staff) -> None:
    """Visits of the last weeks still in progress (drafts) or awaiting review (submitted).

    They go preferably to the demo supervisors' districts, so that the demo logins have a draft to finish
    and a queue to review; facilities visited in the recent window are left alone.
    """
    rng = random.Random(f"{params.seed}/in-progress")
    recent = {p.facility for p in planned if (params.today - p.day).days <= params.recent_days}
    seqs = Counter(p.facility for p in planned)
    candidates = [i for i, f in enumerate(facilities)
                  if i not in recent and f.cadence != "never" and f.is_active(params.today)]
    focus = [i for i in candidates if facilities[i].district in staff.focus]
    rest = [i for i in candidates if facilities[i].district not in staff.focus]
    scale = len(facilities) / 100
    for status, wanted, days in (("draft", max(params.drafts, round(0.4 * scale)), (1, 6)),
                                 ("submitted", max(params.submitted, round(0.5 * scale)), (2, 20))):
        chosen = rng.sample(focus, min(len(focus), wanted))
        chosen += rng.sample(rest, min(len(rest), wanted - len(chosen)))
        for index in sorted(chosen):
            day = params.today - dt.timedelta(days=rng.randint(*days))
            planned.append(_Planned(index, day, "external", seqs[index], status=status))
        taken = set(chosen)
        focus = [i for i in focus if i not in taken]
        rest = [i for i in rest if i not in taken]


def _assign_statuses(planned: list[_Planned], facilities: list[FacilitySpec], params: DemoParams,
                     staff: _Staff) -> None:
    """Work in progress sits in the last weeks: some submitted, one or more returned, the rest approved."""
    rng = random.Random(f"{params.seed}/statuses")
    today = params.today
    recent = [p for p in planned if (today - p.day).days <= params.recent_days and p.status == "approved"]
    # Visits in the demo supervisors' districts first, newest first, so the demo logins see the work.
    recent.sort(key=lambda p: (facilities[p.facility].district not in staff.focus, -p.day.toordinal(),
                               facilities[p.facility].code, p.seq))
    returnable = [p for p in recent if p.kind == "external" and 7 <= (today - p.day).days <= 45]
    for p in returnable[:max(params.returned, round(0.01 * len(recent)))]:
        p.status = "returned"
    for p in sorted(recent, key=lambda p: (p.day, facilities[p.facility].code, p.seq)):
        if p.status != "approved":
            continue
        age = (today - p.day).days
        # Reviewers take days to weeks: the newest are mostly still waiting.
        if age <= 30 and rng.random() < 0.75 or age > 30 and rng.random() < 0.15:
            p.status = "submitted"


class _VersionPicker:
    """registry.version_for, called once per facility type and period between effective dates."""

    def __init__(self) -> None:
        rows = db.session.scalars(sa.select(ChecklistVersion).where(ChecklistVersion.status == "published")).all()
        self.bounds = sorted({row.effective_from for row in rows})
        self.cache: dict[tuple[str, int], ChecklistVersion | None] = {}
        self.checklists: dict[int, Checklist] = {}

    def pick(self, ftype: str, day: dt.date) -> tuple[ChecklistVersion, Checklist] | None:
        """The version (and its parsed checklist) an inspection of ``ftype`` on ``day`` uses."""
        key = (ftype, bisect.bisect_right(self.bounds, day))
        if key not in self.cache:
            self.cache[key] = version_for(ftype, day)
        version = self.cache[key]
        if version is None:
            return None
        if version.id not in self.checklists:
            self.checklists[version.id] = checklist_of(version)
        return version, self.checklists[version.id]


def _local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOCAL).astimezone(dt.UTC)


class _AnswerWriter:
    """Bulk writer for answer rows: plain DB-API executemany on SQLite and PostgreSQL, Core elsewhere."""

    COLUMNS = ("inspection_id", "item_id", "value", "note", "revision", "updated_at", "updated_by_id", "failed",
               "critical_failure")

    def __init__(self, chunk_size: int) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.chunk_size = chunk_size
        table = Answer.__table__
        dialect = db.session.get_bind().dialect
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
        self.raw = dialect.name in ("sqlite", "postgresql") and mark is not None
        # The bind processors SQLAlchemy itself would apply (UTC conversion, SQLite's datetime strings,
        # booleans), run once per inspection instead of once per answer row.
        when = table.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
        flag = table.c.failed.type.dialect_impl(dialect).bind_processor(dialect)
        self.when = (when or _same) if self.raw else _same
        self.flags = {v: (flag(v) if flag and self.raw and v is not None else v) for v in (True, False, None)}
        if self.raw:
            self.sql = (f"INSERT INTO {table.name} ({', '.join(self.COLUMNS)}) "
                        f"VALUES ({', '.join([mark] * len(self.COLUMNS))})")

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        """Queue rows (tuples in COLUMNS order); written when a chunk is full."""
        self.rows += rows
        if len(self.rows) >= self.chunk_size:
            self.flush()

    def flush(self) -> None:
        """Write the queued rows."""
        if not self.rows:
            return
        if self.raw:
            db.session.connection().exec_driver_sql(self.sql, self.rows)
        else:
            db.session.execute(sa.insert(Answer.__table__),
                               [dict(zip(self.COLUMNS, row, strict=True)) for row in self.rows])
        self.rows = []


def _same(value: Any) -> Any:
    return value


@dataclass
class _Rows:
    """Everything one inspection writes, waiting for the inspection's id."""

    inspection: dict[str, Any]
    answers: list[list[Any]]
    sections: list[tuple[str, Any, Any, Any, int]] = field(default_factory=list)
    team: list[dict[str, Any]] = field(default_factory=list)
    signatures: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


HEAD_TITLES = {"TYT": "Trạm trưởng", "TTYT": "Giám đốc", "BV": "Phó Giám đốc",
               "PK": "Người phụ trách chuyên môn", "NT": "Dược sĩ phụ trách chuyên môn"}
DEPUTY_TITLES = {"TYT": "Nữ hộ sinh, phụ trách KHHGĐ", "TTYT": "Trưởng khoa CSSKSS", "BV": "Trưởng khoa Phụ sản",
                 "PK": "Y sĩ sản nhi", "NT": "Nhân viên bán thuốc"}
ACTIONS = {
    "A": "Bổ sung, niêm yết và lưu đủ giấy tờ, tài liệu chuyên môn theo quy định",
    "B": "Sửa chữa, bố trí lại cơ sở vật chất bảo đảm kín đáo, vệ sinh",
    "C": "Cử cán bộ tham gia tập huấn và lưu giấy chứng nhận",
    "D": "Đề xuất bổ sung, sửa chữa trang thiết bị; tạm dừng thủ thuật khi chưa đủ dụng cụ",
    "E": "Kiểm kê kho, loại bỏ hàng hết hạn, dự trù bổ sung PTTT",
    "F": "Thực hiện đúng quy trình KSNK và ghi sổ theo dõi tiệt khuẩn",
    "G": "Rà soát kỹ năng tư vấn theo bảng kiểm, tư vấn đầy đủ các BPTT",
    "H": "Thực hiện đúng hướng dẫn quốc gia, dùng bảng kiểm trước khi cung cấp biện pháp",
    "I": "Bổ sung hộp chống sốc, niêm yết phác đồ và thông tin chuyển tuyến",
    "J": "Hoàn thiện sổ sách, đối chiếu số liệu trước khi báo cáo",
    "K": "Đặt hòm thư góp ý, tổ chức khảo sát hài lòng và tự đánh giá",
    "L": "Bổ sung hồ sơ GPP, sổ theo dõi nhiệt độ, độ ẩm và quản lý số lô",
}
EVIDENCE = ("Đã khắc phục, có ảnh chụp minh chứng gửi kèm.", "Kiểm tra lại ngày giám sát sau: đã đạt.",
            "Cơ sở gửi báo cáo khắc phục và bản sao giấy tờ.", "Đã bổ sung, xác nhận qua điện thoại và ảnh chụp.")
RETURN_COMMENTS = ("Đề nghị bổ sung ảnh minh chứng cho các tiêu chí không đạt và ghi rõ ý kiến của cơ sở.",
                   "Biên bản thiếu chữ ký xác nhận ý kiến cơ sở; đề nghị rà soát lại thời hạn khắc phục.")


def _write_inspections(planned: list[_Planned], facilities: list[FacilitySpec], facility_ids: list[int],
                       staff: _Staff, params: DemoParams, summary: DemoSummary) -> None:
    picker = _VersionPicker()
    plans: dict[tuple[int, str, tuple[str, ...], str], Plan] = {}
    difficulty: dict[str, float] = {}
    writer = _AnswerWriter(params.chunk_size)
    batch: list[_Rows] = []
    assessed: set[int] = set()
    batch_size = max(50, params.chunk_size // 100)

    def flush_batch() -> None:
        ids = _insert_returning(Inspection.__table__, [rows.inspection for rows in batch])
        children: dict[sa.Table, list[dict[str, Any]]] = {table: [] for table in (
            SectionResult.__table__, TeamMember.__table__, Signature.__table__, CorrectiveAction.__table__,
            ReviewComment.__table__)}
        for rows, iid in zip(batch, ids, strict=True):
            children[SectionResult.__table__] += [
                {"inspection_id": iid, "section_id": s, "earned": e, "possible": p, "percent": pc,
                 "critical_failures": c} for s, e, p, pc, c in rows.sections]
            for table, extra in ((TeamMember.__table__, rows.team), (Signature.__table__, rows.signatures),
                                 (CorrectiveAction.__table__, rows.actions), (ReviewComment.__table__, rows.comments)):
                for row in extra:
                    row["inspection_id"] = iid
                children[table] += extra
            for row in rows.answers:
                row[0] = iid
            writer.add([tuple(row) for row in rows.answers])
        for table, table_rows in children.items():
            for chunk in _chunks(table_rows, 5_000):
                db.session.execute(sa.insert(table), list(chunk))
        summary.section_results += len(children[SectionResult.__table__])
        summary.team_members += len(children[TeamMember.__table__])
        summary.signatures += len(children[Signature.__table__])
        summary.corrective_actions += len(children[CorrectiveAction.__table__])
        summary.review_comments += len(children[ReviewComment.__table__])
        batch.clear()

    for p in sorted(planned, key=lambda p: (p.facility, p.seq)):
        f = facilities[p.facility]
        chosen = picker.pick(f.type, p.day)
        if chosen is None:
            summary.skipped += 1
            continue
        version, checklist = chosen
        services = f.services_on(p.day)
        plan_key = (version.id, f.type, services, f.ownership)
        plan = plans.get(plan_key)
        if plan is None:
            for item in checklist.items:
                if item.id not in difficulty:
                    # Some items are harder everywhere (training certificates, client surveys): a fixed offset.
                    item_rng = random.Random(f"{params.seed}/difficulty/{item.id}")
                    difficulty[item.id] = max(-0.08, min(0.08, item_rng.gauss(0.0, 0.04)))
            plan = plans[plan_key] = build_plan(
                checklist, FacilityProfile(f.type, frozenset(services), f.ownership), difficulty)
        rows = _inspection_rows(p, f, facility_ids[p.facility], version, plan, params, staff, writer)
        batch.append(rows)
        summary.inspections[rows.inspection["status"]] += 1
        summary.kinds[p.kind] += 1
        summary.answers += len(rows.answers)
        if p.kind == "external":
            assessed.add(p.facility)
        if len(batch) >= batch_size:
            flush_batch()
    if batch:
        flush_batch()
    writer.flush()
    summary.never_assessed = len(facilities) - len(assessed)


def _inspection_rows(p: _Planned, f: FacilitySpec, facility_id: int, version: ChecklistVersion, plan: Plan,
                     params: DemoParams, staff: _Staff, writer: _AnswerWriter) -> _Rows:
    """One inspection's rows; the answers and scores of a complete one, partial answers for a draft."""
    rng = random.Random(f"{params.seed}/inspection/{f.code}/{p.seq}")
    inspection_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    p_met = met_probability(f.type, f.ownership, p.day, p.kind == "self") + f.quality + rng.gauss(0.0, 0.025)
    limit = None if p.status != "draft" else max(1, int(len(plan.items) * rng.uniform(0.3, 0.85)))
    answers = generate_answers(plan, rng, p_met, f.traits, na_rate=params.na_rate,
                               critical_factor=params.critical_factor, note_rate=params.note_rate, limit=limit)
    now = _local(params.today, 10, 0)
    province = staff.provinces[f.province]
    creators = staff.creators.get(f.district) or [staff.province_creator.get(province)
                                                  or next(iter(staff.province_creator.values()))]
    creator = creators[rng.randrange(len(creators))]
    reviewer = (staff.reviewer.get(f.district) or staff.manager.get(province)
                or next(iter(staff.manager.values())))
    created = min(_local(p.day, 7, 30) + dt.timedelta(minutes=rng.randint(0, 120)), now - dt.timedelta(hours=3))
    answered = created + dt.timedelta(minutes=rng.randint(50, 150))
    status = p.status
    inspection: dict[str, Any] = {
        "uuid": inspection_uuid, "facility_id": facility_id, "checklist_version_id": version.id, "kind": p.kind,
        "status": status, "inspection_date": p.day, "created_by_id": creator, "created_at": created,
        "facility_type": f.type, "facility_services": sorted(plan.profile.services), "facility_opinion": "",
        "supersedes_id": None, "submitted_at": None, "submitted_by_id": None, "approved_at": None,
        "approved_by_id": None, "overall_percent": None, "classification": None, "critical_failures": None,
        "failed_items": None, "checklist_sha256": None,
    }
    rows = _Rows(inspection, [])
    rows.team = _team(p, f, creator, creators, staff, rng, params)
    stamp = writer.when(answered)
    if status == "draft":
        inspection.update(updated_at=answered, revision=1 + len(answers.values) + 1)
        rows.answers = [[0, i, v, n, 1, stamp, creator, None, None]
                        for i, v, n in zip(answers.item_ids, answers.values, answers.notes, strict=True)]
        return rows
    outcome: Outcome
    if params.fast_scoring:
        outcome = fast_outcome(plan, answers)
    else:
        outcome = engine_outcome(score_inspection(plan.checklist, plan.profile, answers.as_mapping()), answers)
    # Tablets without network sync in the next days; otherwise the team submits on site.
    submitted = answered + (dt.timedelta(minutes=rng.randint(5, 40)) if rng.random() < 0.75
                            else dt.timedelta(days=rng.randint(1, 4)))
    submitted = min(submitted, now - dt.timedelta(hours=1))
    revision = 1 + len(answers.values) + 3  # start, every answer, team, signatures, corrective actions, submit
    inspection.update(submitted_at=submitted, submitted_by_id=creator, overall_percent=outcome.overall_percent,
                      classification=outcome.classification, critical_failures=outcome.critical_failures,
                      failed_items=outcome.failed_items, checklist_sha256=version.sha256, updated_at=submitted,
                      revision=revision + 1)
    if p.kind == "external" and rng.random() < 0.7:
        inspection["facility_opinion"] = OPINIONS[rng.randrange(len(OPINIONS))]
    if status == "approved":
        approved = min(submitted + dt.timedelta(days=rng.randint(1, 21), hours=rng.randint(0, 6)),
                       now - dt.timedelta(minutes=10))
        if approved <= submitted:
            inspection["status"] = status = "submitted"
        else:
            inspection.update(approved_at=approved, approved_by_id=reviewer, updated_at=approved,
                              revision=revision + 2)
    elif status == "returned":
        returned = max(submitted, min(submitted + dt.timedelta(days=rng.randint(1, 5)), now - dt.timedelta(minutes=30)))
        inspection.update(updated_at=returned, revision=revision + 2)
        failed_ids = [i for i, fl in zip(answers.item_ids, outcome.failed, strict=True) if fl]
        rows.comments.append({"item_id": None, "body": RETURN_COMMENTS[rng.randrange(len(RETURN_COMMENTS))],
                              "author_id": reviewer, "created_at": returned, "resolved": False})
        if failed_ids:
            item_id = failed_ids[rng.randrange(len(failed_ids))]
            rows.comments.append({"item_id": item_id, "body": f"Tiêu chí {item_id}: ghi chú chưa nêu cụ thể tồn tại, "
                                  "đề nghị mô tả rõ và chụp ảnh minh chứng.", "author_id": reviewer,
                                  "created_at": returned, "resolved": False})
    flags = writer.flags
    rows.answers = [[0, i, v, n, 1, stamp, creator, flags[fl], flags[cr]] for i, v, n, fl, cr in zip(
        answers.item_ids, answers.values, answers.notes, outcome.failed, outcome.critical, strict=True)]
    rows.sections = outcome.sections
    rows.actions = _actions(p, f, facility_id, plan, answers, outcome, creator, rng, params)
    if params.signatures:
        # Every named member signs (filing requires it); one member per role here, so the role is the signer key.
        for member in rows.team:
            png, strokes = signature(member["full_name"], params.seed)
            rows.signatures.append({"role": member["role"], "member_key": member["role"],
                                    "signer_name": member["full_name"], "png": png,
                                    "strokes": strokes, "signed_at": answered + dt.timedelta(minutes=3)})
    return rows


def _team(p: _Planned, f: FacilitySpec, creator: int, creators: list[int], staff: _Staff, rng: random.Random,
          params: DemoParams) -> list[dict[str, Any]]:
    """Who signs the minutes: the team head and a member, and the facility's representative."""
    facility_head = (f.head_name, f"{HEAD_TITLES[f.type]}, {f.name}")
    deputy = (person(random.Random(f"{params.seed}/deputy/{f.code}"), params.ethnic_share),
              f"{DEPUTY_TITLES[f.type]}, {f.name}")
    if p.kind == "self":
        # A self-assessment is led by the facility's head and countersigned by the staff member in charge of FP.
        members = [("head", *facility_head), ("facility_rep", *deputy)]
    else:
        others = [u for u in creators if u != creator]
        second = staff.people[others[rng.randrange(len(others))]] if others else (
            person(rng, params.ethnic_share), "Cán bộ Trung tâm Kiểm soát bệnh tật tỉnh")
        members = [("head", *staff.people[creator]), ("member", *second), ("facility_rep", *facility_head)]
    return [{"role": role, "full_name": name, "position": position[:160], "position_order": order}
            for order, (role, name, position) in enumerate(members)]


def _actions(p: _Planned, f: FacilitySpec, facility_id: int, plan: Plan, answers: Answers, outcome: Outcome,
             creator: int, rng: random.Random, params: DemoParams) -> list[dict[str, Any]]:
    """A corrective action for every failed item (submission requires one), closed once the fix is seen."""
    deadline = p.day + dt.timedelta(days=plan.checklist.scoring.corrective_days)
    responsible = f"{f.head_name}, {HEAD_TITLES[f.type]}"
    out = []
    for item, note, failed in zip(answers.item_ids, answers.notes, outcome.failed, strict=True):
        if not failed:
            continue
        action = ACTIONS.get(item[:1], "Khắc phục tồn tại và báo cáo kết quả")
        row: dict[str, Any] = {"facility_id": facility_id, "item_id": item, "action": f"{action} ({note.rstrip('.')})."
                               if note else f"{action}.", "responsible": responsible, "deadline": deadline,
                               "status": "open", "evidence": "", "done_at": None, "done_by_id": None}
        # Fixed before the next visit, or (half of the time) reported fixed some weeks after the deadline.
        if p.next_external is not None or (deadline < params.today and rng.random() < 0.5):
            last = min(deadline + dt.timedelta(days=20), p.next_external or params.today)
            span = (last - p.day).days
            if span >= 2:
                done_day = p.day + dt.timedelta(days=rng.randint(max(1, span // 3), span - 1))
                row.update(status="done", evidence=EVIDENCE[rng.randrange(len(EVIDENCE))],
                           done_at=_local(done_day, 9, rng.randint(0, 59)), done_by_id=creator)
        out.append(row)
    return out
