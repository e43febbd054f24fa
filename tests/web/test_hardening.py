"""Hostile requests: a crash after the first write leaves the database as it was; lying, huge and bomb uploads are
refused with words and store nothing; HTML in notes and comments is shown as text."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from qa_app.audit.models import AuditEntry
from qa_app.extensions import db
from qa_app.inspections.models import Answer, Inspection, Photo
from qa_app.minutes.models import Minutes, MinutesCounter

from .. import inspection_fixtures as fx
from .. import review_fixtures as rf
from ..factories import login

HOSTILE_NOTE = '<b>x</b> & <script>alert("xss")</script> Thiếu găng tay, “khẩu trang” đủ'


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    ids = fx.build_world(app)
    ids["insp"] = fx.start(app, ids["tyt"], ids["sup"])
    return ids


def counts(app: Flask) -> dict[str, int]:
    """Row counts of what a request may write, plus the inspection revisions."""
    with app.app_context():
        out = {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
               for model in (Answer, Photo, AuditEntry, Minutes, MinutesCounter)}
        out["revisions"] = tuple(db.session.scalars(sa.select(Inspection.revision).order_by(Inspection.id)))
        out["statuses"] = tuple(db.session.scalars(sa.select(Inspection.status).order_by(Inspection.id)))
        db.session.remove()
        return out


def upload(client: FlaskClient, url: str, fields: dict[str, object]):
    """POST a multipart body built in memory (the test client spools big bodies to a file it never closes)."""
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


# ---------------------------------------------------------------------------------------------- crashes


def test_crash_after_the_answer_is_written_leaves_nothing(app: Flask, client: FlaskClient, world,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from qa_app.inspections import services

    login(client, world["sup"])
    assert client.put(f"/api/v1/inspections/{world['insp']}/answers/A3",
                      json={"value": "met", "base_revision": 0}).status_code == 200
    before = counts(app)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut between two writes")

    # _bump runs after the answer row is inserted or updated, inside the same request.
    monkeypatch.setattr(services, "_bump", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    new = client.put(f"/api/v1/inspections/{world['insp']}/answers/A4", json={"value": "met", "base_revision": 0})
    changed = client.put(f"/api/v1/inspections/{world['insp']}/answers/A3",
                         json={"value": "not_met", "note": "x", "base_revision": 1})
    assert new.status_code == 500
    assert changed.status_code == 500
    assert counts(app) == before
    with app.app_context():
        answer = db.session.scalar(sa.select(Answer).where(Answer.item_id == "A3"))
        assert (answer.value, answer.note, answer.revision) == ("met", "", 1)
    monkeypatch.undo()
    # And the next request works normally on the untouched data.
    assert client.put(f"/api/v1/inspections/{world['insp']}/answers/A4",
                      json={"value": "met", "base_revision": 0}).status_code == 200


def test_crash_while_issuing_the_minutes_leaves_the_inspection_submitted(app: Flask, client: FlaskClient,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from qa_app.minutes import services as minutes_services

    ids = rf.setup_region(app)
    inspection_id = rf.submitted(app, ids)
    before = counts(app)
    assert before["statuses"] == ("submitted",)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full while recording the minutes")

    # By then approve() has changed the status, written its audit entry, taken a number and stored the PDF.
    monkeypatch.setattr(minutes_services, "record", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login(client, ids["rev"], locale="en")
    response = client.post(f"/review/inspections/{inspection_id}/approve", data={"confirm": "1"})
    assert response.status_code == 500
    assert counts(app) == before
    monkeypatch.undo()
    response = client.post(f"/review/inspections/{inspection_id}/approve", data={"confirm": "1"})
    assert response.status_code == 302
    with app.app_context():
        minutes = db.session.scalar(sa.select(Minutes))
        assert minutes.number == 1  # the number taken by the crashed request was given back


# ---------------------------------------------------------------------------------------------- uploads


def _gif() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 0, 0)).save(out, "GIF")
    return out.getvalue()


LIES = [
    ("svg.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("page.jpg", b"<!doctype html><html><body><script>alert(1)</script></body></html>"),
    ("doc.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
    ("anim.jpg", _gif()),
    ("truncated.jpg", fx.jpeg_bytes(400, 300)[:200]),
    ("header-only.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"A" * 100),
    ("bomb.jpg", fx.bomb_png(30_000, 30_000)),
]


@pytest.mark.parametrize(("name", "data"), LIES, ids=[n for n, _d in LIES])
def test_files_lying_about_being_photos_are_refused_by_api_and_form(app: Flask, client: FlaskClient, world,
                                                                    name: str, data: bytes) -> None:
    login(client, world["sup"])
    before = counts(app)
    response = upload(client, f"/api/v1/inspections/{world['insp']}/photos?lang=en",
                      {"item_id": "A3", "file": FileStorage(io.BytesIO(data), name, content_type="image/jpeg")})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"] == "bad_photo"
    assert "A3" in response.get_json()["message"]
    page = upload(client, f"/inspections/{world['insp']}/items/A3?lang=en",
                  {"base_revision": "0", "photo": FileStorage(io.BytesIO(data), name, content_type="image/jpeg")})
    assert page.status_code == 302
    shown = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "The photo of item A3 was refused" in shown
    assert counts(app) == before


def test_accepted_photos_are_re_encoded_without_metadata_and_served_as_jpeg(app: Flask, client: FlaskClient,
                                                                          world) -> None:
    from PIL import Image

    login(client, world["sup"])
    exif = Image.Exif()
    exif[0x010E] = "SECRET-LOCATION 22.39N"  # ImageDescription: must not survive
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(out, "PNG", exif=exif.tobytes())
    png = out.getvalue()
    assert b"SECRET-LOCATION" in png
    response = upload(client, f"/api/v1/inspections/{world['insp']}/photos",
                      {"item_id": "A3", "file": FileStorage(io.BytesIO(png), "p.jpg", content_type="image/jpeg")})
    assert response.status_code == 201
    with app.app_context():
        photo = db.session.scalar(sa.select(Photo))
        stored, photo_id = bytes(photo.data), photo.id
    assert stored.startswith(b"\xff\xd8")
    assert b"SECRET-LOCATION" not in stored
    assert b"Exif" not in stored
    served = client.get(f"/inspections/{world['insp']}/photos/{photo_id}")
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.data == stored


def test_a_body_over_max_content_length_is_refused_before_it_is_read(app: Flask, client: FlaskClient,
                                                                      world) -> None:
    login(client, world["sup"])
    before = counts(app)
    huge = FileStorage(io.BytesIO(b"\xff\xd8" + b"\0" * (17 * 1024 * 1024)), "huge.jpg")
    response = upload(client, f"/inspections/{world['insp']}/items/A3", {"base_revision": "0", "photo": huge})
    assert response.status_code == 413
    assert counts(app) == before


def test_verification_upload_refuses_huge_and_non_pdf_files(app: Flask, client: FlaskClient) -> None:
    for data, words in ((b"\0" * (17 * 1024 * 1024), "too large"), (fx.jpeg_bytes(), "not a PDF"),
                        (b"%PDF-1.7\n" + b"\xff" * 5000, "signature cannot be read"),
                        (b"%PDF-" + b"(" * 100_000, "never issued")):
        response = upload(client, "/verify?lang=en", {"file": FileStorage(io.BytesIO(data), "x.pdf")})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Not authentic" in page
        assert words in page


# ---------------------------------------------------------------------------------------------- escaping


def test_html_in_notes_and_comments_is_shown_as_text(app: Flask, client: FlaskClient) -> None:
    ids = rf.setup_region(app)
    inspection_id = rf.submitted(app, ids)
    with app.app_context():
        from qa_app.auth.models import User
        from qa_app.inspections import services

        inspection = db.session.get(Inspection, inspection_id)
        services.add_comment(inspection, db.session.get(User, ids["rev"]), HOSTILE_NOTE, item_id="A3")
        services.return_inspection(inspection, db.session.get(User, ids["rev"]), HOSTILE_NOTE)
        services.save_answer(inspection, "A3", db.session.get(User, ids["sup"]), note=HOSTILE_NOTE,
                             base_revision=db.session.scalar(sa.select(Answer.revision).where(
                                 Answer.inspection_id == inspection_id, Answer.item_id == "A3")))
        db.session.commit()
    escaped = "&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt; Thiếu găng tay"
    login(client, ids["sup"], locale="en")
    for url in (f"/inspections/{inspection_id}/form", f"/review/inspections/{inspection_id}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page, url
        assert "<b>x</b>" not in page, url
        assert escaped in page, url


def test_typed_text_is_stored_nfc_whatever_the_keyboard(app: Flask, client: FlaskClient, world) -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "  Thiếu găng tay, khẩu trang — Nguyễn Thị Hương  ")
    assert decomposed.strip() != unicodedata.normalize("NFC", decomposed).strip()
    login(client, world["sup"])
    response = client.put(f"/api/v1/inspections/{world['insp']}/answers/A3",
                          json={"value": "met", "note": decomposed, "base_revision": 0})
    assert response.status_code == 200
    assert response.get_json()["answer"]["note"] == "Thiếu găng tay, khẩu trang — Nguyễn Thị Hương"
    with app.app_context():
        from qa_app.auth.models import User
        from qa_app.inspections import services

        inspection = db.session.get(Inspection, world["insp"])
        user = db.session.get(User, world["sup"])
        services.set_team(inspection, [{"role": "head", "full_name": decomposed, "position": decomposed},
                                       {"role": "facility_rep", "full_name": "Lò Văn A"}], user)
        services.set_facility_opinion(inspection, decomposed, user)
        db.session.commit()
        from qa_app.inspections.models import TeamMember

        team = db.session.scalars(sa.select(TeamMember)).all()
        stored = [inspection.facility_opinion, *(m.full_name for m in team), *(m.position for m in team),
                  db.session.scalar(sa.select(Answer.note))]
        assert all(text == unicodedata.normalize("NFC", text).strip() for text in stored), stored


def test_markup_in_every_user_text_prints_literally_in_the_minutes_pdf() -> None:
    import dataclasses
    import unicodedata

    pypdf = pytest.importorskip("pypdf")
    from qa_app.checklists.loader import load_checklist
    from qa_app.pdf import minutes
    from qa_app.pdf.sample import sample_view

    checklist = load_checklist(fx.REAL_CHECKLISTS / "fp-quality" / "v1.yaml")
    view = sample_view(checklist)
    note = "<b>x</b> & <script>"
    view = dataclasses.replace(
        view,
        facility_name=f"Trạm Y tế {note}",
        facility_opinion=f"Ý kiến {note}",
        team=tuple(dataclasses.replace(p, name=f"{p.name} {note}") for p in view.team),
        failed_items=tuple(dataclasses.replace(f, note=note) for f in view.failed_items),
        actions=tuple(dataclasses.replace(a, action=f"Làm {note}") for a in view.actions),
    )
    reader = pypdf.PdfReader(io.BytesIO(minutes.build_minutes_pdf(view, "vi")))
    text = " ".join(unicodedata.normalize("NFC", " ".join(p.extract_text() or "" for p in reader.pages)).split())
    for expected in (f"Ý kiến {note}", f"Làm {note}", note):
        assert expected in text, expected
    assert "&amp;" not in text
    assert "&lt;" not in text


@pytest.mark.parametrize("body", [
    '{"value": "met", "note": "a\\u0000b", "base_revision": 0}',
    '{"value": "met", "note": "lone \\ud800 surrogate", "base_revision": 0}',
    '{"value": "met", "note": "ok", "base_revision": 0, "x": ["\\udfff"]}',
    "[" * 50_000 + "]" * 50_000,
])
def test_text_no_database_can_store_is_refused_before_any_write(app: Flask, client: FlaskClient, world,
                                                               body: str) -> None:
    login(client, world["sup"])
    before = counts(app)
    response = client.put(f"/api/v1/inspections/{world['insp']}/answers/A3", data=body,
                          content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] in ("bad_text", "bad_json")
    assert counts(app) == before
    # A valid surrogate pair (an emoji escaped by the tablet's JSON encoder) is ordinary text.
    ok = client.put(f"/api/v1/inspections/{world['insp']}/answers/A3", content_type="application/json",
                    data='{"value": "met", "note": "\\ud83d\\ude00 đủ", "base_revision": 0}')
    assert ok.status_code == 200
    assert ok.get_json()["answer"]["note"] == "😀 đủ"


def test_nul_in_a_form_or_query_is_refused(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    before = counts(app)
    response = client.post(f"/inspections/{world['insp']}/items/A3?lang=en",
                           data={"base_revision": "0", "value_choice": "met", "note": "a\x00b"})
    assert response.status_code == 400
    assert "cannot be stored" in response.get_data(as_text=True)
    assert counts(app) == before
    assert client.get("/facilities/?q=a%00b").status_code == 400
