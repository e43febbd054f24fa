"""View models of the start page, the tablet form and the JSON API: labels, item rows, score and answer JSON.

Read-only: builds dictionaries and dataclasses from services and models for templates and JSON; never writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import defer

from ..auth.models import User
from ..checklists.models import ChecklistVersion
from ..checklists.registry import checklist_of, programmes_for
from ..checklists.schema import (
    DEFAULT_PROGRAMME,
    MET,
    NA,
    NOT_MET,
    NOT_OBSERVED,
    Checklist,
    FacilityProfile,
    Item,
    Section,
    item_applies,
)
from ..extensions import db
from ..facilities.labels import FACILITY_TYPE_LABELS, SERVICE_LABELS
from ..facilities.models import Facility
from ..i18n import date as fmt_date
from ..i18n import datetime as fmt_datetime
from ..i18n import pct
from ..scoring import Score
from . import services
from .models import Answer, CorrectiveAction, Inspection, Photo, ReviewComment

VERIFICATION_LABELS = {
    "QS": _l("Observation"),  # Quan sát
    "HS": _l("Records"),  # Hồ sơ, sổ sách
    "PV": _l("Staff interview"),  # Phỏng vấn nhân viên
    "PV-KH": _l("Client exit interview"),  # Phỏng vấn khách hàng
    "KK": _l("Stock check"),  # Kiểm kê
}

CLASSIFICATION_LABELS = {
    "meets": _l("Meets the standard"),
    "conditional": _l("Conditional"),
    "does_not_meet": _l("Does not meet the standard"),
}


def lang() -> str:
    """The request's language code ('vi' or 'en')."""
    locale = get_locale()
    return locale.language if locale is not None else "vi"


def classification_label(classification: str | None) -> str:
    """A classification in words ('—' when there is none yet)."""
    return str(CLASSIFICATION_LABELS.get(classification, "—")) if classification else "—"


def _join(labels: list[str]) -> str:
    return ", ".join(labels)


def service_labels(codes: tuple[str, ...] | list[str]) -> list[str]:
    """Translated names of service codes, in the given order."""
    return [str(SERVICE_LABELS.get(code, code)) for code in codes]


def exclusion_reason(item: Item, section: Section, profile: FacilityProfile) -> str:
    """Why an item does not apply to this facility, in words ('' when it applies)."""
    applies, reason = item_applies(item, section, profile)
    if applies:
        return ""
    if reason == "type":
        return _("Type: not applicable to %(type)s", type=str(FACILITY_TYPE_LABELS.get(profile.type, profile.type)))
    # The section's own service condition decides when the item has none, or when the section's fails first.
    offers = (section.applies_if_offers if section.applies_if_offers
              and not (set(section.applies_if_offers) & profile.services) else item.applies_if_offers)
    names = service_labels(offers)
    if len(names) == 1:
        return _("Service: the facility does not offer %(service)s", service=names[0])
    return _("Service: the facility offers none of %(services)s", services=_join(names))


def critical_text(item: Item, profile: FacilityProfile) -> str:
    """'Critical', or 'Critical because the facility offers …' for conditional ones; '' when not critical here."""
    if item.critical == "always":
        return _("Critical")
    if item.critical == "when_offers":
        offered = [code for code in item.critical_when_offers if code in profile.services]
        if offered:
            return _("Critical because the facility offers %(services)s", services=_join(service_labels(offered)))
    return ""


def answer_label(item: Item, value: str | None) -> str:
    """An answer in words, in the current language."""
    if value is None or value == "":
        return _("Not answered")
    if value == NA and item.answer_type != "text":
        return _("Not applicable")
    if value == NOT_OBSERVED and item.answer_type in ("yes_no_na", "scale"):
        return _("Not observed")
    if item.answer_type == "yes_no_na":
        return {MET: _("Met"), NOT_MET: _("Not met")}.get(value, value)
    if item.answer_type == "scale":
        for level in item.scale:
            if str(level.value) == value:
                return f"{level.value} – {level.label.get(lang())}"
    if item.answer_type == "options":
        return next((o.label.get(lang()) for o in item.options if o.value == value), value)
    if item.answer_type == "number" and item.unit is not None:
        return f"{value} {item.unit.get(lang())}"
    return value


# ---------------------------------------------------------------------------------------------- start page


