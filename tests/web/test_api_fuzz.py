"""Random and mutated JSON to every /api/v1 write endpoint: refused with a 4xx JSON error or accepted, never a 5xx.

Hypothesis drives it (deterministic, modest example counts). The hand-made strategies below reach deeper (valid
bodies with one part broken); tests/web/test_api_schemathesis.py fuzzes the same API from its OpenAPI files.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .. import inspection_fixtures as fx
from ..factories import login

FUZZ = settings(max_examples=80, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=30) | st.sampled_from(["met", "not_met", "na", "", "0", "-1", "1e999", "NaN", "A3",
                                                     "<script>alert(1)</script>", "ệ" * 5000, "\x00", "2025-13-45"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12) | st.sampled_from(["value", "note", "base_revision"]),
                                      inner, max_size=4), max_leaves=12)
ITEM_IDS = st.sampled_from(["A3", "A1", "C3", "Z9", "a3", "A3 ", "%00", "..", "A" * 300, "😀", "A3;DROP"])


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    ids = fx.build_world(app)
    ids["insp"] = fx.start(app, ids["tyt"], ids["sup"])
    return ids


def assert_not_5xx(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400 and response.mimetype == "application/json":
        assert response.get_json().get("error"), response.get_data(as_text=True)[:500]


def signed_in(app: Flask, world: dict[str, int]) -> FlaskClient:
    client = app.test_client()
    login(client, world["sup"])
    return client


@FUZZ
@given(body=JSON, item_id=ITEM_IDS)
def test_put_answer_with_random_json(app: Flask, world, body: object, item_id: str) -> None:
    client = signed_in(app, world)
    assert_not_5xx(client.put(f"/api/v1/inspections/{world['insp']}/answers/{item_id}", json=body))


@FUZZ
@given(value=SCALARS, note=SCALARS, base=SCALARS, item_id=ITEM_IDS, raw=st.binary(max_size=64))
def test_put_answer_with_random_fields_and_bytes(app: Flask, world, value: object, note: object, base: object,
                                                 item_id: str, raw: bytes) -> None:
    client = signed_in(app, world)
    url = f"/api/v1/inspections/{world['insp']}/answers/{item_id}"
    assert_not_5xx(client.put(url, json={"value": value, "note": note, "base_revision": base}))
    assert_not_5xx(client.put(url, data=raw, content_type="application/json"))


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["item_id", "client_uuid", "file", "other"]),
                              st.text(max_size=40), max_size=4), photo_uuid=st.text(max_size=40))
def test_photo_endpoints_with_random_fields(app: Flask, world, fields: dict[str, str], photo_uuid: str) -> None:
    client = signed_in(app, world)
    assert_not_5xx(client.post(f"/api/v1/inspections/{world['insp']}/photos", data=fields,
                               content_type="multipart/form-data"))
    assert_not_5xx(client.delete(f"/api/v1/photos/{photo_uuid.replace('/', '_') or 'x'}"))


def sync_body(world: dict[str, int]) -> dict[str, object]:
    return {
        "uuid": str(uuid.UUID(int=world["insp"] + 1000)), "facility_id": world["tyt"],
        "inspection_date": dt.date.today().isoformat(), "kind": "external",
        "checklist": {"code": "fp-quality", "version": 1},
        "answers": {"A3": {"value": "met", "note": "Có niêm yết", "base_revision": 0}},
        "team": {"value": [{"role": "head", "full_name": "Nguyễn Văn An"}], "base": None},
        "facility_opinion": {"value": "Đồng ý", "base": None},
        "submit": False,
    }


def paths_of(tree: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(tree, dict):
        for key, value in tree.items():
            out.extend(paths_of(value, (*prefix, key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            out.extend(paths_of(value, (*prefix, index)))
    return out


@FUZZ
@given(data=st.data())
def test_sync_with_mutated_bodies(app: Flask, world, data: st.DataObject) -> None:
    client = signed_in(app, world)
    body = copy.deepcopy(sync_body(world))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(paths_of(body)), label="path")
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans(), label="delete") and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JSON, label="value")
        if not isinstance(body, dict) or not body:
            break
    # Any printable header value (a client library refuses line breaks before they reach the server).
    key = data.draw(st.from_regex(r"[A-Za-z0-9_.:-]{8,20}", fullmatch=True)
                    | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20), label="key")
    response = client.post("/api/v1/sync/inspections", json=body, headers={"Idempotency-Key": key})
    assert_not_5xx(response)


@FUZZ
@given(body=JSON)
def test_sync_with_random_json(app: Flask, world, body: object) -> None:
    client = signed_in(app, world)
    assert_not_5xx(client.post("/api/v1/sync/inspections", json=body, headers={"Idempotency-Key": "fuzz-key-1"}))
