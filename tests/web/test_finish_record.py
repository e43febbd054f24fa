"""The finishing page's parts of the visit record: team decision, Kết luận and the facility's opinion."""

from __future__ import annotations

import datetime as dt
import decimal
import html
import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.audit.models import AuditEntry
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections.models import Inspection, Signature
from qa_app.minutes import content as visit_content
from qa_app.rounds.models import RoundAssignment, SupervisionRound

from .. import review_fixtures as rf
from ..factories import login
from .test_review import finish_form, finish_url, ids, sign  # noqa: F401 (ids is a fixture)


def _post(client: FlaskClient, app: Flask, inspection_id: int, **fields: str):
    return client.post(finish_url(inspection_id), data={**finish_form(app, inspection_id, **fields), "do": "save"})


def test_decision_conclusion_and_opinion_are_saved(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    rf.answer_all(app, inspection_id, ids["sup"], fail=("A3",))
    login(client, ids["sup"], locale="en")
    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    # The failed item is in the suggested shortcomings, ready to edit; the pads come after the warning.
    assert "Các tiêu chí không đạt: A3." in page
    assert page.index('id="sig-warning"') < page.index("data-sigpad")
    assert "voids the signatures made before it" in page
    assert 'name="facility_no_opinion"' in page

    response = _post(client, app, inspection_id, decision_number="15/QĐ-SYT", decision_date="2026-03-01",
                     decision_issuer="Sở Y tế tỉnh Lai Châu", conclusion_strengths="Trạm sạch sẽ, đủ thuốc.",
                     conclusion_shortcomings="Chưa niêm yết giá.", facility_opinion="")
    assert response.status_code == 302
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        assert (inspection.team_decision_number, inspection.team_decision_date,
                inspection.team_decision_issuer) == ("15/QĐ-SYT", dt.date(2026, 3, 1), "Sở Y tế tỉnh Lai Châu")
        assert inspection.conclusion_strengths == "Trạm sạch sẽ, đủ thuốc."
        assert inspection.conclusion_shortcomings == "Chưa niêm yết giá."
        assert inspection.facility_opinion == "" and not inspection.facility_no_opinion

    response = _post(client, app, inspection_id, facility_opinion="", facility_no_opinion="y",
                     decision_number="15/QĐ-SYT", decision_date="2026-03-01", decision_issuer="Sở Y tế tỉnh Lai Châu",
                     conclusion_strengths="Trạm sạch sẽ, đủ thuốc.", conclusion_shortcomings="Chưa niêm yết giá.")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get_one(Inspection, inspection_id).facility_no_opinion
    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="facility_no_opinion"', page)


def test_wrong_parts_are_refused_with_a_clear_message(app: Flask, client: FlaskClient,
                                                      ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    login(client, ids["sup"], locale="vi")

    response = _post(client, app, inspection_id, decision_number="15/QĐ-SYT", decision_date="",
                     decision_issuer="")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Quyết định thành lập Đoàn" in page and "ngày ban hành" in page and "cơ quan ban hành" in page
    response = _post(client, app, inspection_id, decision_number="15/QĐ-SYT", decision_date="2026-04-01",
                     decision_issuer="Sở Y tế")
    assert response.status_code == 400 and "sau ngày kiểm tra" in response.get_data(as_text=True)
    response = _post(client, app, inspection_id, facility_opinion="Đồng ý", facility_no_opinion="y")
    assert response.status_code == 400
    assert "Cơ sở không có ý kiến" in response.get_data(as_text=True)
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        # Nothing of the refused pages was saved.
        assert inspection.team_decision_number == "" and not inspection.facility_no_opinion
        assert inspection.facility_opinion == ""


def test_saving_a_new_conclusion_voids_the_signatures(app: Flask, client: FlaskClient,
                                                      ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    rf.answer_all(app, inspection_id, ids["sup"], fail=("A3",))
    login(client, ids["sup"], locale="en")
    assert _post(client, app, inspection_id).status_code == 302
    assert sign(client, inspection_id, "head").status_code == 201
    # Saving the page again as it is (suggested conclusion untouched) changes nothing under the signature.
    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    def shown(name: str) -> str:
        return html.unescape(page.split(f'name="{name}"')[1].split(">", 1)[1].split("</textarea>")[0].strip())

    assert "A3" in shown("conclusion_shortcomings")
    assert _post(client, app, inspection_id, conclusion_shortcomings=shown("conclusion_shortcomings"),
                 conclusion_strengths=shown("conclusion_strengths")).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Signature.voided_at)) is None
        assert db.session.get_one(Inspection, inspection_id).conclusion_shortcomings == ""
    assert _post(client, app, inspection_id, conclusion_shortcomings="Chưa niêm yết giá.").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Signature.voided_at)) is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "signature.voided")) == 1
    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    assert "Void: the content changed" in page
    # The head's pad says its stored signature is void (not just "saved"); the representative never signed.
    pads = {p.split('data-role="')[1].split('"')[0]: p for p in page.split("data-sigpad")[1:]}
    assert "data-sig-void" in pads["head"] and "data-sig-void" not in pads["facility_rep"]


