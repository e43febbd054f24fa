"""SQL statements per request stay a small fixed number, whatever the size of the data.

A behaviour test, not a timing one: the dashboard and the autosave used to run one query per indicator, per
trajectory year and per breakdown (~30), and the autosave re-checked the region and re-read the checklist
three times. Each test counts the statements of the same request on a small and on a larger data set
(more facilities, more units, more inspections) and asserts the count does not grow and stays under a bound.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.compliance.indicators import load_indicators
from qa_app.compliance.overview import area_overview
from qa_app.compliance.queries import GROUPS, Area, indicator_counts
from qa_app.extensions import db
from qa_app.inspections import services
from qa_app.inspections.models import Inspection
from qa_app.regions.models import AdminUnit
from tests import factories
from tests.compliance_fixtures import AS_OF, build_lai_chau, inspect
from tests.factories import login

from .. import inspection_fixtures as fx

# Generous enough for the session, the user, the unit, the checklist rules, the province plans in force, the
# reported population figures and the other unit system's counterpart units; far below one per indicator/year.
DASHBOARD_MAX_STATEMENTS = 18
PUT_MAX_STATEMENTS = 12


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    """Collect every SQL statement sent to the database while the block runs."""
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def _grow(app: Flask, districts: int, per_district: int) -> None:
    """Add districts (pre-2025 units, each with a 2025 commune) and facilities inspected twice in each."""
    with app.app_context():
        old = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.system == "pre2025",
                                                           AdminUnit.level == "province"))
        new = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.system == "2025",
                                                           AdminUnit.level == "province"))
        manager = db.session.scalar(sa.select(User).where(User.username == "manager"))
        for d in range(districts):
            district = factories.unit("pre2025", "district", f"9{d:02d}", f"Huyện Thử {d}", old)
            commune = factories.unit("pre2025", "commune", f"9{d:02d}01", f"Xã Thử {d}", district)
            new_commune = factories.unit("2025", "commune", f"8{d:02d}01", f"Xã Mới {d}", new)
            for i in range(per_district):
                kind = ("TYT", "public") if i % 2 == 0 else ("PK", "non_public")
                facility = factories.facility(f"G{d}-{i}", f"Cơ sở thử {d}-{i}", new_commune, commune,
                                              type_=kind[0], ownership=kind[1])
                inspect(facility, dt.date(2024, 3, 1), "conditional", manager, failed=("B1",))
                inspect(facility, dt.date(2025, 9, 1), "meets" if i % 3 else "does_not_meet", manager,
                        failed=("B2",) if i % 3 == 0 else ())
        db.session.commit()


def _dashboard_statements(app: Flask, client: FlaskClient, query: str, path: str = "/compliance/") -> int:
    with counted(app) as statements:
        response = client.get(f"{path}?date={AS_OF.isoformat()}{query}")
    assert response.status_code == 200
    return len(statements)


# The page, the two sections it fetches after its first paint, and the page with everything drawn in.
PATHS = (("/compliance/", ""), ("/compliance/trajectory", ""), ("/compliance/failing", ""), ("/compliance/", "&full=1"))


def test_dashboard_statements_do_not_grow_with_facilities_and_units(app: Flask, client: FlaskClient) -> None:
    data = build_lai_chau(app)
    login(client, data.users["admin"])
    unit = f"&unit={data.units['old_province']}"
    # The first request also fills the process caches (checklist rules): not what is measured.
    _dashboard_statements(app, client, "")
    queries = [(path, extra + q) for path, extra in PATHS for q in ("", unit, "&system=pre2025")]
    small = {pq: _dashboard_statements(app, client, pq[1], pq[0]) for pq in queries}
    _grow(app, districts=4, per_district=6)
    large = {pq: _dashboard_statements(app, client, pq[1], pq[0]) for pq in queries}
    assert large == small
    assert max(large.values()) <= DASHBOARD_MAX_STATEMENTS


def test_one_statement_overview_gives_the_figures_of_the_separate_queries(app: Flask) -> None:
    """area_overview (the dashboard's single statement) equals indicator_counts per group and per past day."""
    data = build_lai_chau(app)
    _grow(app, districts=2, per_district=5)
    with app.app_context():
        admin = db.session.get(User, data.users["admin"])
        manager = db.session.get(User, data.users["manager"])
        indicators = load_indicators().indicators
        days = (dt.date(2023, 12, 31), dt.date(2024, 12, 31), dt.date(2025, 12, 31))
        areas = [Area(user=admin, day=AS_OF), Area(user=admin, day=AS_OF, system="pre2025"),
                 Area(user=manager, day=AS_OF),
                 Area(user=admin, day=AS_OF, unit=db.session.get(AdminUnit, data.units["old_province"])),
                 Area(user=admin, day=AS_OF, unit=db.session.get(AdminUnit, data.units["d1"]))]
        checked = 0
        for area in areas:
            overview = area_overview(area, indicators, days=days)
            for group in GROUPS:
                assert overview.groups[group] == indicator_counts(area, indicators, group), (area, group)
                checked += len(overview.groups[group])
            for day in days:
                separate = indicator_counts(dataclasses.replace(area, day=day), indicators)[0].counts
                assert overview.days[day] == separate, (area, day)
        # The comparison is not vacuous: facilities were counted, some meeting, in several groups.
        whole = area_overview(areas[0], indicators).groups["all"][0].counts["facilities_meeting_standard"]
        assert whole.total > 10 and 0 < whole.meeting < whole.total and checked > 20


def _put_statements(app: Flask, client: FlaskClient, inspection_id: int, item_id: str, revision: int,
                    value: str) -> tuple[int, dict]:
    with counted(app) as statements:
        response = client.put(f"/api/v1/inspections/{inspection_id}/answers/{item_id}",
                              json={"value": value, "base_revision": revision})
    assert response.status_code == 200, response.get_json()
    return len(statements), response.get_json()


def test_autosave_statements_do_not_grow_with_answers(app: Flask, client: FlaskClient) -> None:
    ids = fx.build_world(app)
    inspection_id = fx.start(app, ids["tyt"], ids["sup"])
    applicable, _excluded = fx.applicable_ids(app, inspection_id)
    with app.app_context():
        checklist = services.checklist_for(db.session.get(Inspection, inspection_id))
        values = {item_id: fx.passing_value(checklist.item(item_id)) for item_id in applicable}
    login(client, ids["sup"])
    first, second, *middle, last = applicable
    _put_statements(app, client, inspection_id, first, 0, values[first])  # warm-up: process caches
    first_new, _body = _put_statements(app, client, inspection_id, second, 0, values[second])
    changed, _body = _put_statements(app, client, inspection_id, second, 1, values[second])
    for item_id in middle:
        _put_statements(app, client, inspection_id, item_id, 0, values[item_id])
    last_new, body = _put_statements(app, client, inspection_id, last, 0, values[last])
    # The reply's running score still covers every answer saved so far.
    assert (body["score"]["answered"], body["score"]["applicable"]) == (len(applicable), len(applicable))
    assert last_new == first_new
    assert max(first_new, changed) <= PUT_MAX_STATEMENTS
