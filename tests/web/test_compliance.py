"""Compliance: indicator values on fixed data, dashboard, exports and API agreeing, scope, locales."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import types

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from qa_app.auth.models import User
from qa_app.compliance.indicators import load_indicators
from qa_app.compliance.listing import facility_statuses, iter_facility_statuses, most_failed_items
from qa_app.compliance.queries import Area, indicator_counts
from qa_app.compliance.report import applicable, summarise
from qa_app.compliance.views import neutralise
from qa_app.extensions import db
from qa_app.inspections import status
from qa_app.regions.models import AdminUnit
from tests.compliance_fixtures import AS_OF, Dataset, build_lai_chau, build_plan_provinces
from tests.factories import login

DATE = AS_OF.isoformat()


@pytest.fixture
def data(app: Flask) -> Dataset:
    """The Lai Châu data set."""
    return build_lai_chau(app)


def _area(app: Flask, data: Dataset, user: str = "admin", unit: str | None = None, day: dt.date = AS_OF) -> Area:
    u = db.session.get(User, data.users[user])
    return Area(user=u, day=day, unit=db.session.get(AdminUnit, data.units[unit]) if unit else None)


def _counts(area: Area, group: str = "all") -> dict:
    indicators = applicable(load_indicators(), area)
    return {row.key: {k: (c.meeting, c.total, c.assessed) for k, c in row.counts.items()}
            for row in indicator_counts(area, indicators, group)}


def test_indicator_values_match_hand_computed_expectations(app: Flask, data: Dataset) -> None:
    with app.app_context():
        whole = _counts(_area(app, data))[None]
        # 6 active service facilities (F7 closed, F5 a pharmacy); meeting F1 F8; assessed F1 F4 F6 F8 (F2
        # expired, F3 never).
        assert whole["facilities_meeting_standard"] == (2, 6, 4)
        # The market channel on its own line: F5, whose only visit is a self-assessment (never counted).
        assert whole["pharmacies_meeting_standard"] == (0, 1, 0)
        # Stations of the high-fertility commune n1: F1 F2 F8; F1 ready, F8 lacks IUDs, F2 expired.
        assert whole["tyt_methods_ready"] == (1, 3, 2)
        # The sector lines add up to the combined one.
        public, non_public = whole["facilities_meeting_standard_public"], whole["facilities_meeting_standard_non_public"]
        assert public == (2, 5, 3) and non_public == (0, 1, 1)
        assert tuple(a + b for a, b in zip(public, non_public, strict=True)) == whole["facilities_meeting_standard"]
        by_unit = _counts(_area(app, data, unit="old_province"), "unit")
        assert by_unit[data.units["d1"]]["facilities_meeting_standard"] == (2, 3, 2)
        assert by_unit[data.units["d2"]]["facilities_meeting_standard"] == (0, 3, 2)
        by_owner = _counts(_area(app, data), "ownership")
        assert by_owner["non_public"]["facilities_meeting_standard"] == (0, 1, 1)
        by_type = _counts(_area(app, data), "type")
        assert by_type["TYT"]["facilities_meeting_standard"] == (2, 5, 3)
        assert "BV" not in by_type  # the closed hospital is out of the denominator


def test_dates_change_the_status(app: Flask, data: Dataset) -> None:
    with app.app_context():
        # 2025-01-10: F2 (2023-05-01) still valid, F7 open and inspected 2025-01-01; F1, F4, F8 not inspected yet.
        early = _counts(_area(app, data, day=dt.date(2025, 1, 10)))[None]
        assert early["facilities_meeting_standard"] == (2, 7, 2)
        # Before any inspection: nobody assessed, every service facility (not the pharmacy F5) in the denominator.
        assert _counts(_area(app, data, day=dt.date(2022, 1, 1)))[None]["facilities_meeting_standard"] == (0, 7, 0)


def test_high_fertility_override_and_province_targets(app: Flask, data: Dataset) -> None:
    build_plan_provinces(app, data)
    with app.app_context():
        kon_tum = _area(app, data, unit="kon_tum")
        indicators = applicable(load_indicators(), kon_tum)
        ready = next(i for i in indicators if i.id == "tyt_methods_ready")
        assert ready.filters.high_fertility is True
        # K1 (high fertility, ready) counts; K2 (not high fertility) is outside Kon Tum's indicator.
        assert _counts(kon_tum)[None]["tyt_methods_ready"] == (1, 1, 1)
        # The same stations under the merged 2025 province: the national definition carries 1848's filter too
        # (K1's designation is on its pre-2025 commune and still applies).
        assert _counts(_area(app, data, unit="quang_ngai"))[None]["tyt_methods_ready"] == (1, 1, 1)
        # Bắc Giang's plan covers every station ("high_fertility: any"): B1 is in no high-fertility commune.
        bac_giang = _area(app, data, unit="bac_giang")
        assert _counts(bac_giang)[None]["tyt_methods_ready"] == (1, 1, 1)
        summaries = {s.indicator.id: s for s in summarise(_area(app, data, unit="bac_giang"), applicable(
            load_indicators(), _area(app, data, unit="bac_giang")), trajectory=False)}
        assert summaries["tyt_methods_ready"].target_2025 == 85
        assert summaries["facilities_meeting_standard"].target_2030 == 90


def test_failing_list_and_most_failed_items(app: Flask, data: Dataset) -> None:
    with app.app_context():
        area = _area(app, data)
        indicators = applicable(load_indicators(), area)
        main = indicators[0]
        failing, total = facility_statuses(area, indicators, main, failing_only=True)
        by_code = {f.code: f for f in failing}
        assert total == 4  # the pharmacy F5 is not in the headline indicator
        assert set(by_code) == {"F2", "F3", "F4", "F6"}
        assert by_code["F2"].status == "expired"
        assert by_code["F3"].status == "not_assessed"
        assert by_code["F6"].status == "conditional"
        # Section B (30%) and C (45%) are under the 50% minimum; B carries the critical failure.
        assert by_code["F4"].failing_sections == [("B", 30.0, 1), ("C", 45.0, 1)]
        items = {i.item_id: (i.failed, i.answered) for i in most_failed_items(area, main)}
        assert items == {"B2": (2, 4), "B1": (1, 4)}
        # The answers are counted only for the items kept, but counted whole for them.
        top = most_failed_items(area, main, limit=1)
        assert [(i.item_id, i.failed, i.answered) for i in top] == [("B2", 2, 4)]


def test_dashboard_renders_in_both_languages(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["admin"])
    en = client.get(f"/compliance/?date={DATE}&lang=en")
    assert en.status_code == 200
    page = en.get_data(as_text=True)
    assert "FP service facilities meeting the quality standard" in page
    assert "33.3%" in page  # 2 of 6 service facilities
    assert "66.7%" in page  # 4 of 6 assessed
    assert "<svg" in page
    assert "<polyline" in page
    # The one script is the app's own loader of the slow sections (the facility names are escaped, never run).
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/js/dashboard.js" defer>']
    assert "Target 2030" in page
    assert "90.0%" in page
    # The failing list, fetched by the page (and drawn in it with ?full=1).
    for failing in (client.get(f"/compliance/failing?date={DATE}&lang=en").get_data(as_text=True),
                    client.get(f"/compliance/?date={DATE}&lang=en&full=1").get_data(as_text=True)):
        assert f'href="/facilities/{data.facilities["F4"]}"' in failing
        assert "Phòng khám Hòa An" in failing
        assert "&#34;http://x&#34;" in failing
        assert "<script" not in failing.split('id="failing"', 1)[1]
    vi = client.get(f"/compliance/?date={DATE}&lang=vi&full=1")  # the past years drawn in the page
    assert vi.status_code == 200
    text = vi.get_data(as_text=True)
    assert "Cơ sở cung cấp dịch vụ KHHGĐ đạt tiêu chuẩn chất lượng" in text
    assert "28,6" in text  # Vietnamese decimal comma (2 of 7 at the end of 2025)
    home = client.get("/compliance/")
    assert home.status_code == 200
    nav = client.get("/compliance/?lang=en").get_data(as_text=True)
    assert 'href="/compliance/"' in nav


def test_dashboard_bad_date_is_a_clear_400(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["admin"])
    response = client.get("/compliance/?date=31/12/2025&lang=en")
    assert response.status_code == 400
    assert "2025-12-31" in response.get_data(as_text=True)
    assert client.get("/api/v1/compliance/indicators?date=yesterday").status_code == 400


def test_dashboard_day_is_vietnams_day_not_the_servers(app: Flask, client: FlaskClient, data: Dataset,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """At 18:30 UTC on 7 December it is already 8 December in Vietnam, where inspections are dated: the
    dashboard without a date shows Vietnam's day (a server's UTC date hid this morning's approvals for 7 hours)."""
    import qa_app.i18n

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return dt.datetime(2026, 12, 7, 18, 30, tzinfo=dt.UTC).astimezone(tz)

    # Only qa_app.i18n's clock: its ``dt`` becomes the datetime module with this datetime class.
    monkeypatch.setattr(qa_app.i18n, "dt", types.SimpleNamespace(**{**vars(dt), "datetime": Clock}))
    login(client, data.users["admin"])
    page = client.get("/compliance/").get_data(as_text=True)
    assert 'name="date" value="2026-12-08"' in page