def test_save_comes_back_at_the_signatures_saying_so(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    rf.answer_all(app, inspection_id, ids["sup"])
    login(client, ids["sup"], locale="en")
    response = _post(client, app, inspection_id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{finish_url(inspection_id)}?saved=1#signatures")
    said = "Saved. Sign now: a signature covers the record as saved."
    page = client.get(f"{finish_url(inspection_id)}?saved=1").get_data(as_text=True)
    assert said in page and page.index('id="sig-h"') < page.index(said) < page.index("data-sigpad")
    assert said not in client.get(finish_url(inspection_id)).get_data(as_text=True)
    # A refused save says nothing of the kind (and never redirects).
    refused = client.post(finish_url(inspection_id) + "?saved=1",
                          data={**finish_form(app, inspection_id, decision_date="2026-02-31"), "do": "save"})
    assert refused.status_code == 400 and said not in refused.get_data(as_text=True)


def test_the_round_decision_is_prefilled_and_cited(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    with app.app_context():
        facility = db.session.get_one(Facility, ids["f1"])
        rnd = SupervisionRound(name="Đợt I năm 2026", unit_id=ids["province"], facility_types=["TYT"],
                               start_date=dt.date(2026, 3, 1), deadline=dt.date(2026, 3, 31),
                               coverage_target=decimal.Decimal("80"), created_by_id=ids["mgr"],
                               team_decision_number="07/QĐ-SYT", team_decision_date=dt.date(2026, 2, 20),
                               team_decision_issuer="Sở Y tế tỉnh Lai Châu")
        rnd.assignments = [RoundAssignment(facility_id=facility.id, supervisor_id=ids["sup"])]
        db.session.add(rnd)
        db.session.commit()
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    login(client, ids["sup"], locale="en")
    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    assert 'value="07/QĐ-SYT"' in page and "Prefilled from the supervision round" in page
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        assert visit_content.team_decision_of(inspection) == ("07/QĐ-SYT", dt.date(2026, 2, 20),
                                                               "Sở Y tế tỉnh Lai Châu")
        assert visit_content.content_of(inspection)["decision"] == ["07/QĐ-SYT", "Sở Y tế tỉnh Lai Châu",
                                                                    "2026-02-20"]
    # Saved as prefilled: the inspection keeps citing the round's decision, not a copy of it.
    assert _post(client, app, inspection_id, decision_number="07/QĐ-SYT", decision_date="2026-02-20",
                 decision_issuer="Sở Y tế tỉnh Lai Châu").status_code == 302
    with app.app_context():
        assert db.session.get_one(Inspection, inspection_id).team_decision_number == ""
    # Its own decision wins over the round's.
    assert _post(client, app, inspection_id, decision_number="09/QĐ-TTKSBT", decision_date="2026-03-05",
                 decision_issuer="Trung tâm Kiểm soát bệnh tật").status_code == 302
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        assert visit_content.team_decision_of(inspection)[0] == "09/QĐ-TTKSBT"
