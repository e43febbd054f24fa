"""The shape of an offline sync request: types and formats of every part, each problem named by where it is
(``answers.B3.value``, ``signatures.head.png``). The meaning (may this user change this answer?) is checked by
the inspection services when the request is applied (see :mod:`.sync`)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import math
import re
import uuid as uuidlib
from typing import Any

from flask_babel import gettext as _

# A signer is keyed as the team's signer keys say (inspections.models.signer_keys): the first member of a role by
# the role ("head", "secretary"), the N-th by "role-N" ("member-2"). Whether that person is in the team is the
# service's check, after the request's team is applied.
SIGNER_KEY = re.compile(r"(head|deputy|member|secretary|facility_rep)(-[2-9]|-[1-9][0-9])?")
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
MAX_ANSWERS = 2000


class BadRequest(Exception):
    """A request the server cannot read: answered 400/422 with the field that is wrong."""

    def __init__(self, code: str, message: str, where: str, status: int = 422):
        super().__init__(message)
        self.code, self.message, self.where, self.status = code, message, where, status


def canonical_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          .encode("utf-8")).hexdigest()


def team_key(members: Any, where: str) -> list[tuple[str, str, str]]:
    """Team as the service keeps it (blank names skipped, text stripped), for comparing versions."""
    if not isinstance(members, list):
        raise BadRequest("bad_team", _("%(where)s must be a list of team members.", where=where), where)
    rows = []
    for index, member in enumerate(members):
        if not isinstance(member, dict) or not all(isinstance(member.get(k, ""), str)
                                                   for k in ("role", "full_name", "position")):
            raise BadRequest("bad_team", _("%(where)s: each member needs a role, a name and a position as text.",
                                           where=f"{where}[{index}]"), f"{where}[{index}]")
        if member.get("full_name", "").strip():
            rows.append((member.get("role", "").strip(), member["full_name"].strip(),
                         member.get("position", "").strip()))
    return rows


def actions_key(actions: Any, where: str) -> list[tuple[str, str, str, str]]:
    if not isinstance(actions, list):
        raise BadRequest("bad_action", _("%(where)s must be a list of corrective actions.", where=where), where)
    rows = []
    for index, entry in enumerate(actions):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k, ""), str)
                                                  for k in ("item_id", "action", "responsible", "deadline")):
            raise BadRequest("bad_action", _("%(where)s: each action needs an item, what, who and a deadline as "
                                             "text.", where=f"{where}[{index}]"), f"{where}[{index}]")
        rows.append((entry.get("item_id", "").strip(), entry.get("action", "").strip(),
                     entry.get("responsible", "").strip(), entry.get("deadline", "").strip()))
    return sorted(rows)


def _part(body: dict[str, Any], name: str) -> tuple[Any, Any] | None:
    """(value, base) of a whole-value part such as the team; None when the request does not change it."""
    if name not in body or body[name] is None:
        return None
    part = body[name]
    if not isinstance(part, dict) or "value" not in part:
        raise BadRequest("bad_json", _("%(where)s must be an object {\"value\": …, \"base\": …}.", where=name), name)
    return part["value"], part.get("base")


def _decode_png(data_url: Any, where: str) -> bytes:
    prefix = "data:image/png;base64,"
    message = _("%(where)s must be a PNG image as a data: URL of at most 2 MB.", where=where)
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        raise BadRequest("bad_signature", message, where)
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("bad_signature", message, where) from None
    if not raw.startswith(b"\x89PNG\r\n\x1a\n") or len(raw) > MAX_SIGNATURE_BYTES:
        raise BadRequest("bad_signature", message, where)
    return raw


def _strokes(strokes: Any, where: str) -> list[list[list[float]]]:
    message = _("%(where)s must be a list of strokes, each a list of [x, y] points between 0 and 1.", where=where)
    if not isinstance(strokes, list):
        raise BadRequest("bad_signature", message, where)
    clean = []
    for stroke in strokes:
        if not isinstance(stroke, list):
            raise BadRequest("bad_signature", message, where)
        points = []
        for point in stroke:
            if (not isinstance(point, list) or len(point) != 2
                    or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                               for v in point)):
                raise BadRequest("bad_signature", message, where)
            points.append([round(min(max(float(point[0]), 0.0), 1.0), 4),
                           round(min(max(float(point[1]), 0.0), 1.0), 4)])
        clean.append(points)
    return clean


def parse_request(body: Any) -> dict[str, Any]:
    """Check the shape of a sync request (types, formats); the services check the meaning."""
    if not isinstance(body, dict):
        raise BadRequest("bad_json", _("Send the inspection as a JSON object."), "", 400)
    try:
        inspection_uuid = str(uuidlib.UUID(str(body.get("uuid") or "")))
    except ValueError:
        raise BadRequest("bad_uuid", _("uuid must be the inspection's UUID made on the tablet."), "uuid") from None
    facility_id = body.get("facility_id")
    if isinstance(facility_id, bool) or not isinstance(facility_id, int) or not 0 < facility_id < 2**31:
        raise BadRequest("bad_facility", _("facility_id must be a facility's number."), "facility_id")
    try:
        on = dt.date.fromisoformat(str(body.get("inspection_date") or ""))
    except ValueError:
        raise BadRequest("bad_date", _("inspection_date must be a date such as 2026-11-22."),
                         "inspection_date") from None
    kind = body.get("kind", "external")
    if kind not in ("external", "self"):
        raise BadRequest("bad_kind", _("kind must be “external” or “self”."), "kind")
    checklist = body.get("checklist")
    if (not isinstance(checklist, dict) or not isinstance(checklist.get("code"), str)
            or isinstance(checklist.get("version"), bool) or not isinstance(checklist.get("version"), int)
            or not 0 < checklist["version"] < 2**31):
        raise BadRequest("bad_checklist", _("checklist must name the code and version the tablet answered."),
                         "checklist")
    answers = body.get("answers") or {}
    if not isinstance(answers, dict) or len(answers) > MAX_ANSWERS:
        raise BadRequest("bad_json", _("answers must be an object keyed by item id."), "answers")
    for item_id, change in answers.items():
        where = f"answers.{item_id}"
        if not isinstance(change, dict) or not ({"value", "note"} & change.keys()):
            raise BadRequest("empty", _("%(where)s must hold a value and/or a note.", where=where), where)
        value = change.get("value")
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            raise BadRequest("bad_answer", _("%(where)s.value must be text, a number or null.", where=where),
                             f"{where}.value")
        if not isinstance(change.get("note"), str | None):
            raise BadRequest("bad_note", _("%(where)s.note must be text.", where=where), f"{where}.note")
        base = change.get("base_revision")
        if isinstance(base, bool) or not isinstance(base, int) or not 0 <= base < 2**31:
            raise BadRequest("bad_revision", _("%(where)s.base_revision must be the answer's revision the tablet "
                                               "last saw (0 for none).", where=where), f"{where}.base_revision")
    signatures = body.get("signatures") or {}
    if not isinstance(signatures, dict):
        raise BadRequest("bad_signature", _("signatures must be an object keyed by signer (head, facility_rep, "
                                            "secretary, member-2…)."), "signatures")
    parsed_signatures = {}
    for role, sig in signatures.items():
        where = f"signatures.{role}"
        if not isinstance(role, str) or not SIGNER_KEY.fullmatch(role) or not isinstance(sig, dict):
            raise BadRequest("bad_signature", _("%(where)s: a signer is named by their role in the team, "
                                                "numbered from the second of a role (member-2).", where=where), where)
        base = sig.get("base")
        if base is not None and not isinstance(base, str):
            raise BadRequest("bad_signature", _("%(where)s.base must be the sha256 the tablet last saw, or null.",
                                                where=where), f"{where}.base")
        if not isinstance(sig.get("signer_name"), str):
            raise BadRequest("bad_signature", _("%(where)s.signer_name must be text.", where=where),
                             f"{where}.signer_name")
        parsed_signatures[role] = {"png": _decode_png(sig.get("png"), f"{where}.png"),
                                   "strokes": _strokes(sig.get("strokes"), f"{where}.strokes"),
                                   "signer_name": sig["signer_name"], "base": base}
    team = _part(body, "team")
    actions = _part(body, "corrective_actions")
    opinion = _part(body, "facility_opinion")
    # The facility's explicit choice to give no opinion (the minutes then say so), instead of any words.
    no_opinion = _part(body, "facility_no_opinion")
    if team is not None:
        team_key(team[0], "team.value")
        if team[1] is not None:
            team_key(team[1], "team.base")
    if actions is not None:
        actions_key(actions[0], "corrective_actions.value")
        if actions[1] is not None:
            actions_key(actions[1], "corrective_actions.base")
    if opinion is not None and (not isinstance(opinion[0], str) or not isinstance(opinion[1] or "", str)):
        raise BadRequest("bad_opinion", _("facility_opinion.value and .base must be text."), "facility_opinion")
    if no_opinion is not None and (not isinstance(no_opinion[0], bool)
                                   or not isinstance(no_opinion[1], bool | None)):
        raise BadRequest("bad_opinion", _("facility_no_opinion.value and .base must be true or false."),
                         "facility_no_opinion")
    submit = body.get("submit", False)
    if not isinstance(submit, bool):
        raise BadRequest("bad_json", _("submit must be true or false."), "submit")
    user_id = body.get("user_id")
    if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)):
        raise BadRequest("bad_json", _("user_id must be the number of the user who made the changes."), "user_id")
    applicable = body.get("applicable_hash")
    if applicable is not None and (not isinstance(applicable, str) or not re.fullmatch(r"[0-9a-f]{64}", applicable)):
        raise BadRequest("bad_json", _("applicable_hash must be the sha256 (hex) of the applicable item ids."),
                         "applicable_hash")
    # The server's visit content the tablet last saw (content_sha256 of its state): the signatures were made over
    # that, plus the changes this request carries.
    seen = body.get("seen_content")
    if seen is not None and (not isinstance(seen, str) or not re.fullmatch(r"[0-9a-f]{64}", seen)):
        raise BadRequest("bad_json", _("seen_content must be the content_sha256 the tablet last received."),
                         "seen_content")
    return {"uuid": inspection_uuid, "facility_id": facility_id, "on": on, "kind": kind, "checklist": checklist,
            "answers": answers, "signatures": parsed_signatures, "team": team, "actions": actions,
            "opinion": opinion, "no_opinion": no_opinion, "submit": submit, "user_id": user_id,
            "applicable_hash": applicable, "seen_content": seen}
