"""A whole inspection in a real browser on a 10-inch tablet with touch, from sign-in to the approved minutes.

The supervisor signs in, starts an external inspection from the facility page, answers every applicable item
by tapping, adds a note and a photo, reloads midway, finishes (corrective actions, team, signatures drawn on
the pads, facility opinion) and submits; the district reviewer returns it with a comment, the supervisor
corrects and resubmits, the reviewer approves and downloads the signed minutes. The database is checked at
the end against what was tapped. Selectors are language-neutral: the pages stay in Vietnamese, as in use.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import sqlalchemy as sa
from flask_babel import force_locale
from playwright.sync_api import Locator, Page, expect

from qa_app.extensions import db

from .. import factories as f
from .. import inspection_fixtures as fx

SUPERVISOR = ("giamsat1", "Nguyễn Văn An")
REVIEWER = ("thamdinh1", "Đỗ Thu Hà")
FACILITY = "Trạm Y tế xã Bản Giang"
# Answers that fail (neither critical for this station): two yes/no items and one graded item.
NOT_MET = ("A3", "E2")
LOW_LEVEL = {"G3": "1"}
# The reviewer asks about E2 and the supervisor corrects it to "met" before resubmitting.
CORRECTED = "E2"
NOTE = "Giấy phép hết hạn 03/2026, chưa gia hạn"
OPINION = "Trạm đồng ý với kết quả và cam kết khắc phục trong 30 ngày."
RETURN_COMMENT = "Mục E2: kiểm tra lại sổ theo dõi, có vẻ đã đạt."
SECRETARY = "Lò Thị Thư"
DECISION = ("25/QĐ-SYT", "2026-01-15", "Sở Y tế tỉnh Lai Châu")
STRENGTHS = "Trạm sạch sẽ, tư vấn khách hàng chu đáo."


def _seed(app) -> dict[str, int]:
    """A district with the station, its supervisor and the district reviewer (plus a neighbour district)."""
    with app.app_context():
        units = f.two_districts()
        ids = {
            "sup": f.user(SUPERVISOR[0], "supervisor", units["d1"], password=fx.PASSWORD, full_name=SUPERVISOR[1]).id,
            "rev": f.user(REVIEWER[0], "reviewer", units["d1"], password=fx.PASSWORD,
                          full_name=REVIEWER[1]).id,
            "other_rev": f.user("thamdinh2", "reviewer", units["d2"], password=fx.PASSWORD).id,
        }
        # Offers pills, condoms, injectables and IUDs; not implants or sterilisation (those items are left out).
        facility = f.facility("TYT-1", FACILITY, units["n1"], units["c1"])
        facility.head_name = "Phạm Thị Dung"
        ids["facility"] = facility.id
        db.session.commit()
    return ids


def _touch_target(locator: Locator) -> None:
    """A control a finger can hit: at least 44×44 CSS pixels (WCAG 2.5.5, Apple and Android guidance)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None, "control not rendered"
    assert box["height"] >= 44, f"touch target too low: {box}"
    assert box["width"] >= 44, f"touch target too narrow: {box}"


def _sign_in(page: Page, url: str, username: str, full_name: str) -> None:
    page.goto(url + "/login")
    page.locator("#username").tap()
    page.fill("#username", username)
    page.fill("#password", fx.PASSWORD)
    submit = page.locator("form.form button[type=submit]")
    _touch_target(submit)
    with page.expect_navigation():
        submit.tap()
    expect(page.locator("header.topbar")).to_contain_text(full_name)


def _sign_out(page: Page) -> None:
    button = page.locator(".userbox button[type=submit]")
    _touch_target(button)
    with page.expect_navigation():
        button.tap()
    expect(page.locator("#username")).to_be_visible()


def _items(app, inspection_id: int) -> tuple[list[tuple[str, str]], list[str]]:
    """([(item id, answer type)] applicable, [excluded ids]) as the scoring engine sees them."""
    from qa_app.inspections import services
    from qa_app.inspections.models import Inspection
    from qa_app.scoring import applicable_items

    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        rows = applicable_items(services.checklist_for(inspection), services.profile_of(inspection))
        return [(i.id, i.answer_type) for i, ok, _r in rows if ok], [i.id for i, ok, _r in rows if not ok]


