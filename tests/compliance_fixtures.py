"""Small fixed data sets for the compliance tests, with hand-computed expectations.

Inspections are written directly (scores, section results and failed answers as submission would store
them), so each test controls dates, kinds and statuses exactly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask

from qa_app.auth.models import User
from qa_app.checklists.models import ChecklistVersion
from qa_app.checklists.registry import sync_directory
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections.status import refresh as refresh_intervals
from qa_app.inspections.models import Answer, Inspection, SectionResult
from qa_app.regions.models import AdminUnit, HighFertilityStatus
from tests import factories

AS_OF = dt.date(2026, 6, 30)
PASSWORD = "Mat-khau-2025"
NOON = dt.time(12, 0)


def inspect(facility: Facility, on: dt.date, classification: str, by: User, *, status: str = "approved",
            kind: str = "external", overall: float = 95.0, critical: int = 0,
            sections: dict[str, float] | None = None, failed: tuple[str, ...] = (),
            items: dict[str, str] | None = None, code: str = "fp-quality") -> Inspection:
    """Store one scored inspection as submission and approval would have left it.

    ``items`` adds answers by item id ("met", "not_met", "na", "not_observed"), as the engine stores them.
    """
    version = db.session.scalar(sa.select(ChecklistVersion).where(ChecklistVersion.code == code,
                                                                  ChecklistVersion.version == 1))
    stamp = dt.datetime.combine(on, NOON, tzinfo=dt.UTC)
    inspection = Inspection(
        uuid=str(uuid.uuid4()), facility=facility, checklist_version_id=version.id, kind=kind, status=status,
        inspection_date=on, created_by_id=by.id, facility_type=facility.type, facility_services=facility.services,
        submitted_at=stamp, submitted_by_id=by.id, classification=classification,
        overall_percent=Decimal(str(overall)), critical_failures=critical, failed_items=len(failed),
        checklist_sha256=version.sha256)
    if status == "approved":
        inspection.approved_at = stamp
        inspection.approved_by_id = by.id
    db.session.add(inspection)
    db.session.flush()
    for section_id, percent in (sections or {"A": 100.0, "B": 100.0}).items():
        db.session.add(SectionResult(inspection_id=inspection.id, section_id=section_id, earned=Decimal(percent),
                                     possible=Decimal(100), percent=Decimal(str(percent)),
                                     critical_failures=critical if percent < 50 else 0))
    for item_id in ("A2", "B1", "B2", "B3"):
        db.session.add(Answer(inspection_id=inspection.id, item_id=item_id,
                              value="not_met" if item_id in failed else "met", failed=item_id in failed,
                              critical_failure=False))
    for item_id, value in (items or {}).items():
        db.session.add(Answer(inspection_id=inspection.id, item_id=item_id, value=value,
                              failed={"met": False, "not_met": True}.get(value), critical_failure=False))
    db.session.flush()
    refresh_intervals([facility.id])  # as the approval would
    return inspection


def designate(unit: AdminUnit, since: dt.date = dt.date(2020, 1, 1), high: bool = True) -> None:
    """Record a commune as (not) in a high-fertility area from ``since``."""
    db.session.add(HighFertilityStatus(unit_id=unit.id, high_fertility=high, valid_from=since, source="test"))
    db.session.flush()


def readiness_items() -> tuple[str, ...]:
    """The shipped readiness set of the commune-station indicator."""
    from qa_app.compliance.indicators import load_indicators

    return load_indicators().get("tyt_methods_ready").items_met


@dataclass
class Dataset:
    """The units, users and facilities of a data set, by name (ids for use outside the app context)."""

    units: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    facilities: dict[str, int] = field(default_factory=dict)


def build_lai_chau(app: Flask) -> Dataset:
    """Lai Châu (code 12): two districts, seven active facilities on AS_OF and one closed before it.

    On 2026-06-30, facilities_meeting_standard counts F1 F2 F3 F4 F6 F8 (6; F5 is a pharmacy, in
    pharmacies_meeting_standard); meeting: F1, F8 (2); assessed: F1 F4 F6 F8 (4). tyt_methods_ready counts
    the stations of the high-fertility commune n1: F1 F2 F8 (3); meeting: F1 (every readiness item met); F8
    lacks IUDs and has no readiness answers; assessed: F1 F8 (2).
    District 106 (d1): F1 F2 F8 → 2/3; district 107 (d2): F3 F4 F6 → 0/3.
    """
    data = Dataset()
    with app.app_context():
        sync_directory(app.config["CHECKLISTS_DIR"])
        u = factories.two_districts()
        admin = factories.user("admin", "admin", None)
        reviewer = factories.user("reviewer1", "reviewer", u["d1"])
        manager = factories.user("manager", "provincial_manager", u["old_province"])
        fac = factories.facility
        f1 = fac("F1", "Trạm Y tế xã Bản Giang", u["n1"], u["c1"])
        f2 = fac("F2", "Trạm Y tế thị trấn Tam Đường", u["n1"], u["c1"])
        f3 = fac("F3", "Trạm Y tế xã Mường So", u["n2"], u["c2"])
        f4 = fac("F4", "=HYPERLINK(\"http://x\") Phòng khám Hòa An", u["n2"], u["c2"], type_="PK",
                 ownership="non_public", services=("VU", "BCS"))
        f5 = fac("F5", "Nhà thuốc Minh Châu", u["n1"], u["c1"], type_="NT", ownership="non_public",
                 services=("VU", "BCS"))
        f6 = fac("F6", "Trạm Y tế xã Khổng Lào", u["n2"], u["c2"])
        f7 = fac("F7", "Bệnh viện đa khoa huyện Tam Đường", u["n1"], u["c1"], type_="BV")
        f7.active_to = dt.date(2026, 1, 1)
        f8 = fac("F8", "Trạm Y tế xã Hồ Thầu", u["n1"], u["c1"], services=("VU", "BCS", "TT"))
        designate(u["n1"])  # the stations of n1 (F1 F2 F8) are in a high-fertility area
        inspect(f1, dt.date(2025, 3, 1), "meets", manager, items=dict.fromkeys(readiness_items(), "met"))
        inspect(f2, dt.date(2023, 5, 1), "meets", manager)  # expired: older than 24 months on AS_OF
        inspect(f4, dt.date(2026, 1, 10), "does_not_meet", manager, overall=62.0, critical=1,
                sections={"A": 80.0, "B": 30.0, "C": 45.0}, failed=("B1", "B2"))
        inspect(f5, dt.date(2026, 2, 1), "meets", manager, kind="self")  # a self-assessment never counts
        inspect(f6, dt.date(2025, 6, 1), "conditional", manager, overall=85.0, failed=("B2",))
        inspect(f6, dt.date(2026, 3, 1), "meets", manager, status="submitted")  # not approved: ignored
        inspect(f7, dt.date(2025, 1, 1), "meets", manager)  # closed before AS_OF
        inspect(f8, dt.date(2026, 1, 5), "meets", manager)
        db.session.commit()
        data.units = {k: v.id for k, v in u.items()}
        data.users = {"admin": admin.id, "reviewer1": reviewer.id, "manager": manager.id}
        data.facilities = {f.code: f.id for f in (f1, f2, f3, f4, f5, f6, f7, f8)}
    return data


def build_plan_provinces(app: Flask, data: Dataset) -> Dataset:
    """Kon Tum (pre-2025 62, a high-fertility station meeting and an ordinary one never assessed) and Bắc Giang."""
    with app.app_context():
        unit = factories.unit
        kon_tum = unit("pre2025", "province", "62", "Tỉnh Kon Tum")
        kt_d = unit("pre2025", "district", "610", "Huyện Kon Plông", kon_tum)
        kt_c = unit("pre2025", "commune", "23500", "Xã Đắk Long", kt_d)
        kt_c2 = unit("pre2025", "commune", "23503", "Xã Măng Cành", kt_d)
        quang_ngai = unit("2025", "province", "51", "Tỉnh Quảng Ngãi")
        qn_c = unit("2025", "commune", "23500", "Xã Đắk Long", quang_ngai)
        bac_giang = unit("pre2025", "province", "24", "Tỉnh Bắc Giang")
        bg_d = unit("pre2025", "district", "213", "Thành phố Bắc Giang", bac_giang)
        bg_c = unit("pre2025", "commune", "07201", "Phường Thọ Xương", bg_d)
        bg_new = unit("2025", "province", "24", "Tỉnh Bắc Ninh")
        bg_new_c = unit("2025", "commune", "07201", "Phường Bắc Giang", bg_new)
        manager = db.session.get(User, data.users["manager"])
        k1 = factories.facility("K1", "Trạm Y tế xã Đắk Long", qn_c, kt_c)
        designate(kt_c)  # a pre-2025 list: the designation follows the old commune
        k2 = factories.facility("K2", "Trạm Y tế xã Măng Cành", qn_c, kt_c2)
        b1 = factories.facility("B1", "Trạm Y tế phường Thọ Xương", bg_new_c, bg_c)
        ready = dict.fromkeys(readiness_items(), "met")
        inspect(k1, dt.date(2026, 2, 1), "meets", manager, items=ready)
        inspect(b1, dt.date(2026, 2, 1), "meets", manager, items=ready)
        db.session.commit()
        data.units.update(kon_tum=kon_tum.id, quang_ngai=quang_ngai.id, bac_giang=bac_giang.id)
        data.facilities.update(K1=k1.id, K2=k2.id, B1=b1.id)
    return data


def login(client, app: Flask, user_id: int) -> None:
    """The old argument order, kept for branches written against it: use ``tests.factories.login``."""
    factories.login(client, user_id)


def unit_id(app: Flask, system: str, level: str, code: str) -> int:
    """The id of a unit by its key."""
    with app.app_context():
        return db.session.scalar(sa.select(AdminUnit.id).where(
            AdminUnit.system == system, AdminUnit.level == level, AdminUnit.code == code))
