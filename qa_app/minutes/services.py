"""Issuing, numbering, archiving and verifying the signed minutes of approved inspections (flush, never commit)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..audit.services import head as audit_head
from ..audit.services import record
from ..auth.models import User
from ..checklists.schema import item_applies, item_is_critical
from ..extensions import db, utcnow
from ..facilities.models import Facility
from ..inspections.models import Answer, CorrectiveAction, Inspection, Signature, TeamMember
from ..inspections.reading import WorkflowError, answers_of, checklist_for, profile_of
from ..pdf import signing
from ..pdf.minutes import (
    ActionRow,
    AnnexRow,
    AnnexSection,
    FailedItem,
    MinutesView,
    Person,
    SectionRow,
    SignatureBox,
    build_minutes_pdf,
    labels,
)
from ..regions.models import AdminUnit
from ..scoring import score_inspection
from . import content as visit_content
from . import text as visit_rules
from .models import Minutes, MinutesCounter, VerifyHit

log = logging.getLogger(__name__)

DEFAULTS = {
    "ISSUING_UNIT_CODE": "TTKSBT",
    "ISSUING_UNIT_NAME": "TRUNG TÂM KIỂM SOÁT BỆNH TẬT",
    "ISSUING_UNIT_PARENT": "SỞ Y TẾ TỈNH LAI CHÂU",
    "ISSUING_UNIT_PLACE": "Lai Châu",
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    "MINUTES_DECISION": "Kế hoạch giám sát chất lượng dịch vụ KHHGĐ năm {year}",
    "MINUTES_LOCALE": "vi",
    # Besides the inspected facility (always first); a list, or one string separated by ";".
    "MINUTES_RECIPIENTS": ("Sở Y tế tỉnh Lai Châu (để b/c)",),
    "MINUTES_MAX_UPLOAD": 10 * 1024 * 1024,  # below MAX_CONTENT_LENGTH, so our message is shown
    # How many copies the unit makes and who keeps them, one holder per copy (a list, or ";"-separated).
    "MINUTES_COPIES": 2,
    "MINUTES_COPY_HOLDERS": ("cơ sở", "đoàn kiểm tra"),
    # Public verification: at most this many lookups per client per window (seconds); then 429.
    "VERIFY_RATE_LIMIT": 20,
    "VERIFY_RATE_WINDOW": 60,
}
ROLE_ORDER = {"head": 0, "deputy": 1, "secretary": 2, "member": 3, "facility_rep": 4}
# "07/BB-TTKSBT/2026", "7/BB-TTKSBT 2026", "Số: 07/BB-TTKSBT" (+ a separate year).
NUMBER_RE = re.compile(r"^\s*(?:số\s*:?\s*)?0*(\d{1,6})\s*/\s*BB\s*-\s*([A-Z0-9Đ-]{1,32})\s*(?:[/ ,.]\s*(\d{4}))?\s*$",
                       re.IGNORECASE)


def setting(name: str) -> object:
    """A minutes setting from the app config, with the demo default."""
    value = current_app.config.get(name)
    return DEFAULTS.get(name) if value in (None, "") else value


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Ho_Chi_Minh")


def signing_key() -> signing.SigningKey:
    """The unit's signing key (configured PKCS#12, or the demo identity generated under instance/signing/)."""
    cfg = current_app.config
    tsa = signing.TsaSettings(url=cfg.get("SIGNING_TSA_URL") or "", username=cfg.get("SIGNING_TSA_USERNAME") or "",
                              password=cfg.get("SIGNING_TSA_PASSWORD") or "",
                              ca_path=cfg.get("SIGNING_TSA_CA_CERT") or "")
    return signing.load_signing_key(
        cfg.get("SIGNING_PKCS12") or None, cfg.get("SIGNING_PKCS12_PASSWORD"), current_app.instance_path,
        ca_path=cfg.get("SIGNING_CA_CERT") or None, unit_name=str(setting("ISSUING_UNIT_NAME")),
        unit_code=str(setting("ISSUING_UNIT_CODE")), tsa=tsa)


# ---------------------------------------------------------------------------------------------- numbering


