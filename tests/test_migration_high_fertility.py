"""Migration i17a00000001 turns the facility flag into dated commune designations, so no figure moves, and comes
back down cleanly (SQLite, and PostgreSQL when QA_TEST_DATABASE_URL points at one)."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade

from .test_migrations_reform import _exec, _rows, migrated_app  # noqa: F401 - the fixture is used by name

BEFORE, AFTER = "i14b00000002", "i17a00000001"


def test_flagged_facilities_designate_their_commune_from_their_first_day(migrated_app) -> None:  # noqa: F811
    directory = migrated_app.extensions["migrate"].directory
    upgrade(directory=directory, revision=BEFORE)
    units = [(1, "2025", "province", "12", None, "/1/"), (2, "2025", "commune", "03430", 1, "/1/2/"),
             (3, "2025", "commune", "03451", 1, "/1/3/")]
    for uid, system, level, code, parent, path in units:
        _exec("INSERT INTO admin_unit (id, system, level, code, name, kind, parent_id, path) "
              "VALUES (:id, :s, :l, :c, :n, '', :p, :path)", id=uid, s=system, l=level, c=code, n=f"U{code}",
              p=parent, path=path)
    facilities = [(1, "TYT-1", "TYT", True, "2015-01-01", 2), (2, "PK-1", "PK", True, "2012-05-01", 2),
                  (3, "TYT-2", "TYT", False, "2015-01-01", 3)]
    for fid, code, type_, flag, since, unit in facilities:
        _exec("INSERT INTO facility (id, code, name, type, ownership, high_fertility, active_from, unit_id, "
              "address, phone, head_name, created_at) VALUES (:id, :c, :c, :t, :o, :f, :a, :u, '', '', '', "
              "'2026-01-01')", id=fid, c=code, t=type_, o="public" if type_ == "TYT" else "non_public", f=flag,
              a=since, u=unit)
    upgrade(directory=directory, revision=AFTER)
    rows = _rows("SELECT unit_id, high_fertility, valid_from, valid_to, source FROM high_fertility_status")
    # One designation for commune 2 (two flagged facilities), from the earlier one's first day; none for 3.
    assert [(r[0], bool(r[1]), str(r[2]), r[3], r[4]) for r in rows] == [(2, True, "2012-05-01", None, "facility flag")]
    downgrade(directory=directory, revision=BEFORE)
    assert _rows("SELECT count(*) FROM facility WHERE high_fertility") in ([(2,)], [(2.0,)])
