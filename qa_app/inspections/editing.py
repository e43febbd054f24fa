"""Who may see and change an inspection, and the guarded write every change goes through: the editable
states, the refusal of a stale writer (compare-and-set on the revision), the status transition, and the
content change that voids earlier signatures. Used by every module of the inspection workflow
(``services``, ``photos``, ``finishing``); re-exported by ``inspections.services``."""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.models import User
from ..auth.services import facility_in_scope
from ..extensions import db, utcnow
from ..facilities.models import Facility
from .models import (
    Inspection,
)

# The read helpers live below this module and minutes.services both; re-exported for existing callers.
from .reading import WorkflowError, answers_of, checklist_for, profile_of  # noqa: F401

EDITABLE = ("draft", "returned")


class ConflictError(WorkflowError):
    """Someone else changed the answer (or the inspection) since this writer last read it."""

    status = 409

    def __init__(self, message: str, current: dict[str, object]):
        super().__init__("conflict", message)
        self.current = current


# ---------------------------------------------------------------------------------------------- access


def can_view(user: User, inspection: Inspection) -> bool:
    """Whether ``user`` may see ``inspection``: their region, any role."""
    return facility_visible(user, inspection.facility_id)


def facility_visible(user: User, facility_id: int) -> bool:
    """Whether the facility lies in ``user``'s region subtree (checked in SQL, like every list).

    Remembered for the rest of the request (an autosave asked three times): a region does not change while
    one request runs.
    """
    memo = _visible_memo()
    key = (user.id, facility_id)
    if memo is not None and key in memo:
        return memo[key]
    visible = db.session.scalar(
        sa.select(Facility.id).where(Facility.id == facility_id, facility_in_scope(user))
    ) is not None
    if memo is not None:
        memo[key] = visible
    return visible


def _visible_memo() -> dict[tuple[int, int], bool] | None:
    if not has_request_context():
        return None
    memo = g.get("_facility_visible")
    if memo is None:
        memo = g._facility_visible = {}
    return memo


def note_visible(user: User, facility_id: int) -> None:
    """Record that a query filtered by facility_in_scope(user) found this facility (saves re-checking it)."""
    memo = _visible_memo()
    if memo is not None:
        memo[(user.id, facility_id)] = True


def can_edit(user: User, inspection: Inspection) -> bool:
    """Supervisors (and admins) of the region may edit drafts and returned inspections."""
    return (inspection.status in EDITABLE and user.role in ("supervisor", "admin")
            and can_view(user, inspection))


def can_review(user: User, inspection: Inspection) -> bool:
    """Reviewers, provincial managers and admins of the region review submitted inspections."""
    return user.role in ("reviewer", "provincial_manager", "admin") and can_view(user, inspection)


# ---------------------------------------------------------------------------------------------- editing


def _clean(text: str) -> str:
    """Typed text as stored: NFC (a Vietnamese word typed on any keyboard is stored the same way) and trimmed."""
    return unicodedata.normalize("NFC", text).strip()


def _require_editable(inspection: Inspection, user: User) -> None:
    if inspection.status not in EDITABLE:
        raise WorkflowError("locked", f"this inspection is {inspection.status} and can no longer be changed")
    if not can_edit(user, inspection):
        raise WorkflowError("forbidden", "you may not change this inspection")


def _bump(inspection: Inspection, user: User) -> None:
    """Count an edit: compare-and-set on the status, so an edit never lands on a submitted or approved inspection.

    Incremented in SQL (UPDATE … SET revision = revision + 1), not in Python: two tablets saving different items
    at once both read revision N, and a Python increment would store N + 1 twice and lose a change's bump. The
    ``status IN ('draft', 'returned')`` condition is checked by the database when the row is written: an autosave
    that read "draft" just before a submit committed finds the row submitted here, and its whole transaction
    (the answer included) is refused instead of changing a locked inspection.
    """
    now = utcnow()
    revision = db.session.execute(
        sa.update(Inspection)
        .where(Inspection.id == inspection.id, Inspection.status.in_(EDITABLE))
        .values(revision=Inspection.revision + 1, updated_at=now)
        .returning(Inspection.revision)
        .execution_options(synchronize_session=False)).scalar()
    if revision is None:
        raise WorkflowError("locked", "this inspection was submitted or approved meanwhile and can no longer be changed")
    set_committed_value(inspection, "revision", revision)
    set_committed_value(inspection, "updated_at", now)


def claim_revision(inspection: Inspection, seen_revision: int) -> bool:
    """Bump the revision only if it is still ``seen_revision`` (and the inspection editable); False otherwise.

    A finishing page submits what it showed: claiming its revision first holds the row (PostgreSQL row lock,
    SQLite's single writer) from before the page's own writes until the submit commits, so an autosave that
    lands after the page was built makes the submit lose instead of slipping unseen into the submitted score.
    """
    now = utcnow()
    revision = db.session.execute(
        sa.update(Inspection)
        .where(Inspection.id == inspection.id, Inspection.revision == seen_revision,
               Inspection.status.in_(EDITABLE))
        .values(revision=Inspection.revision + 1, updated_at=now)
        .returning(Inspection.revision)
        .execution_options(synchronize_session=False)).scalar()
    if revision is None:
        return False
    set_committed_value(inspection, "revision", revision)
    set_committed_value(inspection, "updated_at", now)
    return True


def _transition(inspection: Inspection, expected: str, new: str, *, revision: int | None = None,
                **values: object) -> None:
    """Move the inspection from ``expected`` to ``new`` with one ``UPDATE … WHERE status = :expected``.

    Two reviewers (or a reviewer and a manager) deciding at the same moment both read "submitted"; only one
    UPDATE can still find it so, and the other one changes nothing and gets a 409 ("conflict"). With
    ``revision``, the row must also be at that revision: a submit whose score was computed before an autosave
    landed loses instead of locking in a stale score. Runs before any other write of the transition, so the
    loser leaves nothing behind; the winner holds the row (PostgreSQL row lock, SQLite's single writer) until
    its transaction, audit entry and minutes included, commits.
    """
    condition = [Inspection.id == inspection.id, Inspection.status == expected]
    if revision is not None:
        condition.append(Inspection.revision == revision)
    now = utcnow()
    new_revision = db.session.execute(
        sa.update(Inspection).where(*condition)
        .values(status=new, revision=Inspection.revision + 1, updated_at=now, **values)
        .returning(Inspection.revision)
        .execution_options(synchronize_session=False)).scalar()
    if new_revision is None:
        raise WorkflowError("conflict", f"the inspection is no longer {expected}: someone else changed it meanwhile")
    set_committed_value(inspection, "status", new)
    set_committed_value(inspection, "revision", new_revision)
    set_committed_value(inspection, "updated_at", now)
    for key, value in values.items():
        set_committed_value(inspection, key, value)


def _content_changed(inspection: Inspection, user: User) -> None:
    # Drawn signatures cover the content they were made over: a change voids them (minutes/content.py).
    from ..minutes.content import void_stale_signatures

    void_stale_signatures(inspection, user.id)