def allocate_number(unit_code: str, year: int) -> int:
    """Next number of ``unit_code`` in ``year``: UPDATE … + 1 inside the caller's transaction.

    The updated row stays locked until the caller commits (PostgreSQL row lock; SQLite's single writer),
    so two issuers never get the same number and a rolled-back issue gives its number back.
    """
    bump = (sa.update(MinutesCounter)
            .where(MinutesCounter.unit_code == unit_code, MinutesCounter.year == year)
            .values(last_number=MinutesCounter.last_number + 1)
            .returning(MinutesCounter.last_number))
    for _attempt in range(3):
        number = db.session.execute(bump).scalar()
        if number is not None:
            return int(number)
        try:
            # First minutes of the year: create the row; a concurrent creator makes us loop to the UPDATE.
            with db.session.begin_nested():
                db.session.add(MinutesCounter(unit_code=unit_code, year=year, last_number=1))
            return 1
        except sa.exc.IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a minutes number for {unit_code}/{year}")


# ---------------------------------------------------------------------------------------------- view model


def _nfc(text: object) -> str:
    return unicodedata.normalize("NFC", str(text or "")).strip()


def _unit_line(unit: AdminUnit | None, code_word: str) -> str:
    if unit is None:
        return ""
    names, node = [], unit
    while node is not None:
        names.append(node.name)
        node = node.parent
    return f"{', '.join(names)} ({code_word} {unit.code})"


def _local(when: dt.datetime | None) -> dt.datetime | None:
    return when.astimezone(_tz()) if when is not None else None


def _answer_text(item: object, value: str | None, L: dict[str, str], locale: str) -> str:
    if value is None:
        return L["ans_blank"]
    if value == "na":
        return L["ans_na"]
    if value == "not_observed":
        return L["ans_not_observed"]
    kind = item.answer_type
    if kind == "yes_no_na":
        return L.get(f"ans_{value}", value)
    if kind == "scale":
        for level in item.scale:
            if str(level.value) == value:
                return f"{level.value} – {level.label.get(locale)}"
        return value
    if kind == "options":
        for option in item.options:
            if option.value == value:
                return option.label.get(locale)
        return value
    if kind == "number" and item.unit is not None:
        return f"{value} {item.unit.get(locale)}"
    return value


