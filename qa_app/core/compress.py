"""Gzip for generated pages and JSON.

The inspection form is ~250 KB of HTML for a 100-item checklist and tablets in mountain communes are on weak
3G: compressed it is ~30 KB. A reverse proxy may compress too; it leaves an already encoded response alone.
Files sent by ``send_file`` (static assets, photos, PDFs) are not touched: they are cached, ranged or already
compressed, and their ETags must stay those of the bytes on disk.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = frozenset({"text/html", "text/css", "text/plain", "text/csv", "application/json",
                          "application/javascript", "text/javascript", "application/manifest+json",
                          "image/svg+xml", "application/problem+json"})
MIN_SIZE = 1024  # below this gzip's header and the CPU are not worth it


def _compress(response: Response) -> Response:
    if (response.direct_passthrough or response.is_streamed or response.status_code != 200
            or "Content-Encoding" in response.headers or "Content-Range" in response.headers
            or response.mimetype not in COMPRESSIBLE):
        return response
    response.vary.add("Accept-Encoding")
    if request.accept_encodings["gzip"] <= 0:
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    if response.headers.get("ETag", "").startswith('"'):
        # The bytes differ from the identity encoding's, so a strong validator would be a lie (RFC 9110 8.8.1).
        response.headers["ETag"] = "W/" + response.headers["ETag"]
    return response


def init_app(app: Flask) -> None:
    """Compress eligible responses when the client accepts gzip (``QA_GZIP=false`` leaves it to the proxy)."""
    if app.config.get("GZIP", True):
        app.after_request(_compress)
