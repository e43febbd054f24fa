"""Registering checklist versions: immutability, all-or-nothing, version choice, and the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from qa_app.checklists.loader import ChecklistError
from qa_app.checklists.models import ChecklistVersion
from qa_app.checklists.registry import ImmutableVersionError, checklist_of, sync_directory, version_for
from qa_app.extensions import db

from .conftest import ROOT

MINIMAL = """\
schema: 1
code: {code}
version: {version}
status: {status}
title: {{vi: "Bảng kiểm thử", en: "Test checklist"}}
effective_from: {effective}
legal_basis:
  - {{vi: "Quyết định 1848/QĐ-TTg", en: "Decision 1848/QĐ-TTg"}}
facility_types: [{types}]
scoring: {{overall: pooled, meets_min: 90, conditional_min: 80, section_min: 50, validity_months: 24, corrective_days: 30}}
sections:
  - id: A
    title: {{vi: "Pháp lý", en: "Legal"}}
    weight: 1
    items:
      - id: A1
        text: {{vi: "{text}", en: "Licence"}}
        guidance: {{vi: "Xem giấy phép", en: "Look at the licence"}}
        verification: [HS]
"""


def write(root: Path, code: str = "test", version: int = 1, status: str = "published",
          effective: str = "2025-01-01", types: str = "TYT, PK", text: str = "Có giấy phép") -> Path:
    path = root / code / f"v{version}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MINIMAL.format(code=code, version=version, status=status, effective=effective, types=types,
                                   text=text), encoding="utf-8")
    return path


def count_versions() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ChecklistVersion))


def test_sync_registers_once_and_refuses_an_edited_published_file(app: Flask, tmp_path: Path) -> None:
    root = tmp_path / "checklists"
    path = write(root)
    with app.app_context():
        report = sync_directory(root)
        db.session.commit()
        assert report.added == ["test v1"]
        stored = db.session.scalar(sa.select(ChecklistVersion))
        assert len(stored.sha256) == 64 and stored.status == "published"
        # A comment changes nothing: the hash covers content, not layout.
        path.write_text("# reviewed\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
        assert sync_directory(root).unchanged == ["test v1"]
        write(root, text="Có giấy phép hoạt động")
        with pytest.raises(ImmutableVersionError) as err:
            sync_directory(root)
        message = str(err.value)
        assert "test" in message and "version 1" in message and "v2.yaml" in message
        db.session.rollback()
        assert db.session.scalar(sa.select(ChecklistVersion.sha256)) == stored.sha256


def test_a_published_versions_legal_bases_are_corrected_as_an_erratum(app: Flask, tmp_path: Path) -> None:
    """A wrong citation is fixed in place (audited, both hashes kept); anything scored still needs a new version."""
    from qa_app.audit.models import AuditEntry

    root = tmp_path / "checklists"
    path = write(root)
    with app.app_context():
        sync_directory(root)
        db.session.commit()
        before = db.session.scalar(sa.select(ChecklistVersion.sha256))
        path.write_text(path.read_text(encoding="utf-8").replace(
            '{vi: "Quyết định 1848/QĐ-TTg", en: "Decision 1848/QĐ-TTg"}',
            '{vi: "Quyết định 1848/QĐ-TTg phê duyệt Chương trình", en: "Decision 1848/QĐ-TTg approving the Programme"}'),
            encoding="utf-8")
        report = sync_directory(root)
        db.session.commit()
        assert report.corrected == ["test v1"]
        row = db.session.scalar(sa.select(ChecklistVersion))
        assert row.sha256 != before
        assert "Chương trình" in checklist_of(row).legal_basis[0].text.vi
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "checklist.erratum"))
        assert entry is not None
        assert entry.details["sha256_before"] == before and entry.details["sha256_after"] == row.sha256
        assert sync_directory(root).unchanged == ["test v1"]
        # The same file with a scored change besides the citation is still refused whole.
        path.write_text(path.read_text(encoding="utf-8").replace("Có giấy phép", "Có giấy phép hoạt động"),
                        encoding="utf-8")
        with pytest.raises(ImmutableVersionError):
            sync_directory(root)
        db.session.rollback()
        assert db.session.scalar(sa.select(ChecklistVersion.sha256)) == row.sha256


def test_drafts_may_change_until_published(app: Flask, tmp_path: Path) -> None:
    root = tmp_path / "checklists"
    write(root, status="draft")
    with app.app_context():
        sync_directory(root)
        write(root, status="draft", text="Giấy phép còn hiệu lực")
        assert sync_directory(root).updated == ["test v1"]
        write(root, status="published", text="Giấy phép còn hiệu lực")
        assert sync_directory(root).updated == ["test v1"]
        db.session.commit()
        assert db.session.scalar(sa.select(ChecklistVersion.status)) == "published"


def test_one_broken_file_registers_nothing(app: Flask, tmp_path: Path) -> None:
    root = tmp_path / "checklists"
    write(root, code="good")
    bad = write(root, code="bad")
    bad.write_text(bad.read_text().replace("verification: [HS]", "verification: [XX]"))
    with app.app_context():
        with pytest.raises(ChecklistError) as err:
            sync_directory(root)
        assert any("XX" in str(p) and p.path.endswith("v1.yaml") for p in err.value.problems)
        db.session.rollback()
        assert count_versions() == 0


def test_version_choice_and_pinning(app: Flask, tmp_path: Path) -> None:
    root = tmp_path / "checklists"
    write(root, version=1, effective="2021-01-01")
    write(root, version=2, effective="2026-01-01")
    write(root, version=3, effective="2025-06-01", status="draft")
    write(root, code="pharmacy", version=1, effective="2021-01-01", types="NT")
    with app.app_context():
        sync_directory(root)
        assert version_for("TYT", dt.date(2025, 12, 31)).version == 1
        assert version_for("TYT", dt.date(2026, 1, 1)).version == 2
        assert version_for("NT", dt.date(2026, 1, 1)).code == "pharmacy"
        assert version_for("BV", dt.date(2026, 1, 1)) is None
        assert version_for("TYT", dt.date(2020, 12, 31)) is None
        row = version_for("TYT", dt.date(2026, 3, 1))
        assert checklist_of(row).item("A1").text.vi == "Có giấy phép"


def test_shipped_checklists_validate_and_load(runner) -> None:
    result = runner.invoke(args=["checklists", "validate", str(ROOT / "checklists")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["checklists", "load"])
    assert result.exit_code == 0, result.output
    assert "added" in result.output
    result = runner.invoke(args=["checklists", "list"])
    assert "fp-quality" in result.output and "published" in result.output


def test_cli_validate_fails_on_a_bad_file(runner, tmp_path: Path) -> None:
    path = write(tmp_path / "checklists")
    path.write_text(path.read_text().replace("weight: 1", "weight: -2"))
    result = runner.invoke(args=["checklists", "validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:" in result.output and "weight" in result.output


def test_cli_diff_between_shipped_versions(runner) -> None:
    result = runner.invoke(args=["checklists", "diff", "fp-quality", "1", "2"])
    assert result.exit_code == 0, result.output
    out = result.output.lower()
    assert "added" in out and "removed" in out and "changed" in out
    result = runner.invoke(args=["checklists", "diff", "fp-quality", "1", "9"])
    assert result.exit_code != 0 and "version 9" in result.output
