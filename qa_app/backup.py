"""`flask backup` and `flask restore`: one archive holding a consistent copy of the database and instance files.

Everything a user stored lives in the database: photos (``photo.data``), drawn signatures (``signature.png``)
and the signed minutes PDFs (``minutes.pdf``) are blobs, so SQLite's online backup API copies them with the
rest, consistently, while the application keeps running. The one thing outside the database that the archive
must carry is the demo signing identity under ``instance/signing/``: without its CA certificate the archived
minutes of a demo instance would no longer validate after a restore. (A configured PKCS#12 file and its password
are the operator's to keep; ``instance/secret_key`` is left out on purpose: a new key only signs everyone out.)

The archive is a ``.tar.gz`` with ``manifest.json`` (SHA-256 and size of every member, the Alembic revision,
the row count of every table and the SHA-256 of every photo, signature and minutes PDF), ``database.sqlite3``
and ``instance/…``. A restore checks all of it in a staging folder before touching anything, refuses a
database that already holds data unless forced, and then replaces the database in one SQLite transaction.

PostgreSQL is not handled here: ``pg_dump``/``pg_restore`` do it better (see :data:`POSTGRES_GUIDANCE`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .extensions import db

FORMAT = "qa-app-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBER = "database.sqlite3"
INSTANCE_DIRS = ("signing", "audit")  # the audit HMAC key and checkpoint file travel with the log  # instance/ sub-folders carried by the archive
# Blobs re-hashed on both sides: (table, key column, blob column).
BLOBS = (("photo", "uuid", "data"), ("signature", "id", "png"), ("minutes", "id", "pdf"))

POSTGRES_GUIDANCE = """\
This database is PostgreSQL: back it up and restore it with PostgreSQL's own tools, which copy a running
database consistently (photos, signatures and minutes PDFs are stored in it, so they are included):

  pg_dump --format=custom --no-owner --file qa-$(date +%Y%m%d-%H%M).dump "$DATABASE_URL"
  pg_restore --clean --if-exists --no-owner --single-transaction --dbname "$DATABASE_URL" qa-YYYYMMDD-HHMM.dump

(use the URL without the "+psycopg" driver suffix). Also copy instance/signing/ (the demo signing identity)
or keep your PKCS#12 signing certificate and its password safe. After a restore run
`flask db upgrade`, `flask audit verify` and `flask minutes check-archive`.
"""


class BackupError(Exception):
    """A backup or restore was refused or failed; nothing was changed. ``problems`` says why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class RestoreReport:
    """What a restore put back."""

    manifest: dict[str, Any]
    tables: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _require_sqlite() -> None:
    if db.engine.dialect.name != "sqlite":
        raise BackupError([POSTGRES_GUIDANCE])


def _describe(conn: sqlite3.Connection) -> dict[str, Any]:
    """Row counts of every table, the Alembic revision and the SHA-256 of every stored blob."""
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    counts = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}
    revision = None
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    blobs: dict[str, dict[str, str]] = {}
    for table, key, column in BLOBS:
        if table in tables:
            blobs[table] = {str(k): _sha256(bytes(v)) for k, v in conn.execute(
                f'SELECT "{key}", "{column}" FROM "{table}" ORDER BY "{key}"')}
    return {"tables": counts, "alembic_revision": revision, "blobs": blobs}


def _instance_files(instance: Path) -> list[tuple[str, Path]]:
    """(archive name, path) of every instance file the archive carries."""
    found = []
    for sub in INSTANCE_DIRS:
        root = instance / sub
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    found.append((f"instance/{path.relative_to(instance).as_posix()}", path))
    return found


