"""The demo / scale data generator: contents, consistency with the scoring engine, determinism."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, current_app

from qa_app.areas.models import ServiceArea
from qa_app.auth.models import User
from qa_app.auth.services import check_password_rules
from qa_app.checklists.loader import load_directory, parse_checklist
from qa_app.checklists.registry import checklist_of
from qa_app.checklists.schema import (
    FACILITY_TYPES,
    SERVICES,
    Checklist,
    FacilityProfile,
    item_applies,
)
from qa_app.demo import (
    DEMO_PASSWORD,
    DEMO_USERS,
    DemoParams,
    generate,
    parse_scope_code,
    scope_code,
)
from qa_app.demo.answering import build_plan, engine_outcome, fast_outcome, generate_answers
from qa_app.extensions import db
from qa_app.facilities.models import Facility, FacilityParentLink
from qa_app.inspections.models import (
    Answer,
    CorrectiveAction,
    Inspection,
    ReviewComment,
    SectionResult,
    Signature,
    TeamMember,
)
from qa_app.regions.models import REFORM_DATE, AdminUnit, HighFertilityStatus, UnitSuccession
from qa_app.scoring import score_inspection

from .conftest import ROOT, make_app

# A small synthetic set: one province, two old districts, twelve old communes merged into five.
TINY = DemoParams(seed=7, real_province=False, provinces=1, old_provinces=1, districts=2, old_communes=12,
                  communes=5, public_hospitals=1, private_hospitals=0, clinics=3, pharmacies=3,
                  history_from=dt.date(2024, 1, 1), staff_users=True, fast_scoring=True)


def _build_demo() -> None:
    db.drop_all()
    db.create_all()
    summary = generate(DemoParams())
    db.session.commit()
    current_app.config["DEMO_SUMMARY"] = summary
    current_app.config["DEMO_DIGEST"] = _digest()


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The default demo set (Lai Châu), generated once for the module."""
    app = make_app(tmp_path_factory.mktemp("demo"))
    with app.app_context():
        _build_demo()
    yield app
    with app.app_context():
        _dispose()


@pytest.fixture
def demo(demo_app: Flask) -> Iterator[None]:
    """An app context on the demo set."""
    with demo_app.app_context():
        if not sa.inspect(db.engine).has_table("inspection") or not db.session.scalar(
                sa.select(sa.func.count()).select_from(User)):
            # On a shared PostgreSQL database another test of this module has emptied it: build it again.
            _build_demo()
        yield
        db.session.rollback()


def _digest(exclude: frozenset[str] = frozenset({"checklist_version.registered_at"})) -> dict[str, str]:
    """SHA-256 of every table's rows in primary-key order (registration time of checklists aside)."""
    out = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if f"{table.name}.{c.name}" not in exclude]
        rows = db.session.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
        out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def _dispose() -> None:
    db.session.remove()
    if db.engine.url.database not in (None, "", ":memory:"):
        # A shared server database (PostgreSQL runs) must be left empty for the next test.
        db.drop_all()
    db.engine.dispose()


def _fresh(tmp_path: Path, params: DemoParams) -> dict[str, str]:
    """Digest of a data set generated into a new, empty database."""
    app = make_app(tmp_path / f"run{len(list(tmp_path.iterdir()))}")
    with app.app_context():
        db.drop_all()
        db.create_all()
        generate(params)
        db.session.commit()
        digest = _digest()
        _dispose()
    return digest


# ------------------------------------------------------------------------------------------ demo set


def test_users_of_every_role_with_the_demo_password(demo: None) -> None:
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    assert {role for _, _, role, _ in DEMO_USERS} == {"admin", "provincial_manager", "reviewer",
                                                      "supervisor"}
    for username, full_name, role, scope in DEMO_USERS:
        user = users[username]
        assert (user.full_name, user.role) == (full_name, role)
        key = parse_scope_code(scope)
        assert (None if user.scope_unit is None else (user.scope_unit.system, user.scope_unit.level,
                                                      user.scope_unit.code)) == key
    assert users["admin"].check_password(DEMO_PASSWORD)
    # The post-reform reviewer: scoped to the Tam Đường service area, inside the 2025 province.
    area_reviewer = users["duyet.khuvuc"]
    assert area_reviewer.role == "reviewer" and area_reviewer.scope_area.code == "KV-12-106"
    assert area_reviewer.scope_unit == area_reviewer.scope_area.province
    assert area_reviewer.check_password(DEMO_PASSWORD)
    for username, *_ in DEMO_USERS:
        check_password_rules(DEMO_PASSWORD, username)  # the demo password obeys the app's own rules
    assert not users["admin"].check_password("wrong")
    assert scope_code("pre2025", "district", "106") == "pre2025:district:106"
    supervisors = Counter(u.scope_unit.code for u in users.values() if u.role == "supervisor")
    assert supervisors["106"] == 2
    assert supervisors["109"] == 1


