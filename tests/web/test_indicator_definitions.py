"""Indicator definitions (issue 17): what each indicator counts, on a generated province, through the pages' API.

Lai Châu from tests.compliance_fixtures plus a few stations built here; every figure is counted by hand in the
comments.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.compliance.indicators import parse_indicators
from qa_app.compliance.listing import facility_statuses
from qa_app.compliance.overview import area_overview
from qa_app.compliance.queries import Area, indicator_counts
from qa_app.core.rounding import round_half_up
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.regions.fertility import import_statuses
from qa_app.regions.fertility_csv import parse_statuses
from qa_app.regions.importers import FileFormatError
from qa_app.regions.models import AdminUnit, HighFertilityStatus
from tests import factories
from tests.compliance_fixtures import AS_OF, Dataset, build_lai_chau, inspect
from tests.factories import login

DATE = AS_OF.isoformat()
DCTC_READY = ("C2", "D2", "D3", "D5", "D6", "E6")


@pytest.fixture
def data(app: Flask) -> Dataset:
    return build_lai_chau(app)


def _rows(client: FlaskClient, **args: str) -> dict[tuple[str, str, object], dict]:
    query = "&".join(f"{k}={v}" for k, v in {"date": DATE, **args}.items())
    response = client.get(f"/api/v1/compliance/indicators?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return {(r["indicator"], r["group"], r["key"]): r for r in response.get_json()["rows"]}


def test_headline_excludes_pharmacies_and_sector_lines_add_up(app: Flask, client: FlaskClient,
                                                               data: Dataset) -> None:
    with app.app_context():
        u = {k: db.session.get(AdminUnit, v) for k, v in data.units.items()}
        manager = db.session.get(User, data.users["manager"])
        # Two more pharmacies meeting the standard and a private clinic meeting it.
        for code in ("N1", "N2"):
            nt = factories.facility(code, f"Nhà thuốc {code}", u["n2"], u["c2"], type_="NT", ownership="non_public",
                                    services=("VU", "BCS"))
            inspect(nt, dt.date(2026, 3, 1), "meets", manager)
        pk = factories.facility("P1", "Phòng khám P1", u["n2"], u["c2"], type_="PK", ownership="non_public")
        inspect(pk, dt.date(2026, 3, 1), "meets", manager)
        db.session.commit()
    login(client, data.users["admin"])
    rows = _rows(client)
    headline = rows[("facilities_meeting_standard", "all", None)]
    # Service facilities F1 F2 F3 F4 F6 F8 P1 (7); meeting F1 F8 P1. No pharmacy in the denominator.
    assert (headline["numerator"], headline["denominator"]) == (3, 7)
    assert ("facilities_meeting_standard", "type", "NT") not in rows
    market = rows[("pharmacies_meeting_standard", "all", None)]
    # F5 (self-assessment only), N1, N2: two of three.
    assert (market["numerator"], market["denominator"]) == (2, 3)
    assert market["target_2025"] is None  # 1848 sets none; a plan may
    public = rows[("facilities_meeting_standard_public", "all", None)]
    non_public = rows[("facilities_meeting_standard_non_public", "all", None)]
    assert (public["numerator"], public["denominator"]) == (2, 5)
    assert (non_public["numerator"], non_public["denominator"]) == (1, 2)
    for key in ("numerator", "denominator", "assessed"):
        assert public[key] + non_public[key] == headline[key]
    assert public["target_2025"] == non_public["target_2025"] == 75


def test_commune_stations_of_high_fertility_communes_only(app: Flask, client: FlaskClient, data: Dataset) -> None:
    with app.app_context():
        u = {k: db.session.get(AdminUnit, v) for k, v in data.units.items()}
        manager = db.session.get(User, data.users["manager"])
        ready = dict.fromkeys(_shipped_items(), "met")
        # F6 (commune n2, not designated) is made ready: it must still stay out of the national figure.
        f6 = db.session.get(Facility, data.facilities["F6"])
        inspect(f6, dt.date(2026, 4, 1), "meets", manager, items=ready)
        db.session.commit()
    login(client, data.users["admin"])
    rows = _rows(client)
    ready_row = rows[("tyt_methods_ready", "all", None)]
    # Stations of n1 only: F1 (ready), F2 (expired), F8 (no IUDs): 1 of 3.
    assert (ready_row["numerator"], ready_row["denominator"]) == (1, 3)
    # The designation ends: from 2026-06-01 n1 is no longer high-fertility, n2 is.
    with app.app_context():
        parsed = parse_statuses(b"commune_code,high_fertility,valid_from,source\n"
                                b"03430,0,2026-06-01,QD 1/2026\n03451,co,2026-06-01,QD 1/2026\n")
        assert import_statuses(parsed, source="list.csv").ok
        db.session.commit()
    rows = _rows(client)
    ready_row = rows[("tyt_methods_ready", "all", None)]
    # n2's stations: F3 (never assessed), F6 (ready): 1 of 2. The day before, the old list still applies.
    assert (ready_row["numerator"], ready_row["denominator"]) == (1, 2)
    before = _rows(client, date="2026-05-31")[("tyt_methods_ready", "all", None)]
    assert before["denominator"] == 3


def test_a_plan_covering_all_stations_says_any(app: Flask, data: Dataset, tmp_path: Path) -> None:
    config = parse_indicators(f"""\
