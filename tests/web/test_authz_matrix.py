"""Authorization matrix: every route × every role × inside / outside the user's region, and CSRF on every write.

``MATRIX`` below is the single table of who may do what. It is keyed by endpoint name and must name every
endpoint of ``app.url_map`` (``static`` aside) and every method of its rule: a route added later without an
entry fails ``test_matrix_names_every_route``, and an entry whose route is gone fails too. Each entry says, for
an anonymous visitor and for each role, the expected answer: one value for every region, or a pair
``(inside the user's region, outside it)``. The answers are status classes:

* ``"200"``, ``"400"``, ``"401"``, ``"403"``, ``"404"``, ``"409"``, ``"503"``: that status;
* ``"login"``: a redirect to the sign-in page;
* ``"302"``: a redirect anywhere else (a form's "done" or "refused" page; the database check tells which).

Each cell is requested for real. URL parameters are filled with objects of the region under test (see
tests/authz_fixtures.py: own district, the other district of the same province, another province); a request
that is not a GET must leave the database exactly as it was, unless the entry says its allowed cells change it.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from qa_app import create_app
from qa_app.extensions import db
from qa_app.inspections.models import Answer
from tests import authz_fixtures as af
from tests.authz_fixtures import REGIONS, ROLES, RegionObjects, World
from tests.conftest import make_app
from tests.factories import login

ANONYMOUS = "anonymous"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

OK, LOGIN, GO, BAD, UNAUTH, DENY, NOT_FOUND = "200", "login", "302", "400", "401", "403", "404"

Spec = str | tuple[str, str]
Params = Callable[[RegionObjects, str], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One probe of a route: the method, what fills it, and the expected answer for each role."""

    anonymous: str
    roles: Mapping[str, Spec]
    method: str = "GET"
    inspection: str = "draft"  # which of the region's inspections fills <inspection_id>
    query: Params | None = None  # a region-dependent query string (role given: scopes live in two unit systems)
    form: Params | None = None  # a minimal form body (None: no body at all)
    json: Params | None = None  # a minimal JSON body
    mutates: bool = False  # the allowed cells change data: each cell gets a fresh object (see fresh_photo)
    # For the CSRF test: a body that *would* change something if the token were not checked.
    csrf_form: Params | None = None
    csrf_json: Params | None = None
    csrf_inspection: str | None = None
    headers: Callable[[], dict[str, str]] | None = None  # extra request headers, made afresh for each cell
    ignore_tables: tuple[str, ...] = ()  # tables whose rows a refusal may add (e.g. a stored idempotent answer)
    notes: tuple[str, ...] = field(default=())


def everyone(answer: str) -> dict[str, Spec]:
    """The same answer for every role, wherever the object is."""
    return dict.fromkeys(ROLES, answer)


def scoped(answer: str) -> dict[str, Spec]:
    """``answer`` inside the user's region, 404 outside (the administrator's region is the whole country)."""
    return {**dict.fromkeys(ROLES, (answer, NOT_FOUND)), "admin": answer}


def only(roles: Mapping[str, Spec], others: Spec = DENY) -> dict[str, Spec]:
    """The given roles' answers, ``others`` for the rest.

    A reviewer scoped to a service area answers as the reviewer scoped to a district unless the entry says
    otherwise: the same role, and its area holds exactly the own region's commune, as the district holds the
    own region's facility. Every cell is still requested for real with the area-scoped account.
    """
    return {role: roles.get(role, roles.get("reviewer", others) if role == "area_reviewer" else others)
            for role in ROLES}


def unit_of(objects: RegionObjects, role: str) -> dict[str, Any]:
    # A provincial manager's scope is a 2025 province, a district user's a pre-2025 district: ask for the
    # region's unit in the user's own system, so "outside" means another region, not another unit system.
    # An area-scoped reviewer's units are the area's 2025 communes.
    return {"unit": objects.commune if role in ("provincial_manager", "area_reviewer") else objects.district}


def no_body(_objects: RegionObjects, _role: str) -> dict[str, Any]:
    return {}


def sync_body(objects: RegionObjects, _role: str) -> dict[str, Any]:
    return {"uuid": objects.draft_uuid, "facility_id": objects.facility, "inspection_date": af.DAY.isoformat(),
            "checklist": {"code": "fp-quality", "version": 1}}


