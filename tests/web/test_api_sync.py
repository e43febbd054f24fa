"""The offline sync API: exactly once per Idempotency-Key and inspection uuid, the form's validation, conflicts."""

from __future__ import annotations

import base64
import datetime as dt
import uuid as uuidlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.api.models import SyncRequest
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections.models import Answer, CorrectiveAction, Inspection, Signature, TeamMember

from .. import inspection_fixtures as fx
from ..conftest import make_app

URL = "/api/v1/sync/inspections"
STROKES = [[[0.1, 0.2], [0.3, 0.4], [0.5, 0.3]]]


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    return fx.build_world(app)


def _png_url() -> str:
    return "data:image/png;base64," + base64.b64encode(fx.png_bytes(120, 40, (0, 0, 0))).decode()


def _items(app: Flask, facility_id: int) -> tuple[list, str]:
    """(applicable checklist items for the facility today, checklist code) from the offline bundle's rule."""
    from qa_app.i18n import local_today
    from qa_app.inspections import present

    with app.test_request_context():
        facility = db.session.get(Facility, facility_id)
        preview = present.start_preview(facility, local_today())
        excluded = {i.id for i, _r in preview.excluded}
        return [i for i in preview.checklist.items if i.id not in excluded], preview.checklist.code


def _body(app: Flask, ids: dict[str, int], *, uuid: str | None = None, answers: dict | None = None,
          complete: bool = False, failing: tuple[str, ...] = (), submit: bool = False) -> dict:
    items, code = _items(app, ids["tyt"])
    body: dict = {
        "uuid": uuid or str(uuidlib.uuid4()), "facility_id": ids["tyt"], "user_id": ids["sup"],
        "inspection_date": dt.date.today().isoformat(), "kind": "external",
        "checklist": {"code": code, "version": 1}, "answers": answers or {}, "submit": submit,
    }
    if complete:
        body["answers"] = {
            i.id: {"value": fx.failing_value(i) if i.id in failing else fx.passing_value(i),
                   "note": f"ghi chú {i.id}" if i.id == items[0].id else "", "base_revision": 0} for i in items}
        body["team"] = {"value": [{"role": "head", "full_name": "Nguyễn Văn An", "position": "Trưởng đoàn"},
                                  {"role": "facility_rep", "full_name": "Phạm Thị Dung", "position": ""}],
                        "base": []}
        deadline = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        body["corrective_actions"] = {"value": [{"item_id": i, "action": "Bổ sung sổ sách", "responsible": "Trạm",
                                                 "deadline": deadline} for i in failing], "base": []}
        body["facility_opinion"] = {"value": "Đồng ý với kết quả", "base": ""}
        body["signatures"] = {role: {"signer_name": name, "png": _png_url(), "strokes": STROKES, "base": None}
                              for role, name in (("head", "Nguyễn Văn An"), ("facility_rep", "Phạm Thị Dung"))}
    return body


def _sync(client: FlaskClient, body: dict, key: str | None = None):
    return client.post(URL, json=body, headers={"Idempotency-Key": key or uuidlib.uuid4().hex})


def _count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _inspection(app: Flask, uuid: str) -> Inspection | None:
    with app.app_context():
        row = db.session.scalar(sa.select(Inspection).where(Inspection.uuid == uuid))
        db.session.expunge_all()
        return row


# ---------------------------------------------------------------------------------------------- creating