def create_backup(destination: str | Path) -> tuple[Path, dict[str, Any]]:
    """Write a backup archive to ``destination`` (a folder: a dated file is created in it); returns its path."""
    _require_sqlite()
    destination = Path(destination)
    now = dt.datetime.now(dt.UTC)
    if destination.is_dir():
        destination = destination / f"qa-backup-{now:%Y%m%d-%H%M%S}.tar.gz"
    if destination.exists():
        raise BackupError([f"{destination} already exists: choose another name"])
    if not destination.parent.is_dir():
        raise BackupError([f"folder {destination.parent} does not exist"])
    instance = Path(current_app.instance_path)
    with tempfile.TemporaryDirectory(prefix=".qa-backup-", dir=destination.parent) as work:
        snapshot = Path(work) / DATABASE_MEMBER
        # The online backup API copies a consistent snapshot even while other connections write (WAL mode).
        raw = db.engine.raw_connection()
        try:
            target = sqlite3.connect(snapshot)
            try:
                raw.driver_connection.backup(target)
            finally:
                target.close()
        finally:
            raw.close()
        check = sqlite3.connect(snapshot)
        try:
            description = _describe(check)
        finally:
            check.close()
        members = [(DATABASE_MEMBER, snapshot), *_instance_files(instance)]
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": now.isoformat(timespec="seconds"),
            "database": {"member": DATABASE_MEMBER, "alembic_revision": description["alembic_revision"],
                         "tables": description["tables"]},
            "blobs": description["blobs"],
            "files": [{"name": name, "size": path.stat().st_size, "sha256": _file_sha256(path)}
                      for name, path in members],
        }
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            body = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(now.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(body))
            for name, path in members:
                tar.add(path, arcname=name, recursive=False)
        os.chmod(partial, 0o600)  # the archive holds password hashes and (demo) signing keys
        # Written under a temporary name and renamed: a crash never leaves a truncated archive behind.
        os.replace(partial, destination)
    return destination, manifest


