"""Writing administrative unit lists to the database in bulk (flush, never commit; the caller commits).

Imports are idempotent: a unit is found again by (system, level, code), its name and kind are updated, and
nothing is ever duplicated. Every unit's materialised ``path`` ("/<province id>/<district id>/<id>/") is
recomputed, so a moved unit carries its subtree's scope with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..audit.services import record
from ..extensions import db
from .importers import ParseResult, UnitRow
from .models import REFORM_DATE, AdminUnit, UnitSuccession

LEVELS_IN_ORDER = ("province", "district", "commune")
PRE2025_VALID_TO = REFORM_DATE - dt.timedelta(days=1)
CHUNK = 500  # bind parameters per IN list: far below SQLite's limit, gentle on PostgreSQL's planner


@dataclass
class LevelCounts:
    """Units of one level: created, updated (name, kind, parent or English name changed), unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class UnitImportReport:
    """What an import wrote, and how long it took."""

    system: str
    levels: dict[str, LevelCounts] = field(default_factory=dict)
    links: int = 0
    unlinked: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        """One line per level, for the command line."""
        lines = [f"{level}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
                 for level, c in self.levels.items() if c.created or c.updated or c.unchanged]
        if self.system == "2025":
            lines.append(f"predecessor links: {self.links}"
                         + (f" ({self.unlinked} old units not in the database; if the pre-2025 list is not "
                            "imported yet, import it, then this table again)" if self.unlinked else ""))
        lines.append(f"written in {self.seconds:.2f} s")
        return "\n".join(lines)


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _existing(system: str, level: str) -> dict[str, dict[str, Any]]:
    """Units of one system and level already stored, by code (one query: at most ~10,000 small rows)."""
    columns = (AdminUnit.id, AdminUnit.code, AdminUnit.name, AdminUnit.kind, AdminUnit.name_en,
               AdminUnit.parent_id, AdminUnit.path)
    return {row.code: row._asdict() for row in db.session.execute(
        sa.select(*columns).where(AdminUnit.system == system, AdminUnit.level == level))}


def upsert_units(system: str, level: str, units: Sequence[UnitRow],
                 parents: dict[str, tuple[int, str]] | None) -> tuple[dict[str, tuple[int, str]], LevelCounts]:
    """Insert or update ``units`` of one level; returns (code → (id, path)) and the counts.

    ``parents`` maps the parent level's codes to (id, path); None for provinces.
    """
    counts = LevelCounts()
    existing = _existing(system, level)
    placed: dict[str, tuple[int, str]] = {}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for unit in units:
        parent_id, parent_path = (None, "/")
        if parents is not None:
            parent_id, parent_path = parents[unit.parent_code or ""]
        old = existing.get(unit.code)
        if old is None:
            valid_from, valid_to = (None, PRE2025_VALID_TO) if system == "pre2025" else (REFORM_DATE, None)
            inserts.append({"system": system, "level": level, "code": unit.code, "name": unit.name,
                            "kind": unit.kind, "name_en": unit.name_en, "parent_id": parent_id, "path": "",
                            "valid_from": valid_from, "valid_to": valid_to, "_parent_path": parent_path})
            continue
        wanted = {"name": unit.name, "kind": unit.kind, "parent_id": parent_id,
                  "path": f"{parent_path}{old['id']}/",
                  # A file without English names keeps the ones already stored.
                  "name_en": unit.name_en or old["name_en"]}
        changed = {key: value for key, value in wanted.items() if old[key] != value}
        if changed:
            updates.append({"id": old["id"], **changed})
            counts.updated += 1
        else:
            counts.unchanged += 1
        placed[unit.code] = (old["id"], wanted["path"])
    if inserts:
        parent_paths = [row.pop("_parent_path") for row in inserts]
        db.session.execute(sa.insert(AdminUnit), inserts)
        new_ids = {row.code: row.id for row in db.session.execute(
            sa.select(AdminUnit.id, AdminUnit.code).where(AdminUnit.system == system, AdminUnit.level == level,
                                                          AdminUnit.path == ""))}
        for row, parent_path in zip(inserts, parent_paths, strict=True):
            unit_id = new_ids[row["code"]]
            placed[row["code"]] = (unit_id, f"{parent_path}{unit_id}/")
        counts.created = len(inserts)
    if updates:
        db.session.execute(sa.update(AdminUnit), updates)
    if inserts:
        # One set-based statement rather than 10,000 single-row updates (5x faster on PostgreSQL).
        parent = aliased(AdminUnit)
        prefix = (sa.literal("/", sa.String) if parents is None else
                  sa.select(parent.path).where(parent.id == AdminUnit.parent_id).scalar_subquery())
        db.session.execute(
            sa.update(AdminUnit)
            .where(AdminUnit.system == system, AdminUnit.level == level, AdminUnit.path == "")
            .values(path=prefix + sa.cast(AdminUnit.id, sa.String) + "/")
            .execution_options(synchronize_session=False))
    return placed, counts