schema: 1
indicators:
  - id: ready
    title: {{vi: "Sẵn sàng"}}
    measure: {{items_met: [{', '.join(_shipped_items())}], requires_services: [VU, BCS, TT, DCTC]}}
    filters: {{facility_types: [TYT], high_fertility: true}}
    targets: {{2025: 75}}
provinces:
  - system: pre2025
    code: "12"
    overrides:
      ready:
        filters: {{high_fertility: any}}
""", "t.yaml")
    with app.app_context():
        admin = db.session.get(User, data.users["admin"])
        province = db.session.get(AdminUnit, data.units["old_province"])
        national = indicator_counts(Area(user=admin, day=AS_OF), config.indicators)[0].counts["ready"]
        assert (national.meeting, national.total) == (1, 3)  # F1 F2 F8 of the high-fertility commune
        plan = config.for_province(("pre2025", "12"))
        every = indicator_counts(Area(user=admin, day=AS_OF, unit=province), plan)[0].counts["ready"]
        assert (every.meeting, every.total) == (1, 5)  # every station: F1 F2 F3 F6 F8


def _shipped_items() -> tuple[str, ...]:
    from qa_app.compliance.indicators import load_indicators

    return load_indicators().get("tyt_methods_ready").items_met


def test_readiness_for_a_method_reads_its_items_not_the_class(app: Flask, data: Dataset) -> None:
    config = parse_indicators(f"""\
schema: 1
indicators:
  - id: iud_ready
    title: {{vi: "Trạm y tế sẵn sàng cung cấp DCTC"}}
    measure: {{items_met: [{', '.join(DCTC_READY)}], requires_services: [DCTC]}}
    filters: {{facility_types: [TYT]}}