def build_view(inspection: Inspection, *, number: int, year: int, issued_on: dt.date, token: str,
               locale: str, demo: bool, filed_at: dt.datetime | None = None, signer: str = "") -> MinutesView:
    """Collect everything the minutes print from an approved inspection (plain data, no ORM inside)."""
    L = labels(locale)
    checklist = checklist_for(inspection)
    profile = profile_of(inspection)
    facility: Facility = inspection.facility
    answers = answers_of(inspection)
    team_rows = sorted(db.session.scalars(sa.select(TeamMember).where(TeamMember.inspection_id == inspection.id)),
                       key=lambda m: (ROLE_ORDER.get(m.role, 9), m.position_order))
    team = tuple(Person(_nfc(m.full_name), _nfc(m.position), L[f"role_{m.role}"])
                 for m in team_rows if m.role != "facility_rep")
    reps = tuple(Person(_nfc(m.full_name), _nfc(m.position), "") for m in team_rows if m.role == "facility_rep")
    content_hash = visit_content.content_sha256(inspection)
    # A drawn signature is printed only over the content it covered: void or stale ones are left out.
    sigs = {s.member_key or s.role: s
            for s in db.session.scalars(sa.select(Signature).where(Signature.inspection_id == inspection.id))
            if visit_content.signature_valid(s, content_hash)}
    keyed = visit_content.signers(inspection)

    def box(key: str, member: TeamMember | None = None) -> SignatureBox:
        sig = sigs.get(key)
        member = member or next((m for k, m in keyed if k == key), None)
        name = sig.signer_name if sig else (member.full_name if member else "")
        return SignatureBox(_nfc(name), _nfc(member.position if member else ""), sig.png if sig else b"")

    # Every other named member signs under the head's and the facility's boxes (blank when not signed).
    members = tuple((L[f"sig_{m.role}"].upper() if f"sig_{m.role}" in L else _nfc(m.role), box(k, m))
                    for k, m in sorted(keyed, key=lambda km: (ROLE_ORDER.get(km[1].role, 9), km[1].position_order))
                    if m.role not in ("head", "facility_rep"))

    annex, failed = [], []
    for section in checklist.sections:
        rows = []
        for item in section.items:
            applies, _reason = item_applies(item, section, profile)
            answer = answers.get(item.id)
            critical = item_is_critical(item, profile)
            text = item.text.get(locale)
            note = _nfc(answer.note) if answer else ""
            if not applies:
                rows.append(AnnexRow(item.id, text, L["ans_excluded"], "", False))
                continue
            rows.append(AnnexRow(item.id, text, _answer_text(item, answer.value if answer else None, L, locale),
                                 note, critical))
            if answer is not None and answer.failed:
                failed.append(FailedItem(item.id, text, bool(answer.critical_failure), note))
        if rows:
            annex.append(AnnexSection(section.id, section.title.get(locale), tuple(rows),
                                      _nfc(section.instructions.get(locale)) if section.instructions else ""))

    # In the checklist's order (the rows were stored, and came back, by id).
    order = {section.id: index for index, section in enumerate(checklist.sections)}
    sections = tuple(
        SectionRow(r.section_id, checklist.section(r.section_id).title.get(locale), float(r.earned),
                   float(r.possible), None if r.percent is None else float(r.percent), r.critical_failures)
        for r in sorted(inspection.section_results, key=lambda r: order.get(r.section_id, len(order))))
    groups: tuple[tuple[str, float | None, str], ...] = ()
    if checklist.groups:
        score = score_inspection(checklist, profile, {i: a.value for i, a in answers.items()})
        groups = tuple((g.title.get(locale), result.percent, result.classification or "")
                       for g, result in zip(checklist.groups, score.groups, strict=True) if result.applicable)
    actions = tuple(
        ActionRow(a.item_id, _nfc(a.action), _nfc(a.responsible), a.deadline)
        for a in db.session.scalars(sa.select(CorrectiveAction).where(CorrectiveAction.inspection_id == inspection.id)
                                    .order_by(CorrectiveAction.deadline, CorrectiveAction.item_id)))
    started, ended = _visit_times(inspection, list(sigs.values()))
    # The supervisor's Kết luận, or (left empty) the one the results suggest.
    suggested = visit_rules.suggest_conclusion([(r.title, r.percent, r.critical_failures) for r in sections],
                                               [f.item_id for f in failed], locale)
    parent = _nfc(setting("ISSUING_UNIT_PARENT"))
    extra = setting("MINUTES_RECIPIENTS")
    recipients = [facility.name, *(extra.split(";") if isinstance(extra, str) else extra)]
    base = str(setting("PUBLIC_BASE_URL")).rstrip("/")
    return MinutesView(
        parent_body=parent, issuing_body=_nfc(setting("ISSUING_UNIT_NAME")),
        unit_code=_nfc(setting("ISSUING_UNIT_CODE")), place=_nfc(setting("ISSUING_UNIT_PLACE")),
        number=number, year=year, issued_on=issued_on, facility_name=_nfc(facility.name),
        facility_address=_nfc(facility.address), facility_unit=_unit_line(facility.unit, L["unit_code"]),
        facility_legacy_unit=_unit_line(facility.legacy_unit, L["unit_code"]),
        facility_type=L.get(f"type_{inspection.facility_type}", inspection.facility_type),
        facility_ownership=L.get(f"own_{facility.ownership}", facility.ownership),
        inspection_date=inspection.inspection_date,
        # Only the texts that apply to this facility type and were in force on the visit date.
        legal_basis=tuple(_nfc(t.get(locale)) for t in checklist.legal_basis_for(inspection.facility_type,
                                                                                  inspection.inspection_date)),
        decision=_nfc(str(setting("MINUTES_DECISION")).replace("{year}", str(inspection.inspection_date.year))),
        checklist_title=checklist.title.get(locale), checklist_code=checklist.code,
        checklist_version=checklist.version, checklist_sha256=inspection.checklist_sha256 or checklist.sha256,
        sections=sections, overall_percent=None if inspection.overall_percent is None else float(
            inspection.overall_percent),
        classification=inspection.classification or "", team=team, facility_reps=reps,
        failed_items=tuple(failed), actions=actions, facility_opinion=_nfc(inspection.facility_opinion),
        head_signature=box("head"), facility_signature=box("facility_rep"), member_signatures=members,
        annex=tuple(annex), verify_url=f"{base}/verify/{token}",
        recipients=tuple(recipients),
        groups=groups,
        demo_notice=(signing.DEMO_NOTICE_EN if locale.startswith("en") else signing.DEMO_NOTICE_VI) if demo else "",
        started_at=started, ended_at=ended, content_sha256=content_hash,
        team_decision=visit_rules.team_decision_text(*visit_content.team_decision_of(inspection), locale),
        conclusion_strengths=_nfc(inspection.conclusion_strengths) or suggested[0],
        conclusion_shortcomings=_nfc(inspection.conclusion_shortcomings) or suggested[1],
        facility_opinion_declined=bool(inspection.facility_no_opinion),
        copies=_copies(), copy_holders=_listed("MINUTES_COPY_HOLDERS"),
        filed_at=_local(filed_at) if filed_at else None, signer=signer,
    )


