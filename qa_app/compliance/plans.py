"""Province plans managed in the app: versions in the database, validated by the indicators file's validator.

The shipped ``indicators.yaml`` stays the national default: its ``provinces`` entries apply to a province that
has no plan in the database, and seed the database (``seed_from_file``). A plan saved in the app replaces the
file's entry for its (system, code) from its effective date. A stored plan that no longer passes validation
(an indicator renamed in the file, a row edited by hand) is left out and reported, so the pages show the
national figures and say which plan is broken instead of failing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..audit.services import record
from ..extensions import db
from .indicators import IndicatorError, IndicatorSet, ProvinceKey, ProvincePlan, parse_province
from .plan_models import ProvincePlanVersion

__all__ = [
    "BrokenPlan",
    "PlanConflict",
    "PlanInput",
    "PlanState",
    "config_on",
    "plan_document",
    "plans_in_force",
    "save_plan",
    "file_only_parts",
    "seed_from_file",
    "versions_of",
]


class PlanConflict(Exception):
    """Someone saved the plan since the form was opened (the compare-and-set on the version failed)."""


@dataclass(frozen=True)
class BrokenPlan:
    """A stored plan that fails validation: left out, with the reasons."""

    system: str
    code: str
    name: str
    version: int
    problems: tuple[str, ...]


@dataclass
class PlanState:
    """The indicators with the plans in force on a day, and the stored plans that could not be applied."""

    config: IndicatorSet
    broken: list[BrokenPlan] = field(default_factory=list)
    # (system, code) -> the stored version in force (for "plan no. …, version n" on the pages).
    versions: dict[ProvinceKey, ProvincePlanVersion] = field(default_factory=dict)

    def broken_for(self, key: ProvinceKey | None) -> list[BrokenPlan]:
        """The broken plans that matter for a province (every one for the whole country)."""
        if key is None:
            return list(self.broken)
        return [b for b in self.broken if (b.system, b.code) == key]


@dataclass(frozen=True)
class PlanInput:
    """What a manager enters for a plan version (already read from the form, not yet validated)."""

    name: str
    number: str
    issued_on: dt.date | None
    effective_from: dt.date
    # indicator id -> {"targets": {year: percent}, "filters": {...}} (the indicators file's override shape).
    overrides: dict[str, dict[str, Any]]
    # population indicator id -> {year: percent}
    population_targets: dict[str, dict[int, float]] = field(default_factory=dict)


def plan_document(system: str, code: str, name: str, number: str, issued_on: dt.date | None,
                  overrides: dict[str, Any], population_targets: dict[str, Any] | None = None) -> dict[str, Any]:
    """A stored plan as the file's ``provinces`` entry, so that the file's validator checks it.

    JSON keys are text: target years are turned back into numbers (a key that is not a number stays text and
    is then reported by the validator as "not a year").
    """
    def year(key: Any) -> Any:
        return int(key) if isinstance(key, str) and key.isdigit() else key

    changes: dict[str, Any] = {}
    for ident, change in (overrides or {}).items():
        if isinstance(change, dict) and isinstance(change.get("targets"), dict):
            change = {**change, "targets": {year(k): v for k, v in change["targets"].items()}}
        changes[ident] = change
    # The file's "plan" is the plan's title; a stored plan adds its number and date of issue.
    label = " ".join(part for part in (name, number, f"({issued_on.isoformat()})" if issued_on else "") if part)
    document: dict[str, Any] = {"system": system, "code": code, "plan": label, "overrides": changes}
    if population_targets:
        document["population_targets"] = {
            ident: {year(k): v for k, v in targets.items()} if isinstance(targets, dict) else targets
            for ident, targets in population_targets.items()}
    return document


def _source(system: str, code: str, version: int | None = None) -> str:
    return f"plan {system}:{code}" + (f" v{version}" if version else "")


def check_plan(system: str, code: str, plan: PlanInput, national: IndicatorSet) -> ProvincePlan:
    """Validate a plan with the indicators file's own validator; IndicatorError lists every problem."""
    document = plan_document(system, code, plan.name, plan.number, plan.issued_on, plan.overrides,
                             plan.population_targets)
    return parse_province(document, national, _source(system, code))


def plans_in_force(day: dt.date) -> dict[ProvinceKey, ProvincePlanVersion]:
    """For each province with a stored plan, the version in force on ``day`` (highest version effective by then)."""
    rows = db.session.scalars(sa.select(ProvincePlanVersion).where(ProvincePlanVersion.effective_from <= day)
                              .order_by(ProvincePlanVersion.system, ProvincePlanVersion.code,
                                        ProvincePlanVersion.version))
    return {(row.system, row.code): row for row in rows}  # the last (highest) version of each key wins


