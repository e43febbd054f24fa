"""Configuration: defaults here, then instance/config.py, then QA_* environment variables."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    """Settings that work out of the box: SQLite under instance/, Vietnamese first."""

    SQLALCHEMY_DATABASE_URI: str | None = None  # filled in from the instance path
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # Counted from the last page opened (not from autosaves or other background requests: see
    # core.security.SessionInterface); a form left open longer asks to sign in again and keeps its answers.
    PERMANENT_SESSION_LIFETIME = dt.timedelta(hours=8)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Set QA_SESSION_COOKIE_SECURE=true behind TLS (see the README's deployment notes).
    SESSION_COOKIE_SECURE = False
    PROXY_FIX = False
    # Sign-in attempts per client address and in total per window (seconds), counted in the database so the
    # limits hold across workers and app servers; beyond them the sign-in page answers 429 with Retry-After.
    LOGIN_LIMIT_PER_ADDRESS = 60
    LOGIN_LIMIT_GLOBAL = 600
    LOGIN_LIMIT_WINDOW = 300
    # Audit log: HMAC key (QA_AUDIT_HMAC_KEY; generated into instance/audit/hmac_key when unset), a signed
    # checkpoint every N entries, appended to QA_AUDIT_CHECKPOINT_FILE (instance/audit/checkpoints.jsonl).
    AUDIT_HMAC_KEY: str | None = None
    AUDIT_CHECKPOINT_EVERY = 100
    AUDIT_CHECKPOINT_FILE: str | None = None
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token; a long inspection must not expire it
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    CHECKLISTS_DIR = str(PROJECT_ROOT / "checklists")
    JSON_SORT_KEYS = False
    GZIP = True  # QA_GZIP=false when the reverse proxy compresses


# Short environment names for the settings people set most often.
ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI", "LOCALE": "BABEL_DEFAULT_LOCALE"}


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in order: defaults, instance file, QA_* variables, then the tests' dict."""
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("QA")
    for short, full in ALIASES.items():
        if short in app.config:
            app.config[full] = app.config.pop(short)
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "qa.sqlite3")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))


def _instance_secret(instance: Path) -> str:
    """Read the secret key kept in instance/, generating it once (never committed: instance/ is ignored)."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: when two workers start together, the second reads the first one's key instead of racing.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