def _expected_value(item_id: str, answer_type: str) -> str:
    if answer_type == "yes_no_na":
        return "not_met" if item_id in NOT_MET else "met"
    if answer_type == "scale":
        return LOW_LEVEL.get(item_id, "2")
    if answer_type == "number":
        return "3"
    return "Sổ sách ghi chép đầy đủ"


def _answer(page: Page, item_id: str, answer_type: str) -> None:
    """Answer one item the way a supervisor does: a tap on a button, or a tap into the field and typing."""
    item = page.locator(f"#item-{item_id}")
    value = _expected_value(item_id, answer_type)
    if answer_type in ("yes_no_na", "scale"):
        button = item.locator(f"button.ans[data-value='{value}']")
        button.tap()
        # Shown at once, before the server answers.
        expect(button).to_have_attribute("aria-pressed", "true")
    else:
        field = item.locator("[data-answer-input]")
        field.tap()
        field.fill(value)
        # Leaving the field sends it without waiting for the typing pause.
        field.blur()


def _draw_with_finger(page: Page, canvas: Locator) -> None:
    """Two strokes with a touch pointer, as Chromium produces them from a finger (CDP touch events).

    The events carry timestamps 16 ms apart and each stroke rests a moment before the finger lifts, as a real
    one does: without the rest Chromium sees the finger lift at full speed (a fling) and swallows the next tap,
    the one on "Save signature".
    """
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    cdp = page.context.new_cdp_session(page)
    # Timestamps lie in the recent past: one in the future would make Chromium misorder the next tap.
    clock = time.time() - 1.0

    def send(kind: str, points: list[dict[str, float]]) -> None:
        nonlocal clock
        clock += 0.016
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points, "timestamp": clock})

    try:
        for stroke in (((0.1, 0.6), (0.2, 0.3), (0.3, 0.7), (0.4, 0.35)), ((0.5, 0.5), (0.7, 0.4), (0.9, 0.6))):
            points = [{"x": box["x"] + x * box["width"], "y": box["y"] + y * box["height"]} for x, y in stroke]
            send("touchStart", [points[0]])
            # Resting: a finger is never perfectly still, and Chromium drops moves to the same spot.
            rest = [dict(points[-1], x=points[-1]["x"] + 0.2 * (i + 1)) for i in range(3)]
            for point in points[1:] + rest:
                send("touchMove", [point])
            send("touchEnd", [])
    finally:
        cdp.detach()


