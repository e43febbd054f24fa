"""Shared fixtures: a fresh application and database per test (flaskr style)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from qa_app import create_app
from qa_app.extensions import db

ROOT = Path(__file__).resolve().parent.parent
class WholeResponseClient(FlaskClient):
    """A test client that reads every response to its end and closes it, as a WSGI server does.

    A streamed export (CSV) keeps its request context while it runs; read whole inside the request, it ends there
    too, instead of whenever a test that looked only at the status drops the response.
    """

    def open(self, *args: object, **kwargs: object):  # type: ignore[override]
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def make_app(tmp_path: Path, **overrides: object) -> Flask:
    """An application on a throwaway database, with its instance folder under ``tmp_path``."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("QA_TEST_DATABASE_URL", "sqlite://"),
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = WholeResponseClient
    return app


def reset_schema() -> None:
    """Empty the database: on PostgreSQL the whole schema, so tables left by another run never block a drop."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    else:
        db.drop_all()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """An application whose schema is created from the models (migrations have their own test)."""
    app = make_app(tmp_path)
    with app.app_context():
        reset_schema()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.url.database not in (None, "", ":memory:"):
            # A shared server database (PostgreSQL runs) must be left empty for the next test.
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner."""
    return app.test_cli_runner()
