"""Inspection workflow: start, answer, finish, submit, review. Services flush, never commit; views commit once.

State machine (anything else is refused with a WorkflowError):

    draft ──submit──▶ submitted ──approve──▶ approved (final)
                         │  ▲
                  return │  │ submit (resubmit)
                         ▼  │
                       returned
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import io
import unicodedata
import uuid as uuidlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm.attributes import set_committed_value
from flask_babel import gettext as _

from ..audit.services import record
from ..auth.models import User
from ..auth.services import facility_in_scope
from ..checklists.answers import AnswerError, normalize_answer
from ..checklists.models import ChecklistVersion
from ..checklists.registry import checklist_by_id, checklist_of, version_for
from ..checklists.schema import DEFAULT_PROGRAMME, PROGRAMMES, Checklist, FacilityProfile, item_applies
from ..extensions import db, utcnow
from ..facilities.models import Facility
from ..scoring import Score, score_inspection
from . import status
from .models import (
    Answer,
    CorrectiveAction,
    Inspection,
    Photo,
    ReviewComment,
    SectionResult,
    Signature,
    TeamMember,
)

EDITABLE = ("draft", "returned")
MAX_PHOTO_BYTES = 12 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
PHOTO_MAX_SIDE = 1600
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class WorkflowError(Exception):
    """A refused operation; ``code`` is stable for the API, the message is for people."""

    status = 400

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ConflictError(WorkflowError):
    """Someone else changed the answer (or the inspection) since this writer last read it."""

    status = 409

    def __init__(self, message: str, current: dict[str, object]):
        super().__init__("conflict", message)
        self.current = current


# ---------------------------------------------------------------------------------------------- access


def can_view(user: User, inspection: Inspection) -> bool:
    """Whether ``user`` may see ``inspection``: their region, any role."""
    return facility_visible(user, inspection.facility_id)


def facility_visible(user: User, facility_id: int) -> bool:
    """Whether the facility lies in ``user``'s region subtree (checked in SQL, like every list).

    Remembered for the rest of the request (an autosave asked three times): a region does not change while
    one request runs.
    """
    memo = _visible_memo()
    key = (user.id, facility_id)
    if memo is not None and key in memo:
        return memo[key]
    visible = db.session.scalar(
        sa.select(Facility.id).where(Facility.id == facility_id, facility_in_scope(user))
    ) is not None
    if memo is not None:
        memo[key] = visible
    return visible


def _visible_memo() -> dict[tuple[int, int], bool] | None:
    if not has_request_context():
        return None
    memo = g.get("_facility_visible")
    if memo is None:
        memo = g._facility_visible = {}
    return memo


def note_visible(user: User, facility_id: int) -> None:
    """Record that a query filtered by facility_in_scope(user) found this facility (saves re-checking it)."""
    memo = _visible_memo()
    if memo is not None:
        memo[(user.id, facility_id)] = True


def can_edit(user: User, inspection: Inspection) -> bool:
    """Supervisors (and admins) of the region may edit drafts and returned inspections."""
    return (inspection.status in EDITABLE and user.role in ("supervisor", "admin")
            and can_view(user, inspection))


def can_review(user: User, inspection: Inspection) -> bool:
    """Reviewers, provincial managers and admins of the region review submitted inspections."""
    return user.role in ("reviewer", "provincial_manager", "admin") and can_view(user, inspection)


# ---------------------------------------------------------------------------------------------- start


def checklist_for(inspection: Inspection) -> Checklist:
    """The pinned checklist version of an inspection.

    Parsed checklists are cached by (version id, sha256) in the registry; this avoids even loading the
    version's content when the relationship is not loaded yet, and asks the database once per request.
    """
    version = inspection.__dict__.get("checklist_version")
    version_id = inspection.checklist_version_id
    if version is not None or version_id is None:
        return checklist_of(inspection.checklist_version)
    memo = g.setdefault("_checklists", {}) if has_request_context() else {}
    found = memo.get(version_id)
    if found is None:
        found = memo[version_id] = checklist_by_id(version_id)
    return found


def profile_of(inspection: Inspection) -> FacilityProfile:
    """The facility as it was on the day (type and services snapshot)."""
    return FacilityProfile(type=inspection.facility_type, services=frozenset(inspection.facility_services),
                           ownership=inspection.facility.ownership)


def start_inspection(facility: Facility, user: User, *, on: dt.date, kind: str = "external",
                     client_uuid: str | None = None, supersedes: Inspection | None = None,
                     programme: str = DEFAULT_PROGRAMME) -> Inspection:
    """Start an inspection with the checklist version chosen by rule; idempotent for a client uuid.

    The rule: within ``programme`` (routine supervision unless the supervisor picked another), the latest published
    version in force on ``on`` for the facility's type.
    """
    if client_uuid:
        try:
            client_uuid = str(uuidlib.UUID(client_uuid))
        except ValueError:
            raise WorkflowError("bad_uuid", f"'{client_uuid}' is not a UUID") from None
        existing = db.session.scalar(sa.select(Inspection).where(Inspection.uuid == client_uuid))
        if existing is not None:
            if existing.facility_id != facility.id or existing.created_by_id != user.id:
                raise WorkflowError("uuid_taken", "this inspection id is already used for another inspection")
            return existing
    if kind not in ("external", "self"):
        raise WorkflowError("bad_kind", f"unknown inspection kind '{kind}'")
    if programme not in PROGRAMMES:
        raise WorkflowError("bad_programme", f"unknown programme '{programme}'")
    if not facility.is_active(on):
        raise WorkflowError("facility_inactive", f"{facility.name} was not operating on {on:%d/%m/%Y}")
    if on > dt.date.today() + dt.timedelta(days=1):
        raise WorkflowError("future_date", "an inspection cannot be dated in the future")
    if supersedes is not None:
        # A correction re-does the same programme's inspection.
        programme = supersedes.checklist_version.programme
    version = version_for(facility.type, on, programme=programme)
    if version is None:
        raise WorkflowError("no_checklist",
                            f"no published {programme} checklist is effective on {on:%d/%m/%Y} "
                            f"for facility type {facility.type}")
    if supersedes is not None and (supersedes.status != "approved" or supersedes.facility_id != facility.id):
        raise WorkflowError("bad_correction", "only an approved inspection of the same facility can be corrected")
    inspection = Inspection(
        uuid=client_uuid or str(uuidlib.uuid4()), facility=facility, checklist_version=version, kind=kind,
        status="draft", inspection_date=on, created_by_id=user.id, facility_type=facility.type,
        facility_services=sorted(facility.services), supersedes_id=supersedes.id if supersedes else None,
    )
    db.session.add(inspection)
    db.session.flush()
    record("inspection.started", "inspection", inspection.id, user_id=user.id,
           details={"facility_id": facility.id, "checklist": f"{version.code} v{version.version}", "kind": kind,
                    "programme": programme,
                    "date": on.isoformat(), "supersedes": supersedes.id if supersedes else None})
    return inspection


# ---------------------------------------------------------------------------------------------- answers


def _clean(text: str) -> str:
    """Typed text as stored: NFC (a Vietnamese word typed on any keyboard is stored the same way) and trimmed."""
    return unicodedata.normalize("NFC", text).strip()


def _require_editable(inspection: Inspection, user: User) -> None:
    if inspection.status not in EDITABLE:
        raise WorkflowError("locked", f"this inspection is {inspection.status} and can no longer be changed")
    if not can_edit(user, inspection):
        raise WorkflowError("forbidden", "you may not change this inspection")


def _bump(inspection: Inspection, user: User) -> None:
    """Count an edit: compare-and-set on the status, so an edit never lands on a submitted or approved inspection.

    Incremented in SQL (UPDATE … SET revision = revision + 1), not in Python: two tablets saving different items
    at once both read revision N, and a Python increment would store N + 1 twice and lose a change's bump. The
    ``status IN ('draft', 'returned')`` condition is checked by the database when the row is written: an autosave
    that read "draft" just before a submit committed finds the row submitted here, and its whole transaction
    (the answer included) is refused instead of changing a locked inspection.
    """
    now = utcnow()
    revision = db.session.execute(
        sa.update(Inspection)
        .where(Inspection.id == inspection.id, Inspection.status.in_(EDITABLE))
        .values(revision=Inspection.revision + 1, updated_at=now)
        .returning(Inspection.revision)
        .execution_options(synchronize_session=False)).scalar()
    if revision is None:
        raise WorkflowError("locked", "this inspection was submitted or approved meanwhile and can no longer be changed")
    set_committed_value(inspection, "revision", revision)
    set_committed_value(inspection, "updated_at", now)


def claim_revision(inspection: Inspection, seen_revision: int) -> bool:
    """Bump the revision only if it is still ``seen_revision`` (and the inspection editable); False otherwise.

    A finishing page submits what it showed: claiming its revision first holds the row (PostgreSQL row lock,
    SQLite's single writer) from before the page's own writes until the submit commits, so an autosave that
    lands after the page was built makes the submit lose instead of slipping unseen into the submitted score.
    """
    now = utcnow()
    revision = db.session.execute(
        sa.update(Inspection)
        .where(Inspection.id == inspection.id, Inspection.revision == seen_revision,
               Inspection.status.in_(EDITABLE))
        .values(revision=Inspection.revision + 1, updated_at=now)
        .returning(Inspection.revision)
        .execution_options(synchronize_session=False)).scalar()
    if revision is None:
        return False
    set_committed_value(inspection, "revision", revision)
    set_committed_value(inspection, "updated_at", now)
    return True


def _transition(inspection: Inspection, expected: str, new: str, *, revision: int | None = None,
                **values: object) -> None:
    """Move the inspection from ``expected`` to ``new`` with one ``UPDATE … WHERE status = :expected``.

    Two reviewers (or a reviewer and a manager) deciding at the same moment both read "submitted"; only one
    UPDATE can still find it so, and the other one changes nothing and gets a 409 ("conflict"). With
    ``revision``, the row must also be at that revision: a submit whose score was computed before an autosave
    landed loses instead of locking in a stale score. Runs before any other write of the transition, so the
    loser leaves nothing behind; the winner holds the row (PostgreSQL row lock, SQLite's single writer) until
    its transaction, audit entry and minutes included, commits.
    """
    condition = [Inspection.id == inspection.id, Inspection.status == expected]
    if revision is not None:
        condition.append(Inspection.revision == revision)
    now = utcnow()
    new_revision = db.session.execute(
        sa.update(Inspection).where(*condition)
        .values(status=new, revision=Inspection.revision + 1, updated_at=now, **values)
        .returning(Inspection.revision)
        .execution_options(synchronize_session=False)).scalar()
    if new_revision is None:
        raise WorkflowError("conflict", f"the inspection is no longer {expected}: someone else changed it meanwhile")
    set_committed_value(inspection, "status", new)
    set_committed_value(inspection, "revision", new_revision)
    set_committed_value(inspection, "updated_at", now)
    for key, value in values.items():
        set_committed_value(inspection, key, value)


def _content_changed(inspection: Inspection, user: User) -> None:
    # Drawn signatures cover the content they were made over: a change voids them (minutes/content.py).
    from ..minutes.content import void_stale_signatures

    void_stale_signatures(inspection, user.id)


def answers_of(inspection: Inspection) -> dict[str, Answer]:
    """The inspection's answers by item id."""
    return {a.item_id: a for a in db.session.scalars(sa.select(Answer).where(Answer.inspection_id == inspection.id))}


_MISSING = object()


def save_answer(inspection: Inspection, item_id: str, user: User, *, value: object = _MISSING,
                note: object = _MISSING, base_revision: int | None = None) -> Answer:
    """Save one answer and/or note, refusing a stale write with a ConflictError (compare-and-set).

    ``base_revision`` is the answer's revision the client last saw (0 or None for "no answer yet").
    """
    _require_editable(inspection, user)
    checklist = checklist_for(inspection)
    try:
        item = checklist.item(item_id)
    except KeyError:
        raise WorkflowError("unknown_item", f"item {item_id} is not in this checklist") from None
    applies, reason = item_applies(item, checklist.section(item.section_id), profile_of(inspection))
    if not applies:
        raise WorkflowError("not_applicable", f"item {item_id} does not apply to this facility ({reason})")
    changes: dict[str, object] = {}
    if value is not _MISSING:
        try:
            normalised = normalize_answer(item, value)
        except AnswerError as exc:
            raise WorkflowError("bad_answer", str(exc)) from None
        changes["value"] = None if normalised is None else str(normalised)
    if note is not _MISSING:
        if note is not None and not isinstance(note, str):
            raise WorkflowError("bad_note", f"the note of item {item_id} must be text")
        text = _clean(note or "")
        if len(text) > 4000:
            raise WorkflowError("bad_note", f"the note of item {item_id} is longer than 4000 characters")
        changes["note"] = text
    if not changes:
        raise WorkflowError("empty", "nothing to save")
    base = base_revision or 0
    # The inspection row first, then its children, in every writer (submit and finish too): a fixed lock order,
    # so an autosave and a submit wait for each other instead of deadlocking on PostgreSQL.
    _bump(inspection, user)
    now = utcnow()
    answer = db.session.scalar(
        sa.select(Answer).where(Answer.inspection_id == inspection.id, Answer.item_id == item_id)
    )
    if answer is None:
        if base != 0:
            raise ConflictError(f"item {item_id} has no saved answer any more", {"revision": 0})
        answer = Answer(inspection_id=inspection.id, item_id=item_id, revision=1, updated_at=now,
                        updated_by_id=user.id, value=changes.get("value"), note=changes.get("note", ""))
        try:
            with db.session.begin_nested():
                db.session.add(answer)
        except sa.exc.IntegrityError:
            # Another writer created it between our read and our insert.
            current = db.session.scalar(
                sa.select(Answer).where(Answer.inspection_id == inspection.id, Answer.item_id == item_id))
            raise ConflictError(f"item {item_id} was answered by someone else meanwhile",
                                _answer_state(current)) from None
    else:
        if base != answer.revision:
            raise ConflictError(f"item {item_id} was changed by someone else meanwhile", _answer_state(answer))
        # Compare-and-set in SQL, so two requests that both read revision N cannot both win.
        result = db.session.execute(
            sa.update(Answer)
            .where(Answer.id == answer.id, Answer.revision == base)
            .values(revision=base + 1, updated_at=now, updated_by_id=user.id, **changes)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.refresh(answer)
            raise ConflictError(f"item {item_id} was changed by someone else meanwhile", _answer_state(answer))
        db.session.refresh(answer)
    if inspection.status == "returned":
        record("answer.changed_after_return", "inspection", inspection.id, user_id=user.id,
               details={"item": item_id, **{k: v for k, v in changes.items()}})
    db.session.flush()
    if changes:
        _content_changed(inspection, user)
    return answer


def _answer_state(answer: Answer | None) -> dict[str, object]:
    if answer is None:
        return {"revision": 0}
    by = db.session.get(User, answer.updated_by_id) if answer.updated_by_id else None
    return {"value": answer.value, "note": answer.note, "revision": answer.revision,
            "updated_by": by.full_name if by else None,
            "updated_at": answer.updated_at.isoformat() if answer.updated_at else None}


def current_score(inspection: Inspection) -> Score:
    """The running score from the answers saved so far."""
    # Only the two columns scoring needs: an autosave rescoring 100 answers should not build 100 ORM objects.
    answers = dict(db.session.execute(
        sa.select(Answer.item_id, Answer.value)
        .where(Answer.inspection_id == inspection.id, Answer.value.is_not(None))).all())
    return score_inspection(checklist_for(inspection), profile_of(inspection), answers)


# ---------------------------------------------------------------------------------------------- photos


@dataclass(frozen=True)
class StoredImage:
    """A re-encoded image ready to store."""

    data: bytes
    content_type: str
    width: int
    height: int


def process_photo(raw: bytes, max_side: int = PHOTO_MAX_SIDE) -> StoredImage:
    """Check that ``raw`` really is a JPEG/PNG/WebP image of sane size and re-encode it as a resized JPEG."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not raw:
        raise WorkflowError("bad_photo", "the photo is empty")
    if len(raw) > MAX_PHOTO_BYTES:
        raise WorkflowError("bad_photo", f"the photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in PHOTO_TYPES:
                raise WorkflowError("bad_photo", "only JPEG, PNG or WebP photos are accepted")
            if probe.width * probe.height > MAX_PHOTO_PIXELS:
                raise WorkflowError("bad_photo", "the photo has too many pixels")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((max_side, max_side))
            image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80, optimize=True)
            return StoredImage(out.getvalue(), "image/jpeg", image.width, image.height)
    except WorkflowError:
        raise
    except Image.DecompressionBombError:
        raise WorkflowError("bad_photo", "the photo has too many pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise WorkflowError("bad_photo", "the file is not a readable image") from None


def add_photo(inspection: Inspection, item_id: str, raw: bytes, user: User,
              client_uuid: str | None = None) -> Photo:
    """Attach a checked, resized photo to an item; idempotent for a client uuid."""
    _require_editable(inspection, user)
    checklist = checklist_for(inspection)
    try:
        checklist.item(item_id)
    except KeyError:
        raise WorkflowError("unknown_item", f"item {item_id} is not in this checklist") from None
    if client_uuid:
        existing = db.session.scalar(sa.select(Photo).where(Photo.uuid == client_uuid))
        if existing is not None:
            if existing.inspection_id != inspection.id:
                raise WorkflowError("uuid_taken", "this photo id is already used")
            return existing
    image = process_photo(raw)
    photo = Photo(uuid=client_uuid or str(uuidlib.uuid4()), inspection_id=inspection.id, item_id=item_id,
                  content_type=image.content_type, data=image.data, size_bytes=len(image.data),
                  width=image.width, height=image.height, sha256=hashlib.sha256(image.data).hexdigest(),
                  uploaded_by_id=user.id)
    _bump(inspection, user)
    db.session.add(photo)
    db.session.flush()
    return photo


def delete_photo(photo: Photo, user: User) -> None:
    """Remove a photo from an editable inspection."""
    inspection = db.session.get(Inspection, photo.inspection_id)
    _require_editable(inspection, user)
    _bump(inspection, user)
    db.session.delete(photo)
    db.session.flush()


# ---------------------------------------------------------------------------------------------- finishing


def set_team(inspection: Inspection, members: Iterable[Mapping[str, str]], user: User) -> list[TeamMember]:
    """Replace the team and facility representatives; needs one head and one facility representative."""
    _require_editable(inspection, user)
    rows: list[TeamMember] = []
    for order, member in enumerate(members):
        role = (member.get("role") or "").strip()
        name = _clean(member.get("full_name") or "")
        if not name:
            continue
        if role not in ("head", "deputy", "member", "secretary", "facility_rep"):
            raise WorkflowError("bad_team", _("unknown team role “%(role)s”", role=role))
        if len(name) > 120 or len(member.get("position") or "") > 160:
            raise WorkflowError("bad_team", _("the name or position of “%(name)s” is too long", name=name[:40]))
        rows.append(TeamMember(inspection_id=inspection.id, role=role, full_name=name,
                               position=_clean(member.get("position") or ""), position_order=order))
    for role, message in (("head", _("name exactly one head of the team")),
                          ("facility_rep", _("name exactly one facility representative"))):
        if sum(1 for r in rows if r.role == role) != 1:
            raise WorkflowError("bad_team", message)
    _bump(inspection, user)
    db.session.execute(sa.delete(TeamMember).where(TeamMember.inspection_id == inspection.id))
    db.session.add_all(rows)
    db.session.flush()
    _content_changed(inspection, user)
    return rows


def save_signature(inspection: Inspection, role: str, signer_name: str, png: bytes, strokes: list,
                   user: User) -> Signature:
    """Store a drawn signature; an empty pad (no strokes) is refused.

    ``role`` is the signer key of a team member (``signer_keys``: "head", "secretary", "member-2", …); the head
    and the facility representative may sign before the team is saved.
    """
    _require_editable(inspection, user)
    from ..minutes.content import signers

    key = role
    named = dict(signers(inspection))
    if key in named:
        role = named[key].role
    elif key not in ("head", "facility_rep"):
        raise WorkflowError("bad_signature", _("unknown signer “%(role)s”: no such member in the team", role=key))
    if not isinstance(strokes, list) or not any(isinstance(s, list) and len(s) >= 2 for s in strokes):
        raise WorkflowError("bad_signature", _("the signature pad is empty: please sign before saving"))
    if sum(len(s) for s in strokes if isinstance(s, list)) > 20_000:
        raise WorkflowError("bad_signature", _("the signature has too many points"))
    image = process_photo(png, max_side=800)
    signer_name = _clean(signer_name or "")
    if not signer_name:
        raise WorkflowError("bad_signature", _("the signer's name is required"))
    _bump(inspection, user)
    db.session.execute(sa.delete(Signature).where(Signature.inspection_id == inspection.id,
                                                  Signature.member_key == key))
    # Keep the PNG as drawn (transparent strokes) when it is a PNG; photos go through JPEG.
    from ..minutes.content import content_sha256

    sig = Signature(inspection_id=inspection.id, role=role, member_key=key, signer_name=signer_name[:120],
                    png=png if png.startswith(b"\x89PNG") else image.data, strokes=strokes,
                    content_sha256=content_sha256(inspection))
    db.session.add(sig)
    db.session.flush()
    return sig


def set_corrective_actions(inspection: Inspection, actions: Iterable[Mapping[str, object]],
                           user: User) -> list[CorrectiveAction]:
    """Replace the corrective actions of an editable inspection (what, who, deadline per failed item)."""
    _require_editable(inspection, user)
    checklist = checklist_for(inspection)
    rows = []
    for entry in actions:
        item_id = str(entry.get("item_id") or "")
        try:
            checklist.item(item_id)
        except KeyError:
            raise WorkflowError("bad_action", _("item %(item)s is not in this checklist", item=item_id)) from None
        what = _clean(str(entry.get("action") or ""))
        who = _clean(str(entry.get("responsible") or ""))
        deadline = entry.get("deadline")
        if isinstance(deadline, str):
            try:
                deadline = dt.date.fromisoformat(deadline)
            except ValueError:
                raise WorkflowError("bad_action", _("item %(item)s: “%(deadline)s” is not a date", item=item_id,
                                                      deadline=deadline)) from None
        if not what or not who or not isinstance(deadline, dt.date):
            raise WorkflowError("bad_action", _("item %(item)s: say what must be done, by whom and by when",
                                                  item=item_id))
        if deadline < inspection.inspection_date:
            raise WorkflowError("bad_action", _("item %(item)s: the deadline is before the inspection", item=item_id))
        rows.append(CorrectiveAction(inspection_id=inspection.id, facility_id=inspection.facility_id,
                                     item_id=item_id, action=what[:4000], responsible=who[:160], deadline=deadline))
    _bump(inspection, user)
    db.session.execute(sa.delete(CorrectiveAction).where(CorrectiveAction.inspection_id == inspection.id))
    db.session.add_all(rows)
    db.session.flush()
    _content_changed(inspection, user)
    return rows


def set_facility_opinion(inspection: Inspection, opinion: str, user: User, *, no_opinion: bool = False) -> None:
    """Record the inspected facility's opinion (ý kiến của cơ sở), or its explicit choice to give none."""
    _require_editable(inspection, user)
    opinion = _clean(opinion or "")
    if len(opinion) > 4000:
        raise WorkflowError("bad_opinion", "the facility's opinion is longer than 4000 characters")
    if opinion and no_opinion:
        raise WorkflowError("bad_opinion", "either write the facility's opinion or record that it has none")
    if opinion != inspection.facility_opinion or bool(no_opinion) != bool(inspection.facility_no_opinion):
        inspection.facility_opinion = opinion
        inspection.facility_no_opinion = bool(no_opinion)
        _bump(inspection, user)
        db.session.flush()
        _content_changed(inspection, user)


def set_team_decision(inspection: Inspection, number: str, on: dt.date | None, issuer: str, user: User) -> None:
    """Record the decision establishing the team (số, ngày, cơ quan ban hành); all three, or none to clear."""
    _require_editable(inspection, user)
    number, issuer = _clean(number or ""), _clean(issuer or "")
    if (number or issuer or on) and not (number and issuer and on):
        raise WorkflowError("bad_decision", "give the decision's number, date and issuing body together")
    if len(number) > 60 or len(issuer) > 200:
        raise WorkflowError("bad_decision", "the decision number (60) or issuing body (200) is too long")
    if on is not None and on > inspection.inspection_date:
        raise WorkflowError("bad_decision", "the team was established after the inspection date")
    if (number, on, issuer) != (inspection.team_decision_number, inspection.team_decision_date,
                                inspection.team_decision_issuer):
        inspection.team_decision_number, inspection.team_decision_date = number, on
        inspection.team_decision_issuer = issuer
        _bump(inspection, user)
        db.session.flush()
        _content_changed(inspection, user)


def set_conclusion(inspection: Inspection, strengths: str, shortcomings: str, user: User) -> None:
    """The team's Kết luận: strengths (ưu điểm) and shortcomings (tồn tại, hạn chế), as written."""
    _require_editable(inspection, user)
    strengths, shortcomings = _clean(strengths or ""), _clean(shortcomings or "")
    if len(strengths) > 4000 or len(shortcomings) > 4000:
        raise WorkflowError("bad_conclusion", "a conclusion field is longer than 4000 characters")
    if (strengths, shortcomings) != (inspection.conclusion_strengths, inspection.conclusion_shortcomings):
        inspection.conclusion_strengths, inspection.conclusion_shortcomings = strengths, shortcomings
        _bump(inspection, user)
        db.session.flush()
        _content_changed(inspection, user)


def default_deadline(inspection: Inspection) -> dt.date:
    """The checklist's default corrective deadline (conditional class) counted from the inspection date."""
    return inspection.inspection_date + dt.timedelta(days=checklist_for(inspection).scoring.corrective_days)


def mark_action_done(action: CorrectiveAction, evidence: str, user: User) -> CorrectiveAction:
    """Close a corrective action with the evidence that it was done."""
    if action.status == "done":
        raise WorkflowError("already_done", "this corrective action is already closed")
    evidence = _clean(evidence or "")
    if not evidence:
        raise WorkflowError("bad_evidence", "describe the evidence that the action was done")
    if not facility_visible(user, action.facility_id):
        raise WorkflowError("forbidden", "you may not change this facility's actions")
    # Compare-and-set: of two people closing the action at once, one wins and the other gets "already_done"; the
    # inspection must still be past editing (a return reopens its actions for editing).
    now = utcnow()
    under_review = sa.select(Inspection.id).where(Inspection.id == CorrectiveAction.inspection_id,
                                                   Inspection.status.in_(("submitted", "approved"))).exists()
    changed = db.session.execute(
        sa.update(CorrectiveAction)
        .where(CorrectiveAction.id == action.id, CorrectiveAction.status == "open", under_review)
        .values(status="done", evidence=evidence[:4000], done_at=now, done_by_id=user.id)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise WorkflowError("already_done", "this corrective action was closed (or its inspection returned) meanwhile")
    for key, value in (("status", "done"), ("evidence", evidence[:4000]), ("done_at", now), ("done_by_id", user.id)):
        set_committed_value(action, key, value)
    record("corrective_action.done", "corrective_action", action.id, user_id=user.id,
           details={"inspection_id": action.inspection_id, "item": action.item_id, "evidence": evidence[:500]})
    return action


def open_actions(facility_id: int) -> list[CorrectiveAction]:
    """Open corrective actions of a facility, oldest deadline first."""
    return list(db.session.scalars(
        sa.select(CorrectiveAction).join(Inspection)
        .where(CorrectiveAction.facility_id == facility_id, CorrectiveAction.status == "open",
               Inspection.status.in_(("submitted", "approved")))
        .order_by(CorrectiveAction.deadline)))


def previous_inspection(inspection: Inspection) -> Inspection | None:
    """The facility's latest submitted or approved inspection before this one."""
    return db.session.scalar(
        sa.select(Inspection)
        .where(Inspection.facility_id == inspection.facility_id, Inspection.id != inspection.id,
               Inspection.status.in_(("submitted", "approved")),
               Inspection.inspection_date <= inspection.inspection_date)
        .order_by(Inspection.inspection_date.desc(), Inspection.id.desc()).limit(1))


# ---------------------------------------------------------------------------------------------- submit, review


@dataclass(frozen=True)
class SubmitProblem:
    """One thing that blocks submission, worded in the user's language, with the items it concerns.

    The one list of submission checks: the finishing page shows it, submit() refuses with it and the offline
    sync sends it to the tablet (which links the items), so no page words a refusal differently.
    """

    message: str
    items: tuple[str, ...] = ()

    def __str__(self) -> str:
        if not self.items:
            return self.message
        return f"{self.message}: {', '.join(self.items[:10])}" + ("…" if len(self.items) > 10 else "")


def submit_problems(inspection: Inspection, score: Score | None = None) -> list[SubmitProblem]:
    """Everything that still blocks submission (empty when it can be submitted)."""
    from flask_babel import ngettext

    from ..minutes.content import signature_problems, signers

    score = score or current_score(inspection)
    problems: list[SubmitProblem] = []
    if score.unanswered:
        problems.append(SubmitProblem(ngettext("%(num)d applicable item is not answered",
                                               "%(num)d applicable items are not answered", len(score.unanswered)),
                                      tuple(score.unanswered)))
    if score.complete and score.classification is None:
        problems.append(SubmitProblem(_("At least one item must be scorable (not everything N/A)")))
    roles = {m.role for m in db.session.scalars(sa.select(TeamMember).where(TeamMember.inspection_id == inspection.id))}
    if "head" not in roles or "facility_rep" not in roles:
        problems.append(SubmitProblem(_("Name the head of the team and the facility representative.")))
    names = {key: member.full_name for key, member in signers(inspection)}
    for key, why in signature_problems(inspection, filing=False):
        if key == "head":
            text = (_("The head of the team has not signed.") if why == "missing" else
                    _("The head of the team's signature is void: the record changed after signing. Sign again."))
        elif key == "facility_rep":
            text = (_("The facility representative has not signed.") if why == "missing" else
                    _("The facility representative's signature is void: the record changed after signing. "
                      "Sign again."))
        else:
            name = names.get(key, key)
            text = (_("%(name)s has not signed.", name=name) if why == "missing" else
                    _("The signature of %(name)s is void: the record changed after signing. Sign again.", name=name))
        problems.append(SubmitProblem(text))
    acted = set(db.session.scalars(sa.select(CorrectiveAction.item_id)
                                   .where(CorrectiveAction.inspection_id == inspection.id)))
    missing = [i for i in score.failed_items if i not in acted]
    if missing:
        problems.append(SubmitProblem(ngettext("A corrective action is needed for %(num)d failed item",
                                               "A corrective action is needed for %(num)d failed items",
                                               len(missing)), tuple(missing)))
    return problems


def submission_problems(inspection: Inspection, score: Score | None = None) -> list[str]:
    """The same problems as one line each, with their items (the finishing page's to-do list)."""
    return [str(p) for p in submit_problems(inspection, score)]


def submit(inspection: Inspection, user: User, *, base_revision: int | None = None) -> Score:
    """Submit (or resubmit) a complete inspection: store the scores and lock the answers."""
    _require_editable(inspection, user)
    if base_revision is not None and base_revision != inspection.revision:
        raise ConflictError("the inspection was changed since you loaded it; reload before submitting",
                            {"revision": inspection.revision})
    score = current_score(inspection)
    problems = submission_problems(inspection, score)
    if problems:
        raise WorkflowError("incomplete", "; ".join(problems))
    checklist = checklist_for(inspection)
    previous_status = inspection.status
    # None only for a "not assessable" result where nothing at all could be scored.
    overall = (None if score.overall_percent is None else
               decimal.Decimal(str(score.overall_percent)).quantize(decimal.Decimal("0.01")))
    group_results = [
        {"id": g.group_id, "percent": g.percent, "classification": g.classification}
        for g in score.groups if g.applicable] if score.groups else None
    # The revision the score was computed at: an answer saved meanwhile makes this submit lose (409).
    _transition(inspection, previous_status, "submitted", revision=inspection.revision,
                overall_percent=overall, classification=score.classification, group_results=group_results,
                critical_failures=len(score.critical_failures), failed_items=len(score.failed_items),
                checklist_sha256=checklist.sha256, submitted_at=utcnow(), submitted_by_id=user.id)
    db.session.execute(sa.delete(SectionResult).where(SectionResult.inspection_id == inspection.id))
    for section in score.sections:
        if section.possible == 0 and section.applicable == 0:
            continue
        db.session.add(SectionResult(
            inspection_id=inspection.id, section_id=section.section_id,
            earned=decimal.Decimal(str(float(section.earned))).quantize(decimal.Decimal("0.0001")),
            possible=decimal.Decimal(str(float(section.possible))).quantize(decimal.Decimal("0.0001")),
            percent=None if section.percent is None else decimal.Decimal(str(section.percent)).quantize(
                decimal.Decimal("0.01")),
            critical_failures=len(section.critical_failures)))
    for answer in answers_of(inspection).values():
        result = score.items.get(answer.item_id)
        answer.failed = bool(result and result.failed)
        answer.critical_failure = bool(result and result.failed and result.critical)
    db.session.flush()
    record("inspection.resubmitted" if previous_status == "returned" else "inspection.submitted", "inspection",
           inspection.id, user_id=user.id,
           details={"overall": str(inspection.overall_percent), "classification": score.classification,
                    "critical_failures": list(score.critical_failures)})
    return score


def return_inspection(inspection: Inspection, reviewer: User, comment: str,
                      item_comments: Mapping[str, str] | None = None, *, seen_revision: int | None = None) -> None:
    """Send a submitted inspection back to the supervisor; a comment is mandatory.

    ``seen_revision``: the revision the reviewer's page showed; a decision on what has changed since is refused.
    """
    if inspection.status != "submitted":
        raise WorkflowError("bad_transition", f"only a submitted inspection can be returned (it is {inspection.status})")
    if not can_review(reviewer, inspection):
        raise WorkflowError("forbidden", "you may not review this inspection")
    comment = _clean(comment or "")
    if not comment:
        raise WorkflowError("comment_required", "say why the inspection is returned")
    _transition(inspection, "submitted", "returned", revision=seen_revision)
    add_comment(inspection, reviewer, comment)
    for item_id, body in (item_comments or {}).items():
        if (body or "").strip():
            add_comment(inspection, reviewer, body, item_id=item_id)
    db.session.flush()
    record("inspection.returned", "inspection", inspection.id, user_id=reviewer.id, details={"comment": comment})


def approve(inspection: Inspection, reviewer: User, *, seen_revision: int | None = None) -> None:
    """Approve a submitted inspection; approved inspections are final.

    ``seen_revision``: the revision the reviewer's page showed. A reviewer must approve what they read, not a
    version returned and resubmitted with other answers while their page was open.
    """
    if inspection.status != "submitted":
        raise WorkflowError("bad_transition", f"only a submitted inspection can be approved (it is {inspection.status})")
    if not can_review(reviewer, inspection):
        raise WorkflowError("forbidden", "you may not review this inspection")
    from ..minutes.content import signature_problems, signers

    # Filing applies the unit's signature over exactly the content signed at the visit: never over void ones.
    unsigned = signature_problems(inspection)
    if unsigned:
        names = {key: f"{member.full_name} ({member.role})" for key, member in signers(inspection)}
        raise WorkflowError("signatures_void", "the minutes cannot be filed: "
                            + ", ".join(f"{names.get(key, key)} {'has not signed' if why == 'missing' else why}"
                                        for key, why in unsigned)
                            + "; return the inspection so that they sign the current content again")
    # Only the winner of the compare-and-set goes on to number and sign the minutes, in the same transaction.
    _transition(inspection, "submitted", "approved", revision=seen_revision, approved_at=utcnow(),
                approved_by_id=reviewer.id)
    db.session.flush()
    # The facility's result intervals change with its new result, in this transaction (an approved correction
    # also ends the one it replaces).
    status.refresh([inspection.facility_id])
    record("inspection.approved", "inspection", inspection.id, user_id=reviewer.id,
           details={"overall": str(inspection.overall_percent), "classification": inspection.classification})
    from ..minutes.services import issue_minutes  # imported here: minutes.services imports this module

    if inspection.kind == "external":
        # A self-assessment is not an inspection by the unit: no minutes number, no unit signature; its
        # phiếu tự đánh giá is rendered on demand (minutes.record_pdf).
        issue_minutes(inspection, reviewer)


def add_comment(inspection: Inspection, author: User, body: str, item_id: str | None = None) -> ReviewComment:
    """Add a reviewer's comment on the inspection or on one item."""
    body = _clean(body or "")
    if not body:
        raise WorkflowError("comment_required", "the comment is empty")
    if item_id is not None:
        try:
            checklist_for(inspection).item(item_id)
        except KeyError:
            raise WorkflowError("unknown_item", f"item {item_id} is not in this checklist") from None
    comment = ReviewComment(inspection_id=inspection.id, item_id=item_id, body=body[:4000], author_id=author.id)
    db.session.add(comment)
    db.session.flush()
    record("inspection.commented", "inspection", inspection.id, user_id=author.id,
           details={"item": item_id, "body": body[:500]})
    return comment


def inspections_in_scope(user: User) -> sa.Select[tuple[Inspection]]:
    """Select of the inspections whose facility lies in ``user``'s region."""
    return sa.select(Inspection).join(Facility, Facility.id == Inspection.facility_id).where(facility_in_scope(user))


def version_label(version: ChecklistVersion) -> str:
    """'fp-quality v1' style label."""
    return f"{version.code} v{version.version}"
