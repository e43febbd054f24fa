"""Trajectory chart geometry and the projection to 2030 (pure: numbers in, coordinates out).

The template draws the SVG from these coordinates, so no markup is built in Python and nothing needs |safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 36


def least_squares(points: Sequence[tuple[int, float]]) -> tuple[float, float] | None:
    """Slope and intercept of the least-squares line through (year, value) points (None with fewer than 2)."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return slope, mean_y - slope * mean_x


def project(points: Sequence[tuple[int, float]], to_year: int = 2030, last: int = 3) -> list[tuple[int, float]]:
    """Extend the trend of the last ``last`` yearly values to ``to_year``, clamped to 0–100.

    Starts at the last measured year so the dashed line joins the measured one.
    """
    recent = [p for p in points if p[1] is not None][-last:]
    fit = least_squares(recent)
    if fit is None:
        return []
    slope, intercept = fit
    start = recent[-1][0]
    return [(year, min(100.0, max(0.0, slope * year + intercept)) if year > start else recent[-1][1])
            for year in range(start, to_year + 1)]


@dataclass
class Chart:
    """Coordinates of one trajectory chart."""

    width: int = WIDTH
    height: int = HEIGHT
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_ticks: list[tuple[float, int]] = field(default_factory=list)
    actual: str = ""
    target: str = ""
    projection: str = ""
    dots: list[tuple[float, float, int, float]] = field(default_factory=list)
    # (x, y, year, value) of each named target, labelled on the target line ("2030: 90%").
    target_labels: list[tuple[float, float, int, float]] = field(default_factory=list)
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM


def build_chart(actual: Sequence[tuple[int, float | None]], target: Sequence[tuple[int, float]],
                projection: Sequence[tuple[int, float]], first_year: int, last_year: int = 2030,
                marks: Sequence[tuple[int, float]] = ()) -> Chart:
    """Lay out measured values, the target line and the projection on a year × percent grid."""
    chart = Chart()
    span = max(1, last_year - first_year)

    def x(year: int) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (year - first_year) / span, 1)

    def y(value: float) -> float:
        return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / 100), 1)

    chart.y_ticks = [(y(v), v) for v in range(0, 101, 25)]
    step = 1 if span <= 10 else 2
    chart.x_ticks = [(x(year), year) for year in range(first_year, last_year + 1, step)]
    measured = [(yr, v) for yr, v in actual if v is not None]
    chart.actual = " ".join(f"{x(yr)},{y(v)}" for yr, v in measured)
    chart.dots = [(x(yr), y(v), yr, v) for yr, v in measured]
    chart.target = " ".join(f"{x(yr)},{y(v)}" for yr, v in target if first_year <= yr <= last_year)
    chart.projection = " ".join(f"{x(yr)},{y(v)}" for yr, v in projection)
    chart.target_labels = [(x(yr), y(v), yr, v) for yr, v in marks if first_year <= yr <= last_year]
    return chart