def test_lai_chau_units_in_both_systems(demo: None) -> None:
    counts = Counter(db.session.execute(sa.select(AdminUnit.system, AdminUnit.level)).all())
    assert counts == {("pre2025", "province"): 1, ("pre2025", "district"): 8, ("pre2025", "commune"): 106,
                      ("2025", "province"): 1, ("2025", "commune"): 38}
    units = {u.id: u for u in db.session.scalars(sa.select(AdminUnit))}
    for unit in units.values():
        expected = (units[unit.parent_id].path if unit.parent_id else "/") + f"{unit.id}/"
        assert unit.path == expected
    tam_duong = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.code == "106"))
    assert tam_duong.name == "Huyện Tam Đường"
    assert tam_duong.valid_to == dt.date(2025, 6, 30)
    successions = db.session.scalars(sa.select(UnitSuccession)).all()
    assert len(successions) == 106
    assert all(s.whole for s in successions)
    # Codes are reused: new Phường Đoàn Kết has code 03388, which was Phường Quyết Tiến's.
    doan_ket = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.system == "2025", AdminUnit.code == "03388"))
    olds = {units[s.old_unit_id].name for s in successions if s.new_unit_id == doan_ket.id}
    assert doan_ket.name == "Phường Đoàn Kết"
    assert "Phường Quyết Tiến" in olds


def test_facilities_of_every_type_and_ownership(demo: None) -> None:
    facilities = db.session.scalars(sa.select(Facility)).all()
    # The demo has no facility of the types added for the 2025 reform (CDC, regional polyclinic...).
    assert {f.type for f in facilities} == set(FACILITY_TYPES) - {"CDC", "PKKV", "NHS", "YTCQ", "DLD"}
    assert {f.ownership for f in facilities} == {"public", "non_public"}
    by_type = Counter(f.type for f in facilities if f.parent_facility_id is None)
    assert by_type["TYT"] == 38  # the legal stations, one per 2025 commune
    # Every other old commune's station is a sub-station of its new commune's station since the reform.
    subs = [f for f in facilities if f.parent_facility_id is not None]
    assert len(subs) == 106 - 38
    assert all(f.type == "TYT" and f.parent.unit_id == f.unit_id and f.parent.parent_facility_id is None
               for f in subs)
    assert {link.valid_from for link in db.session.scalars(sa.select(FacilityParentLink))} == {REFORM_DATE}
    assert by_type["TTYT"] == 8
    assert by_type["BV"] == 2
    assert 10 <= by_type["PK"] <= 20
    assert 15 <= by_type["NT"] <= 25
    for f in facilities:
        assert (f.unit.system, f.unit.level) == ("2025", "commune")
        assert f.legacy_unit.system == "pre2025"
        assert f.legacy_unit.level == ("district" if f.type == "TTYT" else "commune")
        assert f.name
        assert f.address
        assert f.phone
        assert f.head_name
    assert {f.name for f in facilities} >= {"Trạm Y tế xã Bản Bo", "Trung tâm Y tế huyện Tam Đường",
                                             "Bệnh viện Đa khoa tỉnh Lai Châu"}
    stations = [f for f in facilities if f.type == "TYT" and f.parent_facility_id is None]
    assert sum(f.high_fertility for f in stations) > len(stations) / 2
    # Their communes are designated high-fertility (what the 1848 commune-station indicator reads), so the
    # demo dashboard shows a figure for it.
    designated = set(db.session.scalars(sa.select(HighFertilityStatus.unit_id).where(
        HighFertilityStatus.high_fertility.is_(True))))
    assert {f.unit_id for f in stations if f.high_fertility} == designated
    from qa_app.compliance.indicators import load_indicators
    from qa_app.compliance.queries import Area, indicator_counts

    admin = db.session.scalar(sa.select(User).where(User.role == "admin"))
    ready = load_indicators().get("tyt_methods_ready")
    counts = indicator_counts(Area(user=admin, day=dt.date.today()), (ready,))[0].counts["tyt_methods_ready"]
    assert 0 < counts.meeting < counts.total
    assert all({"VU", "BCS"} <= set(f.services) for f in facilities)
    assert all(set(f.services) <= {"VU", "BCS"} for f in facilities if f.type == "NT")
    assert any("TS" in f.services for f in facilities if f.type in ("TTYT", "BV"))
    assert any(f.active_from.year in (2023, 2024) for f in facilities)
    assert [f.active_to.year for f in facilities if f.active_to] == [2025]


