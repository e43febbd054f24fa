"""A "not observed" answer: the inspection is submitted, approved and filed as "not assessable" (re-visit needed),
its minutes say so, and the indicators count it as neither meeting nor assessed while listing its own status."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.compliance.indicators import load_indicators
from qa_app.compliance.queries import Area, indicator_counts
from qa_app.compliance.report import applicable
from qa_app.extensions import db
from qa_app.inspections import services
from qa_app.inspections.models import Inspection
from qa_app.minutes.models import Minutes

from .. import inspection_fixtures as fx
from ..factories import login
from .test_minutes import text_of

CHECKLIST = """\
schema: 1
code: observed
version: 1
status: published
title: {vi: "Bảng kiểm quan sát thủ thuật", en: "Procedure observation checklist"}
effective_from: 2021-01-01
facility_types: [TYT, NT]
scoring: {overall: pooled, meets_min: 90, conditional_min: 80, section_min: 50, validity_months: 24,
          corrective_days: 30}
sections:
  - id: R
    title: {vi: "Sẵn sàng", en: "Readiness"}
    items:
      - {id: R1, text: {vi: "Có bàn khám", en: "Examination table"}}
  - id: O
    title: {vi: "Quan sát thủ thuật", en: "Observed procedure"}
    items:
      - {id: O1, text: {vi: "Rửa tay trước thủ thuật", en: "Hand hygiene"}, allow_not_observed: true}
"""


def test_not_assessable_is_submitted_approved_filed_and_shown(app: Flask, client: FlaskClient, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "checklists"
    (root / "observed").mkdir(parents=True)
    (root / "observed" / "v1.yaml").write_text(CHECKLIST, encoding="utf-8")
    world = fx.build_world(app, root)
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    login(client, world["sup"])
    # The no-script form offers "Not observed" where the file allows it, and saves it.
    form = client.get(f"/inspections/{inspection_id}/form?lang=en").get_data(as_text=True)
    assert form.count('name="value_choice" value="not_observed"') == 1  # O1 only, not R1
    # Everything answered as passing, except the procedure nobody came for that day.
    passing = fx.passing_value
    monkeypatch.setattr(fx, "passing_value", lambda item: "not_observed" if item.id == "O1" else passing(item))
    fx.submit_complete(app, inspection_id, world["sup"])
    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection.status == "submitted" and inspection.classification == "not_assessable"
        assert services.current_score(inspection).revisit_needed
        services.approve(inspection, db.session.get(User, world["rev"]))
        db.session.commit()
        pdf = db.session.scalar(sa.select(Minutes.pdf).where(Minutes.inspection_id == inspection_id))
        text = text_of(pdf)
        assert "Không đánh giá được (có nội dung không quan sát được), cần giám sát lại" in text
        assert "Không quan sát được" in text  # the annex answer

        area = Area(user=db.session.get(User, world["admin"]), day=dt.date.today())
        counts = indicator_counts(area, applicable(load_indicators(), area))[0].counts
        main = counts["facilities_meeting_standard"]
        # Neither meeting nor assessed: the facility still awaits a result.
        assert (main.meeting, main.assessed) == (0, 0)
    login(client, world["admin"])
    page = client.get(f"/compliance/failing?date={dt.date.today().isoformat()}&lang=en").get_data(as_text=True)
    assert 'cmp-status cmp-not_assessable">Not assessable: re-visit needed' in page
    review = client.get(f"/review/inspections/{inspection_id}?lang=vi").get_data(as_text=True)
    assert "Không đánh giá được: cần giám sát lại" in review
    # The facility's own page and the registry list show the same status, and can filter on it.
    facility = client.get(f"/facilities/{world['tyt']}?lang=en").get_data(as_text=True)
    assert 'badge-not_assessable">Not assessable: re-visit needed' in facility
    listed = client.get("/facilities/?status=not_assessable&lang=en").get_data(as_text=True)
    assert "Trạm Y tế xã Bản Giang" in listed and "Nhà thuốc Minh Châu" not in listed
