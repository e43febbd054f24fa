"""Who sees and who manages a supervision round: the scope rules of the module docstring of
``rounds.services``, as SQL conditions and plain checks, and the units and service areas a user may plan for.
Re-exported by ``rounds.services``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..areas.models import ServiceArea
from ..auth.models import User
from ..auth.services import area_commune_ids, facility_in_scope
from ..extensions import db
from ..facilities.models import Facility
from ..regions.models import AdminUnit
from .models import RoundAssignment, SupervisionRound

PLAN_ROLES = ("reviewer", "provincial_manager", "admin")

# ---------------------------------------------------------------------------------------------- scope


def unit_in_scope(user: User, unit: AdminUnit) -> bool:
    """Whether the unit lies in the user's subtree (administrators without scope: everywhere)."""
    if user.scope_unit_id is None:
        return user.role == "admin"
    if user.scope_area_id is not None:
        # An area is narrower than its province: only the area's own communes are "in" it.
        return unit.level == "commune" and unit.system == "2025" and unit.id in _area_communes(user)
    return unit.path.startswith(user.scope_unit.path)


def _area_communes(user: User) -> set[int]:
    return set(db.session.scalars(area_commune_ids(user.scope_area_id))) if user.scope_area_id else set()


def plannable_areas(user: User) -> list[ServiceArea]:
    """Service areas a round of this user may cover."""
    if user.scope_area_id is not None:
        return [user.scope_area]
    stmt = sa.select(ServiceArea).join(AdminUnit, AdminUnit.id == ServiceArea.province_id)
    if user.scope_unit is not None:
        stmt = stmt.where(AdminUnit.path.startswith(user.scope_unit.path, autoescape=True))
    elif user.role != "admin":
        return []
    return list(db.session.scalars(stmt.order_by(ServiceArea.name).limit(1000)))


def region_facility_ids(rnd: SupervisionRound) -> sa.Select:
    """Ids of the facilities located in the round's region (in the round's unit system)."""
    unit = aliased(AdminUnit, name="rg_unit")
    column = Facility.legacy_unit_id if rnd.unit.system == "pre2025" else Facility.unit_id
    return (sa.select(Facility.id).join(unit, unit.id == column)
            .where(unit.path.startswith(rnd.unit.path, autoescape=True), narrower_region(rnd)))


def narrower_region(rnd: SupervisionRound) -> sa.ColumnElement[bool]:
    """The extra condition of a round over a service area or a list of communes (true for a unit round)."""
    if rnd.area_id is not None:
        return Facility.unit_id.in_(area_commune_ids(rnd.area_id))
    if rnd.commune_rows:
        return Facility.unit_id.in_(sorted(row.unit_id for row in rnd.commune_rows))
    return sa.true()


def overlaps(user: User, rnd: SupervisionRound) -> bool:
    """Some facility of the round's region lies in the user's scope (the scope may be in the other unit system)."""
    return db.session.scalar(sa.select(Facility.id).where(
        Facility.id.in_(region_facility_ids(rnd)), facility_in_scope(user)).limit(1)) is not None


def covers(user: User, rnd: SupervisionRound) -> bool:
    """Every facility of the round's region lies in the user's scope (a 2025 province over a pre-2025 district)."""
    if user.scope_unit_id is None:
        return user.role == "admin"
    outside = db.session.scalar(sa.select(Facility.id).where(
        Facility.id.in_(region_facility_ids(rnd)), sa.not_(facility_in_scope(user))).limit(1))
    return outside is None and overlaps(user, rnd)


def can_see(user: User, rnd: SupervisionRound) -> bool:
    """The round's region and the user's subtree overlap (either contains the other, or they share facilities)."""
    if user.scope_area_id is not None:
        # An area sits inside its province: a provincial round is seen when it holds some of the area's
        # facilities, another area's round never (the province path alone would let it through).
        if overlaps(user, rnd):
            return True
        return db.session.scalar(sa.select(RoundAssignment.id).where(
            RoundAssignment.round_id == rnd.id, RoundAssignment.supervisor_id == user.id).limit(1)) is not None
    if unit_in_scope(user, rnd.unit):
        return True
    scope = user.scope_unit
    if scope is not None and scope.path.startswith(rnd.unit.path):
        return True
    if scope is not None and scope.system != rnd.unit.system and overlaps(user, rnd):
        return True
    # A supervisor assigned to a visit of the round sees it, whatever the region.
    return db.session.scalar(sa.select(RoundAssignment.id).where(
        RoundAssignment.round_id == rnd.id, RoundAssignment.supervisor_id == user.id).limit(1)) is not None


def can_manage(user: User, rnd: SupervisionRound) -> bool:
    """Planning roles manage the rounds of their own subtree (or whose facilities all lie in it)."""
    return user.role in PLAN_ROLES and (unit_in_scope(user, rnd.unit) or covers(user, rnd))


def round_for(user: User, round_id: int) -> SupervisionRound | None:
    """The round if the user may see it, else None (the view answers 404 either way)."""
    rnd = db.session.get(SupervisionRound, round_id)
    return rnd if rnd is not None and can_see(user, rnd) else None


def rounds_for(user: User) -> list[SupervisionRound]:
    """Rounds the user may see, newest deadline first."""
    stmt = sa.select(SupervisionRound).join(AdminUnit, AdminUnit.id == SupervisionRound.unit_id)
    scope = user.scope_unit
    if scope is not None:
        ancestors = [int(p) for p in scope.path.strip("/").split("/") if p.isdigit()]
        assigned = sa.select(RoundAssignment.round_id).where(RoundAssignment.supervisor_id == user.id)
        # A round shares facilities with the user exactly when its unit holds (or is an ancestor of the unit
        # holding) one of the user's facilities, in either unit system: one query for every round at once.
        from ..facilities.services import allowed_unit_ids

        sharing = sorted(allowed_unit_ids(user))
        # An area-scoped user's subtree is the area's communes, not the whole province.
        own_subtree = (AdminUnit.id.in_(sorted(_area_communes(user))) if user.scope_area_id is not None
                       else AdminUnit.path.startswith(scope.path, autoescape=True))
        stmt = stmt.where(sa.or_(own_subtree,
                                 AdminUnit.id.in_(ancestors), SupervisionRound.id.in_(assigned),
                                 SupervisionRound.unit_id.in_(sharing)))
    elif user.role != "admin":
        return []
    rounds = list(db.session.scalars(stmt.order_by(SupervisionRound.deadline.desc(), SupervisionRound.id.desc())))
    if user.scope_area_id is not None:
        # The list is the area's province's: keep only what round_for would open.
        rounds = [rnd for rnd in rounds if can_see(user, rnd)]
    return rounds


def plannable_units(user: User) -> list[AdminUnit]:
    """Provinces and districts of the user's subtree that a round may cover."""
    stmt = sa.select(AdminUnit).where(AdminUnit.level.in_(("province", "district")))
    if user.scope_area_id is not None:
        # An area-scoped planner plans over their area, or over communes of it listed under the province.
        return [user.scope_unit]
    if user.scope_unit is not None:
        stmt = stmt.where(AdminUnit.path.startswith(user.scope_unit.path, autoescape=True))
    elif user.role != "admin":
        return []
    # Provinces first, then districts: a national administrator's list stays usable.
    order = sa.case((AdminUnit.level == "province", 0), else_=1)
    return list(db.session.scalars(stmt.order_by(AdminUnit.system.desc(), order, AdminUnit.name).limit(1000)))