def test_whole_offline_inspection_is_created_and_submitted_once(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    items, _code = _items(app, world["tyt"])
    failing = (items[1].id,)
    body = _body(app, world, complete=True, failing=failing, submit=True)
    response = _sync(client, body, key="key-create-1")
    assert response.status_code == 201, response.json
    data = response.json
    assert data["created"] is True
    assert data["submitted"] is True
    assert data["submit_problems"] == []
    assert data["inspection"]["status"] == "submitted"
    stored = _inspection(app, body["uuid"])
    assert stored.status == "submitted"
    assert stored.facility_opinion == "Đồng ý với kết quả"
    with app.app_context():
        answers = {a.item_id: a for a in db.session.scalars(sa.select(Answer).where(Answer.inspection_id == stored.id))}
        assert {k: (a.value, a.note) for k, a in answers.items()} == {
            k: (str(v["value"]), v["note"]) for k, v in body["answers"].items()}
        assert [m.full_name for m in db.session.scalars(sa.select(TeamMember).order_by(TeamMember.position_order))] \
            == ["Nguyễn Văn An", "Phạm Thị Dung"]
        assert [a.item_id for a in db.session.scalars(sa.select(CorrectiveAction))] == list(failing)
        assert sorted(db.session.scalars(sa.select(Signature.role))) == ["facility_rep", "head"]
    assert data["answers"][items[0].id]["note"] == f"ghi chú {items[0].id}"
    assert data["signatures"]["head"]["signer_name"] == "Nguyễn Văn An"


def test_a_campaign_visit_travels_in_the_bundle_and_is_created_under_its_programme(app: Flask, client: FlaskClient,
                                                                                  world) -> None:
    """The bundle carries every other programme offered that day (the campaign checklist for a station), with the
    server's applicable hash; a tablet that starts with the campaign's checklist gets a campaign inspection."""
    from qa_app.checklists import tablet

    fx.login(app, client, world["sup"])
    bundle = client.get(f"/api/v1/facilities/{world['tyt']}/offline-bundle?lang=vi").json
    assert bundle["programme"] == "routine"
    assert bundle["programme_label"] == "Giám sát chất lượng định kỳ"
    [other] = bundle["other_programmes"]
    assert other["programme"] == "campaign" and other["checklist"]["code"] == "fp-campaign"
    with app.test_request_context():
        from qa_app.i18n import local_today
        from qa_app.inspections import present

        preview = present.start_preview(db.session.get(Facility, world["tyt"]), local_today(), programme="campaign")
        assert other["applicable_hash"] == tablet.applicable_hash(preview.checklist,
                                                                  db.session.get(Facility, world["tyt"]).profile())
    body = _body(app, world)
    body["checklist"] = {"code": "fp-campaign", "version": other["checklist"]["version"]}
    body["inspection_date"] = bundle["prepared_for"]
    response = _sync(client, body)
    assert response.status_code == 201, response.json
    with app.app_context():
        inspection = db.session.scalars(sa.select(Inspection).where(Inspection.uuid == body["uuid"])).one()
        assert inspection.checklist_version.code == "fp-campaign"
        assert inspection.checklist_version.programme == "campaign"
    # A checklist the facility is not offered that day is refused as changed, and nothing is created.
    stale = {**_body(app, world), "inspection_date": bundle["prepared_for"], "checklist": {"code": "fp-other", "version": 1}}
    refused = _sync(client, stale)
    assert refused.status_code == 409 and refused.json["error"] == "checklist_changed"
    assert _inspection(app, stale["uuid"]) is None


def test_a_replayed_key_answers_the_same_and_writes_nothing(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}})
    first = _sync(client, body, key="same-key-123")
    assert first.status_code == 201
    revision = _inspection(app, body["uuid"]).revision
    again = _sync(client, body, key="same-key-123")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert _inspection(app, body["uuid"]).revision == revision
    assert _count(app, Inspection) == 1
    assert _count(app, SyncRequest) == 1


def test_a_lost_response_retried_under_a_new_key_creates_nothing_twice(app: Flask, client: FlaskClient,
                                                                      world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, complete=True)
    assert _sync(client, body).status_code == 201
    revision = _inspection(app, body["uuid"]).revision
    # Same content, bases as the tablet had them before the lost response: already there, so nothing to do.
    retry = _sync(client, body)
    assert retry.status_code == 200, retry.json
    assert retry.json["created"] is False
    assert _inspection(app, body["uuid"]).revision == revision
    assert _count(app, Inspection) == 1
    assert _count(app, Answer) == len(body["answers"])
    assert _count(app, TeamMember) == 2
    assert _count(app, Signature) == 2


def test_the_same_key_with_another_body_is_refused(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}})
    assert _sync(client, body, key="reused-key-1").status_code == 201
    body["answers"]["A2"]["value"] = "not_met"
    response = _sync(client, body, key="reused-key-1")
    assert response.status_code == 422
    assert response.json["error"] == "idempotency_key_reused"
    with app.app_context():
        assert db.session.scalar(sa.select(Answer.value)) == "met"


