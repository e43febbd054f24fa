"""Checklist data model: frozen dataclasses built by the loader, read by scoring and the UI.

Pure module: imports neither Flask nor the database, so the loader, the scoring engine and their
tests run without an application.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

# The facility types and services (contraceptive methods) the product knows. Checklists may only
# name these; the registry and the scoring engine use the same codes.
FACILITY_TYPES: tuple[str, ...] = ("TYT", "TTYT", "BV", "PK", "NT", "CDC", "PKKV", "NHS", "YTCQ", "DLD")
# A mobile team (DLD, đội lưu động) delivers services but is not a facility: no indicator counts it.
NOT_COUNTED_TYPES: tuple[str, ...] = ("DLD",)
SERVICES: tuple[str, ...] = ("DCTC", "QC", "TT", "VU", "BCS", "TS")
VERIFICATION_METHODS: tuple[str, ...] = ("QS", "HS", "PV", "PV-KH", "KK")
ANSWER_TYPES: tuple[str, ...] = ("yes_no_na", "scale", "number", "text", "options")
# Answer types that earn points (the others are informational).
SCORED_ANSWER_TYPES: tuple[str, ...] = ("yes_no_na", "scale", "options")
STATUSES: tuple[str, ...] = ("draft", "published")
# Supervision programmes a checklist serves. Several programmes run on the same facilities (routine quality
# supervision, a campaign, the facility's own self-assessment, GPP inspection of pharmacies), so a facility type
# can have one current checklist per programme; "routine" is the programme chosen when none is named.
PROGRAMMES: tuple[str, ...] = ("routine", "campaign", "self_assessment", "gpp")
DEFAULT_PROGRAMME = "routine"

# Answer values for yes_no_na items, as stored and as sent by the form and the API.
MET, NOT_MET, NA = "met", "not_met", "na"
# "Không quan sát được": the item concerns something that could not be observed on the day (no client came for the
# procedure). Unlike N/A it does not mean "does not concern this facility": the result is "not assessable".
NOT_OBSERVED = "not_observed"

Classification = Literal["meets", "conditional", "does_not_meet", "not_assessable"]
CLASSIFICATIONS: tuple[str, ...] = ("meets", "conditional", "does_not_meet")
# A final result that is neither met nor failed: a required observation was missing, the facility needs a re-visit.
NOT_ASSESSABLE = "not_assessable"


@dataclass(frozen=True)
class Text:
    """A bilingual text; Vietnamese is required, English falls back to Vietnamese."""

    vi: str
    en: str = ""

    def get(self, locale: str) -> str:
        """Return the text in ``locale`` ('vi' or 'en'), falling back to Vietnamese."""
        if locale.startswith("en") and self.en:
            return self.en
        return self.vi


@dataclass(frozen=True)
class LegalBasis:
    """A text the checklist rests on, printed as "Căn cứ …" on the minutes when it applies.

    It applies to the facility types listed (all when empty) and while it is in force (``in_force_from`` to
    ``in_force_until``, both optional and inclusive): a commune station does not cite the pharmacy GPP
    circular, and a 2021 inspection does not cite a decision of 2022.
    """

    text: Text
    facility_types: tuple[str, ...] = ()
    in_force_from: dt.date | None = None
    in_force_until: dt.date | None = None

    @property
    def vi(self) -> str:
        return self.text.vi

    @property
    def en(self) -> str:
        return self.text.en

    def get(self, locale: str) -> str:
        """The text in ``locale`` (see Text.get)."""
        return self.text.get(locale)

    def applies(self, facility_type: str, on: dt.date) -> bool:
        """Whether the minutes of an inspection of ``facility_type`` dated ``on`` cite it."""
        if self.facility_types and facility_type not in self.facility_types:
            return False
        if self.in_force_from is not None and on < self.in_force_from:
            return False
        return self.in_force_until is None or on <= self.in_force_until


@dataclass(frozen=True)
class ScaleLevel:
    """One level of a graded scale item, e.g. 0 'Không đạt', 1 'Đạt một phần', 2 'Đạt'."""

    value: int
    label: Text
    # What the level means, shown as the button's help (e.g. "done, but not in the right order").
    descriptor: Text | None = None


@dataclass(frozen=True)
class Option:
    """One answer of an option-set item, with its score (None: the answer is left out of the score, like N/A)."""

    value: str
    label: Text
    score: float | None
    descriptor: Text | None = None


@dataclass(frozen=True)
class Item:
    """One checklist item (tiêu chí)."""

    id: str
    section_id: str
    text: Text
    guidance: Text
    verification: tuple[str, ...]
    answer_type: str
    weight: float
    # Facility types this item applies to (empty = every type the checklist covers).
    applies_to: tuple[str, ...] = ()
    # The item applies only if the facility offers at least one of these services (empty = always).
    applies_if_offers: tuple[str, ...] = ()
    # "never", "always", or "when_offers" (critical only if the facility offers a service below).
    critical: str = "never"
    critical_when_offers: tuple[str, ...] = ()
    allow_na: bool = True
    # May the supervisor answer "not observed"? Such an answer makes the item's group (or, without groups, the
    # inspection) not assessable.
    allow_not_observed: bool = False
    scale: tuple[ScaleLevel, ...] = ()
    # For scale items: the lowest value that counts as passing (default: the top of the scale).
    pass_min: int | None = None
    unit: Text | None = None
    line: int = 0
    # Scale items: values below this need a corrective action (default: below pass_min). A partial mark on a
    # non-critical step can then count as passing-with-a-finding or as no finding at all.
    finding_below: float | None = None
    # Number items: whole numbers only, and the allowed range (refused on the server and on the tablet).
    integer: bool = False
    min: float | None = None
    max: float | None = None
    # Text items: the longest answer allowed (default and ceiling: answers.MAX_TEXT_LENGTH).
    max_length: int | None = None
    # Recorded and printed but never scored, whatever the answer type (e.g. "was a client observed?").
    informational: bool = False
    # answer: options only: the answers, each with its score.
    options: tuple[Option, ...] = ()

    @property
    def scored(self) -> bool:
        """Whether the item earns points (number and text items, and informational ones, do not)."""
        return self.answer_type in SCORED_ANSWER_TYPES and not self.informational

    @property
    def scale_max(self) -> int:
        """Highest value of a scale item."""
        return max(level.value for level in self.scale) if self.scale else 1

    @property
    def options_max(self) -> float:
        """Highest score of an option-set item (what a full answer earns)."""
        return max((o.score for o in self.options if o.score is not None), default=1.0)

    @property
    def scale_min(self) -> int:
        """Lowest value of a scale item."""
        return min(level.value for level in self.scale) if self.scale else 0


@dataclass(frozen=True)
class Section:
    """A section (A–L) of items."""

    id: str
    title: Text
    weight: float
    items: tuple[Item, ...]
    applies_to: tuple[str, ...] = ()
    line: int = 0
    # The section applies only if the facility offers one of these services (empty = always).
    applies_if_offers: tuple[str, ...] = ()
    # Shown above the section's items on the form and printed in the minutes' annex.
    instructions: Text | None = None
    # Every item of the section is recorded but not scored.
    informational: bool = False
    # The score group the section belongs to ("" without groups) and that group's applies_to.
    group_id: str = ""
    group_applies_to: tuple[str, ...] = ()


# How a score group turns its sections into one percentage.
GROUP_AGGREGATIONS: tuple[str, ...] = ("pooled", "weighted_sections", "mean_of_sections")
# How the groups' results make the overall classification.
GROUP_RULES: tuple[str, ...] = ("all_groups_meet", "weighted_groups")


@dataclass(frozen=True)
class ScoreGroup:
    """A part of the checklist (a set of sections) with its own aggregation, thresholds and applicability.

    Real standards combine parts with AND: e.g. a readiness part must reach one threshold and a clinical-audit
    part another, which one threshold over the blended total cannot express.
    """

    id: str
    title: Text
    sections: tuple[str, ...]
    # "pooled": earned / possible over the group's sections; "weighted_sections": weighted mean of the section
    # percentages; "mean_of_sections": plain mean of the section percentages. Sections with nothing scorable drop
    # out of both means.
    aggregation: str = "pooled"
    meets_min: float = 90.0
    conditional_min: float = 80.0
    section_min: float = 0.0
    # Under the weighted_groups rule: the group must reach this percentage whatever the overall.
    floor: float = 0.0
    # Under the weighted_groups rule: the group's weight in the overall percentage.
    weight: float = 1.0
    applies_to: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class ScoringRules:
    """Thresholds and gates read from the checklist file (percentages, 0–100)."""

    meets_min: float = 90.0
    conditional_min: float = 80.0
    section_min: float = 50.0
    # "pooled": earned / applicable over the whole checklist;
    # "weighted_sections": weighted mean of section percentages (sections with applicable items).
    overall: str = "pooled"
    validity_months: int = 24
    corrective_days: int = 30
    # With score groups only: "all_groups_meet" (the worst group's class, AND of the groups) or "weighted_groups"
    # (the weighted mean of the group percentages against meets_min/conditional_min, every group at its floor).
    groups_rule: str = "all_groups_meet"


@dataclass(frozen=True)
class Checklist:
    """One version of one checklist, as loaded from a YAML file."""

    code: str
    version: int
    status: str
    title: Text
    effective_from: dt.date
    legal_basis: tuple[LegalBasis, ...]
    facility_types: tuple[str, ...]
    scoring: ScoringRules
    sections: tuple[Section, ...]
    sha256: str
    source: str = ""
    description: Text | None = None
    programme: str = DEFAULT_PROGRAMME
    groups: tuple[ScoreGroup, ...] = ()

    def legal_basis_for(self, facility_type: str, on: dt.date) -> tuple[LegalBasis, ...]:
        """The legal bases cited for an inspection of ``facility_type`` dated ``on``, in file order."""
        return tuple(b for b in self.legal_basis if b.applies(facility_type, on))

    # Canonical JSON-able content, stored with the version in the database.
    content: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item, in order."""
        return tuple(item for section in self.sections for item in section.items)

    def item(self, item_id: str) -> Item:
        """Return the item with ``item_id`` (KeyError if unknown)."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def section(self, section_id: str) -> Section:
        """Return the section with ``section_id`` (KeyError if unknown)."""
        for sec in self.sections:
            if sec.id == section_id:
                return sec
        raise KeyError(section_id)


@dataclass(frozen=True)
class FacilityProfile:
    """What scoring and applicability need to know about a facility."""

    type: str
    services: frozenset[str] = frozenset()
    ownership: str = "public"


def item_applies(item: Item, section: Section, facility: FacilityProfile) -> tuple[bool, str]:
    """Whether ``item`` applies to ``facility``, with the rule that decided it (shown to the user).

    The reason is a machine code: "" when it applies, "type" when the facility type is out of
    scope, "service" when the facility offers none of the services the item concerns.
    """
    types = item.applies_to or section.applies_to
    if types and facility.type not in types:
        return False, "type"
    if section.group_applies_to and facility.type not in section.group_applies_to:
        return False, "type"
    if section.applies_if_offers and not (set(section.applies_if_offers) & facility.services):
        return False, "service"
    if item.applies_if_offers and not (set(item.applies_if_offers) & facility.services):
        return False, "service"
    return True, ""


def item_is_critical(item: Item, facility: FacilityProfile) -> bool:
    """Whether failing ``item`` fails this facility outright."""
    if item.critical == "always":
        return True
    if item.critical == "when_offers":
        return bool(set(item.critical_when_offers) & facility.services)
    return False