def _csv_rows(response) -> list[list[str]]:
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_exports_api_and_dashboard_agree(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["manager"])
    query = f"date={DATE}&unit={data.units['d2']}&lang=en"
    api = client.get(f"/api/v1/compliance/indicators?{query}").get_json()
    whole = {r["indicator"]: r for r in api["rows"] if r["group"] == "all"}
    assert (whole["facilities_meeting_standard"]["numerator"], whole["facilities_meeting_standard"]["denominator"],
            whole["facilities_meeting_standard"]["assessed"]) == (0, 3, 2)
    rows = _csv_rows(client.get(f"/compliance/export/indicators.csv?{query}"))
    header, body = rows[0], rows[1:]
    assert len(body) == len(api["rows"])
    csv_all = [r for r in body if r[1] == "facilities_meeting_standard" and r[3] == "All"][0]
    assert [int(csv_all[6]), int(csv_all[7]), int(csv_all[8])] == [0, 3, 2]
    book = load_workbook(io.BytesIO(client.get(f"/compliance/export/indicators.xlsx?{query}").data))
    sheet = list(book.active.iter_rows(values_only=True))
    assert list(sheet[0]) == header
    assert len(sheet) == len(rows)
    assert [r for r in sheet if r[1] == "facilities_meeting_standard" and r[3] == "All"][0][6:9] == (0, 3, 2)
    facilities = client.get(f"/api/v1/compliance/facilities?{query}").get_json()
    assert facilities["total"] == 3
    assert {i["code"]: i["status"] for i in facilities["items"]} == {
        "F3": "not_assessed", "F4": "does_not_meet", "F6": "conditional"}
    f_csv = _csv_rows(client.get(f"/compliance/export/facilities.csv?{query}"))
    f_xlsx = list(load_workbook(io.BytesIO(client.get(f"/compliance/export/facilities.xlsx?{query}").data))
                  .active.iter_rows(values_only=True))
    assert len(f_csv) == len(f_xlsx) == 4
    page = client.get(f"/compliance/?{query}").get_data(as_text=True)
    assert "0.0%" in page
    assert "(0/3)" in page
    assert "66.7%" in page


