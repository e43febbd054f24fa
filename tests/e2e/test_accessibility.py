"""axe-core on every main page, in a real browser, in both languages: zero violations.

axe-core comes from PyPI (the `axe-playwright-python` package bundles axe.min.js; only the file is used).
It is run through ``page.evaluate``: DevTools evaluation is not subject to the page's Content-Security-Policy,
so the app's strict CSP (no inline script) stays on for the test, as users get it.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources

import pytest
import sqlalchemy as sa

from qa_app.demo.generator import DEMO_PASSWORD, DemoParams, generate
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections.models import Inspection
from qa_app.regions.models import AdminUnit

# A small synthetic data set with every inspection state (drafts, submitted, approved) in the recent window.
SMALL = DemoParams(seed=11, real_province=False, provinces=1, old_provinces=1, districts=2, old_communes=12,
                   communes=5, public_hospitals=1, private_hospitals=0, clinics=3, pharmacies=3,
                   history_from=dt.date(2025, 1, 1), staff_users=True, fast_scoring=True, signatures=True)
# The WCAG 2.1 A/AA rules plus axe's best practices (landmarks, one main, headings in order…).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@cache
def _axe_source() -> str:
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def _violations(page) -> list[str]:
    """axe's violations on the current page, one readable line per failing node."""
    page.evaluate(_axe_source())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
                           "['violations']})", TAGS)
    lines = []
    for violation in result["violations"]:
        for node in violation["nodes"]:
            summary = (node.get("failureSummary") or "").strip().splitlines()
            lines.append(f"{violation['id']} ({violation['impact']}): {node['target']} — "
                         f"{summary[-1].strip() if summary else violation['help']} — {node['html'][:160]}")
    return lines


def _login(page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _pages(app) -> dict[str, str]:
    """The URL of each main page on the small data set."""
    with app.app_context():
        generate(SMALL)
        db.session.commit()
        facility = db.session.scalar(sa.select(Facility.id).join(Inspection)
                                     .where(Inspection.status == "approved").order_by(Facility.id))
        draft = db.session.scalar(sa.select(Inspection.id).where(Inspection.status == "draft").order_by(Inspection.id))
        submitted = db.session.scalar(sa.select(Inspection.id).where(Inspection.status == "submitted")
                                      .order_by(Inspection.id))
        province = db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.system == "2025",
                                                                   AdminUnit.level == "province"))
    # The generator guarantees drafts and submitted inspections in its recent window.
    assert None not in (facility, draft, submitted)
    return {
        "home": "/",
        "facility list": "/facilities/",
        "facility page": f"/facilities/{facility}",
        "start an inspection": "/inspections/start",
        "inspection form": f"/inspections/{draft}/form",
        "finish an inspection": f"/review/inspections/{draft}/finish",
        "review queue": "/review/",
        "review page": f"/review/inspections/{submitted}",
        "compliance dashboard": "/compliance/?date=2026-11-15",
        "province dashboard": f"/compliance/?date=2026-11-15&unit={province}",
        "province plan": f"/compliance/plans/edit?unit={province}",
        "minutes verification": "/verify",
    }


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_main_pages_have_no_axe_violations(live_server, context, lang: str) -> None:
    pages = _pages(live_server.app)
    page = context.new_page()
    found: dict[str, list[str]] = {}
    page.goto(f"{live_server.url}/login?lang={lang}")
    found["sign-in"] = _violations(page)
    _login(page, live_server.url, "admin")
    for name, path in pages.items():
        response = page.goto(live_server.url + path + ("&" if "?" in path else "?") + f"lang={lang}")
        assert response is not None, (name, path)
        assert response.status == 200, (name, path)
        page.wait_for_load_state("networkidle")
        found[name] = _violations(page)
    report = "\n".join(f"{name}: {line}" for name, lines in found.items() for line in lines)
    assert not report, "axe-core violations:\n" + report
