"""Province plans managed in the app: editing, versions in force by date, audit, validation shared with the file
and start-up, a broken stored plan shown as an error card, and the distance to the targets in facilities."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app import IndicatorsFileError
from qa_app.audit.models import AuditEntry
from qa_app.compliance.cli import indicators_cli
from qa_app.compliance.distance import facilities_needed, target_marks
from qa_app.compliance.indicators import DEFAULT_PATH, load_indicators
from qa_app.compliance.plan_models import ProvincePlanVersion
from qa_app.compliance.plans import (PlanConflict, PlanInput, config_on, file_only_parts, save_plan,
                                     seed_from_file)
from qa_app.extensions import db
from qa_app.regions.models import AdminUnit
from tests.compliance_fixtures import AS_OF, Dataset, build_lai_chau
from tests import factories
from tests.conftest import make_app
from tests.factories import login

DATE = AS_OF.isoformat()


@pytest.fixture
def data(app: Flask) -> Dataset:
    return build_lai_chau(app)


def _card(html: str, indicator: str) -> str:
    start = html.index(f'data-indicator="{indicator}"')
    return html[start:html.index("</article>", start)]


def _needed(card: str) -> dict[int, int]:
    """{year: facilities needed} as the card shows them."""
    return {int(y): int(n) for y, n in re.findall(r'data-year="(\d{4})".*?data-needed="(\d+)"', card, re.S)}


# ----------------------------------------------------------------------------------------- distance to target


def test_facilities_needed_matches_a_hand_count() -> None:
    # The example: 47 of 82 meet; 75 % of 82 is 61.5, so 62 must meet: 15 more.
    assert facilities_needed(75, 47, 82) == 15
    # 90 % of 82 = 73.8 → 74 → 27 more; exactly on a whole number: 75 % of 8 = 6 → 6 − 5 = 1.
    assert facilities_needed(90, 47, 82) == 27
    assert facilities_needed(75, 5, 8) == 1
    # Already above: never negative. No target or no facility: nothing to say.
    assert facilities_needed(75, 80, 82) == 0
    assert facilities_needed(None, 1, 2) is None
    assert facilities_needed(75, 0, 0) is None
    # A decimal target is exact: 83.3 % of 1000 = 833 exactly (float arithmetic would give 833.0000000000001).
    assert facilities_needed(83.3, 800, 1000) == 33
    # Interpolated targets carry float noise: 78 % of 50 is exactly 39, and 245/3 % of 300 exactly 245.
    assert facilities_needed(75 + 15 * 1 / 5 + 1e-14, 30, 50) == 9
    assert facilities_needed(75 + 20 / 3, 200, 300) == 45


def test_target_marks_are_in_year_order_and_2025_is_shown_once() -> None:
    marks = target_marks({2026: 78.0, 2025: 75.0, 2030: 90.0}, 2026, 2, 7)
    assert [m.year for m in marks] == [2025, 2026, 2030]
    assert [m.current for m in marks] == [False, True, False]
    on_2025 = target_marks({2025: 75.0, 2030: 90.0}, 2025, 2, 7)
    assert [m.year for m in on_2025] == [2025, 2030]


def test_dashboard_cards_show_the_facilities_needed(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["admin"])
    html = client.get(f"/compliance/?date={DATE}&unit={data.units['old_province']}").get_data(as_text=True)
    card = _card(html, "facilities_meeting_standard")
    # Hand count (see build_lai_chau): 2 of 6 meet (the pharmacy is not a service facility). Targets: 2025 75 %,
    # 2026 78 % (on the line to 90 % in 2030). 75 % × 6 = 4.5 → 5 → 3 more; 78 % × 6 = 4.68 → 5 → 3 more;
    # 90 % × 6 = 5.4 → 6 → 4 more.
    assert _needed(card) == {2025: 3, 2026: 3, 2030: 4}
    assert "cần thêm 3 cơ sở" in card
    assert "cần thêm 4 cơ sở" in card
    # The bar with a mark per target, readable without the picture.
    assert 'class="cmp-bar"' in card and card.count("cmp-bar-mark") == 3
    # Stations of the high-fertility commune: 1 of 3 ready; 75 % × 3 = 2.25 → 3 → 2 more; 95 % × 3 = 2.85 → 3 →
    # 2 more.
    assert _needed(_card(html, "tyt_methods_ready"))[2025] == 2
    assert _needed(_card(html, "tyt_methods_ready"))[2030] == 2
    # The trajectory chart labels its target lines.
    assert "Chỉ tiêu 2030: 90%" in html or "Chỉ tiêu 2030: 90 %" in html


def test_a_2025_date_shows_the_2025_target_once(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["admin"])
    html = client.get(f"/compliance/?date=2025-12-31&unit={data.units['old_province']}").get_data(as_text=True)
    card = _card(html, "facilities_meeting_standard")
    assert card.count('data-year="2025"') == 1
    assert re.findall(r'data-year="(\d{4})"', card) == ["2025", "2030"]


# ----------------------------------------------------------------------------------------- plans in the database


def _plan(targets: dict[int, float], effective: dt.date = dt.date(2021, 1, 1), **filters: object) -> PlanInput:
    change: dict[str, object] = {"targets": targets}
    if filters:
        change["filters"] = dict(filters)
    return PlanInput(name="Kế hoạch số 1", number="12/KH-UBND", issued_on=dt.date(2021, 5, 1),
                     effective_from=effective, overrides={"tyt_methods_ready": change})


def test_versions_take_effect_from_their_date_and_are_audited(app: Flask, data: Dataset) -> None:
    national = load_indicators()
    with app.app_context():
        save_plan("pre2025", "12", 0, _plan({2025: 80, 2030: 95}), national, data.users["manager"])
        save_plan("pre2025", "12", 1, _plan({2025: 85, 2030: 95}, dt.date(2026, 7, 1)), national,
                  data.users["manager"])
        db.session.commit()
        key = ("pre2025", "12")
        before = config_on(national, dt.date(2026, 6, 30)).config.target_for("tyt_methods_ready", key, 2025)
        after = config_on(national, dt.date(2026, 7, 1)).config.target_for("tyt_methods_ready", key, 2025)
        assert (before, after) == (80, 85)
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.entity_type == "province_plan")
                                     .order_by(AuditEntry.id)).all()
        assert [(e.action, e.entity_id, e.details["version"], e.user_id) for e in entries] == [
            ("plan.saved", "pre2025:12", 1, data.users["manager"]), ("plan.saved", "pre2025:12", 2,
                                                                      data.users["manager"])]
        assert entries[1].details["previous"]["overrides"]["tyt_methods_ready"]["targets"] == {"2025": 80,
                                                                                               "2030": 95}
        # A save from a stale version is refused (compare-and-set), nothing written.
        with pytest.raises(PlanConflict):
            save_plan("pre2025", "12", 1, _plan({2025: 60}), national, data.users["manager"])
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvincePlanVersion)) == 2


def test_seed_copies_the_file_plans_once(app: Flask) -> None:
    national = load_indicators()
    with app.app_context():
        assert seed_from_file(national, dt.date(2021, 1, 1)) == len(national.provinces)
        assert seed_from_file(national, dt.date(2021, 1, 1)) == 0
        db.session.commit()
        state = config_on(national, AS_OF)
        assert not state.broken
        # Kon Tum's plan round-trips through the database unchanged.
        assert state.config.provinces[("pre2025", "62")].overrides == national.provinces[("pre2025", "62")].overrides


def test_manager_edits_the_plan_in_the_browser_form(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["manager"])
    page = client.get("/compliance/plans/edit")
    assert page.status_code == 200
    assert "Tỉnh Lai Châu" in page.get_data(as_text=True)
    form = {"base_version": "0", "name": "Kế hoạch thực hiện Đề án 1848", "number": "45/KH-UBND",
            "issued_on": "2021-04-02", "effective_from": "2021-01-01",
            "override-tyt_methods_ready": "y", "targets-tyt_methods_ready": "2025: 85; 2030: 95",
            "fertility-tyt_methods_ready": "any"}
    saved = client.post("/compliance/plans/edit", data=form)
    assert saved.status_code == 302
    html = client.get(f"/compliance/?date={DATE}").get_data(as_text=True)
    card = _card(html, "tyt_methods_ready")
    # The new 2025 target at once, over every station ("any"): 85 % × 5 stations = 4.25 → 5 → 4 more than the
    # one ready for every method (F1).
    assert _needed(card)[2025] == 4
    assert "Kế hoạch thực hiện Đề án 1848" in html
    history = client.get("/compliance/plans/edit").get_data(as_text=True)
    assert "2025: 85" in history and "Manager" in history
    # An invalid value is refused in Vietnamese naming the field, and nothing is saved.
    bad = client.post("/compliance/plans/edit", data={**form, "base_version": "1",
                                                       "targets-tyt_methods_ready": "2025: 850"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Chỉ tiêu của “Trạm y tế xã thuộc vùng có mức sinh cao đủ khả năng cung cấp các biện pháp tránh thai theo quy định”" in text
    assert "không hợp lệ" in text
    # A target in (or before) the indicator's baseline year (2021): refused in Vietnamese, naming the indicator.
    early = client.post("/compliance/plans/edit", data={**form, "base_version": "1",
                                                         "targets-tyt_methods_ready": "2021: 50; 2030: 95"})
    assert early.status_code == 400
    assert "năm 2021 không sau năm cơ sở 2021" in early.get_data(as_text=True)
    missing = client.post("/compliance/plans/edit", data={**form, "base_version": "1", "effective_from": ""})
    assert missing.status_code == 400 and "Có hiệu lực từ: bắt buộc." in missing.get_data(as_text=True)
    # A stale form (opened before version 1 was saved) is a conflict, not an overwrite.
    stale = client.post("/compliance/plans/edit", data=form)
    assert stale.status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvincePlanVersion)) == 1
    # A target on a reported population figure (mCPR): stored with the plan, a bad one refused.
    assert client.post("/compliance/plans/edit", data={**form, "base_version": "1",
                                                        "population-mcpr": "2025: năm mươi"}).status_code == 400
    assert client.post("/compliance/plans/edit", data={**form, "base_version": "1",
                                                        "population-mcpr": "2025: 50; 2030: 52"}).status_code == 302
    with app.app_context():
        latest = db.session.scalar(sa.select(ProvincePlanVersion).where(ProvincePlanVersion.version == 2))
        assert latest.population_targets == {"mcpr": {"2025": 50, "2030": 52}}
        assert config_on(load_indicators(), AS_OF).config.provinces[("pre2025", "12")].population_targets == {
            "mcpr": ((2025, 50.0), (2030, 52.0))}


def test_plan_pages_are_for_managers_of_the_province(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["reviewer1"])
    assert client.get("/compliance/plans/edit").status_code == 403
    login(client, data.users["admin"])
    assert client.get("/compliance/plans/").status_code == 200
    assert client.get(f"/compliance/plans/edit?unit={data.units['d1']}").status_code == 200
    assert client.get("/compliance/plans/edit?unit=999999").status_code == 404


def test_a_manager_of_part_of_a_province_cannot_edit_its_plan(app: Flask, client: FlaskClient,
                                                                data: Dataset) -> None:
    with app.app_context():
        district = db.session.get(AdminUnit, data.units["d1"])
        user_id = factories.user("quanly.huyen", "provincial_manager", district).id
        db.session.commit()
    login(client, user_id)
    assert client.get("/compliance/plans/edit").status_code == 403
    assert client.post("/compliance/plans/edit", data={"base_version": "0", "name": "Kế hoạch",
                                                       "effective_from": "2026-01-01"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvincePlanVersion)) == 0


def test_a_new_version_starts_today_and_never_before_the_one_in_force(app: Flask, client: FlaskClient,
                                                                      data: Dataset) -> None:
    national = load_indicators()
    with app.app_context():
        save_plan("pre2025", "12", 0, _plan({2025: 80, 2030: 95}, dt.date(2024, 1, 1)), national,
                  data.users["manager"])
        db.session.commit()
    login(client, data.users["manager"])
    page = client.get("/compliance/plans/edit").get_data(as_text=True)
    # "In force from" is today, not the stored version's date (which would apply the edit to the past).
    # (Vietnam's today, as every date the app proposes.)
    with app.test_request_context():
        from qa_app.i18n import local_today

        today = local_today()
    assert f'name="effective_from" value="{today.isoformat()}"' in page
    form = {"base_version": "1", "name": "Kế hoạch số 1", "effective_from": "2023-06-01",
            "override-tyt_methods_ready": "y", "targets-tyt_methods_ready": "2025: 90; 2030: 95"}
    back_dated = client.post("/compliance/plans/edit", data=form)
    assert back_dated.status_code == 400
    assert "trước phiên bản 1" in back_dated.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProvincePlanVersion)) == 1
    assert client.post("/compliance/plans/edit", data={**form, "effective_from": "2024-01-01"}).status_code == 302
    # A conflict keeps the form's own base: saving again from it is refused again, until the page is reloaded.
    stale = client.post("/compliance/plans/edit", data={**form, "effective_from": "2026-01-01"})
    assert stale.status_code == 409
    assert 'name="base_version" value="1"' in stale.get_data(as_text=True)


def test_a_file_plan_with_parts_the_form_cannot_hold_stays_in_the_file(app: Flask, client: FlaskClient,
                                                                       data: Dataset) -> None:
    national = load_indicators()
    kon_tum = national.provinces[("pre2025", "62")]
    changed = dataclasses.replace(kon_tum, overrides={**kon_tum.overrides, "facilities_meeting_standard": {
        "validity_months": 12}})
    national = dataclasses.replace(national, provinces={**national.provinces, ("pre2025", "62"): changed})
    assert file_only_parts(changed) == ["facilities_meeting_standard: validity_months"]
    with app.app_context():
        assert seed_from_file(national, dt.date(2021, 1, 1)) == len(national.provinces) - 1
        db.session.commit()
        # Kon Tum keeps its file entry, validity override included.
        assert config_on(national, AS_OF).config.provinces[("pre2025", "62")] == changed


def test_a_broken_plan_in_the_database_shows_an_error_card_and_the_national_figures(
        app: Flask, client: FlaskClient, data: Dataset) -> None:
    with app.app_context():
        # As a hand edit, or an indicator renamed in the file since, would leave it.
        db.session.add(ProvincePlanVersion(system="pre2025", code="12", version=1, effective_from=dt.date(2021, 1, 1),
                                           name="Kế hoạch hỏng", number="", overrides={
                                               "tyt_methods_ready": {"targets": {"2025": "tám mươi"}},
                                               "no_such_indicator": {"targets": {"2025": 80}}}))
        # Another province's row edited into another shape (a list where a mapping belongs): reported too, never
        # an error for every dashboard in the country.
        db.session.add(ProvincePlanVersion(system="pre2025", code="62", version=1, effective_from=dt.date(2021, 1, 1),
                                           name="Kế hoạch Kon Tum", number="", overrides=["tyt_methods_ready"]))
        db.session.commit()
    login(client, data.users["manager"])
    page = client.get(f"/compliance/?date={DATE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-plan="pre2025:12"' in html and "Kế hoạch hỏng" in html
    assert "no_such_indicator" in html
    # National figures and targets: 2 of 5 stations against the national 75 % for 2025.
    assert _needed(_card(html, "tyt_methods_ready"))[2025] == 2
    api = client.get(f"/api/v1/compliance/indicators?date={DATE}")
    assert api.status_code == 200 and [p["code"] for p in api.get_json()["broken_plans"]] == ["12"]
    # Kon Tum's misshapen row is reported where Kon Tum is shown (the whole country), not as an error.
    login(client, data.users["admin"])
    everyone = client.get(f"/api/v1/compliance/indicators?date={DATE}")
    assert everyone.status_code == 200
    assert sorted(p["code"] for p in everyone.get_json()["broken_plans"]) == ["12", "62"]
    login(client, data.users["manager"])
    # The plan page still opens, so the manager can correct it.
    assert client.get("/compliance/plans/edit").status_code == 200


# ----------------------------------------------------------------------------------------- file validation


BROKEN = """schema: 1
indicators:
  - id: facilities_meeting_standard
    title: {vi: "Cơ sở đạt chuẩn"}
    measure:
      classifications: [meets]
    targets:
      2025: 175
