"""Offline inspections in a real browser: prepare online, inspect with no network, reopen, sync exactly once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from .. import inspection_fixtures as fx

SHOTS = Path("/tmp/e2e_shots")


def _login(page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", fx.PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _items(app, facility_id: int) -> list:
    """The items the offline bundle holds for the facility today (same rule as the server)."""
    from qa_app.extensions import db
    from qa_app.facilities.models import Facility
    from qa_app.i18n import local_today
    from qa_app.inspections import present

    with app.test_request_context():
        facility = db.session.get(Facility, facility_id)
        preview = present.start_preview(facility, local_today())
        excluded = {i.id for i, _r in preview.excluded}
        return [i for i in preview.checklist.items if i.id not in excluded]


def _open_app(page, url: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type in ("error", "warning") else None)
    page.goto(url + "/offline/?lang=en")
    try:
        page.locator("#offline-app[data-loaded]").wait_for(state="attached")
    except Exception as exc:
        raise AssertionError(f"the offline app did not start: {errors}") from exc


def _shell_cached(page, wanted: bool) -> bool:
    """Whether the service worker's cache comes to hold (or stop holding) the offline page within 30 s.

    Polled inside the page: wait_for_function would evaluate a string, which the CSP forbids.
    """
    return page.evaluate("""async (wanted) => {
        for (let i = 0; i < 150; i++) {
            if (Boolean(await caches.match('/offline/')) === wanted) { return true; }
            await new Promise(resolve => setTimeout(resolve, 200));
        }
        return false;
    }""", wanted)


def _prepare(page, facility_name: str, facility_id: int) -> None:
    page.fill("[data-facility-search]", facility_name)
    page.locator(f"[data-facility-results] [data-prepare='{facility_id}']").click()
    expect(page.locator(f"[data-ready-list] [data-facility-id='{facility_id}'] [data-ready]")).to_be_visible()


def _start(page, facility_id: int) -> str:
    """Start an inspection of a prepared facility; its uuid (made on the tablet)."""
    page.locator(f"[data-ready-list] [data-start='{facility_id}']").click()
    # The inspection view is shown only once the new inspection's hash is the page's location.
    page.locator("[data-view=inspection]").wait_for()
    return page.evaluate("location.hash.slice(4)")


def _answer(page, item, value: str) -> None:
    article = page.locator(f"#item-{item.id}")
    if item.answer_type in ("yes_no_na", "scale"):
        article.locator(f"button[data-value='{value}']").click()
    else:
        article.locator("[data-answer-input]").fill(value)
        article.locator("[data-answer-input]").blur()


def _note(page, item_id: str, text: str) -> None:
    """Write a note on an item: its note and photo controls open on demand (compact form)."""
    extra = page.locator(f"#item-{item_id} [data-extra]")
    if extra.get_attribute("open") is None:
        extra.locator("summary").click()
    page.fill(f"#item-{item_id} [data-note]", text)
    page.locator(f"#item-{item_id} [data-note]").blur()


def _sign(page, role: str, name: str) -> None:
    pad = page.locator(f"[data-sigpad][data-role={role}]")
    pad.locator(".sig-name").fill(name)
    canvas = pad.locator("canvas")
    # In the middle of the screen: scrolled only "into view", its top could lie under the sticky bar.
    canvas.evaluate("c => c.scrollIntoView({block: 'center'})")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 60, steps=6)
    page.mouse.move(box["x"] + 200, box["y"] + 30, steps=6)
    page.mouse.up()
    pad.locator(".sig-save").click()
    expect(pad.locator("[data-sig-preview]")).to_be_visible()


def _status(page):
    return page.locator("[data-sync-status]")


def _server_inspection(app, uuid: str) -> dict:
    from qa_app.extensions import db
    from qa_app.inspections.models import Answer, CorrectiveAction, Inspection, Photo, Signature, TeamMember

    with app.app_context():
        inspection = db.session.scalars(sa.select(Inspection).where(Inspection.uuid == uuid)).one()
        return {
            "count": db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)),
            "status": inspection.status,
            "kind": inspection.kind,
            "answers": {a.item_id: (a.value, a.note) for a in db.session.scalars(
                sa.select(Answer).where(Answer.inspection_id == inspection.id))},
            "team": [(m.role, m.full_name, m.position) for m in db.session.scalars(
                sa.select(TeamMember).where(TeamMember.inspection_id == inspection.id)
                .order_by(TeamMember.position_order))],
            "actions": [(a.item_id, a.action, a.responsible, a.deadline) for a in db.session.scalars(
                sa.select(CorrectiveAction).where(CorrectiveAction.inspection_id == inspection.id))],
            "signatures": sorted((s.role, s.signer_name) for s in db.session.scalars(
                sa.select(Signature).where(Signature.inspection_id == inspection.id))),
            "photos": [(p.item_id, p.width > 0) for p in db.session.scalars(
                sa.select(Photo).where(Photo.inspection_id == inspection.id))],
            "opinion": inspection.facility_opinion,
        }


def test_whole_inspection_offline_survives_reopening_and_syncs_exactly(live_server, context, tmp_path) -> None:
    app = live_server.app
    url = live_server.url
    ids = fx.build_world(app)
    items = _items(app, ids["tyt"])
    failing = items[1]
    assert failing.answer_type == "yes_no_na"
    page = context.new_page()
    _login(page, url, "giamsat1")
    _open_app(page, url)
    # The app itself is kept for offline use (service worker installed, page cached).
    expect(page.locator("[data-sw-state]")).to_have_attribute("data-ready", "true", timeout=20000)
    assert _shell_cached(page, True)
    _prepare(page, "Bản Giang", ids["tyt"])
    page.screenshot(path=str(SHOTS / "offline-home.png"))

    context.set_offline(True)
    uuid = _start(page, ids["tyt"])
    entered: dict[str, tuple[str, str]] = {}
    for item in items:
        value = fx.failing_value(item) if item is failing else fx.passing_value(item)
        _answer(page, item, value)
        entered[item.id] = (value, "")
    first = items[0]
    _note(page, first.id, "Giấy phép treo ở phòng khám")
    entered[first.id] = (entered[first.id][0], "Giấy phép treo ở phòng khám")
    photo = tmp_path / "evidence.jpg"
    photo.write_bytes(fx.jpeg_bytes(2400, 1800))
    page.set_input_files(f"#item-{first.id} [data-photo-input]", str(photo))
    expect(page.locator(f"#item-{first.id} [data-photos] img")).to_have_count(1)
    page.fill("[data-team-field=position][data-index='0']", "Trưởng đoàn")
    page.fill("[data-team-field=full_name][data-index='1']", "Phạm Thị Dung")
    page.click("[data-add-member]")
    page.fill("[data-team-field=full_name][data-index='2']", "Lò Thị Mai")
    action = page.locator(f"[data-action-item={failing.id}]")
    action.locator("[data-action-field=action]").fill("Bổ sung giấy phép còn hạn")
    action.locator("[data-action-field=responsible]").fill("Trưởng trạm")
    deadline = action.locator("[data-action-field=deadline]").input_value()
    page.fill("[data-opinion]", "Cơ sở đồng ý với kết quả")
    _sign(page, "head", "Nguyễn Văn An")
    _sign(page, "facility_rep", "Phạm Thị Dung")
    _sign(page, "member", "Lò Thị Mai")  # every named person signs, the member too
    page.click("[data-submit]")
    expect(page.locator("[data-submit-msg]")).to_contain_text("submitted as soon as")
    # Not sent yet, so it can be taken back, and submitted again.
    page.click("[data-cancel-submit]")
    expect(page.locator(f"#item-{first.id} [data-note]")).to_be_editable()
    page.click("[data-submit]")
    expect(page.locator("[data-submit-msg]")).to_contain_text("submitted as soon as")
    expect(page.locator("[data-insp-status]")).to_contain_text("Waiting to sync")
    assert (page.locator("[data-insp-status]").text_content() or "").count("Waiting to sync") == 1  # said once
    assert int(_status(page).get_attribute("data-changes")) >= len(items)
    page.screenshot(path=str(SHOTS / "offline-inspection.png"), full_page=False)
    with app.app_context():
        from qa_app.extensions import db
        from qa_app.inspections.models import Inspection

        assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0

    # Close the browser tab and open the app again with no network: everything is still there.
    page.close()
    page = context.new_page()
    page.goto(f"{url}/offline/#/i/{uuid}")
    page.locator("#offline-app[data-loaded]").wait_for(state="attached")
    expect(page.locator("[data-insp-title]")).to_have_text("Trạm Y tế xã Bản Giang")
    # Served by the service worker: the network really is off for this page.
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.evaluate("fetch('/api/v1/session').then(() => 'reached', () => 'offline')") == "offline"
    for item in items:
        if item.answer_type in ("yes_no_na", "scale"):
            expect(page.locator(f"#item-{item.id} button[data-value='{entered[item.id][0]}']")).to_have_attribute(
                "aria-pressed", "true")
    expect(page.locator(f"#item-{first.id} [data-note]")).to_have_value("Giấy phép treo ở phòng khám")
    expect(page.locator(f"#item-{first.id} [data-photos] img")).to_have_count(1)
    expect(page.locator("[data-team-field=full_name][data-index='2']")).to_have_value("Lò Thị Mai")
    expect(page.locator("[data-sigpad][data-role=facility_rep] [data-sig-preview]")).to_be_visible()
    expect(_status(page)).to_contain_text("Waiting to sync")

    # Back online: sync, and the server holds exactly what was entered.
    context.set_offline(False)
    page.click("[data-sync-now]")
    expect(_status(page)).to_have_attribute("data-state", "synced", timeout=30000)
    expect(page.locator("[data-insp-status]")).to_have_attribute("data-state", "submitted")
    page.screenshot(path=str(SHOTS / "offline-synced.png"))
    state = _server_inspection(app, uuid)
    assert state["count"] == 1
    assert state["status"] == "submitted"
    assert state["answers"] == entered
    assert state["team"] == [("head", "Nguyễn Văn An", "Trưởng đoàn"), ("facility_rep", "Phạm Thị Dung", ""),
                             ("member", "Lò Thị Mai", "")]
    assert state["actions"] == [(failing.id, "Bổ sung giấy phép còn hạn", "Trưởng trạm",
                                 dt.date.fromisoformat(deadline))]
    assert state["signatures"] == [("facility_rep", "Phạm Thị Dung"), ("head", "Nguyễn Văn An"), ("member", "Lò Thị Mai")]
    assert state["photos"] == [(first.id, True)]
    assert state["opinion"] == "Cơ sở đồng ý với kết quả"
    # Once the server holds everything, the inspection may leave the tablet.
    page.goto(f"{url}/offline/#")
    entry = page.locator(f"[data-inspection-list] [data-uuid='{uuid}']")
    expect(entry.locator("[data-record-status]")).to_have_attribute("data-state", "submitted")
    entry.locator("[data-forget]").click()
    expect(page.locator("[data-inspection-list] [data-uuid]")).to_have_count(0)


def test_connection_cut_mid_sync_is_retried_into_exactly_one_inspection(live_server, browser, tablet) -> None:
    app = live_server.app
    url = live_server.url
    ids = fx.build_world(app)
    items = _items(app, ids["tyt"])[:8]
    # Routing must see the page's requests, so this context keeps service workers out of the way.
    context = browser.new_context(**tablet, service_workers="block")
    try:
        page = context.new_page()
        _login(page, url, "giamsat1")
        _open_app(page, url)
        _prepare(page, "Bản Giang", ids["tyt"])
        context.set_offline(True)
        uuid = _start(page, ids["tyt"])
        for item in items:
            _answer(page, item, fx.passing_value(item))
        context.set_offline(False)

        keys: list[str] = []

        def cut_after_server(route) -> None:
            # The server receives and commits the request; the answer never reaches the tablet.
            keys.append(route.request.headers["idempotency-key"])
            route.fetch()
            route.abort("connectionreset")

        page.route("**/api/v1/sync/inspections", cut_after_server)
        page.click("[data-sync-now]")
        expect(_status(page)).to_contain_text("Waiting to sync", timeout=20000)
        page.unroute("**/api/v1/sync/inspections")
        assert len(keys) == 1
        state = _server_inspection(app, uuid)
        assert state["count"] == 1
        assert len(state["answers"]) == len(items)

        # The tablet does not know it arrived: reopen the page and sync again; the same request is sent.
        page.close()
        page = context.new_page()
        replays: list[tuple[str, str | None]] = []
        page.on("response", lambda r: replays.append((r.request.headers.get("idempotency-key"),
                                                       r.headers.get("idempotent-replayed")))
                if r.url.endswith("/sync/inspections") else None)
        _open_app(page, url)
        expect(_status(page)).to_have_attribute("data-state", "synced", timeout=30000)
        assert replays[0] == (keys[0], "true")
        state = _server_inspection(app, uuid)
        assert state["count"] == 1
        assert state["answers"] == {i.id: (fx.passing_value(i), "") for i in items}
        with app.app_context():
            from qa_app.api.models import SyncRequest
            from qa_app.extensions import db

            assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRequest)) >= 1
            assert db.session.scalar(sa.select(sa.func.count()).where(SyncRequest.key == keys[0])) == 1
    finally:
        context.close()


def test_conflict_with_another_device_shows_both_versions(live_server, browser, tablet) -> None:
    app = live_server.app
    url = live_server.url
    ids = fx.build_world(app)
    context = browser.new_context(**tablet, service_workers="block")
    try:
        page = context.new_page()
        _login(page, url, "giamsat1")
        _open_app(page, url)
        _prepare(page, "Bản Giang", ids["tyt"])
        uuid = _start(page, ids["tyt"])
        page.locator("#item-A2 button[data-value=met]").click()
        page.locator("#item-A3 button[data-value=met]").click()
        page.click("[data-sync-now]")
        expect(_status(page)).to_have_attribute("data-state", "synced", timeout=30000)

        # Another supervisor changes both answers online, on the server.
        with app.app_context():
            from qa_app.auth.models import User
            from qa_app.extensions import db
            from qa_app.inspections import services
            from qa_app.inspections.models import Inspection

            inspection = db.session.scalars(sa.select(Inspection).where(Inspection.uuid == uuid)).one()
            other = db.session.get(User, ids["sup_b"])
            services.save_answer(inspection, "A2", other, value="not_met", note="thiếu giấy phép", base_revision=1)
            services.save_answer(inspection, "A3", other, value="not_met", base_revision=1)
            db.session.commit()

        # Offline on the tablet, the supervisor changes the same answers, then syncs.
        context.set_offline(True)
        _note(page, "A2", "đã xem lại giấy phép")
        page.locator("#item-A3 button[data-value=met]").click()  # unpress
        page.locator("#item-A3 button[data-value=met]").click()  # and press again: a change of the same value
        _note(page, "A3", "đủ")
        context.set_offline(False)
        page.click("[data-sync-now]")
        box = page.locator("[data-insp-problems]")
        expect(box).to_be_visible(timeout=20000)
        expect(page.locator("[data-insp-status]")).to_have_attribute("data-state", "conflict")
        a2 = box.locator("[data-conflict='answer:A2']")
        expect(a2.locator("[data-mine]")).to_contain_text("đã xem lại giấy phép")
        expect(a2.locator("[data-theirs]")).to_contain_text("thiếu giấy phép")
        expect(a2).to_contain_text("Trần Thị Bình")
        page.screenshot(path=str(SHOTS / "offline-conflict.png"))
        # Nothing was written while the conflict is open.
        assert _server_inspection(app, uuid)["answers"]["A2"] == ("not_met", "thiếu giấy phép")

        a2.get_by_role("button", name="Use mine").click()
        box.locator("[data-conflict='answer:A3']").get_by_role("button", name="Keep the server's version").click()
        expect(_status(page)).to_have_attribute("data-state", "synced", timeout=30000)
        state = _server_inspection(app, uuid)
        assert state["answers"]["A2"] == ("met", "đã xem lại giấy phép")
        assert state["answers"]["A3"] == ("not_met", "")
        expect(page.locator("#item-A3 button[data-value=not_met]")).to_have_attribute("aria-pressed", "true")
    finally:
        context.close()


def test_another_user_on_the_same_tablet_does_not_see_the_data(live_server, context) -> None:
    app = live_server.app
    url = live_server.url
    ids = fx.build_world(app)
    page = context.new_page()
    _login(page, url, "giamsat1")
    _open_app(page, url)
    _prepare(page, "Bản Giang", ids["tyt"])
    context.set_offline(True)
    _start(page, ids["tyt"])
    page.locator("#item-A2 button[data-value=met]").click()
    expect(page.locator("[data-insp-status]")).to_contain_text("Waiting to sync")
    assert _shell_cached(page, True)
    context.set_offline(False)
    # Signed out before the change reached the server (session expired, or another user takes the tablet).
    page.evaluate("document.querySelector('form.userbox').submit()")
    page.wait_for_url("**/login**")
    # Signing out dropped the cached page: nobody can open the previous user's page offline.
    assert _shell_cached(page, False)
    _login(page, url, "giamsat1b")
    _open_app(page, url)
    expect(page.locator("[data-inspection-list] [data-uuid]")).to_have_count(0)
    expect(page.locator("[data-ready-list] [data-facility-id]")).to_have_count(0)
    expect(page.locator("[data-other-users]")).to_be_visible()
    # Back as the first user: the kept change is sent, as that user.
    page.evaluate("document.querySelector('form.userbox').submit()")
    page.wait_for_url("**/login**")
    _login(page, url, "giamsat1")
    _open_app(page, url)
    expect(_status(page)).to_have_attribute("data-state", "synced", timeout=30000)
    with app.app_context():
        from qa_app.extensions import db
        from qa_app.inspections.models import Answer

        answer = db.session.scalars(sa.select(Answer)).one()
        assert (answer.item_id, answer.value, answer.updated_by_id) == ("A2", "met", ids["sup"])


def test_expired_session_keeps_the_changes_until_the_same_user_signs_in(live_server, browser, tablet) -> None:
    app = live_server.app
    url = live_server.url
    ids = fx.build_world(app)
    context = browser.new_context(**tablet, service_workers="block")
    try:
        page = context.new_page()
        _login(page, url, "giamsat1")
        _open_app(page, url)
        _prepare(page, "Bản Giang", ids["tyt"])
        context.set_offline(True)
        _start(page, ids["tyt"])
        page.locator("#item-A2 button[data-value=met]").click()
        _note(page, "A2", "hết phiên")
        # The session expires while the tablet is offline.
        context.clear_cookies()
        context.set_offline(False)
        page.click("[data-sync-now]")
        expect(_status(page)).to_have_attribute("data-state", "signedOut", timeout=20000)
        sign_in = page.locator("[data-sign-in]")
        expect(sign_in).to_be_visible()
        with app.app_context():
            from qa_app.extensions import db
            from qa_app.inspections.models import Answer, Inspection

            assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0
        with page.expect_navigation():
            sign_in.click()
        page.fill("#username", "giamsat1")
        page.fill("#password", fx.PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        # Back on the offline app, which sends what it kept.
        page.locator("#offline-app[data-loaded]").wait_for(state="attached")
        expect(_status(page)).to_have_attribute("data-state", "synced", timeout=30000)
        with app.app_context():
            answer = db.session.scalars(sa.select(Answer)).one()
            assert (answer.item_id, answer.value, answer.note, answer.updated_by_id) == ("A2", "met", "hết phiên",
                                                                                        ids["sup"])
    finally:
        context.close()
