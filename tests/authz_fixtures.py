"""The world of the authorization matrix: one user of every role and the same objects in three regions.

Regions, seen from the signed-in users (all placed in district ``d1`` of province P1, or in P1 itself):

* ``own``     district d1 of province P1: inside every user's scope;
* ``sibling`` district d2 of the same province: outside a district user's scope, inside the provincial
  manager's;
* ``far``     a district of another province P2: outside everyone's scope but the administrator's.

Each region holds a facility, a draft inspection (one answer, one photo), a submitted one (signatures, corrective
actions), a returned one and an approved one (with its signed minutes), so that every URL parameter of every
route can be filled with an object of a chosen region; and a supervision round on each region's district.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.areas.models import ServiceArea, ServiceAreaCommune
from qa_app.auth.models import User
from qa_app.auth.services import set_scope
from qa_app.checklists.registry import sync_directory
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections import services
from qa_app.inspections.models import CorrectiveAction, Inspection, Photo
from qa_app.minutes.models import Minutes
from qa_app.rounds.services import RoundInput, create_round
from qa_app.scoring import applicable_items

from . import factories as f
from . import review_fixtures as rf
from .inspection_fixtures import jpeg_bytes

REGIONS = ("own", "sibling", "far")
# "area_reviewer" is a reviewer whose scope is a service area holding exactly the own region's 2025 commune.
ROLES = ("supervisor", "reviewer", "area_reviewer", "provincial_manager", "admin")
DAY = dt.date(2026, 3, 10)
# Facility names that must never appear on a page of a user outside their region (checked by the list cells).
FACILITY_NAMES = {
    "own": "Trạm Y tế xã Bản Giang",
    "sibling": "Trạm Y tế xã Mường So",
    "far": "Trạm Y tế phường Chiềng Lề",
}

ROUND_NAMES = {region: f"Đợt giám sát quý I ({region})" for region in ("own", "sibling", "far")}


@dataclass
class RegionObjects:
    """Ids of the objects of one region."""

    district: int = 0
    province: int = 0
    facility: int = 0
    draft: int = 0
    draft_uuid: str = ""
    submitted: int = 0
    returned: int = 0
    approved: int = 0
    approved_uuid: str = ""
    photo: int = 0
    photo_uuid: str = ""
    action: int = 0
    item: str = ""  # the draft's answered item (the one its photo belongs to)
    token: str = ""  # the approved inspection's minutes verification token
    commune: int = 0  # the facility's 2025 commune (a provincial manager's scope is in the 2025 system)
    round: int = 0  # a supervision round on the region's district
    area: int = 0  # the world's one service area (administration pages; the same in every region)
    user: int = 0  # an account of the region that the matrix may open for editing (never a signed-in user)


@dataclass
class World:
    """Users by role and the objects of each region."""

    users: dict[str, int] = field(default_factory=dict)
    regions: dict[str, RegionObjects] = field(default_factory=dict)


def in_scope(role: str, region: str) -> bool:
    """Whether a user of ``role`` (placed as in the world) may see the objects of ``region``."""
    return region == "own" or role == "admin" or (role == "provincial_manager" and region == "sibling")
    # (the area reviewer's area holds the own region's commune only: "own" and nothing else)


def _inspections(app: Flask, objects: RegionObjects, ids: dict[str, int]) -> None:
    """Draft, submitted, returned and approved inspections of the region's facility, through the services."""
    fid = {"f1": objects.facility}
    author = ids["admin"]
    objects.submitted = rf.submitted(app, {**fid, "admin": author}, facility="f1", supervisor="admin")
    objects.returned = rf.submitted(app, {**fid, "admin": author}, facility="f1", supervisor="admin")
    objects.approved = rf.submitted(app, {**fid, "admin": author}, facility="f1", supervisor="admin")
    objects.draft = rf.start(app, objects.facility, author)
    with app.app_context():
        admin = db.session.get_one(User, author)
        services.return_inspection(db.session.get_one(Inspection, objects.returned), admin, "Thiếu ảnh minh chứng")
        # Approval issues the signed minutes, so the download and verification routes have a document.
        services.approve(db.session.get_one(Inspection, objects.approved), admin)
        draft = db.session.get_one(Inspection, objects.draft)
        objects.draft_uuid = draft.uuid
        objects.approved_uuid = db.session.get_one(Inspection, objects.approved).uuid
        first = next(i for i, ok, _r in applicable_items(services.checklist_for(draft), services.profile_of(draft))
                     if ok and i.answer_type == "yes_no_na")
        services.save_answer(draft, first.id, admin, value="met", base_revision=0)
        photo = services.add_photo(draft, first.id, jpeg_bytes(), admin)
        objects.photo, objects.photo_uuid, objects.item = photo.id, photo.uuid, first.id
        objects.token = db.session.scalar(sa.select(Minutes.token).where(Minutes.inspection_id == objects.approved))
        objects.action = db.session.scalars(sa.select(CorrectiveAction.id).where(
            CorrectiveAction.inspection_id == objects.submitted).order_by(CorrectiveAction.id)).first()
        db.session.commit()


def _area_reviewer(province, commune) -> int:
    """A reviewer scoped to a service area of one commune (the own region's), run by a regional centre."""
    area = ServiceArea(code="KV-OWN", name="Khu vực Tam Đường", province=province, valid_from=dt.date(2025, 7, 1),
                       commune_rows=[ServiceAreaCommune(unit=commune)])
    db.session.add(area)
    reviewer = f.user("duyet.khuvuc", "reviewer", province, full_name="Lò Văn Khu")
    set_scope(reviewer, None, area)
    db.session.flush()
    return reviewer.id