@pytest.mark.parametrize("key", [None, "short", "bad key with spaces"])
def test_a_key_is_required(app: Flask, client: FlaskClient, world, key: str | None) -> None:
    fx.login(app, client, world["sup"])
    headers = {"Idempotency-Key": key} if key else {}
    response = client.post(URL, json=_body(app, world), headers=headers)
    assert response.status_code == 400
    assert response.json["error"] == "idempotency_key_required"
    assert _count(app, Inspection) == 0


def test_incomplete_submission_keeps_the_draft_and_says_what_is_missing(app: Flask, client: FlaskClient,
                                                                       world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}}, submit=True)
    response = _sync(client, body)
    assert response.status_code == 201
    assert response.json["submitted"] is False
    problems = response.json["submit_problem_items"]
    # In the user's language (Vietnamese by default), each problem with the items it concerns.
    assert any("chưa được trả lời" in p["message"] for p in problems), problems
    unanswered = next(p for p in problems if p["items"])
    assert "A2" not in unanswered["items"] and len(unanswered["items"]) == len(_items(app, world["tyt"])[0]) - 1
    assert response.json["submit_problems"] == [p["message"] for p in problems]
    assert _inspection(app, body["uuid"]).status == "draft"
    assert _count(app, Answer) == 1


# ---------------------------------------------------------------------------------------------- validation


def test_a_refused_answer_names_the_item_and_writes_nothing(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0},
                                      "A3": {"value": "maybe", "base_revision": 0}})
    response = _sync(client, body)
    assert response.status_code == 422
    assert response.json["error"] == "bad_answer"
    assert response.json["field"] == "answers.A3"
    assert "A3" in response.json["message"]
    assert _count(app, Inspection) == 0
    assert _count(app, Answer) == 0


def test_an_item_left_out_for_the_facility_is_refused(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    items, _code = _items(app, world["tyt"])
    with app.app_context():
        from qa_app.checklists.registry import checklist_of, version_for

        all_ids = [i.id for i in checklist_of(version_for("TYT", dt.date.today())).items]
    left_out = next(i for i in all_ids if i not in {i.id for i in items})
    response = _sync(client, _body(app, world, answers={left_out: {"value": "met", "base_revision": 0}}))
    assert response.status_code == 422
    assert response.json["error"] == "not_applicable"
    assert _count(app, Inspection) == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"uuid": "not-a-uuid"}, "uuid"),
    ({"facility_id": "3"}, "facility_id"),
    ({"inspection_date": "22/11/2026"}, "inspection_date"),
    ({"kind": "audit"}, "kind"),
    ({"answers": {"A2": {"value": "met"}}}, "answers.A2.base_revision"),
    ({"team": {"value": "Nguyễn Văn An", "base": []}}, "team.value"),
    ({"signatures": {"head": {"signer_name": "An", "png": "data:image/png;base64,AAAA", "strokes": STROKES}}},
     "signatures.head.png"),
])
def test_malformed_parts_are_refused_with_where(app: Flask, client: FlaskClient, world, change, field) -> None:
    fx.login(app, client, world["sup"])
    response = _sync(client, {**_body(app, world), **change})
    assert response.status_code == 422, response.json
    assert response.json["field"] == field
    assert _count(app, Inspection) == 0


