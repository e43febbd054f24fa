"""Landing page, language switch and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue

from ..checklists.models import ChecklistVersion
from ..extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Home page: what the product is and which checklist versions are registered."""
    versions = db.session.scalars(
        sa.select(ChecklistVersion).order_by(ChecklistVersion.code, ChecklistVersion.version.desc())
    ).all()
    return render_template("core/index.html", versions=versions)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Machine-readable health: is the database reachable and at the latest migration?"""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory(current_app.extensions["migrate"].directory).get_heads())
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except sa.exc.SQLAlchemyError as exc:
        return jsonify(status="error", database={"ok": False, "error": type(exc).__name__}), 503
    up_to_date = current == heads
    body = {
        "status": "ok" if up_to_date else "degraded",
        "database": {
            "ok": True,
            "backend": db.engine.dialect.name,
            "revision": sorted(current),
            "head": sorted(heads),
            "up_to_date": up_to_date,
        },
    }
    return jsonify(body), 200 if up_to_date else 503
