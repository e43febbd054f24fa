"""The compliance read model (result intervals) against the raw-table computation, on generated data.

Random facilities get random inspections: several checklists (two routine ones with different validity, one
campaign), every status, self-assessments, same-day pairs, approved corrections, approved out of date order.
On random days and on every interval's boundaries (its start, its end, its expiry, the day before each), the
interval lookup must name the same latest inspection, and the same validity, as the queries over the raw
tables. Runs on the suite's database (SQLite, or PostgreSQL when QA_TEST_DATABASE_URL names one).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from qa_app.auth.models import User
from qa_app.checklists.models import ChecklistVersion
from qa_app.checklists.registry import sync_directory
from qa_app.compliance.indicators import load_indicators
from qa_app.compliance.queries import Area, _Query
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections import services, status
from qa_app.inspections.models import Inspection, StatusInterval

from .. import factories as f
from .. import inspection_fixtures as fx

SHORT = """\
schema: 1
code: short
version: 1
status: published
title: {vi: "Bảng kiểm hiệu lực ngắn", en: "Short validity checklist"}
effective_from: 2020-01-01
facility_types: [TYT, PK]
scoring: {overall: pooled, meets_min: 90, conditional_min: 80, section_min: 50, validity_months: 7,
          corrective_days: 30}
sections:
  - id: A
    title: {vi: "Phần A", en: "Part A"}
    items:
      - {id: A1, text: {vi: "Tiêu chí A1", en: "Item A1"}}
"""
STATUSES = ("approved",) * 6 + ("submitted", "returned", "draft")
RESULTS = ("meets", "conditional", "does_not_meet", "not_assessable")


def _world(app: Flask, seed: int) -> tuple[int, list[int]]:
    """Generate the data set; return the admin's id and the ids of the facilities."""
    rng = random.Random(seed)
    root = Path(app.instance_path) / "extra-checklists"
    (root / "short").mkdir(parents=True, exist_ok=True)
    (root / "short" / "v1.yaml").write_text(SHORT, encoding="utf-8")
    with app.app_context():
        sync_directory(app.config["CHECKLISTS_DIR"])
        sync_directory(root)
        versions = list(db.session.scalars(sa.select(ChecklistVersion).where(
            ChecklistVersion.status == "published")))
        units = f.two_districts()
        admin = f.user("quantri", "admin", None)
        facilities = [f.facility(f"F{i}", f"Cơ sở {i}", units["c1" if i % 2 else "c2"],
                                 type_=rng.choice(("TYT", "PK"))) for i in range(40)]
        for facility in facilities:
            dates = [dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(0, 6 * 365))
                     for _ in range(rng.randrange(0, 7))]
            if dates and rng.random() < 0.3:
                dates.append(dates[0])  # a same-day pair: the higher id is the latest
            rng.shuffle(dates)  # inserted (and so numbered and approved) out of date order
            approved: list[Inspection] = []
            for on in dates:
                version = rng.choice(versions)
                state = rng.choice(STATUSES)
                stamp = dt.datetime.combine(on, dt.time(12), tzinfo=dt.UTC)
                inspection = Inspection(
                    uuid=str(uuid.uuid4()), facility=facility, checklist_version_id=version.id,
                    kind="self" if rng.random() < 0.15 else "external", status=state, inspection_date=on,
                    created_by_id=admin.id, facility_type=facility.type, facility_services=facility.services,
                    checklist_sha256=version.sha256)
                if state in ("submitted", "approved"):
                    inspection.submitted_at, inspection.submitted_by_id = stamp, admin.id
                    inspection.classification = rng.choice(RESULTS)
                    inspection.overall_percent = Decimal(rng.randrange(0, 10001)) / 100
                    inspection.critical_failures = rng.randrange(0, 3)
                if state == "approved":
                    inspection.approved_at, inspection.approved_by_id = stamp, admin.id
                    if approved and rng.random() < 0.2:
                        # An approved correction replaces an earlier approved inspection of the facility.
                        inspection.supersedes_id = rng.choice(approved).id
                db.session.add(inspection)
                db.session.flush()
                if state == "approved":
                    approved.append(inspection)
        db.session.commit()
        status.rebuild(batch=7)  # several batches
        return admin.id, [fac.id for fac in facilities]


def _raw(area: Area, indicator: object) -> dict[int, tuple[int | None, bool]]:
    q = _Query(area, (indicator,))
    rows = db.session.execute(q.select_from(sa.select(Facility.id, q.latest.c.id, q.valid(indicator))))
    return {fid: (iid, bool(valid) if iid is not None else False) for fid, iid, valid in rows}


def _read_model(day: dt.date, facility_ids: list[int]) -> dict[int, tuple[int | None, bool]]:
    found = {fid: (None, False) for fid in facility_ids}
    rows = db.session.execute(
        sa.select(StatusInterval.facility_id, StatusInterval.inspection_id, StatusInterval.expires_on)
        .where(StatusInterval.programme == "routine", StatusInterval.starts_on <= day,
               sa.or_(StatusInterval.ends_on.is_(None), StatusInterval.ends_on > day)))
    for fid, iid, expires in rows:
        assert found[fid] == (None, False), f"two intervals of facility {fid} hold on {day}"
        found[fid] = (iid, day < expires)
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_intervals_give_the_raw_latest_result_and_validity(app: Flask, seed: int) -> None:
    admin_id, facility_ids = _world(app, seed)
    rng = random.Random(seed)
    with app.app_context():
        admin = db.session.get_one(User, admin_id)
        indicator = load_indicators().indicators[0]
        assert indicator.validity_months is None  # validity from each checklist version, as stored on the rows
        days = {dt.date(2020, 6, 1) + dt.timedelta(days=rng.randrange(0, 8 * 365)) for _ in range(12)}
        for row in db.session.scalars(sa.select(StatusInterval)):
            for day in (row.starts_on, row.ends_on, row.expires_on):
                if day is not None:
                    days |= {day, day - dt.timedelta(days=1)}
        days = sorted(rng.sample(sorted(days), min(len(days), 60)))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StatusInterval)) > 20
        for day in days:
            assert _read_model(day, facility_ids) == _raw(Area(admin, day), indicator), day
        assert status.check(batch=9) == []


