"""Province plans across the 2025 reform: a merged province's predecessor plans, part by part.

On 1/7/2025 provinces merged whole (63 → 34). A plan adopted by a pre-2025 province (Kon Tum's, Bắc Giang's)
keeps applying to that province's facilities, which now lie in the merged 2025 province (Quảng Ngãi, Bắc
Ninh), until the merged province adopts a plan of its own and it comes into force. Meanwhile the 2025 view
shows each predecessor plan's figure and targets for its part, and a combined figure and target weighted by
the facilities each part counts. A facility's part is its pre-2025 province (its legacy unit); facilities
without one (opened after the reform) and those of predecessors without a plan follow the national targets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..auth.services import facility_in_scope
from ..extensions import db
from ..facilities.models import Facility
from ..regions.models import AdminUnit
from .distance import TargetMark, facilities_needed, target_marks
from .indicators import Indicator, IndicatorSet, ProvinceKey
from .queries import Area, Counts, province_of
from .report import summarise

__all__ = ["Part", "ReformView", "plan_key_for", "predecessor_provinces", "reform_view"]


@dataclass
class PartFigure:
    """One indicator in one part (or combined): the counts and the targets of the part's plan."""

    counts: Counts
    target_now: float | None
    target_2025: float | None
    target_2030: float | None

    def needed(self, target: float | None) -> int | None:
        """Facilities still needed in this part to reach ``target``."""
        return facilities_needed(target, self.counts.meeting, self.counts.total)

    def marks(self, this_year: int) -> list[TargetMark]:
        """This year's, 2025 and 2030 targets in year order, with the facilities still needed."""
        return target_marks({this_year: self.target_now, 2025: self.target_2025, 2030: self.target_2030},
                            this_year, self.counts.meeting, self.counts.total)


@dataclass
class Part:
    """A predecessor province with a plan (or, for ``unit`` None, the rest of the merged province)."""

    unit: AdminUnit | None
    plan: str
    figures: dict[str, PartFigure] = field(default_factory=dict)


@dataclass
class ReformView:
    """The parts of a merged 2025 province and the combined, facility-weighted figures."""

    parts: list[Part]
    combined: dict[str, PartFigure]
    indicators: tuple[Indicator, ...]


def _is_2025_province(area: Area) -> bool:
    unit = area.unit
    return unit is not None and unit.system == "2025" and unit.level == "province" and area.service_area is None


def predecessor_provinces(area: Area) -> list[AdminUnit]:
    """The pre-2025 provinces the area's facilities (active on its day, in the user's scope) come from."""
    unit = area.unit
    if unit is None:
        return []
    cur, leg = aliased(AdminUnit, name="cur"), aliased(AdminUnit, name="leg")
    day = area.day
    paths = db.session.scalars(
        sa.select(leg.path).distinct().select_from(Facility)
        .join(cur, cur.id == Facility.unit_id).join(leg, leg.id == Facility.legacy_unit_id)
        .where(cur.path.startswith(unit.path, autoescape=True), Facility.active_from <= day,
               sa.or_(Facility.active_to.is_(None), Facility.active_to >= day), facility_in_scope(area.user)))
    ids = {int(p.strip("/").split("/")[0]) for p in paths if p and p.strip("/").split("/")[0].isdigit()}
    if not ids:
        return []
    return list(db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.id.in_(ids), AdminUnit.level == "province", AdminUnit.system == "pre2025")
        .order_by(AdminUnit.code)))


def plan_key_for(config: IndicatorSet, area: Area) -> ProvinceKey | None:
    """Whose plan applies to the area's cards.

    The province's own plan when it has one. In a 2025 unit of a province without its own plan, whose
    facilities all come from one pre-2025 province with a plan (a commune of former Kon Tum), that plan: a
    predecessor's plan applies to its facilities in the 2025 view too. Otherwise the province's key
    (national targets when it has no plan).
    """
    unit = area.unit if area.unit is not None else area.user.scope_unit
    province = province_of(unit)
    if province is None:
        return None
    key = (province.system, province.code)
    if key in config.provinces or province.system != "2025" or area.unit is None or _is_2025_province(area):
        return key
    predecessors = predecessor_provinces(area)
    if len(predecessors) == 1 and (p := predecessors[0]) and (p.system, p.code) in config.provinces:
        return (p.system, p.code)
    return key


def _figures(area: Area, indicators: tuple[Indicator, ...]) -> dict[str, PartFigure]:
    return {s.indicator.id: PartFigure(s.counts, s.target_now, s.target_2025, s.target_2030)
            for s in summarise(area, indicators, trajectory=False)}


