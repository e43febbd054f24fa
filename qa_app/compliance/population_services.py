"""Importing population figures (all or nothing, audited) and reading them for the dashboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ..audit.services import head as audit_head
from ..audit.services import record
from ..extensions import db
from ..regions.importers import N_, RowError
from ..regions.models import AdminUnit
from .indicators import ProvincePlan
from .plan_models import PopulationFigure
from .population import POPULATION_INDICATORS, PopulationIndicator, reached
from .population_import import PopulationFile


@dataclass
class PopulationImportReport:
    """What an import did, or every problem that stopped it."""

    created: int = 0
    replaced: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the import can be committed."""
        return not self.errors


def import_population(parsed: PopulationFile, *, user_id: int | None = None, source: str = "",
                      sha256: str = "", allowed: Callable[[AdminUnit], bool] | None = None) -> PopulationImportReport:
    """Store the figures of a checked file; writes nothing unless every row is right (all or nothing).

    ``allowed``: whether the importing user may report for a unit (a manager: units of their region); a row
    for another unit is refused like an unknown one.
    """
    report = PopulationImportReport(errors=list(parsed.errors))
    # Two imports at once would both read "no figure yet" and both insert (a unique-key error, a 500) or the
    # second would replace the first with a stale "previous" in the audit: take the audit log's head lock first,
    # so audited imports run one after the other, each reading what the one before wrote.
    audit_head()
    keys = {(r.system, r.level, r.code) for r in parsed.rows}
    units: dict[tuple[str, str, str], AdminUnit] = {}
    for system, level in {(s, lv) for s, lv, _c in keys}:
        codes = [c for s, lv, c in keys if (s, lv) == (system, level)]
        for unit in db.session.scalars(sa.select(AdminUnit).where(
                AdminUnit.system == system, AdminUnit.level == level, AdminUnit.code.in_(codes))):
            units[(system, level, unit.code)] = unit
    for row in parsed.rows:
        unit = units.get((row.system, row.level, row.code))
        if unit is None or (allowed is not None and not allowed(unit)):
            # Outside the user's region reads as unknown: the answer must not tell which units exist.
            report.errors.append(RowError(row.row, N_("No unit %(unit)s."),
                                          {"unit": f"{row.system}:{row.level}:{row.code}"}))
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        return report
    existing = {(f.unit_id, f.year, f.indicator): f for f in db.session.scalars(sa.select(PopulationFigure).where(
        PopulationFigure.unit_id.in_([u.id for u in units.values()])))}
    changes: list[dict[str, Any]] = []
    for row in parsed.rows:
        unit = units[(row.system, row.level, row.code)]
        figure = existing.get((unit.id, row.year, row.indicator))
        change = {"unit": f"{row.system}:{row.level}:{row.code}", "year": row.year, "indicator": row.indicator,
                  "value": str(row.value), "source": row.source}
        if figure is None:
            db.session.add(PopulationFigure(unit_id=unit.id, year=row.year, indicator=row.indicator, value=row.value,
                                            source=row.source, imported_by_id=user_id))
            report.created += 1
        else:
            change["previous"] = {"value": str(figure.value), "source": figure.source}
            figure.value, figure.source, figure.imported_by_id = row.value, row.source, user_id
            report.replaced += 1
        changes.append(change)
    db.session.flush()
    record("population.imported", "population_figure", sha256 or source or "csv", user_id=user_id,
           details={"file": source, "sha256": sha256, "created": report.created, "replaced": report.replaced,
                    "rows": changes})
    return report


@dataclass(frozen=True)
class PopulationLine:
    """The latest reported figure of one population indicator for a unit, with the plan's target that year."""

    indicator: PopulationIndicator
    year: int
    value: Decimal
    source: str
    target: float | None
    target_year: int | None
    reached: bool | None


def _target(targets: tuple[tuple[int, float], ...], year: int) -> tuple[int | None, float | None]:
    """The plan's target for the figure's year: that year's, else the next one set after it."""
    later = [(y, v) for y, v in targets if y >= year]
    return later[0] if later else (None, None)


def population_lines(unit: AdminUnit | None, day: dt.date, plan: ProvincePlan | None) -> list[PopulationLine]:
    """For each population indicator reported for ``unit``, its latest figure up to ``day``'s year."""
    if unit is None:
        return []
    rows = db.session.scalars(sa.select(PopulationFigure).where(
        PopulationFigure.unit_id == unit.id, PopulationFigure.year <= day.year)
        .order_by(PopulationFigure.indicator, PopulationFigure.year.desc()))
    latest: dict[str, PopulationFigure] = {}
    for row in rows:
        latest.setdefault(row.indicator, row)
    lines = []
    for ident, indicator in POPULATION_INDICATORS.items():
        figure = latest.get(ident)
        if figure is None:
            continue
        targets = (plan.population_targets.get(ident, ()) if plan is not None else ())
        target_year, target = _target(tuple(targets), figure.year)
        lines.append(PopulationLine(indicator, figure.year, figure.value, figure.source, target, target_year,
                                    reached(indicator, float(figure.value), target) if target is not None else None))
    return lines
