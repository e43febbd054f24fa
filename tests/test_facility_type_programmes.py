"""With the shipped checklists registered, each reform facility type is offered the right programme and version.

The demo and inspections of 2026 keep fp-quality v1 for the old types; the new types get routine supervision
from v2's start (1 January 2027); a mobile team is offered the campaign programme only.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.checklists.registry import programmes_for, sync_directory, version_for
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections.models import Inspection

from . import inspection_fixtures as fx
from .factories import login

IN_2026 = dt.date(2026, 6, 1)
IN_2027 = dt.date(2027, 3, 1)


def offered(facility_type: str, on: dt.date) -> dict[str, tuple[str, int]]:
    return {programme: (row.code, row.version) for programme, row in programmes_for(facility_type, on).items()}


def test_the_shipped_checklists_serve_each_facility_type(app: Flask) -> None:
    with app.app_context():
        sync_directory(fx.REAL_CHECKLISTS)
        # 2026: nothing changes for the old types, v1 stays the routine checklist.
        for facility_type in ("TYT", "TTYT", "BV", "PK", "NT"):
            row = version_for(facility_type, IN_2026)
            assert (row.code, row.version) == ("fp-quality", 1), facility_type
        assert offered("TYT", IN_2026) == {"routine": ("fp-quality", 1), "campaign": ("fp-campaign", 1)}
        # The new types have no routine checklist before v2 is in force, then v2.
        for facility_type in ("CDC", "PKKV", "NHS", "YTCQ"):
            assert offered(facility_type, IN_2026) == {}, facility_type
            assert offered(facility_type, IN_2027) == {"routine": ("fp-quality", 2)}, facility_type
        # A mobile team is supervised during campaigns only, never by routine supervision.
        for day in (IN_2026, IN_2027):
            assert offered("DLD", day) == {"campaign": ("fp-campaign", 1)}
            assert version_for("DLD", day) is None


def test_a_mobile_team_is_started_on_the_campaign_checklist(app: Flask, client: FlaskClient) -> None:
    world = fx.build_world(app, fx.REAL_CHECKLISTS)
    with app.app_context():
        station = db.session.get_one(Facility, world["tyt"])
        team = Facility(code="DLD-1", name="Đội lưu động khu vực", type="DLD", ownership="public",
                        unit=station.unit, legacy_unit=station.legacy_unit, active_from=dt.date(2015, 1, 1))
        team.services = ["DCTC", "QC", "TT"]
        db.session.add(team)
        db.session.commit()
        team_id = team.id
    login(client, world["sup"])
    page = client.get(f"/inspections/start?facility_id={team_id}&lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # Routine supervision, the default, has no checklist for a team: the page falls back to the campaign.
    assert "fp-campaign v1" in text and "fp-quality" not in text
    assert 'name="programme" value="campaign"' in text
    assert client.post("/inspections/start", data={"facility_id": team_id, "programme": "campaign"}
                       ).status_code == 302
    with app.app_context():
        started = db.session.scalars(sa.select(Inspection).where(Inspection.facility_id == team_id)).one()
        assert started.checklist_version.code == "fp-campaign"
