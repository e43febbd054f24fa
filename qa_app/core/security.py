"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.routing import IntegerConverter, Map

# Integer ids are 32-bit on PostgreSQL; SQLite overflows past 64 bits.
MAX_DB_INT = 2**31 - 1

# No inline script anywhere: scripts come from /static only, so an injected <script> cannot run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'; worker-src 'self'; manifest-src 'self'")


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


def init_app(app: Flask) -> None:
    """Add the headers, and trust one reverse proxy's X-Forwarded-* when configured (QA_PROXY_FIX=1)."""
    # Before any blueprint is registered: rules pick their converters when they are added.
    app.url_map.converters["int"] = DatabaseIntConverter
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        return response
