"""Generated pages and JSON travel gzipped to clients that accept it; files sent from disk are left alone."""

from __future__ import annotations

import gzip
from pathlib import Path

from flask import Flask

from tests.conftest import make_app


def test_pages_are_gzipped_only_for_clients_that_accept_it(app: Flask, client) -> None:
    plain = client.get("/login")
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]

    packed = client.get("/login", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data)


def test_refused_encoding_and_static_files_are_not_compressed(app: Flask, client) -> None:
    refused = client.get("/login", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers

    css = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200
    assert "Content-Encoding" not in css.headers
    assert css.data == (Path(app.static_folder) / "css" / "app.css").read_bytes()
    css.close()


def test_json_is_compressed_and_redirects_are_not(app: Flask, client) -> None:
    redirect = client.get("/facilities/", headers={"Accept-Encoding": "gzip"})
    assert redirect.status_code == 302 and "Content-Encoding" not in redirect.headers
    health = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert health.is_json or health.mimetype == "application/json"
    # Small JSON stays as it is: below the threshold gzip only adds bytes.
    assert "Content-Encoding" not in health.headers
    assert b'"database"' in health.data


def test_switched_off_by_configuration(tmp_path: Path) -> None:
    app = make_app(tmp_path, GZIP=False)
    response = app.test_client().get("/login", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
