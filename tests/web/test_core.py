"""Home page, languages and the health check."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from qa_app.extensions import db

from ..conftest import make_app


def test_home_is_vietnamese_by_default_and_english_on_request(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'lang="vi"' in page
    assert "Chất lượng dịch vụ kế hoạch hóa gia đình" in page
    page = client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Quality of family-planning services" in page
    # The choice sticks for the session.
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_healthz_reports_migrated_database(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert response.json["database"]["up_to_date"] is False
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["revision"] == body["database"]["head"]
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def test_healthz_when_database_unreachable(tmp_path: Path) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing-dir/x.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": {"ok": False, "error": "OperationalError"}}


def test_security_headers(client) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_language_links_keep_the_page_query(client) -> None:
    """Switching language keeps what the page shows (a dashboard's date and unit, a list's filters, ?next=)."""
    page = client.get("/login?next=/compliance/&type=TYT&type=PK&lang=en").get_data(as_text=True)
    assert 'href="/login?next=%2Fcompliance%2F&amp;type=TYT&amp;type=PK&amp;lang=vi" ' in page
    assert 'href="/login?next=%2Fcompliance%2F&amp;type=TYT&amp;type=PK&amp;lang=en" ' in page
    # A query of the language alone gives just the language.
    assert 'href="/?lang=vi"' in client.get("/?lang=en").get_data(as_text=True)
    # A path that decodes to a backslash or a tab stays quoted: never a link browsers read as another site.
    for path in ("/%5Cevil.example", "/%09/evil.example"):
        page = client.get(f"{path}?lang=en").get_data(as_text=True)
        assert f'href="{path}?lang=vi"' in page
