"""The inspection form's focused mode and touch targets on a Galaxy Tab S4 (10.5-inch), in Vietnamese.

A long visit is done one section at a time with the site's top bar out of the way; every control a finger uses is
at least 44 × 44 CSS pixels, in the normal and the focused mode.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .. import inspection_fixtures as fx
from .. import review_fixtures as rf
from .test_offline import _login
from .test_offline_form import SMALL_TARGETS

SHOTS = Path("/tmp/e2e_shots")
SECTIONS = "section.insp-section[id^='sec-']"


@pytest.fixture
def galaxy(browser, playwright_instance) -> Iterator[object]:
    descriptor = dict(playwright_instance.devices["Galaxy Tab S4"])
    descriptor.pop("default_browser_type", None)
    ctx = browser.new_context(**descriptor, locale="vi-VN", service_workers="block")
    try:
        yield ctx
    finally:
        ctx.close()


def _visible_sections(page) -> list[str]:
    return page.eval_on_selector_all(SECTIONS, "els => els.filter(e => e.getClientRects().length).map(e => e.id)")


def test_focused_mode_shows_one_section_hides_the_top_bar_and_every_target_is_44px(live_server, galaxy) -> None:
    app = live_server.app
    url = live_server.url
    ids = fx.build_world(app)
    inspection_id = rf.start(app, ids["tyt"], ids["sup"], on=dt.date.today())
    page = galaxy.new_page()
    _login(page, url, "giamsat1")
    page.goto(f"{url}/inspections/{inspection_id}/form?lang=vi")
    form = page.locator("#inspection")
    sections = page.eval_on_selector_all(SECTIONS, "els => els.map(e => e.id)")
    assert len(sections) > 3

    # Normal mode: every section, the site's bar, and every control at least 44 × 44 px (the answer buttons too).
    expect(page.locator(".topbar")).to_be_visible()
    assert _visible_sections(page) == sections
    answers = page.locator(f"#{sections[0]} button.ans")
    assert answers.count() >= 2
    for i in range(answers.count()):
        box = answers.nth(i).bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, box
    assert form.evaluate(SMALL_TARGETS) == []

    # Focused mode: one section, no site bar (one button brings it back), previous/next section at its end.
    toggle = page.locator("[data-focus-toggle]")
    expect(toggle).to_have_text("Chế độ tập trung")
    toggle.tap()
    expect(page.locator("html")).to_have_class(re.compile(r"\bfocus-mode\b"))
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".topbar")).to_be_hidden()
    assert _visible_sections(page) == [sections[0]]
    assert form.evaluate(SMALL_TARGETS) == []
    page.screenshot(path=str(SHOTS / "form-focused-vi.png"))
    menu = page.locator("[data-topbar-toggle]")
    expect(menu).to_have_attribute("aria-controls", "topbar")
    expect(page.locator("#topbar")).to_have_class("topbar")
    menu.tap()
    expect(page.locator(".topbar")).to_be_visible()
    menu.tap()
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator(f"#{sections[0]} [data-focus-step='-1']")).to_be_disabled()
    page.locator(f"#{sections[0]} [data-focus-step='1']").tap()
    assert _visible_sections(page) == [sections[1]]
    # The section starts just below the sticky header, not under it.
    head = page.locator(".insp-head").bounding_box()
    title = page.locator(f"#{sections[1]} > h2").bounding_box()
    assert head and title and head["y"] + head["height"] <= title["y"] < head["y"] + head["height"] + 60
    # A section chip switches to its section, and is marked as the current one.
    last = sections[-1].removeprefix("sec-")
    page.locator(f"[data-nav='{last}']").tap()
    assert _visible_sections(page) == [sections[-1]]
    expect(page.locator(f"[data-nav='{last}']")).to_have_attribute("aria-current", "step")
    expect(page.locator(f"#{sections[-1]} [data-focus-step='1']")).to_be_disabled()

    # "Next unanswered" goes to the item after the one just answered, in its section.
    page.locator(f"[data-nav='{sections[0].removeprefix('sec-')}']").tap()
    first_items = page.eval_on_selector_all(f"#{sections[0]} article.item", "els => els.map(e => e.id)")
    page.locator(f"#{first_items[0]} button.ans").first.tap()
    expect(page.locator(f"#{first_items[0]}")).to_have_class(re.compile(r"\bis-answered\b"))
    page.locator("[data-next-unanswered]").tap()
    assert page.evaluate("document.activeElement.closest('article.item').id") == first_items[1]
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved", timeout=30000)

    # "Failed only" and "With a note or comment" hide the other items (of the section shown); "All items" is back.
    page.locator(f"#{first_items[1]} button[data-value='not_met']").tap()
    page.locator(f"#{first_items[2]} [data-extra] > summary").tap()
    page.fill(f"#{first_items[2]} [data-note]", "Sổ sách không đầy đủ")
    visible = f"#{sections[0]} article.item:visible"
    page.locator("[data-filter=failed]").tap()
    expect(page.locator(visible)).to_have_count(1)
    expect(page.locator(f"#{first_items[1]}")).to_be_visible()
    expect(page.locator(f"#{sections[0]} [data-filter-empty]")).to_be_hidden()
    # A section with no failed item says so instead of showing its title over nothing.
    page.locator(f"#{sections[0]} [data-focus-step='1']").tap()
    expect(page.locator(f"#{sections[1]} [data-filter-empty]")).to_have_text("Phần này không có mục nào không đạt.")
    page.locator(f"#{sections[1]} [data-focus-step='-1']").tap()
    page.locator("[data-filter=commented]").tap()
    expect(page.locator(visible)).to_have_count(1)
    expect(page.locator(f"#{first_items[2]}")).to_be_visible()
    expect(page.locator("[data-filter=commented]")).to_have_attribute("aria-pressed", "true")
    page.locator("[data-filter=all]").tap()
    expect(page.locator(visible)).to_have_count(len(first_items))
    expect(page.locator("[data-filter-empty]:visible")).to_have_count(0)
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved", timeout=30000)

    # The choice is kept on the tablet; a link to an item (as from the finishing page) opens its section.
    target = page.eval_on_selector(f"#{sections[-1]} article.item", "e => e.id")
    page.goto(f"{url}/inspections/{inspection_id}/form?lang=vi#{target}")
    expect(page.locator("html")).to_have_class(re.compile(r"\bfocus-mode\b"))
    expect(page.locator(".topbar")).to_be_hidden()
    assert _visible_sections(page) == [sections[-1]]
    expect(page.locator(f"#{target}")).to_be_in_viewport()

    # Leaving focused mode shows the whole form and the site's bar again.
    page.locator("[data-focus-toggle]").tap()
    expect(page.locator(".topbar")).to_be_visible()
    assert _visible_sections(page) == sections
