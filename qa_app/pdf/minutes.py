"""Inspection minutes (biên bản) in the Decree 30/2020/NĐ-CP layout: a pure builder, view model in, PDF bytes out.

The layout primitives (fonts, margins, styles, header, page numbers) are in ``pdf.decree30``, shared with the
round reports; the fixed wording is in ``pdf.wording``. Both are re-exported here.

Pure module: no Flask, no database. Every string is NFC-normalised and XML-escaped before ReportLab's
Paragraph markup sees it, and every style names an embedded Liberation Serif face (Times New Roman metrics),
so the PDF never falls back to an unembedded Helvetica.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
)

from ..minutes import text as rules

# The Decree 30/2020 layout primitives, re-exported: callers and tests name them from this module too.
from .decree30 import (  # noqa: F401
    BODY_SIZE,
    BOLD,
    BOLD_ITALIC,
    FONT_DIR,
    FONT_FILES,
    ITALIC,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    PAGE_H,
    PAGE_W,
    REGULAR,
    TEXT_W,
    QrCode,
    Rule,
    _balanced_lines,
    _canvas_dated,
    _grid_style,
    _header,
    _header_date,
    _heading,
    _later_page,
    _notice,
    _signature_image,
    _styles,
    _table_style,
    esc,
    fmt_number,
    fmt_percent,
    grid_table,
    nfc,
    register_fonts,
)
from .wording import LABELS, labels  # noqa: F401 (re-exported)

# ---------------------------------------------------------------------------------------------- view model


@dataclass(frozen=True)
class Person:
    """A named person with the role they play in the minutes and their position."""

    name: str
    position: str = ""
    role: str = ""


@dataclass(frozen=True)
class SignatureBox:
    """A drawn signature (PNG bytes, may be empty) with who signed."""

    name: str
    position: str = ""
    png: bytes = b""


@dataclass(frozen=True)
class SectionRow:
    """One section's result as stored at submission."""

    section_id: str
    title: str
    earned: float
    possible: float
    percent: float | None
    critical_failures: int = 0


@dataclass(frozen=True)
class FailedItem:
    """A failed item with its checklist text and the supervisor's note."""

    item_id: str
    text: str
    critical: bool = False
    note: str = ""


@dataclass(frozen=True)
class ActionRow:
    """A corrective action: what, who, by when."""

    item_id: str
    action: str
    responsible: str
    deadline: dt.date


@dataclass(frozen=True)
class AnnexRow:
    """One checklist item with the answer given (already in words) and the note."""

    item_id: str
    text: str
    answer: str
    note: str = ""
    critical: bool = False


@dataclass(frozen=True)
class AnnexSection:
    """A checklist section of the annex."""

    section_id: str
    title: str
    rows: tuple[AnnexRow, ...]
    # The section's instructions from the checklist (issue 19), printed under its title.
    instructions: str = ""


