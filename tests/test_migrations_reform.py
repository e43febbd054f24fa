"""The 2025-reform migrations carry a live database across: district reviewers, their scopes, rounds and
facilities survive the upgrade and come back unchanged from the downgrade (SQLite, and PostgreSQL when
QA_TEST_DATABASE_URL points at one)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from qa_app.extensions import db

from .conftest import make_app, reset_schema

BEFORE = "f4iled000001"  # the schema before the reform work


def _exec(sql: str, **params: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def _rows(sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def _old_world() -> None:
    """A province with two districts, a district reviewer per district, a manager, facilities and a round."""
    units = [(1, "pre2025", "province", "12", None, "/1/"), (2, "pre2025", "district", "106", 1, "/1/2/"),
             (3, "pre2025", "district", "107", 1, "/1/3/"), (4, "pre2025", "commune", "03430", 2, "/1/2/4/"),
             (5, "2025", "province", "12", None, "/5/"), (6, "2025", "commune", "03430", 5, "/5/6/")]
    for uid, system, level, code, parent, path in units:
        _exec("INSERT INTO admin_unit (id, system, level, code, name, kind, parent_id, path) "
              "VALUES (:id, :s, :l, :c, :n, '', :p, :path)", id=uid, s=system, l=level, c=code, n=f"U{code}",
              p=parent, path=path)
    users = [(1, "duyet.td", "district_reviewer", 2), (2, "duyet.pt", "district_reviewer", 3),
             (3, "quanly", "provincial_manager", 5), (4, "giamsat", "supervisor", 2), (5, "admin", "admin", None)]
    for uid, name, role, scope in users:
        _exec("INSERT INTO user_account (id, username, full_name, position, password_hash, role, scope_unit_id, "
              "active, failed_logins, created_at) VALUES (:id, :u, :u, '', 'x', :r, :s, :a, 0, '2026-01-01')",
              id=uid, u=name, r=role, s=scope, a=True)
    _exec("INSERT INTO facility (id, code, name, type, ownership, high_fertility, active_from, unit_id, "
          "legacy_unit_id, address, phone, head_name, created_at) VALUES (1, 'TYT-1', 'Trạm', 'TYT', 'public', "
          ":f, '2015-01-01', 6, 4, '', '', '', '2026-01-01')", f=False)
    _exec("INSERT INTO supervision_round (id, name, unit_id, facility_types, start_date, deadline, coverage_basis, "
          "coverage_target, created_by_id, created_at) VALUES (1, 'Đợt I', 2, '[\"TYT\"]', '2026-01-01', "
          "'2026-04-30', 'facilities', 80, 1, '2026-01-01')")


def _snapshot() -> tuple[list[tuple], list[tuple], list[tuple]]:
    return (_rows("SELECT id, username, role, scope_unit_id, active FROM user_account ORDER BY id"),
            _rows("SELECT id, name, unit_id, created_by_id FROM supervision_round ORDER BY id"),
            _rows("SELECT id, code, type, unit_id, legacy_unit_id FROM facility ORDER BY id"))


@pytest.fixture
def migrated_app(tmp_path: Path):
    app = make_app(tmp_path)
    with app.app_context():
        reset_schema()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        yield app
        db.session.remove()
        downgrade(directory=app.extensions["migrate"].directory, revision="base")
        db.engine.dispose()


def test_district_reviewers_become_reviewers_and_come_back(migrated_app) -> None:
    directory = migrated_app.extensions["migrate"].directory
    upgrade(directory=directory, revision=BEFORE)
    _old_world()
    users_before, rounds_before, facilities_before = _snapshot()

    upgrade(directory=directory)
    users, rounds, facilities = _snapshot()
    # Same accounts, same scopes; only the role's name changed.
    assert [(u[0], u[1], u[3], u[4]) for u in users] == [(u[0], u[1], u[3], u[4]) for u in users_before]
    assert [u[2] for u in users] == ["reviewer", "reviewer", "provincial_manager", "supervisor", "admin"]
    assert rounds == rounds_before and facilities == facilities_before
    assert _rows("SELECT scope_area_id FROM user_account WHERE scope_area_id IS NOT NULL") == []
    # The database itself refuses the old role name and an area scope on a supervisor.
    with pytest.raises(sa.exc.IntegrityError):
        _exec("UPDATE user_account SET role = 'district_reviewer' WHERE id = 1")
    _exec("INSERT INTO service_area (id, code, name, province_id, valid_from) VALUES (1, 'KV1', 'Khu vực 1', 5, "
          "'2025-07-01')")
    _exec("INSERT INTO service_area_commune (area_id, unit_id) VALUES (1, 6)")
    with pytest.raises(sa.exc.IntegrityError):
        _exec("UPDATE user_account SET scope_area_id = 1 WHERE id = 4")
    # The new facility types are accepted, an unknown one and a facility its own parent are not.
    with pytest.raises(sa.exc.IntegrityError):
        _exec("UPDATE facility SET type = 'XX' WHERE id = 1")
    with pytest.raises(sa.exc.IntegrityError):
        _exec("UPDATE facility SET parent_facility_id = 1 WHERE id = 1")
    _exec("UPDATE facility SET type = 'DLD' WHERE id = 1")
    _exec("UPDATE facility SET type = 'TYT' WHERE id = 1")

    downgrade(directory=directory, revision=BEFORE)
    assert _snapshot() == (users_before, rounds_before, facilities_before)


def test_downgrade_refuses_to_widen_an_area_scope(migrated_app) -> None:
    directory = migrated_app.extensions["migrate"].directory
    upgrade(directory=directory, revision=BEFORE)
    _old_world()
    upgrade(directory=directory)
    _exec("INSERT INTO service_area (id, code, name, province_id, valid_from) VALUES (1, 'KV1', 'Khu vực 1', 5, "
          "'2025-07-01')")
    _exec("UPDATE user_account SET scope_area_id = 1, scope_unit_id = 5 WHERE id = 1")
    with pytest.raises(SystemExit):  # flask-migrate turns the migration's RuntimeError into exit 1
        downgrade(directory=directory, revision=BEFORE)
    # Nothing was lost: the account still has its area.
    assert _rows("SELECT scope_area_id FROM user_account WHERE id = 1") == [(1,)]
    _exec("UPDATE user_account SET scope_area_id = NULL, scope_unit_id = 2 WHERE id = 1")
