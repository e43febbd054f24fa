"""Offline sync: a whole inspection kept on a tablet is sent in one request, applied exactly once.

``POST /api/v1/sync/inspections`` with an ``Idempotency-Key`` header. The inspection is named by the uuid the
tablet generated when it was started offline, so a retry can never create a second one; the key (stored with
the response in the same transaction as the changes) makes a retried request answer what the first one did.

Every change goes through ``inspections.services``, the same functions the form uses, so the server refuses
exactly what the form refuses. Each part carries what the tablet last saw of the server ("base"): an answer its
revision, the team, the corrective actions and the facility's opinion their server value, a signature the
sha256 of its image. A part the server changed since that base is a conflict: nothing is written and the
answer carries both versions (``mine`` and ``theirs``) for the supervisor to choose, never a silent overwrite.
See docs/offline.md.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import g, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from ..checklists import tablet
from ..checklists.answers import AnswerError, normalize_answer
from ..checklists.registry import checklist_of, programmes_for
from ..checklists.schema import DEFAULT_PROGRAMME, Item
from ..extensions import db
from ..facilities.models import Facility
from ..facilities.services import facility_for
from ..i18n import local_today
from ..inspections import present, services
from ..inspections.forms import PROGRAMME_LABELS
from ..inspections.models import CorrectiveAction, Inspection, Photo, Signature, TeamMember
from ..inspections.services import ConflictError, WorkflowError
from ..minutes.content import content_sha256, signature_valid
from .common import _answer_problem, api_login_required, bp, error
from .models import SyncRequest
from .sync_request import BadRequest, actions_key, canonical_hash, parse_request, team_key

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")
EDITOR_ROLES = ("supervisor", "admin")


@dataclass
class Outcome:
    """What applying a request produced: a status and a JSON body (stored for replay)."""

    status: int
    body: dict[str, Any]
    commit: bool = False
    conflicts: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- read endpoints


@bp.get("/session")
def session_info() -> ResponseReturnValue:
    """Who is signed in, with a fresh CSRF token: the offline page asks before every sync."""
    if g.user is None:
        return error("unauthenticated", _("You are signed out: sign in again (answers not yet saved stay "
                                          "on this device)."), 401)
    return jsonify(user={"id": g.user.id, "full_name": g.user.full_name, "role": g.user.role},
                   csrf_token=generate_csrf())


@bp.get("/offline/facilities")
@api_login_required
def offline_facilities() -> ResponseReturnValue:
    """Facilities of the user's region operating today that match ``q`` (name or code), at most 50."""
    from ..auth.services import facility_in_scope

    today = local_today()
    query = (sa.select(Facility).where(facility_in_scope(g.user), Facility.active_from <= today,
                                       sa.or_(Facility.active_to.is_(None), Facility.active_to >= today))
             .order_by(Facility.name).limit(50))
    q = (request.args.get("q") or "").strip()
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(Facility.name.ilike(like), Facility.code.ilike(like)))
    return jsonify(facilities=[{"id": f.id, "code": f.code, "name": f.name, "type": f.type}
                               for f in db.session.scalars(query)])


@bp.get("/facilities/<int:facility_id>/offline-bundle")
@api_login_required
def offline_bundle(facility_id: int) -> ResponseReturnValue:
    """Everything needed to inspect a facility offline today.

    The whole checklist version (the tablet keeps it once, by code, version and content hash) and the facility's
    profile (kept per facility): the tablet works out the applicable items itself, by the same rules. The server's
    own applicable set and its hash come along, so the tablet can check its engine before calling it ready.
    """
    facility = facility_for(g.user, facility_id)
    if facility is None:
        return error("not_found", _("No such facility in your region."), 404)
    if g.user.role not in EDITOR_ROLES:
        return error("forbidden", _("Only supervisors can inspect facilities."), 403)
    today = local_today()
    preview = present.start_preview(facility, today)
    if preview.version is None or preview.checklist is None:
        return error("cannot_start", preview.problem, 409)
    checklist = preview.checklist
    profile = facility.profile()
    return jsonify(
        open_inspections=_open_inspections(facility, (checklist.code, checklist.version)),
        programme=preview.programme,
        programme_label=str(PROGRAMME_LABELS.get(preview.programme, preview.programme)),
        other_programmes=_other_programmes(facility, preview, profile),
        prepared_for=today.isoformat(),
        facility={"id": facility.id, "code": facility.code, "name": facility.name, "type": facility.type,
                  "head_name": facility.head_name, "services": facility.services},
        profile=tablet.profile_json(profile),
        applicable=tablet.applicable_ids(checklist, profile),
        applicable_hash=tablet.applicable_hash(checklist, profile),
        checklist=tablet.checklist_json(checklist, preview.version.sha256),
    )