def test_every_member_of_the_team_signs_on_the_tablet(app: Flask, client: FlaskClient, world) -> None:
    """The secretary and the members sign offline too, keyed as the finishing page keys them (the second member
    of a role is "member-2"); each signature is bound to the content as the same request leaves it."""
    from qa_app.minutes.content import content_sha256, signature_problems

    fx.login(app, client, world["sup"])
    body = _body(app, world, complete=True, submit=True)
    body["team"]["value"] += [{"role": "secretary", "full_name": "Lò Văn Bình", "position": "Thư ký"},
                              {"role": "member", "full_name": "Hà Thị Cúc", "position": ""},
                              {"role": "member", "full_name": "Sùng A Dũng", "position": ""}]
    for key, name in (("secretary", "Lò Văn Bình"), ("member", "Hà Thị Cúc"), ("member-2", "Sùng A Dũng")):
        body["signatures"][key] = {"signer_name": name, "png": _png_url(), "strokes": STROKES, "base": None}
    response = _sync(client, body)
    assert response.status_code == 201, response.json
    assert response.json["submitted"] is True
    assert set(response.json["signatures"]) == {"head", "facility_rep", "secretary", "member", "member-2"}
    assert response.json["signatures"]["member-2"]["signer_name"] == "Sùng A Dũng"
    stored = _inspection(app, body["uuid"])
    with app.test_request_context():
        inspection = db.session.get(Inspection, stored.id)
        rows = db.session.scalars(sa.select(Signature).where(Signature.inspection_id == inspection.id)).all()
        assert sorted((s.member_key, s.role) for s in rows) == [
            ("facility_rep", "facility_rep"), ("head", "head"), ("member", "member"), ("member-2", "member"),
            ("secretary", "secretary")]
        current = content_sha256(inspection)
        assert {s.content_sha256 for s in rows} == {current}
        # Filing needs every named person's signature: none is missing.
        assert signature_problems(inspection) == []


@pytest.mark.parametrize(("key", "field", "error"), [
    ("boss", "signatures.boss", "bad_signature"),          # not a role of the team
    ("member-1", "signatures.member-1", "bad_signature"),  # the first member is "member"
    ("deputy", "signatures.deputy", "bad_signature"),      # a well-formed key, but no deputy is named
])
def test_a_signer_the_team_does_not_have_is_refused_and_nothing_written(app: Flask, client: FlaskClient, world,
                                                                        key, field, error) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, complete=True)
    body["signatures"][key] = {"signer_name": "Ai Đó", "png": _png_url(), "strokes": STROKES, "base": None}
    response = _sync(client, body)
    assert response.status_code == 422, response.json
    assert (response.json["error"], response.json["field"]) == (error, field)
    assert _count(app, Inspection) == 0
    assert _count(app, Signature) == 0


def test_the_facility_may_choose_to_give_no_opinion_from_the_tablet(app: Flask, client: FlaskClient, world) -> None:
    """"Cơ sở không có ý kiến" is a choice the representative makes, sent as its own part; words and the choice
    together are refused with nothing written, and a choice changed on another device is a conflict."""
    fx.login(app, client, world["sup"])
    body = _body(app, world, complete=True, submit=True)
    body["facility_opinion"] = {"value": "Ý kiến", "base": ""}
    body["facility_no_opinion"] = {"value": True, "base": False}
    response = _sync(client, body)
    assert response.status_code == 422, response.json
    assert response.json["field"] == "facility_opinion"
    assert _count(app, Inspection) == 0
    body["facility_opinion"] = {"value": "", "base": ""}
    response = _sync(client, body)
    assert response.status_code == 201, response.json
    assert response.json["facility_no_opinion"] is True
    assert response.json["facility_opinion"] == ""
    stored = _inspection(app, body["uuid"])
    assert (stored.facility_opinion, stored.facility_no_opinion, stored.status) == ("", True, "submitted")
    # A malformed choice names the part.
    bad = _body(app, world)
    bad["facility_no_opinion"] = {"value": "yes", "base": None}
    response = _sync(client, bad)
    assert (response.status_code, response.json["field"]) == (422, "facility_no_opinion")


def test_a_no_opinion_choice_changed_elsewhere_is_a_conflict(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}})
    body["facility_no_opinion"] = {"value": True, "base": None}
    assert _sync(client, body).status_code == 201
    again = {**body, "answers": {}, "facility_no_opinion": {"value": False, "base": False}}
    response = _sync(client, again)
    assert response.status_code == 409
    assert [c["part"] for c in response.json["conflicts"]] == ["facility_no_opinion"]
    assert response.json["conflicts"][0]["theirs"] is True
    assert _inspection(app, body["uuid"]).facility_no_opinion is True


def _signed(name: str) -> dict:
    return {"signer_name": name, "png": _png_url(), "strokes": STROKES, "base": None}


