"""The JSON API of the form: autosave with compare-and-set, validation, locking, photos, scope, roles and CSRF."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from qa_app.extensions import db
from qa_app.inspections.models import Answer, Inspection, Photo

from .. import inspection_fixtures as fx
from ..conftest import make_app
from ..factories import login


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    ids = fx.build_world(app)
    ids["insp"] = fx.start(app, ids["tyt"], ids["sup"])
    return ids


def _put(client: FlaskClient, inspection_id: int, item_id: str, **body):
    return client.put(f"/api/v1/inspections/{inspection_id}/answers/{item_id}", json=body)


def _revision(app: Flask, inspection_id: int) -> int:
    with app.app_context():
        return db.session.get(Inspection, inspection_id).revision


def _upload(client: FlaskClient, url: str, fields: dict[str, object]):
    """POST a multipart body built in memory (the test client spools big bodies to a file it never closes)."""
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _photo(client: FlaskClient, inspection_id: int, data: bytes, name: str = "p.jpg", item_id: str = "A3",
           client_uuid: str | None = None):
    form: dict[str, object] = {"item_id": item_id, "file": FileStorage(io.BytesIO(data), name)}
    if client_uuid:
        form["client_uuid"] = client_uuid
    return _upload(client, f"/api/v1/inspections/{inspection_id}/photos", form)


def _photos(app: Flask) -> list[Photo]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Photo).order_by(Photo.id)).all()
        db.session.expunge_all()
        return rows


# ---------------------------------------------------------------------------------------------- saving


def test_put_saves_answer_and_returns_score(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    response = _put(client, world["insp"], "A3", value="met", note="  Có niêm yết  ", base_revision=0)
    assert response.status_code == 200
    body = response.get_json()
    answer = body["answer"]
    assert {k: answer[k] for k in ("item_id", "value", "note", "revision", "updated_by")} == {
        "item_id": "A3", "value": "met", "note": "Có niêm yết", "revision": 1, "updated_by": "Nguyễn Văn An"}
    assert answer["updated_at"]
    assert body["inspection"]["revision"] == _revision(app, world["insp"])
    score = body["score"]
    applicable, _excluded = fx.applicable_ids(app, world["insp"])
    assert (score["answered"], score["applicable"]) == (1, len(applicable))
    assert score["overall_percent"] == 100.0
    assert score["provisional_classification"] == "meets"
    assert score["sections"]["A"] == 100.0
    assert score["sections"]["B"] is None
    assert "L" not in score["sections"]  # nothing applicable there for a station
    # Then a note only, then a value only: each is a compare-and-set on the answer's revision.
    assert _put(client, world["insp"], "A3", note="Giá đúng", base_revision=1).get_json()["answer"]["value"] == "met"
    second = _put(client, world["insp"], "A3", value="not_met", base_revision=2).get_json()
    assert (second["answer"]["note"], second["answer"]["revision"]) == ("Giá đúng", 3)
    assert second["score"]["overall_percent"] == 0.0
    assert second["score"]["provisional_classification"] == "does_not_meet"


def test_get_inspection_for_refresh(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    _put(client, world["insp"], "C5", value=2, base_revision=0)
    _photo(client, world["insp"], fx.jpeg_bytes())
    body = client.get(f"/api/v1/inspections/{world['insp']}").get_json()
    assert body["inspection"]["id"] == world["insp"]
    assert body["inspection"]["status"] == "draft"
    assert body["inspection"]["editable"] is True
    assert body["inspection"]["checklist"]["version"] == 1
    assert body["answers"]["C5"]["value"] == "2"
    assert body["answers"]["C5"]["revision"] == 1
    [photo] = body["photos"]
    assert photo["item_id"] == "A3"
    assert photo["content_type"] == "image/jpeg"
    assert "data" not in photo
    assert body["score"]["answered"] == 1
    # A reviewer of the district may read it, but not edit it.
    login(client, world["rev"])
    assert client.get(f"/api/v1/inspections/{world['insp']}").get_json()["inspection"]["editable"] is False


# ---------------------------------------------------------------------------------------------- conflicts


def test_stale_write_gets_409_with_the_current_value_then_succeeds(app: Flask, world) -> None:
    one, two = app.test_client(), app.test_client()
    login(one, world["sup"])
    login(two, world["sup_b"])
    assert _put(one, world["insp"], "A3", value="met", base_revision=0).status_code == 200
    assert _put(two, world["insp"], "A3", value="met", note="xem lại", base_revision=1).status_code == 200
    # The first tablet still believes revision 1.
    stale = _put(one, world["insp"], "A3", value="not_met", base_revision=1)
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "conflict"
    assert "A3" in body["message"]
    current = body["current"]
    assert (current["value"], current["note"], current["revision"], current["updated_by"]) == (
        "met", "xem lại", 2, "Trần Thị Bình")
    assert current["value_label"]
    assert current["updated_at"]
    with app.app_context():
        assert db.session.scalars(sa.select(Answer)).one().value == "met"
    # "Use mine": resend with the current revision.
    again = _put(one, world["insp"], "A3", value="not_met", base_revision=current["revision"])
    assert again.status_code == 200
    assert again.get_json()["answer"]["revision"] == 3


def test_concurrent_first_answers_one_gets_409(app: Flask, world) -> None:
    one, two = app.test_client(), app.test_client()
    login(one, world["sup"])
    login(two, world["sup_b"])
    first = _put(one, world["insp"], "A6", value="met", base_revision=0)
    second = _put(two, world["insp"], "A6", value="not_met", base_revision=0)
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert second.get_json()["current"]["value"] == "met"


def test_answer_not_there_any_more_is_a_conflict(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    response = _put(client, world["insp"], "A6", value="met", base_revision=4)
    assert response.status_code == 409
    assert response.get_json()["current"]["revision"] == 0


# ---------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(("item_id", "body", "status", "code", "words"), [
    ("Z99", {"value": "met"}, 422, "unknown_item", "Item Z99 is not in this checklist"),
    ("A1", {"value": "met"}, 422, "not_applicable", "Item A1 does not apply"),  # licences: clinics only
    ("C3", {"value": "met"}, 422, "not_applicable", "Item C3 does not apply"),  # implants: not offered
    ("A3", {"value": "yes"}, 422, "bad_answer", "Item A3: “yes” is not one of the allowed answers"),
    ("C5", {"value": 7}, 422, "bad_answer", "Item C5: “7” is not one of the allowed answers"),
    ("B9", {"value": "many"}, 422, "bad_answer", "Item B9 needs a number"),
    ("A2", {"value": "na"}, 422, "bad_answer", "Item A2 cannot be answered “not applicable”"),
    ("A3", {"note": 5}, 422, "bad_note", "The note of item A3"),
    ("A3", {"note": "x" * 4001}, 422, "bad_note", "The note of item A3"),
    ("A3", {}, 400, "empty", "Nothing to save for item A3"),
])
def test_refused_values_name_the_item(app: Flask, client: FlaskClient, world, item_id, body, status, code,
                                      words) -> None:
    login(client, world["sup"])
    before = _revision(app, world["insp"])
    response = client.put(f"/api/v1/inspections/{world['insp']}/answers/{item_id}?lang=en",
                          json={**body, "base_revision": 0})
    assert response.status_code == status
    data = response.get_json()
    assert data["error"] == code
    assert words in data["message"]
    assert _revision(app, world["insp"]) == before
    with app.app_context():
        assert db.session.scalars(sa.select(Answer)).all() == []


@pytest.mark.parametrize("payload", [
    b"not json", b"[1, 2]", b'{"value": "met"}', b'{"value": "met", "base_revision": -1}',
    b'{"value": "met", "base_revision": "0"}', b'{"value": "met", "base_revision": true}',
])
def test_malformed_requests_are_400(app: Flask, client: FlaskClient, world, payload: bytes) -> None:
    login(client, world["sup"])
    response = client.put(f"/api/v1/inspections/{world['insp']}/answers/A3", data=payload,
                          content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] in ("bad_json", "bad_revision")


def test_submitted_inspection_is_locked(app: Flask, client: FlaskClient, world) -> None:
    fx.submit_complete(app, world["insp"], world["sup"])
    login(client, world["sup"])
    with app.app_context():
        revision = db.session.scalar(sa.select(Answer.revision).where(Answer.inspection_id == world["insp"],
                                                                      Answer.item_id == "A3"))
    response = _put(client, world["insp"], "A3", value="not_met", base_revision=revision)
    assert response.status_code == 409
    assert response.get_json()["error"] == "locked"
    assert _photo(client, world["insp"], fx.jpeg_bytes()).get_json()["error"] == "locked"
    assert client.get(f"/api/v1/inspections/{world['insp']}").get_json()["inspection"]["editable"] is False


# ---------------------------------------------------------------------------------------------- photos


def test_real_photos_are_accepted_and_resized(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    before = _revision(app, world["insp"])
    jpeg = _photo(client, world["insp"], fx.jpeg_bytes(2400, 1800))
    assert jpeg.status_code == 201
    meta = jpeg.get_json()["photo"]
    assert (meta["width"], meta["height"], meta["content_type"]) == (1600, 1200, "image/jpeg")
    png = _photo(client, world["insp"], fx.png_bytes(400, 200), name="scan.png", item_id="C5")
    assert png.status_code == 201
    assert png.get_json()["photo"]["content_type"] == "image/jpeg"
    assert _revision(app, world["insp"]) == before + 2
    stored = _photos(app)
    assert [(p.item_id, p.width, p.height) for p in stored] == [("A3", 1600, 1200), ("C5", 400, 200)]
    assert all(p.data[:3] == b"\xff\xd8\xff" for p in stored)


def test_photo_upload_is_idempotent_for_a_client_uuid(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    uuid = "6f1c2b9e-6a43-4c55-9d0e-3f1a2b3c4d5e"
    first = _photo(client, world["insp"], fx.jpeg_bytes(), client_uuid=uuid)
    again = _photo(client, world["insp"], fx.jpeg_bytes(), client_uuid=uuid)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["photo"]["uuid"] == again.get_json()["photo"]["uuid"] == uuid
    assert len(_photos(app)) == 1
    assert _photo(client, world["insp"], fx.jpeg_bytes(), client_uuid="not-a-uuid").status_code == 422


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"Day la mot tep van ban, khong phai anh.\n" * 20, "anh.jpg", "photo of item A3 was refused"),
    (b"\xff\xd8\xff\xe0" + b"\0" * (12 * 1024 * 1024), "big.jpg", "larger than 12 MB"),
    (fx.bomb_png(), "bomb.png", "too many pixels"),
    (fx.bomb_png(8000, 8000), "large.png", "too many pixels"),
    (b"", "empty.jpg", "empty"),
])
def test_bad_photos_are_refused_and_nothing_is_stored(app: Flask, client: FlaskClient, world, data: bytes,
                                                      name: str, words: str) -> None:
    login(client, world["sup"])
    before = _revision(app, world["insp"])
    response = _upload(client, f"/api/v1/inspections/{world['insp']}/photos?lang=en",
                       {"item_id": "A3", "file": FileStorage(io.BytesIO(data), name)})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "bad_photo"
    assert words in body["message"]
    assert "A3" in body["message"]
    assert _photos(app) == []
    assert _revision(app, world["insp"]) == before


def test_photo_request_problems(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    assert _photo(client, world["insp"], fx.jpeg_bytes(), item_id="Z9").get_json()["error"] == "unknown_item"
    assert _photo(client, world["insp"], fx.jpeg_bytes(), item_id="C3").get_json()["error"] == "not_applicable"
    missing = client.post(f"/api/v1/inspections/{world['insp']}/photos", data={"item_id": "A3"},
                          content_type="multipart/form-data")
    assert missing.status_code == 400
    assert missing.get_json()["error"] == "no_file"
    huge = _upload(client, f"/api/v1/inspections/{world['insp']}/photos",
                   {"item_id": "A3", "file": FileStorage(io.BytesIO(b"\0" * (17 * 1024 * 1024)), "x.jpg")})
    assert huge.status_code == 413
    assert huge.get_json()["error"] == "too_large"
    assert _photos(app) == []


def test_delete_photo(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    uuid = _photo(client, world["insp"], fx.jpeg_bytes()).get_json()["photo"]["uuid"]
    login(client, world["rev"])
    assert client.delete(f"/api/v1/photos/{uuid}").status_code == 403
    login(client, world["sup2"])
    assert client.delete(f"/api/v1/photos/{uuid}").status_code == 404
    login(client, world["sup"])
    response = client.delete(f"/api/v1/photos/{uuid}")
    assert response.status_code == 200
    assert response.get_json()["deleted"] == uuid
    assert _photos(app) == []
    assert client.delete(f"/api/v1/photos/{uuid}").status_code == 404


# ---------------------------------------------------------------------------------------------- scope and roles


def _endpoints(world: dict[str, int], photo_uuid: str) -> list[tuple[str, str, dict]]:
    insp = world["insp"]
    return [
        ("GET", f"/api/v1/inspections/{insp}", {}),
        ("PUT", f"/api/v1/inspections/{insp}/answers/A3", {"json": {"value": "met", "base_revision": 0}}),
        ("POST", f"/api/v1/inspections/{insp}/photos",
         {"data": {"item_id": "A3", "file": (io.BytesIO(fx.jpeg_bytes()), "a.jpg")},
          "content_type": "multipart/form-data"}),
        ("DELETE", f"/api/v1/photos/{photo_uuid}", {}),
    ]


def _call(client: FlaskClient, method: str, url: str, kwargs: dict):
    if "data" in kwargs:  # a file stream can be read once
        kwargs = {**kwargs, "data": {"item_id": "A3", "file": (io.BytesIO(fx.jpeg_bytes()), "a.jpg")}}
    return client.open(url, method=method, **kwargs)


def test_scope_and_roles_on_every_endpoint(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    photo_uuid = _photo(client, world["insp"], fx.jpeg_bytes()).get_json()["photo"]["uuid"]
    endpoints = _endpoints(world, photo_uuid)
    # Signed out: 401 JSON, never a redirect to the sign-in page.
    client.post("/logout")
    for method, url, kwargs in endpoints:
        response = _call(client, method, url, kwargs)
        assert response.status_code == 401, (method, url)
        assert response.get_json()["error"] == "unauthenticated"
    # Another district: 404, whatever the method.
    login(client, world["sup2"])
    for method, url, kwargs in endpoints:
        response = _call(client, method, url, kwargs)
        assert response.status_code == 404, (method, url)
        assert response.get_json()["error"] == "not_found"
    # A reviewer of the district reads but never writes.
    login(client, world["rev"])
    for method, url, kwargs in endpoints:
        response = _call(client, method, url, kwargs)
        assert response.status_code == (200 if method == "GET" else 403), (method, url)
    # Nothing was written by any of them.
    with app.app_context():
        assert db.session.scalars(sa.select(Answer)).all() == []
    assert [p.uuid for p in _photos(app)] == [photo_uuid]
    # An unknown inspection is simply not found.
    login(client, world["sup"])
    assert _put(client, 999999, "A3", value="met", base_revision=0).status_code == 404


# ---------------------------------------------------------------------------------------------- CSRF


def test_api_writes_need_the_csrf_header(tmp_path: Path) -> None:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
    try:
        world = fx.build_world(app)
        inspection_id = fx.start(app, world["tyt"], world["sup"])
        client = app.test_client()
        login(client, world["sup"])
        page = client.get(f"/inspections/{inspection_id}/form").get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
        url = f"/api/v1/inspections/{inspection_id}/answers/A3"
        refused = client.put(url, json={"value": "met", "base_revision": 0})
        assert refused.status_code == 400
        assert refused.get_json()["error"] == "csrf"
        wrong = client.put(url, json={"value": "met", "base_revision": 0}, headers={"X-CSRFToken": "nope"})
        assert wrong.status_code == 400
        with app.app_context():
            assert db.session.scalars(sa.select(Answer)).all() == []
        accepted = client.put(url, json={"value": "met", "base_revision": 0}, headers={"X-CSRFToken": token})
        assert accepted.status_code == 200
        # Reading needs no token; photo uploads and deletions do.
        assert client.get(f"/api/v1/inspections/{inspection_id}").status_code == 200
        upload = client.post(f"/api/v1/inspections/{inspection_id}/photos",
                             data={"item_id": "A3", "file": (io.BytesIO(fx.jpeg_bytes()), "a.jpg")},
                             content_type="multipart/form-data")
        assert upload.status_code == 400
        assert upload.get_json()["error"] == "csrf"
        # The start form and the no-script item forms carry the token too.
        assert client.post("/inspections/start", data={"facility_id": world["tyt"]}).status_code == 400
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# ---------------------------------------------------------------------------------------------- the documented shapes


def test_responses_match_docs_openapi(app: Flask, client: FlaskClient, world) -> None:
    import jsonschema
    import yaml

    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text("utf-8"))

    def check(body: object, schema: str) -> None:
        jsonschema.Draft202012Validator({**spec, "$ref": f"#/components/schemas/{schema}"}).validate(body)

    login(client, world["sup"])
    saved = _put(client, world["insp"], "A3", value="met", note="ghi chú", base_revision=0).get_json()
    for key, schema in (("answer", "Answer"), ("inspection", "InspectionRevision"), ("score", "Score")):
        check(saved[key], schema)
    check(_put(client, world["insp"], "A3", value="na", base_revision=0).get_json(), "Conflict")
    check(_put(client, world["insp"], "A2", value="na", base_revision=0).get_json(), "Error")
    check(_photo(client, world["insp"], fx.jpeg_bytes()).get_json(), "PhotoResult")
    body = client.get(f"/api/v1/inspections/{world['insp']}").get_json()
    check(body["inspection"], "InspectionDetail")
    check(body["score"], "Score")
    for answer in body["answers"].values():
        check(answer, "Answer")
    for photo in body["photos"]:
        check(photo, "Photo")
    fx.submit_complete(app, world["insp"], world["sup"])
    check(_put(client, world["insp"], "A3", value="met", base_revision=9).get_json(), "Locked")