def signature_body() -> dict[str, Any]:
    from tests.review_fixtures import STROKES, png_data_url

    return {"role": "head", "signer_name": "Nguyễn Văn Giám", "png": png_data_url(), "strokes": STROKES}


def idempotency_key() -> dict[str, str]:
    return {"Idempotency-Key": f"authz-{uuid.uuid4().hex}"}


EDITORS_IN_REGION = only({"supervisor": (BAD, NOT_FOUND), "admin": BAD})
REVIEWERS_IN_REGION = only({"reviewer": (GO, NOT_FOUND), "provincial_manager": (GO, NOT_FOUND),
                            "admin": GO})
PLAN_ROLES = ("reviewer", "provincial_manager", "admin")
PLANNERS_OK: dict[str, Spec] = dict.fromkeys(PLAN_ROLES, OK)
PLANNERS_IN_REGION: dict[str, Spec] = {"reviewer": (OK, NOT_FOUND), "provincial_manager": (OK, NOT_FOUND),
                                       "admin": OK}
PASSWORD = "Mat-khau-2025"

MATRIX: dict[str, Case | tuple[Case, ...]] = {
    # ------------------------------------------------------------------ public
    "core.index": Case(OK, everyone(OK)),
    # The matrix's database is made by create_all, not migrations: the health check honestly says 503.
    "core.healthz": Case("503", everyone("503")),
    "auth.login": (Case(OK, everyone(OK)),
                   Case(BAD, everyone(BAD), "POST", form=no_body,
                        csrf_form=lambda o, r: {"username": "giamsat.own", "password": PASSWORD})),
    "auth.logout": Case(LOGIN, everyone(LOGIN), "POST"),
    "minutes.verify": (Case(OK, everyone(OK)),
                       # A lookup is counted for the per-client rate limit (verify_hit), nothing else.
                       Case(OK, everyone(OK), "POST", form=no_body,
                            csrf_form=lambda o, r: {"number": "01/BB-TTYT", "year": "2026"},
                            ignore_tables=("verify_hit",))),
    # The QR code's target: public by design (anyone holding the paper may check it).
    "minutes.verify_token": Case(OK, everyone(OK)),
    # The installable offline app: its service worker and manifest are static-like and public (a tablet fetches
    # them while installing); the page itself is the inspecting roles' (their user id keys the tablet's data).
    "offline.service_worker": Case(OK, everyone(OK)),
    "offline.manifest": Case(OK, everyone(OK)),
    "offline.app_page": Case(LOGIN, only({"supervisor": OK, "admin": OK})),
    # A checklist version's blank form, kept on the tablet with the version (no facility, no region).
    "offline.checklist_form": Case(LOGIN, only({"supervisor": OK, "admin": OK})),
    # ------------------------------------------------------------------ administration
    "admin.users": Case(LOGIN, only({"admin": OK})),
    "admin.new_user": (Case(LOGIN, only({"admin": OK})),
                       Case(LOGIN, only({"admin": BAD}), "POST", form=no_body,
                            csrf_form=lambda o, r: {"username": "moi.nguoi", "full_name": "Người Mới",
                                                    "role": "supervisor", "scope": str(o.district),
                                                    "password": "Mat-khau-moi-2026", "active": "y"})),
    "admin.edit_user": (Case(LOGIN, only({"admin": OK})),
                        Case(LOGIN, only({"admin": BAD}), "POST", form=no_body,
                             csrf_form=lambda o, r: {"full_name": "Đổi Tên", "role": "admin", "scope": "",
                                                     "active": "y"})),
    # Ends the region's supervisor's sessions (the matrix signs in afresh for every cell, so nothing else changes).
    "admin.sign_out_everywhere": Case(LOGIN, only({"admin": GO}), "POST", ignore_tables=("audit_entry",)),
    # Service areas: administrators only; an empty upload or form is refused by the form (nothing saved).
    "areas.index": (Case(LOGIN, only({"admin": OK})),
                    Case(LOGIN, only({"admin": BAD}), "POST", form=no_body)),
    "areas.edit": (Case(LOGIN, only({"admin": OK})),
                   Case(LOGIN, only({"admin": BAD}), "POST", form=no_body,
                        csrf_form=lambda o, r: {"name": "Khu vực mới", "commune_codes": "03430",
                                                "valid_from": "2025-07-01"})),
    # ------------------------------------------------------------------ facilities
    "facilities.index": Case(LOGIN, everyone(OK)),
    "facilities.view": Case(LOGIN, scoped(OK)),
    "facilities.import_csv": (Case(LOGIN, only({"provincial_manager": OK, "admin": OK})),
                              Case(LOGIN, only({"provincial_manager": BAD, "admin": BAD}), "POST", form=no_body)),
    "facilities.import_template": Case(LOGIN, only({"provincial_manager": OK, "admin": OK})),
    # ------------------------------------------------------------------ inspections (pages)
    "inspections.start_page": Case(LOGIN, only({"supervisor": (OK, NOT_FOUND), "admin": OK}),
                                   query=lambda o, r: {"facility_id": o.facility}),
    # An unknown kind makes the authorized start a 400, so the probe starts nothing.
    "inspections.start": Case(LOGIN, EDITORS_IN_REGION, "POST",
                              form=lambda o, r: {"facility_id": o.facility, "kind": "bogus"},
                              csrf_form=lambda o, r: {"facility_id": o.facility, "kind": "external"}),
    "inspections.view": Case(LOGIN, scoped(GO)),
    # Reviewers are sent on to the read-only record; only editors get the form.
    "inspections.form": (Case(LOGIN, {**scoped(GO), "supervisor": (OK, NOT_FOUND), "admin": OK}),
                         # Past submission nobody edits: everyone is sent on to the read-only record.
                         Case(LOGIN, scoped(GO), inspection="approved")),
    # Without base_revision the no-script save refuses (flash and back to the item): nothing saved.
    "inspections.save_item": (Case(LOGIN, only({"supervisor": (GO, NOT_FOUND), "admin": GO}), "POST", form=no_body,
                                   csrf_form=lambda o, r: {"base_revision": "1", "value_choice": "not_met"}),
                              # A complete, well-formed change of an approved inspection: refused, nothing saved.
                              Case(LOGIN, only({"supervisor": (GO, NOT_FOUND), "admin": GO}), "POST",
                                   inspection="approved", form=lambda o, r: {"base_revision": "1",
                                                                             "value_choice": "not_met"})),
    "inspections.photo": Case(LOGIN, scoped(OK)),
    # ------------------------------------------------------------------ review and finishing
    "review.queue": Case(LOGIN, only({"reviewer": OK, "provincial_manager": OK, "admin": OK})),
    "review.inspection": Case(LOGIN, scoped(OK), inspection="submitted"),
    "review.finish": (Case(LOGIN, only({"supervisor": (OK, NOT_FOUND), "admin": OK})),
                      Case(LOGIN, only({"supervisor": (GO, NOT_FOUND), "admin": GO}), inspection="approved"),
                      # An opinion over 4000 characters is refused by the form: nothing is saved.
                      Case(LOGIN, EDITORS_IN_REGION, "POST", inspection="returned",
                           form=lambda o, r: {"facility_opinion": "x" * 4001},
                           csrf_form=lambda o, r: {"facility_opinion": "Đồng ý với kết quả"})),
    "review.save_signature": (Case(LOGIN, EDITORS_IN_REGION, "POST"),
                              Case(LOGIN, only({"supervisor": ("409", NOT_FOUND), "admin": "409"}), "POST",
                                   inspection="approved", json=lambda o, r: signature_body())),
    "review.signature_image": Case(LOGIN, scoped(OK), inspection="submitted"),
    # Empty comments are refused after the role and region checks (flash and back to the page).
    "review.comment": Case(LOGIN, REVIEWERS_IN_REGION, "POST", inspection="submitted", form=no_body,
                           csrf_form=lambda o, r: {"body": "Bổ sung ảnh"}),
    "review.return_inspection": Case(LOGIN, REVIEWERS_IN_REGION, "POST", inspection="submitted", form=no_body,
                                     csrf_form=lambda o, r: {"comment": "Thiếu chữ ký"}),
    # Probed on an approved inspection, so the authorized cells are refused as "already approved".
    "review.approve": Case(LOGIN, REVIEWERS_IN_REGION, "POST", inspection="approved", csrf_inspection="submitted"),
    "review.actions": Case(LOGIN, everyone(OK)),
    # Any role of the region may close a corrective action (the supervisor who checks it on the next visit, or
    # the reviewer); an empty evidence is refused after the region check.
    "review.action_done": Case(LOGIN, scoped(GO), "POST", form=no_body,
                               csrf_form=lambda o, r: {"evidence": "Đã niêm yết bảng giá"}),
    "minutes.download": Case(LOGIN, scoped(OK), inspection="approved"),
    # The unsigned record of a visit (awaiting filing): whoever may see the inspection, like the minutes.
    "minutes.record": Case(LOGIN, scoped(OK), inspection="submitted"),
    # ------------------------------------------------------------------ JSON API (401/403/404 as JSON)
    "api.inspection": Case(UNAUTH, scoped(OK)),
    "api.put_answer": (Case(UNAUTH, only({"supervisor": (BAD, NOT_FOUND), "admin": BAD}, (DENY, NOT_FOUND)),
                            "PUT", csrf_json=lambda o, r: {"value": "not_met", "base_revision": 1}),
                       # A well-formed change of an approved inspection: locked (409) for everyone in the region.
                       Case(UNAUTH, scoped("409"), "PUT", inspection="approved",
                            json=lambda o, r: {"value": "not_met", "base_revision": 1})),
    "api.post_photo": Case(UNAUTH, {**only({"supervisor": (BAD, NOT_FOUND), "admin": BAD}, (DENY, NOT_FOUND))},
                           "POST"),
    "api.delete_photo": Case(UNAUTH, {**only({"supervisor": (OK, NOT_FOUND), "admin": OK}, (DENY, NOT_FOUND))},
                             "DELETE", mutates=True),
    "api.session_info": Case(UNAUTH, everyone(OK)),
    "api.offline_facilities": Case(UNAUTH, everyone(OK)),
    "api.offline_bundle": Case(UNAUTH, only({"supervisor": (OK, NOT_FOUND), "admin": OK}, (DENY, NOT_FOUND))),
    # The offline sync of the region's existing draft with no changes: the role is checked first, then the
    # facility's region. Every answer, refusals included, is stored under its Idempotency-Key for replay.
    "api.sync_inspection": (Case(UNAUTH, only({"supervisor": (OK, NOT_FOUND), "admin": OK}), "POST",
                                 json=sync_body, headers=idempotency_key, ignore_tables=("sync_request",),
                                 csrf_json=lambda o, r: {**sync_body(o, r), "facility_opinion": {
                                     "value": "Đồng ý", "base": ""}}),
                            # A change sent for an approved inspection (a tablet that missed the approval).
                            Case(UNAUTH, only({"supervisor": ("409", NOT_FOUND), "admin": "409"}), "POST",
                                 json=lambda o, r: {**sync_body(o, r), "uuid": o.approved_uuid,
                                                    "facility_opinion": {"value": "Ghi đè", "base": ""}},
                                 headers=idempotency_key, ignore_tables=("sync_request",))),
    # ------------------------------------------------------------------ supervision rounds
    "rounds.index": Case(LOGIN, everyone(OK)),
    "rounds.mine": Case(LOGIN, everyone(OK)),
    "rounds.new": (Case(LOGIN, only(PLANNERS_OK)),
                   Case(LOGIN, only(dict.fromkeys(PLAN_ROLES, BAD)), "POST", form=no_body,
                        csrf_form=lambda o, r: {"name": "Đợt mới", "unit_id": str(o.district),
                                                "facility_types": "TYT", "start_date": "2026-01-01",
                                                "deadline": "2026-06-30", "coverage_target": "80"})),
    "rounds.view": Case(LOGIN, scoped(OK)),
    # Changing a round's dates or target: its managers only; an empty name is refused by the form (nothing saved).
    "rounds.edit": (Case(LOGIN, only(PLANNERS_IN_REGION)),
                    Case(LOGIN, only({"reviewer": (BAD, NOT_FOUND), "provincial_manager": (BAD, NOT_FOUND),
                                      "admin": BAD}), "POST", form=no_body,
                         csrf_form=lambda o, r: {"name": "Đợt gia hạn", "start_date": "2026-01-01",
                                                 "deadline": "2026-12-31", "coverage_target": "80"})),
    # Nothing ticked: refused after the role and region checks (flash, back to the round).
    "rounds.assign": Case(LOGIN, only({"reviewer": (GO, NOT_FOUND), "provincial_manager": (GO, NOT_FOUND),
                                       "admin": GO}), "POST", form=no_body,
                          csrf_form=lambda o, r: {"facility_ids": str(o.facility), "supervisor_id": "none"}),
    "rounds.round_report": Case(LOGIN, only(PLANNERS_IN_REGION)),
    "rounds.reports": Case(LOGIN, only(PLANNERS_IN_REGION), query=unit_of),
    "rounds.period_report": Case(LOGIN, only(PLANNERS_IN_REGION), query=unit_of),
    "rounds.self_assessments": Case(LOGIN, only(PLANNERS_IN_REGION), query=unit_of),
    # ------------------------------------------------------------------ compliance
    "compliance.dashboard": Case(LOGIN, scoped(OK), query=unit_of),
    "compliance.trajectory": Case(LOGIN, scoped(OK), query=unit_of),
    "compliance.failing": Case(LOGIN, scoped(OK), query=unit_of),
    "compliance.export_indicators": Case(LOGIN, scoped(OK), query=unit_of),
    "compliance.export_facilities": Case(LOGIN, scoped(OK), query=unit_of),
    "compliance_api.api_indicators": Case(UNAUTH, scoped(OK), query=unit_of),
    "compliance_api.api_facilities": Case(UNAUTH, scoped(OK), query=unit_of),
    # Province plans: provincial managers (their province, in the unit system of their scope) and
    # administrators. A unit-scoped account is sent on to its province's plan; an empty form is refused.
    "plans.index": Case(LOGIN, only({"provincial_manager": GO, "admin": OK})),
    "plans.edit": (Case(LOGIN, only({"provincial_manager": (OK, NOT_FOUND), "admin": OK}), query=unit_of),
                   Case(LOGIN, only({"provincial_manager": (BAD, NOT_FOUND), "admin": BAD}), "POST",
                        query=unit_of, form=no_body,
                        csrf_form=lambda o, r: {"base_version": "0", "name": "Kế hoạch", "effective_from":
                                                "2026-01-01"})),
    # Population figures: the same roles; an empty upload is refused by the form (nothing imported).
    "plans.population": (Case(LOGIN, only({"provincial_manager": OK, "admin": OK})),
                         Case(LOGIN, only({"provincial_manager": BAD, "admin": BAD}), "POST", form=no_body)),
}

