"""Coverage of a supervision round: pure arithmetic, no Flask, no database.

A round asks that a share of the facilities (or of the communes) of each area (service area, or pre-2025
district) be visited between its start date and its deadline. The registry moves while a round runs, so the rules for facilities that open
or close during the round are spelled out here once, and the views and reports only read the result:

* **Required** (in the denominator): a facility active on the round's start date and still active on the
  reference day (the as-of day, or the deadline once it has passed). A facility that closes during the round
  without a visit leaves the denominator (nobody can visit it any more); one that opens during the round is
  not required (the plan was made without it).
* **Visited**: an external inspection of the facility dated within [start, deadline] that was submitted
  (submitted, returned or approved). A visited facility always counts, numerator and denominator, whatever
  its active dates: the visit was made and reported.
* **Communes** basis: a commune is required when one of its facilities is required or visited, covered when
  one of its facilities was visited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

BASES = ("facilities", "communes")
# What the inspections of a facility within the round's window amount to.
VISITS = ("none", "draft", "done", "approved")
STATES = ("unassigned", "planned", "in_progress", "done", "approved", "overdue", "not_required")


@dataclass(frozen=True)
class RoundWindow:
    """The dates and target of a round."""

    start: dt.date
    deadline: dt.date
    target: float
    basis: str = "facilities"

    def __post_init__(self) -> None:
        if self.deadline < self.start:
            raise ValueError("the deadline is before the start date")
        if not 0 <= self.target <= 100:
            raise ValueError("the coverage target must be between 0 and 100")
        if self.basis not in BASES:
            raise ValueError(f"unknown coverage basis {self.basis!r}")

    def reference_day(self, day: dt.date) -> dt.date:
        """The day the denominator is taken on: the as-of day, never later than the deadline."""
        return min(day, self.deadline)


@dataclass(frozen=True)
class FacilityVisit:
    """One facility of the round's region: its dates, where it is, whether assigned and what was done."""

    facility_id: int
    group_id: int
    commune_id: int | None
    active_from: dt.date
    active_to: dt.date | None
    visit: str = "none"
    assigned: bool = False
    # The assignment's own due date (None: the round's deadline).
    due: dt.date | None = None

    @property
    def visited(self) -> bool:
        """A submitted (or returned, or approved) external inspection within the window."""
        return self.visit in ("done", "approved")


def is_required(f: FacilityVisit, window: RoundWindow, day: dt.date) -> bool:
    """Whether the facility is in the denominator on ``day`` (see the module docstring)."""
    if f.visited:
        return True
    ref = window.reference_day(day)
    active_at_start = f.active_from <= window.start and (f.active_to is None or f.active_to >= window.start)
    still_active = f.active_to is None or f.active_to >= ref
    return active_at_start and still_active


def is_overdue(f: FacilityVisit, window: RoundWindow, day: dt.date) -> bool:
    """An assigned visit not made by its due date (the assignment's, else the round's deadline)."""
    if not f.assigned or f.visited:
        return False
    due = min(f.due or window.deadline, window.deadline)
    return day > due and is_required(f, window, day)


def state(f: FacilityVisit, window: RoundWindow, day: dt.date) -> str:
    """One word for the facility's place in the round on ``day`` (one of STATES)."""
    if f.visit == "approved":
        return "approved"
    if f.visit == "done":
        return "done"
    if not is_required(f, window, day):
        return "not_required"
    if is_overdue(f, window, day):
        return "overdue"
    if not f.assigned:
        return "unassigned"
    return "in_progress" if f.visit == "draft" else "planned"


@dataclass
class GroupCoverage:
    """Counts of one district (or of the whole round) on one day."""

    group_id: int | None
    required: int = 0
    visited: int = 0
    planned: int = 0
    done: int = 0
    approved: int = 0
    overdue: int = 0
    unassigned: int = 0
    communes_required: int = 0
    communes_covered: int = 0
    basis: str = "facilities"
    target: float = 0.0
    states: dict[str, int] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        """Coverage in percent on the round's basis (None with nothing required)."""
        if self.basis == "communes":
            return 100.0 * self.communes_covered / self.communes_required if self.communes_required else None
        return 100.0 * self.visited / self.required if self.required else None

    @property
    def meets_target(self) -> bool | None:
        """Whether the coverage reaches the target (None with nothing required)."""
        value = self.value
        return None if value is None else value >= self.target - 1e-9

    @property
    def needed(self) -> int:
        """How many more facilities (or communes) must be visited to reach the target."""
        if self.basis == "communes":
            total, have = self.communes_required, self.communes_covered
        else:
            total, have = self.required, self.visited
        # Smallest n with n / total >= target / 100, in integers to avoid 0.8 * 5 = 4.000000001.
        goal = -(-round(self.target * 100) * total // 10000)
        return max(0, goal - have)


def coverage(facilities: Iterable[FacilityVisit], window: RoundWindow, day: dt.date,
             by_group: bool = True) -> list[GroupCoverage]:
    """Coverage per district (sorted by group id), or of the whole round as one row."""
    groups: dict[int | None, GroupCoverage] = {}
    communes: dict[int | None, dict[int, bool]] = {}
    for f in facilities:
        key = f.group_id if by_group else None
        g = groups.setdefault(key, GroupCoverage(group_id=key, basis=window.basis, target=window.target))
        s = state(f, window, day)
        g.states[s] = g.states.get(s, 0) + 1
        if s == "not_required":
            continue
        g.required += 1
        if f.assigned:
            g.planned += 1
        if f.visited:
            g.visited += 1
            g.done += 1
        if s == "approved":
            g.approved += 1
        if s == "overdue":
            g.overdue += 1
        if s == "unassigned":
            g.unassigned += 1
        if f.commune_id is not None:
            seen = communes.setdefault(key, {})
            seen[f.commune_id] = seen.get(f.commune_id, False) or f.visited
    for key, seen in communes.items():
        groups[key].communes_required = len(seen)
        groups[key].communes_covered = sum(1 for covered in seen.values() if covered)
    return [groups[k] for k in sorted(groups, key=lambda k: (k is None, k or 0))]


def total(rows: Iterable[GroupCoverage], window: RoundWindow) -> GroupCoverage:
    """The sum of rows; for pre-2025 districts (a commune lies in one district) it equals the whole round's row."""
    out = GroupCoverage(group_id=None, basis=window.basis, target=window.target)
    for r in rows:
        for name in ("required", "visited", "planned", "done", "approved", "overdue", "unassigned",
                     "communes_required", "communes_covered"):
            setattr(out, name, getattr(out, name) + getattr(r, name))
        for k, v in r.states.items():
            out.states[k] = out.states.get(k, 0) + v
    return out
