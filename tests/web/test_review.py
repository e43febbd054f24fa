"""Finishing, signatures, review decisions, history and corrective-action follow-up, through HTTP."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.audit.models import AuditEntry
from qa_app.audit.services import verify_chain
from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.inspections import services
from qa_app.inspections.models import (
    Answer,
    CorrectiveAction,
    Inspection,
    ReviewComment,
    SectionResult,
    Signature,
    TeamMember,
)
from qa_app.inspections.services import WorkflowError

from .. import review_fixtures as rf
from ..factories import login


@pytest.fixture
def ids(app: Flask) -> dict[str, int]:
    return rf.setup_region(app)


def finish_url(inspection_id: int) -> str:
    return f"/review/inspections/{inspection_id}/finish"


def page_url(inspection_id: int) -> str:
    return f"/review/inspections/{inspection_id}"


def finish_form(app: Flask, inspection_id: int, **overrides: str) -> dict[str, str]:
    """The finishing form as a browser would post it after filling every part in.

    What is already saved comes back as the page prefills it (team, actions, opinion), so posting the form
    unchanged changes no content and leaves the drawn signatures that covered it valid.
    """
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        score = services.current_score(inspection)
        revision = inspection.revision
        team = db.session.scalars(sa.select(TeamMember).where(TeamMember.inspection_id == inspection_id)
                                  .order_by(TeamMember.position_order)).all()
        saved_actions = {a.item_id: a for a in db.session.scalars(
            sa.select(CorrectiveAction).where(CorrectiveAction.inspection_id == inspection_id))}
        opinion = inspection.facility_opinion
    data = {"revision": str(revision), "facility_opinion": opinion or "Cơ sở nhất trí với kết quả."}
    if team:
        for n, member in enumerate(team):
            data.update({f"team-{n}-role": member.role, f"team-{n}-full_name": member.full_name,
                         f"team-{n}-position": member.position})
    else:
        data.update({"team-0-role": "head", "team-0-full_name": "Nguyễn Văn Giám", "team-0-position": "Trưởng đoàn",
                     "team-1-role": "member", "team-1-full_name": "", "team-1-position": "",
                     "team-2-role": "facility_rep", "team-2-full_name": "Hoàng Văn Trạm",
                     "team-2-position": "Trạm trưởng"})
    for n, item_id in enumerate(score.failed_items):
        saved = saved_actions.get(item_id)
        data.update({f"actions-{n}-item_id": item_id,
                     f"actions-{n}-action": saved.action if saved else "Niêm yết bảng giá dịch vụ",
                     f"actions-{n}-responsible": saved.responsible if saved else "Trạm trưởng",
                     f"actions-{n}-deadline": saved.deadline.isoformat() if saved else "2026-04-09"})
    data.update(overrides)
    return data


def sign(client: FlaskClient, inspection_id: int, role: str, strokes: object = rf.STROKES,
         png: str | None = None, name: str = "Người Ký"):
    return client.post(f"/review/inspections/{inspection_id}/signatures",
                       json={"role": role, "signer_name": name, "png": png or rf.png_data_url(), "strokes": strokes})


# ---------------------------------------------------------------------------------------------- finishing


def test_submit_is_blocked_until_everything_is_there(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    rf.answer_all(app, inspection_id, ids["sup"], fail=("A3",), skip=("A4",))
    login(client, ids["sup"], locale="en")

    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    assert "Running score" in page and "Before submitting" in page
    assert "Every applicable item answered (" in page and "A4" in page
    assert "A3" in page and "Failed items" in page
    # Each failed item links back to it on the form.
    assert f'href="/inspections/{inspection_id}/form#item-A3"' in page
    # The failed item gets a corrective action row with the default deadline (inspection date + 30 days).
    assert 'name="actions-0-item_id"' in page and 'value="2026-04-09"' in page

    def try_submit(**overrides: str) -> str:
        response = client.post(finish_url(inspection_id), data={**finish_form(app, inspection_id, **overrides),
                                                                "do": "submit"}, follow_redirects=True)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    # Everything but A4, signatures: refused, and the page says what is missing.
    page = try_submit()
    assert "cannot be submitted yet" in page
    assert rf.status_of(app, inspection_id) == "draft"
    with app.app_context():
        # The parts of the page were saved all the same.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TeamMember)) == 2
        assert db.session.scalar(sa.select(CorrectiveAction.item_id)) == "A3"
        opinion = db.session.get_one(Inspection, inspection_id).facility_opinion
        assert opinion == "Cơ sở nhất trí với kết quả."
    assert page.count('class="todo"') == 3  # A4 unanswered, two signatures

    rf.answer_all(app, inspection_id, ids["sup"], fail=("A3",))
    assert sign(client, inspection_id, "head").status_code == 201
    page = try_submit()
    assert "cannot be submitted yet" in page and page.count('class="todo"') == 1  # the facility has not signed
    assert sign(client, inspection_id, "facility_rep").status_code == 201

    # Without a corrective action for the failed item: still refused.
    page = try_submit(**{"actions-0-action": ""})
    assert "cannot be submitted yet" in page and "A corrective action for each failed item (0 of 1)" in page
    assert rf.status_of(app, inspection_id) == "draft"
    # Removing the action changed the content both had signed: their signatures are void until signed again.
    page = try_submit()
    assert "cannot be submitted yet" in page and "Void: the content changed" in page
    assert sign(client, inspection_id, "head").status_code == 201
    assert sign(client, inspection_id, "facility_rep").status_code == 201

    page = try_submit()
    assert "submitted for review" in page
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        assert inspection.status == "submitted" and inspection.classification == "meets"
        assert inspection.failed_items == 1 and inspection.overall_percent is not None
        assert inspection.checklist_sha256 == inspection.checklist_version.sha256
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SectionResult)) > 0
        assert db.session.scalar(sa.select(Answer.failed).where(Answer.item_id == "A3"))
        # Answers are locked now.
        with pytest.raises(WorkflowError) as exc:
            services.save_answer(inspection, "A3", db.session.get_one(User, ids["sup"]), value="met",
                                 base_revision=2)
        assert exc.value.code == "locked"
    # The finishing page of a submitted inspection sends people to the inspection page.
    response = client.get(finish_url(inspection_id))
    assert response.status_code == 302 and response.headers["Location"].endswith(page_url(inspection_id))


def test_the_head_of_the_team_is_prefilled_with_the_supervisor(app: Flask, client: FlaskClient,
                                                              ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    login(client, ids["sup"], locale="en")
    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    with app.app_context():
        name = db.session.get(User, ids["sup"]).full_name
    assert re.search(r'name="team-0-full_name"[^>]*value="' + re.escape(name) + '"', page) or \
        re.search(r'value="' + re.escape(name) + r'"[^>]*name="team-0-full_name"', page), "head not prefilled"


def test_finish_form_errors_save_nothing(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    rf.answer_all(app, inspection_id, ids["sup"], fail=("A3",))
    login(client, ids["sup"], locale="en")
    # Two heads of the team and an action without "who": both refused, nothing saved.
    data = finish_form(app, inspection_id, **{"team-1-role": "head", "team-1-full_name": "Người Thứ Hai",
                                              "actions-0-responsible": ""})
    response = client.post(finish_url(inspection_id), data={**data, "do": "save"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved." in page and "The team was not saved" in page
    assert "The corrective actions were not saved" in page
    assert "Người Thứ Hai" in page  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TeamMember)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CorrectiveAction)) == 0
    # A deadline before the inspection is refused too.
    data = finish_form(app, inspection_id, **{"actions-0-deadline": "2026-01-01"})
    assert client.post(finish_url(inspection_id), data={**data, "do": "save"}).status_code == 400
    # A valid save redirects back to the page, with the saved rows prefilled.
    response = client.post(finish_url(inspection_id), data={**finish_form(app, inspection_id), "do": "save"})
    assert response.status_code == 302
    page = client.get(finish_url(inspection_id)).get_data(as_text=True)
    assert 'value="Hoàng Văn Trạm"' in page and "Niêm yết bảng giá dịch vụ" in page


def test_submit_with_stale_revision_is_not_submitted(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.complete(app, ids)
    login(client, ids["sup"], locale="en")
    data = finish_form(app, inspection_id)
    data["revision"] = str(int(data["revision"]) - 1)
    response = client.post(finish_url(inspection_id), data={**data, "do": "submit"}, follow_redirects=True)
    assert "changed since you opened this page" in response.get_data(as_text=True)
    assert rf.status_of(app, inspection_id) == "draft"


def test_finishing_is_for_supervisors_in_scope(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    login(client, ids["rev"], locale="en")
    assert client.get(finish_url(inspection_id)).status_code == 403
    assert sign(client, inspection_id, "head").status_code == 403
    login(client, ids["sup2"], locale="en")
    assert client.get(finish_url(inspection_id)).status_code == 404
    assert sign(client, inspection_id, "head").status_code == 404
    login(client, ids["admin"], locale="en")
    assert client.get(finish_url(inspection_id)).status_code == 200


# ---------------------------------------------------------------------------------------------- signatures


def test_signatures_refuse_empty_pads_and_are_served(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.start(app, ids["f1"], ids["sup"])
    login(client, ids["sup"], locale="en")
    for strokes in ([], [[[0.5, 0.5]]], [[]]):
        response = sign(client, inspection_id, "head", strokes=strokes)
        assert response.status_code == 400
        assert "empty" in response.get_json()["message"]
    assert sign(client, inspection_id, "head", strokes=[[["x", 1], [0, 0]]]).status_code == 400
    assert sign(client, inspection_id, "head", png="data:image/png;base64,bm90IGEgcG5n").status_code == 400
    assert sign(client, inspection_id, "secretary").status_code == 400
    assert sign(client, inspection_id, "head", name="  ").status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0
    assert client.get(f"/review/inspections/{inspection_id}/signatures/head.png").status_code == 404

    # Points outside the pad (a finger sliding off the edge) are clamped to it.
    strokes = [*rf.STROKES, [[1.2, -0.1], [0.9, 0.1]]]
    response = sign(client, inspection_id, "head", strokes=strokes, name="Nguyễn Văn Giám")
    assert response.status_code == 201
    body = response.get_json()
    assert body["ok"] and body["url"].startswith(f"/review/inspections/{inspection_id}/signatures/head.png")
    with app.app_context():
        signature = db.session.scalar(sa.select(Signature))
        assert signature.signer_name == "Nguyễn Văn Giám" and signature.png == rf.signature_png()
        assert signature.strokes[-1] == [[1.0, 0.0], [0.9, 0.1]]
        assert body["revision"] == db.session.get_one(Inspection, inspection_id).revision
    image = client.get(body["url"])
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == rf.signature_png()
    # After a reload the saved signature is shown on the finishing page and the inspection page.
    assert f"/review/inspections/{inspection_id}/signatures/head.png" in client.get(
        finish_url(inspection_id)).get_data(as_text=True)
    # Another district cannot see it.
    login(client, ids["rev2"], locale="en")
    assert client.get(body["url"]).status_code == 404
    login(client, ids["rev"], locale="en")
    assert client.get(body["url"]).status_code == 200


# ---------------------------------------------------------------------------------------------- review workflow


def test_review_workflow_and_history(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.complete(app, ids)
    login(client, ids["rev"], locale="en")
    # Approving or returning a draft is refused, and the page says so.
    response = client.post(f"/review/inspections/{inspection_id}/approve", follow_redirects=True)
    assert "Only a submitted inspection can be approved or returned" in response.get_data(as_text=True)
    assert client.post(f"/review/inspections/{inspection_id}/approve", json={}).status_code == 409
    assert client.post(f"/review/inspections/{inspection_id}/return", data={"comment": "x"}).status_code == 302
    assert rf.status_of(app, inspection_id) == "draft"
    # No review buttons on a draft.
    assert "/approve" not in client.get(page_url(inspection_id)).get_data(as_text=True)

    login(client, ids["sup"], locale="en")
    # The finishing page's content differs from what was signed in rf.complete: saved, read out, signed again.
    client.post(finish_url(inspection_id), data={**finish_form(app, inspection_id), "do": "save"})
    for role in ("head", "facility_rep"):
        assert sign(client, inspection_id, role).status_code == 201
    client.post(finish_url(inspection_id), data={**finish_form(app, inspection_id), "do": "submit"})
    assert rf.status_of(app, inspection_id) == "submitted"
    # A supervisor may not decide.
    assert client.post(f"/review/inspections/{inspection_id}/approve").status_code == 403
    assert client.post(f"/review/inspections/{inspection_id}/return", data={"comment": "x"}).status_code == 403
    assert rf.status_of(app, inspection_id) == "submitted"

    # A reviewer of another district does not even see it.
    login(client, ids["rev2"], locale="en")
    assert client.get(page_url(inspection_id)).status_code == 404
    for action in ("approve", "return", "comments"):
        assert client.post(f"/review/inspections/{inspection_id}/{action}",
                           data={"comment": "x", "body": "x"}).status_code == 404
    assert rf.status_of(app, inspection_id) == "submitted"

    login(client, ids["rev"], locale="en")
    page = client.get(page_url(inspection_id)).get_data(as_text=True)
    assert "Review decision" in page and "/approve" in page and "Comment on item A3" in page
    # Returning without a comment is refused; the status does not change.
    response = client.post(f"/review/inspections/{inspection_id}/return", data={"comment": "   "},
                           follow_redirects=True)
    assert "cannot be returned without one" in response.get_data(as_text=True)
    assert rf.status_of(app, inspection_id) == "submitted"
    response = client.post(f"/review/inspections/{inspection_id}/return", json={"comment": ""})
    assert response.status_code == 400 and response.get_json()["error"] == "comment_required"
    # An item comment, then a return with a comment.
    response = client.post(f"/review/inspections/{inspection_id}/comments",
                           data={"item_id": "A3", "body": "Ảnh bảng giá bị mờ"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#item-A3")
    response = client.post(f"/review/inspections/{inspection_id}/return",
                           data={"comment": "Kiểm tra lại tiêu chí A3"}, follow_redirects=True)
    assert "returned to the supervisor" in response.get_data(as_text=True)
    assert rf.status_of(app, inspection_id) == "returned"

    # The supervisor sees the comments and can edit again.
    login(client, ids["sup"], locale="en")
    page = client.get(page_url(inspection_id)).get_data(as_text=True)
    assert "Returned for corrections" in page and "Kiểm tra lại tiêu chí A3" in page
    assert "Ảnh bảng giá bị mờ" in page and "Finish and submit" in page
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        answer = services.answers_of(inspection)["A3"]
        services.save_answer(inspection, "A3", db.session.get_one(User, ids["sup"]), value="met",
                             note="Đã niêm yết", base_revision=answer.revision)
        db.session.commit()
    # A3 passes now: no corrective action row, and the resubmission goes through the finishing page.
    data = finish_form(app, inspection_id)
    assert not any(k.startswith("actions-") for k in data)
    # The answer changed after both had signed: their signatures are void, resubmission waits for new ones.
    response = client.post(finish_url(inspection_id), data={**data, "do": "submit"}, follow_redirects=True)
    assert "cannot be submitted yet" in response.get_data(as_text=True)
    assert "Void: the content changed" in response.get_data(as_text=True)
    # Every signature the change voided is made again: the head's, the facility's and the team member's.
    for role, name in (("head", "Nguyễn Văn Giám"), ("facility_rep", "Hoàng Văn Trạm"), ("member", "Lê Thị Ba")):
        assert sign(client, inspection_id, role, name=name).status_code == 201
    response = client.post(finish_url(inspection_id), data={**finish_form(app, inspection_id), "do": "submit"},
                           follow_redirects=True)
    assert "submitted for review" in response.get_data(as_text=True)
    assert rf.status_of(app, inspection_id) == "submitted"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CorrectiveAction)) == 0

    login(client, ids["rev"], locale="en")
    response = client.post(f"/review/inspections/{inspection_id}/approve", data={"confirm": "1"},
                           follow_redirects=True)
    assert "The inspection is approved." in response.get_data(as_text=True)
    assert rf.status_of(app, inspection_id) == "approved"
    # Approved is final: approving again, returning, commenting are refused and no action is offered.
    response = client.post(f"/review/inspections/{inspection_id}/approve", json={})
    assert response.status_code == 409 and response.get_json()["status"] == "approved"
    assert client.post(f"/review/inspections/{inspection_id}/return", json={"comment": "x"}).status_code == 409
    assert client.post(f"/review/inspections/{inspection_id}/comments", json={"body": "x"}).status_code == 409
    page = client.get(page_url(inspection_id)).get_data(as_text=True)
    assert "/approve" not in page and "/return" not in page and "Comment on item" not in page
    login(client, ids["sup"], locale="en")
    page = client.get(page_url(inspection_id)).get_data(as_text=True)
    assert "Finish and submit" not in page
    assert client.get(finish_url(inspection_id)).status_code == 302
    assert client.post(finish_url(inspection_id), data={**data, "do": "submit"}).status_code == 302
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        with pytest.raises(WorkflowError) as exc:
            services.save_answer(inspection, "A1" if "A1" in services.answers_of(inspection) else "A2",
                                 db.session.get_one(User, ids["sup"]), value="not_met", base_revision=1)
        assert exc.value.code == "locked"
        assert inspection.status == "approved"
        assert verify_chain() == []

    # The history tells the story with names, in order.
    login(client, ids["mgr"], locale="en")
    page = client.get(page_url(inspection_id)).get_data(as_text=True)
    history = page[page.index('id="history-h"'):]
    steps = ["Started the inspection", "Submitted for review", "Commented on item A3", "Returned to the supervisor",
             "Changed the answer to item A3", "Changed the note of item A3", "Resubmitted after corrections",
             "Approved"]
    positions = [history.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "Kiểm tra lại tiêu chí A3" in history
    assert "Trần Thị Duyệt" in history and "Nguyễn Văn Giám" in history
    # The return's comment is shown once, not also as a separate comment line.
    assert history.count("Kiểm tra lại tiêu chí A3") == 1


def test_queue_lists_submitted_in_scope_oldest_first(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    first = rf.submitted(app, ids)
    second = rf.submitted(app, ids)
    elsewhere = rf.submitted(app, ids, facility="f2", supervisor="sup2")
    draft = rf.start(app, ids["f1"], ids["sup"])
    login(client, ids["rev"], locale="en")
    page = client.get("/review/").get_data(as_text=True)
    assert page.index(page_url(first) + '"') < page.index(page_url(second) + '"')
    assert page_url(elsewhere) + '"' not in page and page_url(draft) + '"' not in page
    assert "Trạm Y tế xã Bản Giang" in page and "Nguyễn Văn Giám" in page
    assert "Waiting for review (2)" in page
    login(client, ids["mgr"], locale="en")
    page = client.get("/review/").get_data(as_text=True)
    assert page_url(elsewhere) + '"' in page and "Waiting for review (3)" in page
    client.post(f"/review/inspections/{first}/return", data={"comment": "Thiếu ảnh"})
    client.post(f"/review/inspections/{second}/approve", data={"confirm": "1"})
    returned = client.get("/review/?tab=returned").get_data(as_text=True)
    approved = client.get("/review/?tab=approved").get_data(as_text=True)
    assert page_url(first) + '"' in returned and page_url(second) + '"' not in returned
    assert page_url(second) + '"' in approved and page_url(first) + '"' not in approved
    login(client, ids["sup"], locale="en")
    assert client.get("/review/").status_code == 403


def test_inspection_page_shows_the_record(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.complete(app, ids)
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        answer = services.answers_of(inspection)["A3"]
        services.save_answer(inspection, "A3", db.session.get_one(User, ids["sup"]),
                             note="<script>alert(1)</script>", base_revision=answer.revision)
        db.session.commit()
        sha = inspection.checklist_version.sha256
    login(client, ids["sup"], locale="en")
    page = client.get(page_url(inspection_id)).get_data(as_text=True)
    assert "Trạm Y tế xã Bản Giang" in page and "fp-quality v1" in page and sha[:12] in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Niêm yết bảng giá" in page and "Hoàng Văn Trạm" in page and "Not met" in page
    assert f"/review/inspections/{inspection_id}/signatures/facility_rep.png" in page
    # Anyone in scope may look; nobody else.
    for who in ("rev", "mgr", "admin"):
        login(client, ids[who], locale="en")
        assert client.get(page_url(inspection_id)).status_code == 200
    for who in ("rev2", "sup2"):
        login(client, ids[who], locale="en")
        assert client.get(page_url(inspection_id)).status_code == 404
    assert client.get(page_url(99999)).status_code == 404


def test_comments(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.submitted(app, ids)
    login(client, ids["rev"], locale="en")
    assert client.post(f"/review/inspections/{inspection_id}/comments", json={"body": "Tốt"}).status_code == 201
    assert client.post(f"/review/inspections/{inspection_id}/comments",
                       json={"body": "x", "item_id": "ZZ9"}).status_code == 400
    assert client.post(f"/review/inspections/{inspection_id}/comments", json={"body": " "}).status_code == 400
    login(client, ids["sup"], locale="en")
    assert client.post(f"/review/inspections/{inspection_id}/comments", data={"body": "x"}).status_code == 403
    with app.app_context():
        assert db.session.scalars(sa.select(ReviewComment.body)).all() == ["Tốt"]
    assert "Tốt" in client.get(page_url(inspection_id)).get_data(as_text=True)
    draft = rf.start(app, ids["f1"], ids["sup"])
    login(client, ids["rev"], locale="en")
    assert client.post(f"/review/inspections/{draft}/comments", json={"body": "x"}).status_code == 409


# ---------------------------------------------------------------------------------------------- corrective actions


def test_corrective_actions_follow_up(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    inspection_id = rf.submitted(app, ids, fail=("A3", "A6"))
    rf.submitted(app, ids, facility="f2", supervisor="sup2")
    draft = rf.complete(app, ids)
    with app.app_context():
        actions = {a.item_id: a.id for a in db.session.scalars(
            sa.select(CorrectiveAction).where(CorrectiveAction.inspection_id == inspection_id))}
        other = db.session.scalar(sa.select(CorrectiveAction.id).join(Inspection)
                                  .where(Inspection.facility_id == ids["f2"]))
        draft_action = db.session.scalar(sa.select(CorrectiveAction.id).where(CorrectiveAction.inspection_id == draft))
        # A3's deadline has passed, A6's has not.
        db.session.get_one(CorrectiveAction, actions["A3"]).deadline = dt.date(2026, 3, 20)
        db.session.get_one(CorrectiveAction, actions["A6"]).deadline = dt.date.today() + dt.timedelta(days=20)
        db.session.commit()
    login(client, ids["sup"], locale="en")
    page = client.get("/review/actions").get_data(as_text=True)
    assert f'id="action-{actions["A3"]}"' in page and f'id="action-{actions["A6"]}"' in page
    assert f'id="action-{other}"' not in page and f'id="action-{draft_action}"' not in page
    overdue = client.get("/review/actions?overdue=1").get_data(as_text=True)
    assert f'id="action-{actions["A3"]}"' in overdue and f'id="action-{actions["A6"]}"' not in overdue

    # Empty evidence is refused; out of scope is not found; a draft's action cannot be closed.
    response = client.post(f"/review/actions/{actions['A3']}/done", data={"evidence": "  "}, follow_redirects=True)
    assert "Describe the evidence" in response.get_data(as_text=True)
    assert client.post(f"/review/actions/{other}/done", data={"evidence": "ok"}).status_code == 404
    assert client.post(f"/review/actions/{draft_action}/done", json={"evidence": "ok"}).status_code == 409
    response = client.post(f"/review/actions/{actions['A3']}/done", data={"evidence": "Đã niêm yết, có ảnh"})
    assert response.status_code == 302
    with app.app_context():
        action = db.session.get_one(CorrectiveAction, actions["A3"])
        assert action.status == "done" and action.evidence == "Đã niêm yết, có ảnh"
        assert action.done_by_id == ids["sup"]
        assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.entity_id == str(action.id),
                                                                    AuditEntry.entity_type == "corrective_action"))
    assert client.post(f"/review/actions/{actions['A3']}/done", json={"evidence": "again"}).status_code == 409
    assert f'id="action-{actions["A3"]}"' not in client.get("/review/actions").get_data(as_text=True)
    page = client.get(page_url(inspection_id)).get_data(as_text=True)
    assert "Đã niêm yết, có ảnh" in page and "Closed the corrective action of item A3" in page


def test_pages_need_sign_in(client: FlaskClient, ids: dict[str, int]) -> None:
    for url in ("/review/", "/review/actions", "/review/inspections/1", "/review/inspections/1/finish"):
        assert client.get(url).status_code == 302


def test_reviewer_sees_failed_only_and_approval_comes_last_with_confirmation(app: Flask, client: FlaskClient,
                                                                             ids: dict[str, int]) -> None:
    inspection_id = rf.submitted(app, ids, fail=("A3",))
    login(client, ids["rev"], locale="vi")
    page = client.get(f"/review/inspections/{inspection_id}?lang=vi").get_data(as_text=True)
    # The return box comes before the approve button, which needs a ticked confirmation and says what it files.
    assert page.index("/return") < page.index("/approve")
    assert re.search(r'<input type="checkbox" name="confirm"[^>]*required', page)
    assert "Phê duyệt sẽ lưu" in page and "biên bản" in page
    everything = page.count('<li id="item-')
    flagged = client.get(f"/review/inspections/{inspection_id}?only=flagged&lang=vi").get_data(as_text=True)
    assert 'id="item-A3"' in flagged
    assert flagged.count('<li id="item-') == 1 < everything


def test_approving_from_a_page_older_than_the_content_is_refused(app: Flask, client: FlaskClient,
                                                                   ids: dict[str, int]) -> None:
    """The approve form carries the revision the reviewer saw: if the inspection was returned and resubmitted
    since (other answers), approving from the old page files nothing."""
    inspection_id = rf.submitted(app, ids, fail=("A3",))
    login(client, ids["rev"], locale="vi")
    page = client.get(f"/review/inspections/{inspection_id}?lang=vi").get_data(as_text=True)
    approve_form = page[page.index('class="approve-form"'):]
    approve_form = approve_form[:approve_form.index("</form>")]
    seen = re.search(r'name="revision" value="(\d+)"', approve_form)
    assert seen is not None
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        services.return_inspection(inspection, db.session.get_one(User, ids["mgr"]), "Chụp lại ảnh kho thuốc")
        db.session.commit()
        services.submit(inspection, db.session.get_one(User, ids["sup"]))
        db.session.commit()
    response = client.post(f"/review/inspections/{inspection_id}/approve",
                           data={"confirm": "1", "revision": seen.group(1)})
    assert response.status_code in (302, 409)
    assert rf.status_of(app, inspection_id) == "submitted"
    # From the page as it is now, the same reviewer can approve.
    page = client.get(f"/review/inspections/{inspection_id}").get_data(as_text=True)
    current = re.search(r'class="approve-form".*?name="revision" value="(\d+)"', page, re.S).group(1)
    assert current != seen.group(1)
    client.post(f"/review/inspections/{inspection_id}/approve", data={"confirm": "1", "revision": current})
    assert rf.status_of(app, inspection_id) == "approved"


def test_approval_without_the_confirmation_is_refused_by_the_server(app: Flask, client: FlaskClient,
                                                                    ids: dict[str, int]) -> None:
    # The tick is required by the browser; a post that skips it (an old page, a script) must not file anything.
    inspection_id = rf.submitted(app, ids, fail=("A3",))
    login(client, ids["rev"], locale="vi")
    url = f"/review/inspections/{inspection_id}/approve"
    for data in ({}, {"confirm": ""}, {"confirm": "0"}):
        response = client.post(url, data=data, follow_redirects=True)
        assert "Hãy đánh dấu vào ô “Tôi đã xem xét cuộc kiểm tra”" in response.get_data(as_text=True)
        assert rf.status_of(app, inspection_id) == "submitted"
    for body in ({}, {"confirm": "1"}, {"confirm": False}):
        response = client.post(url, json=body)
        assert response.status_code == 400, body
        assert response.get_json()["error"] == "confirmation_required"
        assert "Chưa có gì được phê duyệt" in response.get_json()["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "inspection.approved")) == 0
    response = client.post(url, json={"confirm": True})
    assert response.status_code == 200 and response.get_json()["status"] == "approved"
