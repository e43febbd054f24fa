"""Concurrent autosaves from several tablets, as threads against one app on a file SQLite database (WAL): every
answer is stored or reported as a conflict, never a "database is locked" 500, and no revision bump is lost
(on PostgreSQL too when QA_TEST_DATABASE_URL names one).
(Gap-free numbering of the minutes under concurrency is tested in tests/web/test_minutes.py.)"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from qa_app.extensions import db
from qa_app.inspections import services
from qa_app.inspections.models import Answer, Inspection
from qa_app.scoring import applicable_items

from .. import inspection_fixtures as fx
from ..conftest import make_app
from ..factories import login

THREADS = 6


@pytest.fixture
def file_app(tmp_path: Path):
    """A SQLite file in WAL mode (the default deployment), or the PostgreSQL test database when one is given."""
    url = os.environ.get("QA_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'concurrent.sqlite3'}"
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show up as a 500 status, counted below
    with app.app_context():
        db.drop_all()
        db.create_all()
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        else:
            # Every pooled connection, not only the first: JIT compilation tripled the national dashboard.
            with db.engine.connect() as a, db.engine.connect() as b:
                assert [c.execute(sa.text("SHOW jit")).scalar() for c in (a, b)] == ["off", "off"]
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
        db.engine.dispose()


def run_threads(work: Callable[[int], None], count: int = THREADS) -> None:
    """Start ``count`` workers together; re-raise the first exception any of them hit."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def runner(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def items_of(app: Flask, inspection_id: int) -> list[tuple[str, str]]:
    """(item id, a valid value) for every applicable item of the inspection."""
    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        rows = applicable_items(services.checklist_for(inspection), services.profile_of(inspection))
        return [(item.id, fx.passing_value(item)) for item, ok, _r in rows if ok]


def revision_of(app: Flask, inspection_id: int) -> int:
    with app.app_context():
        value = db.session.get(Inspection, inspection_id).revision
        db.session.remove()
        return value


def test_many_tablets_saving_different_items_of_one_inspection(file_app: Flask) -> None:
    app = file_app
    ids = fx.build_world(app)
    inspection_id = fx.start(app, ids["tyt"], ids["sup"])
    start_revision = revision_of(app, inspection_id)
    items = items_of(app, inspection_id)[: THREADS * 4]
    statuses: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        client = app.test_client()
        login(client, ids["sup"] if n % 2 else ids["sup_b"])
        for item_id, value in items[n::THREADS]:
            # Each item twice: first answer, then a note on top of it (compare-and-set on its own revision).
            first = client.put(f"/api/v1/inspections/{inspection_id}/answers/{item_id}",
                               json={"value": value, "base_revision": 0})
            second = client.put(f"/api/v1/inspections/{inspection_id}/answers/{item_id}",
                                json={"note": f"ghi chú {item_id}", "base_revision": 1})
            with lock:
                statuses.extend([first.status_code, second.status_code])
            assert first.status_code == 200, first.get_data(as_text=True)
            assert second.status_code == 200, second.get_data(as_text=True)

    run_threads(work)
    assert statuses == [200] * (2 * len(items))
    with app.app_context():
        stored = {a.item_id: (a.value, a.note, a.revision) for a in db.session.scalars(sa.select(Answer))}
        db.session.remove()
    assert stored == {item_id: (value, f"ghi chú {item_id}", 2) for item_id, value in items}
    # Every save bumped the inspection's revision: none was lost to a concurrent read-modify-write.
    assert revision_of(app, inspection_id) == start_revision + 2 * len(items)


def test_many_tablets_fighting_over_one_item(file_app: Flask) -> None:
    app = file_app
    ids = fx.build_world(app)
    inspection_id = fx.start(app, ids["tyt"], ids["sup"])
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        client = app.test_client()
        login(client, ids["sup"] if n % 2 else ids["sup_b"])
        for attempt in range(4):
            current = client.get(f"/api/v1/inspections/{inspection_id}").get_json()
            base = current["answers"].get("A3", {}).get("revision", 0)
            value = "met" if (n + attempt) % 2 else "not_met"
            response = client.put(f"/api/v1/inspections/{inspection_id}/answers/A3",
                                  json={"value": value, "note": f"{n}/{attempt}", "base_revision": base})
            body = response.get_json() or {}
            with lock:
                outcomes.append((response.status_code, body.get("error", "")))

    run_threads(work)
    codes = {code for code, _error in outcomes}
    assert codes <= {200, 409}, outcomes
    assert all(error == "conflict" for code, error in outcomes if code == 409)
    saved = sum(1 for code, _error in outcomes if code == 200)
    assert saved >= 1
    with app.app_context():
        answer = db.session.scalar(sa.select(Answer).where(Answer.item_id == "A3"))
        # Each accepted save advanced the revision by exactly one: nothing was overwritten silently.
        assert answer.revision == saved
        db.session.remove()