def test_signing_again_after_a_change_voided_the_signature_is_not_a_conflict(app: Flask, client: FlaskClient,
                                                                            world) -> None:
    """The server state leaves out a void signature, so the tablet signs again with no base: that is not someone
    else's signature in the way."""
    fx.login(app, client, world["sup"])
    body = _body(app, world, complete=True)
    first = _sync(client, body)
    assert first.status_code == 201, first.json
    items, _code = _items(app, world["tyt"])
    note = {items[0].id: {"value": fx.passing_value(items[0]), "note": "ghi chú mới",
                          "base_revision": first.json["answers"][items[0].id]["revision"]}}
    changed = _sync(client, {**_body(app, world, uuid=body["uuid"]), "answers": note})
    assert changed.status_code == 200, changed.json
    assert changed.json["signatures"] == {}  # both void now
    again = {**_body(app, world, uuid=body["uuid"]), "signatures": {"head": _signed("Nguyễn Văn An")},
             "seen_content": changed.json["content_sha256"]}
    response = _sync(client, again)
    assert response.status_code == 200, response.json
    assert response.json["signatures"]["head"]["signer_name"] == "Nguyễn Văn An"


def test_signatures_over_a_record_changed_elsewhere_are_refused_and_nothing_written(app: Flask, client: FlaskClient,
                                                                                  world) -> None:
    """The tablet says which server record its signers read (seen_content): if it changed since (another device,
    the online form), nothing of the request is written and the tablet gets the server's record to read again."""
    fx.login(app, client, world["sup"])
    body = _body(app, world, complete=True)
    del body["signatures"]
    created = _sync(client, body)
    assert created.status_code == 201, created.json
    seen = created.json["content_sha256"]
    items, _code = _items(app, world["tyt"])
    # Someone changes a note on another device.
    elsewhere = {items[1].id: {"value": fx.passing_value(items[1]), "note": "sửa trên máy khác",
                               "base_revision": created.json["answers"][items[1].id]["revision"]}}
    assert _sync(client, {**_body(app, world, uuid=body["uuid"]), "answers": elsewhere}).status_code == 200
    # The tablet, which read the record before that change, sends its signatures with an opinion of its own.
    late = {**_body(app, world, uuid=body["uuid"]), "seen_content": seen,
            "facility_opinion": {"value": "Đồng ý", "base": "Đồng ý với kết quả"},
            "signatures": {"head": _signed("Nguyễn Văn An"), "facility_rep": _signed("Phạm Thị Dung")}}
    response = _sync(client, late)
    assert response.status_code == 409, response.json
    assert response.json["error"] == "content_changed"
    assert response.json["server"]["answers"][items[1].id]["note"] == "sửa trên máy khác"
    assert "ký lại" in response.json["message"]
    assert _count(app, Signature) == 0
    assert _inspection(app, body["uuid"]).facility_opinion == "Đồng ý với kết quả"
    # Read again (the new hash), signed again: taken, bound to the record as it now stands.
    late["seen_content"] = response.json["server"]["content_sha256"]
    late["facility_opinion"]["base"] = response.json["server"]["facility_opinion"]
    response = _sync(client, late)
    assert response.status_code == 200, response.json
    assert set(response.json["signatures"]) == {"head", "facility_rep"}
    assert response.json["content_sha256"] != seen


def test_a_part_changed_on_both_sides_is_a_conflict_even_with_signatures(app: Flask, client: FlaskClient,
                                                                          world) -> None:
    """A request that changes the team over an old base and carries signatures is a conflict on the team (the
    supervisor chooses), not "read and sign again", after which the tablet's next request would take the new
    base and overwrite the other device's team unseen."""
    fx.login(app, client, world["sup"])
    body = _body(app, world, complete=True)
    del body["signatures"]
    created = _sync(client, body)
    assert created.status_code == 201, created.json
    theirs = [{"role": "head", "full_name": "Nguyễn Văn An", "position": "Trưởng đoàn"},
              {"role": "facility_rep", "full_name": "Trần Văn Khác", "position": ""}]
    assert _sync(client, {**_body(app, world, uuid=body["uuid"]),
                          "team": {"value": theirs, "base": created.json["team"]}}).status_code == 200
    mine = [{"role": "head", "full_name": "Nguyễn Văn An", "position": "Trưởng đoàn"},
            {"role": "facility_rep", "full_name": "Phạm Thị Dung", "position": "Trạm trưởng"}]
    response = _sync(client, {**_body(app, world, uuid=body["uuid"]), "seen_content": created.json["content_sha256"],
                              "team": {"value": mine, "base": created.json["team"]},
                              "signatures": {"head": _signed("Nguyễn Văn An")}})
    assert response.status_code == 409, response.json
    assert response.json["error"] == "conflict"
    assert [c["part"] for c in response.json["conflicts"]] == ["team"]
    assert _count(app, Signature) == 0


