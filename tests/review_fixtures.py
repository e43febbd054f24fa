"""Helpers for review and finishing tests: a small region, users, the real checklist and complete inspections."""

from __future__ import annotations

import base64
import datetime as dt
import io

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.checklists.registry import sync_directory
from qa_app.checklists.schema import MET, NOT_MET
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections import services
from qa_app.inspections.models import Inspection
from qa_app.scoring import applicable_items

from . import factories as f

PASSWORD = "Mat-khau-2025"
DAY = dt.date(2026, 3, 10)
STROKES = [[[0.1, 0.5], [0.2, 0.4], [0.35, 0.6]], [[0.5, 0.5], [0.8, 0.3]]]


def setup_region(app: Flask) -> dict[str, int]:
    """Two districts, a facility in each, a supervisor and a reviewer per district, a manager and an admin."""
    with app.app_context():
        sync_directory(app.config["CHECKLISTS_DIR"])
        units = f.two_districts()
        ids = {
            "sup": f.user("giamsat1", "supervisor", units["d1"], full_name="Nguyễn Văn Giám").id,
            "sup2": f.user("giamsat2", "supervisor", units["d2"], full_name="Lò Văn Hai").id,
            "rev": f.user("thamdinh1", "reviewer", units["d1"], full_name="Trần Thị Duyệt").id,
            "rev2": f.user("thamdinh2", "reviewer", units["d2"], full_name="Vàng A Khác").id,
            "mgr": f.user("quanly", "provincial_manager", units["province"], full_name="Phạm Quản Lý").id,
            "admin": f.user("admin", "admin", None, full_name="Quản Trị").id,
        }
        ids["f1"] = f.facility("TYT-1", "Trạm Y tế xã Bản Giang", units["n1"], units["c1"]).id
        ids["f2"] = f.facility("TYT-2", "Trạm Y tế xã Mường So", units["n2"], units["c2"]).id
        ids["d1"] = units["d1"].id
        ids["province"] = units["province"].id
        db.session.commit()
    return ids


def login(client: FlaskClient, app: Flask, user_id: int, locale: str = "en") -> None:
    """The old argument order, kept for branches written against it: use ``tests.factories.login``."""
    f.login(client, user_id, locale=locale)


def start(app: Flask, facility_id: int, user_id: int, on: dt.date = DAY) -> int:
    """Start a draft inspection; returns its id."""
    with app.app_context():
        facility = db.session.get_one(Facility, facility_id)
        user = db.session.get_one(User, user_id)
        inspection = services.start_inspection(facility, user, on=on)
        db.session.commit()
        return inspection.id


def answer_all(app: Flask, inspection_id: int, user_id: int, fail: tuple[str, ...] = ("A3",),
               skip: tuple[str, ...] = ()) -> None:
    """Answer every applicable item through the service: met (or the top level), failing ``fail``."""
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        user = db.session.get_one(User, user_id)
        existing = services.answers_of(inspection)
        checklist = services.checklist_for(inspection)
        for item, applies, _reason in applicable_items(checklist, services.profile_of(inspection)):
            if not applies or item.id in skip:
                continue
            if item.answer_type == "yes_no_na":
                value: object = NOT_MET if item.id in fail else MET
            elif item.answer_type == "scale":
                value = item.scale_min if item.id in fail else item.scale_max
            elif item.answer_type == "number":
                value = 3
            else:
                value = "Sổ sách đầy đủ"
            current = existing.get(item.id)
            services.save_answer(inspection, item.id, user, value=value,
                                 base_revision=current.revision if current else 0)
        db.session.commit()


def signature_png() -> bytes:
    """A small transparent PNG with a line on it, as a signature pad would send."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 60), (120, 30), (260, 70)], fill=(11, 31, 77, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def png_data_url() -> str:
    """The PNG as the canvas's data URL."""
    return "data:image/png;base64," + base64.b64encode(signature_png()).decode()


def finish_parts(app: Flask, inspection_id: int, user_id: int, *, member: bool = True) -> None:
    """Team, signatures and a corrective action per failed item, through the services.

    ``member=False``: a team of the head alone with the facility representative (the two the tablet signs).
    """
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        user = db.session.get_one(User, user_id)
        team = [{"role": "head", "full_name": "Nguyễn Văn Giám", "position": "Trưởng đoàn"},
                {"role": "member", "full_name": "Lê Thị Ba", "position": "Thành viên"},
                {"role": "facility_rep", "full_name": "Hoàng Văn Trạm", "position": "Trạm trưởng"}]
        services.set_team(inspection, [m for m in team if member or m["role"] != "member"], user)
        score = services.current_score(inspection)
        services.set_corrective_actions(inspection, [
            {"item_id": item_id, "action": "Niêm yết bảng giá", "responsible": "Trạm trưởng",
             "deadline": inspection.inspection_date + dt.timedelta(days=30)}
            for item_id in score.failed_items], user)
        services.set_facility_opinion(inspection, "Cơ sở nhất trí với kết quả.", user)
        # Signed last: a drawn signature covers the content as it was when signed.
        # Every named member signs (the member too): a member who has not signed blocks submission and filing.
        for role, name in (("head", "Nguyễn Văn Giám"), ("member", "Lê Thị Ba"), ("facility_rep", "Hoàng Văn Trạm")):
            if member or role != "member":
                services.save_signature(inspection, role, name, signature_png(), STROKES, user)
        db.session.commit()


def complete(app: Flask, ids: dict[str, int], facility: str = "f1", supervisor: str = "sup",
             fail: tuple[str, ...] = ("A3",)) -> int:
    """A draft with everything needed to submit; returns its id."""
    inspection_id = start(app, ids[facility], ids[supervisor])
    answer_all(app, inspection_id, ids[supervisor], fail=fail)
    finish_parts(app, inspection_id, ids[supervisor])
    return inspection_id


def submitted(app: Flask, ids: dict[str, int], **kw: object) -> int:
    """A submitted inspection; returns its id."""
    inspection_id = complete(app, ids, **kw)  # type: ignore[arg-type]
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        services.submit(inspection, db.session.get_one(User, inspection.created_by_id))
        db.session.commit()
    return inspection_id


def status_of(app: Flask, inspection_id: int) -> str:
    """The inspection's status as stored."""
    with app.app_context():
        return db.session.scalar(sa.select(Inspection.status).where(Inspection.id == inspection_id))
