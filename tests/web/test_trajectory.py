"""The dashboard's trajectory after the first paint: the page draws the targets and leaves the past years
pending; compliance.trajectory gives the same section with every measured year, for the same area and scope."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from qa_app.compliance.indicators import load_indicators
from qa_app.compliance.report import applicable, summarise
from qa_app.extensions import db
from qa_app.i18n import pct
from tests.compliance_fixtures import AS_OF, Dataset, build_lai_chau
from tests.factories import login

from .test_compliance import _area

DATE = AS_OF.isoformat()


@pytest.fixture
def data(app: Flask) -> Dataset:
    return build_lai_chau(app)


def _table(page: str) -> dict[str, dict[int, tuple[str, str, str]]]:
    """{indicator id: {year: (measured, target, projection)}} of every trajectory table on the page."""
    found: dict[str, dict[int, tuple[str, str, str]]] = {}
    for section in re.findall(r'<section class="cmp-traj">(.*?)</section>', page, re.S):
        ind = re.search(r'<h3 id="traj-([^"]+)"', section).group(1)
        found[ind] = {int(year): cells for year, *cells in re.findall(
            r'<tr><th scope="row">(\d{4})</th><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>', section)}
    return found


def _measured(page: str) -> dict[str, dict[int, str]]:
    """{indicator id: {year: the Measured cell's text}}."""
    return {ind: {year: cells[0] for year, cells in rows.items()} for ind, rows in _table(page).items()}


def test_the_page_leaves_the_past_years_pending_and_the_section_fills_them(
        app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["admin"])
    page = client.get(f"/compliance/?date={DATE}&lang=vi").get_data(as_text=True)
    pending = _measured(page)
    assert 'aria-busy="true"' in page
    assert f'data-src="/compliance/trajectory?date={DATE}"' in page
    assert "Đang tính số liệu các năm trước…" in page
    # Without scripts, the link reloads the page with the values.
    assert f'href="/compliance/?full=1&amp;date={DATE}#trajectory"' in page

    fragment = client.get(f"/compliance/trajectory?date={DATE}&lang=vi")
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert "<html" not in text
    assert "<script" not in text
    loaded = _measured(text)

    with app.app_context():
        area = _area(app, data)
        expected = {s.indicator.id: dict(s.trajectory) for s in summarise(area, applicable(load_indicators(), area))}
    # The same sections and the same years (the same size: nothing below moves), past years pending then measured.
    assert {k: sorted(v) for k, v in loaded.items()} == {k: sorted(v) for k, v in pending.items()}
    assert set(loaded) == set(expected)
    for ind, years in loaded.items():
        for year, cell in years.items():
            if year < AS_OF.year:
                assert pending[ind][year] == "…"
                assert cell.replace(",", ".") == pct(expected[ind][year]), (ind, year)  # Vietnamese decimal comma
            else:
                assert cell == pending[ind][year]  # this year and the years to come: known at once
    # Every other cell is either the same both ways or pending first: the targets of 2021-2024 lie on the
    # line from the 2021 baseline, measured with the past years; the projection needs them too.
    full, first = _table(text), _table(page)
    for ind, rows in full.items():
        for year, cells in rows.items():
            for before, after in zip(first[ind][year], cells, strict=True):
                assert before in (after, "…"), (ind, year, before, after)
    main = full["facilities_meeting_standard"]
    assert [first["facilities_meeting_standard"][y][1] for y in (2022, 2025, 2030)] == ["…", "75,0%", "90,0%"]
    assert main[2022][1] not in ("…", "—")
    assert main[2030][2] not in ("…", "—", "")  # projected from the measured years
    # A past year with a result: F2 met the standard from May 2023 (valid two years).
    assert loaded["facilities_meeting_standard"][2023] not in ("…", "—")


def test_without_scripts_the_page_shows_the_measured_values_itself(
        app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["admin"])
    inline = client.get(f"/compliance/?date={DATE}&full=1").get_data(as_text=True)
    fragment = client.get(f"/compliance/trajectory?date={DATE}").get_data(as_text=True)
    assert "aria-busy" not in inline
    assert "dashboard.js" not in inline
    assert _measured(inline) == _measured(fragment)
    assert "<polyline class=\"actual\"" in inline


def test_the_section_keeps_the_dashboard_scope(app: Flask, client: FlaskClient, data: Dataset) -> None:
    """Another province's unit is refused as on the dashboard; the user's own area is the default."""
    login(client, data.users["reviewer1"])
    own = client.get(f"/compliance/trajectory?date={DATE}")
    assert own.status_code == 200
    with app.app_context():
        from qa_app.auth.models import User

        scope = db.session.get(User, data.users["reviewer1"]).scope_unit_id
    outside = next(uid for uid in data.units.values() if uid != scope and uid not in _children(app, scope))
    dashboard = client.get(f"/compliance/?date={DATE}&unit={outside}")
    section = client.get(f"/compliance/trajectory?date={DATE}&unit={outside}")
    assert dashboard.status_code in (403, 404)
    assert section.status_code == dashboard.status_code
    assert app.test_client().get(f"/compliance/trajectory?date={DATE}").status_code in (302, 401)  # signed out


def _children(app: Flask, unit_id: int | None) -> set[int]:
    from qa_app.regions.models import AdminUnit

    with app.app_context():
        found: set[int] = set()
        frontier = [unit_id]
        while frontier:
            rows = db.session.query(AdminUnit.id).filter(AdminUnit.parent_id.in_(frontier)).all()
            frontier = [r.id for r in rows if r.id not in found]
            found.update(frontier)
        return found


def test_the_first_paint_measures_no_past_year_unless_a_target_needs_it(
        app: Flask, client: FlaskClient, data: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's statement asks for no year-end day, except a measured baseline that this year's target
    is drawn from (2023: on the line from the end of 2021 to 2025's 75 %); the section asks for every past year."""
    import qa_app.compliance.report as report

    asked: list[tuple] = []
    real = report.area_overview

    def spy(area, indicators, groups=("all",), days=()):  # noqa: ANN001, ANN202
        asked.append(tuple(days))
        return real(area, indicators, groups=groups, days=days)

    monkeypatch.setattr(report, "area_overview", spy)
    login(client, data.users["admin"])
    client.get(f"/compliance/?date={DATE}")
    assert asked[-1] == ()  # 2026: between the 2025 and 2030 targets, whatever 2021 measured
    client.get(f"/compliance/trajectory?date={DATE}")
    assert {day.year for day in asked[-1]} == set(range(AS_OF.year - 5, AS_OF.year))  # 2021 is the baseline too
    page = client.get("/compliance/?date=2023-06-30&lang=en").get_data(as_text=True)
    assert [day.isoformat() for day in asked[-1]] == ["2021-12-31"]
    with app.app_context():
        area = _area(app, data, day=dt.date(2023, 6, 30))
        (summary,) = [s for s in summarise(area, applicable(load_indicators(), area))
                      if s.indicator.id == "facilities_meeting_standard"]
    # Without the measured baseline there would be no 2023 target at all (the line would start in 2025).
    assert summary.indicator.target(2023, None) is None
    assert summary.target_now is not None
    assert pct(summary.target_now) in page