def test_a_team_without_head_is_refused_like_the_form(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}})
    body["team"] = {"value": [{"role": "facility_rep", "full_name": "Phạm Thị Dung", "position": ""}], "base": []}
    response = _sync(client, body)
    assert response.status_code == 422
    assert response.json["error"] == "bad_team"
    assert response.json["field"] == "team"
    assert _count(app, Inspection) == 0


def test_future_date_and_checklist_mismatch_are_refused(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world)
    body["inspection_date"] = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    response = _sync(client, body)
    assert response.status_code in (409, 422)
    body = _body(app, world)
    body["checklist"]["version"] = 99
    response = _sync(client, body)
    assert response.status_code == 409
    assert response.json["error"] == "checklist_changed"
    assert _count(app, Inspection) == 0


# ---------------------------------------------------------------------------------------------- who


def test_only_the_user_who_made_the_changes_can_send_them(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup_b"])
    response = _sync(client, _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}}))
    assert response.status_code == 409
    assert response.json["error"] == "wrong_user"
    assert _count(app, Inspection) == 0


def test_reviewers_out_of_region_and_signed_out(app: Flask, client: FlaskClient, world) -> None:
    body = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}})
    assert _sync(client, body).status_code == 401
    fx.login(app, client, world["rev"])
    assert _sync(client, {**body, "user_id": world["rev"]}).status_code == 403
    fx.login(app, client, world["sup2"])
    assert _sync(client, {**body, "user_id": world["sup2"]}).status_code == 404
    assert _count(app, Inspection) == 0


def test_csrf_token_is_required(tmp_path: Path) -> None:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
    try:
        ids = fx.build_world(app)
        client = app.test_client()
        fx.login(app, client, ids["sup"])
        response = _sync(client, _body(app, ids))
        assert response.status_code == 400
        assert response.json["error"] == "csrf"
        # The offline page takes a fresh token (its cached copy's may have expired) and then may write.
        session = client.get("/api/v1/session").json
        assert session["user"]["id"] == ids["sup"]
        ok = client.post(URL, json=_body(app, ids, answers={"A2": {"value": "met", "base_revision": 0}}),
                         headers={"Idempotency-Key": "csrf-test-1", "X-CSRFToken": session["csrf_token"]})
        assert ok.status_code == 201
    finally:
        with app.app_context():
            db.session.remove()
            if db.engine.url.database not in (None, "", ":memory:"):
                db.drop_all()
            db.engine.dispose()


# ---------------------------------------------------------------------------------------------- conflicts


def test_an_answer_changed_on_another_device_is_a_conflict_with_both_versions(app: Flask, client: FlaskClient,
                                                                              world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}})
    assert _sync(client, body).status_code == 201
    inspection_id = _inspection(app, body["uuid"]).id
    # Another supervisor changes A2 online.
    other = app.test_client()
    fx.login(app, other, world["sup_b"])
    assert other.put(f"/api/v1/inspections/{inspection_id}/answers/A2",
                     json={"value": "not_met", "base_revision": 1}).status_code == 200
    # The tablet, still on revision 1, changes A2 too and answers A3.
    body["answers"] = {"A2": {"value": "met", "note": "đã xem lại", "base_revision": 1},
                       "A3": {"value": "met", "base_revision": 0}}
    response = _sync(client, body)
    assert response.status_code == 409
    conflict = response.json["conflicts"]
    assert [c["item_id"] for c in conflict] == ["A2"]
    assert conflict[0]["mine"] == {"value": "met", "note": "đã xem lại"}
    assert conflict[0]["theirs"]["value"] == "not_met"
    assert conflict[0]["theirs"]["updated_by"] == "Trần Thị Bình"
    with app.app_context():
        # Nothing of the request was written, not even the answer that did not conflict.
        assert db.session.scalar(sa.select(Answer.value).where(Answer.item_id == "A2")) == "not_met"
        assert db.session.scalar(sa.select(Answer).where(Answer.item_id == "A3")) is None
    # "Use mine": resend on their revision.
    body["answers"]["A2"]["base_revision"] = conflict[0]["theirs"]["revision"]
    response = _sync(client, body)
    assert response.status_code == 200
    assert response.json["answers"]["A2"]["value"] == "met"
    assert response.json["answers"]["A3"]["value"] == "met"