@dataclass
class StartPreview:
    """What starting an inspection of a facility on a date would do, shown before anything is written."""

    on: dt.date
    version: ChecklistVersion | None
    checklist: Checklist | None
    problem: str = ""
    applicable: int = 0
    # (item, reason in words), in checklist order.
    excluded: list[tuple[Item, str]] = field(default_factory=list)
    # Per section with excluded items: (section, whether the whole section is left out, [(item, reason)]).
    by_section: list[tuple[Section, bool, list[tuple[Item, str]]]] = field(default_factory=list)
    # The programme previewed and every programme with a checklist for the facility that day.
    programme: str = DEFAULT_PROGRAMME
    programmes: list[str] = field(default_factory=list)


def start_problem(code: str, facility: Facility, on: dt.date) -> str:
    """A refused start in the user's language."""
    if code == "facility_inactive":
        return _("%(name)s was not operating on %(date)s: choose another date or facility.",
                 name=facility.name, date=fmt_date(on))
    if code == "future_date":
        return _("An inspection cannot be dated in the future (%(date)s).", date=fmt_date(on))
    if code == "no_checklist":
        return _("No published checklist is in force on %(date)s for this type of facility (%(type)s).",
                 date=fmt_date(on), type=str(FACILITY_TYPE_LABELS.get(facility.type, facility.type)))
    if code == "bad_kind":
        return _("Choose an external inspection or a self-assessment.")
    if code == "bad_programme":
        return _("Choose one of the programmes offered for this facility.")
    return ""


def offered_programme(offered: dict[str, ChecklistVersion], programme: str) -> str:
    """``programme`` if the facility is offered it, else routine supervision, else (a type only another programme
    serves: a mobile team, campaigns only) that programme, so a start always has a checklist when one exists."""
    if programme in offered or not offered:
        return programme
    return DEFAULT_PROGRAMME if DEFAULT_PROGRAMME in offered else next(iter(offered))


def start_preview(facility: Facility, on: dt.date, programme: str = DEFAULT_PROGRAMME) -> StartPreview:
    """The checklist version the rule chooses for the facility on ``on`` and the items it leaves out, and why.

    ``programmes`` lists every programme with a checklist for the facility's type that day (routine first), so the
    page can offer them; the preview itself is of ``programme``'s version.
    """
    # The same checks as services.start_inspection, so a problem shows before the supervisor presses Start.
    if not facility.is_active(on):
        return StartPreview(on, None, None, start_problem("facility_inactive", facility, on))
    if on > dt.date.today() + dt.timedelta(days=1):
        return StartPreview(on, None, None, start_problem("future_date", facility, on))
    offered = programmes_for(facility.type, on)
    programme = offered_programme(offered, programme)
    version = offered.get(programme)
    if version is None:
        return StartPreview(on, None, None, start_problem("no_checklist", facility, on),
                            programme=programme, programmes=list(offered))
    checklist = checklist_of(version)
    profile = facility.profile()
    preview = StartPreview(on, version, checklist, programme=programme, programmes=list(offered))
    for section in checklist.sections:
        left_out = []
        for item in section.items:
            reason = exclusion_reason(item, section, profile)
            if reason:
                left_out.append((item, reason))
            else:
                preview.applicable += 1
        if left_out:
            preview.excluded.extend(left_out)
            preview.by_section.append((section, len(left_out) == len(section.items), left_out))
    return preview


# ---------------------------------------------------------------------------------------------- score and answers


def score_json(score: Score) -> dict[str, Any]:
    """The running score as the API returns it (numbers, plus display strings in the user's language)."""
    cls = score.classification or score.provisional_classification
    return {
        "overall_percent": score.overall_percent,
        "provisional_classification": score.provisional_classification,
        "classification": score.classification,
        "complete": score.complete,
        "answered": score.answered_count,
        "applicable": score.applicable_count,
        "critical_failures": list(score.critical_failures),
        "sections": {s.section_id: s.percent for s in score.sections if s.applicable},
        "section_progress": {s.section_id: {"answered": s.answered, "applicable": s.applicable,
                                            "percent_display": pct(s.percent)}
                             for s in score.sections if s.applicable},
        # Score groups (empty for a checklist without groups): each part's percentage and own class.
        "groups": {g.group_id: {"percent": g.percent, "classification": g.classification, "applicable": g.applicable}
                   for g in score.groups},
        "display": {"overall": pct(score.overall_percent), "classification": classification_label(cls),
                    "progress": f"{score.answered_count}/{score.applicable_count}"},
    }


