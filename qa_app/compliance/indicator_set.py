"""The indicators and province plans as the app uses them, once read: what an indicator counts and measures,
how a plan changes it, and the target of a year.

Pure module (no Flask, no database, no YAML): :mod:`.indicators` reads and checks the file and builds these.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..checklists.loader import Problem  # the same "file:line: message" as a checklist problem
from ..checklists.schema import DEFAULT_PROGRAMME, FACILITY_TYPES, NOT_COUNTED_TYPES, Text

OWNERSHIPS: tuple[str, ...] = ("public", "non_public")

ProvinceKey = tuple[str, str]


class IndicatorError(Exception):
    """The indicators file has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


COUNTED_TYPES: tuple[str, ...] = tuple(t for t in FACILITY_TYPES if t not in NOT_COUNTED_TYPES)


@dataclass(frozen=True)
class Filters:
    """Which active facilities an indicator counts (its denominator)."""

    facility_types: tuple[str, ...] = COUNTED_TYPES
    ownership: tuple[str, ...] = OWNERSHIPS
    # None: any; True/False: only facilities in (outside) a commune designated high-fertility on the day.
    high_fertility: bool | None = None
    # Whose inspections the indicator reads (checklist programmes, in PROGRAMMES order): routine supervision
    # unless the indicator says otherwise, so a campaign visit never stands in for a routine one by accident.
    programmes: tuple[str, ...] = (DEFAULT_PROGRAMME,)


@dataclass(frozen=True)
class Indicator:
    """One indicator as it applies nationally or, after overrides, in one province."""

    id: str
    title: Text
    definition: Text
    classifications: tuple[str, ...] = ()
    targets: tuple[tuple[int, float], ...] = ()
    requires_services: tuple[str, ...] = ()
    # Items that must all be answered "met" in the latest valid inspection (a readiness set); an item answered
    # not applicable, not observed or left unanswered is never met.
    items_met: tuple[str, ...] = ()
    # Items of which at least one was answered "not met" (a problem found: stock-out, expired stock).
    items_not_met: tuple[str, ...] = ()
    # True: the facility has had at least one approved external inspection up to the day, valid or not.
    ever_assessed: bool = False
    # "all": every counted facility is in the denominator (never assessed ones too); "assessed": only those
    # with a valid inspection with a result (for indicators of problems found, which an unvisited facility
    # can neither have nor not have).
    denominator: str = "all"
    filters: Filters = Filters()
    source: str = ""
    baseline_year: int | None = None
    # None with a baseline year: measured from the data as of 31 December of that year.
    baseline_value: float | None = None
    # None: each inspection's checklist decides (scoring.validity_months).
    validity_months: int | None = None
    province: ProvinceKey | None = None

    def target(self, year: int, measured_baseline: float | None = None) -> float | None:
        """The target for the end of ``year`` (see :func:`target_at`)."""
        return target_at(self, year, measured_baseline)


@dataclass(frozen=True)
class ProvincePlan:
    """A province plan: overrides of national indicators and indicators of its own."""

    system: str
    code: str
    name: str = ""
    plan: str = ""
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    indicators: tuple[Indicator, ...] = ()
    # Targets on reported population figures (population.POPULATION_INDICATORS): id -> ((year, value), ...).
    population_targets: Mapping[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class IndicatorSet:
    """The national indicators and the province plans."""

    indicators: tuple[Indicator, ...]
    provinces: Mapping[ProvinceKey, ProvincePlan] = field(default_factory=dict)
    source: str = ""

    def for_province(self, province: ProvinceKey | None) -> tuple[Indicator, ...]:
        """The indicators that apply in ``province`` (national ones if it has no plan, or for None)."""
        plan = self.provinces.get(province) if province else None
        if plan is None:
            return self.indicators
        result = []
        for indicator in self.indicators:
            changes = plan.overrides.get(indicator.id)
            if changes:
                merged = dict(changes)
                if "targets" in merged:
                    years = dict(indicator.targets)
                    years.update(dict(merged["targets"]))
                    merged["targets"] = tuple(sorted(years.items()))
                if "filters" in merged:
                    merged["filters"] = dataclasses.replace(indicator.filters, **merged["filters"])
                indicator = dataclasses.replace(indicator, **merged)
            result.append(dataclasses.replace(indicator, province=province))
        return (*result, *plan.indicators)

    def get(self, indicator_id: str, province: ProvinceKey | None = None) -> Indicator:
        """One indicator as it applies in ``province`` (KeyError if unknown there)."""
        for indicator in self.for_province(province):
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(indicator_id)

    def target_for(self, indicator_id: str, province: ProvinceKey | None, year: int,
                   measured_baseline: float | None = None) -> float | None:
        """The target of an indicator in a province (None: national) for the end of ``year``."""
        return target_at(self.get(indicator_id, province), year, measured_baseline)


def target_at(indicator: Indicator, year: int, measured_baseline: float | None = None) -> float | None:
    """Target for ``year``: a straight line between the baseline and the named years, flat after the last.

    None before the first point (no target was set yet). A baseline without a configured value uses
    ``measured_baseline``; without either, the line starts at the first named year.
    """
    points: list[tuple[int, float]] = []
    if indicator.baseline_year is not None:
        value = indicator.baseline_value if indicator.baseline_value is not None else measured_baseline
        if value is not None:
            points.append((indicator.baseline_year, float(value)))
    points.extend((y, float(v)) for y, v in indicator.targets
                  if not points or y > points[0][0])
    if not points or year < points[0][0]:
        return None
    for (y0, v0), (y1, v1) in zip(points, points[1:], strict=False):
        if y0 <= year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    return points[-1][1]