def _listed(name: str) -> tuple[str, ...]:
    value = setting(name)
    items = value.split(";") if isinstance(value, str) else list(value or ())
    return tuple(_nfc(v) for v in items if _nfc(v))


def _copies() -> int:
    try:
        copies = int(setting("MINUTES_COPIES"))
    except (TypeError, ValueError):
        raise ValueError(f"MINUTES_COPIES must be a whole number, not {setting('MINUTES_COPIES')!r}") from None
    if not 1 <= copies <= 20:
        raise ValueError(f"MINUTES_COPIES must be between 1 and 20, not {copies}")
    return copies


def _visit_times(inspection: Inspection, signatures: list[Signature]) -> tuple[dt.datetime, dt.datetime]:
    """When the visit started and when its record was closed, never blank.

    Start: the draft's creation when it was made on the visit day, else the first answer saved that day (a
    draft prepared ahead of time), else the creation anyway. End: the latest of the drawn signatures that
    count (the record is closed when it is signed), else the submission.
    """
    created = _local(inspection.created_at)
    start = created
    if created.date() != inspection.inspection_date:
        times = [_local(t) for t in db.session.scalars(
            sa.select(Answer.updated_at).where(Answer.inspection_id == inspection.id))]
        same_day = sorted(t for t in times if t.date() == inspection.inspection_date)
        start = same_day[0] if same_day else created
    ends = [_local(s.signed_at) for s in signatures if s.signed_at is not None]
    end = max(ends) if ends else _local(inspection.submitted_at or inspection.updated_at)
    return start.replace(second=0, microsecond=0), max(end, start).replace(second=0, microsecond=0)


# ---------------------------------------------------------------------------------------------- issuing


def record_pdf(inspection: Inspection, locale: str | None = None) -> bytes:
    """The unsigned record of a visit: the copy the facility takes before filing, or a self-assessment form.

    An external inspection's record carries no number yet and says it awaits filing; a self-assessment is a
    "phiếu tự đánh giá", never numbered nor signed by the unit. Both carry the signed-content hash.
    """
    locale = locale or str(setting("MINUTES_LOCALE"))
    today = utcnow().astimezone(_tz()).date()
    view = build_view(inspection, number=0, year=today.year, issued_on=today, token="", locale=locale, demo=False)
    kind = "self_assessment" if inspection.kind == "self" else "visit_record"
    L = labels(locale)
    view = dataclasses.replace(view, verify_url="", document=kind, pending_notice=L["pending"])
    return build_minutes_pdf(view, locale)



def minutes_of(inspection_id: int) -> Minutes | None:
    """The minutes issued for an inspection, if any."""
    return db.session.scalar(sa.select(Minutes).where(Minutes.inspection_id == inspection_id))


def issue_minutes(inspection: Inspection, actor: User, locale: str | None = None) -> Minutes:
    """Number, render, sign and archive the minutes of an approved inspection (idempotent; flush only)."""
    existing = minutes_of(inspection.id)
    if existing is not None:
        return existing
    if inspection.status != "approved":
        raise ValueError(f"minutes are issued for approved inspections only (this one is {inspection.status})")
    if inspection.kind != "external":
        raise ValueError("a self-assessment gets a phiếu tự đánh giá (record_pdf), never numbered minutes")
    locale = locale or str(setting("MINUTES_LOCALE"))
    try:
        key = signing_key()
    except signing.SigningError as exc:
        # Shown to the reviewer like any refused operation; the approval is rolled back with it.
        raise WorkflowError("signing_unavailable", f"the minutes cannot be signed: {exc}") from None
    issued_at = utcnow()
    issued_on = issued_at.astimezone(_tz()).date()
    unit_code = _nfc(setting("ISSUING_UNIT_CODE"))
    token = secrets.token_urlsafe(18)
    # The counter row stays locked until the request commits: numbers have no gaps and no duplicates.
    number = allocate_number(unit_code, issued_on.year)
    view = build_view(inspection, number=number, year=issued_on.year, issued_on=issued_on, token=token,
                      locale=locale, demo=key.demo, filed_at=issued_at, signer=_nfc(setting("ISSUING_UNIT_NAME")))
    pdf = build_minutes_pdf(view, locale)
    try:
        signed = signing.sign_pdf(pdf, key, reason=f"Biên bản số {view.number_label}", location=view.place)
    except signing.SigningError as exc:
        raise WorkflowError("signing_unavailable", f"the minutes cannot be signed: {exc}") from None
    minutes = Minutes(inspection_id=inspection.id, number=number, unit_code=unit_code, year=issued_on.year,
                      issued_at=issued_at, sha256=signing.sha256_hex(signed),
                      signed_sha256=signing.signed_revision_sha256(signed), pdf=signed,
                      signer_subject=key.subject[:500], token=token, locale=locale[:5], demo=key.demo)
    db.session.add(minutes)
    db.session.flush()
    record("minutes.issued", "minutes", minutes.id, user_id=actor.id,
           details={"inspection_id": inspection.id, "number": f"{view.number_label}/{issued_on.year}",
                    "sha256": minutes.sha256, "demo": key.demo})
    # The audit log's head at filing (this issue's own entry included): `flask audit verify` reports entries
    # deleted or rewritten up to here even when every checkpoint was deleted with them.
    minutes.audit_seq, minutes.audit_hash = audit_head()
    db.session.flush()
    log.info("minutes %s/%s issued for inspection %s", view.number_label, issued_on.year, inspection.id)
    return minutes


