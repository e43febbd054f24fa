"""The dashboard on a tablet: the page opens with the trajectory's past years pending and without the failing
list, fills them in after the first paint without moving what lies below, and says so when they cannot be
loaded."""

from __future__ import annotations

import datetime as dt

from qa_app.extensions import db

from .. import factories as f
from ..compliance_fixtures import inspect
from .test_plans import sign_in

AS_OF = dt.date(2026, 6, 30)


def _below(page) -> float:
    """Where the first heading after the trajectory stands on the page."""
    return page.locator("#cmp-trajectory ~ h2").first.evaluate("e => e.getBoundingClientRect().top + scrollY")


def test_the_trajectory_fills_in_after_the_page_opens_without_moving_the_page(live_server, browser, tablet) -> None:
    app, url = live_server.app, live_server.url
    with app.app_context():
        units = f.two_districts()
        f.user("quanly.tinh", "provincial_manager", units["province"], full_name="Vũ Thị Lan")
        manager = f.user("giamsat", "provincial_manager", units["province"])
        a = f.facility("TYT-1", "Trạm Y tế xã Bản Giang", units["n1"], units["c1"])
        b = f.facility("TYT-2", "Trạm Y tế xã Mường So", units["n2"], units["c2"])
        inspect(a, dt.date(2024, 3, 1), "meets", manager)  # valid to March 2026: counted at the end of 2024, 2025
        inspect(b, dt.date(2025, 2, 1), "does_not_meet", manager)
        db.session.commit()
    ctx = browser.new_context(**tablet, locale="vi-VN")
    page = ctx.new_page()
    sign_in(page, url, "quanly.tinh")
    dashboard = f"{url}/compliance/?date={AS_OF.isoformat()}"

    # The first paint: the request for the past years is held, the section is pending.
    held = []
    page.route("**/compliance/trajectory*", lambda route: held.append(route))
    page.goto(dashboard)
    cell = 'section.cmp-traj:has(#traj-facilities_meeting_standard) tr:has(th:text-is("2024")) td >> nth=0'
    assert page.locator("#cmp-trajectory[aria-busy=true]").count() == 1
    assert page.locator(cell).inner_text() == "…"
    status = page.locator("#trajectory-status")
    assert status.inner_text().startswith("Đang tính số liệu các năm trước…")
    pending_at = _below(page)
    # Then it arrives: every year measured, in place, and nothing below has moved.
    page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()
    page.locator("#cmp-trajectory:not([aria-busy])").wait_for()
    # 1 of 2 stations met the standard at the end of 2024 and of 2025 (A from March 2024; B never).
    assert page.locator(cell).inner_text() == "50,0%"
    assert page.locator(cell.replace('"2024"', '"2025"')).inner_text() == "50,0%"
    assert page.locator(".cmp-chart polyline.actual").count() >= 1
    assert _below(page) == pending_at
    assert status.inner_text() == "Số liệu cuối mỗi năm; năm nay tính đến ngày 30/06/2026."
    # The failing facilities arrive by themselves at the end of the page: both, A's result having expired in
    # March 2026 and B not meeting the standard.
    page.locator("#cmp-failing:not([aria-busy])").wait_for()
    failing = page.locator("#cmp-failing table.cmp-failing tbody tr")
    assert failing.count() == 2
    assert any("Trạm Y tế xã Mường So" in row for row in failing.all_inner_texts())
    assert page.locator("#failing").inner_text() == "Các cơ sở chưa đạt chuẩn (2)"
    # Its status, outside the replaced box, is said to a screen reader and no longer shown.
    assert page.locator("#failing-status").inner_text() == "Đã có danh sách các cơ sở chưa đạt chuẩn."
    assert "visually-hidden" in page.locator("#failing-status").get_attribute("class")
    page.unroute("**/compliance/trajectory*")

    # The sections cannot be loaded: the page says so and keeps the links.
    page.route("**/compliance/trajectory*", lambda route: route.abort())
    page.route("**/compliance/failing*", lambda route: route.abort())
    page.goto(dashboard)
    page.locator("#cmp-trajectory:not([aria-busy])").wait_for()
    page.locator("#cmp-failing:not([aria-busy])").wait_for()
    assert page.locator("#failing-status [data-lazy-note]").inner_text() == \
        "Không tải được danh sách các cơ sở chưa đạt chuẩn."
    assert page.locator("#failing-status a", has_text="Xem danh sách").is_visible()
    assert page.locator("#trajectory-status [data-lazy-note]").inner_text() == "Không tải được số liệu các năm trước."
    assert page.locator("a[data-lazy-link]", has_text="Xem số liệu đã đo").is_visible()
    assert page.locator(cell).inner_text() == "…"
    page.unroute("**/compliance/trajectory*")
    page.unroute("**/compliance/failing*")

    # Without scripts the link draws the values into the page itself.
    page.goto(dashboard.replace("?", "?full=1&"))
    assert page.locator(cell).inner_text() == "50,0%"
    ctx.close()
