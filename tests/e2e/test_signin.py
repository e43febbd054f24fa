"""Signing in on a tablet, in Vietnamese by default."""

from __future__ import annotations

from qa_app.extensions import db

from .. import factories as f


def test_supervisor_signs_in_on_a_tablet(live_server, context) -> None:
    with live_server.app.app_context():
        units = f.two_districts()
        f.user("giamsat1", "supervisor", units["d1"], full_name="Nguyễn Thị Hoa")
        db.session.commit()
    page = context.new_page()
    page.goto(live_server.url + "/login")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.tap("#username")
    page.fill("#username", "giamsat1")
    page.fill("#password", "Mat-khau-2025")
    with page.expect_navigation():
        page.tap("button[type=submit]")
    assert "Nguyễn Thị Hoa" in page.inner_text("header")
    box = page.locator("button[type=submit]").bounding_box() if page.locator("button[type=submit]").count() else None
    if box:  # the sign-out button is a touch target too
        assert box["height"] >= 44