def test_many_tablets_each_on_its_own_inspection(file_app: Flask) -> None:
    app = file_app
    ids = fx.build_world(app)
    inspections = [fx.start(app, ids["tyt"] if n % 2 else ids["nt"], ids["sup"]) for n in range(THREADS)]
    per_inspection = {i: items_of(app, i)[:8] for i in inspections}

    def work(n: int) -> None:
        client = app.test_client()
        login(client, ids["sup"])
        inspection_id = inspections[n]
        for item_id, value in per_inspection[inspection_id]:
            response = client.put(f"/api/v1/inspections/{inspection_id}/answers/{item_id}",
                                  json={"value": value, "base_revision": 0})
            assert response.status_code == 200, response.get_data(as_text=True)

    run_threads(work)
    with app.app_context():
        for inspection_id, items in per_inspection.items():
            stored = {a.item_id: a.value for a in db.session.scalars(
                sa.select(Answer).where(Answer.inspection_id == inspection_id))}
            assert stored == dict(items)
        db.session.remove()


def test_managers_saving_the_same_plan_at_once(file_app: Flask) -> None:
    """Six managers save the province plan from the same version at once: one version, one audit entry, five 409."""
    from qa_app.audit.models import AuditEntry
    from qa_app.compliance.plan_models import ProvincePlanVersion

    from ..compliance_fixtures import build_lai_chau
    from ..factories import login

    data = build_lai_chau(file_app)
    form = {"base_version": "0", "name": "Kế hoạch", "effective_from": dt.date.today().isoformat(),
            "override-tyt_methods_ready": "y", "targets-tyt_methods_ready": "2025: 85; 2030: 95"}
    statuses: list[int] = []

    def work(n: int) -> None:
        client = file_app.test_client()
        login(client, data.users["manager"])
        statuses.append(client.post("/compliance/plans/edit", data={**form, "name": f"Kế hoạch {n}"}).status_code)

    run_threads(work, 6)
    assert sorted(statuses) == [302] + [409] * 5
    with file_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvincePlanVersion)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "plan.saved")) == 1
        db.session.remove()


def test_population_imports_at_once(file_app: Flask) -> None:
    """Six uploads of the same new figure at once: none fails, one creates it, each later one replaces it and its
    audit entry names the value the one before wrote."""
    import io

    from qa_app.audit.models import AuditEntry
    from qa_app.compliance.plan_models import PopulationFigure

    from ..compliance_fixtures import build_lai_chau, build_plan_provinces
    from ..factories import login

    data = build_plan_provinces(file_app, build_lai_chau(file_app))
    statuses: list[int] = []

    def work(n: int) -> None:
        client = file_app.test_client()
        login(client, data.users["admin"])
        body = f"unit,year,indicator,value,source\npre2025:province:62,2024,mcpr,{40 + n},Sở Y tế\n".encode()
        response = client.post("/compliance/plans/population", data={"file": (io.BytesIO(body), "mcpr.csv")},
                               content_type="multipart/form-data")
        statuses.append(response.status_code)

    run_threads(work, 6)
    assert all(s == 302 for s in statuses), statuses
    with file_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PopulationFigure)) == 1
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "population.imported")
                                     .order_by(AuditEntry.seq)).all()
        assert [e.details["created"] for e in entries] == [1, 0, 0, 0, 0, 0]
        written = [e.details["rows"][0]["value"] for e in entries]
        previous = [e.details["rows"][0].get("previous", {}).get("value") for e in entries]
        assert previous[1:] == written[:-1]  # each replacement names what the one before it wrote
        db.session.remove()
