"""The team decision of a supervision round: planned and changed with the round, checked field by field."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.extensions import db
from qa_app.rounds.models import SupervisionRound
from tests.compliance_fixtures import Dataset
from tests.factories import login

from .test_rounds import data, plan  # noqa: F401 (data is a fixture)

DECISION = {"decision_number": "12/QĐ-SYT", "decision_date": "2025-12-20", "decision_issuer": "Sở Y tế tỉnh Lai Châu"}


def test_a_round_carries_its_team_decision(app: Flask, client: FlaskClient, data: Dataset) -> None:
    login(client, data.users["manager"], locale="en")
    response = plan(client, data.units["old_province"], **DECISION)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        rnd = db.session.scalar(sa.select(SupervisionRound))
        assert (rnd.team_decision_number, rnd.team_decision_date, rnd.team_decision_issuer) == (
            "12/QĐ-SYT", dt.date(2025, 12, 20), "Sở Y tế tỉnh Lai Châu")
        round_id = rnd.id
    page = client.get(f"/rounds/{round_id}/edit").get_data(as_text=True)
    assert 'value="12/QĐ-SYT"' in page and 'value="2025-12-20"' in page
    form = {"name": "Đợt I năm 2026", "start_date": "2026-01-01", "deadline": "2026-06-30",
            "coverage_basis": "facilities", "coverage_target": "80", "decision_number": "", "decision_date": "",
            "decision_issuer": ""}
    assert client.post(f"/rounds/{round_id}/edit", data=form).status_code == 302
    with app.app_context():
        assert db.session.get_one(SupervisionRound, round_id).team_decision_number == ""


@pytest.mark.parametrize(("over", "message"), [
    ({"decision_date": "", "decision_issuer": ""}, "Team decision date: a date is required"),
    ({"decision_number": ""}, "Team decision: write its number"),
    ({"decision_issuer": " "}, "Team decision: write the issuing body"),
    ({"decision_date": "2026-07-01"}, "must not be after the deadline of the round"),
    ({"decision_number": "9" * 61}, "the number has at most 60 characters"),
])
def test_an_incomplete_decision_is_refused(app: Flask, client: FlaskClient, data: Dataset, over: dict,
                                           message: str) -> None:
    login(client, data.users["manager"], locale="en")
    response = plan(client, data.units["old_province"], **{**DECISION, **over})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SupervisionRound)) == 0
