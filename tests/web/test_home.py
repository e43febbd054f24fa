"""The home page puts the signed-in user's open work first."""

from __future__ import annotations

from flask import Flask

from qa_app.extensions import db
from qa_app.inspections.models import Inspection
from tests.factories import login
from tests.inspection_fixtures import build_world, start


def test_supervisor_finds_own_drafts_and_nothing_of_others(app: Flask, client) -> None:
    ids = build_world(app)
    mine = start(app, ids["tyt"], ids["sup"])
    start(app, ids["nt"], ids["sup_b"])  # a colleague's draft in the same district
    start(app, ids["tyt2"], ids["sup2"])  # another district's draft

    login(client, ids["sup"])
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Your work" in page
    assert f'href="/inspections/{mine}"' in page
    assert "Trạm Y tế xã Bản Giang" in page
    assert "Nhà thuốc Minh Châu" not in page
    assert "Trạm Y tế xã Mường So" not in page


def test_supervisor_without_work_is_sent_to_the_facilities(app: Flask, client) -> None:
    ids = build_world(app)
    login(client, ids["sup"])
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "No inspection in progress" in page
    assert 'href="/facilities/"' in page


def test_reviewer_sees_how_many_wait_in_their_district_only(app: Flask, client) -> None:
    ids = build_world(app)
    own, other = start(app, ids["tyt"], ids["sup"]), start(app, ids["tyt2"], ids["sup2"])
    with app.app_context():
        # Only the status matters to the count; the workflow itself is tested in test_review.py.
        for inspection_id in (own, other):
            inspection = db.session.get(Inspection, inspection_id)
            inspection.status, inspection.submitted_at = "submitted", inspection.created_at
            inspection.classification, inspection.checklist_sha256 = "meets", "0" * 64
        db.session.commit()
    login(client, ids["rev"])
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "1 inspection waiting for review" in page
    assert "No inspection in progress" not in page  # reviewers do not start inspections


def test_signed_out_home_has_no_work_section(app: Flask, client) -> None:
    build_world(app)
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Your work" not in page