# What fills each URL parameter, from the objects of the region under test.
ARGUMENTS: dict[str, Callable[[RegionObjects, Case], Any]] = {
    "inspection_id": lambda o, case: getattr(o, case.inspection),
    "photo_id": lambda o, case: o.photo,
    "photo_uuid": lambda o, case: o.photo_uuid,
    "action_id": lambda o, case: o.action,
    "facility_id": lambda o, case: o.facility,
    "user_id": lambda o, case: o.user,
    "item_id": lambda o, case: o.item,
    "token": lambda o, case: o.token,
    "role": lambda o, case: "head",
    "round_id": lambda o, case: o.round,
    "area_id": lambda o, case: o.area,
    "kind": lambda o, case: "progress",
    "ext": lambda o, case: "csv",
    "fmt": lambda o, case: "xlsx",
    "code": lambda o, case: "fp-quality",
    "version": lambda o, case: 1,
}
# Parameters that do not point into a region (the same URL for every region).
NEUTRAL_ARGUMENTS = {"role", "ext", "fmt", "token", "kind", "area_id", "code", "version"}


def _rules() -> list[Rule]:
    # Building the application does no database work, so the rules are known at collection time.
    # An instance folder that does not exist: a developer's instance/config.py must not shape the test.
    app = create_app({"TESTING": True, "SECRET_KEY": "collect", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "INSTANCE_PATH": str(Path(tempfile.gettempdir()) / "qa-authz-no-instance")})
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


