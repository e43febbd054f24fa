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
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from ..audit.services import record
from ..auth.models import User
from ..auth.services import facility_in_scope
from ..checklists.answers import AnswerError, normalize_answer
from ..checklists.models import ChecklistVersion
from ..checklists.registry import version_for
from ..checklists.schema import DEFAULT_PROGRAMME, PROGRAMMES, item_applies
from ..extensions import db, utcnow
from ..facilities.models import Facility
from ..minutes.services import issue_minutes
from ..scoring import Score, score_inspection
from . import status

# The workflow is shared out by step; every public name stays importable from here.
from .editing import (  # noqa: F401
    EDITABLE,
    ConflictError,
    _bump,
    _clean,
    _content_changed,
    _require_editable,
    _transition,
    _visible_memo,
    can_edit,
    can_review,
    can_view,
    claim_revision,
    facility_visible,
    note_visible,
)
from .finishing import (  # noqa: F401
    default_deadline,
    mark_action_done,
    open_actions,
    previous_inspection,
    save_signature,
    set_conclusion,
    set_corrective_actions,
    set_facility_opinion,
    set_team,
    set_team_decision,
)
from .models import (
    Answer,
    CorrectiveAction,
    Inspection,
    ReviewComment,
    SectionResult,
    TeamMember,
)
from .photos import (  # noqa: F401
    MAX_PHOTO_BYTES,
    MAX_PHOTO_PIXELS,
    PHOTO_MAX_SIDE,
    PHOTO_TYPES,
    StoredImage,
    add_photo,
    delete_photo,
    process_photo,
)

# The read helpers live below this module and minutes.services both; re-exported for existing callers.
from .reading import WorkflowError, answers_of, checklist_for, profile_of  # noqa: F401

# ---------------------------------------------------------------------------------------------- start


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
    for key, why in signature_problems(inspection):
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
