"""One whole inspection on the tablet, done the way a supervisor does it, counting taps and screens.

`walk()` signs in on a Galaxy Tab S4 profile (Debian's Chromium through Playwright), opens a draft on the
inspection form, answers every applicable item (a few of them failed), goes to the finishing page, writes one
corrective action per failed item, ticks "no opinion", saves, has both signers sign and submits. It returns
what it took:

* **taps**: every touch the supervisor makes: an answer, a button, a tap into a field before typing, a stroke
  on a signature pad (typing itself is not a tap);
* **screens**: one for each page or focused-mode section that replaces what is shown, plus the distance the
  supervisor scrolls to reach each control, in viewport heights (the driver scrolls only as far as needed to
  bring the next control into view, as a thumb does).

It measures; it asserts nothing about the figures (docs/benchmarks.md records them). `scripts/bench.py` runs it
on the benchmark's set; tests/e2e/test_bench_walk.py checks that it completes a real submission.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT_MS = 30_000


@dataclasses.dataclass
class Walk:
    """What one inspection took on the tablet."""

    mode: str
    items: int
    taps: int = 0
    views: int = 0
    scrolled_px: float = 0.0
    viewport_height: int = 0
    failed: int = 0
    status: str = ""
    taps_by_step: dict[str, int] = dataclasses.field(default_factory=dict)
    scrolled_by_step: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def screens(self) -> float:
        """Views plus the scrolled distance in viewport heights."""
        return self.views + self.scrolled_px / max(1, self.viewport_height)


class _Counter:
    """Taps and scrolling of one walk, on one page."""

    def __init__(self, page: Any, walk: Walk) -> None:
        self.page = page
        self.walk = walk
        self.step = "form"

    def _scroll_to(self, locator: Any) -> None:
        before = self.page.evaluate("window.scrollY")
        locator.scroll_into_view_if_needed()
        moved = abs(self.page.evaluate("window.scrollY") - before)
        self.walk.scrolled_px += moved
        self.walk.scrolled_by_step[self.step] = self.walk.scrolled_by_step.get(self.step, 0) + moved

    def tap(self, locator: Any) -> None:
        self._scroll_to(locator)
        locator.tap()
        self.walk.taps += 1
        self.walk.taps_by_step[self.step] = self.walk.taps_by_step.get(self.step, 0) + 1

    def type_into(self, locator: Any, text: str) -> None:
        self.tap(locator)
        locator.fill(text)

    def stroke(self, canvas: Any) -> None:
        """One signature stroke with a pen-like pointer: one touch."""
        self._scroll_to(canvas)
        box = canvas.bounding_box()
        assert box is not None
        mouse = self.page.mouse
        mouse.move(box["x"] + 0.15 * box["width"], box["y"] + 0.7 * box["height"])
        mouse.down()
        mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.3 * box["height"], steps=6)
        mouse.move(box["x"] + 0.85 * box["width"], box["y"] + 0.6 * box["height"], steps=6)
        mouse.up()
        self.walk.taps += 1
        self.walk.taps_by_step[self.step] = self.walk.taps_by_step.get(self.step, 0) + 1

    def new_view(self) -> None:
        self.walk.views += 1


def _answer(counter: _Counter, item: Any, fail: bool) -> None:
    """One item answered with one tap (or a tap into its field and typing): the best answer, or a failure."""
    kind = item.get_attribute("data-type")
    if kind == "yes_no_na":
        counter.tap(item.locator(f"button.ans[data-value={'not_met' if fail else 'met'}]"))
    elif kind in ("scale", "options"):
        buttons = item.locator("button.ans:not(.ans-na):not(.ans-not_observed)")
        low = item.locator("button.ans.ans-low")
        counter.tap(low.first if fail and low.count() else buttons.last if kind == "scale" else
                    item.locator("button.ans-option:not(.ans-low)").first)
    elif kind == "number":
        field = item.locator("[data-answer-input]")
        counter.type_into(field, "3")
        field.blur()
    else:
        field = item.locator("[data-answer-input]")
        counter.type_into(field, "Sổ sách ghi chép đầy đủ")
        field.blur()


def walk(base: str, username: str, password: str, inspection_id: int, *, focused: bool = False,
         failures: int = 3, screenshots: str | None = None) -> Walk:
    """Do the whole inspection ``inspection_id`` (a draft with no answer) as ``username``; see the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            return walk_with(browser, pw.devices["Galaxy Tab S4"], base, username, password, inspection_id,
                             focused=focused, failures=failures, screenshots=screenshots)
        finally:
            browser.close()