@dataclass(frozen=True)
class MinutesView:
    """Everything the minutes print, as plain data (built from an Inspection by qa_app.minutes.services)."""

    parent_body: str
    issuing_body: str
    unit_code: str
    place: str
    number: int
    year: int
    issued_on: dt.date
    facility_name: str
    facility_address: str
    facility_unit: str
    facility_legacy_unit: str
    facility_type: str
    facility_ownership: str
    inspection_date: dt.date
    legal_basis: tuple[str, ...]
    decision: str
    checklist_title: str
    checklist_code: str
    checklist_version: int
    checklist_sha256: str
    sections: tuple[SectionRow, ...]
    overall_percent: float | None
    classification: str
    team: tuple[Person, ...]
    facility_reps: tuple[Person, ...]
    failed_items: tuple[FailedItem, ...]
    actions: tuple[ActionRow, ...]
    facility_opinion: str
    head_signature: SignatureBox
    facility_signature: SignatureBox
    annex: tuple[AnnexSection, ...]
    verify_url: str
    secretary_signature: SignatureBox | None = None
    # Every other team member who signs (deputy, secretary, members), in team order: (role heading, signature).
    member_signatures: tuple[tuple[str, SignatureBox], ...] = ()
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    recipients: tuple[str, ...] = ()
    demo_notice: str = ""
    title_suffix: str = ""
    # Score groups (issue 19): one "- part: percent – class" line each, after the section table; empty without.
    groups: tuple[tuple[str, float | None, str], ...] = ()
    # The visit record: when it started and ended (local time; the end may fall on a later day), the hash of
    # the content the drawn signatures covered, and how the facility answered (never an invented agreement).
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    content_sha256: str = ""
    facility_opinion_declined: bool = False
    copies: int = 2
    copy_holders: tuple[str, ...] = ()
    # Filing: when the reviewer's approval numbered and signed it (also the PDF's CreationDate).
    filed_at: dt.datetime | None = None
    signer: str = ""
    # "minutes" (filed, numbered, unit-signed); "visit_record" (the copy taken at the visit, awaiting filing:
    # no number yet, no unit signature); "self_assessment" (a facility's own phiếu tự đánh giá, never numbered).
    document: str = "minutes"
    team_decision: str = ""
    conclusion_strengths: str = ""
    conclusion_shortcomings: str = ""
    pending_notice: str = ""

    @property
    def number_label(self) -> str:
        """'07/BB-TTKSBT': leading zero below 10 (Decree 30/2020); '…/BB-TTKSBT' before filing."""
        if not self.number:
            return f"…/BB-{self.unit_code}"
        return f"{self.number:02d}/BB-{self.unit_code}"


# ---------------------------------------------------------------------------------------------- builder


