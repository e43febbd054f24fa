"""What an inspection is read as, for the inspection workflow and the minutes alike: its pinned checklist, the
facility profile of the day, its answers, and the refusal every workflow step raises.

It sits below both ``inspections.services`` (which files minutes on approval) and ``minutes.services`` (which
reads the inspection to draw them), so neither has to import the other back. ``inspections.services``
re-exports these names: callers may keep importing them from there.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_request_context

from ..checklists.registry import checklist_by_id, checklist_of
from ..checklists.schema import Checklist, FacilityProfile
from ..extensions import db
from .models import Answer, Inspection


class WorkflowError(Exception):
    """A refused operation; ``code`` is stable for the API, the message is for people."""

    status = 400

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def checklist_for(inspection: Inspection) -> Checklist:
    """The pinned checklist version of an inspection.

    Parsed checklists are cached by (version id, sha256) in the registry; this avoids even loading the
    version's content when the relationship is not loaded yet, and asks the database once per request.
    """
    version = inspection.__dict__.get("checklist_version")
    version_id = inspection.checklist_version_id
    if version is not None or version_id is None:
        return checklist_of(inspection.checklist_version)
    memo = g.setdefault("_checklists", {}) if has_request_context() else {}
    found = memo.get(version_id)
    if found is None:
        found = memo[version_id] = checklist_by_id(version_id)
    return found


def profile_of(inspection: Inspection) -> FacilityProfile:
    """The facility as it was on the day (type and services snapshot)."""
    return FacilityProfile(type=inspection.facility_type, services=frozenset(inspection.facility_services),
                           ownership=inspection.facility.ownership)


def answers_of(inspection: Inspection) -> dict[str, Answer]:
    """The inspection's answers by item id."""
    return {a.item_id: a for a in db.session.scalars(sa.select(Answer).where(Answer.inspection_id == inspection.id))}
