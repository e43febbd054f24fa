"""A "not observed" answer in a real browser: the inspection is filed as "not assessable" (re-visit needed).

The supervisor starts the inspection on the start page and taps the answers on the tablet form, including
"Không quan sát được" for the procedure nobody came for, then finishes on the finish page: it shows the
outcome before anyone signs, the team is named, the head of the team and the facility's representative draw
their signatures and the supervisor submits. The reviewer sees the result on the review page, approves it,
downloads the minutes, which say so, and the compliance dashboard lists the station with its own status.
"""

from __future__ import annotations

import io
import time
import unicodedata
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from qa_app.extensions import db

from .. import factories as f
from .. import inspection_fixtures as fx
from .test_full_inspection import _draw_with_pen, _submit_finish

SUPERVISOR = ("giamsat1", "Nguyễn Văn An")
REVIEWER = ("thamdinh1", "Đỗ Thu Hà")
FACILITY_REP = "Phạm Thị Dung"
# A routine checklist with one observation that may be "not observed"; effective after fp-quality v1, so it is
# the one routine supervision uses for the station in this test.
CHECKLIST = """\
schema: 1
code: observed
version: 1
status: published
title: {vi: "Bảng kiểm quan sát thủ thuật", en: "Procedure observation checklist"}
effective_from: 2022-01-01
facility_types: [TYT]
scoring: {overall: pooled, meets_min: 90, conditional_min: 80, section_min: 50, validity_months: 24,
          corrective_days: 30}
sections:
  - id: R
    title: {vi: "Sẵn sàng", en: "Readiness"}
    items:
      - {id: R1, text: {vi: "Có bàn khám phụ khoa", en: "Examination table"}}
  - id: O
    title: {vi: "Quan sát thủ thuật", en: "Observed procedure"}
    items:
      - {id: O1, text: {vi: "Rửa tay trước thủ thuật", en: "Hand hygiene"}, allow_not_observed: true}
"""


def _seed(app, tmp_path: Path) -> dict[str, int]:
    from qa_app.checklists.registry import sync_directory

    root = tmp_path / "extra-checklists"
    (root / "observed").mkdir(parents=True)
    (root / "observed" / "v1.yaml").write_text(CHECKLIST, encoding="utf-8")
    with app.app_context():
        sync_directory(root)
        units = f.two_districts()
        ids = {
            "sup": f.user(SUPERVISOR[0], "supervisor", units["d1"], password=fx.PASSWORD, full_name=SUPERVISOR[1]).id,
            "rev": f.user(REVIEWER[0], "reviewer", units["d1"], password=fx.PASSWORD,
                          full_name=REVIEWER[1]).id,
        }
        ids["facility"] = f.facility("TYT-1", "Trạm Y tế xã Bản Giang", units["n1"], units["c1"]).id
        db.session.commit()
    return ids


def _sign_in(page: Page, url: str, username: str, full_name: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", fx.PASSWORD)
    with page.expect_navigation():
        page.locator("form.form button[type=submit]").tap()
    expect(page.locator("header.topbar")).to_contain_text(full_name)


def _saved(app, inspection_id: int, wanted: dict[str, str], timeout: float = 15.0) -> None:
    from qa_app.inspections.models import Answer

    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            found = dict(db.session.execute(sa.select(Answer.item_id, Answer.value)
                                            .where(Answer.inspection_id == inspection_id)).all())
        if found == wanted or time.monotonic() > deadline:
            assert found == wanted
            return
        time.sleep(0.2)


def test_not_assessable_inspection_in_the_browser(live_server, context) -> None:
    app, url = live_server.app, live_server.url
    ids = _seed(app, Path(app.instance_path))
    page = context.new_page()
    page.set_default_timeout(15000)

    # ------------------------------------------------------------------ the supervisor answers on the tablet
    _sign_in(page, url, *SUPERVISOR)
    page.goto(f"{url}/inspections/start?facility_id={ids['facility']}")
    expect(page.locator("[data-programme='routine']")).to_be_visible()
    with page.expect_navigation():
        page.locator("form.start-form button[type=submit]").tap()
    inspection_id = int(page.url.rstrip("/").split("/")[-2])
    met = page.locator("#item-R1 button.ans[data-value='met']")
    met.tap()
    expect(met).to_have_attribute("aria-pressed", "true")
    unobserved = page.locator("#item-O1 button.ans[data-value='not_observed']")
    expect(unobserved).to_have_text("Không quan sát được")
    unobserved.tap()
    expect(unobserved).to_have_attribute("aria-pressed", "true")
    _saved(app, inspection_id, {"R1": "met", "O1": "not_observed"})

    # ------------------------------------------------------------------ finish: outcome, team, signatures
    with page.expect_navigation():
        page.locator(".insp-head a.btn-primary").tap()
    assert page.url.endswith(f"/inspections/{inspection_id}/finish")
    # The outcome is on the page the facility reads before signing.
    expect(page.locator("body")).to_contain_text("Không đánh giá được: cần giám sát lại")
    page.fill("#team-0-full_name", SUPERVISOR[1])
    page.fill("#team-0-position", "Trưởng đoàn")
    expect(page.locator("#team-5-role")).to_have_value("facility_rep")
    page.fill("#team-5-full_name", FACILITY_REP)
    page.locator("#facility_no_opinion").check()
    with page.expect_navigation():
        page.locator("button[name=do][value=save]").first.tap()
    for role, name in (("head", SUPERVISOR[1]), ("facility_rep", FACILITY_REP)):
        pad = page.locator(f"[data-sigpad][data-role={role}]")
        pad.locator(".sig-name").fill(name)
        _draw_with_pen(page, pad.locator(".sig-canvas"))
        with page.expect_response(lambda r: r.url.endswith("/signatures")) as saved:
            pad.locator(".sig-save").tap()
        assert saved.value.status == 201
        expect(pad.locator(".sig-saved img")).to_be_visible()
    _submit_finish(page)
    context.clear_cookies()  # sign the supervisor out of this browser

    # ------------------------------------------------------------------ the reviewer approves and files it
    _sign_in(page, url, *REVIEWER)
    page.goto(f"{url}/review/inspections/{inspection_id}")
    expect(page.locator("body")).to_contain_text("Không đánh giá được: cần giám sát lại")
    page.locator("[data-approve-confirm]").check()
    with page.expect_navigation():
        page.locator("section.decision form[action$='/approve'] button[type=submit]").tap()
    expect(page.locator(".facts .badge-approved")).to_be_visible()
    with page.expect_download() as download_info:
        page.locator("a[href$='/minutes.pdf']").first.tap()
    pdf = Path(download_info.value.path()).read_bytes()
    import pypdf

    text = " ".join(unicodedata.normalize("NFC", " ".join(p.extract_text() or "" for p in
                                                          pypdf.PdfReader(io.BytesIO(pdf)).pages)).split())
    assert "Không đánh giá được (có nội dung không quan sát được), cần giám sát lại" in text

    # ------------------------------------------------------------------ the dashboard shows its own state
    # Today's dashboard: Vietnam's day, the one the inspection is dated by (not the machine's UTC date).
    page.goto(f"{url}/compliance/")
    row = page.locator("table.cmp-failing tr", has_text="Trạm Y tế xã Bản Giang")
    expect(row.locator(".cmp-status")).to_have_class("cmp-status cmp-not_assessable")
    expect(row.locator(".cmp-status")).to_have_text("Không đánh giá được: cần giám sát lại")