def build_minutes_pdf(view: MinutesView, locale: str = "vi") -> bytes:
    """Render the minutes of one inspection as PDF bytes (Decree 30/2020 layout)."""
    register_fonts()
    L = labels(locale)
    en = locale.startswith("en")
    st = _styles()
    story: list[Flowable] = []
    self_check = view.document == "self_assessment"
    story += _header(view, L, st)
    story.append(Paragraph(esc(L["title_self" if self_check else "title"]), st["title"]))
    story.append(Paragraph(_summary_markup(L["summary_self" if self_check else "summary"].format(
        facility=view.facility_name), en), st["summary"]))
    story.append(Rule(40 * mm, TEXT_W, gap=8))
    story.append(Spacer(1, 8))

    for text in view.legal_basis:
        story.append(Paragraph(esc(L["basis"].format(text=text.rstrip(";. "))), st["body"]))
    if view.team_decision.strip():
        story.append(Paragraph(esc(L["basis"].format(text=view.team_decision.strip().rstrip(";. "))), st["body"]))
    if view.decision.strip():
        story.append(Paragraph(esc(L["basis"].format(text=view.decision.strip().rstrip(";. "))), st["body"]))
    story.append(Paragraph(esc(L["opening_self" if self_check else "opening"].format(
        time=_start_time(view, L), date=rules.d30_date(view.inspection_date, L["locale"]),
        facility=view.facility_name, unit=_title_case_body(view.issuing_body, en))), st["body"]))

    _heading(story, L["s_members"], st["heading"])
    _heading(story, L["team"], st["sub"])
    for p in view.team:
        story.append(Paragraph(_person_line(p), st["hang"]))
    _heading(story, L["reps"], st["sub"])
    for p in view.facility_reps:
        story.append(Paragraph(_person_line(p), st["hang"]))

    _heading(story, L["s_facility"], st["heading"])
    for key, value in (("f_name", view.facility_name), ("f_address", view.facility_address),
                       ("f_unit", view.facility_unit), ("f_legacy", view.facility_legacy_unit),
                       ("f_type", view.facility_type), ("f_own", view.facility_ownership)):
        if value:
            story.append(Paragraph(f"- {esc(L[key])} {esc(value)}", st["hang"]))

    _heading(story, L["s_results"], st["heading"])
    story.append(Paragraph(esc(L["checklist"].format(
        title=view.checklist_title, code=view.checklist_code, version=view.checklist_version,
        sha=view.checklist_sha256[:12])), st["body"]))
    _heading(story, L["by_section"], st["sub"])
    story.append(_sections_table(view, L, st, locale))
    for title, percent, group_cls in view.groups:
        story.append(Paragraph(esc(f"- {title}: {fmt_percent(percent, locale)} – "
                                   f"{L.get(f'cls_{group_cls}', group_cls) if group_cls else '—'}"), st["hang"]))
    story.append(Spacer(1, 6))
    cls = L.get(f"cls_{view.classification}", view.classification) if view.classification else L["not_scored"]
    if view.classification == "does_not_meet" and any(f.critical for f in view.failed_items):
        cls += L["cls_because_critical"]
    story.append(Paragraph(
        esc(L["overall"].format(pct="{PCT}", cls="{CLS}")).replace(
            "{PCT}", f"<b>{esc(fmt_percent(view.overall_percent, locale))}</b>").replace(
            "{CLS}", f"<b>{esc(cls)}</b>"), st["body"]))

    _heading(story, L["failed"], st["sub"])
    if view.failed_items:
        story.append(_failed_table(view.failed_items, L, st))
        story.append(Spacer(1, 6))
    else:
        story.append(Paragraph(esc(L["none_failed"]), st["body"]))
    critical = [f for f in view.failed_items if f.critical]
    if critical:
        _heading(story, L["critical"], st["sub"])
        for f in critical:
            story.append(Paragraph(f"- <b>{esc(f.item_id)}</b>: {esc(f.text)}", st["hang"]))
    else:
        _heading(story, L["none_critical"], st["sub"])

    _heading(story, L["s_conclusion"], st["heading"])
    _heading(story, L["strengths"], st["sub"])
    story.append(Paragraph(esc(view.conclusion_strengths or L["none_noted"]), st["body"]))
    _heading(story, L["shortcomings"], st["sub"])
    story.append(Paragraph(esc(view.conclusion_shortcomings or L["none_noted"]), st["body"]))

    _heading(story, L["s_actions"], st["heading"])
    if view.actions:
        story.append(_actions_table(view.actions, L, st))
        story.append(Spacer(1, 6))
    else:
        story.append(Paragraph(esc(L["none_actions"]), st["body"]))

    _heading(story, L["s_opinion"], st["heading"])
    story.append(Paragraph(esc(rules.facility_opinion_text(view.facility_opinion, view.facility_opinion_declined,
                                                           L["locale"])), st["body"]))
    if not self_check:
        story.append(Paragraph(esc(L["closing"].format(time=_end_time(view, L)) + " "
                                   + rules.copies_sentence(view.copies, view.copy_holders, L["locale"])),
                               st["body"]))

    story.append(CondPageBreak(75 * mm))
    story.append(_signatures(view, L, st))
    story.append(Spacer(1, 6))
    stamp = _unit_signature_stamp(view, L, st)
    if stamp is not None:
        story.append(stamp)
        story.append(Spacer(1, 4))
    note = _filing_note(view, L)
    if note:
        story.append(Paragraph(note, st["small"]))
    story.append(Spacer(1, 10))
    story.append(_recipients_and_qr(view, L, st))

    story.append(PageBreak())
    story += _annex(view, L, st)

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=MARGIN_LEFT, rightMargin=MARGIN_RIGHT, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, initialFontName=REGULAR, initialFontSize=BODY_SIZE,
        title=nfc(L["title_self"].capitalize() if self_check else f"{L['title'].capitalize()} {view.number_label}"),
        author=nfc(view.issuing_body),
        subject=nfc(L["summary"].format(facility=view.facility_name)), creator="qa-app",
        # Invariant mode keeps the file deterministic; its CreationDate is then set to the filing time (below),
        # not ReportLab's fixed 2000-01-01.
        invariant=1,
    )
    doc.build(story, onFirstPage=lambda c, d: _first_page(c, view, st),
              onLaterPages=lambda c, d: _later_page(c), canvasmaker=_canvas_dated(view.filed_at))
    return out.getvalue()


def _start_time(view: MinutesView, L: dict[str, str]) -> str:
    if view.started_at is not None:
        return rules.time_phrase(view.started_at, view.inspection_date, L["locale"])
    return _time(view.start_time, L)


def _end_time(view: MinutesView, L: dict[str, str]) -> str:
    if view.ended_at is not None:
        phrase = rules.time_phrase(view.ended_at, view.inspection_date, L["locale"])
        # "cùng ngày" only when it truly ended on the visit day.
        return phrase + (L["same_day"] if view.ended_at.date() == view.inspection_date else "")
    return _time(view.end_time, L) + L["same_day"]


