"""The unit's signing key at rest: private modes after a restore (or no restore), an encrypted PKCS#12, and a
setup that warns about a key other accounts can read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from flask import Flask

from qa_app import backup
from qa_app.extensions import db
from qa_app.pdf import signing

from .test_backup import file_app, source  # noqa: F401 - the fixture is used by name


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make_archive(app: Flask, tmp_path: Path) -> Path:
    out = tmp_path / "backups"
    out.mkdir()
    result = app.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 0, result.output
    return next(out.glob("qa-backup-*.tar.gz"))


def test_restore_keeps_the_signing_key_private(source: Flask, tmp_path: Path) -> None:  # noqa: F811
    archive = make_archive(source, tmp_path)
    target = file_app(tmp_path, "target")
    old = os.umask(0o022)  # the usual umask: extraction alone would leave 0755 and 0644
    try:
        result = target.test_cli_runner().invoke(args=["restore", str(archive)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    folder = Path(target.instance_path) / "signing"
    assert mode(folder) == 0o700
    files = sorted(p for p in folder.rglob("*"))
    assert {p.name for p in files} >= {"unit.p12", "ca.pem", "passphrase"}
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    with target.app_context():
        db.engine.dispose()


def test_restore_refuses_when_the_modes_cannot_be_kept(source: Flask, tmp_path: Path,  # noqa: F811
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_archive(source, tmp_path)
    target = file_app(tmp_path, "target")
    # A file system that ignores chmod (some network and FAT mounts).
    monkeypatch.setattr(backup.os, "chmod", lambda *_a, **_k: None)
    old = os.umask(0o022)
    try:
        result = target.test_cli_runner().invoke(args=["restore", str(archive)])
    finally:
        os.umask(old)
    assert result.exit_code != 0
    assert "readable by other accounts" in result.output and "unit.p12" in result.output
    assert not (Path(target.instance_path) / "signing").exists()  # nothing was put in place
    with target.app_context():
        assert db.session.execute(db.text("SELECT count(*) FROM sqlite_master WHERE type='table'")).scalar() == 0
        db.engine.dispose()


def test_the_demo_pkcs12_is_encrypted(tmp_path: Path) -> None:
    key = signing.load_signing_key(None, None, str(tmp_path), unit_name="TRUNG TÂM Y TẾ")
    folder = tmp_path / "signing"
    raw = (folder / "unit.p12").read_bytes()
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(raw, None)  # without the passphrase: refused
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(raw, b"wrong")
    passphrase = (folder / "passphrase").read_text().encode()
    _key, cert, _extra = pkcs12.load_key_and_certificates(raw, passphrase)
    assert cert is not None and key.demo
    assert mode(folder) == 0o700 and mode(folder / "passphrase") == 0o600 and mode(folder / "unit.p12") == 0o600


def test_a_configured_passphrase_encrypts_the_demo_key_and_none_is_written(tmp_path: Path) -> None:
    signing.load_signing_key(None, "Cum-tu-bi-mat-2026", str(tmp_path))
    folder = tmp_path / "signing"
    assert not (folder / "passphrase").exists()
    raw = (folder / "unit.p12").read_bytes()
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(raw, None)
    assert pkcs12.load_key_and_certificates(raw, b"Cum-tu-bi-mat-2026")[1] is not None


def test_an_older_plain_demo_key_is_encrypted_on_first_use(tmp_path: Path) -> None:
    signing.load_signing_key(None, None, str(tmp_path))
    folder = tmp_path / "signing"
    passphrase = (folder / "passphrase").read_text().encode()
    key, cert, extra = pkcs12.load_key_and_certificates((folder / "unit.p12").read_bytes(), passphrase)
    plain = pkcs12.serialize_key_and_certificates(b"unit", key, cert, extra, serialization.NoEncryption())
    (folder / "unit.p12").write_bytes(plain)
    signing._checked_plain.clear()
    signing._cache.clear()
    signing.load_signing_key(None, None, str(tmp_path))
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates((folder / "unit.p12").read_bytes(), None)


def test_setup_warns_about_a_world_readable_key(tmp_path: Path) -> None:
    app = file_app(tmp_path, "setup")
    with app.app_context():
        signing.load_signing_key(None, None, app.instance_path)
    p12 = Path(app.instance_path) / "signing" / "unit.p12"
    runner = app.test_cli_runner()
    with app.app_context():
        from qa_app.cli import loose_key_warnings

        assert loose_key_warnings() == []
        os.chmod(p12, 0o644)
        warnings = loose_key_warnings()
    assert len(warnings) == 1 and "unit.p12" in warnings[0] and "chmod 600" in warnings[0]
    result = runner.invoke(args=["qa", "setup", "--no-demo"])
    assert result.exit_code == 0, result.output
    assert "WARNING:" in result.output and "readable by other accounts (mode 0644)" in result.output
    with app.app_context():
        db.engine.dispose()


def test_an_older_plain_demo_key_without_a_passphrase_file_gets_one(tmp_path: Path) -> None:
    """What a backup made by an earlier version restores: a plain unit.p12 and no passphrase file."""
    signing.load_signing_key(None, None, str(tmp_path))
    folder = tmp_path / "signing"
    passphrase = (folder / "passphrase").read_text().encode()
    key, cert, extra = pkcs12.load_key_and_certificates((folder / "unit.p12").read_bytes(), passphrase)
    (folder / "unit.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(b"unit", key, cert, extra, serialization.NoEncryption()))
    (folder / "passphrase").unlink()
    for newer in ("tsa.p12", "tsa.pem", "ca.crl"):  # an earlier version had no demo TSA and no CRL
        (folder / newer).unlink()
    signing._checked_plain.clear()
    signing._cache.clear()
    assert signing.load_signing_key(None, None, str(tmp_path)).demo
    new = (folder / "passphrase").read_text().encode()
    assert mode(folder / "passphrase") == 0o600
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates((folder / "unit.p12").read_bytes(), None)
    assert pkcs12.load_key_and_certificates((folder / "unit.p12").read_bytes(), new)[1] is not None
