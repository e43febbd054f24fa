"""The checklist version's form drawn blank for the tablet (GET /offline/form/<code>/<version>).

The offline form draws its items from this copy, made by the online form's own templates: every section and item
of the version in both languages, with nothing of an inspection, a facility or a session in it.
"""

from __future__ import annotations

import html
import json
import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.checklists.models import ChecklistVersion
from qa_app.checklists.registry import checklist_of
from qa_app.extensions import db

from .. import inspection_fixtures as fx


def _version(app: Flask, code: str = "fp-quality", version: int = 1):
    with app.app_context():
        row = db.session.scalar(sa.select(ChecklistVersion).where(ChecklistVersion.code == code,
                                                                  ChecklistVersion.version == version))
        return row.sha256, checklist_of(row)


def test_the_blank_form_holds_every_item_of_the_version_in_both_languages(app: Flask, client: FlaskClient) -> None:
    ids = fx.build_world(app)
    fx.login(app, client, ids["sup"])
    sha256, checklist = _version(app)
    response = client.get("/offline/form/fp-quality/1")
    assert response.status_code == 200
    data = response.json
    assert (data["code"], data["version"], data["sha256"]) == ("fp-quality", 1, sha256)
    assert set(data["forms"]) == {"vi", "en"}
    for language, page in data["forms"].items():
        # Every section and every item, applicable or not to any one facility: the tablet decides that.
        assert re.findall(r'<section class="insp-section" id="sec-([^"]+)"', page) == [s.id for s in checklist.sections]
        assert re.findall(r'<article class="item" id="item-([^"]+)"', page) == [i.id for i in checklist.items]
        # Nothing of a session or an inspection: no form token, no address to post to, no answer pressed.
        assert "csrf_token" not in page
        assert "action=" not in page
        assert "/inspections/" not in page
        assert 'aria-pressed="true"' not in page
        met = "Đạt" if language == "vi" else "Met"
        assert f'data-value="met">{met}</button>' in page
    vi = data["forms"]["vi"]
    # An item critical only where a service is offered says so by the tablet's rule, with the service's name.
    c2 = vi[vi.index('id="item-C2"'):vi.index('id="item-C3"')]
    rule = json.loads(html.unescape(re.search(r'data-critical-when="([^"]+)"', c2).group(1)))
    assert rule["sentence"] == "Bắt buộc vì cơ sở có cung cấp {services}"
    assert list(rule["services"]) == ["DCTC"]
    always = next(i for i in checklist.items if i.critical == "always")
    block = vi[vi.index(f'id="item-{always.id}"'):]
    assert re.search(r'<span class="badge badge-crit"[^>]*data-critical hidden>★ Bắt buộc</span>', block[:3000])


def test_an_unknown_version_is_a_clear_404_and_reviewers_are_refused(app: Flask, client: FlaskClient) -> None:
    ids = fx.build_world(app)
    fx.login(app, client, ids["sup"])
    response = client.get("/offline/form/fp-quality/99")
    assert response.status_code == 404
    assert response.json == {"error": "not_found", "message": "Không có phiên bản bảng kiểm này."}
    fx.login(app, client, ids["rev"])
    assert client.get("/offline/form/fp-quality/1").status_code == 403
