"""The JSON API fuzzed from its own OpenAPI files (docs/openapi.yaml, docs/openapi-compliance.yaml) by schemathesis.

Every operation gets generated requests (valid ones and, in negative mode, ones that break the schema), sent
in-process to the Flask app (WSGI) as a signed-in supervisor of a small world (tests/inspection_fixtures.py).
Path parameters are the generated values part of the time and real ids the rest (the supervisor's draft, a
submitted inspection, another district's inspection, real item ids and a stored photo), so requests reach the
handlers' real work and not only the "not found" branch. Each response must be below 500 and conform to the
schema (status code documented, JSON body valid against the documented schema, content type documented).
CSRF is off in the test app (tests/conftest.py), so the generated X-CSRFToken header is not checked here;
tests/web/test_authz_matrix.py covers CSRF. Deterministic (derandomize=True) with few examples per operation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .. import inspection_fixtures as fx
from ..factories import login

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The rule (no 5xx) and the OpenAPI file's promises: documented status, content type and JSON body.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Every operation builds a fresh world (function-scoped app), so the fixture and filtering health checks are moot.
FUZZ = settings(max_examples=12, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def _real(name: str) -> str:
    """A stand-in for a real object's id: schemathesis draws cases while collecting, before the world exists."""
    return f"<real:{name}>"


def _with_real_ids(context: schemathesis.HookContext, path_parameters: dict[str, Any] | None) -> st.SearchStrategy:
    """Keep the generated path parameters, or swap in ids of real objects (each independently)."""
    if not path_parameters:
        return st.just(path_parameters)
    choices = {
        "inspection_id": ["draft", "submitted", "other_region"],
        "item_id": ["item0", "item1", "item2", "excluded_item"],
        "photo_uuid": ["photo"],
        "facility_id": ["tyt", "nt", "tyt2"],
    }
    parts = {name: (st.sampled_from([value, *map(_real, choices[name])]) if name in choices else st.just(value))
             for name, value in path_parameters.items()}
    return st.fixed_dictionaries(parts)


def _with_real_sync_parts(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy:
    """For offline sync, sometimes point a generated body at a real facility and checklist, to pass the lookups."""
    if context.operation is None or context.operation.path != "/sync/inspections" or not isinstance(body, dict):
        return st.just(body)
    real = {**body, "facility_id": _real("tyt"), "checklist": _real("checklist"), "inspection_date": _real("today")}
    return st.sampled_from([body, real])


def _with_real_compliance_unit(context: schemathesis.HookContext, query: dict[str, Any] | None) -> st.SearchStrategy:
    """For the compliance API, sometimes narrow to a unit of the supervisor's scope, or to one outside it."""
    if not isinstance(query, dict) or "unit" not in query:
        return st.just(query)
    return st.sampled_from([query, {**query, "unit": _real("d1")}, {**query, "unit": _real("d2")}])


def _resolve(container: Any, real: dict[str, Any]) -> Any:
    """Replace the stand-ins by the real values (top level of a dict: that is where the hooks put them)."""
    if not isinstance(container, dict):
        return container
    out = dict(container)
    for key, value in container.items():
        if isinstance(value, str) and value.startswith("<real:"):
            out[key] = real[value[len("<real:"):-1]]
    return out


def _load(name: str) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_path(str(DOCS / name))
    schema.hook("flatmap_path_parameters")(_with_real_ids)
    schema.hook("flatmap_body")(_with_real_sync_parts)
    schema.hook("flatmap_query")(_with_real_compliance_unit)
    return schema


FORM_API = _load("openapi.yaml")
COMPLIANCE_API = _load("openapi-compliance.yaml")


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """The supervisor's draft with a photo, a submitted inspection, another district's draft; the session cookie."""
    from qa_app.auth.models import User
    from qa_app.extensions import db
    from qa_app.inspections import services
    from qa_app.inspections.models import Inspection
    from qa_app.regions.models import AdminUnit

    ids: dict[str, Any] = fx.build_world(app)
    draft = fx.start(app, ids["tyt"], ids["sup"])
    submitted = fx.start(app, ids["nt"], ids["sup"])
    fx.submit_complete(app, submitted, ids["sup"])
    other_region = fx.start(app, ids["tyt2"], ids["sup2"])
    applicable, excluded = fx.applicable_ids(app, draft)
    with app.app_context():
        inspection = db.session.get(Inspection, draft)
        photo = services.add_photo(inspection, applicable[0], fx.jpeg_bytes(), db.session.get(User, ids["sup"]))
        db.session.commit()
        checklist = {"code": inspection.checklist_version.code, "version": inspection.checklist_version.version}
        today = inspection.inspection_date.isoformat()
        photo_uuid = str(photo.uuid)
        # The supervisor's district (in scope) and the neighbouring one (out of scope: 404).
        districts = {u.code: u.id for u in db.session.query(AdminUnit).filter_by(level="district")}
    real = {"tyt": ids["tyt"], "nt": ids["nt"], "tyt2": ids["tyt2"], "draft": draft, "submitted": submitted,
            "other_region": other_region, "item0": applicable[0], "item1": applicable[1], "item2": applicable[2],
            "excluded_item": excluded[0], "photo": photo_uuid, "checklist": checklist, "today": today,
            "d1": districts["106"], "d2": districts["107"]}
    client = app.test_client()
    login(client, ids["sup"])
    cookie = client.get_cookie("session")
    assert cookie is not None
    return {"cookies": {"session": cookie.value}, "real": real}


def _check(app: Flask, world: dict[str, Any], case: schemathesis.Case) -> None:
    case.path_parameters = _resolve(case.path_parameters, world["real"])
    case.query = _resolve(case.query, world["real"])
    case.body = _resolve(case.body, world["real"])
    # schemathesis asks for gzip like a browser, and the app compresses large JSON (qa_app compression); the
    # in-process WSGI client does not decompress, so ask for the plain body the checks can read.
    response = case.call(app=app, cookies=world["cookies"], headers={"Accept-Encoding": "identity"})
    case.validate_response(response, checks=CHECKS)


@FORM_API.parametrize()
@FUZZ
def test_form_api_conforms_to_its_openapi_file(app: Flask, world: dict[str, Any], case: schemathesis.Case) -> None:
    _check(app, world, case)


@COMPLIANCE_API.parametrize()
@FUZZ
def test_compliance_api_conforms_to_its_openapi_file(app: Flask, world: dict[str, Any],
                                                     case: schemathesis.Case) -> None:
    _check(app, world, case)