SIGNATURE_BLUE = colors.HexColor("#1f3a93")


def _unit_signature_stamp(view: MinutesView, L: dict[str, str], st: dict[str, ParagraphStyle]) -> Flowable | None:
    """The visible appearance of the unit's digital signature (Decree 30/2020, Annex I part II): a blue frame
    with the signing unit and the signing time, drawn in the page itself so every viewer shows it."""
    if view.filed_at is None:
        return None
    when = view.filed_at
    style = ParagraphStyle("stamp", parent=st["small"], textColor=SIGNATURE_BLUE, fontName=REGULAR)
    lines = [
        f"<b>{esc(L['stamp_title'])}</b>",
        esc(L["stamp_unit"].format(unit=_title_case_body(view.signer or view.issuing_body, L["locale"] == "en"))),
        esc(L["stamp_time"].format(time=rules.time_phrase(when, when.date(), L["locale"]),
                                   date=rules.d30_date(when.date(), L["locale"]))),
    ]
    table = Table([[Paragraph("<br/>".join(lines), style)]], colWidths=[88 * mm], hAlign="RIGHT")
    table.setStyle(_table_style(("BOX", (0, 0), (-1, -1), 1.2, SIGNATURE_BLUE),
                                ("LEFTPADDING", (0, 0), (-1, -1), 6), ("TOPPADDING", (0, 0), (-1, -1), 3),
                                ("BOTTOMPADDING", (0, 0), (-1, -1), 4)))
    return table


def _filing_note(view: MinutesView, L: dict[str, str]) -> str:
    parts = []
    if view.filed_at is not None:
        when = view.filed_at
        parts.append(esc(L["filed"].format(
            number=view.number_label, date=rules.d30_date(when.date(), L["locale"]),
            time=rules.time_phrase(when, when.date(), L["locale"]),
            signer=_title_case_body(view.signer or view.issuing_body, L["locale"] == "en"))))
    if view.content_sha256:
        parts.append(esc(L["content_hash"]) + f" <font name='{REGULAR}' size='8'>{esc(view.content_sha256)}</font>")
    return "<br/>".join(parts)


def _summary_markup(text: str, en: bool) -> str:
    # Too long for one line: break before "tại <cơ sở>" so the facility name is not split at random.
    text = nfc(text)
    marker = " at " if en else " tại "
    if pdfmetrics.stringWidth(text, BOLD, 14) <= TEXT_W or marker not in text:
        return esc(text)
    head, _, tail = text.rpartition(marker)
    return f"{esc(head)}<br/>{esc(marker.strip())} {esc(tail)}"


def _title_case_body(name: str, en: bool) -> str:
    # In running text the unit is written as a name, not in capitals: "Trung tâm Kiểm soát bệnh tật".
    text = nfc(name)
    if text.isupper():
        return text.title() if en else rules.running_name(text)
    return text


def _time(value: dt.time | None, L: dict[str, str]) -> str:
    return L["time"].format(h=value.hour, mi=value.minute) if value else L["time_blank"]


def _person_line(p: Person) -> str:
    parts = [f"<b>{esc(p.name)}</b>"]
    if p.position:
        parts.append(esc(p.position))
    if p.role:
        parts.append(esc(p.role))
    return "- " + " – ".join(parts) + ";"


def _sections_table(view: MinutesView, L: dict[str, str], st: dict[str, ParagraphStyle], locale: str) -> Table:
    rows = []
    for s in view.sections:
        rows.append([Paragraph(esc(s.section_id), st["cell_c"]), Paragraph(esc(s.title), st["cell"]),
                     Paragraph(esc(f"{fmt_number(s.earned, locale, 2)}/{fmt_number(s.possible, locale, 2)}"),
                               st["cell_c"]),
                     Paragraph(esc(fmt_percent(s.percent, locale)), st["cell_c"]),
                     Paragraph(esc(str(s.critical_failures)), st["cell_c"])])
    rows.append([Paragraph("", st["cell"]), Paragraph(f"<b>{esc(L['overall'].split(':')[0])}</b>", st["cell"]),
                 Paragraph("", st["cell"]),
                 Paragraph(f"<b>{esc(fmt_percent(view.overall_percent, locale))}</b>", st["cell_c"]),
                 Paragraph(f"<b>{sum(s.critical_failures for s in view.sections)}</b>", st["cell_c"])])
    widths = [14 * mm, TEXT_W - 14 * mm - 28 * mm - 20 * mm - 24 * mm, 28 * mm, 20 * mm, 24 * mm]
    return grid_table([L[k] for k in ("h_section", "h_title", "h_points", "h_pct", "h_crit")], rows, widths, st)