RULES = _rules()
RULES_BY_ENDPOINT = {rule.endpoint: rule for rule in RULES}


def methods_of(rule: Rule) -> set[str]:
    """The methods a rule answers, without the automatic HEAD and OPTIONS."""
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def cases_of(endpoint: str) -> tuple[Case, ...]:
    """The matrix entry of an endpoint as a tuple."""
    entry = MATRIX[endpoint]
    return entry if isinstance(entry, tuple) else (entry,)


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, World]]:
    """One application and one world for the whole module (building it signs three minutes)."""
    app = make_app(Path(tmp_path_factory.mktemp("authz")))
    with app.app_context():
        db.drop_all()
        db.create_all()
    world = af.build_world(app)
    yield app, world
    with app.app_context():
        db.session.remove()
        if db.engine.url.database not in (None, "", ":memory:"):
            db.drop_all()
        db.engine.dispose()


# ---------------------------------------------------------------------------------------------- requests


def user_of(world: World, role: str) -> int | None:
    return None if role == ANONYMOUS else world.users[role]


def expected(case: Case, role: str, region: str) -> str:
    """The table's answer for a cell."""
    if role == ANONYMOUS:
        return case.anonymous
    spec = case.roles[role]
    if isinstance(spec, str):
        return spec
    return spec[0] if af.in_scope(role, region) else spec[1]