# ---------------------------------------------------------------------------------------------- verification


@dataclass
class Verification:
    """Whether a document (or a number) is authentic, with the reasons when it is not."""

    authentic: bool
    reasons: list[str] = field(default_factory=list)
    minutes: Minutes | None = None
    signature: signing.SignatureCheck | None = None


def _check(data: bytes, moment: dt.datetime | None = None) -> signing.SignatureCheck:
    try:
        key = signing_key()
    except signing.SigningError:
        return signing.SignatureCheck(False, "no_trust_root")
    return signing.validate_pdf(data, key.trust_roots, key.tsa_roots, moment=moment)


def verify_pdf(data: bytes, moment: dt.datetime | None = None) -> Verification:
    """Both checks: the bytes are (a B-LTA extension of) archived minutes AND the signatures validate.

    A copy taken before `flask minutes extend` is a prefix of the archived bytes: it is found by the hash of
    the revision the unit signature covers, which extensions never change.
    """
    if len(data) > int(setting("MINUTES_MAX_UPLOAD")):
        return Verification(False, ["too_large"])
    if data.lstrip()[:5] != b"%PDF-":
        return Verification(False, ["not_pdf"])
    check = _check(data, moment)
    minutes = db.session.scalar(sa.select(Minutes).where(Minutes.sha256 == signing.sha256_hex(data)))
    if minutes is None and check.signed_revision_sha256:
        minutes = db.session.scalar(sa.select(Minutes).where(Minutes.signed_sha256 == check.signed_revision_sha256))
    reasons = []
    if minutes is None:
        reasons.append("unknown_document")
    if not check.valid:
        reasons.append(f"signature_{check.reason}")
    return Verification(not reasons, reasons, minutes, check)


def verify_archived(minutes: Minutes, moment: dt.datetime | None = None) -> Verification:
    """Re-check an archived minutes (at ``moment``, default now): bytes match the hash, signatures validate."""
    reasons = []
    if signing.sha256_hex(minutes.pdf) != minutes.sha256:
        reasons.append("archive_hash_mismatch")
    check = _check(minutes.pdf, moment)
    if not check.valid:
        reasons.append(f"signature_{check.reason}")
    return Verification(not reasons, reasons, minutes, check)


def parse_number(text: str, year: int | None = None) -> tuple[int, str, int | None] | None:
    """'07/BB-TTKSBT/2026' -> (7, 'TTKSBT', 2026); None when it is not a minutes number."""
    match = NUMBER_RE.match(unicodedata.normalize("NFC", text or ""))
    if not match:
        return None
    found_year = int(match.group(3)) if match.group(3) else year
    return int(match.group(1)), match.group(2).upper(), found_year


def find_by_number(number: int, unit_code: str, year: int | None) -> list[Minutes]:
    """Minutes with this number and unit (one, or one per year when no year is given)."""
    query = sa.select(Minutes).where(Minutes.number == number, Minutes.unit_code == unit_code.upper())
    if year is not None:
        query = query.where(Minutes.year == year)
    return list(db.session.scalars(query.order_by(Minutes.year.desc())))