def _failed_table(items: Iterable[FailedItem], L: dict[str, str], st: dict[str, ParagraphStyle]) -> Table:
    rows = []
    for f in items:
        text = esc(f.text) + (f"<b>{esc(L['crit_mark'])}</b>" if f.critical else "")
        rows.append([Paragraph(esc(f.item_id), st["cell_c"]), Paragraph(text, st["cell"]),
                     Paragraph(esc(f.note), st["cell"])])
    return grid_table([L[k] for k in ("h_item", "h_text", "h_note")], rows,
                      [14 * mm, TEXT_W - 14 * mm - 50 * mm, 50 * mm], st)


def _actions_table(actions: Iterable[ActionRow], L: dict[str, str], st: dict[str, ParagraphStyle]) -> Table:
    rows = []
    for a in actions:
        rows.append([Paragraph(esc(a.item_id), st["cell_c"]), Paragraph(esc(a.action), st["cell"]),
                     Paragraph(esc(a.responsible), st["cell"]),
                     Paragraph(f"{a.deadline.day:02d}/{a.deadline.month:02d}/{a.deadline.year}", st["cell_c"])])
    return grid_table([L[k] for k in ("h_item", "h_action", "h_resp", "h_deadline")], rows,
                      [14 * mm, TEXT_W - 14 * mm - 45 * mm - 24 * mm, 45 * mm, 24 * mm], st)


def _signature_cell(role: str, hint: str, box: SignatureBox, st: dict[str, ParagraphStyle],
                    width: float) -> list[Flowable]:
    cell: list[Flowable] = [Paragraph(esc(role), st["sig_role"]), Paragraph(esc(hint), st["sig_hint"]),
                            Spacer(1, 4), _signature_image(box.png, width - 20 * mm, 24 * mm), Spacer(1, 4),
                            Paragraph(esc(box.name), st["sig_name"])]
    return cell


def _signatures(view: MinutesView, L: dict[str, str], st: dict[str, ParagraphStyle]) -> Flowable:
    half = TEXT_W / 2
    rows = [[_signature_cell(L["sig_facility"], L["sig_hint_seal"], view.facility_signature, st, half),
             _signature_cell(L["sig_head"], L["sig_hint"], view.head_signature, st, half)]]
    style = [("ALIGN", (0, 0), (-1, -1), "CENTER")]
    others = list(view.member_signatures)
    if view.secretary_signature is not None:
        others.insert(0, (L["sig_secretary"], view.secretary_signature))
    # The other members who sign, two to a row under the head's and the facility's; a lone last one centred.
    for start in range(0, len(others), 2):
        pair = others[start:start + 2]
        row = len(rows)
        rows.append([_signature_cell(heading, L["sig_hint"], box, st, half) for heading, box in pair]
                    + ([""] if len(pair) == 1 else []))
        style.append(("TOPPADDING", (0, row), (-1, row), 12))
        if len(pair) == 1:
            style.append(("SPAN", (0, row), (1, row)))
    table = Table(rows, colWidths=[half, half])
    table.setStyle(_table_style(*style))
    return KeepTogether([table])


