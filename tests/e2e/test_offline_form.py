"""The offline form on a Galaxy Tab S4: applicability per facility from one engine, and refusals shown as errors.

The blocker this guards against: preparing a second facility replaced the first one's (filtered) checklist on the
tablet, so the first facility was inspected with the second one's items, "synced", and never reached review.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .. import inspection_fixtures as fx
from .test_accessibility import _violations
from .test_offline import _login, _note, _server_inspection, _sign, _status

SHOTS = Path("/tmp/e2e_shots")


@pytest.fixture
def galaxy(browser, playwright_instance) -> Iterator[object]:
    """Samsung's 10.5-inch tablet profile, in Vietnamese; service workers out of the way of page.route."""
    descriptor = dict(playwright_instance.devices["Galaxy Tab S4"])
    descriptor.pop("default_browser_type", None)
    ctx = browser.new_context(**descriptor, locale="vi-VN", service_workers="block")
    try:
        yield ctx
    finally:
        ctx.close()


def _world(app) -> dict[str, int]:
    """build_world, plus a station that offers implants (QC), which adds items the other station does not have."""
    ids = fx.build_world(app)
    with app.app_context():
        from qa_app.extensions import db
        from qa_app.facilities.models import Facility

        from .. import factories as f

        station = db.session.get(Facility, ids["tyt"])
        implants = f.facility("TYT-3", "Trạm Y tế xã Bình Lư", station.unit, station.legacy_unit,
                              services=("VU", "BCS", "TT", "DCTC", "QC"))
        implants.head_name = "Vàng Thị Sua"
        ids["implants"] = implants.id
        db.session.commit()
    return ids


def _applicable(app, facility_id: int) -> list:
    from .test_offline import _items

    return _items(app, facility_id)


def _open(page, url: str) -> None:
    page.goto(url + "/offline/?lang=vi")
    page.locator("#offline-app[data-loaded]").wait_for(state="attached")


def _prepare(page, name: str, facility_id: int) -> None:
    page.fill("[data-facility-search]", name)
    page.locator(f"[data-facility-results] [data-prepare='{facility_id}']").click()
    expect(page.locator(f"[data-ready-list] [data-facility-id='{facility_id}'] [data-ready]")).to_be_visible()


def _submit_and_sync(page, galaxy, head: str, representative: str) -> None:
    """Both signers sign, Submit (offline), back on the network, Sync now: the server has it submitted."""
    _sign(page, "head", head)
    _sign(page, "facility_rep", representative)
    page.click("[data-submit]")
    galaxy.set_offline(False)
    page.click("[data-sync-now]")
    expect(page.locator("[data-insp-status]")).to_have_attribute("data-state", "submitted", timeout=30000)


def _answer_all(page, items) -> None:
    for item in items:
        article = page.locator(f"[id='item-{item.id}']")  # ids such as M1.1 are not CSS identifiers
        value = fx.passing_value(item)
        if item.answer_type in ("yes_no_na", "scale"):
            article.locator(f"button[data-value='{value}']").click()
        else:
            article.locator("[data-answer-input]").fill(value)
            article.locator("[data-answer-input]").blur()


def _inspect_station(live_server, galaxy, *, offline: bool = False):
    """Signed in as the supervisor, Bản Giang prepared and an inspection of it started (after going offline when
    asked): (app, ids, page)."""
    app = live_server.app
    ids = _world(app)
    page = galaxy.new_page()
    _login(page, live_server.url, "giamsat1")
    _open(page, live_server.url)
    _prepare(page, "Bản Giang", ids["tyt"])
    if offline:
        galaxy.set_offline(True)
    page.locator(f"[data-ready-list] [data-start='{ids['tyt']}']").click()
    page.locator("[data-view=inspection]").wait_for()
    return app, ids, page