def test_team_changed_on_another_device_is_a_conflict(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, complete=True)
    assert _sync(client, body).status_code == 201
    with app.app_context():
        from qa_app.auth.models import User
        from qa_app.inspections import services

        inspection = db.session.scalar(sa.select(Inspection).where(Inspection.uuid == body["uuid"]))
        services.set_team(inspection, [{"role": "head", "full_name": "Lê Văn Hùng"},
                                       {"role": "facility_rep", "full_name": "Phạm Thị Dung"}],
                          db.session.get(User, world["sup_b"]))
        db.session.commit()
    # The tablet still thinks the team is what it sent, and changes the head's position.
    old = body["team"]["value"]
    body["team"] = {"value": [{**old[0], "position": "Phó trưởng đoàn"}, old[1]], "base": old}
    response = _sync(client, body)
    assert response.status_code == 409
    (conflict,) = response.json["conflicts"]
    assert conflict["part"] == "team"
    assert conflict["theirs"][0]["full_name"] == "Lê Văn Hùng"
    assert conflict["mine"][0]["position"] == "Phó trưởng đoàn"


def test_changes_to_a_submitted_or_approved_inspection_are_locked(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    body = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}})
    assert _sync(client, body).status_code == 201
    inspection_id = _inspection(app, body["uuid"]).id
    fx.submit_complete(app, inspection_id, world["sup"])
    with app.app_context():
        from qa_app.auth.models import User
        from qa_app.inspections import services

        services.approve(db.session.get(Inspection, inspection_id), db.session.get(User, world["rev"]))
        db.session.commit()
    current = _inspection(app, body["uuid"])
    body["answers"] = {"A2": {"value": "not_met", "base_revision": 99}}
    response = _sync(client, body)
    assert response.status_code == 409
    assert response.json["error"] == "conflict"  # A2 changed since the tablet's base: both versions are shown
    body["answers"] = {"A2": {"value": "met", "base_revision": 99}}  # what the server already holds
    body["submit"] = True
    response = _sync(client, body)
    assert response.status_code == 200  # nothing to change: a late retry is answered with the server state
    assert response.json["inspection"]["status"] == "approved"
    with app.app_context():
        answer = db.session.scalar(sa.select(Answer).where(Answer.inspection_id == inspection_id,
                                                           Answer.item_id == "A3"))
    body["answers"] = {"A3": {"value": "not_met", "base_revision": answer.revision}}
    response = _sync(client, body)
    assert response.status_code == 409
    assert response.json["error"] == "locked"
    assert response.json["status"] == "approved"
    assert _inspection(app, body["uuid"]).revision == current.revision


# ---------------------------------------------------------------------------------------------- reading


def test_offline_bundle_has_the_whole_checklist_and_the_profile(app: Flask, client: FlaskClient, world) -> None:
    from qa_app.checklists.tablet import applicable_hash

    fx.login(app, client, world["sup"])
    response = client.get(f"/api/v1/facilities/{world['nt']}/offline-bundle")
    assert response.status_code == 200
    data = response.json
    items, _code = _items(app, world["nt"])
    # Every item travels (the tablet decides applicability itself); the server's own set comes with its hash.
    with app.app_context():
        from qa_app.checklists.registry import checklist_of, version_for

        facility = db.session.get(Facility, world["nt"])
        version = version_for(facility.type, dt.date.today())
        whole = checklist_of(version)
        expected_hash = applicable_hash(whole, facility.profile())
    assert [i["id"] for s in data["checklist"]["sections"] for i in s["items"]] == [i.id for i in whole.items]
    assert len(items) < len(whole.items)
    assert data["applicable"] == [i.id for i in items]
    assert data["applicable_hash"] == expected_hash
    assert data["checklist"]["sha256"] == version.sha256
    assert data["profile"] == {"type": "NT", "services": ["BCS", "VU"]}
    assert data["facility"]["name"] == "Nhà thuốc Minh Châu"
    yes_no = next(i for s in data["checklist"]["sections"] for i in s["items"] if i["answer_type"] == "yes_no_na")
    assert yes_no["fails"] == ["not_met"]
    assert client.get(f"/api/v1/facilities/{world['tyt2']}/offline-bundle").status_code == 404
    fx.login(app, client, world["rev"])
    assert client.get(f"/api/v1/facilities/{world['tyt']}/offline-bundle").status_code == 403


