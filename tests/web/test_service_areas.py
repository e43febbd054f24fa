"""Service areas: the CSV import (page and command), a reviewer scoped to an area, and the 2025 drill-down
province → service area → commune."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.areas.models import ServiceArea
from qa_app.auth.models import User
from qa_app.auth.services import set_scope
from qa_app.extensions import db
from qa_app.inspections.models import Inspection
from qa_app.regions.models import AdminUnit

from .. import factories as f
from .. import review_fixtures as rf
from ..factories import login

HEADER = "area_code,name,owner_code,commune_codes,valid_from,valid_to\n"
GOOD = HEADER + "KV-TD,Khu vực Tam Đường,TTYT-KV,03430;03460,01/07/2025,\n"


@pytest.fixture
def ids(app: Flask) -> dict[str, int]:
    """The review region, plus a third 2025 commune whose station opened after the reform (no legacy unit),
    and the regional health centre that will run the area."""
    ids = rf.setup_region(app)
    with app.app_context():
        province = db.session.get_one(AdminUnit, ids["province"])
        n3 = f.unit("2025", "commune", "03460", "Xã Sơn Bình", province)
        new = f.facility("TYT-3", "Trạm Y tế xã Sơn Bình", n3)
        new.active_from = dt.date(2025, 8, 1)
        ids["f3"] = new.id
        ids["centre"] = f.facility("TTYT-KV", "Trung tâm Y tế khu vực Tam Đường", n3, type_="TTYT").id
        ids["c1"] = db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.code == "03430",
                                                                    AdminUnit.system == "pre2025"))
        ids["c2"] = db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.code == "03451",
                                                                    AdminUnit.system == "pre2025"))
        ids["d2"] = db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.code == "107"))
        db.session.commit()
    return ids


def _upload(client: FlaskClient, text: str):
    return client.post("/admin/areas", data={"file": (io.BytesIO(text.encode()), "areas.csv")},
                       content_type="multipart/form-data")


def _area_reviewer(app: Flask) -> int:
    with app.app_context():
        area = db.session.scalar(sa.select(ServiceArea).where(ServiceArea.code == "KV-TD"))
        user = f.user("duyet.kv", "reviewer", area.province, full_name="Lò Văn Khu")
        set_scope(user, None, area)
        db.session.commit()
        return user.id


def test_import_reports_rows_and_writes_nothing_on_any_error(app: Flask, client: FlaskClient,
                                                             ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    bad = GOOD + "KV-PT,Khu vực Phong Thổ,TYT-1,03451 99999,2025-07-01,\nKV-X,,,03430,hôm qua,\n"
    response = _upload(client, bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    # Row 3: an unknown commune and an owner that is a station; row 4: no name, a bad date, a commune twice.
    assert re.findall(r"<td>(\d+)</td><td>([^<]*)</td>", page) == [
        ("3", "No 2025 commune with code 99999."),
        ("3", "Facility TYT-1 is a TYT; an area is run by one of TTYT, CDC."),
        ("4", "The name is empty."), ("4", "valid_from 'hôm qua' is not a date (write YYYY-MM-DD or DD/MM/YYYY).")]
    # Cell values are escaped on the page, never markup.
    page = _upload(client, HEADER + "KV-1,Khu,,03430,<b>x</b>,\n").get_data(as_text=True)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceArea)) == 0
    # The database-side checks, on a file that parses.
    response = _upload(client, GOOD + "KV-PT,Khu vực Phong Thổ,TYT-1,03451 99999,2025-07-01,\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No 2025 commune with code 99999." in page and "Facility TYT-1 is a TYT" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceArea)) == 0

    response = _upload(client, GOOD)
    assert response.status_code == 302
    with app.app_context():
        area = db.session.scalar(sa.select(ServiceArea).where(ServiceArea.code == "KV-TD"))
        assert area.owner.code == "TTYT-KV" and area.province_id == ids["province"]
        assert sorted(link.unit.code for link in area.commune_rows) == ["03430", "03460"]
    assert "Khu vực Tam Đường" in client.get("/admin/areas").get_data(as_text=True)


def test_edit_page_applies_the_import_rules(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    _upload(client, GOOD)
    with app.app_context():
        area_id = db.session.scalar(sa.select(ServiceArea.id))
    form = {"name": "Khu vực Tam Đường mới", "owner_code": "TTYT-KV", "commune_codes": "03430 03451",
            "valid_from": "2025-07-01", "valid_to": ""}
    assert client.post(f"/admin/areas/{area_id}/edit", data=form).status_code == 302
    with app.app_context():
        area = db.session.get_one(ServiceArea, area_id)
        assert area.name == "Khu vực Tam Đường mới"
        assert sorted(link.unit.code for link in area.commune_rows) == ["03430", "03451"]
    refused = client.post(f"/admin/areas/{area_id}/edit", data={**form, "commune_codes": "03430 12345"})
    assert refused.status_code == 400 and "No 2025 commune with code 12345." in refused.get_data(as_text=True)


def test_import_command_all_or_nothing(app: Flask, ids: dict[str, int], tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "KV-2,Khu vực 2,,03430,2025-07-01,\n", encoding="utf-8")
    result = runner.invoke(args=["areas", "import", str(bad)])
    assert result.exit_code == 1 and "row 3: Commune 03430 is already in the area of row 2." in result.output
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    assert runner.invoke(args=["areas", "import", str(good), "--dry-run"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceArea)) == 0
    result = runner.invoke(args=["areas", "import", str(good)])
    assert result.exit_code == 0 and "1 created" in result.output
    result = runner.invoke(args=["users", "create", "duyet.cli", "--name", "Người Duyệt", "--role", "reviewer",
                                 "--scope", "area:KV-TD", "--password", "Mat-khau-2026"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "duyet.cli"))
        assert user.scope_area.code == "KV-TD" and user.scope_unit_id == ids["province"]
    refused = runner.invoke(args=["users", "create", "gs.cli", "--name", "Giám Sát", "--role", "supervisor",
                                  "--scope", "area:KV-TD", "--password", "Mat-khau-2026"])
    assert refused.exit_code != 0 and "service area" in refused.output


def test_area_reviewer_sees_and_reviews_exactly_its_communes(app: Flask, client: FlaskClient,
                                                            ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    _upload(client, GOOD)
    reviewer = _area_reviewer(app)
    inside = rf.submitted(app, ids, facility="f1", supervisor="sup")
    outside = rf.submitted(app, ids, facility="f2", supervisor="sup2")
    login(client, reviewer, locale="en")
    listing = client.get("/facilities/").get_data(as_text=True)
    assert "Trạm Y tế xã Bản Giang" in listing and "Trạm Y tế xã Sơn Bình" in listing
    assert "Trạm Y tế xã Mường So" not in listing
    assert client.get(f"/facilities/{ids['f1']}").status_code == 200
    assert client.get(f"/facilities/{ids['f3']}").status_code == 200  # no legacy unit: the 2025 commune decides
    assert client.get(f"/facilities/{ids['f2']}").status_code == 404
    queue = client.get("/review/").get_data(as_text=True)
    assert "Trạm Y tế xã Bản Giang" in queue and "Trạm Y tế xã Mường So" not in queue
    assert client.post(f"/review/inspections/{outside}/approve").status_code == 404
    assert client.post(f"/review/inspections/{inside}/approve", data={"confirm": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get_one(Inspection, inside).status == "approved"
        assert db.session.get_one(Inspection, outside).status == "submitted"
    # Both unit systems: the legacy commune of a facility of the area opens, the neighbour's does not.
    assert client.get(f"/compliance/?unit={ids['c1']}").status_code == 200
    assert client.get(f"/compliance/?unit={ids['d1']}").status_code == 200
    assert client.get(f"/compliance/?unit={ids['c2']}").status_code == 404
    assert client.get(f"/compliance/?unit={ids['d2']}").status_code == 404
    page = client.get("/compliance/").get_data(as_text=True)
    assert "Xã Bản Bo" in page and "Xã Khổng Lào" not in page
    # The sections the page fetches after its first paint keep the same scope.
    for section in ("/compliance/failing", "/compliance/trajectory", "/compliance/?full=1"):
        assert "Khổng Lào" not in client.get(section).get_data(as_text=True), section


def test_drill_down_goes_province_area_commune(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    _upload(client, GOOD)
    with app.app_context():
        area_id = db.session.scalar(sa.select(ServiceArea.id))
    login(client, ids["mgr"], locale="en")
    page = client.get(f"/compliance/?unit={ids['province']}").get_data(as_text=True)
    assert "By service area" in page and "Khu vực Tam Đường (KV-TD)" in page
    assert f"area={area_id}" in page
    # The commune outside every area is not lost: it has its own row.
    assert "Communes outside any service area" in page
    area_page = client.get(f"/compliance/?unit={ids['province']}&area={area_id}").get_data(as_text=True)
    assert "By unit" in area_page and "Xã Bản Bo" in area_page and "Xã Sơn Bình" in area_page
    assert "Xã Khổng Lào" not in area_page
    assert client.get(f"/compliance/?unit={ids['province']}&area=999999").status_code == 404


def _plan(client: FlaskClient, unit_id: str, communes: str = ""):
    return client.post("/rounds/new", data={
        "name": "Đợt giám sát khu vực", "unit_id": unit_id, "facility_types": "TYT", "start_date": "2026-01-01",
        "deadline": "2026-06-30", "coverage_target": "80", "coverage_basis": "communes", "commune_codes": communes})


def test_round_per_service_area_reports_progress_per_area(app: Flask, client: FlaskClient,
                                                           ids: dict[str, int]) -> None:
    from qa_app.rounds.models import SupervisionRound
    from qa_app.rounds.services import progress

    login(client, ids["admin"], locale="en")
    _upload(client, GOOD)
    with app.app_context():
        area_id = db.session.scalar(sa.select(ServiceArea.id))
    login(client, ids["mgr"], locale="en")
    assert _plan(client, f"area:{area_id}").status_code == 302
    assert _plan(client, str(ids["province"]), communes="03451").status_code == 302
    assert _plan(client, str(ids["province"])).status_code == 302
    with app.app_context():
        by_name = {}
        for rnd in db.session.scalars(sa.select(SupervisionRound).order_by(SupervisionRound.id)):
            manager = db.session.get_one(User, ids["mgr"])
            prog = progress(rnd, manager, dt.date(2026, 3, 1))
            by_name[rnd.id] = ({prog.group_names.get(g.group_id, "?"): g.required for g in prog.groups},
                               sorted(f.code for f in prog.facilities))
        area_round, commune_round, province_round = sorted(by_name)
        # The area round: its two communes, one group (the area), never the neighbour's station.
        assert by_name[area_round] == ({"Khu vực Tam Đường": 2}, ["TYT-1", "TYT-3"])
        assert by_name[commune_round][1] == ["TYT-2"]
        # The province round: the area where one exists, else the legacy district; no province-wide bucket.
        assert by_name[province_round] == ({"Khu vực Tam Đường": 2, "Huyện Phong Thổ": 1},
                                           ["TYT-1", "TYT-2", "TYT-3"])
    page = client.get(f"/rounds/{area_round}").get_data(as_text=True)
    assert "Progress by area" in page and "Khu vực Tam Đường" in page and "Trạm Y tế xã Mường So" not in page
    # A list of communes must name communes of the province, in the planner's scope.
    refused = _plan(client, str(ids["province"]), communes="03451 99999")
    assert refused.status_code == 400 and "99999 is not a commune of Tỉnh Lai Châu in your scope" in refused.get_data(
        as_text=True)


def test_area_reviewer_plans_only_over_its_area(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    _upload(client, GOOD + "KV-PT,Khu vực Phong Thổ,,03451,2025-07-01,\n")
    reviewer = _area_reviewer(app)
    with app.app_context():
        areas = dict(db.session.execute(sa.select(ServiceArea.code, ServiceArea.id)).all())
    login(client, reviewer, locale="en")
    assert _plan(client, f"area:{areas['KV-PT']}").status_code == 400
    assert _plan(client, str(ids["province"])).status_code == 400  # the whole province is not theirs
    assert _plan(client, str(ids["province"]), communes="03451").status_code == 400
    assert _plan(client, str(ids["province"]), communes="03460").status_code == 302
    response = _plan(client, f"area:{areas['KV-TD']}")
    assert response.status_code == 302
    login(client, ids["admin"], locale="en")
    _plan(client, f"area:{areas['KV-PT']}")
    login(client, reviewer, locale="en")
    listing = client.get("/rounds/").get_data(as_text=True)
    assert listing.count("Đợt giám sát khu vực") == 2  # their two rounds, not the neighbour area's


def test_exports_and_api_break_down_by_service_area(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    _upload(client, GOOD)
    with app.app_context():
        area_id = db.session.scalar(sa.select(ServiceArea.id))
    login(client, ids["mgr"], locale="en")
    body = client.get(f"/api/v1/compliance/indicators?unit={ids['province']}").get_json()
    rows = [r for r in body["rows"] if r["indicator"] == "facilities_meeting_standard" and r["group"] == "area"]
    # TYT-1, TYT-3 and the regional centre in the area; TYT-2 in the commune outside it.
    assert {(r["key"], r["label"], r["denominator"]) for r in rows} == {
        (area_id, "Khu vực Tam Đường (KV-TD)", 3), (None, "Communes outside any service area", 1)}
    csv_text = client.get(f"/compliance/export/indicators.csv?unit={ids['province']}").get_data(as_text=True)
    assert "Khu vực Tam Đường (KV-TD)" in csv_text