def test_two_prepared_facilities_keep_their_own_applicable_items_offline(live_server, galaxy) -> None:
    app = live_server.app
    url = live_server.url
    ids = _world(app)
    with_implants = _applicable(app, ids["implants"])
    without = _applicable(app, ids["tyt"])
    only_implants = {i.id for i in with_implants} - {i.id for i in without}
    assert only_implants, "the implant station must have items the other station does not"

    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    _open(page, url)
    # A (implants) first, then B: B's preparation must not replace A's items.
    _prepare(page, "Bình Lư", ids["implants"])
    _prepare(page, "Bản Giang", ids["tyt"])

    galaxy.set_offline(True)
    expect(page.locator("[data-net]")).to_have_attribute("data-state", "offline")
    page.locator(f"[data-ready-list] [data-start='{ids['implants']}']").click()
    page.locator("[data-view=inspection]").wait_for()
    uuid = page.evaluate("location.hash.slice(4)")
    shown = page.locator("[data-insp-sections] [data-item]")
    expect(shown).to_have_count(len(with_implants))
    assert shown.evaluate_all("els => els.map(e => e.dataset.item)") == [i.id for i in with_implants]
    for item_id in only_implants:
        expect(page.locator(f"#item-{item_id}")).to_be_visible()
    # "Next unanswered" goes to the first item not answered yet; the chips count per section.
    page.click("[data-next-unanswered]")
    expect(page.locator(f"#item-{with_implants[0].id}")).to_be_in_viewport()
    _answer_all(page, with_implants[:-1])
    page.click("[data-next-unanswered]")
    expect(page.locator(f"#item-{with_implants[-1].id}")).to_be_in_viewport()
    _answer_all(page, with_implants[-1:])
    chips = page.locator("[data-chips] [data-goto-section]")
    assert chips.count() >= 2
    expect(chips.first).to_have_class(re.compile("is-done"))
    # "Failed only": one failed item shown, the others hidden (not lost); "All items" brings them back.
    failed = next(i for i in with_implants if i.answer_type == "yes_no_na")
    page.locator(f"#item-{failed.id} button[data-value='not_met']").click()
    page.click("[data-filter=failed]")
    expect(page.locator("[data-insp-sections] [data-item]:visible")).to_have_count(1)
    expect(page.locator(f"#item-{failed.id}")).to_be_visible()
    # The other sections say they have no failed item; the failed item's section does not.
    sections = page.locator("[data-insp-sections] [data-section]")
    expect(page.locator("[data-filter-empty]:visible")).to_have_count(sections.count() - 1)
    expect(page.locator("[data-filter-empty]:visible").first).to_have_text("Phần này không có mục nào không đạt.")
    expect(page.locator(f"[data-section]:has(#item-{failed.id}) [data-filter-empty]")).to_be_hidden()
    page.click("[data-filter=all]")
    expect(page.locator("[data-filter-empty]:visible")).to_have_count(0)
    expect(page.locator("[data-insp-sections] [data-item]:visible")).to_have_count(len(with_implants))
    page.locator(f"#item-{failed.id} button[data-value='met']").click()
    expect(page.locator("[data-insp-progress]")).to_contain_text(f"{len(with_implants)}")
    # The running score and classification, by the same rules as the server's.
    expect(page.locator("[data-insp-score]")).to_have_text("100,0%")
    expect(page.locator("[data-insp-class]")).to_have_text("Đạt chuẩn")
    page.screenshot(path=str(SHOTS / "offline-form-vi.png"))
    _sign(page, "head", "Nguyễn Văn An")
    _sign(page, "facility_rep", "Vàng Thị Sua")
    page.click("[data-submit]")

    # Back on the network but before anything is sent (the sync held back): the supervisor's home lists the
    # inspection kept on this tablet as waiting, never as synced.
    galaxy.route("**/api/v1/sync/**", lambda route: route.abort())
    galaxy.set_offline(False)
    page.goto(url + "/?lang=vi")
    row = page.locator(f"[data-device-list] [data-uuid='{uuid}']")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "draft")
    expect(row).to_contain_text("Chỉ có trên máy tính bảng này · Đang chờ đồng bộ")
    expect(row).to_contain_text("Trạm Y tế xã Bình Lư")
    expect(row.locator("a")).to_have_attribute("href", f"/offline/#/i/{uuid}")
    galaxy.unroute("**/api/v1/sync/**")
    page.goto(url + f"/offline/?lang=vi#/i/{uuid}")
    page.locator("[data-view=inspection]").wait_for()
    page.click("[data-sync-now]")
    expect(page.locator("[data-insp-status]")).to_have_attribute("data-state", "submitted", timeout=30000)
    expect(_status(page)).to_have_attribute("data-state", "synced")
    page.goto(url + "/?lang=vi")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "submitted")
    expect(row).to_contain_text("Đã gửi duyệt")
    state = _server_inspection(app, uuid)
    assert state["status"] == "submitted"
    assert set(state["answers"]) == {i.id for i in with_implants}

    # It reaches the reviewer's queue, with every item.
    reviewer = galaxy.new_page()
    reviewer.context.clear_cookies()
    _login(reviewer, url, "thamdinh1")
    reviewer.goto(url + "/review/")
    expect(reviewer.locator("main")).to_contain_text("Trạm Y tế xã Bình Lư")


