"""HSTS when the app is served over HTTPS, and a health check that notices a database it cannot write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from qa_app.extensions import db

from ..conftest import make_app, reset_schema


def test_no_hsts_over_plain_http(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    response = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in response.headers
    # A forwarded "https" from an untrusted client is not believed without QA_PROXY_FIX.
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_when_the_session_cookie_is_secure(tmp_path: Path) -> None:
    app = make_app(tmp_path, SESSION_COOKIE_SECURE=True)
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_hsts_behind_the_trusted_proxy(tmp_path: Path) -> None:
    app = make_app(tmp_path, PROXY_FIX=True)
    client = app.test_client()
    assert "Strict-Transport-Security" in client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "http"}).headers


def test_hsts_on_direct_https(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    response = app.test_client().get("/login", base_url="https://localhost")
    assert "Strict-Transport-Security" in response.headers


def migrated_file(tmp_path: Path) -> Path:
    path = tmp_path / "health.sqlite3"
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        response = app.test_client().get("/healthz")
        assert response.status_code == 200 and response.json["database"]["writable"] is True
        db.engine.dispose()
    return path


def test_healthz_is_503_on_a_read_only_sqlite_database(tmp_path: Path) -> None:
    path = migrated_file(tmp_path)
    before = path.read_bytes()
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{path}?mode=ro&uri=true")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.json
    assert body["status"] == "error" and body["database"]["ok"] is True
    assert body["database"]["writable"] is False and body["database"]["up_to_date"] is True
    assert "readonly" in body["database"]["write_error"]
    with app.app_context():
        db.engine.dispose()
    assert path.read_bytes() == before


def test_healthz_write_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    path = migrated_file(tmp_path)
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        before = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        db.session.remove()
        assert app.test_client().get("/healthz").status_code == 200
        assert db.session.execute(sa.text("SELECT version_num FROM alembic_version")).all() == before
        db.engine.dispose()


@pytest.mark.skipif(not os.environ.get("QA_TEST_DATABASE_URL"), reason="needs QA_TEST_DATABASE_URL (PostgreSQL)")
def test_healthz_is_503_on_a_read_only_postgresql_database(tmp_path: Path) -> None:
    url = os.environ["QA_TEST_DATABASE_URL"]
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        reset_schema()
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    try:
        read_only = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": "-c default_transaction_read_only=on"}})
        response = read_only.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json["database"]["writable"] is False
        assert "read-only" in response.json["database"]["write_error"]
        with read_only.app_context():
            db.engine.dispose()
    finally:
        with app.app_context():
            reset_schema()
            db.engine.dispose()