def test_facilities_export_streams_in_batches(app: Flask, client: FlaskClient, data: Dataset,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The CSV goes out a chunk at a time, read from the database a batch at a time, with the same rows (order,
    failing sections, score groups, indicator flags) as the one-statement list."""
    with app.app_context():
        admin = db.session.get(User, data.users["admin"])
        indicators = load_indicators().indicators
        area = Area(user=admin, day=AS_OF)
        listed, total = facility_statuses(area, indicators, indicators[0])
        assert total == 7 and any(s.failing_sections for s in listed)
        # Batches of two: failing sections and groups are attached per batch, and nothing is lost between them.
        assert list(iter_facility_statuses(area, indicators, indicators[0], batch=2)) == listed
        streamed_codes = [s.code for s in listed]
    monkeypatch.setattr("qa_app.compliance.views.CSV_CHUNK_ROWS", 2)
    monkeypatch.setattr("qa_app.compliance.listing.STREAM_BATCH", 3)
    login(client, data.users["admin"])
    response = client.get(f"/compliance/export/facilities.csv?date={DATE}", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # once, not "…; charset=utf-8" twice
    chunks = list(response.response)
    response.close()
    # Seven rows, two a chunk (the header rides with the first): three full chunks and the last row.
    assert len(chunks) == 4
    body = b"".join(chunks).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert [r[1] for r in rows[1:]] == streamed_codes
    assert rows == _csv_rows(client.get(f"/compliance/export/facilities.csv?date={DATE}"))


def test_formula_injection_is_neutralised(app: Flask, client: FlaskClient, data: Dataset) -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+84") == "'+84"
    assert neutralise("-x") == "'-x"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("\rx") == "'\rx"
    assert neutralise("Trạm") == "Trạm"
    assert neutralise(-3) == -3
    login(client, data.users["admin"])
    rows = _csv_rows(client.get(f"/compliance/export/facilities.csv?date={DATE}"))
    names = [r[2] for r in rows[1:]]
    assert "'=HYPERLINK(\"http://x\") Phòng khám Hòa An" in names
    assert not any(n.startswith("=") for n in names)
    sheet = load_workbook(io.BytesIO(client.get(f"/compliance/export/facilities.xlsx?date={DATE}").data)).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert not any(c.startswith("=") for c in cells)


def test_reviewer_sees_only_their_district(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["reviewer1"])
    api = client.get(f"/api/v1/compliance/facilities?date={DATE}").get_json()
    assert {i["code"] for i in api["items"]} == {"F1", "F2", "F5", "F8"}
    page = client.get(f"/compliance/?date={DATE}&lang=en&full=1").get_data(as_text=True)
    assert "50.0%" in page
    assert "Mường So" not in page
    assert client.get(f"/compliance/?unit={data.units['d2']}").status_code == 404
    assert client.get(f"/compliance/?unit={data.units['old_province']}").status_code == 404
    assert client.get(f"/compliance/export/facilities.csv?unit={data.units['d2']}").status_code == 404
    assert client.get(f"/compliance/trajectory?unit={data.units['d2']}").status_code == 404
    assert client.get(f"/compliance/failing?unit={data.units['d2']}").status_code == 404
    assert client.get(f"/api/v1/compliance/indicators?unit={data.units['d2']}").status_code == 404
    assert client.get(f"/compliance/?unit={data.units['c1']}").status_code == 200
    assert client.get("/compliance/?unit=999999").status_code == 404


def test_api_requires_sign_in(client: FlaskClient, data: Dataset) -> None:
    response = client.get("/api/v1/compliance/indicators")
    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication required"}
    assert client.get("/api/v1/compliance/facilities").status_code == 401
    assert client.get("/compliance/").status_code == 302


def test_api_pages(app: Flask, client: FlaskClient, data: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qa_app.compliance.views.API_PAGE_SIZE", 3)
    login(client, data.users["admin"])
    first = client.get(f"/api/v1/compliance/facilities?date={DATE}").get_json()
    assert (first["total"], first["pages"], len(first["items"])) == (7, 3, 3)
    third = client.get(f"/api/v1/compliance/facilities?date={DATE}&page=3").get_json()
    assert len(third["items"]) == 1
    assert third["next"] is None
    codes = set()
    for page in (1, 2, 3):
        codes |= {i["code"] for i in client.get(f"/api/v1/compliance/facilities?date={DATE}&page={page}")
                  .get_json()["items"]}
    assert len(codes) == 7


def test_national_view_can_group_by_pre2025_provinces(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["admin"])
    page = client.get(f"/compliance/?date={DATE}&system=pre2025&lang=vi").get_data(as_text=True)
    assert f"unit={data.units['old_province']}" in page
    drilled = client.get(f"/compliance/?date={DATE}&unit={data.units['old_province']}&lang=vi")
    assert drilled.status_code == 200
    assert "Huyện Tam Đường" in drilled.get_data(as_text=True)


def test_validity_comes_from_each_checklist_version(app: Flask, data: Dataset,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        from qa_app.checklists.models import ChecklistVersion

        v1 = db.session.scalar(sa.select(ChecklistVersion.id).where(ChecklistVersion.code == "fp-quality",
                                                                    ChecklistVersion.version == 1))
        # Version 1 valid 12 months, another version 24: each result expires by its own version's rule (the
        # read model stores the expiry; the raw path makes the cutoff a CASE over versions).
        monkeypatch.setattr("qa_app.compliance.queries.version_rules", lambda: {v1: (12, 50.0), 999: (24, 50.0)})
        monkeypatch.setattr("qa_app.inspections.status._validities", lambda: {v1: 12, 999: 24})
        status.rebuild()
        # On 2026-06-30 with 12 months: F1 (2025-03-01) and F6 (2025-06-01) expire; F4 and F8 stay valid.
        assert _counts(_area(app, data))[None]["facilities_meeting_standard"] == (1, 6, 2)
