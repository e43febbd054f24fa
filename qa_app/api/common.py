"""The API blueprint and what its two route modules share: the JSON error body, the sign-in check, and a refused
answer in words.

``api.views`` (the form's answer, photo and submit calls) and ``api.sync`` (the tablet's whole-inspection sync)
both register on ``bp`` and import from here, so neither imports the other back; ``api.views`` re-exports
these names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from ..checklists.answers import AnswerError, normalize_answer
from ..checklists.schema import Item

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(code: str, message: str, http_status: int, **extra: Any) -> ResponseReturnValue:
    """A JSON error body with a stable code and a message for people."""
    return jsonify(error=code, message=message, **extra), http_status


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
    return error("csrf", _("The page has expired or the security token is missing: reload the page "
                           "(answers not yet saved stay on this device)."), 400)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    return error("too_large", _("The file is too large to upload."), 413)


def api_login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """401 JSON (not a redirect to the sign-in page) for a request without a signed-in user."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return error("unauthenticated", _("You are signed out: sign in again (answers not yet saved stay "
                                              "on this device)."), 401)
        return view(*args, **kwargs)

    return wrapped


def _answer_problem(item: Item, value: object) -> str:
    """A refused answer in words, naming the item."""
    try:
        normalize_answer(item, value)
    except AnswerError as exc:
        if exc.code == "na_not_allowed":
            return _("Item %(item)s cannot be answered “not applicable”.", item=item.id)
        if exc.code == "invalid_choice":
            return _("Item %(item)s: “%(value)s” is not one of the allowed answers.", item=item.id, value=str(value))
        if exc.code == "not_a_number":
            return _("Item %(item)s needs a number.", item=item.id)
        if exc.code == "out_of_range":
            return _("Item %(item)s: the number is too large.", item=item.id)
        if exc.code == "too_long":
            return _("Item %(item)s: the text is too long.", item=item.id)
        if exc.code == "not_an_integer":
            return _("Item %(item)s needs a whole number.", item=item.id)
        if exc.code in ("below_min", "above_max"):
            low = "–" if item.min is None else f"{item.min:g}"
            high = "–" if item.max is None else f"{item.max:g}"
            return _("Item %(item)s: the number must be between %(low)s and %(high)s.", item=item.id, low=low,
                     high=high)
        if exc.code == "not_observed_not_allowed":
            return _("Item %(item)s cannot be answered “not observed”.", item=item.id)
        return _("Item %(item)s: the answer was refused (%(detail)s).", item=item.id, detail=str(exc))
    return _("Item %(item)s: the answer was refused.", item=item.id)