def answer_class(response: TestResponse) -> str:
    """The observed answer in the table's vocabulary."""
    if response.status_code in (301, 302, 303, 307, 308):
        return LOGIN if urlsplit(response.headers["Location"]).path == "/login" else GO
    return str(response.status_code)


def is_regional(rule: Rule, case: Case) -> bool:
    """Whether the request depends on the region (else one request per role is enough)."""
    return bool(set(rule.arguments) - NEUTRAL_ARGUMENTS) or case.query is not None or (
        case.form is not None and case.form is not no_body)


@dataclass
class Request:
    """A built request."""

    method: str
    url: str
    form: dict[str, Any] | None
    json: Any
    photo_uuid: str | None = None  # the fresh photo a mutating cell may delete
    headers: dict[str, str] = field(default_factory=dict)


def build_request(app: Flask, world: World, rule: Rule, case: Case, role: str, region: str, *,
                  csrf: bool = False) -> Request:
    """The URL and body of one cell, from the objects of ``region``."""
    objects = world.regions[region]
    if csrf and case.csrf_inspection:
        case = replace(case, inspection=case.csrf_inspection)
    unknown = set(rule.arguments) - set(ARGUMENTS)
    assert not unknown, f"{rule.endpoint}: say in ARGUMENTS how to fill {sorted(unknown)} from the world"
    kwargs = {name: ARGUMENTS[name](objects, case) for name in rule.arguments}
    fresh = None
    if case.mutates:
        fresh = kwargs["photo_uuid"] = af.fresh_photo(app, world, region)
    query = case.query(objects, role) if case.query else {}
    form_fn = (case.csrf_form or case.form) if csrf else case.form
    json_fn = (case.csrf_json or case.json) if csrf else case.json
    with app.test_request_context():
        url = url_for(rule.endpoint, **kwargs, **query)
    return Request(case.method, url, form_fn(objects, role) if form_fn else None,
                   json_fn(objects, role) if json_fn else None, fresh, case.headers() if case.headers else {})


