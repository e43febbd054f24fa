"""Commune stations after the reform: the reorganisation command on the demo province, and the roll-up rule
(a station meets only if its main site and every active sub-station offering FP services meet)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from qa_app.auth.models import User
from qa_app.compliance.indicators import load_indicators_cached
from qa_app.compliance.overview import area_overview
from qa_app.compliance.queries import Area, indicator_counts
from qa_app.demo import laichau
from qa_app.demo.generator import DemoParams, generate
from qa_app.extensions import db
from qa_app.facilities.models import Facility, FacilityParentLink
from qa_app.facilities.stations import Station, plan_stations
from qa_app.inspections import services
from qa_app.inspections.models import Inspection
from qa_app.regions.models import AdminUnit

from . import factories as f
from . import review_fixtures as rf
from .conftest import make_app, reset_schema
from .factories import login

DAY = dt.date(2026, 3, 31)


def _conversion_csv() -> str:
    """The demo province's part of the official conversion table, in the table's own layout."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Đơn vị hành chính từ ngày 01/7/2025", "", "", "Đơn vị hành chính trước ngày 01/7/2025"])
    writer.writerow(["Tỉnh, thành phố", "Tên Xã mới", "Mã Xã mới", "Tên Xã cũ", "Mã Xã cũ", "Ghi chú", "Quận/huyện",
                     "Tỉnh cũ"])
    writer.writerow(["TỈNH LAI CHÂU", "", "", "", "", "", "", ""])
    old = {code: (district, name) for code, district, _kind, name in laichau.old_communes()}
    for code, _kind, name, olds in laichau.new_communes():
        for old_code in olds:
            district, old_name = old[old_code]
            writer.writerow(["Tỉnh Lai Châu (12)", name, code, old_name, old_code, "Nhập toàn bộ",
                             f"Huyện ({district})", "Tỉnh Lai Châu (12)"])
    return out.getvalue()


