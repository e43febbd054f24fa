"""Error pages in the app's layout and language, and JSON errors under /api/.

Without them a supervisor who follows an old link, sends an oversized photo without JavaScript or comes back
to a form whose session expired sees Werkzeug's bare English page with no way back. Blueprint handlers (the
API's, the compliance pages') still win: Flask consults them first.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db

log = logging.getLogger(__name__)


def _explanation(code: int) -> tuple[str, str]:
    """Title and a plain sentence saying what happened and what to do, translated at request time."""
    texts = {
        400: (_("The request could not be understood"),
              _("Something in what was sent is not valid. Go back, check the form and try again.")),
        403: (_("Not allowed"), _("Your role does not allow this. Ask your administrator if you need it.")),
        404: (_("Not found"),
              _("This page does not exist, or it belongs to a region outside your responsibility.")),
        405: (_("Not allowed"), _("This address cannot be used this way.")),
        409: (_("Conflict"), _("Someone else changed this in the meantime. Reload the page to see the latest "
                                "version.")),
        413: (_("File too large"),
              _("The file or form sent is larger than the server accepts. Use a smaller photo or file.")),
        429: (_("Too many attempts"), _("Wait a moment and try again.")),
        500: (_("Something went wrong"),
              _("The server could not complete the request and nothing was saved from it. Your earlier work "
                "is kept. Try again; if it happens again, tell your administrator the time it happened.")),
    }
    return texts.get(code, (_("Error"), _("The request could not be completed.")))


def _render(code: int, title: str, message: str) -> ResponseReturnValue:
    if request.path.startswith("/api/"):
        return jsonify(error=str(code), message=message), code
    try:
        return render_template("errors/error.html", code=code, title=title, message=message), code
    except Exception:  # noqa: BLE001 - the error page itself must never fail; fall back to plain text
        log.exception("error page could not be rendered")
        return f"{code} {title}\n\n{message}\n", code, {"Content-Type": "text/plain; charset=utf-8"}


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    if exc.code is None or exc.code < 400 or exc.response is not None:
        return exc
    title, message = _explanation(exc.code)
    return _render(exc.code, title, message)


def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
    return _render(400, _("The page expired"),
                   _("The form was open too long or was sent from another page, so it was not saved. Reload the "
                     "page and send it again."))


def _server_error(exc: InternalServerError) -> ResponseReturnValue:
    # The failed request's transaction may be unusable (a database error): end it, or rendering the page (which
    # reads the user and their language) fails too.
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the error page must still be shown
        log.exception("rollback after a server error failed")
    title, message = _explanation(500)
    return _render(500, title, message)


def init_app(app: Flask) -> None:
    """Register the handlers on the application (blueprints may still register their own)."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
