"""The checklist and facility profile in the shape the tablet's rules module reads (static/js/qa-engine.js).

Pure module (no Flask, no database). The tablet keeps one copy of a whole checklist version (every item, with
the rules that decide applicability, criticality and scoring) and each facility's profile separately; it works
out the applicable items, the running score and the classification itself with qa-engine.js, which follows
qa_app/scoring.py rule for rule (tests/unit/test_engine_parity.py holds them together).

Weights and thresholds are written as exact fractions ("1/2", "90"), so the tablet does the same exact
arithmetic as the server and never meets a binary rounding the server does not.
"""

from __future__ import annotations

import hashlib
from typing import Any

from qa_app.checklists.answers import item_failed, normalize_answer
from qa_app.checklists.schema import Checklist, FacilityProfile, Item, ScoreGroup, Section, Text, item_applies
from qa_app.scoring import exact

# Labels of the two yes/no choices, as the checklist files do not spell them out.
MET_LABEL = {"vi": "Đạt", "en": "Met"}
NOT_MET_LABEL = {"vi": "Không đạt", "en": "Not met"}


def _text(value: Text | None) -> dict[str, str] | None:
    return None if value is None else {"vi": value.vi, "en": value.en or value.vi}


def _fraction(number: float | int | str, what: str) -> str:
    return str(exact(number, what))


def _fraction_or_none(number: float | int | None, what: str) -> str | None:
    return None if number is None else _fraction(number, what)


def item_json(item: Item) -> dict[str, Any]:
    """One item: what the form shows and every rule the tablet applies to it."""
    choices: list[dict[str, Any]]
    if item.answer_type == "yes_no_na":
        choices = [{"value": "met", "label": MET_LABEL}, {"value": "not_met", "label": NOT_MET_LABEL}]
    elif item.answer_type == "scale":
        choices = [{"value": str(level.value), "label": _text(level.label)} for level in item.scale]
    elif item.answer_type == "options":
        choices = [{"value": o.value, "label": _text(o.label), "descriptor": _text(o.descriptor)} for o in item.options]
    else:
        choices = []
    # What the form marks as a finding: only scored items have findings (an informational item never does).
    fails = [c["value"] for c in choices if item.scored and item_failed(item, normalize_answer(item, c["value"]))]
    return {
        "id": item.id, "text": _text(item.text), "guidance": _text(item.guidance), "answer_type": item.answer_type,
        "choices": choices, "allow_na": item.allow_na, "allow_not_observed": item.allow_not_observed, "fails": fails,
        # Whether it can be critical at all; whether it is, for a facility, is critical_rule's business.
        "critical": item.critical != "never", "critical_rule": item.critical,
        "critical_when_offers": list(item.critical_when_offers), "unit": _text(item.unit),
        "weight": _fraction(item.weight, f"weight of item {item.id}"),
        "applies_to": list(item.applies_to), "applies_if_offers": list(item.applies_if_offers),
        "scale": [{"value": level.value, "label": _text(level.label)} for level in item.scale],
        "pass_min": item.pass_min, "informational": item.informational, "scored": item.scored,
        "finding_below": _fraction_or_none(item.finding_below, f"finding_below of item {item.id}"),
        # Scores as exact fractions; None: the answer is left out of the score (like N/A).
        "options": [{"value": o.value, "score": _fraction_or_none(o.score, f"score of option {o.value}")}
                    for o in item.options],
        # Number and text constraints, refused on the tablet as on the server.
        "integer": item.integer, "min": item.min, "max": item.max, "max_length": item.max_length,
    }


def section_json(section: Section) -> dict[str, Any]:
    return {"id": section.id, "title": _text(section.title), "weight": _fraction(section.weight, "section weight"),
            "applies_to": list(section.applies_to), "applies_if_offers": list(section.applies_if_offers),
            "instructions": _text(section.instructions), "informational": section.informational,
            "group_id": section.group_id, "group_applies_to": list(section.group_applies_to),
            "items": [item_json(i) for i in section.items]}


def group_json(group: ScoreGroup) -> dict[str, Any]:
    """One score group with its own aggregation, thresholds and applicability."""
    what = f"group {group.id}"
    return {"id": group.id, "title": _text(group.title), "sections": list(group.sections),
            "aggregation": group.aggregation, "meets_min": _fraction(group.meets_min, f"meets_min of {what}"),
            "conditional_min": _fraction(group.conditional_min, f"conditional_min of {what}"),
            "section_min": _fraction(group.section_min, f"section_min of {what}"),
            "floor": _fraction(group.floor, f"floor of {what}"), "weight": _fraction(group.weight, f"weight of {what}"),
            "applies_to": list(group.applies_to)}


def checklist_json(checklist: Checklist, sha256: str | None = None) -> dict[str, Any]:
    """The whole checklist version (every item, applicable or not), keyed on the tablet by code, version, hash."""
    rules = checklist.scoring
    return {
        "code": checklist.code, "version": checklist.version, "sha256": sha256 or checklist.sha256,
        "title": _text(checklist.title), "corrective_days": rules.corrective_days,
        "scoring": {"meets_min": _fraction(rules.meets_min, "meets_min"),
                    "conditional_min": _fraction(rules.conditional_min, "conditional_min"),
                    "section_min": _fraction(rules.section_min, "section_min"), "overall": rules.overall,
                    "groups_rule": rules.groups_rule},
        "sections": [section_json(s) for s in checklist.sections],
        "groups": [group_json(g) for g in checklist.groups],
    }


def profile_json(profile: FacilityProfile) -> dict[str, Any]:
    """What applicability and criticality need to know about a facility."""
    return {"type": profile.type, "services": sorted(profile.services)}


def applicable_ids(checklist: Checklist, profile: FacilityProfile) -> list[str]:
    """The applicable items' ids, in checklist order."""
    return [item.id for section in checklist.sections for item in section.items
            if item_applies(item, section, profile)[0]]


def applicable_hash(checklist: Checklist, profile: FacilityProfile) -> str:
    """The sha256 of the applicable ids joined by newlines: the tablet computes the same before every sync."""
    return hashlib.sha256("\n".join(applicable_ids(checklist, profile)).encode("utf-8")).hexdigest()
