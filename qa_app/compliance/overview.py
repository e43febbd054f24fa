"""The dashboard's figures in one statement: every grouping of the area's day and the whole area on the
trajectory's days (:func:`area_overview`), built from the pieces of :mod:`.queries`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..areas.models import ServiceArea
from ..extensions import db
from ..facilities.models import Facility
from ..regions.models import AdminUnit
from .indicators import Indicator
from .queries import (
    GROUPS,
    Area,
    Counts,
    GroupRow,
    _count_columns,
    _empty_all,
    _group_keys,
    _group_row,
    _join_areas,
    _join_children,
    _Query,
)


@dataclass
class Overview:
    """What indicator_counts gives for several groups on the area's day and for the whole area on other days."""

    groups: dict[str, list[GroupRow]]
    days: dict[dt.date, dict[str, Counts]]


def _day_facts(area: Area, indicators: tuple[Indicator, ...], groups: tuple[str, ...], timeline: Any,
               rules: dict[int, tuple[int, float]]) -> sa.CTE:
    """One row per facility of the area on its day: the grouping keys asked for, and per indicator (index i)
    flags d<i> (in the denominator), a<i> (assessed: with a valid result) and m<i> (meeting), 0 or 1."""
    q = _Query(area, indicators, timeline=timeline, rules=rules)
    cols: list[Any] = [Facility.ownership.label("ownership"), Facility.type.label("type")]
    unit = aliased(AdminUnit, name="child") if "unit" in groups else None
    service_area = aliased(ServiceArea, name="child_area") if "area" in groups else None
    for name, child in (("unit", unit), ("area", service_area)):
        if child is not None:
            cols += [child.id.label(f"{name}_id"), child.name.label(f"{name}_name"), child.code.label(f"{name}_code")]
    for i, ind in enumerate(indicators):
        counted = q.denominator(ind)
        cols += [sa.case((counted, 1), else_=0).label(f"d{i}"),
                 sa.case((sa.and_(counted, q.valid(ind), q.assessable(ind)), 1), else_=0).label(f"a{i}"),
                 sa.case((sa.and_(counted, q.meeting(ind)), 1), else_=0).label(f"m{i}")]
    stmt = q.select_from(sa.select(*cols))
    if unit is not None:
        stmt = _join_children(q, stmt, unit)
    if service_area is not None:
        stmt = _join_areas(q, stmt, service_area)
    # MATERIALIZED: read by every grouping, computed once.
    return stmt.cte("facts").prefix_with("MATERIALIZED")


def area_overview(area: Area, indicators: tuple[Indicator, ...], groups: tuple[str, ...] = GROUPS,
                  days: tuple[dt.date, ...] = ()) -> Overview:
    """indicator_counts for each of ``groups`` on the area's day and "all" on each of ``days``, in ONE statement.

    The same figures as separate indicator_counts calls (tests compare them): every branch is the same
    aggregate, but the latest-inspection window is computed once (a shared timeline CTE) instead of once per
    group and per day, and the page makes one round trip instead of one per group and trajectory year.
    ``days`` must not be after the area's day.
    """
    base = _Query(area, indicators)
    timeline = base.timeline_cte()
    integer, text = sa.Integer, sa.String
    branches: list[sa.Select] = []
    plan: list[tuple[str, dt.date]] = [(group, area.day) for group in groups]
    plan += [("all", day) for day in days if day != area.day or "all" not in groups]
    def null(kind: Any, name: str) -> Any:
        return sa.cast(sa.null(), kind).label(name)

    # The groups of the area's day read one per-facility table (facts): each facility's indicator flags are
    # worked out once, then summed by each grouping. (Each grouping re-evaluating nine indicators over every
    # facility made the page four times slower.)
    facts = _day_facts(area, indicators, groups, timeline, base.rules) if groups else None
    for tag, (group, day) in enumerate(plan):
        if day > area.day:
            raise ValueError(f"{day} is after the area's day {area.day}")
        if facts is not None and day == area.day and tag < len(groups):
            if group in ("unit", "area"):
                c = {k: facts.c[f"{group}_{k}"] for k in ("id", "name", "code")}
                head = [c["id"].label("k_int"), null(text, "k_text"), c["name"].label("name"),
                        c["code"].label("code"), c["code"].label("sort")]
                keys = [c["id"], c["name"], c["code"]]
            elif group != "all":
                head = [null(integer, "k_int"), facts.c[group].label("k_text"), null(text, "name"),
                        null(text, "code"), facts.c[group].label("sort")]
                keys = [facts.c[group]]
            else:
                head = [null(integer, "k_int"), null(text, "k_text"), null(text, "name"), null(text, "code"),
                        null(text, "sort")]
                keys = []
            sums = [sa.func.coalesce(sa.func.sum(facts.c[f"{flag}{i}"]), 0)
                    for i in range(len(indicators)) for flag in ("d", "a", "m")]
            stmt = sa.select(sa.literal_column(str(tag), integer).label("tag"), *head, *sums).select_from(facts)
            branches.append(stmt.group_by(*keys) if keys else stmt)
            continue
        q = _Query(dataclasses.replace(area, day=day), indicators, timeline=timeline, rules=base.rules)
        child = aliased(ServiceArea, name="child_area") if group == "area" else aliased(AdminUnit, name="child")
        keys = _group_keys(group, child)
        # Uniform columns: tag, integer key, text key, name, code, sort key, then the counts. Every one
        # labelled: SQLAlchemy would fold two identical column objects into one and break the UNION.
        if group in ("unit", "area"):
            head = [child.id.label("k_int"), null(text, "k_text"), child.name.label("name"),
                    child.code.label("code"), child.code.label("sort")]
        elif keys:
            head = [null(integer, "k_int"), keys[0].label("k_text"), null(text, "name"), null(text, "code"),
                    keys[0].label("sort")]
        else:
            head = [null(integer, "k_int"), null(text, "k_text"), null(text, "name"), null(text, "code"),
                    null(text, "sort")]
        stmt = q.select_from(sa.select(sa.literal_column(str(tag), integer).label("tag"), *head,
                                       *_count_columns(q, indicators)))
        if group == "unit":
            stmt = _join_children(q, stmt, child)
        elif group == "area":
            stmt = _join_areas(q, stmt, child)
        if keys:
            stmt = stmt.group_by(*keys)
        branches.append(stmt)
    compound = sa.union_all(*branches).subquery("overview")
    # Sorted as indicator_counts sorts each group (its key; NULL where the database puts NULLs).
    stmt = sa.select(compound).order_by(compound.c[0], compound.c[5])
    by_tag: dict[int, list[GroupRow]] = {tag: [] for tag in range(len(plan))}
    for row in db.session.execute(stmt):
        values = list(row)
        tag = int(values[0])
        group = plan[tag][0]
        k_int, k_text, name, code = values[1:5]
        head = [k_int, name, code] if group in ("unit", "area") else ([k_text] if group != "all" else [])
        by_tag[tag].append(_group_row(group, head, values[6:], indicators))
    result = Overview(groups={}, days={})
    for tag, (group, day) in enumerate(plan):
        rows = by_tag[tag] or (_empty_all(indicators) if group == "all" else [])
        if day == area.day and tag < len(groups):
            result.groups[group] = rows
        if group == "all":
            result.days[day] = rows[0].counts
    return result