def _all_placed(system: str, level: str) -> dict[str, tuple[int, str]]:
    """code → (id, path) of every stored unit of a level (parents that this file does not list)."""
    return {row.code: (row.id, row.path) for row in db.session.execute(
        sa.select(AdminUnit.id, AdminUnit.code, AdminUnit.path).where(AdminUnit.system == system,
                                                                      AdminUnit.level == level))}


def import_units(parsed: ParseResult, *, user_id: int | None = None, source: str = "",
                 sha256: str = "") -> UnitImportReport:
    """Write a parsed, error-free unit list (and, for the 2025 table, the predecessor links)."""
    if parsed.errors:
        raise ValueError("refusing to import a file with errors")
    started = time.perf_counter()
    db.session.flush()
    report = UnitImportReport(system=parsed.system)
    parents: dict[str, tuple[int, str]] | None = None
    for level in LEVELS_IN_ORDER:
        units = sorted(parsed.units[level].values(), key=lambda u: u.code)
        if level == "district" and parsed.system == "2025":
            continue
        placed, counts = upsert_units(parsed.system, level, units, parents)
        report.levels[level] = counts
        parents = placed
    if parsed.system == "2025":
        report.links, report.unlinked = _replace_links(parsed, parents or {})
    # Bulk statements bypass the identity map: stale unit objects must be reloaded.
    db.session.expire_all()
    report.seconds = time.perf_counter() - started
    record("regions.imported", "admin_unit_import", sha256 or "-", user_id=user_id,
           details={"system": parsed.system, "source": source[:200], "rows": parsed.rows_read,
                    **{level: vars(c) for level, c in report.levels.items()},
                    "links": report.links, "unlinked": report.unlinked})
    return report


def _replace_links(parsed: ParseResult, communes: dict[str, tuple[int, str]]) -> tuple[int, int]:
    """Replace the predecessor links of the imported 2025 communes; returns (written, without old unit)."""
    old_communes = {code: unit_id for code, (unit_id, _path) in _all_placed("pre2025", "commune").items()}
    old_districts = {code: unit_id for code, (unit_id, _path) in _all_placed("pre2025", "district").items()}
    rows: dict[tuple[int, int], bool] = {}
    unlinked = 0
    for link in parsed.links:
        new_id = communes[link.new_code][0]
        old_id = old_communes.get(link.old_code) if link.old_code else old_districts.get(link.old_district_code or "")
        if old_id is None:
            unlinked += 1
            continue
        # A pair listed twice keeps "whole" only if every row says so.
        rows[(old_id, new_id)] = rows.get((old_id, new_id), True) and link.whole
    new_ids = sorted({unit_id for unit_id, _path in communes.values()})
    for batch in _chunks(new_ids):
        db.session.execute(sa.delete(UnitSuccession).where(UnitSuccession.new_unit_id.in_(batch)))
    if rows:
        db.session.execute(sa.insert(UnitSuccession), [
            {"old_unit_id": old_id, "new_unit_id": new_id, "whole": whole}
            for (old_id, new_id), whole in sorted(rows.items())])
    return len(rows), unlinked


def file_sha256(data: bytes) -> str:
    """Hex SHA-256 of an imported file, recorded in the audit log."""
    return hashlib.sha256(data).hexdigest()
