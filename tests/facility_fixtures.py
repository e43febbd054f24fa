"""Test builders for the facility registry: a small region, checklist versions, inspections and actions.

Dependency-free (no demo generator): rows are written directly, with just the fields the constraints need.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from qa_app.auth.models import User
from qa_app.checklists.models import ChecklistVersion
from qa_app.extensions import db, utcnow
from qa_app.facilities.models import Facility
from qa_app.inspections.models import CorrectiveAction, Inspection
from qa_app.inspections.status import refresh as refresh_intervals
from qa_app.regions.models import AdminUnit

from . import factories as f

PASSWORD = "Mat-khau-2025"
# Hashed once, cheaply: scrypt per user would make every test pay about a second.
_CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def user(username: str, role: str, scope: AdminUnit | None) -> User:
    """A user whose password is PASSWORD, hashed cheaply (tests only)."""
    row = User(username=username, full_name=username.replace("_", " ").title(), role=role, scope_unit=scope,
               password_hash=_CHEAP_HASH)
    db.session.add(row)
    db.session.flush()
    return row


def checklist_version(validity_months: int | None = 24, code: str = "fp-test", version: int = 1) -> ChecklistVersion:
    """A registered (published) version whose content only carries the scoring rules the status needs."""
    scoring = {} if validity_months is None else {"validity_months": validity_months}
    row = ChecklistVersion(code=code, version=version, status="published", title_vi="Bảng kiểm thử",
                           title_en="Test checklist", effective_from=dt.date(2020, 1, 1),
                           facility_types=["TYT", "TTYT", "BV", "PK", "NT"],
                           sha256=f"{version:064d}", content={"code": code, "scoring": scoring})
    db.session.add(row)
    db.session.flush()
    return row


def inspection(facility: Facility, version: ChecklistVersion, by: User, on: dt.date, *, status: str = "approved",
               kind: str = "external", classification: str | None = "meets", percent: float = 92.5,
               supersedes: Inspection | None = None) -> Inspection:
    """An inspection in any state, scored as given (no answers: the status only reads the stored result)."""
    scored = status in ("submitted", "approved")
    row = Inspection(
        uuid=str(uuid.uuid4()), facility_id=facility.id, checklist_version_id=version.id, kind=kind, status=status,
        inspection_date=on, created_by_id=by.id, facility_type=facility.type, facility_services=facility.services,
        submitted_at=utcnow() if scored else None, submitted_by_id=by.id if scored else None,
        classification=classification if scored else None,
        overall_percent=decimal.Decimal(str(percent)) if scored else None,
        checklist_sha256=version.sha256 if scored else None,
        approved_at=utcnow() if status == "approved" else None, approved_by_id=by.id if status == "approved" else None,
        supersedes_id=supersedes.id if supersedes else None)
    db.session.add(row)
    db.session.flush()
    refresh_intervals([facility.id])  # as the approval would
    return row


def action(insp: Inspection, item_id: str, deadline: dt.date, text: str = "Bổ sung sổ theo dõi",
           status: str = "open") -> CorrectiveAction:
    """A corrective action of an inspection."""
    row = CorrectiveAction(inspection_id=insp.id, facility_id=insp.facility_id, item_id=item_id, action=text,
                           responsible="Trưởng trạm", deadline=deadline, status=status,
                           evidence="Đã làm" if status == "done" else "",
                           done_at=utcnow() if status == "done" else None)
    db.session.add(row)
    db.session.flush()
    return row


def region(app: Flask) -> dict[str, int]:
    """Lai Châu in both systems with two old districts (A = Tam Đường, B = Phong Thổ), users and facilities."""
    with app.app_context():
        units = f.two_districts()
        ids: dict[str, int] = {key: u.id for key, u in units.items()}
        ids.update({
            "sup_a": user("giamsat_a", "supervisor", units["d1"]).id,
            "rev_a": user("thamdinh_a", "reviewer", units["d1"]).id,
            "rev_b": user("thamdinh_b", "reviewer", units["d2"]).id,
            "mgr": user("quanly", "provincial_manager", units["province"]).id,
            "admin": user("quantri", "admin", None).id,
        })
        ids["f_a"] = f.facility("TYT-03430", "Trạm Y tế xã Bản Giang", units["n1"], units["c1"]).id
        ids["f_b"] = f.facility("TYT-03451", "Trạm Y tế xã Mường So", units["n2"], units["c2"]).id
        ids["pk_a"] = f.facility("PK-001", "Phòng khám Đa khoa Tâm Đức", units["n1"], units["c1"], type_="PK",
                                 ownership="non_public", services=("VU", "BCS", "DCTC")).id
        db.session.commit()
    return ids


def login(client: FlaskClient, app: Flask, user_id: int) -> None:
    """The old argument order, kept for branches written against it: use ``tests.factories.login``."""
    f.login(client, user_id)


def unit_by_code(system: str, level: str, code: str) -> AdminUnit | None:
    """A unit by its (system, level, code)."""
    return db.session.scalar(db.select(AdminUnit).where(AdminUnit.system == system, AdminUnit.level == level,
                                                        AdminUnit.code == code))