def test_a_refused_submission_is_red_at_the_top_with_links_and_never_synced(live_server, galaxy) -> None:
    app = live_server.app
    url = live_server.url
    ids = _world(app)
    items = _applicable(app, ids["tyt"])
    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    _open(page, url)
    _prepare(page, "Bản Giang", ids["tyt"])
    page.locator(f"[data-ready-list] [data-start='{ids['tyt']}']").click()
    page.locator("[data-view=inspection]").wait_for()
    uuid = page.evaluate("location.hash.slice(4)")
    _answer_all(page, items)
    page.fill("[data-team-field=full_name][data-index='1']", "Phạm Thị Dung")
    page.click("[data-sync-now]")
    expect(_status(page)).to_have_attribute("data-state", "synced", timeout=30000)

    # Meanwhile an answer is removed on the server (another device): the tablet does not know.
    removed = items[3].id
    with app.app_context():
        from qa_app.auth.models import User
        from qa_app.extensions import db
        from qa_app.inspections import services
        from qa_app.inspections.models import Answer, Inspection

        inspection = db.session.scalars(sa.select(Inspection).where(Inspection.uuid == uuid)).one()
        answer = db.session.scalars(sa.select(Answer).where(Answer.inspection_id == inspection.id,
                                                            Answer.item_id == removed)).one()
        services.save_answer(inspection, removed, db.session.get(User, ids["sup_b"]), value=None,
                             base_revision=answer.revision)
        db.session.commit()

    _sign(page, "head", "Nguyễn Văn An")
    _sign(page, "facility_rep", "Phạm Thị Dung")
    page.click("[data-submit]")
    box = page.locator("[data-insp-problems]")
    expect(box).to_be_visible(timeout=30000)
    expect(box).to_have_attribute("data-state", "refused")
    expect(box).to_contain_text("Chưa nộp được")
    expect(box).to_contain_text("chưa được trả lời")
    link = box.locator(f"a[data-goto='{removed}']")
    expect(link).to_be_visible()
    # At the top of the form: above the first item.
    assert box.bounding_box()["y"] < page.locator("[data-insp-sections] [data-item]").first.bounding_box()["y"]
    expect(page.locator("[data-insp-status]")).to_have_attribute("data-state", "refused")
    expect(_status(page)).to_have_attribute("data-state", "refused")
    # The answer removed on the server shows as unanswered here too (nothing was waiting for it on the tablet).
    expect(page.locator(f"#item-{removed} button[aria-pressed=true]")).to_have_count(0)
    # The signatures were made over the record before that change: the server took none of them, and the pads
    # ask for them again once the record is read again.
    assert _server_inspection(app, uuid)["signatures"] == []
    for role in ("head", "facility_rep"):
        expect(page.locator(f"[data-sigpad][data-role={role}] .sig-msg")).to_have_text(
            "Hết hiệu lực: nội dung đã thay đổi sau khi ký; đề nghị ký lại.")
    expect(box).to_be_in_viewport()
    assert int(_status(page).get_attribute("data-changes")) >= 1
    page.screenshot(path=str(SHOTS / "offline-refused-vi.png"))
    assert not _violations(page), "axe-core violations on the refused form"
    link.click()
    expect(page.locator(f"#item-{removed}")).to_be_in_viewport()
    # The facility's row says so too.
    page.goto(url + "/offline/?lang=vi#")
    page.locator("#offline-app[data-loaded]").wait_for(state="attached")
    expect(page.locator(f"[data-ready-list] [data-facility-id='{ids['tyt']}'] [data-facility-state]")).to_be_visible()
    expect(page.locator(f"[data-inspection-list] [data-uuid='{uuid}'] [data-record-status]")).to_have_attribute(
        "data-state", "refused")
    assert _server_inspection(app, uuid)["status"] == "draft"
    # The supervisor's home lists it as refused, with the server's reason, never as synced.
    page.goto(url + "/?lang=vi")
    row = page.locator(f"[data-device-list] [data-uuid='{uuid}']")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "refused")
    expect(row).to_contain_text("Máy chủ không chấp nhận")
    expect(row.locator("[data-device-reasons]")).to_contain_text("chưa được trả lời")


def _answers(app, uuid: str) -> dict[str, tuple[str, str, int]]:
    from qa_app.extensions import db
    from qa_app.inspections.models import Answer, Inspection

    with app.app_context():
        inspection = db.session.scalars(sa.select(Inspection).where(Inspection.uuid == uuid)).one()
        return {a.item_id: (a.value, a.note, a.revision) for a in db.session.scalars(
            sa.select(Answer).where(Answer.inspection_id == inspection.id))}


def _uuid_of(app, inspection_id: int) -> str:
    from qa_app.extensions import db
    from qa_app.inspections.models import Inspection

    with app.app_context():
        return db.session.get(Inspection, inspection_id).uuid


def test_a_draft_started_online_is_continued_offline_without_losing_or_repeating_an_answer(live_server,
                                                                                          galaxy) -> None:
    import datetime as dt

    from .. import review_fixtures as rf

    app = live_server.app
    url = live_server.url
    ids = _world(app)
    items = _applicable(app, ids["tyt"])
    inspection_id = rf.start(app, ids["tyt"], ids["sup"], on=dt.date.today())
    uuid = _uuid_of(app, inspection_id)
    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    # Online, on the form: the first five items.
    page.goto(f"{url}/inspections/{inspection_id}/form?lang=vi")
    for item in items[:5]:
        page.locator(f"#item-{item.id} button[data-value='{fx.passing_value(item)}']").click()
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved", timeout=20000)
    assert len(_answers(app, uuid)) == 5

    # Preparing the facility brings the draft onto the tablet.
    _open(page, url)
    _prepare(page, "Bản Giang", ids["tyt"])
    entry = page.locator(f"[data-inspection-list] [data-uuid='{uuid}']")
    expect(entry).to_be_visible()
    galaxy.set_offline(True)
    entry.get_by_role("link").first.click()
    page.locator("[data-view=inspection]").wait_for()
    for item in items[:5]:
        expect(page.locator(f"#item-{item.id} button[data-value='{fx.passing_value(item)}']")).to_have_attribute(
            "aria-pressed", "true")
    _answer_all(page, items[5:])
    page.fill("[data-team-field=full_name][data-index='1']", "Phạm Thị Dung")
    _submit_and_sync(page, galaxy, "Nguyễn Văn An", "Phạm Thị Dung")
    answers = _answers(app, uuid)
    assert set(answers) == {i.id for i in items}
    # The five answered online were not sent again: still their first revision.
    assert all(answers[i.id][2] == 1 for i in items[:5])
    assert _server_inspection(app, uuid)["count"] == 1


