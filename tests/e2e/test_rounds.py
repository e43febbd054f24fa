"""A supervision round in a real browser on a tablet: the district manager plans it and assigns two visits,
the supervisor starts both from "My visits", they are completed and approved, and both reports download."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from pathlib import Path

import sqlalchemy as sa

from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.inspections import services
from qa_app.inspections.models import Inspection

from .. import factories as f
from ..inspection_fixtures import submit_complete

PASSWORD = "Mat-khau-2025"


def sign_in(page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def pdf_text(data: bytes) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(unicodedata.normalize("NFC", " ".join(p.extract_text() or "" for p in reader.pages)).split())


def test_round_from_planning_to_reports(live_server, browser, tablet) -> None:
    app, url = live_server.app, live_server.url
    with app.app_context():
        units = f.two_districts()
        manager = f.user("duyet.td", "reviewer", units["d1"], full_name="Trần Văn Hùng")
        supervisor = f.user("giamsat.td", "supervisor", units["d1"], full_name="Lò Văn Phong")
        f.facility("TYT-1", "Trạm Y tế xã Bản Giang", units["n1"], units["c1"])
        f.facility("NT-1", "Nhà thuốc Minh Châu", units["n1"], units["c1"], type_="NT", ownership="non_public",
                   services=("VU", "BCS"))
        f.facility("TYT-2", "Trạm Y tế xã Mường So", units["n2"], units["c2"])
        db.session.commit()
        ids = {"manager": manager.id, "supervisor": supervisor.id, "d1": units["d1"].id}
    today = dt.date.today()

    # The district manager plans the round on a tablet.
    mgr_ctx = browser.new_context(**tablet, locale="vi-VN", accept_downloads=True)
    page = mgr_ctx.new_page()
    sign_in(page, url, "duyet.td")
    page.goto(url + "/rounds/new")
    page.fill("#name", "Đợt I – giám sát chất lượng KHHGĐ")
    page.select_option("#unit_id", str(ids["d1"]))
    page.uncheck("input[name=facility_types][value=BV]")
    page.fill("#start_date", (today - dt.timedelta(days=5)).isoformat())
    page.fill("#deadline", (today + dt.timedelta(days=25)).isoformat())
    page.fill("#coverage_target", "100")
    page.fill("#final_date", (today + dt.timedelta(days=30)).isoformat())
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "/rounds/" in page.url
    assert "Đợt I – giám sát chất lượng KHHGĐ" in page.inner_text("h1")
    # The district's two facilities only; assign both to the supervisor by ticking them.
    rows = page.locator("input[name=facility_ids]")
    assert rows.count() == 2
    for i in range(2):
        rows.nth(i).check()
    page.select_option("#rnd-sup", str(ids["supervisor"]))
    with page.expect_navigation():
        page.click(".rnd-assign button[type=submit]")
    assert page.locator(".badge-planned").count() == 2
    # Nothing on the progress page is wider than the tablet's screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The supervisor finds the visits and starts both inspections from the list.
    sup_ctx = browser.new_context(**tablet, locale="vi-VN")
    spage = sup_ctx.new_page()
    sign_in(spage, url, "giamsat.td")
    for _ in range(2):
        spage.goto(url + "/rounds/mine")
        with spage.expect_navigation():
            spage.locator("tr:has(.badge-planned) a[href*='/inspections/start?facility_id=']").first.click()
        with spage.expect_navigation():
            spage.click("form.start-form button[type=submit]")
        assert "/inspections/" in spage.url
    spage.goto(url + "/rounds/mine")
    assert spage.locator(".badge-in_progress").count() == 2
    # A started visit is continued, never started twice.
    assert spage.locator("a[href*='/inspections/start?facility_id=']").count() == 0
    sup_ctx.close()

    # Completed (every item answered, team, signatures) and approved by the district.
    with app.app_context():
        inspection_ids = list(db.session.scalars(sa.select(Inspection.id).order_by(Inspection.id)))
    assert len(inspection_ids) == 2
    for inspection_id in inspection_ids:
        submit_complete(app, inspection_id, ids["supervisor"], failing=("B2",))
        with app.app_context():
            services.approve(db.session.get(Inspection, inspection_id), db.session.get(User, ids["manager"]))
            db.session.commit()

    page.reload()
    assert page.locator(".badge-approved").count() == 2
    assert "100" in page.locator("#rnd-districts tbody tr").first.inner_text()
    # Both reports, from the page's own links.
    for link, title in (("a[href*='/report/progress.pdf']", "Sơ kết"), ("a[href*='/report/final.pdf']", "Tổng kết")):
        with page.expect_download() as download:
            page.click(link)
        data = Path(download.value.path()).read_bytes()
        assert data.startswith(b"%PDF")
        text = pdf_text(data)
        assert title in text
        assert "Đợt I – giám sát chất lượng KHHGĐ" in text
        assert "đã giám sát 2/2, đạt 100%" in text
    mgr_ctx.close()
