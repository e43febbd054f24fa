"""Choosing the checklist version that applies on a date, and comparing two versions (what changed, in words an
editor knows from the YAML file). Pure. Re-exported by ``checklists.loader``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .schema import DEFAULT_PROGRAMME, PROGRAMMES, Checklist

# --------------------------------------------------------------------------------------------------
# Choosing a version, comparing versions
# --------------------------------------------------------------------------------------------------


def select_version(
    candidates: Iterable[Checklist],
    facility_type: str,
    on: dt.date,
    programme: str = DEFAULT_PROGRAMME,
) -> Checklist | None:
    """The version an inspection on ``on`` of a facility of this type uses in ``programme``.

    Only checklists of that programme compete, so registering a campaign checklist for the same
    facility types never changes what routine supervision uses (and the other way round).
    """
    best: dict[str, Checklist] = {}
    for checklist in candidates:
        if checklist.status != "published" or checklist.effective_from > on:
            continue
        if checklist.programme != programme:
            continue
        if facility_type not in checklist.facility_types:
            continue
        current = best.get(checklist.code)
        # Within one checklist the highest effective version supersedes the older ones.
        if current is None or checklist.version > current.version:
            best[checklist.code] = checklist
    if not best:
        return None
    # Across checklists (if several cover the type), the most recently effective one; the code
    # breaks ties (version numbers of different checklists are not comparable) so that the choice
    # never depends on the order the candidates arrive in.
    return min(best.values(), key=lambda c: (-c.effective_from.toordinal(), c.code))


@dataclass
class ChecklistDiff:
    """Differences between two versions: items by id, sections, scoring rules, checklist fields."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # (item id, names of the fields that changed, e.g. ["text", "weight", "section"])
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    sections_added: list[str] = field(default_factory=list)
    sections_removed: list[str] = field(default_factory=list)
    sections_changed: list[tuple[str, list[str]]] = field(default_factory=list)
    # (rule name, old value, new value)
    scoring_changed: list[tuple[str, Any, Any]] = field(default_factory=list)
    # top-level fields: title, description, status, effective_from, legal_basis, facility_types
    checklist_changed: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Whether the two versions have the same content (apart from the version number)."""
        return not any(getattr(self, f.name) for f in dataclasses.fields(self))


# Item fields compared by the diff, under the names editors know from the YAML file.
_ITEM_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("text", ("text",)),
    ("guidance", ("guidance",)),
    ("verification", ("verification",)),
    ("answer", ("answer_type",)),
    ("weight", ("weight",)),
    ("applies_to", ("applies_to",)),
    ("applies_if_offers", ("applies_if_offers",)),
    ("critical", ("critical", "critical_when_offers")),
    ("allow_na", ("allow_na",)),
    ("allow_not_observed", ("allow_not_observed",)),
    ("scale", ("scale",)),
    ("pass_min", ("pass_min",)),
    ("unit", ("unit",)),
    ("finding_below", ("finding_below",)),
    ("integer", ("integer",)),
    ("min", ("min",)),
    ("max", ("max",)),
    ("max_length", ("max_length",)),
    ("informational", ("informational",)),
    ("options", ("options",)),
    ("section", ("section_id",)),
)
_SCORING_FIELDS = (
    "overall",
    "meets_min",
    "conditional_min",
    "section_min",
    "validity_months",
    "corrective_days",
    "groups_rule",
)
_CHECKLIST_FIELDS = (
    "programme",
    "title",
    "description",
    "status",
    "effective_from",
    "legal_basis",
    "facility_types",
    "groups",
)


def programmes_available(
    candidates: Iterable[Checklist], facility_type: str, on: dt.date
) -> dict[str, Checklist]:
    """Each programme that has a published checklist for this type on ``on``, with the version it uses."""
    pool = list(candidates)
    found: dict[str, Checklist] = {}
    for programme in PROGRAMMES:  # in the documented order, routine first
        chosen = select_version(pool, facility_type, on, programme)
        if chosen is not None:
            found[programme] = chosen
    return found


def diff_checklists(old: Checklist, new: Checklist) -> ChecklistDiff:
    """Compare two versions of a checklist: items and sections by id, scoring rules, fields."""
    diff = ChecklistDiff()
    old_items = {item.id: item for item in old.items}
    new_items = {item.id: item for item in new.items}
    diff.added = [i for i in new_items if i not in old_items]
    diff.removed = [i for i in old_items if i not in new_items]
    for item_id, after in new_items.items():
        before = old_items.get(item_id)
        if before is None:
            continue
        fields = [
            name
            for name, attrs in _ITEM_FIELDS
            if any(getattr(before, a) != getattr(after, a) for a in attrs)
        ]
        if fields:
            diff.changed.append((item_id, fields))
    old_sections = {s.id: s for s in old.sections}
    new_sections = {s.id: s for s in new.sections}
    diff.sections_added = [s for s in new_sections if s not in old_sections]
    diff.sections_removed = [s for s in old_sections if s not in new_sections]
    for section_id, after_s in new_sections.items():
        before_s = old_sections.get(section_id)
        if before_s is None:
            continue
        fields = [
            name
            for name in ("title", "weight", "applies_to", "applies_if_offers", "instructions", "informational")
            if getattr(before_s, name) != getattr(after_s, name)
        ]
        kept_before = [i.id for i in before_s.items if i.id in {j.id for j in after_s.items}]
        kept_after = [i.id for i in after_s.items if i.id in {j.id for j in before_s.items}]
        if kept_before != kept_after:
            fields.append("item order")
        if fields:
            diff.sections_changed.append((section_id, fields))
    if [s for s in old_sections if s in new_sections] != [
        s for s in new_sections if s in old_sections
    ]:
        diff.checklist_changed.append("section order")
    for name in _SCORING_FIELDS:
        before_v, after_v = getattr(old.scoring, name), getattr(new.scoring, name)
        if before_v != after_v:
            diff.scoring_changed.append((name, before_v, after_v))
    diff.checklist_changed[:0] = [
        name for name in _CHECKLIST_FIELDS if getattr(old, name) != getattr(new, name)
    ]
    return diff


_LABELS = {
    "en": {
        "added": "Items added",
        "removed": "Items removed",
        "changed": "Items changed",
        "sections_added": "Sections added",
        "sections_removed": "Sections removed",
        "sections_changed": "Sections changed",
        "scoring_changed": "Scoring rules changed",
        "checklist_changed": "Checklist fields changed",
        "none": "none",
        "same": "No differences.",
    },
    "vi": {
        "added": "Tiêu chí thêm mới",
        "removed": "Tiêu chí bị bỏ",
        "changed": "Tiêu chí thay đổi",
        "sections_added": "Phần thêm mới",
        "sections_removed": "Phần bị bỏ",
        "sections_changed": "Phần thay đổi",
        "scoring_changed": "Quy tắc chấm điểm thay đổi",
        "checklist_changed": "Thông tin chung thay đổi",
        "none": "không có",
        "same": "Không có khác biệt.",
    },
}


def _fmt_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_diff(diff: ChecklistDiff, locale: str = "en") -> str:
    """Human-readable text of a diff, in English or Vietnamese ('vi')."""
    labels = _LABELS["vi" if locale.startswith("vi") else "en"]
    lines: list[str] = []
    # The three item lines are always printed, so a reader sees "none" rather than wondering.
    for key in ("added", "removed"):
        ids: list[str] = getattr(diff, key)
        lines.append(f"{labels[key]} ({len(ids)}): {', '.join(ids) if ids else labels['none']}")
    lines.append(
        f"{labels['changed']} ({len(diff.changed)}){':' if diff.changed else ': ' + labels['none']}"
    )
    lines.extend(f"  {item_id}: {', '.join(fields)}" for item_id, fields in diff.changed)
    for key in ("sections_added", "sections_removed"):
        ids = getattr(diff, key)
        if ids:
            lines.append(f"{labels[key]} ({len(ids)}): {', '.join(ids)}")
    if diff.sections_changed:
        lines.append(f"{labels['sections_changed']} ({len(diff.sections_changed)}):")
        lines.extend(f"  {sid}: {', '.join(fields)}" for sid, fields in diff.sections_changed)
    if diff.scoring_changed:
        lines.append(f"{labels['scoring_changed']}:")
        lines.extend(
            f"  {name}: {_fmt_value(a)} → {_fmt_value(b)}" for name, a, b in diff.scoring_changed
        )
    if diff.checklist_changed:
        lines.append(f"{labels['checklist_changed']}: {', '.join(diff.checklist_changed)}")
    if diff.is_empty:
        lines.append(labels["same"])
    return "\n".join(lines)