def test_a_tablet_with_another_applicable_set_is_stopped_and_nothing_is_written(app: Flask, client: FlaskClient,
                                                                                world) -> None:
    fx.login(app, client, world["sup"])
    bundle = client.get(f"/api/v1/facilities/{world['tyt']}/offline-bundle").json
    body = _body(app, world, complete=True, submit=True)
    # The tablet's set as the server's: accepted.
    ok = _sync(client, {**body, "applicable_hash": bundle["applicable_hash"]})
    assert ok.status_code == 201, ok.json
    # Another tablet that computed a different set (e.g. prepared before the station started offering implants).
    other = _body(app, world, answers={"A2": {"value": "met", "base_revision": 0}})
    stale = "0" * 64
    refused = _sync(client, {**other, "applicable_hash": stale})
    assert refused.status_code == 409
    assert refused.json["error"] == "applicability_changed"
    assert refused.json["applicable"] == bundle["applicable"]
    assert "làm mới cơ sở" in refused.json["message"]
    assert _inspection(app, other["uuid"]) is None
    assert _sync(client, {**other, "applicable_hash": "not a hash"}).json["field"] == "applicable_hash"


def test_offline_facility_search_is_scoped(app: Flask, client: FlaskClient, world) -> None:
    fx.login(app, client, world["sup"])
    names = [f["name"] for f in client.get("/api/v1/offline/facilities").json["facilities"]]
    assert "Trạm Y tế xã Bản Giang" in names
    assert "Trạm Y tế xã Mường So" not in names
    names = [f["name"] for f in client.get("/api/v1/offline/facilities?q=Minh").json["facilities"]]
    assert names == ["Nhà thuốc Minh Châu"]


# ---------------------------------------------------------------------------------------------- documented shapes


def test_requests_and_responses_match_docs_openapi(app: Flask, client: FlaskClient, world) -> None:
    import jsonschema
    import yaml

    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text("utf-8"))

    def check(body: object, schema: str) -> None:
        jsonschema.Draft202012Validator({**spec, "$ref": f"#/components/schemas/{schema}"}).validate(body)

    fx.login(app, client, world["sup"])
    check(client.get(f"/api/v1/facilities/{world['tyt']}/offline-bundle").json, "OfflineBundle")
    body = _body(app, world, complete=True, failing=(_items(app, world["tyt"])[0][1].id,))
    check(body, "SyncRequest")
    created = _sync(client, body)
    check(created.json, "SyncResult")
    body["answers"] = {"A2": {"value": "not_met", "base_revision": 0}}
    conflict = _sync(client, body)
    assert conflict.status_code == 409
    check(conflict.json, "SyncConflict")
    check(_sync(client, {**body, "uuid": "x"}).json, "Error")


@pytest.mark.parametrize(("answer", "field"), [
    ({"value": {"x": 1}, "base_revision": 0}, "answers.A2.value"),
    ({"value": True, "base_revision": 0}, "answers.A2.value"),
    ({"value": "met", "note": 12, "base_revision": 0}, "answers.A2.note"),
    ({"value": "met", "base_revision": 2**40}, "answers.A2.base_revision"),
])
def test_answer_types_are_checked_before_anything_else(app: Flask, client: FlaskClient, world, answer,
                                                       field) -> None:
    fx.login(app, client, world["sup"])
    response = _sync(client, _body(app, world, answers={"A2": answer}))
    assert response.status_code == 422
    assert response.json["field"] == field
    assert "answers.A2" in response.json["message"]
    assert _count(app, Inspection) == 0