def user_names(ids: set[int | None]) -> dict[int, str]:
    """Full names of users by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def answer_json(answer: Answer, names: dict[int, str], item: Item | None = None) -> dict[str, Any]:
    """One saved answer as the API returns it."""
    data: dict[str, Any] = {
        "item_id": answer.item_id, "value": answer.value, "note": answer.note, "revision": answer.revision,
        "updated_by": names.get(answer.updated_by_id or 0), "updated_at": _iso(answer.updated_at),
    }
    if item is not None:
        data["value_label"] = answer_label(item, answer.value)
        data["updated_at_display"] = fmt_datetime(answer.updated_at) if answer.updated_at else ""
    return data


def conflict_json(item: Item, current: dict[str, Any]) -> dict[str, Any]:
    """The other writer's state of an item (from a ConflictError), with labels for the conflict box."""
    data = {"item_id": item.id, **current}
    value = current.get("value")
    data["value_label"] = answer_label(item, value if isinstance(value, str) else None)
    at = current.get("updated_at")
    data["updated_at_display"] = fmt_datetime(dt.datetime.fromisoformat(at)) if isinstance(at, str) else ""
    return data


def photo_json(photo: Photo) -> dict[str, Any]:
    """Photo metadata (the bytes are served by inspections.photo)."""
    return {
        "uuid": photo.uuid, "id": photo.id, "item_id": photo.item_id, "content_type": photo.content_type,
        "width": photo.width, "height": photo.height, "size_bytes": photo.size_bytes,
        "uploaded_at": _iso(photo.uploaded_at),
        "url": url_for("inspections.photo", inspection_id=photo.inspection_id, photo_id=photo.id),
        "thumb_url": url_for("inspections.photo", inspection_id=photo.inspection_id, photo_id=photo.id, size="thumb"),
    }


def photos_of(inspection: Inspection) -> list[Photo]:
    """The inspection's photos, oldest first, without loading their bytes."""
    return list(db.session.scalars(
        sa.select(Photo).where(Photo.inspection_id == inspection.id).order_by(Photo.id)
        .options(defer(Photo.data))))


def require_applicable_item(inspection: Inspection, item_id: str) -> Item:
    """The item, or a WorkflowError when it is unknown or does not apply to this facility (e.g. for photos)."""
    checklist = services.checklist_for(inspection)
    try:
        item = checklist.item(item_id)
    except KeyError:
        raise services.WorkflowError("unknown_item", f"item {item_id} is not in this checklist") from None
    applies, reason = item_applies(item, checklist.section(item.section_id), services.profile_of(inspection))
    if not applies:
        raise services.WorkflowError("not_applicable", f"item {item_id} does not apply to this facility ({reason})")
    return item


# ---------------------------------------------------------------------------------------------- the form


@dataclass
class ItemRow:
    """One answerable item as the form shows it."""

    item: Item
    text: str
    guidance: str
    critical: str
    verification: list[tuple[str, str]]
    answer: Answer | None
    photos: list[Photo]
    previous_failed: bool = False
    previous_label: str = ""
    open_actions: list[CorrectiveAction] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    # Drawn blank for the tablet only: the badge's words when the item is always critical, and for one critical
    # when the facility offers a service, the sentence and the services' names (the tablet picks the offered ones).
    critical_label: str = ""
    critical_when: dict[str, Any] | None = None

    @property
    def value(self) -> str | None:
        """The saved value ('' or None when unanswered)."""
        return self.answer.value if self.answer is not None else None

    @property
    def note(self) -> str:
        """The saved note."""
        return self.answer.note if self.answer is not None else ""

    @property
    def revision(self) -> int:
        """The saved answer's revision (0: nothing saved yet)."""
        return self.answer.revision if self.answer is not None else 0


@dataclass
class SectionView:
    """One section of the form: answerable items, and the ones left out by rule."""

    id: str
    title: str
    items: list[ItemRow]
    excluded: list[tuple[Item, str]]
    answered: int
    applicable: int
    percent: float | None
    # The section's instructions from the checklist file, in the user's language ("" without).
    instructions: str = ""