def _other_programmes(facility: Facility, preview: present.StartPreview,
                      profile: Any) -> list[dict[str, Any]]:
    """The other programmes the facility can be inspected under that day (a campaign, a self-assessment
    checklist), each with its whole checklist and the server's applicable hash, so the tablet can start them
    offline too, by the same rules as the main one."""
    found = []
    for programme, version in programmes_for(facility.type, preview.on).items():
        if programme == preview.programme:
            continue
        checklist = checklist_of(version)
        found.append({"programme": programme, "label": str(PROGRAMME_LABELS.get(programme, programme)),
                      "checklist": tablet.checklist_json(checklist, version.sha256),
                      "applicable_hash": tablet.applicable_hash(checklist, profile)})
    return found


def _open_inspections(facility: Facility, bundled: tuple[str, int]) -> list[dict[str, Any]]:
    """The facility's drafts and returned inspections this user may continue, so the tablet can go on offline.

    Each comes with the server's state (the bases of the next sync), the facility profile it was started with, the
    reviewer's comments of a returned one, and its checklist version when it is not the bundle's.
    """
    from ..inspections.models import ReviewComment

    rows = db.session.scalars(sa.select(Inspection).where(Inspection.facility_id == facility.id,
                                                          Inspection.status.in_(services.EDITABLE))
                              .order_by(Inspection.id)).all()
    found = []
    for inspection in rows:
        if not services.can_edit(g.user, inspection):
            continue
        version = inspection.checklist_version
        checklist = services.checklist_for(inspection)
        comments = db.session.scalars(sa.select(ReviewComment).where(ReviewComment.inspection_id == inspection.id)
                                      .order_by(ReviewComment.created_at, ReviewComment.id)).all() \
            if inspection.status == "returned" else []
        names = present.user_names({c.author_id for c in comments})
        general = [c for c in comments if c.item_id is None]
        found.append({
            "uuid": inspection.uuid, "status": inspection.status, "kind": inspection.kind,
            "inspection_date": inspection.inspection_date.isoformat(),
            "checklist": {"code": version.code, "version": version.version, "sha256": version.sha256},
            "checklist_content": (None if (version.code, version.version) == bundled
                                  else tablet.checklist_json(checklist, version.sha256)),
            "profile": tablet.profile_json(services.profile_of(inspection)),
            "server": server_state(inspection),
            "return_comment": ({"body": general[-1].body, "author": names.get(general[-1].author_id, "")}
                               if general else None),
            "item_comments": {c.item_id: c.body for c in comments if c.item_id is not None},
        })
    return found


# ---------------------------------------------------------------------------------------------- server state


def _team_rows(inspection: Inspection) -> list[TeamMember]:
    return list(db.session.scalars(sa.select(TeamMember).where(TeamMember.inspection_id == inspection.id)
                                   .order_by(TeamMember.position_order, TeamMember.id)))


def _action_rows(inspection: Inspection) -> list[CorrectiveAction]:
    return list(db.session.scalars(sa.select(CorrectiveAction)
                                   .where(CorrectiveAction.inspection_id == inspection.id)
                                   .order_by(CorrectiveAction.item_id, CorrectiveAction.id)))


def _signature_rows(inspection: Inspection) -> dict[str, Signature]:
    """Every stored signature by signer key, void ones included: what a tablet's signature "base" is compared with."""
    return {s.member_key or s.role: s for s in db.session.scalars(sa.select(Signature)
                                                                  .where(Signature.inspection_id == inspection.id))}


def _live_signatures(inspection: Inspection, current: str | None = None) -> dict[str, Signature]:
    """The signatures that still cover the current content: the only ones the tablet may show as signed.

    A signature voided by a later change is left out of the server state, so the tablet's pad asks for a new one
    and its own check before submitting does not count it, instead of "signed on the server" until the server
    refuses the submission.
    """
    current = current or content_sha256(inspection)
    return {role: s for role, s in _signature_rows(inspection).items() if signature_valid(s, current)}


