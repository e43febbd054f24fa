"""Error pages: in the layout and the user's language for pages, JSON under /api/, never a bare traceback."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from tests.conftest import make_app
from tests.factories import login
from tests.inspection_fixtures import build_world


def test_not_found_page_is_in_vietnamese_by_default_and_english_on_request(app: Flask, client) -> None:
    vi = client.get("/khong-co-trang-nay")
    assert vi.status_code == 404
    page = vi.get_data(as_text=True)
    assert 'class="topbar"' in page and 'href="/"' in page
    assert "Not Found" not in page  # not Werkzeug's page
    assert "404" in page

    en = client.get("/no-such-page?lang=en")
    assert en.status_code == 404
    assert "This page does not exist, or it belongs to a region outside your responsibility." in en.get_data(
        as_text=True)


def test_other_region_inspection_gets_the_same_page_as_a_missing_one(app: Flask, client) -> None:
    ids = build_world(app)
    login(client, ids["sup"])
    other = client.get("/facilities/%d?lang=en" % ids["tyt2"])
    missing = client.get("/facilities/999999?lang=en")
    assert other.status_code == missing.status_code == 404
    # Identical but for the page's own address (in the language links) and the form token, which carries the
    # second it was signed in (two requests a second apart differ there): nothing tells "exists elsewhere".
    def page(response, path: str) -> str:
        text = response.get_data(as_text=True).replace(path, "/facilities/N")
        return re.sub(r'(name="csrf[-_]token" (?:content|value)=")[^"]+"', r'\1T"', text)

    assert page(other, "/facilities/%d" % ids["tyt2"]) == page(missing, "/facilities/999999")


def test_api_errors_stay_json(app: Flask, client) -> None:
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.is_json and "error" in response.get_json()


def test_expired_form_token_explains_what_to_do(tmp_path: Path) -> None:
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login?lang=en", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "Reload the page and send it again." in response.get_data(as_text=True)


def test_unexpected_exception_shows_a_page_that_says_nothing_was_saved(tmp_path: Path) -> None:
    app = make_app(tmp_path, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom?lang=en")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "nothing was saved from it" in page
    assert "secret detail" not in page and "Traceback" not in page