# ---------------------------------------------------------------------------------------------- restore


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def read_archive(archive: Path, staging: Path) -> dict[str, Any]:
    """Extract and check an archive into ``staging``: manifest, names, sizes, hashes, database integrity."""
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 - closed by the with below; opened here to report
    except (OSError, tarfile.TarError) as exc:
        raise BackupError([f"{archive}: not a backup archive ({exc})"]) from None
    with tar:
        try:
            members = {m.name: m for m in tar.getmembers()}
            if MANIFEST not in members:
                raise BackupError([f"{archive}: no {MANIFEST}: not a backup made by `flask backup`"])
            manifest = json.loads(tar.extractfile(members[MANIFEST]).read().decode("utf-8"))
        except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError, ValueError, AttributeError) as exc:
            raise BackupError([f"{archive}: damaged archive or manifest ({exc})"]) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError([f"{archive}: the manifest is not a {FORMAT} manifest"])
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BackupError([f"{archive}: backup format version {manifest.get('format_version')!r} is not "
                               f"supported (this version reads {FORMAT_VERSION})"])
        files = manifest.get("files")
        if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str)
                                                  for f in files):
            raise BackupError([f"{archive}: the manifest has no valid file list"])
        listed = {f["name"]: f for f in files}
        problems = []
        if DATABASE_MEMBER not in listed:
            problems.append(f"the manifest does not list {DATABASE_MEMBER}")
        for name in listed:
            if not _safe_name(name) or not (name == DATABASE_MEMBER or any(
                    name.startswith(f"instance/{sub}/") for sub in INSTANCE_DIRS)):
                problems.append(f"{name}: unexpected file name in the manifest")
        for name in sorted(set(members) - set(listed) - {MANIFEST}):
            problems.append(f"{name}: in the archive but not in the manifest")
        if problems:
            raise BackupError([f"{archive}: {p}" for p in problems])
        for name, entry in listed.items():
            member = members.get(name)
            if member is None or not member.isfile():
                problems.append(f"{name}: missing from the archive")
                continue
            target = staging.joinpath(*PurePosixPath(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            size = 0
            try:
                source = tar.extractfile(member)
                with target.open("wb") as out:
                    for chunk in iter(lambda: source.read(1 << 20), b""):  # noqa: B023 - consumed right here
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
            except (tarfile.TarError, OSError, EOFError) as exc:
                problems.append(f"{name}: cannot be read ({exc})")
                continue
            if size != entry.get("size") or digest.hexdigest() != entry.get("sha256"):
                problems.append(f"{name}: its content does not match the SHA-256 in the manifest")
        if problems:
            raise BackupError([f"{archive}: {p}" for p in problems])
    _check_database(staging / DATABASE_MEMBER, manifest, archive)
    return manifest


def _check_database(path: Path, manifest: dict[str, Any], archive: Path) -> None:
    """The staged database is intact and holds exactly the rows and blobs the manifest lists."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError([f"{archive}: the database cannot be opened ({exc})"]) from None
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            raise BackupError([f"{archive}: the database fails SQLite's integrity check: {result[:5]}"])
        description = _describe(conn)
    except sqlite3.Error as exc:
        raise BackupError([f"{archive}: the database cannot be read ({exc})"]) from None
    finally:
        conn.close()
    expected = manifest.get("database") or {}
    problems = []
    if description["tables"] != expected.get("tables"):
        problems.append("the database's row counts differ from the manifest")
    if description["alembic_revision"] != expected.get("alembic_revision"):
        problems.append("the database's migration revision differs from the manifest")
    for table, hashes in (manifest.get("blobs") or {}).items():
        found = description["blobs"].get(table, {})
        bad = sorted(k for k in set(hashes) | set(found) if hashes.get(k) != found.get(k))
        if bad:
            problems.append(f"{len(bad)} {table} blob(s) differ from the manifest (first: {table} {bad[0]})")
    if description["alembic_revision"] is not None and not _known_revision(description["alembic_revision"]):
        problems.append(f"migration revision {description['alembic_revision']} is unknown to this version of "
                        "the application: restore with the version that made the backup (or a newer one)")
    if problems:
        raise BackupError([f"{archive}: {p}" for p in problems])


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    try:
        ScriptDirectory.from_config(config).get_revision(revision)
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown or malformed id
        return False
    return True


def _has_data(conn: sqlite3.Connection) -> list[str]:
    """The tables of the target database that hold rows (alembic_version does not count)."""
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != 'alembic_version' ORDER BY name")]
    return [name for name in tables if conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone()]


def restore_backup(archive: str | Path, *, force: bool = False) -> RestoreReport:
    """Replace the database (and instance files) with an archive's content, all or nothing."""
    _require_sqlite()
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError([f"{archive}: no such file"])
    instance = Path(current_app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".qa-restore-", dir=instance) as work:
        staging = Path(work) / "staging"
        staging.mkdir()
        manifest = read_archive(archive, staging)

        db.session.remove()
        db.engine.dispose()
        raw = db.engine.raw_connection()
        try:
            target = raw.driver_connection
            filled = _has_data(target)
            if filled and not force:
                raise BackupError([
                    "the database is not empty (tables with rows: " + ", ".join(filled[:8])
                    + (", …" if len(filled) > 8 else "") + "): restore into an empty database, or add --force "
                    "to replace everything in it"])
            report = RestoreReport(manifest=manifest)
            for sub in INSTANCE_DIRS:
                _make_private(staging / "instance" / sub)  # before it is in place: refuse rather than expose
            moved = _swap_instance_dirs(staging, instance, Path(work))
            try:
                for sub in INSTANCE_DIRS:
                    _make_private(instance / sub)
            except BackupError:
                _unswap_instance_dirs(moved, instance)
                raise
            try:
                source = sqlite3.connect(f"file:{staging / DATABASE_MEMBER}?mode=ro", uri=True)
                try:
                    # One step (pages=-1) is one write transaction on the target: it lands whole or not at all.
                    source.backup(target)
                finally:
                    source.close()
            except sqlite3.Error as exc:
                _unswap_instance_dirs(moved, instance)
                raise BackupError([f"the database could not be replaced ({exc}); nothing was changed"]) from None
            report.tables = _describe(target)["tables"]
        finally:
            raw.close()
        db.engine.dispose()
        report.files = [f["name"] for f in manifest["files"] if f["name"] != DATABASE_MEMBER]
        return report


def _make_private(root: Path) -> None:
    """Folders 0700, files 0600 under ``root`` (the signing key and its passphrase), checked after setting.

    An archive extracted with the default umask left instance/signing/ 0755 and unit.p12 0644: a signing key
    any local account could copy. A file system that cannot keep the modes (some network or FAT mounts) makes
    the restore refuse, naming the file, instead of putting a readable key in place.
    """
    if not root.exists():
        return
    paths = [root, *sorted(root.rglob("*"))]
    for path in paths:
        try:
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
        except OSError as exc:
            raise BackupError([f"{path}: cannot restrict its permissions ({exc}); nothing was restored"]) from None
    loose = [f"{path} (mode {stat.S_IMODE(path.stat().st_mode):04o})" for path in paths
             if stat.S_IMODE(path.stat().st_mode) & 0o077]
    if loose:
        raise BackupError([f"{p}: readable by other accounts and the mode cannot be restricted here; nothing was "
                           "restored (restore onto a file system that keeps Unix permissions)" for p in loose])


def _swap_instance_dirs(staging: Path, instance: Path, work: Path) -> list[tuple[str, Path | None]]:
    """Put the staged instance folders in place, keeping the old ones aside until the database is in."""
    swapped: list[tuple[str, Path | None]] = []
    for sub in INSTANCE_DIRS:
        new = staging / "instance" / sub
        current = instance / sub
        if not new.is_dir():
            continue
        old = None
        if current.exists():
            old = work / f"old-{sub}"
            os.replace(current, old)
        os.replace(new, current)
        swapped.append((sub, old))
    return swapped


def _unswap_instance_dirs(swapped: list[tuple[str, Path | None]], instance: Path) -> None:
    for sub, old in swapped:
        shutil.rmtree(instance / sub, ignore_errors=True)
        if old is not None:
            os.replace(old, instance / sub)


# ---------------------------------------------------------------------------------------------- commands


def _fail(exc: BackupError) -> None:
    for problem in exc.problems:
        click.echo(problem, err=True)
    raise SystemExit(1)


@click.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(destination: Path) -> None:
    """Write a backup archive (database with photos and minutes, instance/signing) to DESTINATION.

    DESTINATION is a folder (a dated qa-backup-….tar.gz is created in it) or a new file name.
    """
    try:
        path, manifest = create_backup(destination)
    except BackupError as exc:
        _fail(exc)
        return
    tables = manifest["database"]["tables"]
    click.echo(f"Backup written: {path}")
    click.echo(f"  {tables.get('inspection', 0)} inspections, {tables.get('photo', 0)} photos, "
               f"{tables.get('minutes', 0)} minutes PDFs, {tables.get('audit_entry', 0)} audit entries; "
               f"{len(manifest['files'])} files, SHA-256 of each in manifest.json")


@click.command("restore")
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(archive: Path, force: bool) -> None:
    """Restore a backup archive made by `flask backup`: checked completely first, then all or nothing."""
    try:
        report = restore_backup(archive, force=force)
    except BackupError as exc:
        _fail(exc)
        return
    tables = report.tables
    click.echo(f"Restored {archive} (made {report.manifest.get('created_at')}): "
               f"{tables.get('inspection', 0)} inspections, {tables.get('photo', 0)} photos, "
               f"{tables.get('minutes', 0)} minutes PDFs; {len(report.files)} instance files.")
    click.echo("Next: `flask db upgrade`, then `flask audit verify` and `flask minutes check-archive`.")
