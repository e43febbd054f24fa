"""Configuration precedence and the generated secret key."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_app import create_app


def test_precedence_defaults_instance_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("BABEL_DEFAULT_LOCALE = 'en'\nMAX_CONTENT_LENGTH = 123\nSECRET_KEY = 'file'\n")
    app = create_app({"INSTANCE_PATH": str(instance)})
    assert app.config["BABEL_DEFAULT_LOCALE"] == "en"  # instance file beats defaults
    assert app.config["SECRET_KEY"] == "file"

    monkeypatch.setenv("QA_LOCALE", "vi")
    monkeypatch.setenv("QA_MAX_CONTENT_LENGTH", "456")
    monkeypatch.setenv("QA_DATABASE_URL", "sqlite:////tmp/elsewhere.sqlite3")
    app = create_app({"INSTANCE_PATH": str(instance)})
    assert app.config["BABEL_DEFAULT_LOCALE"] == "vi"  # environment beats the instance file
    assert app.config["MAX_CONTENT_LENGTH"] == 456  # parsed as JSON, so numbers stay numbers
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/elsewhere.sqlite3"


def test_default_database_is_sqlite_in_instance(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst"), "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'qa.sqlite3'}"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "vi"


def test_secret_key_generated_once_and_kept(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    first = create_app({"INSTANCE_PATH": str(instance)}).config["SECRET_KEY"]
    second = create_app({"INSTANCE_PATH": str(instance)}).config["SECRET_KEY"]
    assert len(first) == 64 and first == second
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o777 == 0o600
    other = create_app({"INSTANCE_PATH": str(tmp_path / "other")}).config["SECRET_KEY"]
    assert other != first
