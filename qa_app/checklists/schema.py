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
FACILITY_TYPES: tuple[str, ...] = ("TYT", "TTYT", "BV", "PK", "NT")
SERVICES: tuple[str, ...] = ("DCTC", "QC", "TT", "VU", "BCS", "TS")
VERIFICATION_METHODS: tuple[str, ...] = ("QS", "HS", "PV", "PV-KH", "KK")
ANSWER_TYPES: tuple[str, ...] = ("yes_no_na", "scale", "number", "text")
STATUSES: tuple[str, ...] = ("draft", "published")

# Answer values for yes_no_na items, as stored and as sent by the form and the API.
MET, NOT_MET, NA = "met", "not_met", "na"

Classification = Literal["meets", "conditional", "does_not_meet"]
CLASSIFICATIONS: tuple[str, ...] = ("meets", "conditional", "does_not_meet")


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
    scale: tuple[ScaleLevel, ...] = ()
    # For scale items: the lowest value that counts as passing (default: the top of the scale).
    pass_min: int | None = None
    unit: Text | None = None
    line: int = 0

    @property
    def scored(self) -> bool:
        """Whether the item earns points (number and text items are informational)."""
        return self.answer_type in ("yes_no_na", "scale")

    @property
    def scale_max(self) -> int:
        """Highest value of a scale item."""
        return max(level.value for level in self.scale) if self.scale else 1

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
