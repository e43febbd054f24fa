"""Supervision rounds over the web: planning with checked input, scope, assignments, progress, overdue,
reports whose figures match the compliance dashboard, and reporting dates on the dashboard."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.extensions import db
from qa_app.rounds.models import RoundAssignment, RoundReportDate, SupervisionRound
from tests import factories
from tests.compliance_fixtures import Dataset, build_lai_chau
from tests.factories import login

START, DEADLINE = "2026-01-01", "2026-06-30"


@pytest.fixture
def data(app: Flask) -> Dataset:
    data = build_lai_chau(app)
    with app.app_context():
        from qa_app.regions.models import AdminUnit

        d1, d2 = db.session.get(AdminUnit, data.units["d1"]), db.session.get(AdminUnit, data.units["d2"])
        data.users["sup1"] = factories.user("giamsat.td", "supervisor", d1, full_name="Nguyễn Văn Giám").id
        data.users["sup2"] = factories.user("giamsat.pt", "supervisor", d2, full_name="Lò Văn Hai").id
        data.users["reviewer2"] = factories.user("reviewer2", "reviewer", d2).id
        db.session.commit()
    return data


def plan(client: FlaskClient, unit_id: int, **over: object) -> object:
    form = {"name": "Đợt I năm 2026", "unit_id": str(unit_id), "facility_types": ["TYT", "PK", "NT", "BV"],
            "start_date": START, "deadline": DEADLINE, "coverage_basis": "facilities", "coverage_target": "80",
            "progress_dates": "2026-05-15, 2026-06-15", "final_date": "2026-07-05"}
    form.update(over)
    return client.post("/rounds/new", data=form)


def planned_round(app: Flask, client: FlaskClient, data: Dataset) -> int:
    login(client, data.users["manager"], locale="en")
    response = plan(client, data.units["old_province"])
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        return db.session.scalar(sa.select(SupervisionRound.id).order_by(SupervisionRound.id.desc()))


def test_manager_plans_a_round_with_reporting_dates(app: Flask, client: FlaskClient, data: Dataset) -> None:
    round_id = planned_round(app, client, data)
    with app.app_context():
        rnd = db.session.get(SupervisionRound, round_id)
        assert rnd.name == "Đợt I năm 2026"
        assert rnd.facility_types == ["TYT", "BV", "PK", "NT"]
        assert float(rnd.coverage_target) == 80.0
        dates = db.session.execute(sa.select(RoundReportDate.kind, RoundReportDate.due_date)
                                   .where(RoundReportDate.round_id == round_id)
                                   .order_by(RoundReportDate.due_date)).all()
        assert dates == [("progress", dt.date(2026, 5, 15)), ("progress", dt.date(2026, 6, 15)),
                         ("final", dt.date(2026, 7, 5))]
    page = client.get(f"/rounds/{round_id}?date=2026-06-30").get_data(as_text=True)
    assert "Đợt I năm 2026" in page


@pytest.mark.parametrize(("over", "message"), [
    ({"name": "  "}, "Name: required"),
    ({"deadline": "2025-12-31"}, "Deadline: must not be before the start date"),
    ({"deadline": "30/06/2026"}, "is not a date like 2026-04-30"),
    ({"coverage_target": "150"}, "Coverage target: a percentage above 0 and at most 100"),
    ({"coverage_target": "tám mươi"}, "Coverage target: a percentage such as 80"),
    ({"facility_types": ["XX"]}, "Facility types: unknown XX"),
    ({"facility_types": []}, "Facility types: choose at least one"),
    ({"progress_dates": "2025-12-01"}, "is before the start of the round"),
    ({"progress_dates": "2026-08-01"}, "must come before the final report date"),
    ({"coverage_basis": "hamlets"}, "Coverage basis"),
])
def test_planning_refuses_bad_input_naming_the_field(app: Flask, client: FlaskClient, data: Dataset,
                                                     over: dict, message: str) -> None:
    login(client, data.users["manager"], locale="en")
    response = plan(client, data.units["old_province"], **over)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionRound)) == 0


def test_planning_outside_scope_or_by_a_supervisor_is_refused(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["reviewer1"], locale="en")
    response = plan(client, data.units["d2"])  # the other district
    assert response.status_code == 400
    assert "Region: choose a province, a service area or a district of your scope" in response.get_data(as_text=True)
    response = plan(client, data.units["c1"])  # a commune of their own district
    assert response.status_code == 400
    login(client, data.users["sup1"], locale="en")
    assert plan(client, data.units["d1"]).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionRound)) == 0


def progress_rows(page: str) -> dict[str, list[str]]:
    """District name -> the numbers of its row in the progress table."""
    import re

    table = page.split('id="rnd-districts"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr data-group[^>]*>(.*?)</tr>", table, re.S):
        name = re.search(r"<th scope=\"row\">(.*?)</th>", row, re.S).group(1).strip()
        cells = [re.sub(r"<[^>]+>", " ", c).split()[0] if re.sub(r"<[^>]+>", " ", c).split() else ""
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[name] = cells
    return rows


def test_progress_per_district_counts_visits_in_the_window(app: Flask, client: FlaskClient, data: Dataset) -> None:
    round_id = planned_round(app, client, data)
    page = client.get(f"/rounds/{round_id}?date=2026-06-30").get_data(as_text=True)
    rows = progress_rows(page)
    # Tam Đường: F1 F2 F5 F8 to visit (F7 closed on 1/1 unvisited); only F8 has an external visit in the window
    # (F1's is from 2025, F5's is a self-assessment).
    assert rows["Huyện Tam Đường"][:5] == ["4", "0", "1", "1", "0"]
    assert rows["Huyện Tam Đường"][5] == "25.0%"
    # Phong Thổ: F3 F4 F6; F4 approved, F6 submitted (done, not approved).
    assert rows["Huyện Phong Thổ"][:5] == ["3", "0", "2", "1", "0"]
    assert rows["Huyện Phong Thổ"][5] == "66.7%"


def test_reviewer_sees_only_their_part_and_cannot_manage(app: Flask, client: FlaskClient,
                                                                   data: Dataset) -> None:
    round_id = planned_round(app, client, data)
    login(client, data.users["reviewer1"], locale="en")
    page = client.get(f"/rounds/{round_id}?date=2026-06-30").get_data(as_text=True)
    rows = progress_rows(page)
    assert list(rows) == ["Huyện Tam Đường"]
    assert "Mường So" not in page
    assert 'name="facility_ids"' not in page
    response = client.post(f"/rounds/{round_id}/assign",
                           data={"facility_ids": [str(data.facilities["F1"])],
                                 "supervisor_id": str(data.users["sup1"])})
    assert response.status_code == 404
    # A round of Tam Đường planned by its reviewer is invisible to Phong Thổ's.
    assert plan(client, data.units["d1"], name="Đợt huyện").status_code == 302
    with app.app_context():
        district_round = db.session.scalar(sa.select(SupervisionRound.id).where(SupervisionRound.name == "Đợt huyện"))
    login(client, data.users["reviewer2"], locale="en")
    assert client.get(f"/rounds/{district_round}").status_code == 404
    assert client.get(f"/rounds/{district_round}/report/progress.pdf").status_code == 404
    assert "Đợt huyện" not in client.get("/rounds/").get_data(as_text=True)
    assert client.get("/rounds/999999").status_code == 404


def test_assignments_are_all_or_nothing_and_show_on_my_visits(app: Flask, client: FlaskClient, data: Dataset) -> None:
    round_id = planned_round(app, client, data)
    f1, f2, f3 = data.facilities["F1"], data.facilities["F2"], data.facilities["F3"]
    # F3 lies in Phong Thổ, outside the Tam Đường supervisor's scope: nothing is assigned.
    response = client.post(f"/rounds/{round_id}/assign", data={
        "facility_ids": [str(f1), str(f3)], "supervisor_id": str(data.users["sup1"])}, follow_redirects=True)
    assert "does not cover F3" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RoundAssignment)) == 0
    response = client.post(f"/rounds/{round_id}/assign", data={
        "facility_ids": [str(f1), str(f2)], "supervisor_id": str(data.users["sup1"]), "due_date": "2026-03-31"})
    assert response.status_code == 303
    response = client.post(f"/rounds/{round_id}/assign", data={
        "facility_ids": [str(f1)], "supervisor_id": str(data.users["sup1"]), "due_date": "2026-09-01"},
        follow_redirects=True)
    assert "Visit due date: must lie between" in response.get_data(as_text=True)
    with app.app_context():
        rows = db.session.execute(sa.select(RoundAssignment.facility_id, RoundAssignment.due_date)
                                  .order_by(RoundAssignment.facility_id)).all()
        assert rows == [(f1, dt.date(2026, 3, 31)), (f2, dt.date(2026, 3, 31))]
    login(client, data.users["sup1"], locale="en")
    mine = client.get("/rounds/mine?date=2026-04-01").get_data(as_text=True)
    assert "Trạm Y tế xã Bản Giang" in mine
    assert "Trạm Y tế thị trấn Tam Đường" in mine
    assert "Trạm Y tế xã Mường So" not in mine
    # Their due date has passed: both are overdue and offer to start the inspection.
    assert mine.count("badge-overdue") == 2
    assert mine.count("/inspections/start?facility_id=") == 2
    # The supervisor sees the round itself (read-only).
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert 'name="facility_ids"' not in page
    login(client, data.users["sup2"], locale="en")
    assert "Bản Giang" not in client.get("/rounds/mine?date=2026-04-01").get_data(as_text=True)


def test_overdue_visits_after_their_due_date(app: Flask, client: FlaskClient, data: Dataset) -> None:
    round_id = planned_round(app, client, data)
    client.post(f"/rounds/{round_id}/assign", data={
        "facility_ids": [str(data.facilities["F1"]), str(data.facilities["F2"])],
        "supervisor_id": str(data.users["sup1"]), "due_date": "2026-03-31"})
    client.post(f"/rounds/{round_id}/assign", data={
        "facility_ids": [str(data.facilities["F8"])], "supervisor_id": str(data.users["sup1"])})
    before = progress_rows(client.get(f"/rounds/{round_id}?date=2026-03-31").get_data(as_text=True))
    assert before["Huyện Tam Đường"][:5] == ["4", "3", "1", "1", "0"]
    after = progress_rows(client.get(f"/rounds/{round_id}?date=2026-04-01").get_data(as_text=True))
    # F1 and F2 missed their due date; F8 was visited on 5 January.
    assert after["Huyện Tam Đường"][:5] == ["4", "3", "1", "1", "2"]
    page = client.get(f"/rounds/{round_id}?date=2026-04-01&state=overdue").get_data(as_text=True)
    assert "Trạm Y tế xã Bản Giang" in page
    assert "Trạm Y tế xã Hồ Thầu" not in page


def test_bad_dates_in_the_query_are_a_clear_400(app: Flask, client: FlaskClient, data: Dataset) -> None:
    round_id = planned_round(app, client, data)
    response = client.get(f"/rounds/{round_id}?date=2026-02-30")
    assert response.status_code == 400
    assert "As of" in response.get_data(as_text=True)
    response = client.get("/rounds/reports/final.pdf?start=2026-06-01&end=2026-01-01")
    assert response.status_code == 400
    assert "before its start" in response.get_data(as_text=True)
    assert client.get("/rounds/reports/final.pdf?unit=abc").status_code == 404


def test_report_figures_match_the_dashboard(app: Flask, client: FlaskClient, data: Dataset) -> None:
    from openpyxl import load_workbook

    round_id = planned_round(app, client, data)
    unit = data.units["old_province"]
    api = client.get(f"/api/v1/compliance/indicators?date=2026-06-30&unit={unit}").get_json()
    expected = {(r["title"]): r for r in api["rows"] if r["group"] == "all"}
    by_unit = {r["label"]: r for r in api["rows"]
               if r["group"] == "unit" and r["indicator"] == "facilities_meeting_standard"}
    response = client.get(f"/rounds/reports/progress.xlsx?unit={unit}&start=2026-01-01&end=2026-06-30")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    targets = book.worksheets[0]
    rows = [r for r in targets.iter_rows(min_row=5, values_only=True) if r[0]]
    assert len(rows) == len(expected) == 9  # every indicator of the file, as on the dashboard
    for title, total, assessed, meeting, value, target_now, t2025, t2030 in rows:
        e = expected[title]
        assert (total, assessed, meeting) == (e["denominator"], e["assessed"], e["numerator"])
        assert value == e["value"]
        assert target_now == e["target_this_year"]
        assert (t2025, t2030) == (e["target_2025"], e["target_2030"])
    # The hand-computed values of the data set: 2 of 6 service facilities meet the standard (the pharmacy F5
    # has its own line), 33.3 % as the page shows it.
    main = next(r for r in rows if r[0] == next(t for t, e in expected.items()
                                                  if e["indicator"] == "facilities_meeting_standard"))
    dashboard = client.get(f"/compliance/?date=2026-06-30&unit={unit}").get_data(as_text=True)
    assert f"{main[3]} of {main[1]} facilities" in dashboard
    assert (main[3], main[1]) == (2, 6)
    assert main[4] == 33.3
    districts = {r[0]: r for r in book.worksheets[5].iter_rows(min_row=2, values_only=True)}
    for label, e in by_unit.items():
        assert districts[label][1:4] == (e["denominator"], e["assessed"], e["numerator"])
    # The round's coverage sheet carries the same counts as the progress page.
    coverage = {r[1]: r for r in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert coverage["Huyện Tam Đường"][2:7] == (4, 0, 1, 1, 0)
    assert coverage["Huyện Phong Thổ"][2:7] == (3, 0, 2, 1, 0)
    # Classes of the period's approved external inspections: F4 does not meet, F8 meets (F6's is only submitted).
    classes = [r for r in book.worksheets[2].iter_rows(min_row=2, values_only=True)]
    assert [c[1] for c in classes[:3]] == [1, 0, 1]
    assert round_id


def test_report_page_links_the_downloads_for_the_chosen_region(app: Flask, client: FlaskClient,
                                                               data: Dataset) -> None:
    planned_round(app, client, data)
    unit = data.units["d1"]
    page = client.get(f"/rounds/reports?unit={unit}&start=2026-01-01&end=2026-06-30").get_data(as_text=True)
    assert f"/rounds/reports/final.pdf?start=2026-01-01&amp;end=2026-06-30&amp;unit={unit}" in page
    assert "Đợt I năm 2026" in page
    response = client.get(f"/rounds/reports/final.pdf?start=2026-01-01&end=2026-06-30&unit={unit}")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    login(client, data.users["reviewer1"], locale="en")
    assert client.get(f"/rounds/reports?unit={data.units['d2']}").status_code == 404


def test_reporting_dates_appear_on_the_dashboard(app: Flask, client: FlaskClient, data: Dataset) -> None:
    planned_round(app, client, data)
    page = client.get("/compliance/?date=2026-05-10").get_data(as_text=True)
    assert "Reports due" in page
    assert "Đợt I năm 2026" in page
    assert "15 May 2026" in page
    # A district user under the province sees the province round's dates too; far-off dates are not listed.
    login(client, data.users["reviewer1"], locale="en")
    assert "Đợt I năm 2026" in client.get("/compliance/?date=2026-05-10").get_data(as_text=True)
    assert "Đợt I năm 2026" not in client.get("/compliance/?date=2025-01-10").get_data(as_text=True)


def test_self_assessment_page_pairs_self_and_external(app: Flask, client: FlaskClient, data: Dataset) -> None:
    from tests.compliance_fixtures import inspect

    with app.app_context():
        from qa_app.auth.models import User
        from qa_app.facilities.models import Facility

        manager = db.session.get(User, data.users["manager"])
        f4 = db.session.get(Facility, data.facilities["F4"])
        # F4 rated itself well on B1 and B2, which the inspection of 10 January failed.
        inspect(f4, dt.date(2026, 1, 5), "meets", manager, kind="self", overall=96.0)
        db.session.commit()
    login(client, data.users["manager"], locale="en")
    page = client.get(f"/rounds/self-assessments?unit={data.units['old_province']}&start=2026-01-01"
                      "&end=2026-06-30").get_data(as_text=True)
    assert "Hòa An" in page
    assert "34" in page  # 96 - 62 points
    items = page.split('id="self-items"', 1)[1]
    assert items.index(">B1<") < items.index(">B2<")


def test_a_2025_province_round_is_followed_by_the_old_districts(app: Flask, client: FlaskClient,
                                                                  data: Dataset) -> None:
    """The 2025 system has no districts: the progress page groups by each facility's pre-2025 district."""
    with app.app_context():
        from qa_app.regions.models import AdminUnit

        province = db.session.get(AdminUnit, data.units["province"])
        manager_2025 = factories.user("quanly.2025", "provincial_manager", province).id
        db.session.commit()
    login(client, manager_2025, locale="en")
    assert plan(client, data.units["province"], name="Đợt tỉnh 2025").status_code == 302
    with app.app_context():
        round_id = db.session.scalar(sa.select(SupervisionRound.id).where(SupervisionRound.name == "Đợt tỉnh 2025"))
    page = client.get(f"/rounds/{round_id}?date=2026-06-30").get_data(as_text=True)
    rows = progress_rows(page)
    assert rows["Huyện Tam Đường"][:5] == ["4", "0", "1", "1", "0"]
    assert rows["Huyện Phong Thổ"][:5] == ["3", "0", "2", "1", "0"]
    # A district round planned in the old system lies wholly in the 2025 province: its manager sees and manages it.
    login(client, data.users["reviewer1"], locale="en")
    assert plan(client, data.units["d1"], name="Đợt huyện").status_code == 302
    with app.app_context():
        district_round = db.session.scalar(sa.select(SupervisionRound.id).where(SupervisionRound.name == "Đợt huyện"))
    login(client, manager_2025, locale="en")
    assert "Đợt huyện" in client.get("/rounds/").get_data(as_text=True)
    assert 'name="facility_ids"' in client.get(f"/rounds/{district_round}").get_data(as_text=True)
    response = client.get(f"/rounds/{district_round}/report/final.xlsx")
    assert response.status_code == 200
    # The 2025 province's period report includes the pre-2025 district's round: they share facilities.
    page = client.get(f"/rounds/reports?unit={data.units['province']}&start=2026-01-01&end=2026-06-30")
    assert "Đợt huyện" in page.get_data(as_text=True)


