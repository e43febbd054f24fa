"""A provincial manager edits the province plan on a tablet: the dashboard's distance to the target changes at
once, the plan's audit history shows the edit, and an invalid target is refused with a Vietnamese message."""

from __future__ import annotations

import datetime as dt

from qa_app.extensions import db

from .. import factories as f
from ..compliance_fixtures import designate, inspect, readiness_items

PASSWORD = "Mat-khau-2025"


def sign_in(page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def needed(page, indicator: str, year: int) -> str:
    return page.locator(f'article[data-indicator="{indicator}"] [data-year="{year}"] .cmp-needed').inner_text()


def test_manager_edits_a_target_and_the_dashboard_follows(live_server, browser, tablet) -> None:
    app, url = live_server.app, live_server.url
    today = dt.date.today()
    with app.app_context():
        units = f.two_districts()
        manager = f.user("quanly.tinh", "provincial_manager", units["province"], full_name="Vũ Thị Lan")
        # Four 2025 communes of a high-fertility area, a station each offering the four methods; one station
        # met every readiness item at its last visit.
        communes = [units["n1"], units["n2"]] + [
            f.unit("2025", "commune", f"0346{i}", f"Xã Số {i}", units["province"]) for i in (1, 2)]
        stations = []
        for i, commune in enumerate(communes, start=1):
            designate(commune)
            stations.append(f.facility(f"TYT-{i}", f"Trạm Y tế xã {i}", commune, units["c1"]))
        inspect(stations[0], today - dt.timedelta(days=30), "meets", manager,
                items={item: "met" for item in readiness_items()})
        db.session.commit()

    ctx = browser.new_context(**tablet, locale="vi-VN")
    page = ctx.new_page()
    sign_in(page, url, "quanly.tinh")
    page.goto(url + "/compliance/")
    # 1 of 4 stations able; national 2030 target 95 %: 95 % × 4 = 3.8 → 4 → 3 more.
    assert needed(page, "tyt_methods_ready", 2030) == "cần thêm 3 cơ sở"
    bar = page.locator('article[data-indicator="tyt_methods_ready"] .cmp-bar')
    assert "chỉ tiêu 2030" in bar.get_attribute("aria-label")

    page.goto(url + "/compliance/plans/edit")
    page.fill("#name", "Kế hoạch thực hiện Quyết định 1848/QĐ-TTg")
    page.fill("#number", "45/KH-UBND")
    page.fill("#effective_from", "2021-01-01")
    page.check("input[name=override-tyt_methods_ready]")
    # An impossible target first: refused in Vietnamese, naming the indicator's field, nothing saved.
    page.fill("#targets-tyt_methods_ready", "2025: 75; 2030: 120")
    with page.expect_navigation():
        page.click("form.plan-form button[type=submit]")
    error = page.locator(".errors").inner_text()
    assert "Chỉ tiêu của “Trạm y tế xã thuộc vùng có mức sinh cao đủ khả năng cung cấp" in error
    assert "“2030: 120” không hợp lệ" in error
    assert page.locator(".plan-versions").count() == 0
    # The form kept what was typed; correct the value and save.
    assert page.input_value("#name") == "Kế hoạch thực hiện Quyết định 1848/QĐ-TTg"
    page.fill("#targets-tyt_methods_ready", "2025: 50; 2030: 75")
    with page.expect_navigation():
        page.click("form.plan-form button[type=submit]")
    assert "phiên bản 1" in page.locator(".flash").first.inner_text()
    audit = page.locator(".plan-audit li").first.inner_text()
    assert "Vũ Thị Lan" in audit and "2030: 75" in audit

    # The dashboard follows at once: 75 % × 4 = 3 → 2 more for 2030.
    page.goto(url + "/compliance/")
    assert needed(page, "tyt_methods_ready", 2030) == "cần thêm 2 cơ sở"
    assert "Kế hoạch thực hiện Quyết định 1848/QĐ-TTg" in page.locator(".cmp-plan").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ctx.close()