def _station_counts(user_id: int) -> tuple[int, int]:
    """(denominator, meeting) of an every-station indicator over the demo province, as of DAY.

    tyt_community_distribution counts every legal station; tyt_methods_ready only those of high-fertility
    communes (Decision 1848), which is not what the reorganisation is checked against.
    """
    user = db.session.get_one(User, user_id)
    indicators = load_indicators_cached().for_province(("2025", "12"))
    province = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.system == "2025",
                                                            AdminUnit.level == "province", AdminUnit.code == "12"))
    rows = indicator_counts(Area(user=user, day=DAY, unit=province), indicators)
    counts = rows[0].counts["tyt_community_distribution"]
    return counts.total, counts.meeting


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The demo province with its pre-reform registry: a station for every old commune, none linked."""
    app = make_app(tmp_path_factory.mktemp("stations"))
    with app.app_context():
        reset_schema()
        db.create_all()
        generate(DemoParams())
        # Undo the demo's own links: the registry as it stood before anyone reorganised it.
        db.session.execute(sa.delete(FacilityParentLink))
        db.session.execute(sa.update(Facility).values(parent_facility_id=None))
        stations = set(db.session.scalars(sa.select(Facility.legacy_unit_id).where(Facility.type == "TYT")))
        successor = {old: new for new, _k, _n, olds in laichau.new_communes() for old in olds}
        units = {(u.system, u.code): u for u in db.session.scalars(sa.select(AdminUnit).where(
            AdminUnit.level == "commune"))}
        for code, _district, kind, name in laichau.old_communes():
            old = units[("pre2025", code)]
            if old.id not in stations:
                f.facility(f"TYT-CU-{code}", f"Trạm Y tế {laichau.KINDS[kind].lower()} {name} (cũ)",
                           units[("2025", successor[code])], old)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.url.database not in (None, "", ":memory:"):
            reset_schema()  # a shared server database must be left empty for the next test
        db.engine.dispose()


def test_dry_run_proposes_one_station_per_2025_commune_and_applying_fixes_the_denominator(
        demo: Flask, tmp_path: Path) -> None:
    conversion = tmp_path / "conversion.csv"
    conversion.write_text(_conversion_csv(), encoding="utf-8")
    plan_file = tmp_path / "plan.csv"
    runner = demo.test_cli_runner()
    with demo.app_context():
        admin = db.session.scalar(sa.select(User.id).where(User.role == "admin"))
        communes = len(laichau.new_communes())
        old_stations = db.session.scalar(sa.select(sa.func.count()).select_from(Facility).where(
            Facility.type == "TYT", Facility.active_to.is_(None)))
        before = _station_counts(admin)
        assert before[0] > communes  # the pre-reform denominator: every old station counted
    result = runner.invoke(args=["facilities", "reorganise-stations", "--conversion", str(conversion),
                                 "--province", "12", "--dry-run", "--out", str(plan_file)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(plan_file.read_text(encoding="utf-8-sig"))))
    stations = [r for r in rows if r["role"] == "station"]
    # One station per 2025 commune, each commune once; every other old station is a sub-station of it.
    assert len(stations) == communes == len({r["new_commune_code"] for r in stations})
    assert all(r["facility_code"] == r["station_code"] for r in stations)
    main_of = {r["new_commune_code"]: r["facility_code"] for r in stations}
    subs = [r for r in rows if r["role"] == "sub_station"]
    assert all(r["station_code"] == main_of[r["new_commune_code"]] for r in subs)
    with demo.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FacilityParentLink)) == 0  # a dry run
    # The reviewed plan is applied by the same command.
    result = runner.invoke(args=["facilities", "reorganise-stations", "--plan", str(plan_file)])
    assert result.exit_code == 0, result.output
    with demo.app_context():
        linked = db.session.scalar(sa.select(sa.func.count()).select_from(Facility).where(
            Facility.parent_facility_id.is_not(None)))
        assert linked == len(subs) and len(stations) + len(subs) <= old_stations
        with_station = db.session.scalar(sa.select(sa.func.count(sa.distinct(Facility.unit_id))).where(
            Facility.type == "TYT", Facility.parent_facility_id.is_(None), Facility.active_to.is_(None)))
        assert _station_counts(admin)[0] == with_station == communes
        history = db.session.scalars(sa.select(FacilityParentLink)).all()
        assert len(history) == len(subs) and {h.valid_from for h in history} == {dt.date(2025, 7, 1)}
    # Applying again changes nothing: every sub-station already has its station (compare-and-set).
    again = runner.invoke(args=["facilities", "reorganise-stations", "--plan", str(plan_file)])
    assert again.exit_code == 1 and "nothing was changed" in again.output


def test_planning_rule() -> None:
    stations = [Station("TYT-A", "A", "00010", "00010"), Station("TYT-B", "B", "00010", "00011"),
                Station("TYT-C", "C", "00020", "00012"), Station("TYT-D", "D", "00099", "00013")]
    successors = {"00010": ["00010"], "00011": ["00010"], "00012": ["00010", "00020"], "00013": ["00010", "00020"]}
    plan = plan_stations(stations, successors, {"00010": "Xã Mười", "00020": "Xã Hai Mươi"})
    assert [(r.new_commune_code, r.facility_code, r.role, r.station_code) for r in plan.rows] == [
        ("00010", "TYT-A", "station", "TYT-A"), ("00010", "TYT-B", "sub_station", "TYT-A"),
        ("00020", "TYT-C", "station", "TYT-C")]
    # A split old commune whose station the registry places elsewhere is reported, not guessed.
    assert len(plan.problems) == 1 and plan.problems[0].startswith("TYT-D")


def _approve(app: Flask, ids: dict[str, int], facility: str, fail: tuple[str, ...]) -> None:
    inspection_id = rf.submitted(app, ids, facility=facility, supervisor="admin", fail=fail)
    with app.app_context():
        services.approve(db.session.get_one(Inspection, inspection_id), db.session.get_one(User, ids["admin"]))
        db.session.commit()


def _f1_counts(app: Flask, ids: dict[str, int]) -> tuple[int, int]:
    with app.app_context():
        user = db.session.get_one(User, ids["admin"])
        indicators = load_indicators_cached().indicators
        unit = db.session.get_one(AdminUnit, ids["province"])
        area = Area(user=user, day=rf.DAY, unit=unit)
        counts = indicator_counts(area, indicators)[0].counts
        # The dashboard's one-statement overview (its per-facility table) applies the roll-up the same way.
        overview = area_overview(area, indicators, groups=("all", "type"))
        assert overview.groups["all"][0].counts == counts
        assert overview.groups["type"] == indicator_counts(area, indicators, "type")
        c = counts["facilities_meeting_standard"]
        return c.total, c.meeting


def test_roll_up_a_failing_sub_station_fails_its_station(app: Flask) -> None:
    ids = rf.setup_region(app)
    with app.app_context():
        station = db.session.get_one(Facility, ids["f1"])
        sub = f.facility("TYT-1B", "Điểm trạm Bản Giang cũ", station.unit, station.legacy_unit)
        quiet = f.facility("TYT-1C", "Điểm trạm không cung cấp dịch vụ", station.unit, station.legacy_unit,
                           services=())
        sub.parent_facility_id = quiet.parent_facility_id = station.id
        ids["sub"] = sub.id
        db.session.commit()
    _approve(app, ids, "f1", fail=())
    # Two legal stations: sub-stations are never in the denominator. The sub-station offering FP services
    # has no valid inspection yet, so its station does not meet; the one without FP services never matters.
    assert _f1_counts(app, ids) == (2, 0)
    _approve(app, ids, "sub", fail=())
    assert _f1_counts(app, ids) == (2, 1)
    # The sub-station is inspected again and fails: the station fails with it.
    _approve(app, ids, "sub", fail=("A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3"))
    with app.app_context():
        latest = db.session.scalars(sa.select(Inspection).where(Inspection.facility_id == ids["sub"])
                                    .order_by(Inspection.id.desc())).first()
        assert latest.classification != "meets"
    assert _f1_counts(app, ids) == (2, 0)


def test_new_facility_types_import_and_a_mobile_team_is_never_counted(app: Flask) -> None:
    from qa_app.compliance.indicators import IndicatorError, load_indicators
    from qa_app.facilities.importers import parse_facilities
    from qa_app.facilities.services import import_facilities

    ids = rf.setup_region(app)
    header = "code,name,type,ownership,unit_code,services,active_from\n"
    rows = "".join(f"{code},{name},{type_},{owner},03430,VU;BCS,2020-01-01\n" for code, name, type_, owner in (
        ("CDC-12", "Trung tâm Kiểm soát bệnh tật tỉnh", "CDC", "public"),
        ("PKKV-1", "Phòng khám đa khoa khu vực Bản Bo", "PKKV", "public"),
        ("NHS-1", "Nhà hộ sinh Bình An", "NHS", "non_public"),
        ("YTCQ-1", "Phòng y tế Khu công nghiệp", "YTCQ", "non_public"),
        ("DLD-1", "Đội lưu động tỉnh", "dld", "public")))
    assert _f1_counts(app, ids)[0] == 2
    with app.app_context():
        parsed = parse_facilities((header + rows).encode())
        assert parsed.errors == []
        report = import_facilities(parsed, None)
        assert report.ok and report.created == 5
        db.session.commit()
        assert db.session.scalar(sa.select(Facility.type).where(Facility.code == "DLD-1")) == "DLD"
    # Four more facilities in the denominator; the mobile team is not one of them.
    assert _f1_counts(app, ids)[0] == 6
    # And no indicator file may count mobile teams.
    source = Path(load_indicators_cached().source)
    text = source.read_text(encoding="utf-8").replace("facility_types: [TYT]\n", "facility_types: [TYT, DLD]\n", 1)
    broken = Path(app.instance_path) / "indicators.yaml"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(IndicatorError, match="DLD"):
        load_indicators(broken)


def test_facility_page_shows_the_station_and_its_sub_stations(app: Flask, client) -> None:
    ids = rf.setup_region(app)
    with app.app_context():
        station = db.session.get_one(Facility, ids["f1"])
        sub = f.facility("TYT-1B", "Điểm trạm y tế xã Nà Tăm", station.unit, station.legacy_unit)
        sub.parent_facility_id = station.id
        db.session.commit()
        sub_id = sub.id
    login(client, ids["rev"], locale="en")
    page = client.get(f"/facilities/{ids['f1']}").get_data(as_text=True)
    assert "Sub-stations" in page and "Điểm trạm y tế xã Nà Tăm" in page
    page = client.get(f"/facilities/{sub_id}").get_data(as_text=True)
    assert "Sub-station of" in page and "Trạm Y tế xã Bản Giang" in page
    # The neighbour district's reviewer learns nothing about either.
    login(client, ids["rev2"], locale="en")
    assert client.get(f"/facilities/{sub_id}").status_code == 404
