"""End to end over the web: a district manager plans a round and assigns two visits, the supervisor finds them
under "My visits" and completes both inspections, the reviewer approves them, and both reports download."""

from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.extensions import db
from qa_app.inspections.models import Inspection
from qa_app.rounds.models import SupervisionRound
from tests.factories import login
from tests.inspection_fixtures import build_world, submit_complete
from tests.unit.test_pdf_minutes import pdf_text


def test_plan_assign_inspect_approve_and_report(app: Flask, client: FlaskClient) -> None:
    from openpyxl import load_workbook

    ids = build_world(app)
    today = dt.date.today()
    with app.app_context():
        from qa_app.auth.models import User

        district_id = db.session.get(User, ids["rev"]).scope_unit_id

    # 1. The district manager plans the round: every station and pharmacy of the district, all of them.
    login(client, ids["rev"], locale="vi")
    response = client.post("/rounds/new", data={
        "name": "Đợt giám sát quý IV", "unit_id": str(district_id), "facility_types": ["TYT", "NT"],
        "start_date": (today - dt.timedelta(days=7)).isoformat(),
        "deadline": (today + dt.timedelta(days=30)).isoformat(), "coverage_basis": "facilities",
        "coverage_target": "100", "progress_dates": (today + dt.timedelta(days=10)).isoformat(),
        "final_date": (today + dt.timedelta(days=35)).isoformat()})
    assert response.status_code == 302
    with app.app_context():
        round_id = db.session.scalar(sa.select(SupervisionRound.id))
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    # Only the district's two facilities, not the other district's station.
    assert "Trạm Y tế xã Bản Giang" in page
    assert "Nhà thuốc Minh Châu" in page
    assert "Trạm Y tế xã Mường So" not in page

    # 2. Both are assigned to the same supervisor.
    response = client.post(f"/rounds/{round_id}/assign", data={
        "facility_ids": [str(ids["tyt"]), str(ids["nt"])], "supervisor_id": str(ids["sup"])})
    assert response.status_code == 303

    # 3. The supervisor sees them, starts both inspections from the list and completes them.
    login(client, ids["sup"], locale="vi")
    mine = client.get("/rounds/mine").get_data(as_text=True)
    assert mine.count("/inspections/start?facility_id=") == 2
    inspection_ids = []
    for facility in ("tyt", "nt"):
        response = client.post("/inspections/start", data={
            "facility_id": str(ids[facility]), "inspection_date": today.isoformat(), "kind": "external"})
        assert response.status_code == 302, response.get_data(as_text=True)
        with app.app_context():
            inspection_ids.append(db.session.scalar(sa.select(Inspection.id).where(
                Inspection.facility_id == ids[facility]).order_by(Inspection.id.desc())))
    # Half-way: started, not submitted, so still "in progress" and coverage 0.
    login(client, ids["rev"], locale="en")
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert page.count("badge-in_progress") == 2
    for inspection_id in inspection_ids:
        submit_complete(app, inspection_id, ids["sup"], failing=("B2",))

    # 4. The reviewer approves both.
    for inspection_id in inspection_ids:
        response = client.post(f"/review/inspections/{inspection_id}/approve", data={"confirm": "1"})
        assert response.status_code in (302, 303), response.get_data(as_text=True)
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert page.count("badge-approved") == 2
    assert "100.0%" in page

    # 5. Both reports download: PDF in the official layout and XLSX with the same figures.
    login(client, ids["rev"], locale="vi")
    progress = client.get(f"/rounds/{round_id}/report/progress.pdf")
    final = client.get(f"/rounds/{round_id}/report/final.pdf")
    for response, title in ((progress, "Sơ kết"), (final, "Tổng kết")):
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert "attachment" in response.headers["Content-Disposition"]
        text = pdf_text(response.data)
        assert title in text
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
        assert "Đợt giám sát quý IV" in text
        assert "đã giám sát 2/2, đạt 100%" in text
    for kind in ("progress", "final"):
        response = client.get(f"/rounds/{round_id}/report/{kind}.xlsx")
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.data))
        coverage = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
        assert coverage[-1][1:7] == ("Tổng cộng", 2, 2, 2, 2, 0)
        assert coverage[-1][9] == 100.0
        classes = list(book.worksheets[2].iter_rows(min_row=2, values_only=True))
        assert sum(row[1] for row in classes[:3]) == 2
    # The supervisor is not a manager: no reports for them.
    login(client, ids["sup"], locale="vi")
    assert client.get(f"/rounds/{round_id}/report/final.pdf").status_code == 403