@pytest.mark.parametrize("seed", [5, 6])
def test_dashboard_figures_from_the_intervals_equal_the_raw_computation(app: Flask, seed: int,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Every figure of the dashboard, the drill-downs, the trajectory and the facility list, both ways."""
    from qa_app.compliance.listing import facility_statuses
    from qa_app.compliance.overview import area_overview
    from qa_app.compliance.queries import GROUPS

    admin_id, _ids = _world(app, seed)
    rng = random.Random(seed)
    with app.app_context():
        admin = db.session.get_one(User, admin_id)
        indicators = load_indicators().indicators
        rows = list(db.session.scalars(sa.select(StatusInterval).order_by(StatusInterval.id)))
        # Random days, and the boundaries of random intervals: their expiry, the day before it, their end.
        days = [dt.date(2021, 6, 1) + dt.timedelta(days=rng.randrange(0, 6 * 365)) for _ in range(3)]
        for row in rng.sample(rows, 3):
            days += [row.expires_on, row.expires_on - dt.timedelta(days=1), row.ends_on or row.starts_on]
        for day in days:
            earlier = tuple(sorted({day - dt.timedelta(days=rng.randrange(1, 900)) for _ in range(3)}))
            area = Area(admin, day)
            figures = {}
            for source in ("raw", "intervals"):
                monkeypatch.setattr(_Query, "source", source)
                overview = area_overview(area, indicators, GROUPS, earlier)
                statuses, total = facility_statuses(area, indicators, indicators[0])
                failing, failing_total = facility_statuses(area, indicators, indicators[0], failing_only=True)
                figures[source] = (overview, [vars(s) for s in statuses], total,
                                   [s.id for s in failing], failing_total)
            assert figures["intervals"] == figures["raw"], day
            assert figures["raw"][2] == 40


def test_expiry_is_the_first_day_the_queries_call_invalid() -> None:
    for months in (1, 6, 7, 12, 24, 36):
        start = dt.date(2023, 1, 1)
        while start < dt.date(2025, 1, 1):
            end = status.expiry(start, months)
            assert start > status.months_back(end - dt.timedelta(days=1), months)  # still valid the day before
            assert not start > status.months_back(end, months)
            start += dt.timedelta(days=1)


def test_an_approval_writes_the_facility_intervals_in_its_transaction(app: Flask) -> None:
    """The approval goes through the service: the new result's interval is there when it commits, not before."""
    ids = fx.build_world(app)
    older = fx.start(app, ids["tyt"], ids["sup"], on=dt.date(2026, 3, 2))
    fx.submit_complete(app, older, ids["sup"])
    with app.app_context():
        services.approve(db.session.get_one(Inspection, older), db.session.get_one(User, ids["rev"]))
        db.session.commit()
        assert [(r["inspection_id"], r["starts_on"], r["ends_on"]) for r in status.stored([ids["tyt"]])] == \
            [(older, dt.date(2026, 3, 2), None)]
    newer = fx.start(app, ids["tyt"], ids["sup"], on=dt.date(2026, 9, 14))
    fx.submit_complete(app, newer, ids["sup"])
    with app.app_context():
        services.approve(db.session.get_one(Inspection, newer), db.session.get_one(User, ids["rev"]))
        db.session.rollback()  # the approval is not committed: neither are the intervals
        assert [r["ends_on"] for r in status.stored([ids["tyt"]])] == [None]
        services.approve(db.session.get_one(Inspection, newer), db.session.get_one(User, ids["rev"]))
        db.session.commit()
        assert [(r["inspection_id"], r["ends_on"]) for r in status.stored([ids["tyt"]])] == \
            [(older, dt.date(2026, 9, 14)), (newer, None)]
        assert status.check() == []


def test_rebuild_and_check_commands(app: Flask) -> None:
    _world(app, 4)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["compliance", "check"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        before = status.stored(sorted(db.session.scalars(sa.select(Facility.id))))
        # A row gone stale (as after a bulk import that went around the approval) is named by the check.
        row = db.session.scalars(sa.select(StatusInterval).where(StatusInterval.ends_on.is_not(None))
                                 .order_by(StatusInterval.id)).first()
        stale = row.facility_id
        row.ends_on = None
        db.session.commit()
    result = runner.invoke(args=["compliance", "check"])
    assert result.exit_code == 1
    assert f"differ from a recomputation: 1 (ids {stale})" in result.output
    result = runner.invoke(args=["compliance", "rebuild", "--batch", "5"])
    assert result.exit_code == 0 and "result intervals written" in result.output
    result = runner.invoke(args=["compliance", "rebuild"])  # idempotent
    assert runner.invoke(args=["compliance", "check"]).exit_code == 0
    with app.app_context():
        assert status.stored(sorted(db.session.scalars(sa.select(Facility.id)))) == before