def walk_with(browser: Any, device: dict[str, Any], base: str, username: str, password: str, inspection_id: int,
              *, focused: bool = False, failures: int = 3, screenshots: str | None = None) -> Walk:
    """`walk()` in an already running browser, with Playwright's descriptor of the tablet."""
    from playwright.sync_api import expect

    descriptor = dict(device)
    descriptor.pop("default_browser_type", None)
    context = browser.new_context(**descriptor, locale="vi-VN", service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        return _walk(context, expect, base, username, password, inspection_id, focused, failures, screenshots)
    finally:
        context.close()


def _walk(context: Any, expect: Any, base: str, username: str, password: str, inspection_id: int,
          focused: bool, failures: int, screenshots: str | None) -> Walk:
    page = context.new_page()
    page.goto(base + "/login?lang=vi")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.locator("form button[type=submit]").first.click()
    page.goto(f"{base}/inspections/{inspection_id}/form")
    # Focused mode is kept on the tablet; it starts from a known state either way.
    toggle = page.locator("[data-focus-toggle]")
    expect(toggle).to_be_visible()
    if (toggle.get_attribute("aria-pressed") == "true") != focused:
        toggle.click()
    page.evaluate("window.scrollTo(0, 0)")
    items = page.locator("article.item")
    walk_ = Walk(mode="focused" if focused else "normal", items=items.count(),
                 viewport_height=page.evaluate("window.innerHeight"))
    counter = _Counter(page, walk_)
    counter.new_view()  # the form opens

    sections = page.eval_on_selector_all("section.insp-section[id^='sec-']", "els => els.map(e => e.id)")
    done = 0
    for index, section in enumerate(sections):
        for item_index in range(page.locator(f"#{section} article.item").count()):
            item = page.locator(f"#{section} article.item").nth(item_index)
            fail = done < failures and item.get_attribute("data-type") in ("yes_no_na", "scale", "options")
            _answer(counter, item, fail)
            walk_.failed += fail
            done += 1
        if focused and index + 1 < len(sections):
            counter.tap(page.locator(f"#{section} [data-focus-step='1']"))
            counter.new_view()
    expect(page.locator("[data-progress]")).to_have_text(f"{walk_.items}/{walk_.items}")
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved")
    if screenshots:
        page.screenshot(path=f"{screenshots}/walk-{walk_.mode}-form.png")

    counter.step = "finish"
    finish = page.locator(".insp-head a.btn-primary")
    with page.expect_navigation():
        counter.tap(finish)
    counter.new_view()
    rows = page.locator("fieldset.action-row")
    for index in range(rows.count()):
        row = rows.nth(index)
        counter.type_into(row.locator("textarea"), "Bổ sung và báo cáo bằng ảnh")
        for field in ("input[name$=responsible]", "input[name$=deadline]"):
            if not row.locator(field).input_value():
                counter.type_into(row.locator(field), "Trạm trưởng" if "responsible" in field else "2027-01-15")
    for role, name in (("head", "Nguyễn Văn An"), ("facility_rep", "Phạm Thị Dung")):
        # The head of the team comes prefilled with the supervisor, the representative with the facility's head
        # when the register has one; a missing name is typed.
        row = page.locator(f"[data-row]:has(select option[value={role}]:checked)").first
        if not row.locator("input[name$=full_name]").input_value():
            counter.type_into(row.locator("input[name$=full_name]"), name)
    if not page.locator("#facility_opinion").input_value():
        counter.tap(page.locator("#facility_no_opinion"))
    with page.expect_navigation():
        counter.tap(page.locator("button[name=do][value=save]").first)
    counter.new_view()  # the page comes back saved
    _refused(page, "saving the finishing page")

    counter.step = "signatures"
    for role in ("head", "facility_rep"):
        pad = page.locator(f"[data-sigpad][data-role={role}]")
        if not pad.locator(".sig-name").input_value():
            counter.type_into(pad.locator(".sig-name"), "Nguyễn Văn An")
        counter.stroke(pad.locator(".sig-canvas"))
        with page.expect_response(lambda r: r.url.endswith("/signatures")):
            counter.tap(pad.locator(".sig-save"))
        expect(pad.locator(".sig-saved")).to_be_visible()

    counter.step = "submit"
    with page.expect_navigation():
        counter.tap(page.locator("button[name=do][value=submit]"))
    counter.new_view()
    _refused(page, "submitting")
    if screenshots:
        page.screenshot(path=f"{screenshots}/walk-{walk_.mode}-submitted.png")
    walk_.status = page.url
    return walk_


def _refused(page: Any, what: str) -> None:
    """Stop with the page's own messages when it refused what the walk did (a walk that fails says why)."""
    errors = page.locator(".errors li, .field-error").all_inner_texts()
    if errors:
        raise RuntimeError(f"{what} was refused: {errors}")