""", "t.yaml")
    with app.app_context():
        u = {k: db.session.get(AdminUnit, v) for k, v in data.units.items()}
        manager = db.session.get(User, data.users["manager"])
        admin = db.session.get(User, data.users["admin"])
        ready = dict.fromkeys(DCTC_READY, "met")
        cases = {
            # Fails the waiting-time item and is only "conditional" overall: still ready for IUDs.
            "S1": ("conditional", {**ready, "G13": "not_met"}),
            # Missing the IUD insertion kit: not ready, whatever the class.
            "S2": ("meets", {**ready, "D3": "not_met"}),
            # Not observed or not applicable is never met.
            "S3": ("meets", {**ready, "D2": "not_observed"}),
            "S4": ("meets", {**ready, "E6": "na"}),
            # An item left unanswered is not met either.
            "S5": ("meets", {k: v for k, v in ready.items() if k != "C2"}),
        }
        for code, (classification, items) in cases.items():
            station = factories.facility(code, f"Trạm Y tế {code}", u["n2"], u["c2"])
            inspect(station, dt.date(2026, 4, 1), classification, manager, items=items)
        db.session.commit()
        listed, _total = facility_statuses(Area(user=admin, day=AS_OF), config.indicators, config.indicators[0])
        statuses = {s.code: s.indicators["iud_ready"] for s in listed}
        assert statuses["S1"] is True
        assert statuses["S2"] is False
        assert statuses["S3"] is False
        assert statuses["S4"] is False
        assert statuses["S5"] is False
        assert statuses["F8"] is False  # a station offering no IUDs cannot be ready for them
        counts = indicator_counts(Area(user=admin, day=AS_OF), config.indicators)[0].counts["iud_ready"]
        # Stations F1 F2 F3 F6 F8 S1–S5 (10); ready: S1 only (F1's fixture answers have no D-items for DCTC).
        assert counts.meeting == 1 + _f1_dctc_ready()


def _f1_dctc_ready() -> int:
    # F1 answered every shipped readiness item met, which includes the whole DCTC set.
    return 1 if set(DCTC_READY) <= set(_shipped_items()) else 0


def test_problem_and_coverage_indicators(app: Flask, client: FlaskClient, data: Dataset) -> None:
    with app.app_context():
        u = {k: db.session.get(AdminUnit, v) for k, v in data.units.items()}
        manager = db.session.get(User, data.users["manager"])
        f3 = db.session.get(Facility, data.facilities["F3"])
        inspect(f3, dt.date(2026, 4, 1), "meets", manager, items={"C8": "met", "E8": "not_met", "E9": "met"})
        f6 = db.session.get(Facility, data.facilities["F6"])
        inspect(f6, dt.date(2026, 4, 2), "meets", manager, items={"C8": "not_met", "E8": "met", "E9": "not_met"})
        old = factories.facility("P9", "Phòng khám P9", u["n2"], u["c2"], type_="PK", ownership="non_public")
        inspect(old, dt.date(2019, 1, 1), "does_not_meet", manager)  # long expired: still "ever assessed"
        db.session.commit()
    login(client, data.users["admin"])
    rows = _rows(client)
    cbd = rows[("tyt_community_distribution", "all", None)]
    # Stations F1 F2 F3 F6 F8; C8 met at F3 only (F1/F8 did not answer it).
    assert (cbd["numerator"], cbd["denominator"]) == (1, 5)
    stockout = rows[("stockout_3_months", "all", None)]
    # Denominator: facilities with a valid result: F1 F3 F4 F6 F8 (5); E8 failed at F3.
    assert (stockout["numerator"], stockout["denominator"]) == (1, 5)
    expired = rows[("expired_stock", "all", None)]
    assert (expired["numerator"], expired["denominator"]) == (1, 5)
    private = rows[("non_public_ever_assessed", "all", None)]
    # Non-public: F4 (inspected), F5 (self-assessment only: not an external assessment), P9 (2019): 2 of 3.
    assert (private["numerator"], private["denominator"]) == (2, 3)


def test_campaign_inspections_do_not_count_in_routine_indicators(app: Flask, client: FlaskClient,
                                                                 data: Dataset) -> None:
    with app.app_context():
        manager = db.session.get(User, data.users["manager"])
        f3 = db.session.get(Facility, data.facilities["F3"])
        # A campaign visit that "meets": the station stays never assessed in the routine indicators.
        inspect(f3, dt.date(2026, 5, 1), "meets", manager, code="fp-campaign")
        # And a campaign visit after F1's routine one does not replace it.
        f1 = db.session.get(Facility, data.facilities["F1"])
        inspect(f1, dt.date(2026, 5, 2), "does_not_meet", manager, code="fp-campaign")
        db.session.commit()
    login(client, data.users["admin"])
    headline = _rows(client)[("facilities_meeting_standard", "all", None)]
    assert (headline["numerator"], headline["denominator"], headline["assessed"]) == (2, 6, 4)


def test_an_indicator_can_read_campaign_inspections_when_it_says_so(app: Flask, data: Dataset) -> None:
    config = parse_indicators("""\
schema: 1
indicators:
  - id: routine
    title: {vi: "Giám sát định kỳ"}
    measure: {classifications: [meets]}
    filters: {facility_types: [TYT]}
  - id: campaign
    title: {vi: "Giám sát chiến dịch"}
    measure: {classifications: [meets]}
    filters: {facility_types: [TYT], programmes: [campaign]}
  - id: either
    title: {vi: "Định kỳ hoặc chiến dịch"}
    measure: {classifications: [meets]}
    filters: {facility_types: [TYT], programmes: [campaign, routine]}
