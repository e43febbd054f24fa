"""Province plans across the 2025 reform: a pre-2025 plan in the 2025 view of the merged province, part by part
with a combined facility-weighted figure and target, until the merged province's own plan takes over; one
account over both unit systems."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.compliance.indicators import load_indicators
from qa_app.compliance.plans import PlanInput, config_on, save_plan
from qa_app.compliance.queries import Area
from qa_app.compliance.reform import plan_key_for, reform_view
from qa_app.extensions import db
from qa_app.regions.models import AdminUnit
from tests import factories
from tests.compliance_fixtures import (
    AS_OF,
    Dataset,
    build_lai_chau,
    build_plan_provinces,
    designate,
    inspect,
    readiness_items,
)
from tests.factories import login

TAKEOVER = dt.date(2026, 7, 1)


@pytest.fixture
def data(app: Flask) -> Dataset:
    """Lai Châu, plus Kon Tum (pre-2025 62: K1 high-fertility station meeting, K2 never assessed) merged into
    Quảng Ngãi (2025 51), where Q1, a station of a high-fertility commune opened after the reform (no pre-2025
    unit), meets and is ready for every method."""
    data = build_plan_provinces(app, build_lai_chau(app))
    with app.app_context():
        quang_ngai = db.session.get(AdminUnit, data.units["quang_ngai"])
        other = factories.unit("2025", "commune", "23600", "Xã Ba Tơ", quang_ngai)
        q1 = factories.facility("Q1", "Trạm Y tế xã Ba Tơ", other)
        designate(other)  # a high-fertility commune: the national station indicator counts Q1 too
        inspect(q1, dt.date(2026, 2, 1), "meets", db.session.get(User, data.users["manager"]),
                items=dict.fromkeys(readiness_items(), "met"))
        qn_manager = factories.user("quanly.qn", "provincial_manager", quang_ngai)
        db.session.commit()
        data.units["qn_commune"] = _unit_of(data, "K1")
        data.users["qn_manager"] = qn_manager.id
    return data


def _unit_of(data: Dataset, code: str) -> int:
    from qa_app.facilities.models import Facility

    return db.session.get(Facility, data.facilities[code]).unit_id


def _area(data: Dataset, unit: str, day: dt.date = AS_OF) -> Area:
    return Area(user=db.session.get(User, data.users["admin"]), day=day,
                unit=db.session.get(AdminUnit, data.units[unit]))


def _kon_tum_plan(national) -> None:
    # Kon Tum's plan in the app: its high-fertility stations, 85 % by 2025 and 95 % by 2030.
    save_plan("pre2025", "62", 0, PlanInput(
        name="Kế hoạch của UBND tỉnh Kon Tum", number="", issued_on=None, effective_from=dt.date(2021, 1, 1),
        overrides={"tyt_methods_ready": {"targets": {2025: 85, 2030: 95},
                                         "filters": {"facility_types": ["TYT"], "high_fertility": True}}}),
        national, None)


def test_predecessor_plan_for_its_part_and_combined_then_the_successor_takes_over(app: Flask, data: Dataset) -> None:
    national = load_indicators()
    with app.app_context():
        _kon_tum_plan(national)
        db.session.commit()
        config = config_on(national, AS_OF).config
        view = reform_view(config, _area(data, "quang_ngai"))
        assert view is not None
        kon_tum, rest = view.parts
        assert kon_tum.unit.code == "62" and rest.unit is None
        ready = "tyt_methods_ready"
        # Kon Tum's part on Kon Tum's definition: the high-fertility K1 only, meeting; its targets
        # 2025 85 %, 2026 87 % (on the line to 95 % in 2030).
        part = kon_tum.figures[ready]
        assert (part.counts.meeting, part.counts.total) == (1, 1)
        assert (part.target_2025, part.target_now, part.target_2030) == (85, 87, 95)
        # The rest (Q1) on the national definition and targets (75 %, 79 %, 95 %); K2 is in neither part for
        # this indicator (Kon Tum's plan counts only high-fertility stations).
        other = rest.figures[ready]
        assert (other.counts.meeting, other.counts.total) == (1, 1)
        assert (other.target_2025, other.target_now, other.target_2030) == (75, 79, 95)
        # Combined: 2 of 2; targets weighted by facilities: (85×1 + 75×1)/2 = 80, (87 + 79)/2 = 83, 95.
        combined = view.combined[ready]
        assert (combined.counts.meeting, combined.counts.total) == (2, 2)
        assert (combined.target_2025, combined.target_now, combined.target_2030) == (80, 83, 95)
        # The main indicator, which Kon Tum's plan does not change: K1 meets, K2 never assessed; Q1 meets.
        main = view.combined["facilities_meeting_standard"]
        assert (main.counts.meeting, main.counts.total) == (2, 3)
        assert kon_tum.figures["facilities_meeting_standard"].counts.total == 2
        # A commune of former Kon Tum in the 2025 tree: Kon Tum's plan applies to its cards.
        assert plan_key_for(config, _area(data, "qn_commune")) == ("pre2025", "62")

        # Quảng Ngãi's own plan, in force from 1 July 2026, takes over from that date, not before.
        save_plan("2025", "51", 0, PlanInput(
            name="Kế hoạch của UBND tỉnh Quảng Ngãi", number="12/KH-UBND", issued_on=dt.date(2026, 6, 1),
            effective_from=TAKEOVER, overrides={ready: {"targets": {2025: 70, 2030: 90}}}), national, None)
        db.session.commit()
        assert reform_view(config_on(national, AS_OF).config, _area(data, "quang_ngai")) is not None
        after = config_on(national, TAKEOVER).config
        assert reform_view(after, _area(data, "quang_ngai", TAKEOVER)) is None
        assert plan_key_for(after, _area(data, "qn_commune", TAKEOVER)) == ("2025", "51")
        assert after.target_for(ready, ("2025", "51"), 2025) == 70


def test_the_dashboard_shows_the_parts_and_both_unit_systems(app: Flask, client: FlaskClient, data: Dataset) -> None:
    with app.app_context():
        _kon_tum_plan(load_indicators())
        db.session.commit()
    login(client, data.users["qn_manager"])
    html = client.get(f"/compliance/?date={AS_OF.isoformat()}").get_data(as_text=True)
    assert 'data-part="pre2025:62"' in html and 'data-part="combined"' in html
    combined = html[html.index('data-part="combined"'):]
    assert 'data-counts="2/2"' in combined[:combined.index("</tr>")]
    # One account, both unit systems over the same facilities: the link to pre-2025 Kon Tum, which opens.
    assert 'data-counterpart="pre2025:62"' in html
    kon_tum = client.get(f"/compliance/?date={AS_OF.isoformat()}&unit={data.units['kon_tum']}")
    assert kon_tum.status_code == 200
    assert 'data-counterpart="2025:51"' in kon_tum.get_data(as_text=True)
    # A manager of a merged province keeps the predecessor's plan; another province's stays out of reach.
    assert client.get(f"/compliance/plans/edit?unit={data.units['kon_tum']}").status_code == 200
    assert client.get(f"/compliance/?unit={data.units['bac_giang']}").status_code == 404
    login(client, data.users["manager"])  # pre-2025 Lai Châu: Kon Tum is not its ground
    assert client.get(f"/compliance/?unit={data.units['kon_tum']}").status_code == 404
