"""`flask backup` / `flask restore`: a restored empty instance holds every inspection, photo and PDF, byte for byte;
refusals (non-empty target, damaged or tampered archive) change nothing; `flask audit verify` checks the chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sqlite3
import tarfile
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from qa_app.audit.models import AuditEntry
from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.inspections import services as insp
from qa_app.inspections.models import Inspection, Photo, Signature
from qa_app.minutes.models import Minutes

from . import inspection_fixtures as fx
from .conftest import make_app
from .web.test_minutes import build_approved


def file_app(tmp_path: Path, name: str) -> Flask:
    """An application on its own SQLite file and instance folder (what `flask backup` works on)."""
    folder = tmp_path / name
    folder.mkdir()
    return make_app(folder, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'qa.sqlite3'}")


def snapshot(app: Flask) -> dict[str, object]:
    """Every inspection, photo, signature and minutes PDF, with their bytes."""
    with app.app_context():
        out = {
            "inspections": [(i.id, i.status, i.facility_id, i.revision) for i in
                            db.session.scalars(sa.select(Inspection).order_by(Inspection.id))],
            "photos": [(p.uuid, p.item_id, bytes(p.data))
                       for p in db.session.scalars(sa.select(Photo).order_by(Photo.id))],
            "signatures": [(s.id, bytes(s.png))
                           for s in db.session.scalars(sa.select(Signature).order_by(Signature.id))],
            "minutes": [(m.number, m.sha256, bytes(m.pdf)) for m in db.session.scalars(sa.select(Minutes))],
            "audit": db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
        }
        db.session.remove()
        return out


@pytest.fixture
def source(tmp_path: Path) -> Flask:
    """A migrated instance with an approved inspection (signed minutes) and a draft with two photos."""
    app = file_app(tmp_path, "source")
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    ids = build_approved(app)
    with app.app_context():
        facility = db.session.get(Facility, ids["facility"])
        sup = db.session.get(User, ids["sup"])
        draft = insp.start_inspection(facility, sup, on=dt.date.today())
        insp.add_photo(draft, "A3", fx.jpeg_bytes(64, 48), sup)
        insp.add_photo(draft, "A3", fx.png_bytes(30, 30), sup)
        db.session.commit()
        db.session.remove()
    return app


def test_backup_then_restore_into_an_empty_instance(source: Flask, tmp_path: Path) -> None:
    before = snapshot(source)
    assert len(before["photos"]) == 2
    assert len(before["minutes"]) == 1
    assert len(before["inspections"]) == 2
    out = tmp_path / "backups"
    out.mkdir()
    result = source.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 0, result.output
    archives = list(out.glob("qa-backup-*.tar.gz"))
    assert len(archives) == 1
    assert "2 inspections, 2 photos, 1 minutes PDFs" in result.output
    with tarfile.open(archives[0]) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = set(tar.getnames())
    assert {f["name"] for f in manifest["files"]} | {"manifest.json"} == names
    assert any(n.startswith("instance/signing/") for n in names)
    assert set(manifest["blobs"]["photo"]) == {uuid for uuid, _item, _data in before["photos"]}

    target = file_app(tmp_path, "target")
    runner = target.test_cli_runner()
    result = runner.invoke(args=["restore", str(archives[0])])
    assert result.exit_code == 0, result.output
    after = snapshot(target)
    assert after == before
    # The restored archive still verifies (the demo signing identity came along) and the audit chain holds.
    result = runner.invoke(args=["minutes", "check-archive"])
    assert result.exit_code == 0, result.output
    assert "1 minutes checked, 0 problem(s)" in result.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{before['audit']} audit entries checked, 0 problem(s)" in result.output
    # The restored database is at the latest migration: the health check says so.
    assert target.test_client().get("/healthz").status_code == 200
    with target.app_context():
        db.engine.dispose()


def test_restore_refuses_a_database_with_data_unless_forced(source: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "one.tar.gz"
    assert source.test_cli_runner().invoke(args=["backup", str(archive)]).exit_code == 0
    before = snapshot(source)
    with source.app_context():
        photo = db.session.scalar(sa.select(Photo))
        db.session.delete(photo)
        db.session.commit()
    result = source.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert "--force" in result.output
    assert len(snapshot(source)["photos"]) == 1
    result = source.test_cli_runner().invoke(args=["restore", "--force", str(archive)])
    assert result.exit_code == 0, result.output
    assert snapshot(source) == before
    # A second backup to the same file name is refused rather than overwriting it.
    result = source.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    with source.app_context():
        db.engine.dispose()


def rebuild(archive: Path, out: Path, *, db_edit=None, manifest_edit=None, rehash: bool = False,
            drop: tuple[str, ...] = (), extra: tuple[tuple[str, bytes], ...] = ()) -> Path:
    """Copy an archive with changes: the database bytes, the manifest (optionally re-hashed), members."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    if db_edit is not None:
        members["database.sqlite3"] = db_edit(members["database.sqlite3"])
    manifest = json.loads(members["manifest.json"])
    if rehash:
        for entry in manifest["files"]:
            data = members[entry["name"]]
            entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    if manifest_edit is not None:
        manifest_edit(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(out, "w:gz") as new:
        for name, data in [*members.items(), *extra]:
            if name in drop:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
    return out


def flip_middle_byte(data: bytes) -> bytes:
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


def break_page_two(data: bytes) -> bytes:
    """Page 2 of the database gets an invalid b-tree page type: SQLite must notice."""
    b = bytearray(data)
    b[4096:4100] = b"\x55\x55\x55\x55"
    return bytes(b)


def set_revision(revision: str):
    """A database edit: stamp another Alembic revision (as a newer application version would)."""
    def edit(data: bytes) -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "db.sqlite3"
            path.write_bytes(data)
            conn = sqlite3.connect(path)
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
            conn.commit()
            conn.close()
            return path.read_bytes()
    return edit


def change_photo(data: bytes) -> bytes:
    """A database edit: one photo's bytes replaced (the manifest's photo hashes no longer match)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "db.sqlite3"
        path.write_bytes(data)
        conn = sqlite3.connect(path)
        conn.execute("UPDATE photo SET data = X'FFD8FF00' WHERE id = (SELECT min(id) FROM photo)")
        conn.commit()
        conn.close()
        return path.read_bytes()


def test_damaged_or_tampered_archives_are_refused_and_nothing_changes(source: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "good.tar.gz"
    assert source.test_cli_runner().invoke(args=["backup", str(archive)]).exit_code == 0
    target = file_app(tmp_path, "target")
    with target.app_context():
        db.create_all()
        db.session.add(AuditEntry(at=dt.datetime.now(dt.UTC), action="x", entity_type="x", entity_id="1",
                                  details={}, prev_hash="0" * 64, hash="1" * 64))
        db.session.commit()
    runner = target.test_cli_runner()
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar")

    def add_escape(m: dict) -> None:
        m["files"].append({"name": "../../etc/x", "size": 1, "sha256": "0" * 64})

    cases = {
        "not an archive": (junk, "not a backup archive"),
        "changed database": (rebuild(archive, tmp_path / "a.tar.gz", db_edit=flip_middle_byte),
                             "does not match the SHA-256"),
        "missing database": (rebuild(archive, tmp_path / "b.tar.gz", drop=("database.sqlite3",)),
                             "database.sqlite3: missing"),
        "extra member": (rebuild(archive, tmp_path / "c.tar.gz", extra=(("../evil", b"x"),)),
                         "not in the manifest"),
        "path escape in manifest": (rebuild(archive, tmp_path / "d.tar.gz", manifest_edit=add_escape),
                                    "unexpected file name"),
        "corrupt database, manifest re-hashed": (
            rebuild(archive, tmp_path / "e.tar.gz", db_edit=break_page_two, rehash=True), "the database "),
        "photo changed, manifest re-hashed": (
            rebuild(archive, tmp_path / "f.tar.gz", db_edit=change_photo, rehash=True), "photo blob(s) differ"),
        "unknown migration": (
            rebuild(archive, tmp_path / "g.tar.gz", db_edit=set_revision("ffffffffffff"), rehash=True,
                    manifest_edit=lambda m: m["database"].update(alembic_revision="ffffffffffff")),
            "unknown to this version"),
    }
    for label, (path, message) in cases.items():
        result = runner.invoke(args=["restore", "--force", str(path)])
        assert result.exit_code == 1, (label, result.output)
        assert message in result.output, (label, result.output)
        with target.app_context():
            # Still the one row written above: nothing of the archive landed.
            assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1, label
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0, label
            db.session.remove()
        assert not (Path(target.instance_path) / "signing").exists(), label
    with target.app_context():
        db.engine.dispose()
    with source.app_context():
        db.engine.dispose()


def test_a_failure_while_replacing_puts_everything_back(source: Flask, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from qa_app import backup

    archive = tmp_path / "good.tar.gz"
    assert source.test_cli_runner().invoke(args=["backup", str(archive)]).exit_code == 0
    target = file_app(tmp_path, "target")
    signing = Path(target.instance_path) / "signing"
    signing.mkdir(parents=True)
    (signing / "mine.pem").write_text("the target's own key")
    swap = backup._swap_instance_dirs

    class Broken:
        def backup(self, target: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        def close(self) -> None:
            pass

    def swap_then_break(*args: object):
        moved = swap(*args)
        monkeypatch.setattr(backup.sqlite3, "connect", lambda *a, **k: Broken())
        return moved

    monkeypatch.setattr(backup, "_swap_instance_dirs", swap_then_break)
    result = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 1
    assert "could not be replaced (disk I/O error); nothing was changed" in result.output
    assert [p.name for p in signing.iterdir()] == ["mine.pem"]
    monkeypatch.undo()
    with target.app_context():
        assert sa.inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    with source.app_context():
        db.engine.dispose()


def test_audit_verify_command_detects_tampering(tmp_path: Path) -> None:
    app = file_app(tmp_path, "audit")
    with app.app_context():
        db.create_all()
        from qa_app.audit.services import record

        first = record("user.created", "user", 1)
        record("user.created", "user", 2)
        db.session.commit()
        first_id = first.id
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "2 audit entries checked, 0 problem(s)" in result.output
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.update(AuditEntry).where(AuditEntry.id == first_id).values(entity_id="99"))
        db.session.remove()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN entry {first_id}: content does not match its hash" in result.output
    with app.app_context():
        db.engine.dispose()


def test_postgresql_gets_pg_dump_guidance_not_a_fake_backup(tmp_path: Path, monkeypatch) -> None:
    app = file_app(tmp_path, "pg")
    with app.app_context():
        monkeypatch.setattr(db.engine.dialect, "name", "postgresql")
        from qa_app.backup import BackupError, create_backup, restore_backup

        with pytest.raises(BackupError) as caught:
            create_backup(tmp_path)
        assert "pg_dump" in str(caught.value)
        assert "pg_restore" in str(caught.value)
        with pytest.raises(BackupError):
            restore_backup(tmp_path / "x.tar.gz")
        db.engine.dispose()
    assert not list(tmp_path.glob("qa-backup-*"))