def server_state(inspection: Inspection) -> dict[str, Any]:
    """The inspection as the server holds it, in the shape the tablet keeps (its new bases after a sync)."""
    answers = services.answers_of(inspection)
    names = present.user_names({a.updated_by_id for a in answers.values()})
    content = content_sha256(inspection)
    return {
        "inspection": {"id": inspection.id, "uuid": inspection.uuid, "revision": inspection.revision,
                       "status": inspection.status, "url": url_for("inspections.view", inspection_id=inspection.id),
                       "checklist": {"code": inspection.checklist_version.code,
                                     "version": inspection.checklist_version.version}},
        "answers": {item_id: {"value": a.value, "note": a.note, "revision": a.revision,
                              "updated_by": names.get(a.updated_by_id or 0)} for item_id, a in answers.items()},
        "team": [{"role": m.role, "full_name": m.full_name, "position": m.position} for m in _team_rows(inspection)],
        "corrective_actions": [{"item_id": a.item_id, "action": a.action, "responsible": a.responsible,
                                "deadline": a.deadline.isoformat()} for a in _action_rows(inspection)],
        "facility_opinion": inspection.facility_opinion,
        "facility_no_opinion": bool(inspection.facility_no_opinion),
        "signatures": {role: {"signer_name": s.signer_name, "sha256": hashlib.sha256(s.png).hexdigest()}
                       for role, s in _live_signatures(inspection, content).items()},
        "photos": list(db.session.scalars(sa.select(Photo.uuid).where(Photo.inspection_id == inspection.id)
                                          .order_by(Photo.id))),
        # What the record says now (minutes.content): the tablet sends it back with the signatures it makes.
        "content_sha256": content,
    }


# ---------------------------------------------------------------------------------------------- applying


def _workflow_message(exc: WorkflowError, inspection: Inspection, where: str, item: Item | None = None,
                      value: Any = None) -> str:
    """A refused change in the user's language, naming the part of the inspection."""
    from ..review.views import _refusal_message

    if exc.code == "bad_answer" and item is not None:
        return _answer_problem(item, value)
    if exc.code == "unknown_item":
        return _("Item %(item)s is not in this checklist.", item=where)
    if exc.code == "not_applicable":
        return _("Item %(item)s does not apply to this facility.", item=where)
    if exc.code == "bad_note":
        return _("The note of item %(item)s was refused: it must be text of at most 4000 characters.", item=where)
    if exc.code == "facility_inactive" or exc.code == "future_date" or exc.code == "no_checklist":
        return present.start_problem(exc.code, inspection.facility, inspection.inspection_date)
    return _refusal_message(exc, inspection)


def _same_answer(item: Item, current: Any, change: dict[str, Any]) -> bool:
    """Whether the server already holds what the tablet sends (a lost response, or two devices agreeing)."""
    if current is None:
        return False
    if "value" in change:
        try:
            normalised = normalize_answer(item, change["value"])
        except AnswerError:
            return False
        if (None if normalised is None else str(normalised)) != current.value:
            return False
    return not ("note" in change and (change["note"] or "").strip() != current.note)