def _scored_inspections() -> list[Inspection]:
    return list(db.session.scalars(sa.select(Inspection).where(Inspection.status != "draft")
                                   .order_by(Inspection.id)))


def test_history_improves_and_has_work_in_progress(demo: None) -> None:
    inspections = db.session.scalars(sa.select(Inspection)).all()
    statuses = Counter(i.status for i in inspections)
    assert statuses["draft"] >= 2
    assert statuses["returned"] >= 1
    assert statuses["submitted"] >= 3
    assert statuses["approved"] > 0.9 * len(inspections)
    assert Counter(i.kind for i in inspections)["self"] > 20
    means = {}
    for year in range(2021, 2027):
        scores = [i.overall_percent for i in inspections
                  if i.inspection_date.year == year and i.kind == "external" and i.overall_percent is not None]
        assert len(scores) > 30, year
        means[year] = sum(scores) / len(scores)
    assert all(means[y] < means[y + 1] for y in range(2021, 2026)), means
    classes = Counter(i.classification for i in inspections if i.inspection_date.year == 2021)
    assert classes["does_not_meet"] > classes["meets"]
    assert any(i.critical_failures for i in inspections)
    recent = dt.date(2026, 11, 15) - dt.timedelta(days=60)
    assert all(i.inspection_date >= recent for i in inspections if i.status in ("draft", "returned", "submitted")
               and i.kind == "external")
    facilities = db.session.scalar(sa.select(sa.func.count()).select_from(Facility))
    assessed = db.session.scalar(sa.select(sa.func.count(sa.distinct(Inspection.facility_id)))
                                 .where(Inspection.kind == "external"))
    assert 0.03 < 1 - assessed / facilities < 0.15  # about 8% never assessed externally


def test_workflow_invariants(demo: None) -> None:
    now = dt.datetime(2026, 11, 15, 3, 0, tzinfo=dt.UTC)
    comments = Counter(db.session.scalars(sa.select(ReviewComment.inspection_id)))
    team = defaultdict(set)
    for inspection_id, role in db.session.execute(sa.select(TeamMember.inspection_id, TeamMember.role)):
        team[inspection_id].add(role)
    signed = defaultdict(set)
    for inspection_id, role in db.session.execute(sa.select(Signature.inspection_id, Signature.role)):
        signed[inspection_id].add(role)
    actions = defaultdict(set)
    for inspection_id, item_id, status, done_at in db.session.execute(
            sa.select(CorrectiveAction.inspection_id, CorrectiveAction.item_id, CorrectiveAction.status,
                      CorrectiveAction.done_at)):
        actions[inspection_id].add(item_id)
        assert (status == "done") == (done_at is not None)
    failed = defaultdict(set)
    for inspection_id, item_id in db.session.execute(
            sa.select(Answer.inspection_id, Answer.item_id).where(Answer.failed.is_(True))):
        failed[inspection_id].add(item_id)
    for i in db.session.scalars(sa.select(Inspection)):
        assert i.created_at.tzinfo is not None
        assert i.created_at <= now
        assert {"head", "facility_rep"} <= team[i.id]
        if i.status == "draft":
            assert i.submitted_at is None
            assert i.classification is None
            assert i.checklist_sha256 is None
            continue
        assert i.submitted_at.tzinfo == dt.UTC
        assert i.created_at <= i.submitted_at <= now
        # Every named member has signed (filing needs them all), the head and the facility's representative first.
        assert signed[i.id] == team[i.id] and {"head", "facility_rep"} <= signed[i.id]
        assert actions[i.id] == failed[i.id]  # submission needs a corrective action per failed item
        assert i.failed_items == len(failed[i.id])
        if i.status == "approved":
            assert i.submitted_at < i.approved_at <= now
            assert i.approved_by_id
        if i.status == "returned":
            assert comments[i.id] >= 1
    drafts = db.session.scalars(sa.select(Inspection).where(Inspection.status == "draft")).all()
    for draft in drafts:
        checklist = checklist_of(draft.checklist_version)
        score = score_inspection(checklist, _profile(draft), _answers(draft))
        assert not score.complete
        assert score.answered_count > 0


