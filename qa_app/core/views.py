"""Landing page, language switch and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import joinedload

from ..checklists.models import ChecklistVersion
from ..extensions import db
from ..inspections.models import Inspection

HOME_LIMIT = 20

bp = Blueprint("core", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Home page: the signed-in user's open work first, then the registered checklist versions."""
    versions = db.session.scalars(
        sa.select(ChecklistVersion).order_by(ChecklistVersion.code, ChecklistVersion.version.desc())
    ).all()
    return render_template("core/index.html", versions=versions, **_open_work())


def _open_work() -> dict[str, object]:
    """What waits for this user: their drafts and returned inspections, and (reviewers) the review queue size.

    A supervisor coming back to the tablet must find the inspection they left half done without searching
    the registry for the facility.
    """
    user = g.get("user")
    if user is None:
        return {"mine": [], "waiting_review": None}
    from ..inspections.services import inspections_in_scope

    mine = []
    if user.role in ("supervisor", "admin"):
        mine = db.session.scalars(
            inspections_in_scope(user).options(joinedload(Inspection.facility))
            .where(Inspection.created_by_id == user.id, Inspection.status.in_(("draft", "returned")))
            .order_by(Inspection.status.desc(), Inspection.updated_at.desc()).limit(HOME_LIMIT)).all()
    waiting = None
    if user.role in ("reviewer", "provincial_manager", "admin"):
        waiting = db.session.scalar(
            sa.select(sa.func.count()).select_from(
                inspections_in_scope(user).where(Inspection.status == "submitted").subquery()))
    return {"mine": mine, "waiting_review": waiting}


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Machine-readable health: is the database reachable, writable and at the latest migration?

    "Reachable" alone said "ok" while the database could not be written (a read-only replica, a full disk, a file
    the service account cannot write): every save would then fail while the load balancer kept sending traffic.
    The write is real (an UPDATE of the migration row to itself) and rolled back, so it leaves nothing behind.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory(current_app.extensions["migrate"].directory).get_heads())
    write_error = None
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
            conn.rollback()
            if current:
                with conn.begin() as probe:
                    try:
                        conn.execute(sa.text("UPDATE alembic_version SET version_num = version_num"))
                    except sa.exc.SQLAlchemyError as exc:
                        write_error = _reason(exc)
                    probe.rollback()
    except sa.exc.SQLAlchemyError as exc:
        return jsonify(status="error", database={"ok": False, "error": type(exc).__name__}), 503
    up_to_date = current == heads
    writable = write_error is None and bool(current)
    status = "ok" if up_to_date and writable else ("error" if write_error else "degraded")
    body = {
        "status": status,
        "database": {
            "ok": True,
            "backend": db.engine.dialect.name,
            "revision": sorted(current),
            "head": sorted(heads),
            "up_to_date": up_to_date,
            "writable": writable,
        },
    }
    if write_error:
        body["database"]["write_error"] = write_error
    return jsonify(body), 200 if status == "ok" else 503


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    """The database's own words, first line only (e.g. "attempt to write a readonly database")."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {text[:160]}"