def config_on(national: IndicatorSet, day: dt.date) -> PlanState:
    """The indicators file with the stored plans in force on ``day`` in place of its own province entries."""
    provinces = dict(national.provinces)
    broken: list[BrokenPlan] = []
    versions = plans_in_force(day)
    for key, row in versions.items():
        try:
            document = plan_document(row.system, row.code, row.name, row.number, row.issued_on, row.overrides,
                                     row.population_targets)
            provinces[key] = parse_province(document, national, _source(row.system, row.code, row.version))
        except IndicatorError as exc:
            provinces.pop(key, None)  # neither the broken plan nor an older file entry: the national figures
            broken.append(BrokenPlan(row.system, row.code, row.name, row.version,
                                     tuple(p.message for p in exc.problems)))
        except (AttributeError, TypeError, ValueError) as exc:
            # A row edited by hand into another shape (a list where a mapping belongs): reported and left out
            # like an invalid one, never an error for every dashboard in the country.
            provinces.pop(key, None)
            broken.append(BrokenPlan(row.system, row.code, row.name, row.version,
                                     (f"the stored plan is not in the expected shape ({exc})",)))
    config = dataclasses.replace(national, provinces=provinces)
    return PlanState(config=config, broken=broken,
                     versions={k: v for k, v in versions.items() if k in provinces})


def versions_of(system: str, code: str) -> list[ProvincePlanVersion]:
    """Every stored version of a province's plan, newest first."""
    return list(db.session.scalars(sa.select(ProvincePlanVersion).where(
        ProvincePlanVersion.system == system, ProvincePlanVersion.code == code)
        .order_by(ProvincePlanVersion.version.desc())))


def current_version(system: str, code: str) -> int:
    """The highest version number saved for the province (0: none yet)."""
    return int(db.session.scalar(sa.select(sa.func.max(ProvincePlanVersion.version)).where(
        ProvincePlanVersion.system == system, ProvincePlanVersion.code == code)) or 0)


def _json_overrides(overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for ident, change in overrides.items():
        stored = dict(change)
        if "targets" in stored:
            stored["targets"] = {str(year): value for year, value in sorted(stored["targets"].items())}
        result[ident] = stored
    return result


def save_plan(system: str, code: str, base_version: int, plan: PlanInput, national: IndicatorSet,
              user_id: int | None) -> ProvincePlanVersion:
    """Save a new version of the plan (validated first), with its audit entry; flush only, the caller commits.

    ``base_version`` is the version the editor started from: if another version was saved meanwhile the save is
    refused (PlanConflict) rather than silently replacing it; two concurrent savers of the same base both pass
    this check but only one insert passes the unique (system, code, version) key.
    """
    check_plan(system, code, plan, national)  # raises IndicatorError
    if current_version(system, code) != base_version:
        raise PlanConflict(f"{system}:{code}")
    previous = versions_of(system, code)[:1]
    row = ProvincePlanVersion(system=system, code=code, version=base_version + 1, effective_from=plan.effective_from,
                              name=plan.name, number=plan.number, issued_on=plan.issued_on,
                              overrides=_json_overrides(plan.overrides),
                              population_targets={ident: {str(y): v for y, v in sorted(t.items())}
                                                  for ident, t in plan.population_targets.items()},
                              created_by_id=user_id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise PlanConflict(f"{system}:{code}") from None
    details: dict[str, Any] = {"version": row.version, "effective_from": plan.effective_from.isoformat(),
                               "name": plan.name, "number": plan.number,
                               "issued_on": plan.issued_on.isoformat() if plan.issued_on else None,
                               "overrides": row.overrides, "population_targets": row.population_targets}
    if previous:
        details["previous"] = {"version": previous[0].version, "overrides": previous[0].overrides,
                               "effective_from": previous[0].effective_from.isoformat()}
    record("plan.saved", "province_plan", f"{system}:{code}", user_id=user_id, details=details)
    return row


# What a plan stored in the database (and its form) holds per indicator; a stored version replaces the file's
# entry whole, so a file entry with anything else must stay in the file.
STORED_OVERRIDE_KEYS = ("targets", "filters")


def file_only_parts(plan: ProvincePlan) -> list[str]:
    """The parts of a file plan a stored version cannot hold ("indicator: key", own indicators); [] if none."""
    parts = [f"{ident}: {key}" for ident, change in plan.overrides.items() for key in change
             if key not in STORED_OVERRIDE_KEYS]
    return parts + [f"{indicator.id} (the plan's own indicator)" for indicator in plan.indicators]


def seed_from_file(national: IndicatorSet, effective_from: dt.date, user_id: int | None = None) -> int:
    """Store the file's province plans as version 1 where the database has none yet; how many were stored.

    A file plan with parts a stored version cannot hold (``file_only_parts``) is left in the file, whole.
    """
    stored = 0
    for (system, code), province in national.provinces.items():
        if current_version(system, code) or file_only_parts(province):
            continue
        overrides: dict[str, dict[str, Any]] = {}
        for ident, change in province.overrides.items():
            entry: dict[str, Any] = {}
            if change.get("targets"):
                entry["targets"] = dict(change["targets"])
            if change.get("filters"):
                entry["filters"] = {k: list(v) if isinstance(v, tuple) else v for k, v in change["filters"].items()}
            overrides[ident] = entry
        population = {ident: dict(targets) for ident, targets in province.population_targets.items()}
        save_plan(system, code, 0, PlanInput(name=province.plan or province.name or f"{system}:{code}", number="",
                                             issued_on=None, effective_from=effective_from, overrides=overrides,
                                             population_targets=population),
                  national, user_id)
        stored += 1
    return stored
