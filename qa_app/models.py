"""Imports every domain's models so that metadata (and Alembic) sees all tables."""

from .api.models import SyncRequest
from .areas.models import ServiceArea, ServiceAreaCommune
from .audit.models import AuditCheckpoint, AuditEntry, AuditHead
from .auth.models import LoginThrottle, User
from .checklists.models import ChecklistVersion
from .compliance.plan_models import PopulationFigure, ProvincePlanVersion
from .facilities.models import Facility, FacilityParentLink, FacilityService
from .inspections.models import (
    Answer,
    CorrectiveAction,
    Inspection,
    Photo,
    ReviewComment,
    SectionResult,
    Signature,
    TeamMember,
)
from .minutes.models import Minutes, MinutesCounter
from .regions.models import AdminUnit, UnitSuccession
from .rounds.models import RoundAssignment, RoundCommune, RoundReportDate, SupervisionRound

__all__ = [
    "AdminUnit", "Answer", "AuditEntry", "ChecklistVersion", "Facility", "FacilityService", "Inspection",
    "SectionResult", "UnitSuccession", "User", "CorrectiveAction", "Photo", "ReviewComment", "Signature",
    "TeamMember", "Minutes", "MinutesCounter", "SyncRequest",
    "RoundAssignment", "RoundReportDate", "SupervisionRound", "LoginThrottle", "AuditCheckpoint", "AuditHead",
    "ServiceArea", "ServiceAreaCommune", "RoundCommune", "FacilityParentLink", "ProvincePlanVersion",
    "PopulationFigure",
]
