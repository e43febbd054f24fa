"""How far an indicator is from its targets, in facilities (pure: numbers in, numbers out)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

TARGET_YEARS = (2025, 2030)


def facilities_needed(target: float | None, meeting: int, total: int) -> int | None:
    """How many more facilities must meet the rule for ``meeting / total`` to reach ``target`` percent.

    ceil(target × total / 100) − meeting, never below 0; None without a target or a denominator. Computed
    exactly, so 75 % of 82 facilities is 61.5, i.e. 62. The target is read back as the simplest fraction
    within 1e-6 of it: an interpolated target carries float noise (78.00000000000001, 81.66666666666667 for
    245/3) that would otherwise push a whole product (78 % of 50 = 39) up to the next facility.
    """
    if target is None or total <= 0:
        return None
    share = Fraction(float(target)).limit_denominator(1_000_000) * total / 100
    return max(0, math.ceil(share) - meeting)


@dataclass(frozen=True)
class TargetMark:
    """One target of an indicator card: the year, the percentage and the facilities still needed."""

    year: int
    value: float
    needed: int | None
    current: bool  # the target of the as-of year


def target_marks(targets: dict[int, float | None], this_year: int, meeting: int, total: int) -> list[TargetMark]:
    """This year's target and the 2025/2030 ones, once each, in year order (a 2025 date shows 2025 once)."""
    marks = []
    for year in sorted({this_year, *TARGET_YEARS}):
        value = targets.get(year)
        if value is None:
            continue
        marks.append(TargetMark(year=year, value=value, needed=facilities_needed(value, meeting, total),
                                current=year == this_year))
    return marks