"""


def test_validate_command_reports_file_and_line(app: Flask, tmp_path: Path) -> None:
    broken = tmp_path / "indicators.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    result = app.test_cli_runner().invoke(indicators_cli, ["validate", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:8:" in result.stderr and "between 0 and 100" in result.stderr
    ok = app.test_cli_runner().invoke(indicators_cli, ["validate", str(DEFAULT_PATH)])
    assert ok.exit_code == 0, ok.output


def test_a_broken_file_refuses_to_start(tmp_path: Path) -> None:
    broken = tmp_path / "indicators.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(IndicatorsFileError, match=re.escape(f"{broken}:8:")):
        make_app(tmp_path, COMPLIANCE_INDICATORS=str(broken))


def test_a_file_broken_while_running_is_named_not_a_bare_500(tmp_path: Path) -> None:
    import os

    from tests.conftest import reset_schema

    path = tmp_path / "indicators.yaml"
    path.write_text(DEFAULT_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    app = make_app(tmp_path, COMPLIANCE_INDICATORS=str(path))
    with app.app_context():
        reset_schema()
        db.create_all()
    data = build_lai_chau(app)
    path.write_text(BROKEN, encoding="utf-8")
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9, path.stat().st_mtime_ns + 10**9))
    client = app.test_client()
    login(client, data.users["admin"])
    page = client.get(f"/compliance/?date={DATE}")
    assert page.status_code == 503
    assert f"{path}:8:" in page.get_data(as_text=True)
    api = client.get(f"/api/v1/compliance/indicators?date={DATE}")
    assert api.status_code == 503 and api.get_json()["problems"][0].startswith(f"{path}:8:")
    with app.app_context():
        db.session.remove()
        if db.engine.url.database not in (None, "", ":memory:"):
            reset_schema()  # a shared server database (PostgreSQL runs) is left empty for the next test
        db.engine.dispose()


def test_the_real_command_validates_even_when_the_configured_file_is_broken(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    broken = tmp_path / "indicators.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    flask = Path(sys.executable).with_name("flask")
    env = {**os.environ, "QA_COMPLIANCE_INDICATORS": str(broken),
           "QA_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "QA_SECRET_KEY": "x"}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([str(flask), "--app", "wsgi", "indicators", "validate"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert f"{broken}:8:" in done.stderr and "Traceback" not in done.stderr