def send(client: FlaskClient, request: Request, headers: dict[str, str] | None = None) -> TestResponse:
    kwargs: dict[str, Any] = {"method": request.method, "headers": {**request.headers, **(headers or {})}}
    if request.form is not None:
        kwargs["data"] = request.form
    if request.json is not None:
        kwargs["json"] = request.json
    return client.open(request.url, **kwargs)


def cells(rule: Rule, case: Case) -> Iterator[tuple[str, str]]:
    """(role, region) pairs to request: anonymous once, each role in every region the request depends on."""
    yield ANONYMOUS, "own"
    for role in ROLES:
        for region in (REGIONS if is_regional(rule, case) else ("own",)):
            yield role, region


# ---------------------------------------------------------------------------------------------- the matrix


def test_matrix_names_every_route() -> None:
    """Every endpoint and every method of its rule has an entry; no entry names a route that is gone."""
    missing = sorted(set(RULES_BY_ENDPOINT) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(RULES_BY_ENDPOINT))
    assert not missing, f"routes without an entry in the authorization matrix: {missing}"
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"
    for endpoint, rule in RULES_BY_ENDPOINT.items():
        probed = [case.method for case in cases_of(endpoint)]
        assert set(probed) == methods_of(rule), (
            f"{endpoint} answers {sorted(methods_of(rule))} but the matrix probes {probed}")
        for case in cases_of(endpoint):
            assert set(case.roles) == set(ROLES), f"{endpoint} {case.method}: give an answer for every role"


