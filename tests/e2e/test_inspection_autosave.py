"""The tablet form in a real browser: taps autosave, a reload shows them, unsent changes survive going offline."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from .. import inspection_fixtures as fx


def _login(page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", fx.PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_taps_autosave_and_survive_reload_and_offline(live_server, context) -> None:
    app = live_server.app
    ids = fx.build_world(app)
    inspection_id = fx.start(app, ids["tyt"], ids["sup"])
    page = context.new_page()
    _login(page, live_server.url, "giamsat1")
    page.goto(f"{live_server.url}/inspections/{inspection_id}/form?lang=en")
    status = page.locator("[data-save-status]")
    assert status.get_attribute("data-state") == "saved"
    page.screenshot(path="/tmp/e2e_shots/form-top.png")

    met = page.locator("#item-A2 button[data-value=met]")
    box = met.bounding_box()
    assert box["height"] >= 44
    assert box["width"] >= 44
    with page.expect_response(lambda r: "/answers/A2" in r.url and r.status == 200):
        met.tap()
    assert met.get_attribute("aria-pressed") == "true"
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved")
    assert page.locator("[data-progress]").first.inner_text().startswith("1/")

    # A note is saved after a pause in typing.
    page.locator("#item-A2 [data-extra] > summary").tap()
    with page.expect_response(lambda r: "/answers/A2" in r.url and r.status == 200):
        page.fill("#item-A2 [data-note]", "Giấy phép treo ở phòng khám")
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved")

    # Offline: the tap is kept in localStorage and shown as not yet saved.
    context.set_offline(True)
    page.locator("#item-A3 button[data-value=not_met]").tap()
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "offline")
    stored = page.evaluate("Object.keys(localStorage).map(k => localStorage.getItem(k))")
    assert any('"A3"' in s for s in stored)
    page.screenshot(path="/tmp/e2e_shots/offline.png")
    context.set_offline(False)
    # Tablets announce the network coming back; the emulation does not, so announce it here.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved", timeout=20000)
    assert page.evaluate("Object.keys(localStorage).length") == 0

    # A reload shows every saved answer and note, drawn by the server.
    page.reload()
    assert page.locator("#item-A2 button[data-value=met]").get_attribute("aria-pressed") == "true"
    assert page.locator("#item-A3 button[data-value=not_met]").get_attribute("aria-pressed") == "true"
    assert page.locator("#item-A2 [data-note]").input_value() == "Giấy phép treo ở phòng khám"


def test_unsent_change_is_resent_after_reload(live_server, context) -> None:
    app = live_server.app
    ids = fx.build_world(app)
    inspection_id = fx.start(app, ids["tyt"], ids["sup"])
    page = context.new_page()
    _login(page, live_server.url, "giamsat1")
    url = f"{live_server.url}/inspections/{inspection_id}/form?lang=en"
    page.goto(url)
    # Simulate a tab closed before the request left: the queue is only in localStorage.
    key = page.evaluate("'qa-inspection:v1:' + document.getElementById('inspection').dataset.userId + ':' + "
                        "document.getElementById('inspection').dataset.inspectionId")
    page.evaluate("([k, v]) => localStorage.setItem(k, v)",
                  [key, json.dumps({"pending": {"A6": {"value": "met", "note": "để lại", "base": 0, "seq": 1}}})])
    with page.expect_response(lambda r: "/answers/A6" in r.url and r.status == 200):
        page.reload()
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved")
    page.reload()
    assert page.locator("#item-A6 button[data-value=met]").get_attribute("aria-pressed") == "true"
    assert page.locator("#item-A6 [data-note]").input_value() == "để lại"


def test_conflict_shows_both_answers_and_use_mine_wins(live_server, browser, tablet) -> None:
    app = live_server.app
    ids = fx.build_world(app)
    inspection_id = fx.start(app, ids["tyt"], ids["sup"])
    url = f"{live_server.url}/inspections/{inspection_id}/form?lang=en"
    first = browser.new_context(**tablet)
    second = browser.new_context(**tablet)
    try:
        a = first.new_page()
        b = second.new_page()
        _login(a, live_server.url, "giamsat1")
        _login(b, live_server.url, "giamsat1b")
        a.goto(url)
        b.goto(url)
        with a.expect_response(lambda r: "/answers/A6" in r.url and r.status == 200):
            a.locator("#item-A6 button[data-value=met]").tap()
        with b.expect_response(lambda r: "/answers/A6" in r.url and r.status == 409):
            b.locator("#item-A6 button[data-value=not_met]").tap()
        conflict = b.locator("#item-A6 [data-conflict]")
        conflict.wait_for(state="visible")
        assert "Nguyễn Văn An" in conflict.inner_text()
        assert "Met" in conflict.inner_text()
        assert b.locator("[data-save-status]").get_attribute("data-state") == "conflict"
        b.screenshot(path="/tmp/e2e_shots/conflict.png")
        with b.expect_response(lambda r: "/answers/A6" in r.url and r.status == 200):
            conflict.get_by_role("button", name="Use mine").tap()
        expect(b.locator("[data-save-status]")).to_have_attribute("data-state", "saved")
        a.reload()
        assert a.locator("#item-A6 button[data-value=not_met]").get_attribute("aria-pressed") == "true"
    finally:
        first.close()
        second.close()


def test_photo_is_resized_on_the_tablet_and_uploaded(live_server, context, tmp_path) -> None:
    app = live_server.app
    ids = fx.build_world(app)
    inspection_id = fx.start(app, ids["tyt"], ids["sup"])
    photo = tmp_path / "big.jpg"
    photo.write_bytes(fx.jpeg_bytes(3200, 2400))
    page = context.new_page()
    _login(page, live_server.url, "giamsat1")
    page.goto(f"{live_server.url}/inspections/{inspection_id}/form?lang=en")
    uploads = []
    page.on("request", lambda r: uploads.append(r) if r.url.endswith("/photos") and r.method == "POST" else None)
    with page.expect_response(lambda r: r.url.endswith("/photos") and r.status == 201):
        page.set_input_files("#item-A3 [data-photo-input]", str(photo))
    page.locator("#item-A3 [data-photos] img").wait_for()
    # Resized before upload: the multipart body is smaller than the camera file.
    assert uploads[0].sizes()["requestBodySize"] < len(photo.read_bytes())
    with app.app_context():
        from qa_app.extensions import db
        from qa_app.inspections.models import Photo
        stored = db.session.scalars(db.select(Photo)).one()
        assert max(stored.width, stored.height) == 1600
    page.once("dialog", lambda d: d.accept())
    with page.expect_response(lambda r: "/api/v1/photos/" in r.url and r.status == 200):
        page.locator("#item-A3 .photo-del").click()
    expect(page.locator("#item-A3 [data-photos] li")).to_have_count(0)
