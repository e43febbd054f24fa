"""Migrations build the schema the models describe, on an empty database, with no drift."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from qa_app.extensions import db

from .conftest import make_app


def _diffs(app) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_empty_database_has_no_drift(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=app.extensions["migrate"].directory)
        assert _diffs(app) == []
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"admin_unit", "facility", "user_account", "checklist_version", "inspection", "answer",
                "section_result", "audit_entry", "alembic_version"} <= tables
        # And back down to nothing, so every migration is reversible.
        downgrade(directory=app.extensions["migrate"].directory, revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_constraints_hold_in_the_database(tmp_path: Path) -> None:
    """Invariants are enforced by the database itself, not only by the application."""
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=app.extensions["migrate"].directory)
        bad_rows = [
            "INSERT INTO admin_unit (system, level, code, name, kind, path) VALUES ('2025', 'district', '001', 'x', '', '')",
            "INSERT INTO admin_unit (system, level, code, name, kind, path) VALUES ('1999', 'province', '01', 'x', '', '')",
            "INSERT INTO admin_unit (system, level, code, name, kind, path) VALUES ('2025', 'province', '001', 'x', '', '')",
            "INSERT INTO admin_unit (system, level, code, name, kind, path) VALUES ('2025', 'commune', '00001', 'x', '', '')",
        ]
        for row in bad_rows:
            try:
                with db.engine.begin() as conn:
                    conn.execute(sa.text(row))
            except sa.exc.IntegrityError:
                continue
            raise AssertionError(f"database accepted: {row}")
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO admin_unit (system, level, code, name, kind, path) "
                                 "VALUES ('2025', 'province', '12', 'Lai Châu', 'Tỉnh', '/1/')"))
        # The same code in the other system is a different unit.
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO admin_unit (system, level, code, name, kind, path) "
                                 "VALUES ('pre2025', 'province', '12', 'Lai Châu', 'Tỉnh', '/2/')"))
        try:
            with db.engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO admin_unit (system, level, code, name, kind, path) "
                                     "VALUES ('2025', 'province', '12', 'Dup', 'Tỉnh', '/3/')"))
        except sa.exc.IntegrityError:
            pass
        else:
            raise AssertionError("duplicate (system, level, code) accepted")
        db.engine.dispose()