def _recipients_and_qr(view: MinutesView, L: dict[str, str], st: dict[str, ParagraphStyle]) -> Flowable:
    recip: list[Flowable] = [Paragraph(esc(L["recipients"]), st["recip_h"])]
    for r in view.recipients:
        recip.append(Paragraph(esc("- " + r.strip().lstrip("- ").rstrip(";.") + ";"), st["recip"]))
    recip.append(Paragraph(esc(L["archive"].format(unit=view.unit_code)), st["recip"]))
    if not view.verify_url:  # not filed (yet): nothing to verify online
        table = Table([[recip]], colWidths=[TEXT_W])
        table.setStyle(_table_style(("LEFTPADDING", (0, 0), (-1, -1), 0)))
        return KeepTogether([table])
    qr_size = 26 * mm
    verify = Paragraph(esc(L["verify"].format(url="{URL}")).replace(
        "{URL}", f"<br/><font name='{REGULAR}'>{esc(view.verify_url)}</font>"), st["small"])
    table = Table([[recip, ""], [QrCode(view.verify_url, qr_size), verify]],
                  colWidths=[qr_size + 6 * mm, TEXT_W - qr_size - 6 * mm])
    table.setStyle(_table_style(("LEFTPADDING", (0, 0), (-1, -1), 0), ("SPAN", (0, 0), (1, 0)),
                                ("TOPPADDING", (0, 1), (-1, 1), 14), ("VALIGN", (1, 1), (1, 1), "MIDDLE")))
    return KeepTogether([table])


def _annex(view: MinutesView, L: dict[str, str], st: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = [
        Paragraph(esc(L["annex"]), st["title"]),
        Paragraph(esc(L["annex_sub"]), st["summary"]),
        Paragraph(esc(L["annex_ref_self" if view.document == "self_assessment" else "annex_ref"].format(
                                            number=view.number_label,
                                            date=rules.d30_date(view.inspection_date, L["locale"]))), st["date"]),
        Rule(40 * mm, TEXT_W, gap=8), Spacer(1, 6),
    ]
    widths = [14 * mm, TEXT_W - 14 * mm - 28 * mm - 40 * mm, 28 * mm, 40 * mm]
    rows = [[Paragraph(esc(L[k]), st["cell_h"]) for k in ("h_item", "h_text", "h_answer", "h_note")]]
    style = _grid_style()
    for section in view.annex:
        style.add("SPAN", (0, len(rows)), (-1, len(rows)))
        style.add("BACKGROUND", (0, len(rows)), (-1, len(rows)), colors.HexColor("#f4f4f4"))
        heading = f"<b>{esc(section.section_id)}. {esc(section.title)}</b>"
        if section.instructions:
            heading += f"<br/><i>{esc(section.instructions)}</i>"
        rows.append([Paragraph(heading, st["cell"]), "", "", ""])
        for r in section.rows:
            text = esc(r.text) + (f"<b>{esc(L['crit_mark'])}</b>" if r.critical else "")
            # Short cells as plain strings: wrapping ~400 Paragraphs twice is most of the build time.
            answer = nfc(r.answer)
            rows.append([nfc(r.item_id), Paragraph(text, st["cell"]),
                         answer if pdfmetrics.stringWidth(answer, REGULAR, 11) < widths[2] - 8
                         else Paragraph(esc(answer), st["cell_c"]),
                         Paragraph(esc(r.note), st["cell"]) if r.note else ""])
    style.add("ALIGN", (0, 1), (0, -1), "CENTER")
    style.add("ALIGN", (2, 1), (2, -1), "CENTER")
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(style)
    story.append(table)
    return story


def _first_page(canvas: object, view: MinutesView, st: dict[str, ParagraphStyle]) -> None:
    if view.document == "visit_record":
        _notice(canvas, view.pending_notice)
    if not view.demo_notice:
        return
    # A demo certificate must be obvious on page 1: a red framed notice in the bottom margin.
    canvas.saveState()
    text = nfc(view.demo_notice)
    width = pdfmetrics.stringWidth(text, BOLD_ITALIC, 11) + 12
    x = MARGIN_LEFT + (TEXT_W - width) / 2
    canvas.setStrokeColor(colors.HexColor("#b00020"))
    canvas.setFillColor(colors.HexColor("#b00020"))
    canvas.rect(x, 7 * mm, width, 7 * mm, stroke=1, fill=0)
    canvas.setFont(BOLD_ITALIC, 11)
    canvas.drawCentredString(MARGIN_LEFT + TEXT_W / 2, 7 * mm + 2.2 * mm, text)
    canvas.restoreState()


