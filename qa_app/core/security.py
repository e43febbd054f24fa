"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

# Integer ids are 32-bit on PostgreSQL; SQLite overflows past 64 bits.
MAX_DB_INT = 2**31 - 1

# No inline script anywhere: scripts come from /static only, so an injected <script> cannot run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'; worker-src 'self'; manifest-src 'self'")


HSTS = "max-age=31536000; includeSubDomains"


class DatabaseIntConverter(IntegerConverter):
    """``<int:…>`` limited to what an id column holds: a longer number is "not found", not a database error.

    (SQLite raises OverflowError beyond 64 bits, which was a 500 on /inspections/99999999999999999999.)
    """

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 - werkzeug's names
                 max: int | None = MAX_DB_INT, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def db_int(value: str) -> int:
    """An int query argument an id column can hold; ValueError otherwise (``request.args.get(…, type=db_int)``)."""
    number = int(value)
    if not -MAX_DB_INT <= number <= MAX_DB_INT:
        raise ValueError(value)
    return number


def unstorable_text(value: object) -> bool:
    """Whether a form value or decoded JSON holds text no database can store: NUL, or a lone UTF-16 surrogate.

    PostgreSQL refuses NUL in text and both databases fail to encode a lone surrogate ("\\ud800" in JSON): a 500
    deep in a service, after other writes, instead of a clear refusal. Walked without recursion.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, whose expiry slides only with the pages a person opens.

    Flask re-sends a permanent session's cookie with every response to slide its expiry. A response to a request
    sent with an older cookie then writes that cookie back, undoing whatever changed meanwhile: an icon of the
    previous page undid a ?lang= choice (seen at random in the offline browser test), and an autosave in flight
    while someone signs out on a shared tablet would sign them back in. Background requests (assets, fetch(),
    the service worker, told apart by the browser's Sec-Fetch-Mode) now send the cookie only when they change
    the session. Browsers without Sec-Fetch-Mode keep Flask's behaviour.
    """

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if not session.modified and request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate":
            return False
        return super().should_set_cookie(app, session)


def _refuse_unstorable_input() -> ResponseReturnValue | None:
    """400 for a request whose query, form fields or JSON body cannot be stored as text (see unstorable_text)."""
    try:
        values: list[object] = [*request.args.values()]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values.extend(request.form.values())  # files are bytes and not checked here
        if request.is_json:
            values.append(request.get_json(silent=True))  # cached: the view reads the same object
    except RequestEntityTooLarge:
        return None  # the view (or the 413 handler) reports it in its own words
    except RecursionError:
        values = ["\x00"]  # JSON nested too deep to decode is refused like unstorable text
    if not unstorable_text(values):
        return None
    message = _("The request contains characters that cannot be stored (a NUL character, or JSON nested too "
                "deeply or with a broken escape): remove them and try again.")
    if request.path.startswith("/api/"):
        return jsonify(error="bad_text", message=message), 400
    return Response(message, status=400, mimetype="text/plain")


def init_app(app: Flask) -> None:
    """Add the headers, and trust one reverse proxy's X-Forwarded-* when configured (QA_PROXY_FIX=1)."""
    # Before any blueprint is registered: rules pick their converters when they are added.
    app.url_map.converters["int"] = DatabaseIntConverter
    app.session_interface = SessionInterface()
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    app.before_request(_refuse_unstorable_input)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        if app.config.get("SESSION_COOKIE_SECURE") or request.is_secure:
            # Served over HTTPS (directly, or through the trusted proxy's X-Forwarded-Proto with QA_PROXY_FIX):
            # browsers must never fall back to plain HTTP, where the session cookie could be read or a page
            # altered on the way (a year, the usual minimum for preload lists).
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
