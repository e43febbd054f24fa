"""What the dashboard, the exports and the API show, built once so that all three agree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..core.rounding import round_half_up
from .chart import project
from .indicators import Indicator, IndicatorSet, ProvinceKey
from .overview import area_overview
from .queries import GROUPS, Area, Counts, GroupRow, province_of

TARGET_YEARS = (2025, 2030)
MAX_TRAJECTORY_YEARS = 10


@dataclass
class IndicatorSummary:
    """One indicator in one area on one day, with its targets."""

    indicator: Indicator
    counts: Counts
    baseline: float | None
    target_now: float | None
    target_2025: float | None
    target_2030: float | None
    # (year, value) measured at the end of each year (the last one on the as-of day).
    trajectory: list[tuple[int, float | None]] = field(default_factory=list)
    projection: list[tuple[int, float]] = field(default_factory=list)
    # The targets from the chart's first year to 2030: known without measuring the past years.
    target_line: list[tuple[int, float]] = field(default_factory=list)
    first_year: int = 0
    # Years whose target lies on the line from a baseline still to be measured (shown pending, "…").
    targets_pending: frozenset[int] = frozenset()

    @property
    def on_track(self) -> bool | None:
        """Whether the value reaches this year's target (None without a target or data)."""
        if self.target_now is None or self.counts.value is None:
            return None
        return self.counts.value >= self.target_now - 1e-9


def province_key(area: Area) -> ProvinceKey | None:
    """The (system, code) of the province whose plan applies to the area (None: national targets)."""
    unit = area.unit if area.unit is not None else area.user.scope_unit
    province = province_of(unit)
    return (province.system, province.code) if province is not None else None


def applicable(config: IndicatorSet, area: Area) -> tuple[Indicator, ...]:
    """The indicators, with the province plan's overrides when the area lies in one province."""
    return config.for_province(province_key(area))


def _year_end(year: int, day: dt.date) -> dt.date:
    return min(dt.date(year, 12, 31), day)


def _measured_baseline_year(ind: Indicator) -> int | None:
    """The year whose end gives the baseline, when the file names a year but no value (else None)."""
    return ind.baseline_year if ind.baseline_value is None else None


def _measured_baselines(indicators: tuple[Indicator, ...]) -> set[int]:
    return {year for ind in indicators if (year := _measured_baseline_year(ind)) is not None}


def _on_baseline_line(ind: Indicator, year: int) -> bool:
    """Whether the target for ``year`` depends on the indicator's measured baseline."""
    return ind.target(year, 0.0) != ind.target(year, 100.0)


def _needs_measured_baseline(ind: Indicator, year: int) -> bool:
    return _measured_baseline_year(ind) is not None and any(_on_baseline_line(ind, y) for y in (year, *TARGET_YEARS))


def trajectory_start(day: dt.date, indicators: tuple[Indicator, ...]) -> int:
    """The first year of the trajectory: five years back, or the earliest measured baseline, within ten years."""
    return max(min([day.year - 4, *_measured_baselines(indicators)]), day.year - MAX_TRAJECTORY_YEARS + 1)


def summarise(area: Area, indicators: tuple[Indicator, ...], trajectory: bool = True) -> list[IndicatorSummary]:
    """Each indicator's value on the day against its targets; with the yearly trajectory if asked."""
    return summarise_with_groups(area, indicators, trajectory)[0]


def summarise_with_groups(area: Area, indicators: tuple[Indicator, ...], trajectory: bool = True,
                          groups: tuple[str, ...] = ()) -> tuple[list[IndicatorSummary], dict[str, list[GroupRow]]]:
    """summarise(), plus indicator_counts() for each of ``groups`` on the day, from a single SQL statement."""
    baseline_years = _measured_baselines(indicators)
    if not trajectory:
        # A measured baseline costs a whole day's figures; without the trajectory it is measured only when
        # a target shown (this year's, 2025, 2030) lies on the line from it.
        baseline_years = {ind.baseline_year for ind in indicators if _needs_measured_baseline(ind, area.day.year)}
    first = trajectory_start(area.day, indicators)
    years = list(range(first, area.day.year + 1)) if trajectory else []
    wanted = sorted({y for y in (*years, *baseline_years) if y <= area.day.year})
    overview = area_overview(area, indicators, groups=("all", *[g for g in groups if g != "all"]),
                             days=tuple(_year_end(year, area.day) for year in wanted if year != area.day.year))
    now = overview.groups["all"][0].counts
    per_year: dict[int, dict[str, Counts]] = {
        year: now if year == area.day.year else overview.days[_year_end(year, area.day)] for year in wanted}
    result = []
    for ind in indicators:
        measured_year = _measured_baseline_year(ind)
        measured = per_year[measured_year][ind.id].value if measured_year in per_year else None
        baseline = ind.baseline_value if ind.baseline_value is not None else measured
        summary = IndicatorSummary(
            indicator=ind, counts=now[ind.id], baseline=baseline,
            target_now=ind.target(area.day.year, measured),
            target_2025=ind.target(2025, measured), target_2030=ind.target(2030, measured),
            target_line=[(year, t) for year in range(first, 2031) if (t := ind.target(year, measured)) is not None],
            first_year=first)
        if measured_year is not None and measured_year <= area.day.year and measured_year not in per_year:
            summary.targets_pending = frozenset(y for y in range(first, 2031) if _on_baseline_line(ind, y))
        # Without the past years the trajectory is this year's value alone (the chart's last point).
        summary.trajectory = ([(year, per_year[year][ind.id].value) for year in years] if trajectory
                              else [(area.day.year, now[ind.id].value)])
        if trajectory:
            summary.projection = project([(y, v) for y, v in summary.trajectory if v is not None])
        result.append(summary)
    return result, overview.groups


def has_area_breakdown(area: Area) -> bool:
    """Whether the area is a 2025 province with service areas in force on its day (then grouped by area too)."""
    from ..areas.services import areas_of_province

    unit = area.unit
    return (area.service_area is None and unit is not None and unit.system == "2025" and unit.level == "province"
            and bool(areas_of_province(unit.id, area.day)))


def indicator_rows(area: Area, indicators: tuple[Indicator, ...], locale: str,
                   labels: dict[str, dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """Rows for exports and the API: the area as a whole, then by child unit, ownership and facility type."""
    labels = labels or {}
    wanted = GROUPS + (("area",) if has_area_breakdown(area) else ())
    listed, by_group = summarise_with_groups(area, indicators, trajectory=False, groups=wanted)
    summaries = {s.indicator.id: s for s in listed}
    groups: list[tuple[str, GroupRow]] = [(group, row) for group in wanted for row in by_group[group]]
    rows = []
    for group, row in groups:
        for ind in indicators:
            counts = row.counts[ind.id]
            if group != "all" and counts.total == 0:
                continue
            summary = summaries[ind.id]
            key = row.key
            label = labels.get(group, {}).get(str(key), row.label) if key is not None else (
                labels.get("none", {}).get(group, ""))
            rows.append({
                "date": area.day.isoformat(),
                "indicator": ind.id,
                "title": ind.title.get(locale),
                "group": group,
                "key": key,
                "label": label,
                "numerator": counts.meeting,
                "denominator": counts.total,
                "assessed": counts.assessed,
                "value": _round(counts.value),
                "coverage": _round(counts.coverage),
                "target_this_year": _round(summary.target_now),
                "target_2025": _round(summary.target_2025),
                "target_2030": _round(summary.target_2030),
            })
    return rows


def _round(value: float | None) -> float | None:
    """As the pages show it (core.rounding): the numerator and denominator beside it are exact."""
    return round_half_up(value) if value is not None else None
