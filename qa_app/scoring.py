"""Scoring engine: (checklist, facility, answers) -> Score.

Pure module: no Flask, no database, no mutation. The rules are documented in checklists/README.md;
the thresholds come from the checklist version (``checklist.scoring``), never from code.

All arithmetic is done in :class:`fractions.Fraction` so that a facility at exactly 90% is at
exactly 90% (floats would put 0.3 + 0.6 of 1.0 just below it). Weights and thresholds are
converted through their shortest decimal representation, i.e. the number the checklist author
wrote in the YAML file, not the nearest binary double.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType

from qa_app.checklists.answers import (
    Value,
    answer_type,
    is_blank,
    is_na,
    is_not_observed,
    item_failed,
    item_value_fraction,
    normalize_answer,
)
from qa_app.checklists.schema import (
    NOT_ASSESSABLE,
    Checklist,
    Classification,
    FacilityProfile,
    Item,
    ScoreGroup,
    ScoringRules,
    item_applies,
    item_is_critical,
)

HUNDRED = Fraction(100)
OVERALL_METHODS: tuple[str, ...] = ("pooled", "weighted_sections")
# Score.reason values; "" when the classification is final.
REASON_INCOMPLETE = "incomplete"
REASON_NOTHING_SCORABLE = "nothing_scorable"
# Better classifications have higher ranks (used by callers comparing two scores).
CLASSIFICATION_RANK: Mapping[str, int] = MappingProxyType(
    {"does_not_meet": 0, "conditional": 1, "meets": 2}
)
# "not_assessable" has no rank: it is neither met nor failed (a required observation is missing).


class ScoringError(ValueError):
    """The answers or the checklist cannot be scored (e.g. answers for unknown items)."""


@dataclass(frozen=True)
class ItemResult:
    """How one item was scored for this facility."""

    item_id: str
    section_id: str
    applicable: bool
    # "" when the item counts; "type"/"service" when it does not apply; "na" when answered N/A;
    # "not_observed" when answered "not observed".
    excluded_reason: str
    answered: bool
    value: Value | None
    earned: Fraction
    possible: Fraction
    failed: bool
    # Critical for this facility (an applicable item that fails the facility outright).
    critical: bool


@dataclass(frozen=True)
class SectionScore:
    """Totals of one section; percent is None when nothing in it is scorable."""

    section_id: str
    earned: Fraction
    possible: Fraction
    percent: float | None
    applicable: int
    answered: int
    failed_items: tuple[str, ...]
    critical_failures: tuple[str, ...]
    percent_exact: Fraction | None = None
    # Items answered "not observed".
    not_observed: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupScore:
    """The result of one score group; percent is None when nothing in it is scorable or it does not apply."""

    group_id: str
    applicable: bool
    percent: float | None
    percent_exact: Fraction | None
    # The group's own class by its thresholds (None when nothing is scorable or it does not apply).
    classification: Classification | None
    critical_failures: tuple[str, ...]
    # Items of the group answered "not observed" (then the group is not assessable unless it already fails).
    not_observed: tuple[str, ...] = ()
    # Under the weighted_groups rule: whether the group reaches its floor, and every one of its sections the
    # group's section_min (True when it has no percentage).
    at_floor: bool = True
    sections_at_floor: bool = True


@dataclass(frozen=True)
class Score:
    """The result of scoring one inspection (a running score while it is incomplete)."""

    items: Mapping[str, ItemResult]
    sections: tuple[SectionScore, ...]
    overall_percent: float | None
    overall_exact: Fraction | None
    # Final classification: None while incomplete or when nothing is scorable.
    classification: Classification | None
    # Classification of what has been answered so far (None only when nothing is scorable).
    provisional_classification: Classification | None
    critical_failures: tuple[str, ...]
    failed_items: tuple[str, ...]
    unanswered: tuple[str, ...]
    applicable_count: int
    answered_count: int
    complete: bool
    # "" when classified, else REASON_INCOMPLETE or REASON_NOTHING_SCORABLE.
    reason: str
    # Ids of items that do not apply to this facility but were given an answer.
    ignored: tuple[str, ...]
    # Pooled totals over the whole checklist (also under weighted_sections).
    earned: Fraction = Fraction(0)
    possible: Fraction = Fraction(0)
    # One result per score group, in file order (empty for a checklist without groups).
    groups: tuple[GroupScore, ...] = ()
    # Items answered "not observed"; with any, the result is at best "not_assessable" (re-visit needed).
    not_observed: tuple[str, ...] = ()

    @property
    def revisit_needed(self) -> bool:
        """Whether the result is "not assessable": the facility must be visited again to observe what was missing."""
        return self.classification == NOT_ASSESSABLE

def exact(number: float | int | str, what: str = "number") -> Fraction:
    """Convert a YAML number to the exact decimal it was written as (ScoringError if not finite)."""
    if isinstance(number, float) and not math.isfinite(number):
        raise ScoringError(f"{what} is not a finite number: {number!r}")
    # repr() of a float is its shortest round-tripping decimal, i.e. what the author wrote.
    return Fraction(repr(number)) if isinstance(number, float) else Fraction(number)


def display_percent(value: Fraction) -> float:
    """Round a percentage down to 2 decimals for display."""
    # Down, not to nearest: 89.996% must not read "90.00" next to a "conditional" verdict. With
    # thresholds of at most 2 decimals, shown >= threshold exactly when the true value is.
    return float(Fraction(math.floor(value * 100), 100))


def applicable_items(
    checklist: Checklist, facility: FacilityProfile
) -> list[tuple[Item, bool, str]]:
    """Every item with whether it applies to ``facility`` and the reason ("", "type", "service")."""
    return [
        (item, *item_applies(item, section, facility))
        for section in checklist.sections
        for item in section.items
    ]


def classify(
    overall: Fraction,
    section_percents: Iterable[Fraction],
    has_critical_failure: bool,
    rules: ScoringRules,
) -> Classification:
    """Apply the three gates (overall threshold, no critical failure, section floor)."""
    section_floor = exact(rules.section_min, "section_min")
    gates_passed = not has_critical_failure and all(
        percent >= section_floor for percent in section_percents
    )
    if gates_passed and overall >= exact(rules.meets_min, "meets_min"):
        return "meets"
    if gates_passed and overall >= exact(rules.conditional_min, "conditional_min"):
        return "conditional"
    return "does_not_meet"


def _index_items(checklist: Checklist, answers: Mapping[str, object]) -> dict[str, Item]:
    """Check the checklist invariants scoring relies on and that every answer has an item."""
    name = f"checklist {checklist.code} v{checklist.version}"
    items: dict[str, Item] = {}
    for item in checklist.items:
        if item.id in items:
            raise ScoringError(f"{name}: duplicate item id {item.id}")
        # A zero weight would let a critical failure hide behind "nothing scorable".
        if item.scored and exact(item.weight, f"weight of item {item.id}") <= 0:
            raise ScoringError(f"{name}: weight of item {item.id} must be > 0")
        answer_type(item)  # an unknown answer type fails here, before any answer is read
        items[item.id] = item
    if checklist.scoring.overall not in OVERALL_METHODS:
        raise ScoringError(f"{name}: unknown overall method {checklist.scoring.overall!r}")
    if checklist.scoring.overall == "weighted_sections":
        for sec in checklist.sections:
            if exact(sec.weight, f"weight of section {sec.id}") <= 0:
                raise ScoringError(f"{name}: weight of section {sec.id} must be > 0")
    unknown = sorted(str(key) for key in answers if key not in items)
    if unknown:
        raise ScoringError(f"{name}: answers for unknown items: " + ", ".join(unknown))
    return items


def score_inspection(
    checklist: Checklist, facility: FacilityProfile, answers: Mapping[str, object]
) -> Score:
    """Score ``answers`` (item id -> raw or normalised answer) for ``facility``."""
    _index_items(checklist, answers)
    results: dict[str, ItemResult] = {}
    sections: list[SectionScore] = []
    ignored: list[str] = []
    unanswered: list[str] = []
    for section in checklist.sections:
        s_earned = s_possible = Fraction(0)
        s_applicable = s_answered = 0
        s_failed: list[str] = []
        s_critical: list[str] = []
        s_unobserved: list[str] = []
        for item in section.items:
            applies, reason = item_applies(item, section, facility)
            raw = answers.get(item.id)
            if not applies:
                # Kept, not rejected: the facility's services may have changed since answering.
                if not is_blank(raw):
                    ignored.append(item.id)
                results[item.id] = ItemResult(
                    item_id=item.id,
                    section_id=section.id,
                    applicable=False,
                    excluded_reason=reason,
                    answered=False,
                    value=None,
                    earned=Fraction(0),
                    possible=Fraction(0),
                    failed=False,
                    critical=False,
                )
                continue
            value = normalize_answer(item, raw)
            fraction = item_value_fraction(item, value)
            possible = exact(item.weight) if item.scored and fraction is not None else Fraction(0)
            earned = fraction * possible if fraction is not None else Fraction(0)
            # An informational item records what was found but is never a finding.
            failed = item.scored and item_failed(item, value)
            critical = item_is_critical(item, facility)
            s_applicable += 1
            if value is None:
                unanswered.append(item.id)
            else:
                s_answered += 1
            if failed:
                s_failed.append(item.id)
                if critical:
                    s_critical.append(item.id)
            unobserved = is_not_observed(item, value)
            if unobserved:
                s_unobserved.append(item.id)
            s_earned += earned
            s_possible += possible
            results[item.id] = ItemResult(
                item_id=item.id,
                section_id=section.id,
                applicable=True,
                excluded_reason="na" if is_na(item, value) else "not_observed" if unobserved else "",
                answered=value is not None,
                value=value,
                earned=earned,
                possible=possible,
                failed=failed,
                critical=critical,
            )
        s_exact = s_earned / s_possible * HUNDRED if s_possible else None
        sections.append(
            SectionScore(
                section_id=section.id,
                earned=s_earned,
                possible=s_possible,
                percent=display_percent(s_exact) if s_exact is not None else None,
                applicable=s_applicable,
                answered=s_answered,
                failed_items=tuple(s_failed),
                critical_failures=tuple(s_critical),
                percent_exact=s_exact,
                not_observed=tuple(s_unobserved),
            )
        )

    earned = sum((s.earned for s in sections), Fraction(0))
    possible = sum((s.possible for s in sections), Fraction(0))
    critical_failures = tuple(i for s in sections for i in s.critical_failures)
    not_observed = tuple(i for s in sections for i in s.not_observed)
    groups: tuple[GroupScore, ...] = ()
    if checklist.groups:
        groups = tuple(score_group(g, checklist, sections, facility) for g in checklist.groups)
        overall, provisional = combine_groups(groups, checklist, bool(critical_failures))
    else:
        # Exactly the rules of a checklist without groups, unchanged (plus "not observed" below).
        overall = _overall(checklist, sections, earned, possible) if possible else None
        section_percents = [s.percent_exact for s in sections if s.percent_exact is not None]
        provisional = (
            classify(overall, section_percents, bool(critical_failures), checklist.scoring)
            if overall is not None
            else None
        )
        provisional = _unobserved_outcome(provisional, bool(not_observed))
    complete = not unanswered
    if not complete:
        reason = REASON_INCOMPLETE
    elif provisional is None:
        reason = REASON_NOTHING_SCORABLE
    else:
        reason = ""
    applicable_count = sum(s.applicable for s in sections)
    answered_count = sum(s.answered for s in sections)
    return Score(
        items=MappingProxyType(results),
        sections=tuple(sections),
        overall_percent=display_percent(overall) if overall is not None else None,
        overall_exact=overall,
        classification=provisional if not reason else None,
        provisional_classification=provisional,
        critical_failures=critical_failures,
        failed_items=tuple(i for s in sections for i in s.failed_items),
        unanswered=tuple(unanswered),
        applicable_count=applicable_count,
        answered_count=answered_count,
        complete=complete,
        reason=reason,
        ignored=tuple(ignored),
        earned=earned,
        possible=possible,
        groups=groups,
        not_observed=not_observed,
    )


def _unobserved_outcome(cls: Classification | None, any_not_observed: bool) -> Classification | None:
    """With a "not observed" answer the result is not assessable, unless what was observed already fails."""
    if not any_not_observed or cls == "does_not_meet":
        return cls
    return NOT_ASSESSABLE


def _worst(classes: Iterable[Classification | None]) -> Classification:
    return min(classes, key=lambda c: CLASSIFICATION_RANK[c])


def group_percent(
    group: ScoreGroup, checklist: Checklist, sections: Iterable[SectionScore]
) -> Fraction | None:
    """The group's percentage by its aggregation over its sections (None when nothing is scorable)."""
    members = [s for s in sections if s.section_id in group.sections]
    scored = [s for s in members if s.percent_exact is not None]
    if not scored:
        return None
    if group.aggregation == "pooled":
        earned = sum((s.earned for s in scored), Fraction(0))
        possible = sum((s.possible for s in scored), Fraction(0))
        return earned / possible * HUNDRED
    if group.aggregation == "mean_of_sections":
        # Empty sections (nothing applicable or all N/A) have no percentage and drop out of the mean.
        return sum((s.percent_exact for s in scored), Fraction(0)) / len(scored)  # type: ignore[misc]
    if group.aggregation == "weighted_sections":
        weights = {sec.id: exact(sec.weight, f"weight of section {sec.id}") for sec in checklist.sections}
        total = sum((weights[s.section_id] for s in scored), Fraction(0))
        return sum((weights[s.section_id] * s.percent_exact for s in scored), Fraction(0)) / total  # type: ignore[operator]
    raise ScoringError(f"group {group.id}: unknown aggregation {group.aggregation!r}")


