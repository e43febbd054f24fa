"""Every team member signs: one drawn signature per member (deputy and members too), keyed by the member;
filing waits for all of them."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.inspections import services
from qa_app.inspections.models import Inspection, Signature, signer_keys
from qa_app.minutes import content as visit_content
from qa_app.minutes.services import record_pdf

from .. import review_fixtures as rf
from ..factories import login
from .test_minutes import text_of
from .test_review import finish_form, finish_url, ids, sign  # noqa: F401 (ids is a fixture)

TEAM = {"team-0-role": "head", "team-0-full_name": "Nguyễn Văn Giám", "team-0-position": "Trưởng đoàn",
        "team-1-role": "deputy", "team-1-full_name": "Phạm Thị Phó", "team-1-position": "Phó trưởng đoàn",
        "team-2-role": "member", "team-2-full_name": "Lê Thị Ba", "team-2-position": "Thành viên",
        "team-3-role": "member", "team-3-full_name": "Vàng Văn Tư", "team-3-position": "Thành viên",
        "team-4-role": "facility_rep", "team-4-full_name": "Hoàng Văn Trạm", "team-4-position": "Trạm trưởng"}


def test_signer_keys_name_the_first_of_a_role_by_the_role() -> None:
    assert signer_keys(["head", "member", "member", "secretary", "member", "facility_rep"]) == [
        "head", "member", "member-2", "secretary", "member-3", "facility_rep"]
    assert signer_keys([]) == []


def test_every_member_signs_before_submission(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    rf.answer_all(app, inspection_id, ids["sup"], fail=())
    login(client, ids["sup"], locale="en")
    assert client.post(finish_url(inspection_id), data={**finish_form(app, inspection_id, **TEAM),
                                                        "do": "save"}).status_code == 302
    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    # One pad per member, keyed by the member.
    for key in ("head", "deputy", "member", "member-2", "facility_rep"):
        assert f'data-role="{key}"' in page
    assert "Vàng Văn Tư (Member) has signed" in page

    for key, name in (("head", "Nguyễn Văn Giám"), ("deputy", "Phạm Thị Phó"), ("member", "Lê Thị Ba"),
                      ("facility_rep", "Hoàng Văn Trạm")):
        assert sign(client, inspection_id, key, name=name).status_code == 201
    # A member who has not signed blocks submission, as every named person signs at the visit (on both forms).
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        assert visit_content.signature_problems(inspection) == [("member-2", "missing")]
    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    assert "Vàng Văn Tư (Member) has signed" in page
    response = client.post(finish_url(inspection_id), data={**finish_form(app, inspection_id, **TEAM),
                                                            "do": "submit"}, follow_redirects=True)
    refused = response.get_data(as_text=True)
    assert "The inspection cannot be submitted yet: see what is missing below." in refused
    # The member's line is the one left undone.
    undone = re.findall(r'<li class="todo">(.*?)</li>', refused, re.S)
    assert any("Vàng Văn Tư (Member) has signed" in row for row in undone), undone
    assert rf.status_of(app, inspection_id) == "draft"
    # Filing checks it again: a submitted inspection whose member signature went missing (here deleted behind the
    # application's back) is not filed, and the reviewer is told who.
    assert sign(client, inspection_id, "member-2", name="Vàng Văn Tư").status_code == 201
    response = client.post(finish_url(inspection_id), data={**finish_form(app, inspection_id, **TEAM),
                                                            "do": "submit"}, follow_redirects=True)
    assert "submitted for review" in response.get_data(as_text=True)
    with app.app_context():
        db.session.execute(sa.delete(Signature).where(Signature.inspection_id == inspection_id,
                                                      Signature.member_key == "member-2"))
        db.session.commit()
    login(client, ids["rev"], locale="vi")
    response = client.post(f"/review/inspections/{inspection_id}/approve", json={"confirm": True})
    assert response.status_code == 400 and response.get_json()["error"] == "signatures_void"
    message = response.get_json()["message"]
    assert "Chưa thể vào sổ biên bản" in message and "Vàng Văn Tư (Thành viên)" in message
    assert rf.status_of(app, inspection_id) == "submitted"
    with app.app_context():
        services.return_inspection(db.session.get_one(Inspection, inspection_id),
                                   db.session.get_one(User, ids["rev"]), "Thiếu chữ ký thành viên")
        db.session.commit()
    login(client, ids["sup"], locale="en")
    # Nobody outside the team signs.
    response = sign(client, inspection_id, "member-3")
    assert response.status_code == 400 and "name this person in the team" in response.get_json()["message"]

    assert sign(client, inspection_id, "member-2", name="Vàng Văn Tư").status_code == 201
    assert client.get(f"/review/inspections/{inspection_id}/signatures/member-2.png").status_code == 200
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        assert visit_content.signature_problems(inspection) == []
        assert sorted(db.session.scalars(sa.select(Signature.member_key))) == [
            "deputy", "facility_rep", "head", "member", "member-2"]
        # The signature block lists every member, each with their signature.
        text = text_of(record_pdf(inspection, "vi"))
        for heading in ("PHÓ TRƯỞNG ĐOÀN", "THÀNH VIÊN ĐOÀN", "TRƯỞNG ĐOÀN KIỂM TRA", "ĐẠI DIỆN CƠ SỞ"):
            assert heading in text
        for name in ("Phạm Thị Phó", "Lê Thị Ba", "Vàng Văn Tư"):
            assert text.count(name) >= 2  # in the team list and under their signature
        services.submit(inspection, db.session.get_one(User, ids["sup"]))
        services.approve(inspection, db.session.get_one(User, ids["rev"]))
        db.session.commit()
    assert rf.status_of(app, inspection_id) == "approved"
    # The inspection page shows each member's signature.
    page = client.get(f"/review/inspections/{inspection_id}").get_data(as_text=True)
    assert f"/review/inspections/{inspection_id}/signatures/member-2.png" in page
    assert f"/review/inspections/{inspection_id}/signatures/deputy.png" in page
