"""Programmes: several checklists per facility type, one current version per programme.

A campaign checklist registered for the same facility types must never change what routine supervision uses,
the start page offers each programme that has a checklist, and campaign visits stay out of the routine indicators.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.checklists.loader import ChecklistError, parse_checklist, programmes_available, select_version
from qa_app.checklists.models import ChecklistVersion
from qa_app.checklists.registry import programmes_for, sync_directory, version_for
from qa_app.compliance.indicators import load_indicators
from qa_app.compliance.queries import Area, indicator_counts
from qa_app.compliance.report import applicable
from qa_app.extensions import db
from qa_app.inspections.status import refresh as refresh_intervals
from qa_app.facilities.models import Facility
from qa_app.inspections import services
from qa_app.inspections.models import Inspection

from . import inspection_fixtures as fx
from .compliance_fixtures import AS_OF, build_lai_chau, inspect
from .factories import login

CAMPAIGN = """\
schema: 1
code: {code}
version: {version}
status: published
programme: {programme}
title: {{vi: "Bảng kiểm giám sát chiến dịch", en: "Campaign supervision checklist"}}
effective_from: {effective}
facility_types: [{types}]
scoring: {{overall: pooled, meets_min: 90, conditional_min: 80, section_min: 50, validity_months: 12, corrective_days: 15}}
sections:
  - id: M
    title: {{vi: "Chuẩn bị chiến dịch", en: "Campaign preparation"}}
    items:
      - id: M1
        text: {{vi: "Có kế hoạch chiến dịch của xã", en: "The commune has a campaign plan"}}