def _draw_with_pen(page: Page, canvas: Locator) -> None:
    """One stroke with a mouse-type pointer (a stylus on some tablets reports like this)."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 0.15 * box["width"], box["y"] + 0.7 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.3 * box["height"], steps=6)
    page.mouse.move(box["x"] + 0.85 * box["width"], box["y"] + 0.6 * box["height"], steps=6)
    page.mouse.up()


def _strokes(page: Page, role: str) -> list:
    return page.evaluate(f"document.querySelector('[data-sigpad][data-role={role}]').signaturePad.strokes")


def _submit_finish(page: Page) -> None:
    submit = page.locator("button[name=do][value=submit]")
    _touch_target(submit)
    with page.expect_navigation():
        submit.tap()
    expect(page.locator(".badge-submitted").first).to_be_visible()


def test_whole_inspection_on_a_tablet(live_server, context, tmp_path: Path) -> None:
    app = live_server.app
    url = live_server.url
    ids = _seed(app)
    shots = tmp_path / "shots"
    shots.mkdir()
    photo = tmp_path / "giay-phep.jpg"
    photo.write_bytes(fx.jpeg_bytes(2000, 1500))
    page = context.new_page()
    page.set_default_timeout(15000)

    # ------------------------------------------------------------------ the supervisor starts at the facility
    _sign_in(page, url, *SUPERVISOR)
    assert page.locator("html").get_attribute("lang") == "vi"
    page.goto(f"{url}/facilities/{ids['facility']}")
    start = page.locator("form.start-form")
    start.locator("select[name=kind]").select_option("external")
    _touch_target(start.locator("button[type=submit]"))
    with page.expect_navigation():
        start.locator("button[type=submit]").tap()
    match = re.search(r"/inspections/(\d+)/form", page.url)
    assert match, page.url
    inspection_id = int(match.group(1))
    applicable, excluded = _items(app, inspection_id)
    assert len(applicable) > 50
    assert "A1" in excluded

    # The form says which checklist version it answers, and lists what is left out and why.
    expect(page.locator(".insp-title")).to_contain_text("fp-quality v1")
    with app.test_request_context(), force_locale("vi"):
        from qa_app.checklists.registry import checklist_of
        from qa_app.inspections import present, services
        from qa_app.inspections.models import Inspection

        inspection = db.session.get_one(Inspection, inspection_id)
        checklist = checklist_of(inspection.checklist_version)
        a1_rule = present.exclusion_reason(checklist.item("A1"), checklist.section("A"),
                                           services.profile_of(inspection))
    assert a1_rule
    a1 = page.locator("#sec-A details.excluded li", has=page.locator("strong", has_text=re.compile(r"^A1$")))
    expect(a1).to_have_count(1)
    page.locator("#sec-A details.excluded summary").tap()
    expect(a1.locator(".rule")).to_have_text(f"— {a1_rule}")
    # Section L (pharmacies only) does not apply to a station at all: listed once, with its items.
    whole = page.locator(".excluded-sections details", has=page.locator("summary strong", has_text=re.compile(r"^L$")))
    expect(whole).to_have_count(1)
    expect(whole.locator("li")).to_have_count(sum(1 for i in excluded if i.startswith("L")))
    total = len(applicable)
    progress = page.locator("[data-progress]").first
    expect(progress).to_have_text(f"0/{total}")
    page.screenshot(path=str(shots / "01-form-top.png"))

    # ------------------------------------------------------------------ first half, by tapping
    half = [row for row in applicable if row[0][0] in "ABCDEF"]
    rest = [row for row in applicable if row[0][0] not in "ABCDEF"]
    first_button = page.locator(f"#item-{half[0][0]} button.ans").first
    _touch_target(first_button)
    for item_id, answer_type in half:
        _answer(page, item_id, answer_type)
    status = page.locator("[data-save-status]")
    # The counter comes from the server's score: it reaches the count only once every answer is stored.
    expect(progress).to_have_text(f"{len(half)}/{total}")
    expect(status).to_have_attribute("data-state", "saved")
    expect(page.locator("[data-section-progress=A]").first).to_have_text(
        f"{sum(1 for i, _t in half if i[0] == 'A')}/{sum(1 for i, _t in applicable if i[0] == 'A')}")

    # A note and a photo on a failed item.
    # Folded away until needed (a compact form); one tap opens the item's note and photos.
    expect(page.locator("#item-A3 [data-note]")).to_be_hidden()
    page.locator("#item-A3 [data-extra] > summary").tap()
    note = page.locator("#item-A3 [data-note]")
    note.tap()
    note.fill(NOTE)
    note.blur()
    photo_add = page.locator("#item-A3 .photo-add")
    _touch_target(photo_add)
    with page.expect_response(lambda r: r.url.endswith("/photos") and r.request.method == "POST") as upload:
        page.set_input_files("#item-A3 [data-photo-input]", str(photo))
    assert upload.value.status == 201
    expect(page.locator("#item-A3 [data-photos] li img")).to_have_count(1)
    expect(status).to_have_attribute("data-state", "saved")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('qa-inspection:')).length") == 0
    page.locator("#item-A3").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "02-item-note-photo.png"))

    # ------------------------------------------------------------------ a reload shows what the server holds
    page.reload()
    expect(progress).to_have_text(f"{len(half)}/{total}")
    for item_id, answer_type in half:
        if answer_type in ("yes_no_na", "scale"):
            expect(page.locator(f"#item-{item_id} button.ans[aria-pressed=true]")).to_have_attribute(
                "data-value", _expected_value(item_id, answer_type))
        else:
            expect(page.locator(f"#item-{item_id} [data-answer-input]")).to_have_value(
                _expected_value(item_id, answer_type))
    expect(page.locator("#item-A3 [data-note]")).to_have_value(NOTE)
    # A failed item is marked as failed, not as merely answered, also after the reload.
    expect(page.locator("#item-A3")).to_have_class(re.compile(r"\bis-failed\b"))
    expect(page.locator("#item-A4")).not_to_have_class(re.compile(r"\bis-failed\b"))
    thumb = page.locator("#item-A3 [data-photos] li[data-photo] img")
    expect(thumb).to_have_count(1)
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")

    # ------------------------------------------------------------------ second half
    for item_id, answer_type in rest:
        _answer(page, item_id, answer_type)
    expect(progress).to_have_text(f"{total}/{total}")
    expect(status).to_have_attribute("data-state", "saved")
    expect(page.locator("[data-nav]:not(.done)")).to_have_count(0)
    page.locator("#item-G3").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "03-graded-items.png"))

    # ------------------------------------------------------------------ finish: actions, team, signatures
    finish_link = page.locator(".insp-head a.btn-primary")
    _touch_target(finish_link)
    with page.expect_navigation():
        finish_link.tap()
    assert page.url.endswith(f"/review/inspections/{inspection_id}/finish")
    failing = sorted((*NOT_MET, *LOW_LEVEL), key=lambda i: (i[0], int(i[1:])))
    rows = page.locator("fieldset.action-row")
    expect(rows).to_have_count(len(failing))
    for index, item_id in enumerate(failing):
        row = rows.nth(index)
        expect(row.locator("legend")).to_contain_text(item_id)
        row.locator("textarea").tap()
        row.locator("textarea").fill(f"Khắc phục mục {item_id} và báo cáo bằng ảnh")
        row.locator("input[name$=responsible]").fill("Phạm Thị Dung, trạm trưởng")
    expect(page.locator("#team-0-role")).to_have_value("head")
    page.fill("#team-0-full_name", SUPERVISOR[1])
    page.fill("#team-0-position", "Trưởng đoàn")
    expect(page.locator("#team-5-role")).to_have_value("facility_rep")
    expect(page.locator("#team-5-full_name")).to_have_value("Phạm Thị Dung")
    # Only the rows in use are shown (the head and the representative); a secretary is added.
    expect(page.locator("#team-rows [data-row]")).to_have_count(2)
    page.locator("[data-add-row]").tap()
    expect(page.locator("#team-rows [data-row]")).to_have_count(3)
    page.select_option("#team-6-role", "secretary")
    page.fill("#team-6-full_name", SECRETARY)
    page.fill("#team-6-position", "Thư ký")
    # The decision establishing the team, the Kết luận (the shortcomings start from the failed items) and the
    # facility's opinion, in the words of its representative.
    for field, value in zip(("#decision_number", "#decision_date", "#decision_issuer"), DECISION, strict=True):
        page.fill(field, value)
    expect(page.locator("#conclusion_shortcomings")).to_contain_text("A3")
    page.fill("#conclusion_strengths", STRENGTHS)
    expect(page.locator("#facility_no_opinion")).not_to_be_checked()
    page.locator("#facility_opinion").tap()
    page.fill("#facility_opinion", OPINION)
    # The page says, before the pads, that a later change voids the signatures.
    expect(page.locator("#sig-warning")).to_be_visible()
    # The record is saved, then read out and signed: a drawn signature covers the content saved when it is made.
    with page.expect_navigation():
        page.locator("button[name=do][value=save]").first.tap()

    # An empty pad (or a single tap on it) is refused before anything is sent.
    signature_posts: list[str] = []
    page.on("request", lambda r: signature_posts.append(r.url) if r.url.endswith("/signatures") else None)
    head = page.locator("[data-sigpad][data-role=head]")
    head.locator(".sig-canvas").tap()
    _touch_target(head.locator(".sig-save"))
    _touch_target(head.locator(".sig-clear"))
    head.locator(".sig-save").tap()
    expect(head.locator(".sig-msg")).to_have_class(re.compile(r"\bis-error\b"))
    expect(head.locator(".sig-msg")).to_have_text(head.get_attribute("data-msg-empty") or "?")
    expect(head.locator(".sig-saved")).to_be_hidden()
    assert signature_posts == []

    head.locator(".sig-name").fill(SUPERVISOR[1])
    _draw_with_finger(page, head.locator(".sig-canvas"))
    assert sum(1 for s in _strokes(page, "head") if len(s) >= 2) == 2
    with page.expect_response(lambda r: r.url.endswith("/signatures")) as saved:
        head.locator(".sig-save").tap()
    assert saved.value.status == 201
    expect(head.locator(".sig-msg")).to_have_class(re.compile(r"\bis-ok\b"))
    expect(head.locator(".sig-saved img")).to_be_visible()

    rep = page.locator("[data-sigpad][data-role=facility_rep]")
    rep.locator(".sig-name").fill("Phạm Thị Dung")
    _draw_with_pen(page, rep.locator(".sig-canvas"))
    with page.expect_response(lambda r: r.url.endswith("/signatures")) as saved:
        rep.locator(".sig-save").tap()
    assert saved.value.status == 201
    expect(rep.locator(".sig-saved img")).to_be_visible()
    # The secretary signs too: every named member does.
    secretary = page.locator("[data-sigpad][data-role=secretary]")
    expect(secretary.locator(".sig-name")).to_have_value(SECRETARY)
    _draw_with_finger(page, secretary.locator(".sig-canvas"))
    with page.expect_response(lambda r: r.url.endswith("/signatures")) as saved:
        secretary.locator(".sig-save").tap()
    assert saved.value.status == 201
    expect(secretary.locator(".sig-saved img")).to_be_visible()
    page.locator("#signatures").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "04-signatures.png"))

    page.screenshot(path=str(shots / "05-finish-full.png"), full_page=True)
    _submit_finish(page)
    assert page.url.endswith(f"/review/inspections/{inspection_id}")
    _sign_out(page)

    # ------------------------------------------------------------------ the reviewer returns it, with a comment
    _sign_in(page, url, *REVIEWER)
    with page.expect_navigation():
        page.locator(".mainnav a[href='/review/']").tap()
    row_link = page.locator(f"table a[href='/review/inspections/{inspection_id}']")
    expect(row_link).to_have_text(FACILITY)
    with page.expect_navigation():
        row_link.tap()
    decision = page.locator("section.decision")
    return_button = decision.locator("form[action$='/return'] button[type=submit]")
    _touch_target(return_button)
    _touch_target(decision.locator("form[action$='/approve'] button[type=submit]"))
    # The comment is mandatory: the browser will not send an empty one, and the server refuses a blank one.
    return_button.tap()
    assert page.locator("#return-comment").evaluate("el => el.validity.valueMissing")
    assert page.url.endswith(f"/review/inspections/{inspection_id}")
    page.fill("#return-comment", "   ")
    with page.expect_navigation():
        return_button.tap()
    expect(page.locator(".flash-error")).to_be_visible()
    expect(page.locator(".facts .badge-submitted")).to_be_visible()

    # A comment on the item in question, then the return.
    page.locator(f"#item-{CORRECTED} details summary").tap()
    page.fill(f"#comment-{CORRECTED}", "Đề nghị xem lại mục này.")
    with page.expect_navigation():
        page.locator(f"#item-{CORRECTED} details button[type=submit]").tap()
    expect(page.locator(f"#item-{CORRECTED} .comment")).to_contain_text("Đề nghị xem lại mục này.")
    page.locator("#return-comment").tap()
    page.fill("#return-comment", RETURN_COMMENT)
    with page.expect_navigation():
        decision.locator("form[action$='/return'] button[type=submit]").tap()
    expect(page.locator(".facts .badge-returned")).to_be_visible()
    page.screenshot(path=str(shots / "06-returned.png"))
    _sign_out(page)

    # ------------------------------------------------------------------ the supervisor corrects and resubmits
    _sign_in(page, url, *SUPERVISOR)
    page.goto(f"{url}/facilities/{ids['facility']}")
    with page.expect_navigation():
        page.locator(f"a[href='/inspections/{inspection_id}']").first.tap()
    assert page.url.endswith(f"/inspections/{inspection_id}/form")
    expect(page.locator(".returned-box .comment-body")).to_have_text(RETURN_COMMENT)
    expect(page.locator(f"#item-{CORRECTED} .reviewer-comment .body")).to_have_text("Đề nghị xem lại mục này.")
    page.screenshot(path=str(shots / "07-returned-form.png"))
    corrected = page.locator(f"#item-{CORRECTED} button.ans[data-value=met]")
    with page.expect_response(lambda r: f"/answers/{CORRECTED}" in r.url) as put:
        corrected.tap()
    assert put.value.status == 200
    expect(status).to_have_attribute("data-state", "saved")
    with page.expect_navigation():
        page.locator(".insp-head a.btn-primary").tap()
    still_failing = [i for i in failing if i != CORRECTED]
    expect(page.locator("fieldset.action-row")).to_have_count(len(still_failing))
    expect(page.locator("fieldset.action-row textarea").first).not_to_have_value("")
    # The answer changed after all three had signed: their signatures are void until they sign the new content.
    expect(page.locator(".checklist li.todo")).to_have_count(3)
    with page.expect_navigation():
        page.locator("button[name=do][value=save]").first.tap()
    for role, draw in (("head", _draw_with_finger), ("secretary", _draw_with_finger),
                       ("facility_rep", _draw_with_pen)):
        pad = page.locator(f"[data-sigpad][data-role={role}]")
        draw(page, pad.locator(".sig-canvas"))
        with page.expect_response(lambda r: r.url.endswith("/signatures")) as saved:
            pad.locator(".sig-save").tap()
        assert saved.value.status == 201
    page.reload()
    expect(page.locator(".checklist li.todo")).to_have_count(0)
    _submit_finish(page)
    # The facility's copy before filing: the visit date in the date line, the end time filled, the content hash.
    record_link = page.locator("a[href$='/record.pdf']")
    with page.expect_download() as record_info:
        record_link.tap()
    record_text = _pdf_text(Path(record_info.value.path()).read_bytes())
    visit_line, content_hash = _visit_facts(app, inspection_id)
    assert visit_line in record_text and "CHỜ VÀO SỔ" in record_text
    assert "… giờ" not in record_text and "giờ …" not in record_text
    assert content_hash in record_text.replace(" ", "")
    _sign_out(page)

    # ------------------------------------------------------------------ the reviewer approves
    _sign_in(page, url, *REVIEWER)
    page.goto(f"{url}/review/")
    with page.expect_navigation():
        page.locator(f"table a[href='/review/inspections/{inspection_id}']").tap()
    # Approval asks for confirmation (it issues the signed minutes); the return box comes before it.
    page.locator("section.decision form[action$='/approve'] button[type=submit]").tap()
    expect(page.locator(".facts .badge-approved")).to_have_count(0)
    page.locator("[data-approve-confirm]").tap()
    with page.expect_navigation():
        page.locator("section.decision form[action$='/approve'] button[type=submit]").tap()
    expect(page.locator(".facts .badge-approved")).to_be_visible()
    # The history tells the whole story, in order.
    history = page.locator("ol.history li")
    expect(history.filter(has_text=RETURN_COMMENT)).to_have_count(1)
    expect(history.filter(has_text=REVIEWER[1])).not_to_have_count(0)
    assert history.count() >= 6  # started, submitted, item comment, returned, changed E2, resubmitted, approved
    page.screenshot(path=str(shots / "08-approved.png"), full_page=True)
    minutes_link = page.locator("a[href$='/minutes.pdf']")
    _touch_target(minutes_link)
    with page.expect_download() as download_info:
        minutes_link.tap()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert download_info.value.suggested_filename.endswith(".pdf")
    # Filed over exactly the content signed at the visit: the same content hash, the same date line.
    filed_text = _pdf_text(pdf)
    assert content_hash in filed_text.replace(" ", "") and visit_line in filed_text

    # ------------------------------------------------------------------ what the database holds
    _check_database(app, inspection_id, applicable)


def _pdf_text(data: bytes) -> str:
    import io
    import unicodedata

    from pypdf import PdfReader

    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def _visit_facts(app, inspection_id: int) -> tuple[str, str]:
    """The Decree 30 date line of the visit and the hash of the content now signed."""
    from qa_app.inspections.models import Inspection
    from qa_app.minutes import content
    from qa_app.minutes.text import d30_date

    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        return d30_date(inspection.inspection_date), content.content_sha256(inspection)


def _check_database(app, inspection_id: int, applicable: list[tuple[str, str]]) -> None:
    from qa_app.audit.models import AuditEntry
    from qa_app.inspections import services
    from qa_app.inspections.models import CorrectiveAction, Inspection, Photo, SectionResult, Signature
    from qa_app.minutes.models import Minutes

    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        assert inspection.status == "approved"
        assert inspection.kind == "external"
        answers = services.answers_of(inspection)
        expected = {item_id: _expected_value(item_id, answer_type) for item_id, answer_type in applicable}
        expected[CORRECTED] = "met"
        got = {item_id: answers[item_id].value for item_id in expected if item_id in answers}
        assert got == expected
        assert set(answers) == set(expected), "answers stored for items that do not apply"
        assert answers["A3"].note == NOTE
        photos = db.session.scalars(sa.select(Photo).where(Photo.inspection_id == inspection_id)).all()
        assert [p.item_id for p in photos] == ["A3"]
        assert {s.role for s in db.session.scalars(sa.select(Signature).where(
            Signature.inspection_id == inspection_id))} == {"head", "secretary", "facility_rep"}
        assert (inspection.team_decision_number, inspection.team_decision_date.isoformat(),
                inspection.team_decision_issuer) == DECISION
        assert inspection.conclusion_strengths == STRENGTHS and "A3" in inspection.conclusion_shortcomings
        assert not inspection.facility_no_opinion
        actions = db.session.scalars(sa.select(CorrectiveAction).where(
            CorrectiveAction.inspection_id == inspection_id)).all()
        assert sorted(a.item_id for a in actions) == sorted(i for i in (*NOT_MET, *LOW_LEVEL) if i != CORRECTED)
        assert inspection.facility_opinion == OPINION
        # Stored scores equal a fresh computation from the stored answers and the pinned checklist.
        score = services.current_score(inspection)
        assert score.complete
        assert inspection.overall_percent is not None
        assert float(inspection.overall_percent) == float(score.overall_percent)
        assert inspection.classification == score.classification
        assert inspection.failed_items == len(score.failed_items) == 2
        assert inspection.critical_failures == 0
        results = db.session.scalars(sa.select(SectionResult).where(
            SectionResult.inspection_id == inspection_id)).all()
        assert {r.section_id for r in results} >= {s.section_id for s in score.sections if s.applicable}
        assert db.session.scalar(sa.select(Minutes).where(Minutes.inspection_id == inspection_id)) is not None
        actions_logged = db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.entity_type == "inspection", AuditEntry.entity_id == str(inspection_id))
            .order_by(AuditEntry.id)).all()
        for action in ("inspection.started", "inspection.submitted", "inspection.returned",
                       "inspection.resubmitted", "inspection.approved"):
            assert action in actions_logged
        # The change after the return voided the three signatures, each recorded in the audit history.
        assert actions_logged.count("signature.voided") == 3