def _apply(data: dict[str, Any]) -> Outcome:
    """Apply a parsed request in the open transaction; the caller commits only when ``commit`` is set."""
    user = g.user
    if data["user_id"] is not None and data["user_id"] != user.id:
        return Outcome(409, {"error": "wrong_user", "message": _(
            "These changes were made by another user on this tablet: they can only be sent when that user signs "
            "in.")})
    if user.role not in EDITOR_ROLES:
        return Outcome(403, {"error": "forbidden", "message": _("Only supervisors can inspect facilities.")})
    facility = facility_for(user, data["facility_id"])
    if facility is None:
        return Outcome(404, {"error": "not_found", "message": _("No such facility in your region."),
                             "field": "facility_id"})
    inspection = db.session.scalar(sa.select(Inspection).where(Inspection.uuid == data["uuid"]))
    created = inspection is None
    if inspection is not None:
        if inspection.facility_id != facility.id:
            return Outcome(409, {"error": "uuid_taken", "message": _(
                "This inspection id is already used for another facility."), "field": "uuid"})
        if not services.can_view(user, inspection):
            return Outcome(404, {"error": "not_found", "message": _("No such inspection in your region.")})
    else:
        # The programme is the one whose checklist the tablet started with: the exact version first, then the
        # code alone (a version replaced since the facility was prepared: refused below as changed, naming the one
        # in force); else the start page's fallback (routine, or a type's only programme).
        offered = programmes_for(facility.type, data["on"])
        sent = (data["checklist"]["code"], data["checklist"]["version"])
        programme = next((p for p, v in offered.items() if (v.code, v.version) == sent),
                         next((p for p, v in offered.items() if v.code == sent[0]), None))
        programme = present.offered_programme(offered, programme or DEFAULT_PROGRAMME)
        version = offered.get(programme)
        if version is not None and (version.code, version.version) != (data["checklist"]["code"],
                                                                       data["checklist"]["version"]):
            return _checklist_changed(data, version.code, version.version)
        try:
            inspection = services.start_inspection(facility, user, on=data["on"], kind=data["kind"],
                                                   client_uuid=data["uuid"], programme=programme)
        except WorkflowError as exc:
            message = present.start_problem(exc.code, facility, data["on"]) or exc.message
            return Outcome(422, {"error": exc.code, "message": message, "field": "inspection_date"})
    pinned = inspection.checklist_version
    if (pinned.code, pinned.version) != (data["checklist"]["code"], data["checklist"]["version"]):
        return _checklist_changed(data, pinned.code, pinned.version)

    checklist = services.checklist_for(inspection)
    if data["applicable_hash"] is not None:
        # The tablet worked out the applicable items itself: if it did not find the server's set (the facility's
        # services changed since it was prepared, or an older app), nothing is written, and the tablet stops the
        # form with a way to refresh, rather than let an inspection end with items never asked.
        profile = services.profile_of(inspection)
        if tablet.applicable_hash(checklist, profile) != data["applicable_hash"]:
            return Outcome(409, {"error": "applicability_changed", "field": "applicable_hash",
                                 "applicable": tablet.applicable_ids(checklist, profile),
                                 "profile": tablet.profile_json(profile), "message": _(
                                     "The items that apply to this facility on the server are not those on this "
                                     "tablet: nothing was sent. Refresh the facility, answer the items it adds, "
                                     "then send again.")})
    current_answers = services.answers_of(inspection)
    conflicts: list[dict[str, Any]] = []
    answer_writes = []
    for item_id, change in data["answers"].items():
        try:
            item = checklist.item(item_id)
        except KeyError:
            return Outcome(422, {"error": "unknown_item", "field": f"answers.{item_id}", "item_id": item_id,
                                 "message": _("Item %(item)s is not in this checklist.", item=item_id)})
        current = current_answers.get(item_id)
        if _same_answer(item, current, change):
            continue
        if (current.revision if current is not None else 0) != change["base_revision"]:
            theirs = present.conflict_json(item, services._answer_state(current))
            conflicts.append({"part": "answer", "item_id": item_id,
                              "mine": {k: change[k] for k in ("value", "note") if k in change}, "theirs": theirs})
            continue
        answer_writes.append((item, change))

    team_rows = _team_rows(inspection)
    team_now = [(m.role, m.full_name, m.position) for m in team_rows]
    team_write = _whole_part(data["team"], team_now, team_key, "team", conflicts,
                             lambda: server_state_part(inspection, "team"))
    actions_now = sorted((a.item_id, a.action, a.responsible, a.deadline.isoformat())
                         for a in _action_rows(inspection))
    actions_write = _whole_part(data["actions"], actions_now, actions_key, "corrective_actions", conflicts,
                                lambda: server_state_part(inspection, "corrective_actions"))
    opinion_write = _whole_part(data["opinion"], inspection.facility_opinion.strip(),
                                lambda v, _w: (v or "").strip(), "facility_opinion", conflicts,
                                lambda: inspection.facility_opinion, empty="")
    no_opinion_write = _whole_part(data["no_opinion"], bool(inspection.facility_no_opinion),
                                   lambda v, _w: bool(v), "facility_no_opinion", conflicts,
                                   lambda: bool(inspection.facility_no_opinion), empty=False)
    signatures_now = _signature_rows(inspection)
    signature_writes = []
    current_content = content_sha256(inspection) if data["signatures"] else None
    for role, sig in data["signatures"].items():
        existing = signatures_now.get(role)
        # A void signature (the content changed after it) is none: the tablet, which never received it, says so.
        if existing is not None and not signature_valid(existing, current_content):
            existing = None
        now_hash = hashlib.sha256(existing.png).hexdigest() if existing is not None else None
        mine_hash = hashlib.sha256(sig["png"]).hexdigest()
        if now_hash == mine_hash and existing is not None and existing.signer_name == sig["signer_name"].strip():
            continue
        if now_hash != sig["base"]:
            conflicts.append({"part": "signature", "role": role, "mine": {"signer_name": sig["signer_name"]},
                              "theirs": {"signer_name": existing.signer_name if existing else None,
                                         "signed_at": existing.signed_at.isoformat() if existing else None,
                                         "sha256": now_hash}})
            continue
        signature_writes.append((role, sig))

    # An opinion cleared (""), a choice withdrawn (False), a team or the actions emptied ([]) are changes too.
    changes = bool(answer_writes or signature_writes or team_write is not None or actions_write is not None
                   or opinion_write is not None or no_opinion_write is not None)
    wants_submit = data["submit"] and inspection.status in services.EDITABLE
    if conflicts:
        # The server's whole state goes with the conflicts, so the tablet can show both versions side by side.
        # First: a part changed on both sides is the supervisor's choice, never overwritten by a later request.
        return Outcome(409, {"error": "conflict", "message": ngettext_conflicts(len(conflicts)),
                             "conflicts": conflicts, "server": server_state(inspection)}, conflicts=conflicts)
    if signature_writes and data["seen_content"] is not None and data["seen_content"] != current_content:
        # Someone changed the record elsewhere (another device, the online form, a reviewer's return) since the
        # tablet last saw it: its signers signed other content. Nothing is written; the tablet takes the server's
        # record, voids those signatures and has it read and signed again.
        return Outcome(409, {"error": "content_changed", "server": server_state(inspection), "message": _(
            "The record changed on the server after it was signed on this tablet: read it again and sign again.")})
    if (changes or wants_submit) and inspection.status not in services.EDITABLE:
        return Outcome(409, {"error": "locked", "status": inspection.status, "server": server_state(inspection),
                             "message": _("This inspection is %(status)s and can no longer be changed.",
                                          status=_workflow_status(inspection.status))})
    if (changes or wants_submit) and not services.can_edit(user, inspection):
        return Outcome(403, {"error": "forbidden", "message": _("You may not change this inspection.")})

    try:
        for item, change in answer_writes:
            where = item.id
            services.save_answer(inspection, item.id, user, base_revision=change["base_revision"],
                                 **{k: change[k] for k in ("value", "note") if k in change})
        where = "team"
        if team_write is not None:
            services.set_team(inspection, team_write, user)
        where = "corrective_actions"
        if actions_write is not None:
            services.set_corrective_actions(inspection, actions_write, user)
        where = "facility_opinion"
        if opinion_write is not None or no_opinion_write is not None:
            services.set_facility_opinion(
                inspection, inspection.facility_opinion if opinion_write is None else opinion_write, user,
                no_opinion=bool(inspection.facility_no_opinion) if no_opinion_write is None else no_opinion_write)
        for role, sig in signature_writes:
            where = f"signatures.{role}"
            services.save_signature(inspection, role, sig["signer_name"], sig["png"], sig["strokes"], user)
    except ConflictError as exc:
        # Someone wrote between our read and our write: the same answer as a conflict found earlier.
        return Outcome(409, {"error": "conflict", "message": ngettext_conflicts(1),
                             "conflicts": [{"part": "answer", "item_id": where, "theirs": exc.current}]})
    except WorkflowError as exc:
        item = checklist.item(where) if where in {i.id for i in checklist.items} else None
        value = dict(answer_writes).get(item, {}).get("value") if item else None
        # item_id only when the refusal is about an item (the API's Error has it as a string when present).
        return Outcome(422, {"error": exc.code, "field": where if item is None else f"answers.{where}",
                             **({"item_id": item.id} if item else {}),
                             "message": _workflow_message(exc, inspection, where, item, value)})

    submit_problems: list[dict[str, Any]] = []
    if wants_submit:
        try:
            with db.session.begin_nested():
                services.submit(inspection, user)
        except WorkflowError as exc:
            # The draft is kept; what blocks submission is said, in the user's language and naming the items,
            # and the tablet shows it as a refusal at the top of the form (never as "synced").
            submit_problems = _submit_problems(inspection) if exc.code == "incomplete" else []
            if not submit_problems:
                submit_problems = [{"message": _workflow_message(exc, inspection, "submit"), "items": []}]
    body = server_state(inspection)
    body["created"] = created
    body["submitted"] = inspection.status == "submitted"
    body["submit_problems"] = [p["message"] for p in submit_problems]
    body["submit_problem_items"] = submit_problems
    if submit_problems:
        body["message"] = _("Saved, but not submitted: %(problems)s", problems="; ".join(body["submit_problems"]))
    return Outcome(201 if created else 200, body, commit=True)