def test_a_returned_inspection_is_continued_offline_with_the_reviewers_comments(live_server, galaxy) -> None:
    import datetime as dt

    from .. import review_fixtures as rf

    app = live_server.app
    url = live_server.url
    ids = _world(app)
    items = _applicable(app, ids["tyt"])
    failing = items[1].id
    inspection_id = rf.start(app, ids["tyt"], ids["sup"], on=dt.date.today())
    rf.answer_all(app, inspection_id, ids["sup"], fail=(failing,))
    # A two-person visit: the head and the facility, the two signatures the tablet form collects.
    rf.finish_parts(app, inspection_id, ids["sup"], member=False)
    with app.app_context():
        from qa_app.auth.models import User
        from qa_app.extensions import db
        from qa_app.inspections import services
        from qa_app.inspections.models import Inspection

        inspection = db.session.get(Inspection, inspection_id)
        services.submit(inspection, db.session.get(User, ids["sup"]))
        services.return_inspection(inspection, db.session.get(User, ids["rev"]), "Ghi rõ số lượng thuốc tồn kho",
                                   item_comments={items[0].id: "Thiếu ảnh giấy phép"})
        db.session.commit()
    uuid = _uuid_of(app, inspection_id)
    before = _answers(app, uuid)

    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    _open(page, url)
    _prepare(page, "Bản Giang", ids["tyt"])
    galaxy.set_offline(True)
    page.locator(f"[data-inspection-list] [data-uuid='{uuid}']").get_by_role("link").first.click()
    page.locator("[data-view=inspection]").wait_for()
    expect(page.locator("[data-return-comment]")).to_have_text("Ghi rõ số lượng thuốc tồn kho")
    expect(page.locator(f"#item-{items[0].id} [data-review-comment]")).to_contain_text("Thiếu ảnh giấy phép")
    page.screenshot(path=str(SHOTS / "offline-returned-vi.png"))
    assert not _violations(page), "axe-core violations on the returned form"
    # Compact: notes open on demand.
    expect(page.locator(f"#item-{items[0].id} [data-note]")).to_be_hidden()
    _note(page, items[0].id, "Đã chụp giấy phép")
    # The note changes the record the two drawn signatures covered: both sign again before it is resubmitted.
    _submit_and_sync(page, galaxy, "Nguyễn Văn Giám", "Hoàng Văn Trạm")
    after = _answers(app, uuid)
    assert set(after) == set(before)
    assert after[items[0].id][:2] == (before[items[0].id][0], "Đã chụp giấy phép")
    assert after[items[0].id][2] == before[items[0].id][2] + 1
    assert {k: v for k, v in after.items() if k != items[0].id} == {k: v for k, v in before.items()
                                                                   if k != items[0].id}
    assert _server_inspection(app, uuid)["status"] == "submitted"


def test_the_online_form_keeps_its_running_score_from_the_same_rules_without_a_network(live_server, galaxy) -> None:
    import datetime as dt

    from .. import review_fixtures as rf

    app = live_server.app
    url = live_server.url
    ids = _world(app)
    items = [i for i in _applicable(app, ids["tyt"]) if i.answer_type == "yes_no_na"]
    inspection_id = rf.start(app, ids["tyt"], ids["sup"], on=dt.date.today())
    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    page.goto(f"{url}/inspections/{inspection_id}/form?lang=vi")
    total = len(_applicable(app, ids["tyt"]))
    expect(page.locator("[data-progress]").first).to_have_text(f"0/{total}")
    galaxy.set_offline(True)
    # No server answers now: the header follows the answers waiting on the tablet, by the shared engine.
    page.locator(f"#item-{items[0].id} button[data-value='met']").click()
    page.locator(f"#item-{items[1].id} button[data-value='not_met']").click()
    expect(page.locator("[data-progress]").first).to_have_text(f"2/{total}")
    expect(page.locator("[data-score]")).to_have_text("50,0%")
    expect(page.locator("[data-provisional]")).to_be_visible()
    assert page.locator("#inspection").get_attribute("data-engine") is None
    galaxy.set_offline(False)
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved", timeout=30000)
    expect(page.locator("[data-score]")).to_have_text("50,0%")


SMALL_TEXT = """root => {
    const out = [];
    for (const el of root.querySelectorAll('*')) {
        const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
        const r = el.getBoundingClientRect();
        if (!own || r.width === 0 || r.height === 0) { continue; }
        const size = parseFloat(getComputedStyle(el).fontSize);
        if (size < 15) { out.push(el.tagName + ' ' + size + 'px: ' + el.textContent.trim().slice(0, 40)); }
    }
    return out;
}"""

SMALL_TARGETS = """root => {
    const out = [];
    for (const el of root.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
        // A file input is tapped through the button-like label that holds it.
        const r = (el.type === 'file' && el.closest('label') ? el.closest('label') : el).getBoundingClientRect();
        // Not for people: hidden from assistive technology and out of the tab order (the no-JavaScript Enter key).
        if (r.width === 0 || r.height === 0 || el.closest('[aria-hidden=true]')) { continue; }
        if (r.width < 44 || r.height < 44) { out.push(el.tagName + ' ' + Math.round(r.width) + 'x' + Math.round(r.height) + ': ' + (el.textContent || el.name || el.type).trim().slice(0, 30)); }
    }
    return out;
}"""


def test_high_contrast_mode_has_no_text_under_15px_and_every_target_is_44px(live_server, galaxy) -> None:
    app, ids, page = _inspect_station(live_server, galaxy)
    page.click("[data-contrast-toggle]")
    expect(page.locator("html")).to_have_class(re.compile(r"\bhc\b"))
    form = page.locator("#offline-app")
    assert form.evaluate(SMALL_TEXT) == []
    assert form.evaluate(SMALL_TARGETS) == []
    assert not _violations(page), "axe-core violations in high-contrast mode"
    page.screenshot(path=str(SHOTS / "offline-form-contrast-vi.png"))
    # The choice is kept on the tablet.
    page.reload()
    page.locator("#offline-app[data-loaded]").wait_for(state="attached")
    expect(page.locator("html")).to_have_class(re.compile(r"\bhc\b"))