""", "t.yaml")
    assert config.get("either").filters.programmes == ("routine", "campaign")
    with app.app_context():
        manager = db.session.get(User, data.users["manager"])
        admin = db.session.get(User, data.users["admin"])
        f3 = db.session.get(Facility, data.facilities["F3"])
        inspect(f3, dt.date(2026, 5, 1), "meets", manager, code="fp-campaign")
        f1 = db.session.get(Facility, data.facilities["F1"])
        inspect(f1, dt.date(2026, 5, 2), "does_not_meet", manager, code="fp-campaign")
        db.session.commit()
        area = Area(user=admin, day=AS_OF)
        counts = indicator_counts(area, config.indicators)[0].counts
        # Stations F1 F2 F3 F6 F8. Routine: F1 (2025) and F8 meet; F3's campaign visit is not read.
        assert (counts["routine"].meeting, counts["routine"].assessed) == (2, 3)
        # Campaign only: F3 meets, F1's campaign visit does not.
        assert (counts["campaign"].meeting, counts["campaign"].assessed) == (1, 2)
        # Either: each station's latest of the two: F1's campaign visit (2026-05-02) replaces its routine one.
        assert (counts["either"].meeting, counts["either"].assessed) == (2, 4)
        # The trajectory path (one timeline per programme set, in one statement) agrees.
        overview = area_overview(area, config.indicators, groups=("all", "type"), days=(dt.date(2025, 12, 31),))
        now = overview.groups["all"][0].counts
        assert {k: (c.meeting, c.total, c.assessed) for k, c in now.items()} == {
            k: (c.meeting, c.total, c.assessed) for k, c in counts.items()}
        assert overview.days[dt.date(2025, 12, 31)]["campaign"].assessed == 0


def test_api_rounds_as_the_pages_do(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["admin"])
    rows = _rows(client)
    headline = rows[("facilities_meeting_standard", "all", None)]
    # 2/6 = 33.333…: the page shows 33.3%, the API 33.3 with the exact 2 and 6 beside it.
    assert (headline["numerator"], headline["denominator"], headline["value"]) == (2, 6, 33.3)
    assert headline["coverage"] == 66.7  # 4/6 = 66.666…, half up
    page = client.get(f"/compliance/?date={DATE}&lang=en").get_data(as_text=True)
    assert "33.3%" in page and "66.7%" in page
    # Half up where Python's round() and Babel would go to even, and where binary floats would truncate.
    assert round_half_up(100 * 229 / 400) == 57.3  # round(57.25, 1) == 57.2
    assert round_half_up(100 * 5 / 8) == 62.5
    assert round_half_up(83.285, 2) == 83.29   # round(83.285, 2) == 83.28
    assert round_half_up(100 * 1 / 16) == 6.3  # 6.25


CSV_HEADER = "commune_code,unit_system,high_fertility,valid_from,source\n"


def test_high_fertility_import_refuses_bad_rows_and_writes_nothing(app: Flask, data: Dataset,
                                                                   tmp_path: Path) -> None:
    bad = (CSV_HEADER + "03430,2025,1,2026-01-01,QĐ 5/2026\n"   # row 2: fine
           "3451,2025,maybe,2026-01-01,\n"                       # row 3: bad flag (the code gets its zero back)
           "99999,2025,1,2026-01-01,\n"                          # row 4: no such commune
           "03430,2025,0,2026-02-01,\n"                          # row 5: commune listed twice
           "03451,2026,1,31/02/2026,\n")                         # row 6: bad system, bad date
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(HighFertilityStatus))
        parsed = parse_statuses(bad.encode())
        report = import_statuses(parsed, source="bad.csv")
        assert not report.ok
        messages = [str(e) for e in report.errors]
        assert "row 3: high_fertility 'maybe' must be 1/0, yes/no or có/không." in messages
        assert "row 4: No 2025 commune with code 99999." in messages
        assert "row 5: Commune 03430 is already in row 2." in messages
        assert "row 6: unit_system '2026' must be 2025 or pre2025." in messages
        assert any(m.startswith("row 6: valid_from '31/02/2026' is not a date") for m in messages)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HighFertilityStatus)) == before
        # A status that would rewrite history (on or before the commune's current period) is refused too.
        earlier = parse_statuses((CSV_HEADER + "03430,2025,0,2019-01-01,\n").encode())
        report = import_statuses(earlier, source="old.csv")
        assert [str(e) for e in report.errors] == [
            "row 2: Commune 03430 already has a status from 2020-01-01: a new status must start later."]
        db.session.rollback()
        with pytest.raises(FileFormatError):
            parse_statuses(b"commune,high_fertility\n03430,1\n")
    # The command: exit 1 with row numbers, nothing written.
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["regions", "import-high-fertility", str(path)])
    assert result.exit_code == 1
    assert "bad.csv: row 3: high_fertility 'maybe'" in result.output
    assert "nothing was imported" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HighFertilityStatus)) == before
    good = tmp_path / "good.csv"
    good.write_text(CSV_HEADER + "03430,2025,0,2026-06-01,QĐ 5/2026\n03451,2025,1,2026-06-01,QĐ 5/2026\n",
                    encoding="utf-8")
    result = runner.invoke(args=["regions", "import-high-fertility", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 status(es) recorded, 1 period(s) closed, 0 unchanged." in result.output
    with app.app_context():
        history = db.session.execute(sa.select(HighFertilityStatus.high_fertility, HighFertilityStatus.valid_from,
                                               HighFertilityStatus.valid_to)
                                     .where(HighFertilityStatus.unit_id == data.units["n1"])
                                     .order_by(HighFertilityStatus.valid_from)).all()
        assert history == [(True, dt.date(2020, 1, 1), dt.date(2026, 5, 31)), (False, dt.date(2026, 6, 1), None)]