def _submit_problems(inspection: Inspection) -> list[dict[str, Any]]:
    """What blocks submission, in the user's language, each with the items it concerns (the tablet links them)."""
    return [{"message": p.message, "items": list(p.items)} for p in services.submit_problems(inspection)]


def server_state_part(inspection: Inspection, part: str) -> Any:
    """One part of the server state, for a conflict's "theirs"."""
    return server_state(inspection)[part]


def _whole_part(part: tuple[Any, Any] | None, now: Any, key: Any, name: str, conflicts: list[dict[str, Any]],
                theirs: Any, empty: Any = None) -> Any:
    """The value to write for a whole-value part, None when nothing is to be written; records a conflict."""
    if part is None:
        return None
    value, base = part
    mine = key(value, f"{name}.value")
    if mine == now:
        return None
    # No base: the tablet saw the part empty (no team, no text, no choice).
    base_key = key(base if base is not None else [] if empty is None else empty, f"{name}.base")
    if base_key != now:
        conflicts.append({"part": name, "mine": value, "theirs": theirs()})
        return None
    return value


def _workflow_status(status: str) -> str:
    from ..facilities.labels import INSPECTION_STATUS_LABELS

    return str(INSPECTION_STATUS_LABELS.get(status, status))


def ngettext_conflicts(count: int) -> str:
    from flask_babel import ngettext

    return ngettext("%(num)d part of this inspection was changed on another device: choose which version to keep.",
                    "%(num)d parts of this inspection were changed on another device: choose which version to keep.",
                    count)