def test_focused_mode_works_offline_as_online_and_every_target_is_44px(live_server, galaxy) -> None:
    """The offline form moves through the visit with the online form's script (static/js/form-focus.js): one
    section at a time, the site's top bar behind "Menu", the chips and "Next section" switching sections; the
    list of inspections keeps the top bar."""
    _app, _ids, page = _inspect_station(live_server, galaxy, offline=True)
    sections = page.locator("[data-insp-sections] section.insp-section")
    count = sections.count()
    assert count >= 3
    expect(sections.locator(":scope:visible")).to_have_count(count)
    page.click("[data-focus-toggle]")
    expect(page.locator("[data-focus-toggle]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator("[data-insp-sections] section.insp-section:visible")).to_have_count(1)
    first_id = sections.first.get_attribute("data-section")
    expect(page.locator(f"#sec-{first_id}")).to_be_visible()
    assert page.locator("#offline-app").evaluate(SMALL_TARGETS) == []
    page.screenshot(path=str(SHOTS / "offline-focus-vi.png"))
    # "Next section" at the end of the section, then a chip back to the first one.
    page.locator(f"#sec-{first_id} [data-focus-step='1']").click()
    second_id = sections.nth(1).get_attribute("data-section")
    expect(page.locator(f"#sec-{second_id}")).to_be_visible()
    expect(page.locator(f"#sec-{first_id}")).to_be_hidden()
    expect(page.locator(f"[data-chips] [data-nav='{second_id}']")).to_have_attribute("aria-current", "step")
    page.locator(f"[data-chips] [data-nav='{first_id}']").click()
    expect(page.locator(f"#sec-{first_id}")).to_be_visible()
    expect(page.locator(f"#sec-{second_id}")).to_be_hidden()
    # "Menu" brings the top bar back; the list of inspections always has it.
    page.click("[data-topbar-toggle]")
    expect(page.locator(".topbar")).to_be_visible()
    page.click("[data-topbar-toggle]")
    expect(page.locator(".topbar")).to_be_hidden()
    page.click(".oback")
    page.locator("[data-view=home]").wait_for()
    expect(page.locator(".topbar")).to_be_visible()
    expect(page.locator("[data-topbar-toggle]")).to_be_hidden()
    # The mode is kept on the tablet, for the online form as for this one.
    assert page.evaluate("localStorage.getItem('qa-focus')") == "on"


def test_every_member_signs_offline_and_a_change_after_signing_voids_the_signatures(live_server, galaxy) -> None:
    """Offline, the team has a secretary and a member besides the head and the representative: each gets a pad.
    An answer changed after they signed voids every signature on the tablet ("sign again"), so no signature is
    sent over content its signer did not see; signed again, the inspection is submitted and every signature on the
    server covers exactly the content submitted, enough to file."""
    from qa_app.extensions import db
    from qa_app.inspections.models import Inspection, Signature
    from qa_app.minutes.content import content_sha256, signature_problems

    app, ids, page = _inspect_station(live_server, galaxy, offline=True)
    items = _applicable(app, ids["tyt"])
    uuid = page.evaluate("location.hash.slice(4)")
    _answer_all(page, items)
    page.fill("[data-team-field=full_name][data-index='1']", "Vàng Thị Sua")
    for index, (role, name) in enumerate((("secretary", "Lò Văn Bình"), ("member", "Hà Thị Cúc")), start=2):
        page.click("[data-add-member]")
        page.select_option(f"[data-team-field=role][data-index='{index}']", role)
        page.fill(f"[data-team-field=full_name][data-index='{index}']", name)
    pads = page.locator("[data-sig-pads] [data-sigpad]")
    expect(pads).to_have_count(4)
    assert pads.evaluate_all("ps => ps.map(p => p.dataset.role)") == ["head", "facility_rep", "secretary", "member"]
    expect(page.locator("[data-sigpad][data-role=member] [data-sig-title]")).to_have_text("Thành viên: Hà Thị Cúc")
    signers = (("head", "Nguyễn Văn An"), ("facility_rep", "Vàng Thị Sua"), ("secretary", "Lò Văn Bình"),
               ("member", "Hà Thị Cúc"))
    for role, name in signers:
        _sign(page, role, name)
    # The record read out before signing: no finding yet, the four people.
    record = page.locator("[data-record]")
    expect(record).to_contain_text("Không có tiêu chí nào không đạt.")
    expect(record).to_contain_text("Thư ký: Lò Văn Bình")
    # The supervisor changes an answer after the signing: every signature is void on the tablet.
    failed = next(i for i in items if i.answer_type == "yes_no_na")
    page.locator(f"[id='item-{failed.id}'] button[data-value='not_met']").click()
    action = page.locator(f"[data-action-item='{failed.id}']")
    action.locator("[data-action-field=action]").fill("Bổ sung sổ theo dõi")
    action.locator("[data-action-field=responsible]").fill("Trạm trưởng")
    # The record shows the finding with its answer and corrective action.
    expect(record.locator(f"[data-record-item='{failed.id}']")).to_contain_text("Không đạt")
    expect(record.locator(f"[data-record-item='{failed.id}']")).to_contain_text("Bổ sung sổ theo dõi (Trạm trưởng,")
    # The representative has nothing to add: an explicit choice, never an empty box printed as agreement.
    expect(record.locator("[data-record-opinion]")).to_have_text("Chưa ghi ý kiến.")
    page.check("[data-no-opinion]")
    expect(page.locator("[data-opinion]")).to_be_disabled()
    expect(record.locator("[data-record-opinion]")).to_have_text("Cơ sở không có ý kiến")
    for role, _name in signers:
        pad = page.locator(f"[data-sigpad][data-role={role}]")
        expect(pad.locator(".sig-msg")).to_have_text("Hết hiệu lực: nội dung đã thay đổi sau khi ký; đề nghị ký lại.")
        expect(pad.locator("[data-sig-preview]")).to_be_hidden()
    page.click("[data-submit]")
    expect(page.locator("[data-submit-msg]")).to_contain_text("Thư ký")
    expect(page.locator("[data-submit-msg]")).to_contain_text("Thành viên: Hà Thị Cúc")
    page.screenshot(path=str(SHOTS / "offline-signatures-void-vi.png"), full_page=False)
    record.scroll_into_view_if_needed()
    record.screenshot(path=str(SHOTS / "offline-record-vi.png"))
    for role, name in signers:
        _sign(page, role, name)
    page.click("[data-submit]")
    galaxy.set_offline(False)
    page.click("[data-sync-now]")
    expect(page.locator("[data-insp-status]")).to_have_attribute("data-state", "submitted", timeout=30000)
    with app.test_request_context():
        inspection = db.session.scalar(sa.select(Inspection).where(Inspection.uuid == uuid))
        assert inspection.status == "submitted"
        rows = db.session.scalars(sa.select(Signature).where(Signature.inspection_id == inspection.id)).all()
        assert sorted(s.member_key for s in rows) == ["facility_rep", "head", "member", "secretary"]
        assert {s.content_sha256 for s in rows} == {content_sha256(inspection)}
        assert all(s.voided_at is None for s in rows)
        assert (inspection.facility_opinion, inspection.facility_no_opinion) == ("", True)
        assert signature_problems(inspection) == []


CHECKLIST_COPIES = """async (change) => {
    // The checklist versions kept on the tablet: each copy's form_version, after `change` ({strip: true} removes
    // the drawn form, as a tablet prepared before it travelled holds; {version: "x"} marks it drawn by another
    // deployment; null changes nothing).
    const name = (await indexedDB.databases()).map(d => d.name).find(n => n.startsWith("qa-offline:v1:"));
    const db = await new Promise((ok, ko) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => ok(r.result);
        r.onerror = ko;
    });
    const store = mode => db.transaction("checklists", mode).objectStore("checklists");
    const all = await new Promise(ok => { const r = store("readonly").getAll(); r.onsuccess = () => ok(r.result); });
    if (change) {
        const tx = db.transaction("checklists", "readwrite");
        all.forEach(c => {
            if (change.strip) { delete c.forms; }
            if (change.version) { c.forms_version = change.version; }
            tx.objectStore("checklists").put(c);
        });
        await new Promise(ok => { tx.oncomplete = ok; });
    }
    db.close();
    return all.map(c => c.forms_version);
}"""


def test_an_inspection_kept_before_the_form_travelled_gets_it_when_the_network_is_back(live_server, galaxy) -> None:
    """A checklist copy kept without its drawn form: offline, its inspection asks for the facility to be prepared
    again (it cannot say what to draw); back online, the app fetches the form by itself and the visit goes on."""
    app, ids, page = _inspect_station(live_server, galaxy)
    uuid = page.evaluate("location.hash.slice(4)")
    first = _applicable(app, ids["tyt"])[0]
    page.locator(f"[id='item-{first.id}'] button[data-value='met']").click()
    assert len(page.evaluate(CHECKLIST_COPIES, {"strip": True})) >= 1
    # The form cannot be fetched (as offline: this profile blocks the service worker, so the page itself must load).
    page.route("**/offline/form/**", lambda route: route.abort())
    page.reload()
    page.locator("#offline-app[data-loaded]").wait_for(state="attached")
    expect(page.locator("[data-insp-status]")).to_have_attribute("data-state", "unprepared")
    expect(page.locator("[data-insp-sections] article.item")).to_have_count(0)
    page.unroute("**/offline/form/**")
    page.reload()
    page.locator("#offline-app[data-loaded]").wait_for(state="attached")
    expect(page.locator(f"[id='item-{first.id}'] button[data-value='met']")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("location.hash.slice(4)") == uuid
    # Every kept copy is now drawn by this deployment's templates and translations; one drawn by older ones is
    # drawn again when the app opens with a network (a fix to an item's template reaches the tablets).
    current = page.locator("#offline-app").get_attribute("data-form-version")
    assert current
    assert set(page.evaluate(CHECKLIST_COPIES, {"version": "older"})) == {"older"}
    with page.expect_response("**/offline/form/**"):
        page.reload()
    page.locator("#offline-app[data-loaded]").wait_for(state="attached")
    for _ in range(50):
        if set(page.evaluate(CHECKLIST_COPIES, None)) == {current}:
            break
        page.wait_for_timeout(100)
    assert set(page.evaluate(CHECKLIST_COPIES, None)) == {current}


def test_the_online_form_in_high_contrast_mode_has_no_text_under_15px_and_44px_targets(live_server, galaxy) -> None:
    import datetime as dt

    from .. import review_fixtures as rf

    app = live_server.app
    url = live_server.url
    ids = _world(app)
    inspection_id = rf.start(app, ids["tyt"], ids["sup"], on=dt.date.today())
    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    page.goto(f"{url}/inspections/{inspection_id}/form?lang=vi")
    page.click("[data-contrast-toggle]")
    expect(page.locator("html")).to_have_class(re.compile(r"\bhc\b"))
    form = page.locator("#inspection")
    assert form.evaluate(SMALL_TEXT) == []
    assert form.evaluate(SMALL_TARGETS) == []
    assert not _violations(page), "axe-core violations in high-contrast mode"


def _tablet_checklist(app, tmp_path: Path) -> Path:
    """The campaign checklist (counts, "not observed", score groups) registered as the routine one for stations
    (the offline bundle carries the routine one); returns its folder."""
    from qa_app.checklists.registry import sync_directory
    from qa_app.extensions import db

    source = (Path(app.config["CHECKLISTS_DIR"]) / "fp-campaign" / "v1.yaml").read_text(encoding="utf-8")
    folder = tmp_path / "checklists" / "fp-tablet"
    folder.mkdir(parents=True)
    (folder / "v1.yaml").write_text(source.replace("code: fp-campaign", "code: fp-tablet")
                                    .replace("programme: campaign", "programme: routine")
                                    .replace("effective_from: 2025-01-01", "effective_from: 2026-06-01"),
                                    encoding="utf-8")
    with app.app_context():
        sync_directory(tmp_path / "checklists")
        db.session.commit()
    return folder


def test_the_online_form_refuses_a_typed_count_as_the_offline_form_does(live_server, galaxy, tmp_path) -> None:
    """Both forms check a typed answer with the same code and say the same thing: the value is never kept."""
    import datetime as dt

    from .. import review_fixtures as rf

    app = live_server.app
    url = live_server.url
    ids = _world(app)
    _tablet_checklist(app, tmp_path)
    inspection_id = rf.start(app, ids["tyt"], ids["sup"], on=dt.date.today())
    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    page.goto(f"{url}/inspections/{inspection_id}/form?lang=vi")
    count = page.locator("[id='item-M7.1'] [data-answer-input]")
    status = page.locator("[id='item-M7.1'] [data-item-status]")
    count.fill("2,5")
    expect(status).to_have_text("Tiêu chí M7.1 cần nhập số nguyên.")
    expect(count).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[id='item-M7.1']")).to_have_class(re.compile(r"\bis-error\b"))
    count.fill("100001")
    expect(status).to_have_text("Số không được lớn hơn 100000.")
    count.fill("12")
    expect(count).to_have_attribute("aria-invalid", "false")
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved", timeout=30000)
    expect(status).to_have_text("")
    # Only the good value reached the server, once.
    assert _answers(app, _uuid_of(app, inspection_id))["M7.1"][::2] == ("12", 1)
    # Typed key by key, a valid start ("3") of a refused value ("3a") is never sent either, even on leaving the
    # field: the server keeps what it had, and the item says why the typed value is refused.
    count.select_text()
    count.press_sequentially("3a", delay=120)
    expect(count).to_have_attribute("aria-invalid", "true")
    page.locator("h1").first.click()
    page.wait_for_timeout(1500)
    assert _answers(app, _uuid_of(app, inspection_id))["M7.1"][::2] == ("12", 1)
    expect(status).to_have_text("Tiêu chí M7.1 cần nhập một số.")


def test_the_new_answer_kinds_are_shown_checked_and_synced_offline(live_server, galaxy, tmp_path) -> None:
    """A routine checklist with "not observed", score groups and whole-number counts, answered offline: the button is
    there in Vietnamese, a decimal count is refused on the tablet and never saved, the class is "not assessable"
    (the same as the server's), and what syncs is what the supervisor chose."""
    app = live_server.app
    url = live_server.url
    ids = _world(app)
    folder = _tablet_checklist(app, tmp_path)
    items = _applicable(app, ids["tyt"])
    assert "M3.2" in [i.id for i in items], "the station must be inspected with the test checklist"

    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    _open(page, url)
    _prepare(page, "Bản Giang", ids["tyt"])
    galaxy.set_offline(True)
    page.locator(f"[data-ready-list] [data-start='{ids['tyt']}']").click()
    page.locator("[data-view=inspection]").wait_for()
    uuid = page.evaluate("location.hash.slice(4)")
    # The section's instructions above its items.
    expect(page.locator("#sec-M1 [data-section-instructions]")).to_contain_text("Làm việc với trạm trưởng")
    # "Not observed" only where the item allows it.
    expect(page.locator("[id='item-M1.1'] button[data-value='not_observed']")).to_have_count(0)
    unobserved = page.locator("[id='item-M3.2'] button[data-value='not_observed']")
    expect(unobserved).to_have_text("Không quan sát được")
    for item in items:  # ids with a dot: selected by attribute
        article = page.locator(f"[id='item-{item.id}']")
        if item.answer_type in ("yes_no_na", "scale"):
            article.locator(f"button[data-value='{fx.passing_value(item)}']").click()
        elif item.id != "M3.2":
            article.locator("[data-answer-input]").fill(fx.passing_value(item))
    unobserved.click()
    expect(unobserved).to_have_attribute("aria-pressed", "true")
    # A count must be a whole number: refused on the tablet, in Vietnamese, and not kept.
    count = page.locator("[id='item-M7.1'] [data-answer-input]")
    count.fill("2,5")
    error = page.locator("[id='item-M7.1'] [data-item-status]")
    expect(error).to_have_text("Tiêu chí M7.1 cần nhập số nguyên.")
    expect(count).to_have_attribute("aria-invalid", "true")
    count.fill("-1")
    expect(error).to_have_text("Số phải từ 0 trở lên.")
    count.fill("12")
    # The item's line now says the accepted value waits for the sync, as on the online form's "Not yet saved".
    expect(error).to_have_text("Đang chờ đồng bộ")
    expect(count).to_have_attribute("aria-invalid", "false")
    expect(page.locator("[id='item-M7.1']")).not_to_have_class(re.compile(r"\bis-error\b"))
    expect(page.locator("[data-insp-class]")).to_have_text("Không đánh giá được: cần giám sát lại")
    page.screenshot(path=str(SHOTS / "offline-not-observed-vi.png"))
    # Each score group's result, offline, as the online form and the review page show it.
    groups = page.locator("[data-insp-groups]")
    expect(groups).to_be_visible()
    expect(groups.locator("h2")).to_have_text("Kết quả theo nhóm tiêu chí")
    shown_groups = groups.locator("tr[data-group]").evaluate_all(
        "rows => rows.map(r => [r.dataset.group, r.dataset.groupClass])")
    galaxy.set_offline(False)
    page.click("[data-sync-now]")
    for _ in range(60):
        saved = _answers(app, uuid) if _server_has(app, uuid) else {}
        if saved.get("M3.2", (None,))[0] == "not_observed" and saved.get("M7.1", (None,))[0] == "12":
            break
        page.wait_for_timeout(500)
    else:
        raise AssertionError(f"not synced as chosen: {saved}")
    with app.app_context():
        from qa_app.checklists.loader import load_checklist
        from qa_app.extensions import db
        from qa_app.facilities.models import Facility
        from qa_app.scoring import score_inspection

        profile = db.session.get(Facility, ids["tyt"]).profile()
    server = score_inspection(load_checklist(folder / "v1.yaml"), profile, {k: v[0] for k, v in saved.items()})
    assert server.classification == "not_assessable"
    assert len(shown_groups) >= 2
    assert shown_groups == [[g.group_id, g.classification or ("" if g.applicable else "not_applicable")]
                            for g in server.groups]


def _server_has(app, uuid: str) -> bool:
    from qa_app.extensions import db
    from qa_app.inspections.models import Inspection

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Inspection).where(Inspection.uuid == uuid)) > 0


def test_a_campaign_inspection_is_started_and_submitted_offline(live_server, galaxy) -> None:
    """A station has routine supervision and the campaign checklist that day: the tablet keeps both when the
    facility is prepared, and the supervisor starts the campaign visit offline; it reaches the server under the
    campaign programme with exactly the campaign's applicable items."""
    app = live_server.app
    url = live_server.url
    ids = _world(app)
    with app.test_request_context():
        from qa_app.extensions import db
        from qa_app.facilities.models import Facility
        from qa_app.i18n import local_today
        from qa_app.inspections import present

        preview = present.start_preview(db.session.get(Facility, ids["tyt"]), local_today(), programme="campaign")
        assert preview.programme == "campaign" and preview.checklist is not None
        excluded = {i.id for i, _r in preview.excluded}
        campaign = [i for i in preview.checklist.items if i.id not in excluded]
        code = preview.checklist.code
    routine = {i.id for i in _applicable(app, ids["tyt"])}
    assert {i.id for i in campaign} != routine

    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    _open(page, url)
    _prepare(page, "Bản Giang", ids["tyt"])
    galaxy.set_offline(True)
    expect(page.locator("[data-net]")).to_have_attribute("data-state", "offline")
    row = page.locator(f"[data-ready-list] [data-facility-id='{ids['tyt']}']")
    choice = row.locator("[data-programme]")
    expect(choice.locator("option")).to_have_count(2)
    expect(choice.locator("option").first).to_contain_text("Giám sát chất lượng định kỳ")
    # A routine visit first (the first choice), left waiting to sync on the tablet.
    row.locator("[data-start]").click()
    page.locator("[data-view=inspection]").wait_for()
    page.click(".oback")
    page.locator("[data-view=home]").wait_for()
    choice.select_option("campaign")
    # The list is drawn again after every sync attempt (every few seconds offline, with work waiting): the choice
    # made stays made.
    redrawn = row.element_handle()
    page.click("[data-sync-now]")
    page.wait_for_function("el => !el.isConnected", arg=redrawn)
    expect(choice).to_have_value("campaign")
    row.locator("[data-start]").click()
    page.locator("[data-view=inspection]").wait_for()
    uuid = page.evaluate("location.hash.slice(4)")
    expect(page.locator("[data-insp-meta]")).to_contain_text(f"Giám sát chiến dịch · {code}")
    shown = page.locator("[data-insp-sections] [data-item]")
    expect(shown).to_have_count(len(campaign))
    assert shown.evaluate_all("els => els.map(e => e.dataset.item)") == [i.id for i in campaign]
    _answer_all(page, campaign)
    page.fill("[data-team-field=full_name][data-index='1']", "Lò Thị Hoa")  # the register names no head
    _submit_and_sync(page, galaxy, "Nguyễn Văn An", "Lò Thị Hoa")
    state = _server_inspection(app, uuid)
    assert state["status"] == "submitted"
    assert set(state["answers"]) == {i.id for i in campaign}
    with app.app_context():
        from qa_app.extensions import db
        from qa_app.inspections.models import Inspection

        inspection = db.session.scalars(sa.select(Inspection).where(Inspection.uuid == uuid)).one()
        assert inspection.checklist_version.programme == "campaign"
