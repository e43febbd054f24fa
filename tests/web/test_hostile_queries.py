"""Every GET route, as an administrator, with hostile query arguments and out-of-range ids: a 4xx or a page,
never a 500 (huge numbers used to overflow SQLite's integers, year 1 the date arithmetic of the queries)."""

from __future__ import annotations

import inspect
import re

import pytest
from flask import Flask, url_for

from .. import inspection_fixtures as fx
from ..factories import login

HOSTILE = ["99999999999999999999", "2147483648", "-1", "0001-01-01", "9999-12-31", "2025-02-30", "\x00",
           "ệ" * 300, "'\"><script>alert(1)</script>", "A" * 3000, "1e309", "NaN", "[]"]
ARG = re.compile(r"""request\.(?:args|values|form)\.get\(\s*["'](\w+)["']|_(?:date|int)_arg\(\s*["'](\w+)["']""")
SKIP = {"static", "core.healthz"}  # healthz answers 503 on a database without migrations, by design


def query_names(view: object) -> set[str]:
    """The query arguments the view's module reads (so each is tried alone, not masked by another's refusal)."""
    source = inspect.getsource(inspect.getmodule(view))
    return {a or b for a, b in ARG.findall(source)} | {"page", "lang"}


def get_routes(app: Flask, ids: dict[str, int]) -> list[tuple[str, str, dict[str, object]]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIP:
            continue
        values: dict[str, object] = {}
        for name in rule.arguments:
            converter = type(rule._converters[name]).__name__
            values[name] = ids["insp"] if "Int" in converter else {"ext": "csv", "fmt": "pdf",
                                                                     "kind": "progress"}.get(name, "x")
        routes.append((rule.endpoint, rule.rule, values))
    return routes


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    ids = fx.build_world(app)
    ids["insp"] = fx.start(app, ids["tyt"], ids["sup"])
    return ids


def test_hostile_query_arguments_never_crash(app: Flask, world) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    login(client, world["admin"])
    crashes = []
    routes = get_routes(app, world)
    assert len(routes) > 30
    for endpoint, _rule, values in routes:
        with app.test_request_context():
            url = url_for(endpoint, **values)
        for name in sorted(query_names(app.view_functions[endpoint])):
            for value in HOSTILE:
                response = client.get(url, query_string={name: value})
                if response.status_code >= 500:
                    crashes.append((endpoint, name, value[:24], response.status_code))
    assert crashes == []


def test_ids_too_large_for_the_database_are_not_found(app: Flask, world) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    login(client, world["admin"])
    checked = 0
    for endpoint, rule, values in get_routes(app, world):
        ints = [name for name in values if f"<int:{name}>" in rule]
        for name in ints:
            for big in (2**31, 10**20):
                with app.test_request_context():
                    url = url_for(endpoint, **{**values, name: big})
                response = client.get(url)
                assert response.status_code == 404, (url, response.status_code)
                checked += 1
    assert checked > 10


FIELD = re.compile(r"^\s+(\w+)\s*=\s*\w*Field\(", re.MULTILINE)
HOSTILE_FORM = ["99999999999999999999", "-1", "0001-01-01", "\x00", "ệ" * 5000, "A" * 100_000, "NaN", " "]


def test_hostile_form_values_never_crash(app: Flask, world) -> None:
    """Every POST route (but signing in and out), each form field alone and all together, as an administrator."""
    from pathlib import Path

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    package = Path(app.root_path)
    fields = set(FIELD.findall("".join(p.read_text(encoding="utf-8") for p in package.rglob("forms.py"))))
    assert {"facility_id", "note", "comment"} <= fields
    crashes = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint.startswith("auth."):
            continue
        values = {name: world["insp"] if "Int" in type(rule._converters[name]).__name__
                  else {"item_id": "A3"}.get(name, "x") for name in rule.arguments}
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        names = query_names(app.view_functions[rule.endpoint]) | fields
        for value in HOSTILE_FORM:
            login(client, world["admin"])  # a route may have signed the client out or changed roles
            for body in [*({name: value} for name in sorted(names)), dict.fromkeys(names, value)]:
                response = client.post(url, data=body)
                if response.status_code >= 500:
                    crashes.append((rule.endpoint, sorted(body)[:3], value[:24]))
    assert crashes == []