def _profile(inspection: Inspection) -> FacilityProfile:
    return FacilityProfile(inspection.facility_type, frozenset(inspection.facility_services),
                           inspection.facility.ownership)


def _answers(inspection: Inspection) -> dict[str, str | None]:
    return dict(db.session.execute(sa.select(Answer.item_id, Answer.value)
                                   .where(Answer.inspection_id == inspection.id)).all())


def test_stored_scores_equal_a_fresh_scoring_of_the_stored_answers(demo: None) -> None:
    inspections = _scored_inspections()
    sections = defaultdict(dict)
    for row in db.session.scalars(sa.select(SectionResult)):
        sections[row.inspection_id][row.section_id] = row
    flags = defaultdict(dict)
    for inspection_id, item_id, failed, critical in db.session.execute(
            sa.select(Answer.inspection_id, Answer.item_id, Answer.failed, Answer.critical_failure)):
        flags[inspection_id][item_id] = (failed, critical)
    assert len(inspections) > 400
    for inspection in inspections[::3]:
        checklist = checklist_of(inspection.checklist_version)
        assert inspection.checklist_sha256 == checklist.sha256
        score = score_inspection(checklist, _profile(inspection), _answers(inspection))
        assert score.complete
        assert not score.ignored
        assert inspection.overall_percent == Decimal(str(score.overall_percent)).quantize(Decimal("0.01"))
        assert inspection.classification == score.classification
        assert inspection.critical_failures == len(score.critical_failures)
        assert inspection.failed_items == len(score.failed_items)
        stored = sections[inspection.id]
        assert set(stored) == {s.section_id for s in score.sections if s.applicable}
        for s in score.sections:
            if s.applicable:
                row = stored[s.section_id]
                assert row.earned == Decimal(str(float(s.earned))).quantize(Decimal("0.0001"))
                assert row.possible == Decimal(str(float(s.possible))).quantize(Decimal("0.0001"))
                assert row.percent == (None if s.percent is None else Decimal(str(s.percent)).quantize(
                    Decimal("0.01")))
                assert row.critical_failures == len(s.critical_failures)
        for item_id, (failed, critical) in flags[inspection.id].items():
            result = score.items[item_id]
            assert (failed, critical) == (result.failed, result.failed and result.critical)


def test_checklists_without_groups_rescore_every_stored_inspection_identically(demo: None) -> None:
    """Score groups (issue 19) leave a checklist without groups exactly as it was: every stored result stands."""
    by_inspection: dict[int, dict[str, str | None]] = defaultdict(dict)
    for inspection_id, item_id, value in db.session.execute(sa.select(Answer.inspection_id, Answer.item_id,
                                                                      Answer.value)):
        by_inspection[inspection_id][item_id] = value
    inspections = _scored_inspections()
    assert len(inspections) > 400
    for inspection in inspections:
        checklist = checklist_of(inspection.checklist_version)
        assert not checklist.groups
        score = score_inspection(checklist, _profile(inspection), by_inspection[inspection.id])
        assert score.groups == ()
        assert inspection.overall_percent == Decimal(str(score.overall_percent)).quantize(Decimal("0.01"))
        assert inspection.classification == score.classification
        assert inspection.critical_failures == len(score.critical_failures)


def test_every_approved_inspection_answers_every_applicable_item(demo: None) -> None:
    answered = defaultdict(set)
    for inspection_id, item_id, value in db.session.execute(sa.select(Answer.inspection_id, Answer.item_id,
                                                                      Answer.value)):
        assert value not in (None, "")
        answered[inspection_id].add(item_id)
    approved = db.session.scalars(sa.select(Inspection).where(Inspection.status == "approved")).all()
    for inspection in approved:
        checklist = checklist_of(inspection.checklist_version)
        profile = _profile(inspection)
        applicable = {i.id for s in checklist.sections for i in s.items
                      if item_applies(i, s, profile)[0]}
        assert answered[inspection.id] == applicable