@pytest.mark.parametrize("endpoint", sorted(set(RULES_BY_ENDPOINT) | set(MATRIX)))
def test_authorization_matrix(world_app: tuple[Flask, World], endpoint: str) -> None:
    """Each cell of the endpoint answers as the table says; a refused write changes nothing."""
    app, world = world_app
    assert endpoint in MATRIX, f"{endpoint} has no entry in the authorization matrix"
    assert endpoint in RULES_BY_ENDPOINT, f"the matrix names {endpoint}, which is no longer a route"
    rule = RULES_BY_ENDPOINT[endpoint]
    client = app.test_client()
    wrong: list[str] = []
    for case in cases_of(endpoint):
        for role, region in cells(rule, case):
            login(client, user_of(world, role), locale="en")
            request = build_request(app, world, rule, case, role, region)
            before = af.fingerprint(app, case.ignore_tables) if case.method != "GET" else None
            response = send(client, request)
            got, want = answer_class(response), expected(case, role, region)
            where = f"{case.method} {request.url} as {role} ({region})"
            if got != want:
                wrong.append(f"{where}: expected {want}, got {got}")
                continue
            if request.url.startswith("/api/") and response.status_code >= 400:
                body = response.get_json(silent=True)
                if not isinstance(body, dict) or "error" not in body:
                    wrong.append(f"{where}: a refused API call must answer JSON with an error code")
            if before is None:
                continue
            if case.mutates and response.status_code < 300:
                if af.photo_exists(app, request.photo_uuid or ""):
                    wrong.append(f"{where}: allowed, yet the photo is still there")
            elif af.fingerprint(app, case.ignore_tables) != before:
                wrong.append(f"{where}: answered {got} but changed the database")
    assert not wrong, "\n".join(wrong)


LIST_PAGES = ("/facilities/", "/review/?tab=submitted", "/review/?tab=approved", "/review/actions",
              "/compliance/export/facilities.csv", "/api/v1/compliance/facilities", "/api/v1/offline/facilities",
              "/rounds/")
# Pages checked only for what they must not show (which rounds a period report includes is tested elsewhere).
LEAK_ONLY_PAGES = ("/rounds/reports",)


@pytest.mark.parametrize("url", LIST_PAGES + LEAK_ONLY_PAGES)
def test_lists_show_exactly_the_region(world_app: tuple[Flask, World], url: str) -> None:
    """A list shows the facilities (or rounds) of the user's region and none of another region's."""
    names = af.ROUND_NAMES if url.startswith("/rounds/") else af.FACILITY_NAMES
    app, world = world_app
    client = app.test_client()
    for role in ROLES:
        login(client, world.users[role], locale="en")
        response = client.get(url)
        if response.status_code == 403:
            continue  # the matrix says who may open the page
        assert response.status_code == 200, f"{url} as {role}: {response.status_code}"
        body = response.get_json(silent=True)
        # JSON escapes non-ASCII letters: compare the decoded document.
        text = response.get_data(as_text=True) if body is None else json.dumps(body, ensure_ascii=False)
        for region, name in names.items():
            if af.in_scope(role, region):
                assert name in text or url in LEAK_ONLY_PAGES, f"{url} as {role} does not show {name} of its region"
            else:
                assert name not in text, f"{url} as {role} shows {name} of a region outside its scope"


# ---------------------------------------------------------------------------------------------- CSRF


WRITES = sorted((rule.endpoint, method) for rule in RULES for method in methods_of(rule) if method in WRITE_METHODS)
TOKEN_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def authorized_role(case: Case) -> str:
    """The first role allowed to make the request in its own region (anonymous for public routes)."""
    refused = {LOGIN, UNAUTH, DENY, NOT_FOUND}
    if case.anonymous not in refused:
        return ANONYMOUS
    # Signing out is every signed-in user's right, though its answer is the sign-in page.
    return next((role for role in ROLES if expected(case, role, "own") not in refused), ROLES[0])


def csrf_token(client: FlaskClient) -> str:
    """The session's token, as the pages give it to forms and scripts."""
    match = TOKEN_META.search(client.get("/").get_data(as_text=True))
    assert match, "the home page carries no csrf-token meta tag"
    return match.group(1)