def test_a_manager_extends_the_deadline_and_changes_the_reporting_dates(app: Flask, client: FlaskClient,
                                                                        data: Dataset) -> None:
    round_id = planned_round(app, client, data)
    form = client.get(f"/rounds/{round_id}/edit").get_data(as_text=True)
    assert 'value="2026-06-30"' in form
    assert "2026-05-15, 2026-06-15" in form
    client.post(f"/rounds/{round_id}/assign", data={
        "facility_ids": [str(data.facilities["F1"])], "supervisor_id": str(data.users["sup1"]),
        "due_date": "2026-06-20"})
    base = {"name": "Đợt I năm 2026 (gia hạn)", "start_date": START, "coverage_basis": "facilities",
            "coverage_target": "75", "progress_dates": "2026-05-15", "final_date": "2026-08-05",
            # Sent by a crafted form: the region and types of a round never change.
            "unit_id": str(data.units["d2"]), "facility_types": ["NT"]}
    # Shortening the round before an assigned visit's due date is refused whole.
    response = client.post(f"/rounds/{round_id}/edit", data={**base, "deadline": "2026-06-10"})
    assert response.status_code == 400
    assert "1 assigned visit is due outside the new dates" in response.get_data(as_text=True)
    response = client.post(f"/rounds/{round_id}/edit", data={**base, "deadline": "2026-07-31"})
    assert response.status_code == 302
    with app.app_context():
        rnd = db.session.get(SupervisionRound, round_id)
        assert (rnd.name, rnd.deadline, float(rnd.coverage_target)) == ("Đợt I năm 2026 (gia hạn)",
                                                                        dt.date(2026, 7, 31), 75.0)
        assert rnd.unit_id == data.units["old_province"]
        assert rnd.facility_types == ["TYT", "BV", "PK", "NT"]
        assert [(r.kind, r.due_date) for r in rnd.report_dates] == [("progress", dt.date(2026, 5, 15)),
                                                                    ("final", dt.date(2026, 8, 5))]
    # A district reviewer cannot change the province's round.
    login(client, data.users["reviewer1"], locale="en")
    assert client.get(f"/rounds/{round_id}/edit").status_code == 404
    assert client.post(f"/rounds/{round_id}/edit", data={**base, "deadline": "2026-12-31"}).status_code == 404