def score_group(
    group: ScoreGroup, checklist: Checklist, sections: Iterable[SectionScore], facility: FacilityProfile
) -> GroupScore:
    """One group's percentage and class, by its own thresholds and section floor."""
    if group.applies_to and facility.type not in group.applies_to:
        return GroupScore(group.id, False, None, None, None, ())
    members = [s for s in sections if s.section_id in group.sections]
    percent = group_percent(group, checklist, members)
    critical = tuple(i for s in members for i in s.critical_failures)
    unobserved = tuple(i for s in members for i in s.not_observed)
    if percent is None:
        return GroupScore(group.id, True, None, None, _unobserved_outcome(None, bool(unobserved)), critical,
                          unobserved)
    floor = exact(group.section_min, f"section_min of group {group.id}")
    sections_ok = all(s.percent_exact >= floor for s in members if s.percent_exact is not None)
    gates = not critical and sections_ok
    if gates and percent >= exact(group.meets_min, f"meets_min of group {group.id}"):
        cls: Classification = "meets"
    elif gates and percent >= exact(group.conditional_min, f"conditional_min of group {group.id}"):
        cls = "conditional"
    else:
        cls = "does_not_meet"
    at_floor = percent >= exact(group.floor, f"floor of group {group.id}")
    return GroupScore(group.id, True, display_percent(percent), percent, _unobserved_outcome(cls, bool(unobserved)),
                      critical, unobserved, at_floor, sections_ok)