def _checklist_changed(data: dict[str, Any], code: str, version: int) -> Outcome:
    return Outcome(409, {"error": "checklist_changed", "field": "checklist", "message": _(
        "The tablet answered %(mine)s but the server uses %(theirs)s for this inspection: prepare the facility "
        "again.", mine=f"{data['checklist']['code']} v{data['checklist']['version']}", theirs=f"{code} v{version}")})


# ---------------------------------------------------------------------------------------------- endpoint


def _replay(stored: SyncRequest, request_hash: str) -> ResponseReturnValue:
    if stored.request_hash != request_hash:
        return error("idempotency_key_reused", _("This Idempotency-Key was already used for a different request: "
                                                 "make a new key for every new version of the changes."), 422)
    response = jsonify(stored.response)
    response.status_code = stored.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/sync/inspections")
@api_login_required
def sync_inspection() -> ResponseReturnValue:
    """Create or update an inspection made offline, exactly once per Idempotency-Key (see module docstring)."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not KEY_PATTERN.match(key):
        return error("idempotency_key_required", _("Send an Idempotency-Key header of 8 to 80 letters, digits or "
                                                   "-_.: made once per version of the changes."), 400)
    body = request.get_json(silent=True)
    request_hash = canonical_hash(body)

    def stored() -> SyncRequest | None:
        return db.session.scalar(sa.select(SyncRequest).where(SyncRequest.user_id == g.user.id,
                                                              SyncRequest.key == key))

    previous = stored()
    if previous is not None:
        return _replay(previous, request_hash)
    try:
        data = parse_request(body)
    except BadRequest as exc:
        return error(exc.code, exc.message, exc.status, field=exc.where)

    for _attempt in range(2):
        outcome = _apply(data)
        if not outcome.commit:
            # Nothing of a refused request is kept; its answer is, so that a retry gets the same one.
            db.session.rollback()
        db.session.add(SyncRequest(user_id=g.user.id, key=key, request_hash=request_hash,
                                   inspection_uuid=data["uuid"], status_code=outcome.status, response=outcome.body))
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            # A concurrent request with the same key (a retry racing the original) or the same new inspection
            # uuid won: undo ours, then replay its answer or apply ours again on top of what it created.
            db.session.rollback()
            previous = stored()
            if previous is not None:
                return _replay(previous, request_hash)
            continue
        return jsonify(outcome.body), outcome.status
    return error("busy", _("The server is busy with the same inspection: try again."), 503)