def build_world(app: Flask) -> World:
    """Regions, users and objects (see the module docstring); takes a few seconds (three minutes are signed)."""
    world = World()
    with app.app_context():
        sync_directory(app.config["CHECKLISTS_DIR"])
        units = f.two_districts()
        # Another province in both unit systems, with one district and one commune.
        far_old = f.unit("pre2025", "province", "14", "Tỉnh Sơn La")
        far_district = f.unit("pre2025", "district", "116", "Thành phố Sơn La", far_old)
        far_commune = f.unit("pre2025", "commune", "03646", "Phường Chiềng Lề", far_district)
        far_new = f.unit("2025", "province", "14", "Tỉnh Sơn La")
        far_new_commune = f.unit("2025", "commune", "03646", "Phường Tô Hiệu", far_new)
        world.users = {
            "supervisor": f.user("giamsat.own", "supervisor", units["d1"], full_name="Nguyễn Văn Giám").id,
            "reviewer": f.user("duyet.own", "reviewer", units["d1"], full_name="Trần Thị Duyệt").id,
            "area_reviewer": _area_reviewer(units["province"], units["n1"]),
            "provincial_manager": f.user("quanly.own", "provincial_manager", units["province"],
                                         full_name="Phạm Quản Lý").id,
            "admin": f.user("admin", "admin", None, full_name="Quản Trị").id,
        }
        places = {
            "own": (units["n1"], units["c1"], units["d1"], units["province"], "TYT-OWN"),
            "sibling": (units["n2"], units["c2"], units["d2"], units["province"], "TYT-SIB"),
            "far": (far_new_commune, far_commune, far_district, far_new, "TYT-FAR"),
        }
        for region, (unit, legacy, district, province, code) in places.items():
            objects = RegionObjects(district=district.id, province=province.id, commune=unit.id)
            objects.facility = f.facility(code, FACILITY_NAMES[region], unit, legacy).id
            objects.area = db.session.scalar(sa.select(ServiceArea.id).where(ServiceArea.code == "KV-OWN"))
            objects.user = f.user(f"giamsat.{region}.khac", "supervisor", district,
                                  full_name=f"Giám sát viên {region}").id
            world.regions[region] = objects
        db.session.commit()
    for objects in world.regions.values():
        _inspections(app, objects, {"admin": world.users["admin"]})
    with app.test_request_context():  # the round's messages are translated strings
        admin = db.session.get_one(User, world.users["admin"])
        for region, objects in world.regions.items():
            objects.round = create_round(admin, RoundInput(
                name=ROUND_NAMES[region], unit_id=str(objects.district), facility_types=["TYT"],
                start_date="2026-01-01", deadline="2026-04-30", coverage_target="80")).id
        db.session.commit()
    return world


def login(app: Flask, client: FlaskClient, user_id: int | None) -> None:
    """The old argument order, kept for branches written against it: use ``tests.factories.login``."""
    f.login(client, user_id, locale="en")


def fingerprint(app: Flask, ignore: tuple[str, ...] = ()) -> tuple[object, ...]:
    """What a refused request must not change: row counts of every table (but ``ignore``) and the main rows."""
    with app.app_context():
        counts = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(table))
                       for table in db.metadata.sorted_tables if table.name not in ignore)
        inspections = tuple(db.session.execute(sa.select(
            Inspection.id, Inspection.status, Inspection.revision, Inspection.facility_opinion)
            .order_by(Inspection.id)).all())
        answers = tuple(db.session.execute(sa.text(
            "SELECT inspection_id, item_id, value, note, revision FROM answer ORDER BY id")).all())
        actions = tuple(db.session.execute(sa.select(CorrectiveAction.id, CorrectiveAction.status,
                                                     CorrectiveAction.evidence).order_by(CorrectiveAction.id)).all())
        users = tuple(db.session.execute(sa.select(
            User.id, User.role, User.scope_unit_id, User.scope_area_id, User.active, User.password_hash, User.full_name,
            User.failed_logins).order_by(User.id)).all())
        facilities = tuple(db.session.execute(sa.select(Facility.id, Facility.code, Facility.name)
                                              .order_by(Facility.id)).all())
        photos = tuple(db.session.scalars(sa.select(Photo.uuid).order_by(Photo.id)))
        minutes = tuple(db.session.execute(sa.select(Minutes.id, Minutes.sha256).order_by(Minutes.id)).all())
        return counts, inspections, answers, actions, users, facilities, photos, minutes


def fresh_photo(app: Flask, world: World, region: str) -> str:
    """Add a photo to the region's draft (for a cell that may delete one); returns its uuid."""
    with app.app_context():
        objects = world.regions[region]
        draft = db.session.get_one(Inspection, objects.draft)
        photo = services.add_photo(draft, objects.item, jpeg_bytes(color=(10, 200, 10)),
                                   db.session.get_one(User, world.users["admin"]))
        db.session.commit()
        return photo.uuid


def photo_exists(app: Flask, uuid: str) -> bool:
    """Whether a photo with this uuid is still stored."""
    with app.app_context():
        return db.session.scalar(sa.select(Photo.id).where(Photo.uuid == uuid)) is not None