def find_by_token(token: str) -> Minutes | None:
    """The minutes a QR code points to."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(Minutes).where(Minutes.token == token))


def check_archive(moment: dt.datetime | None = None) -> list[tuple[Minutes, list[str], str]]:
    """Every archived minutes whose bytes or signature no longer check out (at ``moment``), with the detail."""
    problems = []
    for minutes in db.session.scalars(sa.select(Minutes).order_by(Minutes.id)):
        result = verify_archived(minutes, moment)
        if not result.authentic:
            problems.append((minutes, result.reasons, result.signature.detail if result.signature else ""))
    return problems


# ---------------------------------------------------------------------------------------------- B-LTA


@dataclass
class ExtendReport:
    """What `flask minutes extend` did, minutes by minutes."""

    extended: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def extend_archive(renew_within: dt.timedelta, now: dt.datetime | None = None,
                   actor_id: int | None = None) -> ExtendReport:
    """Add a document timestamp (PAdES B-LTA) to every archived minutes that needs one; commit per minutes.

    A minutes needs one when it has no document timestamp yet, or when the certificate of its newest timestamp
    expires within ``renew_within``. Running it twice in a row adds nothing the second time (idempotent).
    Each update is a compare-and-set on the archived hash, with its audit entry, in one transaction.
    """
    now = now or utcnow()
    report = ExtendReport()
    key = signing_key()
    ids = list(db.session.scalars(sa.select(Minutes.id).order_by(Minutes.id)))
    for minutes_id in ids:
        minutes = db.session.get(Minutes, minutes_id)
        label = f"{minutes.number_label}/{minutes.year}"
        try:
            expiry, count = signing.newest_timestamp_expiry(minutes.pdf)
        except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the run
            report.failed.append((label, f"unreadable: {type(exc).__name__}"))
            continue
        if count and expiry is not None and expiry - now > renew_within:
            report.current.append(label)
            continue
        before = verify_archived(minutes, now)
        if not before.authentic:
            report.failed.append((label, "; ".join(before.reasons)))
            continue
        try:
            extended = signing.add_document_timestamp(minutes.pdf, key)
        except signing.SigningError as exc:
            report.failed.append((label, str(exc)))
            continue
        check = signing.validate_pdf(extended, key.trust_roots, key.tsa_roots, moment=now)
        if not check.valid:
            report.failed.append((label, f"the extended file does not verify: {check.detail or check.reason}"))
            continue
        old_sha = minutes.sha256
        new_sha = signing.sha256_hex(extended)
        done = db.session.execute(
            sa.update(Minutes).where(Minutes.id == minutes.id, Minutes.sha256 == old_sha)
            .values(pdf=extended, sha256=new_sha, extended_at=now,
                    signed_sha256=minutes.signed_sha256 or signing.signed_revision_sha256(extended))
            .execution_options(synchronize_session=False)).rowcount
        if done != 1:
            db.session.rollback()
            report.failed.append((label, "changed by someone else meanwhile; run again"))
            continue
        record("minutes.extended", "minutes", minutes.id, user_id=actor_id,
               details={"number": label, "from_sha256": old_sha, "sha256": new_sha,
                        "document_timestamps": count + 1, "level": check.level})
        db.session.commit()
        report.extended.append(label)
    return report


# ---------------------------------------------------------------------------------------------- rate limit


def allow_lookup(client: str, now: dt.datetime | None = None) -> bool:
    """Count one lookup by ``client`` in the current window; False once past the limit (commits its own count).

    Fixed windows in the database: every worker sees the same counts. An UPDATE … + 1 first, an INSERT for a
    new window (a concurrent insert makes us retry the UPDATE); older windows are deleted as we go.
    """
    limit = int(setting("VERIFY_RATE_LIMIT"))
    length = max(1, int(setting("VERIFY_RATE_WINDOW")))
    if limit <= 0:
        return True
    window = int((now or utcnow()).timestamp()) // length
    client = (client or "unknown")[:64]
    bump = (sa.update(VerifyHit).where(VerifyHit.client == client, VerifyHit.window == window)
            .values(hits=VerifyHit.hits + 1).returning(VerifyHit.hits))
    hits = None
    for _attempt in range(3):
        hits = db.session.execute(bump).scalar()
        if hits is not None:
            break
        try:
            with db.session.begin_nested():
                db.session.add(VerifyHit(client=client, window=window, hits=1))
            hits = 1
            db.session.execute(sa.delete(VerifyHit).where(VerifyHit.window < window - 1))
            break
        except sa.exc.IntegrityError:
            continue
    db.session.commit()
    return hits is not None and hits <= limit