def combine_groups(
    groups: tuple[GroupScore, ...], checklist: Checklist, has_critical_failure: bool
) -> tuple[Fraction | None, Classification | None]:
    """(overall percentage, class) from the groups' results under the checklist's groups_rule."""
    scored = [g for g in groups if g.percent_exact is not None]
    unassessable = any(g.classification == NOT_ASSESSABLE for g in groups)
    if not scored:
        return None, NOT_ASSESSABLE if unassessable else None
    weights = {g.id: exact(g.weight, f"weight of group {g.id}") for g in checklist.groups}
    total = sum((weights[g.group_id] for g in scored), Fraction(0))
    overall = sum((weights[g.group_id] * g.percent_exact for g in scored), Fraction(0)) / total  # type: ignore[operator]
    rule = checklist.scoring.groups_rule
    if rule == "all_groups_meet":
        # AND of the groups: the result is the worst group's class; a group that is not assessable makes the whole
        # not assessable unless another group already fails.
        classes = [g.classification for g in groups if g.classification is not None]
        if "does_not_meet" in classes:
            return overall, "does_not_meet"
        if unassessable:
            return overall, NOT_ASSESSABLE
        return overall, _worst(classes)
    if rule == "weighted_groups":
        rules = checklist.scoring
        if has_critical_failure or not all(g.at_floor and g.sections_at_floor for g in scored):
            return overall, "does_not_meet"
        if overall < exact(rules.conditional_min, "conditional_min"):
            return overall, "does_not_meet"
        if unassessable:
            return overall, NOT_ASSESSABLE
        if overall >= exact(rules.meets_min, "meets_min"):
            return overall, "meets"
        if overall >= exact(rules.conditional_min, "conditional_min"):
            return overall, "conditional"
        return overall, "does_not_meet"
    raise ScoringError(f"unknown groups_rule {rule!r}")


def _overall(
    checklist: Checklist, sections: list[SectionScore], earned: Fraction, possible: Fraction
) -> Fraction:
    """Overall percentage under the checklist's method; only called when possible > 0."""
    method = checklist.scoring.overall
    if method == "pooled":
        return earned / possible * HUNDRED
    if method == "weighted_sections":
        weights = {sec.id: exact(sec.weight) for sec in checklist.sections}
        # Sections with nothing scorable drop out and the other weights are renormalised, just as
        # N/A items drop out of a pooled score.
        scored = [
            (weights[s.section_id], s.percent_exact)
            for s in sections
            if s.percent_exact is not None
        ]
        total_weight = sum((w for w, _ in scored), Fraction(0))
        return sum((w * p for w, p in scored), Fraction(0)) / total_weight
    raise AssertionError(method)  # _index_items has refused other methods