"""


def campaign_text(code: str = "camp", version: int = 1, programme: str = "campaign",
                  effective: str = "2021-01-01", types: str = "TYT, TTYT, BV, PK, NT") -> str:
    return CAMPAIGN.format(code=code, version=version, programme=programme, effective=effective, types=types)


def write_campaign(root: Path, **kwargs) -> Path:
    code = kwargs.get("code", "camp")
    path = root / code / f"v{kwargs.get('version', 1)}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(campaign_text(**kwargs), encoding="utf-8")
    return path


def with_campaign(tmp_path: Path, **kwargs) -> Path:
    """The shipped checklists plus a campaign checklist covering every facility type."""
    root = tmp_path / "checklists"
    shutil.copytree(fx.REAL_CHECKLISTS, root)
    for extra in root.iterdir():
        if extra.is_dir() and extra.name != "fp-quality":
            shutil.rmtree(extra)
    write_campaign(root, **kwargs)
    return root


# ---------------------------------------------------------------------------------------------- pure rule


def test_programme_defaults_to_routine_and_is_validated() -> None:
    routine = parse_checklist(campaign_text().replace("programme: campaign\n", ""), "t.yaml")
    assert routine.programme == "routine"
    assert parse_checklist(campaign_text(), "t.yaml").programme == "campaign"
    with pytest.raises(ChecklistError) as err:
        parse_checklist(campaign_text(programme="campain"), "t.yaml")
    assert "programme must be one of routine, campaign, self_assessment, gpp" in str(err.value)


def test_selection_stays_within_the_programme() -> None:
    routine = parse_checklist(campaign_text(code="routine-a", programme="routine"), "r.yaml")
    newer_campaign = parse_checklist(campaign_text(effective="2026-01-01"), "c.yaml")
    day = dt.date(2026, 6, 1)
    # The campaign checklist is more recent, yet routine supervision keeps its own checklist.
    assert select_version([routine, newer_campaign], "TYT", day) is routine
    assert select_version([routine, newer_campaign], "TYT", day, "campaign") is newer_campaign
    assert select_version([routine, newer_campaign], "TYT", day, "gpp") is None
    offered = programmes_available([newer_campaign, routine], "TYT", day)
    assert list(offered) == ["routine", "campaign"]


# ---------------------------------------------------------------------------------------------- registry


def test_registering_a_second_checklist_leaves_the_routine_choice_unchanged(app: Flask, tmp_path: Path) -> None:
    root = tmp_path / "checklists"
    shutil.copytree(fx.REAL_CHECKLISTS / "fp-quality", root / "fp-quality")
    day = dt.date(2026, 6, 1)
    with app.app_context():
        sync_directory(root)
        before = {t: (version_for(t, day).code, version_for(t, day).version) for t in ("TYT", "PK", "NT")}
        # A campaign checklist for the same types, effective later than fp-quality: it used to win everywhere.
        write_campaign(root, effective="2026-01-01")
        assert sync_directory(root).added == ["camp v1"]
        after = {t: (version_for(t, day).code, version_for(t, day).version) for t in ("TYT", "PK", "NT")}
        assert after == before and before["TYT"][0] == "fp-quality"
        assert version_for("TYT", day, programme="campaign").code == "camp"
        assert db.session.scalar(sa.select(ChecklistVersion.programme).where(ChecklistVersion.code == "camp")) \
            == "campaign"
        assert list(programmes_for("TYT", day)) == ["routine", "campaign"]
        # Before the campaign checklist is in force, only routine supervision is offered.
        assert list(programmes_for("TYT", dt.date(2025, 12, 31))) == ["routine"]


# ---------------------------------------------------------------------------------------------- start page


def test_start_page_offers_the_programmes_and_starts_the_chosen_one(app: Flask, client: FlaskClient,
                                                                    tmp_path: Path) -> None:
    world = fx.build_world(app, with_campaign(tmp_path))
    login(client, world["sup"])
    page = client.get(f"/inspections/start?facility_id={world['tyt']}&lang=en").get_data(as_text=True)
    assert re.search(r'name="programme" value="routine"\s+checked', page)
    assert 'name="programme" value="campaign"' in page
    assert "Routine quality supervision" in page and "Campaign supervision" in page
    assert "fp-quality v1" in page
    chosen = client.get(f"/inspections/start?facility_id={world['tyt']}&programme=campaign&lang=en")
    text = chosen.get_data(as_text=True)
    assert "camp v1" in text and 'data-programme="campaign"' in text
    # Vietnamese is the default language.
    vi = client.get(f"/inspections/start?facility_id={world['tyt']}&lang=vi").get_data(as_text=True)
    assert "Giám sát chất lượng định kỳ" in vi and "Giám sát chiến dịch" in vi

    assert client.post("/inspections/start", data={"facility_id": world["tyt"], "programme": "campaign"}
                       ).status_code == 302
    assert client.post("/inspections/start", data={"facility_id": world["tyt"]}).status_code == 302
    refused = client.post("/inspections/start", data={"facility_id": world["tyt"], "programme": "nonsense"})
    assert refused.status_code == 400
    with app.app_context():
        codes = [i.checklist_version.code for i in db.session.scalars(sa.select(Inspection).order_by(Inspection.id))]
    assert codes == ["camp", "fp-quality"]


def test_start_page_without_other_programmes_shows_no_choice(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    root = tmp_path / "checklists"
    shutil.copytree(fx.REAL_CHECKLISTS / "fp-quality", root / "fp-quality")
    world = fx.build_world(app, root)
    login(client, world["sup"])
    page = client.get(f"/inspections/start?facility_id={world['tyt']}&lang=en").get_data(as_text=True)
    assert 'type="radio" name="programme"' not in page


def test_a_correction_keeps_the_programme_of_what_it_corrects(app: Flask, tmp_path: Path) -> None:
    world = fx.build_world(app, with_campaign(tmp_path))
    with app.app_context():
        facility, user = db.session.get(Facility, world["tyt"]), db.session.get(User, world["sup"])
        camp = db.session.scalar(sa.select(ChecklistVersion).where(ChecklistVersion.code == "camp"))
        first = inspect(facility, dt.date.today(), "meets", user)
        first.checklist_version_id, first.checklist_sha256 = camp.id, camp.sha256
        db.session.flush()
        db.session.expire(first)
        again = services.start_inspection(facility, user, on=dt.date.today(), supersedes=first)
        assert again.checklist_version.code == "camp"


# ---------------------------------------------------------------------------------------------- indicators


def test_a_campaign_inspection_does_not_count_in_the_routine_indicators(app: Flask, tmp_path: Path) -> None:
    data = build_lai_chau(app)

    def whole() -> tuple[int, int, int]:
        area = Area(user=db.session.get(User, data.users["admin"]), day=AS_OF)
        rows = indicator_counts(area, applicable(load_indicators(), area))
        counts = rows[0].counts["facilities_meeting_standard"]
        return counts.meeting, counts.total, counts.assessed

    with app.app_context():
        assert whole() == (2, 6, 4)  # service facilities: the pharmacy F5 is not counted
        root = tmp_path / "extra"
        write_campaign(root)
        sync_directory(root)
        camp = db.session.scalar(sa.select(ChecklistVersion).where(ChecklistVersion.code == "camp"))
        manager = db.session.get(User, data.users["manager"])
        # F3 was never assessed and F4 failed its routine inspection: both "meet" a later campaign visit.
        for code in ("F3", "F4"):
            visit = inspect(db.session.get(Facility, data.facilities[code]), dt.date(2026, 5, 1), "meets", manager)
            visit.checklist_version_id, visit.checklist_sha256 = camp.id, camp.sha256
        db.session.flush()
        refresh_intervals([data.facilities["F3"], data.facilities["F4"]])  # as their approval would
        db.session.commit()
        assert whole() == (2, 6, 4)  # service facilities: the pharmacy F5 is not counted
        # Nor does it change the facilities' standing in the registry.
        from qa_app.facilities.status import facility_status

        standing = facility_status([data.facilities["F3"], data.facilities["F4"]], AS_OF)
        assert [standing[data.facilities[c]].status for c in ("F3", "F4")] == ["not_assessed", "does_not_meet"]
