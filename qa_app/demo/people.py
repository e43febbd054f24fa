"""Demo people: the accounts (demo logins with their roles and scopes, the supervisors and reviewers of
a synthetic set) and the service-area reviewer of the demo province."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import string
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..areas.models import ServiceArea
from ..auth.models import User
from ..extensions import db
from .bulk import _insert_returning
from .geography import Geography, UnitKey
from .names import person
from .params import (
    AREA_DEMO_USER,
    DEMO_PASSWORD,
    DEMO_POSITIONS,
    DEMO_USERS,
    DemoParams,
    DemoSummary,
    _local,
    parse_scope_code,
)


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
