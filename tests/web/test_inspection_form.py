"""Starting an inspection and the tablet form: version by rule, exclusions and why, scope, saved answers, history."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections import services
from qa_app.inspections.models import Answer, Inspection, Photo

from .. import inspection_fixtures as fx
from ..factories import login


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    return fx.build_world(app)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _inspections(app: Flask) -> list[Inspection]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Inspection).order_by(Inspection.id)).all()
        for row in rows:
            _ = row.checklist_version.version
        db.session.expunge_all()
        return rows


def _articles(page: str) -> list[str]:
    return re.findall(r'<article class="item[^"]*" id="item-([^"]+)"', page)


# ---------------------------------------------------------------------------------------------- start


def test_start_page_shows_version_and_exclusions_with_reasons(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    page = _text(client.get(f"/inspections/start?facility_id={world['tyt']}&lang=en"))
    assert "Trạm Y tế xã Bản Giang" in page
    assert "Family planning service quality checklist" in page
    assert "fp-quality v1" in page
    assert "1 Jan 2021" in page
    # Excluded before starting, each with its rule: type (A1 is for clinics, hospitals and pharmacies) and
    # service (C3 concerns implants, which this station does not offer).
    assert re.search(r"<strong>A1</strong>.*?Type: not applicable to Commune health station", page, re.S)
    assert re.search(r"<strong>C3</strong>.*?Service: the facility does not offer Implant", page, re.S)
    assert re.search(r'data-section="L".*?the whole section.*?Type: not applicable to Commune health station',
                     page, re.S)
    applicable, excluded = 0, 0
    with app.app_context():
        from qa_app.checklists.registry import checklist_of, version_for
        from qa_app.scoring import applicable_items

        facility = db.session.get(Facility, world["tyt"])
        rows = applicable_items(checklist_of(version_for("TYT", dt.date.today())), facility.profile())
        applicable = sum(1 for _i, ok, _r in rows if ok)
        excluded = [i.id for i, ok, _r in rows if not ok]
    assert f"<dd>{applicable}</dd>" in page
    for item_id in excluded:
        assert f"<strong>{item_id}</strong>" in page
    assert _inspections(app) == []  # looking is free


def test_pharmacy_start_page_says_why_clinical_sections_are_left_out(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    page = _text(client.get(f"/inspections/start?facility_id={world['nt']}&lang=en"))
    assert re.search(r'data-section="H".*?the whole section.*?Type: not applicable to Pharmacy or drug counter',
                     page, re.S)
    assert 'data-section="L"' not in page


def test_start_creates_draft_and_opens_form(app: Flask, client: FlaskClient, world) -> None:
    login(client, world["sup"])
    response = client.post("/inspections/start", data={"facility_id": world["tyt"], "kind": "self"})
    assert response.status_code == 302
    [inspection] = _inspections(app)
    assert response.headers["Location"] == f"/inspections/{inspection.id}/form"
    assert inspection.status == "draft"
    assert inspection.kind == "self"
    assert inspection.inspection_date == dt.date.today() or \
        abs((inspection.inspection_date - dt.date.today()).days) <= 1  # local (Vietnam) day vs UTC day
    assert inspection.checklist_version.version == 1
    # The generic inspection link opens the form for its editor.
    assert client.get(f"/inspections/{inspection.id}").headers["Location"] == f"/inspections/{inspection.id}/form"


def test_a_second_external_inspection_the_same_day_is_warned_not_refused(app: Flask, client: FlaskClient,
                                                                          world) -> None:
    login(client, world["sup"])
    day = dt.date.today().isoformat()
    start_page = f"/inspections/start?facility_id={world['tyt']}&inspection_date={day}&lang=vi"
    assert "data-same-day" not in client.get(start_page).get_data(as_text=True)
    first = client.post("/inspections/start", data={"facility_id": world["tyt"], "inspection_date": day,
                                                    "kind": "external"})
    assert first.status_code == 302
    page = client.get(start_page).get_data(as_text=True)
    assert "data-same-day" in page and "tránh tạo trùng" in page
    # A self-assessment the same day is not a duplicate of it.
    client.post("/inspections/start", data={"facility_id": world["tyt"], "inspection_date": day, "kind": "self"})
    second = client.post("/inspections/start", data={"facility_id": world["tyt"], "inspection_date": day,
                                                     "kind": "external"})
    assert second.status_code == 302  # started all the same
    assert len(_inspections(app)) == 3
    shown = client.get(second.headers["Location"] + "?lang=vi").get_data(as_text=True)
    assert "flash-warning" in shown and "tránh tạo trùng" in shown


def test_version_is_chosen_by_date_and_a_draft_never(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    world = fx.build_world(app, fx.write_versions(tmp_path / "checklists"))
    login(client, world["sup"])
    # v3 is a draft effective 2026-06-01: never chosen, even on a date it would cover.
    today_page = _text(client.get(f"/inspections/start?facility_id={world['tyt']}&lang=en"))
    assert "fp-quality v2" in today_page
    assert "fp-quality v3" not in today_page
    old_page = _text(client.get(f"/inspections/start?facility_id={world['tyt']}&inspection_date=2025-06-01&lang=en"))
    assert "fp-quality v1" in old_page
    client.post("/inspections/start", data={"facility_id": world["tyt"], "inspection_date": "2025-06-01"})
    client.post("/inspections/start", data={"facility_id": world["tyt"], "inspection_date": "2026-07-01"})
    first, second = _inspections(app)
    assert (first.inspection_date, first.checklist_version.version) == (dt.date(2025, 6, 1), 1)
    assert (second.inspection_date, second.checklist_version.version) == (dt.date(2026, 7, 1), 2)


@pytest.mark.parametrize(("data", "message"), [
    ({"inspection_date": "2099-01-01"}, "cannot be dated in the future"),
    ({"inspection_date": "2019-05-01"}, "No published checklist is in force on 1 May 2019"),
    ({"inspection_date": "2010-05-01"}, "was not operating on 1 May 2010"),
    ({"kind": "audit"}, "Kind"),
])
def test_start_refusals_are_shown_on_the_start_page(app: Flask, client: FlaskClient, world, data, message) -> None:
    login(client, world["sup"])
    response = client.post("/inspections/start?lang=en", data={"facility_id": world["tyt"], **data})
    assert response.status_code in (400, 409)
    page = _text(response)
    assert 'id="start-error"' in page
    assert message in page
    assert "Start an inspection" in page
    assert "Trạm Y tế xã Bản Giang" in page
    assert _inspections(app) == []


def test_start_problem_is_visible_before_pressing_start(app: Flask, client: FlaskClient, world) -> None:
    with app.app_context():
        db.session.get(Facility, world["tyt"]).active_to = dt.date(2024, 12, 31)
        db.session.commit()
    login(client, world["sup"])
    page = _text(client.get(f"/inspections/start?facility_id={world['tyt']}&lang=en"))
    assert "was not operating on" in page
    assert re.search(r'<button type="submit" class="btn btn-primary btn-big"\s+disabled', page)


def test_start_scope_and_roles(app: Flask, client: FlaskClient, world) -> None:
    # Signed out: the sign-in page.
    assert client.get(f"/inspections/start?facility_id={world['tyt']}").headers["Location"].startswith("/login")
    assert client.post("/inspections/start", data={"facility_id": world["tyt"]}).headers["Location"].startswith(
        "/login")
    # A supervisor of another district: not found.
    login(client, world["sup2"])
    assert client.get(f"/inspections/start?facility_id={world['tyt']}").status_code == 404
    assert client.post("/inspections/start", data={"facility_id": world["tyt"]}).status_code == 404
    assert client.get("/inspections/start?facility_id=999999").status_code == 404
    # Without a facility: back to the list to choose one.
    login(client, world["sup"])
    assert client.get("/inspections/start").headers["Location"] == "/facilities/"
    # A reviewer may not start.
    login(client, world["rev"])
    assert client.get(f"/inspections/start?facility_id={world['tyt']}").status_code == 403
    assert client.post("/inspections/start", data={"facility_id": world["tyt"]}).status_code == 403
    # An admin with the whole country may.
    login(client, world["admin"])
    assert client.post("/inspections/start", data={"facility_id": world["tyt2"]}).status_code == 302
    assert len(_inspections(app)) == 1


# ---------------------------------------------------------------------------------------------- the form


def test_form_renders_every_applicable_item_of_a_commune_station(app: Flask, client: FlaskClient, world) -> None:
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    applicable, excluded = fx.applicable_ids(app, inspection_id)
    login(client, world["sup"])
    response = client.get(f"/inspections/{inspection_id}/form?lang=en")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = _text(response)
    assert _articles(page) == applicable
    for item_id in excluded:
        assert f'id="item-{item_id}"' not in page
        assert f"<strong>{item_id}</strong>" in page  # listed, collapsed, with its rule
    assert "Service: the facility does not offer Implant" in page
    # Header: facility, progress, score, status indicator, finish link.
    assert "Trạm Y tế xã Bản Giang" in page
    assert f'data-progress>0/{len(applicable)}<' in page
    assert 'data-save-status data-state="saved"' in page
    assert f'href="/review/inspections/{inspection_id}/finish"' in page
    # Section navigation with per-section progress; no section L for a station.
    assert 'href="#sec-A"' in page
    assert 'href="#sec-H"' in page
    assert 'href="#sec-L"' not in page
    # One item in detail: one-tap buttons, no N/A where it is not allowed, badges, guidance, note and photo input.
    a2 = page[page.index('id="item-A2"'):page.index('id="item-A3"')]
    assert 'value="met"' in a2
    assert 'value="not_met"' in a2
    assert 'value="na"' not in a2
    assert 'aria-pressed="false"' in a2
    assert "★ Critical" in a2
    assert "Records" in a2
    assert "<details class=\"guidance\">" in a2
    # 86 "How to verify" buttons share a name: each is described by its item's text.
    assert 'aria-describedby="item-A2-text"' in a2 and 'id="item-A2-text"' in a2
    assert 'accept="image/*" capture="environment"' in a2
    assert 'name="note"' in a2
    assert 'value="na"' in page[page.index('id="item-A3"'):page.index('id="item-A4"')]
    # Critical only because of a service the facility offers.
    c2 = page[page.index('id="item-C2"'):]
    assert "★ Critical because the facility offers IUD" in c2[:c2.index("</article>")]
    # Graded items show their levels with labels; number items an input.
    c5 = page[page.index('id="item-C5"'):]
    c5 = c5[:c5.index("</article>")]
    assert all(f'data-value="{v}"' in c5 for v in (0, 1, 2))
    assert "Partly met" in c5
    b9 = page[page.index('id="item-B9"'):]
    assert 'inputmode="decimal"' in b9[:b9.index("</article>")]
    # No inline script: the data travels in a JSON block.
    assert re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", page) is None
    assert ' onclick=' not in page


def test_pharmacy_form_has_section_l_and_not_h(app: Flask, client: FlaskClient, world) -> None:
    inspection_id = fx.start(app, world["nt"], world["sup"])
    applicable, _excluded = fx.applicable_ids(app, inspection_id)
    login(client, world["sup"])
    page = _text(client.get(f"/inspections/{inspection_id}/form?lang=en"))
    assert _articles(page) == applicable
    assert 'id="sec-L"' in page
    assert 'id="item-L1"' in page
    assert 'id="sec-H"' not in page
    assert 'id="item-H1"' not in page
    assert 'href="#sec-H"' not in page
    assert "Sections that do not apply to this facility" in page
    assert "Type: not applicable to Pharmacy or drug counter" in page


def test_saved_answers_and_notes_are_drawn_by_the_server(app: Flask, client: FlaskClient, world) -> None:
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    login(client, world["sup"])
    url = f"/api/v1/inspections/{inspection_id}/answers"
    assert client.put(f"{url}/A3", json={"value": "not_met", "note": "Bảng giá <b>cũ</b>",
                                         "base_revision": 0}).status_code == 200
    assert client.put(f"{url}/C5", json={"value": 1, "base_revision": 0}).status_code == 200
    assert client.put(f"{url}/B9", json={"value": "12.5", "base_revision": 0}).status_code == 200
    assert client.put(f"{url}/B10", json={"value": "Có 2 cộng tác viên", "base_revision": 0}).status_code == 200
    page = _text(client.get(f"/inspections/{inspection_id}/form?lang=en"))
    a3 = page[page.index('id="item-A3"'):page.index('id="item-A4"')]
    assert re.search(r'value="not_met" class="ans ans-not_met" aria-pressed="true"', a3)
    assert re.search(r'value="met" class="ans ans-met" aria-pressed="false"', a3)
    assert "Bảng giá &lt;b&gt;cũ&lt;/b&gt;</textarea>" in a3  # escaped, never raw HTML
    assert 'data-revision="1"' in a3
    c5 = page[page.index('id="item-C5"'):]
    assert re.search(r'value="1" class="ans ans-level ans-low" aria-pressed="true"', c5[:c5.index("</article>")])
    b9 = page[page.index('id="item-B9"'):]
    assert 'value="12.5" data-answer-input' in b9[:b9.index("</article>")]
    assert "Có 2 cộng tác viên</textarea>" in page
    assert "data-progress>4/" in page  # informational items count as answered too


def test_form_access(app: Flask, client: FlaskClient, world) -> None:
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    form = f"/inspections/{inspection_id}/form"
    assert client.get(form).headers["Location"].startswith("/login")
    login(client, world["sup2"])
    assert client.get(form).status_code == 404
    assert client.get(f"/inspections/{inspection_id}").status_code == 404
    # A reviewer of the district sees the record, not the form.
    login(client, world["rev"])
    assert client.get(form).headers["Location"] == f"/inspections/{inspection_id}"
    assert client.get(f"/inspections/{inspection_id}").headers["Location"] == f"/review/inspections/{inspection_id}"
    # Another supervisor of the district may work on it too (a team shares the form).
    login(client, world["sup_b"])
    assert client.get(form).status_code == 200
    # Once submitted, nobody edits it.
    fx.submit_complete(app, inspection_id, world["sup"])
    login(client, world["sup"])
    assert client.get(form).headers["Location"] == f"/inspections/{inspection_id}"
    assert client.get(f"/inspections/{inspection_id}").headers["Location"] == f"/review/inspections/{inspection_id}"


def test_last_visit_failures_and_open_actions_beside_items(app: Flask, client: FlaskClient, world) -> None:
    previous = fx.start(app, world["tyt"], world["sup"], on=dt.date(2025, 3, 12))
    fx.submit_complete(app, previous, world["sup"], failing=("A3", "C5"))
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    login(client, world["sup"])
    page = _text(client.get(f"/inspections/{inspection_id}/form?lang=en"))
    a3 = page[page.index('id="item-A3"'):page.index('id="item-A4"')]
    assert "Failed last time on 12 Mar 2025" in a3
    assert "(Not met)" in a3
    assert "Open corrective action" in a3
    assert "Bổ sung" in a3
    assert "Trưởng trạm" in a3
    c5 = page[page.index('id="item-C5"'):]
    assert "Failed last time on 12 Mar 2025" in c5[:c5.index("</article>")]
    a2 = page[page.index('id="item-A2"'):page.index('id="item-A3"')]
    assert "Failed last time" not in a2
    assert "Open corrective action" not in a2
    assert "Previous inspection: 12 Mar 2025" in page


def test_returned_inspection_shows_the_return_comment_and_item_comments(app: Flask, client: FlaskClient,
                                                                      world) -> None:
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    fx.submit_complete(app, inspection_id, world["sup"])
    with app.app_context():
        services.return_inspection(db.session.get(Inspection, inspection_id), db.session.get(User, world["rev"]),
                                   "Thiếu ảnh minh chứng", {"A3": "Bảng giá có đúng không?"})
        db.session.commit()
    login(client, world["sup"])
    page = _text(client.get(f"/inspections/{inspection_id}/form?lang=en"))
    assert "Returned for corrections" in page
    assert "Thiếu ảnh minh chứng" in page
    a3 = page[page.index('id="item-A3"'):page.index('id="item-A4"')]
    assert "Bảng giá có đúng không?" in a3
    assert "Đỗ Thu Hà" in a3
    assert 'aria-pressed="true"' in a3  # the answers given before the return are there


# ---------------------------------------------------------------------------------------------- without JavaScript


def test_each_item_saves_without_javascript(app: Flask, client: FlaskClient, world) -> None:
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    login(client, world["sup"])
    url = f"/inspections/{inspection_id}/items/A3"
    response = client.post(url, data={"base_revision": "0", "value_choice": "met", "note": "Có niêm yết"})
    assert response.headers["Location"] == f"/inspections/{inspection_id}/form#item-A3"
    # A stale form (someone saved since) is refused with a message, not an overwrite.
    response = client.post(url, data={"base_revision": "0", "value_choice": "not_met", "note": "Có niêm yết"},
                           follow_redirects=True)
    assert "đã bị người khác sửa" in _text(response)  # the default language is Vietnamese
    client.post(url, data={"base_revision": "1", "note": "Có niêm yết, giá đúng"})
    client.post(f"/inspections/{inspection_id}/items/B9", data={"base_revision": "0", "value": "7", "note": ""})
    with app.app_context():
        answers = {a.item_id: a for a in db.session.scalars(sa.select(Answer))}
    assert (answers["A3"].value, answers["A3"].note, answers["A3"].revision) == ("met", "Có niêm yết, giá đúng", 2)
    assert answers["B9"].value == "7"
    # Pressing "Save" with nothing changed writes nothing (a plain form sends every field).
    client.post(url, data={"base_revision": "2", "note": "Có niêm yết, giá đúng"})
    client.post(f"/inspections/{inspection_id}/items/B10", data={"base_revision": "0", "value": "", "note": ""})
    with app.app_context():
        assert db.session.scalar(sa.select(Answer.revision).where(Answer.item_id == "A3")) == 2
        assert db.session.scalar(sa.select(Answer.id).where(Answer.item_id == "B10")) is None
    # The note and photo controls are folded away except on an item that has a note (or a photo).
    form = client.get(f"/inspections/{inspection_id}/form").get_data(as_text=True)
    extras = dict(re.findall(r'<article [^>]*id="item-([^"]+)".*?<details class="extra" data-extra( open)?>', form,
                             re.S))
    assert extras["A3"] == " open" and extras["A4"] == "" and extras["B9"] == ""
    # A photo and its deletion, by plain form posts.
    client.post(url, data={"base_revision": "2", "photo": (io.BytesIO(fx.jpeg_bytes()), "a.jpg")},
                content_type="multipart/form-data")
    with app.app_context():
        photo = db.session.scalars(sa.select(Photo)).one()
        uuid = photo.uuid
    client.post(url, data={"base_revision": "2", "delete_photo": uuid})
    with app.app_context():
        assert db.session.scalars(sa.select(Photo)).all() == []
    # A reviewer cannot post.
    login(client, world["rev"])
    assert client.post(url, data={"base_revision": "2", "value_choice": "na"}).status_code == 403


def test_photo_is_served_in_scope_and_privately_cached(app: Flask, client: FlaskClient, world) -> None:
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    login(client, world["sup"])
    created = client.post(f"/api/v1/inspections/{inspection_id}/photos",
                          data={"item_id": "A3", "file": (io.BytesIO(fx.png_bytes(800, 600)), "p.png")},
                          content_type="multipart/form-data").get_json()["photo"]
    assert created["url"] == f"/inspections/{inspection_id}/photos/{created['id']}"
    response = client.get(created["url"])
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.data[:3] == b"\xff\xd8\xff"
    assert "private" in response.headers["Cache-Control"]
    assert client.get(created["url"], headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    thumb = client.get(created["thumb_url"])
    assert thumb.mimetype == "image/jpeg"
    assert len(thumb.data) < len(response.data)
    assert thumb.headers["ETag"] != response.headers["ETag"]
    assert client.get(created["thumb_url"], headers={"If-None-Match": thumb.headers["ETag"]}).status_code == 304
    page = _text(client.get(f"/inspections/{inspection_id}/form"))
    assert f'src="{created["thumb_url"]}"' in page
    assert f'value="{created["uuid"]}"' in page
    # Another district: not found; a reviewer of the district: allowed to look.
    login(client, world["sup2"])
    assert client.get(created["url"]).status_code == 404
    login(client, world["rev"])
    assert client.get(created["url"]).status_code == 200
    assert client.get(f"/inspections/{inspection_id}/photos/{created['id'] + 1}").status_code == 404
    client.post("/logout")
    assert client.get(created["url"]).headers["Location"].startswith("/login")


def _json_script(page: str, element: str) -> dict:
    import json

    start = page.index(f'id="{element}">') + len(f'id="{element}">')
    return json.loads(page[start:page.index("</script>", start)])


@pytest.mark.parametrize(("lang", "label"), [("vi", "Không đánh giá được: cần giám sát lại"),
                                             ("en", "Not assessable: re-visit needed")])
def test_both_forms_can_name_every_class_the_engine_gives(app: Flask, client: FlaskClient, world, lang,
                                                          label) -> None:
    """The tablet engine classifies as the server does, "not assessable" included: both forms have its label."""
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    login(client, world["sup"])
    online = _json_script(_text(client.get(f"/inspections/{inspection_id}/form?lang={lang}")), "inspection-i18n")
    offline = _json_script(_text(client.get(f"/offline/?lang={lang}")), "offline-strings")
    for strings in (online, offline):
        assert strings["cls_not_assessable"] == label
        for cls in ("meets", "conditional", "does_not_meet"):
            assert strings[f"cls_{cls}"]
    # The offline form's answer and refusal texts, in the page's language.
    assert offline["not_observed"] == {"vi": "Không quan sát được", "en": "Not observed"}[lang]
    assert "{item}" in offline["value_integer"] and "{min}" in offline["value_min"] and "{max}" in offline["value_max"]
