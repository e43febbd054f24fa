"""Registering checklist files as immutable versions in the database (flush, never commit)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from ..extensions import db
from .loader import ChecklistError, Problem, load_directory, parse_checklist, programmes_available, select_version
from .models import ChecklistVersion
from .schema import DEFAULT_PROGRAMME, Checklist


class ImmutableVersionError(Exception):
    """A published version's file changed after it was registered."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class SyncReport:
    """What a sync did, per version: added, unchanged, updated (drafts only), corrected (legal-basis errata)."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)


# The citations printed under "Căn cứ" on the minutes. They do not take part in applicability or scoring, so a
# wrong citation in a published version (a decision's title, its date, which facility types it concerns) is
# corrected in place as an erratum instead of forcing a new version that every pinned inspection would not use.
ERRATUM_KEYS = frozenset({"legal_basis"})


def _scored_content(content: dict) -> dict:
    return {k: v for k, v in content.items() if k not in ERRATUM_KEYS}


def register(checklist: Checklist) -> str:
    """Register one loaded version; returns 'added', 'unchanged', 'updated' (a draft) or 'corrected' (an
    erratum of a published version's legal bases), refusing any other edit of a published version."""
    row = db.session.scalar(
        sa.select(ChecklistVersion).where(
            ChecklistVersion.code == checklist.code, ChecklistVersion.version == checklist.version
        )
    )
    if row is not None and row.sha256 == checklist.sha256:
        return "unchanged"
    if row is not None and row.status == "published" and checklist.status == "published" \
            and _scored_content(row.content or {}) == _scored_content(checklist.content):
        # An erratum: only the citations changed. Every answer, rule and score of the version stays as it was,
        # so inspections pinned to it keep scoring identically; the change is recorded with both hashes.
        from ..audit.services import record  # imported here: the audit package is above the checklist core

        before = row.sha256
        row.sha256, row.content, row.source = checklist.sha256, checklist.content, checklist.source
        db.session.flush()
        record("checklist.erratum", "checklist_version", row.id,
               details={"code": checklist.code, "version": checklist.version, "changed": sorted(ERRATUM_KEYS),
                        "sha256_before": before, "sha256_after": checklist.sha256})
        return "corrected"
    if row is not None and row.status == "published":
        raise ImmutableVersionError([Problem(
            checklist.source or checklist.code, 1,
            f"checklist '{checklist.code}' version {checklist.version} was published with content hash "
            f"{row.sha256[:12]}… on {row.registered_at:%Y-%m-%d} and this file no longer matches it. A published "
            f"version is never edited: restore the file and put your changes in a new version "
            f"(v{checklist.version + 1}.yaml).",
        )])
    if row is None:
        row = ChecklistVersion(code=checklist.code, version=checklist.version)
        db.session.add(row)
        outcome = "added"
    else:
        outcome = "updated"
    row.status = checklist.status
    row.title_vi = checklist.title.vi
    row.title_en = checklist.title.en
    row.effective_from = checklist.effective_from
    row.programme = checklist.programme
    row.facility_types = list(checklist.facility_types)
    row.sha256 = checklist.sha256
    row.content = checklist.content
    row.source = checklist.source
    db.session.flush()
    return outcome


def sync_directory(root: str | Path) -> SyncReport:
    """Validate every file under ``root`` and register them all, or nothing if any file has a problem."""
    checklists, problems = load_directory(root)
    if problems:
        raise ChecklistError(problems)
    report = SyncReport()
    refused: list[Problem] = []
    for checklist in checklists:
        label = f"{checklist.code} v{checklist.version}"
        try:
            outcome = register(checklist)
        except ImmutableVersionError as exc:
            refused.extend(exc.problems)
            continue
        getattr(report, outcome).append(label)
    if refused:
        raise ImmutableVersionError(refused)
    return report


@lru_cache(maxsize=64)
def _parse_stored(sha256: str, content_json: str) -> Checklist:
    # Keyed by hash: a registered version's content never changes, so the parse is cached safely.
    return parse_checklist(content_json, source=f"database:{sha256[:12]}")


# Parsed checklists by (version id, sha256). A registered version never changes (register() refuses a changed
# file under the same code and version), and the sha256 is the hash of the content, so the pair identifies the
# content exactly, even across databases (tests) that reuse ids. Without it every call re-serialised the
# whole content to JSON just to build the lru_cache key (~100 items per call, several calls per autosave).
_BY_VERSION: dict[tuple[int, str], Checklist] = {}
_BY_VERSION_MAX = 256


def checklist_of(version: ChecklistVersion) -> Checklist:
    """The Checklist object for a registered version, rebuilt from its stored content."""
    key = (version.id, version.sha256)
    found = _BY_VERSION.get(key) if key[0] is not None else None
    if found is None:
        found = _parse_stored(version.sha256, json.dumps(version.content, ensure_ascii=False))
        if key[0] is not None:
            if len(_BY_VERSION) >= _BY_VERSION_MAX:
                _BY_VERSION.clear()
            _BY_VERSION[key] = found
    return found


def checklist_by_id(version_id: int) -> Checklist:
    """The Checklist of a registered version by id: reads only its hash unless the content is not cached yet."""
    sha256 = db.session.scalar(sa.select(ChecklistVersion.sha256).where(ChecklistVersion.id == version_id))
    if sha256 is None:
        raise KeyError(version_id)
    found = _BY_VERSION.get((version_id, sha256))
    if found is None:
        found = checklist_of(db.session.get(ChecklistVersion, version_id))
    return found


def _published_on(on: dt.date, code: str | None = None) -> dict[tuple[str, int], ChecklistVersion]:
    query = sa.select(ChecklistVersion).where(
        ChecklistVersion.status == "published", ChecklistVersion.effective_from <= on
    )
    if code:
        query = query.where(ChecklistVersion.code == code)
    return {(row.code, row.version): row for row in db.session.scalars(query)}


def version_for(facility_type: str, on: dt.date, code: str | None = None,
                programme: str = DEFAULT_PROGRAMME) -> ChecklistVersion | None:
    """The version an inspection on ``on`` of a facility of this type must use in ``programme``.

    The latest published version in force within that programme: another programme's checklists never compete.
    """
    rows = _published_on(on, code)
    chosen = select_version((checklist_of(row) for row in rows.values()), facility_type, on, programme)
    return rows[(chosen.code, chosen.version)] if chosen else None


def programmes_for(facility_type: str, on: dt.date) -> dict[str, ChecklistVersion]:
    """Every programme with a checklist for this facility type on ``on`` (routine first), with its version."""
    rows = _published_on(on)
    found = programmes_available((checklist_of(row) for row in rows.values()), facility_type, on)
    return {programme: rows[(c.code, c.version)] for programme, c in found.items()}


T = TypeVar("T")
# derive(content) per (what, version id, sha256): a registered version never changes, so each is derived once.
_DERIVED: dict[tuple[str, int, str], Any] = {}


def per_version(what: str, derive: Callable[[dict[str, Any] | None], T]) -> dict[int, T]:
    """``derive(content)`` of every registered checklist version, by version id.

    Reads the versions' ids and hashes each time, a version's whole content only the first time (per process):
    the approval and every compliance page need the versions' scoring rules, not their items.
    """
    pairs = db.session.execute(sa.select(ChecklistVersion.id, ChecklistVersion.sha256)).all()
    missing = [vid for vid, sha in pairs if (what, vid, sha) not in _DERIVED]
    if missing:
        for vid, sha, content in db.session.execute(
                sa.select(ChecklistVersion.id, ChecklistVersion.sha256, ChecklistVersion.content)
                .where(ChecklistVersion.id.in_(missing))):
            _DERIVED[(what, vid, sha)] = derive(content)
    return {vid: _DERIVED[(what, vid, sha)] for vid, sha in pairs}
