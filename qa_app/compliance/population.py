"""Population indicators: figures reported by the population statistics, not measured by inspections.

Plans set targets on them (modern contraceptive prevalence, couples using no method, adolescent pregnancies),
so the dashboard shows them beside the facility indicators, imported from CSV and labelled as reported. Pure
module: the definitions, and what a target means for each (higher or lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..checklists.schema import Text

__all__ = ["POPULATION_INDICATORS", "PopulationIndicator", "reached"]


@dataclass(frozen=True)
class PopulationIndicator:
    """A reported population figure: a percentage or a count, and which way is better."""

    id: str
    title: Text
    kind: str  # "percent" (0–100) or "count" (a whole number of people)
    better: str  # "higher" or "lower"


POPULATION_INDICATORS: dict[str, PopulationIndicator] = {ind.id: ind for ind in (
    PopulationIndicator(
        "mcpr", Text(vi="Tỷ lệ sử dụng biện pháp tránh thai hiện đại (phụ nữ 15–49 tuổi có chồng)",
                     en="Modern contraceptive prevalence (married women aged 15–49)"),
        "percent", "higher"),
    PopulationIndicator(
        "couples_no_method", Text(vi="Tỷ lệ cặp vợ chồng trong độ tuổi sinh đẻ không sử dụng biện pháp tránh thai",
                                  en="Couples of reproductive age using no contraceptive method"),
        "percent", "lower"),
    PopulationIndicator(
        "adolescent_pregnancies", Text(vi="Số vị thành niên, thanh niên có thai ngoài ý muốn",
                                       en="Unintended pregnancies among adolescents and young people"),
        "count", "lower"),
)}


def reached(indicator: PopulationIndicator, value: float, target: float) -> bool:
    """Whether a reported value meets a target, in the indicator's direction."""
    return value >= target if indicator.better == "higher" else value <= target
