"""The ``/review`` blueprint, apart from its routes.

Two modules register pages on it: ``review.views`` (the reviewer's queue, the inspection record, comments and
decisions) and ``inspections.finish`` (the supervisor's finish page, signatures and corrective actions, which
kept their ``/review/...`` URLs and ``review.*`` endpoint names when they moved to the inspections package).
Both import the blueprint from here, so neither imports the other.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ..inspections.pages import _lang, classification_label, kind_label, status_label, team_role_label

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"status_label": status_label, "classification_label": classification_label,
            "kind_label": kind_label, "team_role_label": team_role_label, "lang": _lang()}