def _weighted(pairs: list[tuple[float | None, int]]) -> float | None:
    """Σ target × facilities / Σ facilities over the parts that have a target (None when none has one)."""
    known = [(t, n) for t, n in pairs if t is not None and n > 0]
    total = sum(n for _t, n in known)
    return sum(t * n for t, n in known) / total if total else None


def reform_view(config: IndicatorSet, area: Area) -> ReformView | None:
    """The parts view of a merged 2025 province without a plan of its own in force, if a predecessor has one.

    Each predecessor with a plan is one part (its facilities, its plan's definitions and targets); the rest of
    the province is one part on the national indicators. Combined: the parts' numerators and denominators
    added up, and the targets weighted by each part's denominator.
    """
    if not _is_2025_province(area):
        return None
    own = (area.unit.system, area.unit.code)
    if own in config.provinces:
        return None  # the merged province's own plan has taken over
    with_plans = [p for p in predecessor_provinces(area) if (p.system, p.code) in config.provinces]
    if not with_plans:
        return None
    national = config.for_province(own)
    whole = _figures(area, national)
    parts: list[Part] = []
    rest = {ident: dataclasses.replace(fig.counts) for ident, fig in whole.items()}
    for province in with_plans:
        key = (province.system, province.code)
        part_area = dataclasses.replace(area, unit=province)
        plan = config.provinces[key]
        part = Part(unit=province, plan=plan.plan or plan.name, figures=_figures(part_area, config.for_province(key)))
        # The same facilities on the national definitions, taken out of the rest of the province.
        for ident, fig in _figures(part_area, national).items():
            counts = rest[ident]
            rest[ident] = Counts(total=counts.total - fig.counts.total, assessed=counts.assessed - fig.counts.assessed,
                                 meeting=counts.meeting - fig.counts.meeting)
        parts.append(part)
    remainder = Part(unit=None, plan="", figures={
        ident: dataclasses.replace(whole[ident], counts=rest[ident]) for ident in whole})
    if any(counts.total for counts in rest.values()):  # no row for a province made only of planned parts
        parts.append(remainder)
    combined: dict[str, PartFigure] = {}
    for indicator in national:
        ident = indicator.id
        figures = [p.figures[ident] for p in parts if ident in p.figures]
        counts = Counts(total=sum(f.counts.total for f in figures), assessed=sum(f.counts.assessed for f in figures),
                        meeting=sum(f.counts.meeting for f in figures))
        combined[ident] = PartFigure(
            counts=counts,
            target_now=_weighted([(f.target_now, f.counts.total) for f in figures]),
            target_2025=_weighted([(f.target_2025, f.counts.total) for f in figures]),
            target_2030=_weighted([(f.target_2030, f.counts.total) for f in figures]))
    return ReformView(parts=parts, combined=combined, indicators=national)


def overlaps_scope(user: object, unit: AdminUnit) -> bool:
    """Whether a unit of the other unit system covers facilities of the user's scope (same ground, other tree).

    A manager scoped to 2025 Quảng Ngãi may open pre-2025 Kon Tum for its history, and one scoped to a pre-2025
    province the 2025 province its facilities are in now: one account, both systems. Every figure is still
    counted only over the facilities of the user's scope.
    """
    scope = getattr(user, "scope_unit", None)
    if scope is None or unit.system == scope.system:
        return False
    tree = aliased(AdminUnit, name="tree")
    column = Facility.legacy_unit_id if unit.system == "pre2025" else Facility.unit_id
    return db.session.scalar(
        sa.select(Facility.id).join(tree, tree.id == column)
        .where(tree.path.startswith(unit.path, autoescape=True), facility_in_scope(user)).limit(1)) is not None


def counterparts(area: Area) -> list[AdminUnit]:
    """Provinces of the other unit system over the same facilities (for the "switch unit system" links)."""
    unit = area.unit
    if unit is None or unit.level != "province":
        return []
    if unit.system == "2025":
        return predecessor_provinces(area)
    cur, leg = aliased(AdminUnit, name="cur"), aliased(AdminUnit, name="leg")
    paths = db.session.scalars(
        sa.select(cur.path).distinct().select_from(Facility)
        .join(cur, cur.id == Facility.unit_id).join(leg, leg.id == Facility.legacy_unit_id)
        .where(leg.path.startswith(unit.path, autoescape=True), facility_in_scope(area.user)))
    ids = {int(p.strip("/").split("/")[0]) for p in paths if p and p.strip("/").split("/")[0].isdigit()}
    return list(db.session.scalars(sa.select(AdminUnit).where(
        AdminUnit.id.in_(ids), AdminUnit.level == "province", AdminUnit.system == "2025")
        .order_by(AdminUnit.code))) if ids else []
