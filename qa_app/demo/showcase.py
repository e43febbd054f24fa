"""What the bulk generator leaves out, added to the demo province so every page has something to show.

The generator writes rows in bulk for speed and scale, so it issues no signed minutes and plans no supervision
round. A person trying the demo expects to download the minutes of a recent approved inspection and to see a
round in progress; both are made here through the real services (numbering, signing, checked round input),
only for the small demo data set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from ..auth.models import User
from ..extensions import db
from ..inspections.models import Inspection
from ..regions.models import AdminUnit

MINUTES_TO_ISSUE = 6


@dataclass
class ShowcaseSummary:
    """What was added."""

    minutes: int
    round_name: str | None
    assigned: int

    def describe(self) -> str:
        """One line for the setup command's output."""
        text = f"Signed minutes issued for the {self.minutes} most recent approved inspections"
        if self.round_name:
            text += f"; round “{self.round_name}” planned with {self.assigned} visits assigned"
        return text + "."


def add_showcase(today: dt.date) -> ShowcaseSummary:
    """Issue minutes for the latest approved inspections and plan one round in Tam Đường (flush only)."""
    from ..minutes.services import issue_minutes

    latest = db.session.scalars(
        sa.select(Inspection).where(Inspection.status == "approved", Inspection.kind == "external")
        .order_by(Inspection.approved_at.desc(), Inspection.id.desc()).limit(MINUTES_TO_ISSUE)).all()
    for inspection in reversed(latest):  # oldest first, so the numbers follow the approval order
        approver = db.session.get(User, inspection.approved_by_id)
        issue_minutes(inspection, approver, locale="vi")
    round_name, assigned = _plan_round(today)
    return ShowcaseSummary(minutes=len(latest), round_name=round_name, assigned=assigned)


def _plan_round(today: dt.date) -> tuple[str | None, int]:
    from ..rounds.services import RoundInput, assign, create_round, round_facilities

    reviewer = db.session.scalar(sa.select(User).where(User.username == "duyet.tamduong"))
    supervisor = db.session.scalar(sa.select(User).where(User.username == "giamsat.td1"))
    if reviewer is None or supervisor is None or reviewer.scope_unit_id is None:
        return None, 0
    district = db.session.get(AdminUnit, reviewer.scope_unit_id)
    start = today.replace(day=1) - dt.timedelta(days=45)
    name = f"Giám sát chất lượng dịch vụ KHHGĐ đợt II năm {today.year}"
    rnd = create_round(reviewer, RoundInput(
        name=name, unit_id=str(district.id), facility_types=("TYT",), start_date=start.isoformat(),
        deadline=(today + dt.timedelta(days=30)).isoformat(), coverage_basis="facilities", coverage_target="80",
        progress_dates=(today + dt.timedelta(days=5)).isoformat(),
        final_date=(today + dt.timedelta(days=40)).isoformat()))
    # Facilities not visited yet in the round: the supervisor's list of visits still to make.
    wanted = [rf.id for rf in round_facilities(rnd, reviewer, today) if rf.visit.visit == "none"][:4]
    if not wanted:
        return name, 0
    return name, assign(rnd, reviewer, wanted, supervisor.id, due_date=today + dt.timedelta(days=14))