@pytest.mark.parametrize(("endpoint", "method"), WRITES)
def test_writes_without_csrf_token_are_refused(world_app: tuple[Flask, World], monkeypatch: pytest.MonkeyPatch,
                                               endpoint: str, method: str) -> None:
    """An authorized user's write without (or with a wrong) token is refused and changes nothing; with it, it
    reaches the view (the control that shows the refusal comes from the token, not from the body).

    No route is exempt from CSRF (there is no ``csrf.exempt`` in the code): the public verification upload is
    protected too, and its page carries the token like every other form.
    """
    app, world = world_app
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert endpoint in MATRIX, f"{endpoint} has no entry in the authorization matrix"
    rule = RULES_BY_ENDPOINT[endpoint]
    case = next(c for c in cases_of(endpoint) if c.method == method)
    role = authorized_role(case)
    client = app.test_client()
    for headers in ({}, {"X-CSRFToken": "not-the-token"}):
        login(client, user_of(world, role), locale="en")
        csrf_token(client)  # the session holds a token, as after any page: the forger just does not know it
        request = build_request(app, world, rule, case, role, "own", csrf=True)
        before = af.fingerprint(app)  # nothing ignored: a refused forgery stores nothing at all
        response = send(client, request, headers)
        assert response.status_code == 400, f"{method} {request.url} as {role}: {response.status_code}"
        if request.url.startswith("/api/"):
            assert response.get_json()["error"] == "csrf"
        else:
            # The app's own error page (core/errors.py), saying why nothing was saved: in English for signed-in
            # users (af.login chooses it), in the default Vietnamese for signed-out visitors.
            assert re.search("The page expired|Trang đã hết hạn", response.get_data(as_text=True))
        assert af.fingerprint(app) == before, f"{method} {request.url} changed the database without a token"
        if request.photo_uuid:
            assert af.photo_exists(app, request.photo_uuid)
        with client.session_transaction() as session:
            # Neither signed out (logout) nor signed in (login) by a forged request.
            assert session.get("user_id") == user_of(world, role)

    # Control: the table's minimal request with the session's token gets past CSRF to the view's own answer.
    login(client, user_of(world, role), locale="en")
    token = csrf_token(client)
    request = build_request(app, world, rule, case, role, "own")
    response = send(client, request, {"X-CSRFToken": token})
    assert answer_class(response) == expected(case, role, "own"), f"{method} {request.url} with the token"
    assert not re.search("The page expired|Trang đã hết hạn", response.get_data(as_text=True))


# ---------------------------------------------------------------------------------------------- mixed parameters


def test_parameters_cannot_be_mixed_across_regions(world_app: tuple[Flask, World]) -> None:
    """An object of the user's region in one parameter does not open another region's object in another."""
    app, world = world_app
    own, far = world.regions["own"], world.regions["far"]
    client = app.test_client()
    login(client, world.users["supervisor"], locale="en")
    # Another region's photo under the supervisor's own inspection.
    assert client.get(f"/inspections/{own.draft}/photos/{far.photo}").status_code == 404
    # Deleting another region's photo through the own inspection's no-script form: nothing is deleted.
    before = af.fingerprint(app)
    with app.app_context():
        revision = db.session.scalar(sa.select(Answer.revision).where(Answer.inspection_id == own.draft,
                                                                     Answer.item_id == own.item))
    response = client.post(f"/inspections/{own.draft}/items/{own.item}",
                           data={"base_revision": str(revision), "delete_photo": far.photo_uuid})
    assert response.status_code == 302
    assert af.photo_exists(app, far.photo_uuid)
    assert af.fingerprint(app) == before
    # The offline sync naming the own facility but another region's inspection: refused, nothing written.
    before = af.fingerprint(app, ("sync_request",))
    response = client.post("/api/v1/sync/inspections", headers=idempotency_key(),
                           json={**sync_body(own, "supervisor"), "uuid": far.draft_uuid,
                                 "facility_opinion": {"value": "Ghi đè", "base": ""}})
    assert response.status_code in (404, 409), response.get_json()
    assert af.fingerprint(app, ("sync_request",)) == before
    # A filter on another region's unit lists nothing of it.
    for unit in (far.district, far.commune, world.regions["sibling"].district):
        text = client.get(f"/facilities/?unit={unit}").get_data(as_text=True)
        assert af.FACILITY_NAMES["far"] not in text
        assert af.FACILITY_NAMES["sibling"] not in text