def test_summary_describes_the_set(demo_app: Flask) -> None:
    summary = demo_app.config["DEMO_SUMMARY"]
    text = summary.describe()
    assert "Facilities: " in text
    assert "TYT 38" in text
    assert "Answers: " in text
    assert "Users: 9" in text  # the eight demo logins and the area reviewer
    assert "DT 68" in text and "8 service areas" in text
    assert summary.answers > 30_000
    assert summary.skipped == 0


def test_refuses_a_database_with_data(demo: None) -> None:
    with pytest.raises(RuntimeError, match="empty database"):
        generate(DemoParams())


# ------------------------------------------------------------------------------------------ scale sets


def test_tiny_province_style_set_has_the_expected_counts(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        db.create_all()
        summary = generate(TINY)
        db.session.commit()
        assert summary.units == {"pre2025 province": 1, "pre2025 district": 2, "pre2025 commune": 12,
                                 "2025 province": 1, "2025 commune": 5}
        # One legal station per 2025 commune; every other predecessor's station is its sub-station (DT).
        successions = db.session.scalar(sa.select(sa.func.count()).select_from(UnitSuccession))
        assert summary.facilities == {("TYT", "public"): 5, ("DT", "public"): successions - 5,
                                      ("TTYT", "public"): 2, ("BV", "public"): 1, ("PK", "non_public"): 3,
                                      ("NT", "non_public"): 3}
        # A service area per old district, together holding every 2025 commune once, run by its old centre.
        assert summary.areas == 2
        areas = db.session.scalars(sa.select(ServiceArea)).all()
        held = [link.unit_id for area in areas for link in area.commune_rows]
        assert len(held) == len(set(held)) == 5 and all(area.owner.type == "TTYT" for area in areas)
        # Demo accounts, plus a manager and a provincial supervisor, and per district a reviewer and a supervisor.
        assert sum(summary.users.values()) == len(DEMO_USERS) + 2 + 2 * 2
        years = {d.year for d in db.session.scalars(sa.select(Inspection.inspection_date))}
        assert years == {2024, 2025, 2026}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == summary.answers > 0
        olds = db.session.scalars(sa.select(AdminUnit).where(AdminUnit.system == "pre2025",
                                                             AdminUnit.level == "commune")).all()
        mapped = {s.old_unit_id for s in db.session.scalars(sa.select(UnitSuccession))}
        assert mapped == {u.id for u in olds}  # every old commune has a successor
        _dispose()


def test_for_scale_sizes() -> None:
    province = DemoParams.for_scale("province", seed=3)
    assert (province.seed, province.districts, province.old_communes, province.communes) == (3, 12, 300, 110)
    assert 550 <= province.communes + province.districts + province.public_hospitals + province.clinics \
        + province.pharmacies + province.private_hospitals <= 650
    national = DemoParams.for_scale("national")
    assert (national.provinces, national.old_provinces, national.districts, national.old_communes,
            national.communes) == (34, 63, 696, 10_056, 3_321)
    assert national.fast_scoring
    assert not DemoParams().fast_scoring
    with pytest.raises(ValueError, match="unknown scale"):
        DemoParams.for_scale("planet")


# ------------------------------------------------------------------------------------------ determinism


def test_same_seed_same_rows_other_seed_other_rows(tmp_path: Path) -> None:
    first = _fresh(tmp_path, TINY)
    assert _fresh(tmp_path, TINY) == first
    other = _fresh(tmp_path, replace(TINY, seed=8))
    for table in ("facility", "inspection", "answer", "section_result"):
        assert other[table] != first[table]


def test_same_seed_same_demo_rows(demo_app: Flask, tmp_path: Path) -> None:
    assert _fresh(tmp_path, DemoParams()) == demo_app.config["DEMO_DIGEST"]


def test_fast_scoring_writes_exactly_what_the_engine_writes(tmp_path: Path) -> None:
    params = replace(TINY, clinics=6, pharmacies=4, private_hospitals=1)
    assert _fresh(tmp_path, params) == _fresh(tmp_path, replace(params, fast_scoring=False))


POOLED = """
schema: 1
code: pooled-test
version: 1
status: published
title: {vi: "Thử", en: "Test"}
effective_from: 2021-01-01
facility_types: [TYT, PK, NT]
scoring: {overall: pooled, meets_min: 85.5, conditional_min: 70, section_min: 40, validity_months: 24,
          corrective_days: 30}
sections:
  - id: A
    title: {vi: "A", en: "A"}
    weight: 1
    items:
      - {id: A1, text: {vi: "a1"}, guidance: {vi: "g"}, verification: [QS], weight: 1.5, critical: always,
         allow_na: false}
      - {id: A2, text: {vi: "a2"}, guidance: {vi: "g"}, verification: [QS], weight: 0.25}
      - {id: A3, text: {vi: "a3"}, guidance: {vi: "g"}, verification: [QS], answer: scale, weight: 2.5,
         scale: [{value: 0, label: {vi: "0"}}, {value: 1, label: {vi: "1"}}, {value: 2, label: {vi: "2"}},
                 {value: 3, label: {vi: "3"}}], pass_min: 2}
  - id: B
    title: {vi: "B", en: "B"}
    weight: 3
    applies_to: [TYT, PK]
    items:
      - {id: B1, text: {vi: "b1"}, guidance: {vi: "g"}, verification: [HS], applies_if_offers: [DCTC],
         critical: {when_offers: [DCTC]}}
      - {id: B2, text: {vi: "b2"}, guidance: {vi: "g"}, verification: [HS], weight: 0.75,
         answer: scale, scale: [{value: 1, label: {vi: "1"}}, {value: 2, label: {vi: "2"}},
                                {value: 3, label: {vi: "3"}}]}
      - {id: B3, text: {vi: "b3"}, guidance: {vi: "g"}, verification: [PV], answer: number, unit: {vi: "km"}}
"""


def _checklists() -> list[Checklist]:
    checklists, problems = load_directory(ROOT / "checklists")
    assert not problems
    return [*checklists, parse_checklist(POOLED, source="test")]


def test_fast_scorer_agrees_with_the_engine_on_random_answers() -> None:
    rng = random.Random(1)
    difficulty: dict[str, float] = {}
    for checklist in _checklists():
        for ftype in checklist.facility_types:
            for _ in range(8):
                services = frozenset(s for s in SERVICES if rng.random() < 0.5)
                profile = FacilityProfile(ftype, services, rng.choice(("public", "non_public")))
                plan = build_plan(checklist, profile, difficulty)
                for _ in range(6):
                    answers = generate_answers(plan, rng, rng.uniform(0.2, 1.0), {"distance_km": 3.5,
                                               "travel_minutes": 20, "water": "Giếng khoan"},
                                               na_rate=rng.choice((0.0, 0.1, 0.5)), critical_factor=0.5,
                                               note_rate=0.3)
                    engine = engine_outcome(score_inspection(checklist, profile, answers.as_mapping()), answers)
                    assert fast_outcome(plan, answers) == engine


def test_national_scale_has_about_3300_stations_with_their_sub_stations() -> None:
    """The generator's logic at national size, without the database: legal stations are the 2025 communes
    (about 3,300), every other old commune's station is a sub-station, not a station of its own."""
    import random

    from qa_app.demo import geography
    from qa_app.demo.facilities import build_facilities

    p = DemoParams.for_scale("national")
    geo = geography.synthetic(random.Random(f"{p.seed}/geography"), p.provinces, p.old_provinces, p.districts,
                              p.old_communes, p.communes, p.split_share)
    facilities = build_facilities(geo, p.seed, public_hospitals=0, private_hospitals=0, clinics=0, pharmacies=0,
                                  never_share=p.never_share, biennial_share=p.biennial_share,
                                  recent_open_share=p.recent_open_share, closed_share=p.closed_share,
                                  ethnic_share=p.ethnic_share, today=p.today)
    stations = [f for f in facilities if f.type == "TYT" and f.parent is None]
    subs = [f for f in facilities if f.parent is not None]
    assert len(stations) == p.communes == 3_321
    assert len(subs) == len(geo.successions) - p.communes > 6_000
    codes = {f.code for f in stations}
    assert all(f.parent in codes for f in subs)