@dataclass
class FormView:
    """Everything the form template needs."""

    inspection: Inspection
    checklist: Checklist
    score: Score
    sections: list[SectionView]
    excluded_sections: list[tuple[Section, str, list[tuple[Item, str]]]]
    previous: Inspection | None
    return_comment: dict[str, Any] | None
    critical_count: int


def form_view(inspection: Inspection) -> FormView:
    """Build the form of an inspection: items with saved answers, photos, last visit's failures, open actions."""
    checklist = services.checklist_for(inspection)
    profile = services.profile_of(inspection)
    score = services.current_score(inspection)
    answers = services.answers_of(inspection)
    language = lang()
    photos: dict[str, list[Photo]] = defaultdict(list)
    for photo in photos_of(inspection):
        photos[photo.item_id].append(photo)
    previous = services.previous_inspection(inspection)
    previous_failed: dict[str, str | None] = {}
    if previous is not None:
        for item_id, value in db.session.execute(
                sa.select(Answer.item_id, Answer.value).where(Answer.inspection_id == previous.id,
                                                              Answer.failed.is_(True))):
            previous_failed[item_id] = value
    actions: dict[str, list[CorrectiveAction]] = defaultdict(list)
    for action in services.open_actions(inspection.facility_id):
        if action.inspection_id != inspection.id:
            actions[action.item_id].append(action)
    comments: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    return_comment = None
    if inspection.status == "returned":
        rows = db.session.scalars(sa.select(ReviewComment).where(ReviewComment.inspection_id == inspection.id)
                                  .order_by(ReviewComment.created_at, ReviewComment.id)).all()
        names = user_names({c.author_id for c in rows})
        for c in rows:
            comments[c.item_id].append({"body": c.body, "author": names.get(c.author_id, ""), "at": c.created_at})
        if comments.get(None):
            return_comment = comments[None][-1]

    sections: list[SectionView] = []
    excluded_sections = []
    for section, result in zip(checklist.sections, score.sections, strict=True):
        rows_: list[ItemRow] = []
        excluded: list[tuple[Item, str]] = []
        for item in section.items:
            reason = exclusion_reason(item, section, profile)
            if reason:
                excluded.append((item, reason))
                continue
            row = ItemRow(
                item=item, text=item.text.get(language), guidance=item.guidance.get(language),
                critical=critical_text(item, profile),
                verification=[(code, str(VERIFICATION_LABELS.get(code, code))) for code in item.verification],
                answer=answers.get(item.id), photos=photos.get(item.id, []),
                open_actions=actions.get(item.id, []), comments=comments.get(item.id, []))
            if item.id in previous_failed:
                row.previous_failed = True
                row.previous_label = answer_label(item, previous_failed[item.id])
            rows_.append(row)
        title = section.title.get(language)
        if rows_:
            sections.append(SectionView(section.id, title, rows_, excluded, result.answered, result.applicable,
                                        result.percent,
                                        section.instructions.get(language) if section.instructions else ""))
        else:
            reason = excluded[0][1] if excluded and all(r == excluded[0][1] for _i, r in excluded) else ""
            excluded_sections.append((section, reason, excluded))
    critical_count = sum(1 for s in sections for r in s.items if r.critical)
    return FormView(inspection, checklist, score, sections, excluded_sections, previous, return_comment,
                    critical_count)


def blank_sections(checklist: Checklist) -> list[SectionView]:
    """Every section and item of a checklist version, drawn with no inspection: the tablet's copy of the form.

    Which items apply, whether one is critical and every count depend on the facility; the tablet decides them by
    the same rules (static/js/qa-engine.js) and fills the copy from its own record.
    """
    language = lang()
    sections = []
    for section in checklist.sections:
        rows: list[ItemRow] = []
        for item in section.items:
            row = ItemRow(
                item=item, text=item.text.get(language), guidance=item.guidance.get(language), critical="",
                verification=[(code, str(VERIFICATION_LABELS.get(code, code))) for code in item.verification],
                answer=None, photos=[])
            if item.critical == "always":
                row.critical_label = _("Critical")
            elif item.critical == "when_offers":
                row.critical_when = {
                    "sentence": _("Critical because the facility offers %(services)s", services="{services}"),
                    "services": dict(zip(item.critical_when_offers,
                                         service_labels(item.critical_when_offers), strict=True))}
            rows.append(row)
        sections.append(SectionView(section.id, section.title.get(language), rows, [], 0, 0, None,
                                    section.instructions.get(language) if section.instructions else ""))
    return sections
