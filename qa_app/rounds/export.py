"""Period report builders: ReportData in, PDF (Decree 30/2020 layout, as the minutes) or XLSX bytes out.

Pure module: no Flask, no database. The PDF reuses the minutes' embedded Liberation Serif faces, styles,
national motto header, rules and page numbering from qa_app.pdf.minutes, so a report and a set of minutes
from the same unit look like two documents of the same office.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table

from ..core.rounding import round_half_up
from ..pdf import decree30 as m
from ..pdf.wording import labels as header_labels
from .report import CLASSES, ItemLine, ReportData

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "number": "\u00a0" * 6 + "/BC-{code}",
        "title": "BÁO CÁO",
        "summary_progress": "Sơ kết công tác kiểm tra, giám sát chất lượng dịch vụ kế hoạch hóa gia đình",
        "summary_final": "Tổng kết công tác kiểm tra, giám sát chất lượng dịch vụ kế hoạch hóa gia đình",
        "scope": "Địa bàn: {region}. Kỳ báo cáo: từ ngày {start} đến ngày {end}.",
        "intro": ("Số liệu về tỷ lệ cơ sở đạt chuẩn tính đến ngày {end}, theo kết quả kiểm tra bên ngoài gần nhất "
                  "đã được phê duyệt và còn hiệu lực của từng cơ sở; cơ sở chưa được đánh giá hoặc kết quả đã hết "
                  "hiệu lực được tính là chưa đạt và vẫn nằm trong mẫu số."),
        "s_targets": "I. KẾT QUẢ THỰC HIỆN CHỈ TIÊU",
        "h_indicator": "Chỉ tiêu", "h_facilities": "Số cơ sở", "h_assessed": "Đã đánh giá", "h_meeting": "Đạt",
        "h_value": "Tỷ lệ", "h_target": "Chỉ tiêu năm {year}", "h_t2025": "Chỉ tiêu 2025", "h_t2030": "Chỉ tiêu 2030",
        "on_track": "Đạt chỉ tiêu", "below": "Chưa đạt chỉ tiêu",
        "s_rounds": "II. TIẾN ĐỘ VÀ ĐỘ BAO PHỦ CÁC ĐỢT GIÁM SÁT",
        "no_rounds": "Không có đợt giám sát nào trong kỳ báo cáo.",
        "round_line": ("{name} (từ {start} đến {deadline}; mục tiêu: {target} {basis} của mỗi khu vực): "
                       "đã giám sát {covered}/{required}, đạt {value}."),
        "basis_facilities": "số cơ sở", "basis_communes": "số xã",
        "h_district": "Địa bàn", "h_required": "Phải giám sát", "h_planned": "Đã phân công", "h_done": "Đã thực hiện",
        "h_approved": "Đã duyệt", "h_overdue": "Quá hạn", "h_coverage": "Độ bao phủ", "h_communes": "Xã (đã/phải)",
        "total": "Tổng cộng",
        "s_classes": "III. PHÂN BỐ ĐIỂM VÀ XẾP LOẠI",
        "classes_intro": "Trong kỳ có {n} cuộc kiểm tra bên ngoài được phê duyệt.",
        "h_class": "Xếp loại", "h_count": "Số cuộc", "h_share": "Tỷ lệ", "h_band": "Khoảng điểm",
        "cls_meets": "Đạt chuẩn", "cls_conditional": "Đạt có điều kiện", "cls_does_not_meet": "Không đạt",
        "s_failed": "IV. TIÊU CHÍ VÀ PHẦN KHÔNG ĐẠT NHIỀU NHẤT",
        "failed_intro": "Theo kết quả còn hiệu lực của các cơ sở tính đến ngày {end} (như trên trang theo dõi).",
        "h_item": "Mã", "h_text": "Nội dung", "h_failed": "Số cơ sở không đạt", "h_answered": "Số cơ sở được chấm",
        "none": "Không có.",
        "failed_sections": "Các phần không đạt yêu cầu tối thiểu:", "failed_items": "Các tiêu chí không đạt:",
        "s_actions": "V. KHẮC PHỤC SAU KIỂM TRA",
        "actions": ("Yêu cầu khắc phục phát sinh trong kỳ: {opened}; đã hoàn thành trong kỳ: {done}; "
                    "quá hạn chưa hoàn thành tính đến ngày {end}: {overdue}."),
        "s_districts": "VI. KẾT QUẢ THEO ĐỊA BÀN",
        "s_self": "VII. SO SÁNH TỰ ĐÁNH GIÁ VỚI KẾT QUẢ KIỂM TRA",
        "no_self": "Không có cơ sở nào vừa tự đánh giá vừa được kiểm tra trong kỳ.",
        "h_facility": "Cơ sở", "h_self": "Tự đánh giá", "h_ext": "Kiểm tra", "h_gap": "Chênh lệch (điểm)",
        "disagree": "Các tiêu chí có kết quả khác nhau nhiều nhất:",
        "h_up": "Tự chấm đạt, kiểm tra không đạt", "h_down": "Tự chấm không đạt, kiểm tra đạt",
        "recipients": "Nơi nhận:",
        "archive": "- Lưu: VT, {unit}.",
        "sig": "THỦ TRƯỞNG ĐƠN VỊ",
        "sig_hint": "(Ký, ghi rõ họ tên, đóng dấu)",
        "sh_targets": "Chỉ tiêu", "sh_rounds": "Đợt giám sát", "sh_classes": "Xếp loại",
        "sh_failed": "Không đạt", "sh_actions": "Khắc phục", "sh_districts": "Theo địa bàn",
        "sh_self": "Tự đánh giá",
        "a_opened": "Phát sinh trong kỳ", "a_done": "Hoàn thành trong kỳ", "a_overdue": "Quá hạn chưa hoàn thành",
        "h_round": "Đợt giám sát", "h_communes_req": "Số xã phải giám sát", "h_communes_cov": "Số xã đã giám sát",
        "h_round_target": "Mục tiêu bao phủ", "h_date": "Ngày", "h_score": "Điểm (%)", "h_kind": "Loại",
        "report_date": "Ngày báo cáo",
    },
    "en": {
        "number": "No.\u00a0" + "\u00a0" * 4 + "/BC-{code}",
        "title": "REPORT",
        "summary_progress": "Progress report on the supervision of family planning service quality",
        "summary_final": "Final report on the supervision of family planning service quality",
        "scope": "Region: {region}. Period: {start} to {end}.",
        "intro": ("Shares of facilities meeting the standard are as of {end}, from each facility's latest approved "
                  "and still valid external inspection; facilities never assessed or whose assessment expired count "
                  "as not meeting and stay in the denominator."),
        "s_targets": "I. RESULTS AGAINST THE TARGETS",
        "h_indicator": "Indicator", "h_facilities": "Facilities", "h_assessed": "Assessed", "h_meeting": "Meeting",
        "h_value": "Value", "h_target": "Target {year}", "h_t2025": "Target 2025", "h_t2030": "Target 2030",
        "on_track": "On target", "below": "Below target",
        "s_rounds": "II. PROGRESS AND COVERAGE OF THE SUPERVISION ROUNDS",
        "no_rounds": "No supervision round in the period.",
        "round_line": ("{name} ({start} to {deadline}; target: {target} of the {basis} of each area): "
                       "{covered}/{required} visited, {value}."),
        "basis_facilities": "facilities", "basis_communes": "communes",
        "h_district": "Area", "h_required": "To visit", "h_planned": "Assigned", "h_done": "Done",
        "h_approved": "Approved", "h_overdue": "Overdue", "h_coverage": "Coverage",
        "h_communes": "Communes (done/to do)",
        "total": "Total",
        "s_classes": "III. DISTRIBUTION OF SCORES AND CLASSES",
        "classes_intro": "{n} external inspections were approved in the period.",
        "h_class": "Classification", "h_count": "Inspections", "h_share": "Share", "h_band": "Score band",
        "cls_meets": "Meets the standard", "cls_conditional": "Conditional", "cls_does_not_meet": "Does not meet",
        "s_failed": "IV. ITEMS AND SECTIONS FAILED MOST OFTEN",
        "failed_intro": "From the facilities' valid results as of {end} (as on the dashboard).",
        "h_item": "Code", "h_text": "Content", "h_failed": "Facilities failing", "h_answered": "Facilities scored",
        "none": "None.",
        "failed_sections": "Sections below their minimum:", "failed_items": "Items not met:",
        "s_actions": "V. CORRECTIVE ACTIONS",
        "actions": ("Corrective actions opened in the period: {opened}; done in the period: {done}; "
                    "overdue and not done on {end}: {overdue}."),
        "s_districts": "VI. RESULTS BY AREA",
        "s_self": "VII. SELF-ASSESSMENTS COMPARED WITH INSPECTIONS",
        "no_self": "No facility both assessed itself and was inspected in the period.",
        "h_facility": "Facility", "h_self": "Self-assessment", "h_ext": "Inspection", "h_gap": "Gap (points)",
        "disagree": "Items on which the two disagree most:",
        "h_up": "Self met, inspection failed", "h_down": "Self failed, inspection met",
        "recipients": "Recipients:",
        "archive": "- Archived: VT, {unit}.",
        "sig": "HEAD OF THE UNIT",
        "sig_hint": "(Signature, full name, seal)",
        "sh_targets": "Targets", "sh_rounds": "Rounds", "sh_classes": "Classes",
        "sh_failed": "Failed", "sh_actions": "Corrective actions", "sh_districts": "By area",
        "sh_self": "Self-assessments",
        "a_opened": "Opened in the period", "a_done": "Done in the period", "a_overdue": "Overdue, not done",
        "h_round": "Round", "h_communes_req": "Communes to visit", "h_communes_cov": "Communes visited",
        "h_round_target": "Coverage target", "h_date": "Date", "h_score": "Score (%)", "h_kind": "Kind",
        "report_date": "Report date",
    },
}


def labels(locale: str) -> dict[str, str]:
    """The report's fixed wording (Vietnamese unless English is asked for)."""
    return LABELS["en" if (locale or "").startswith("en") else "vi"]


@dataclass(frozen=True)
class Issuer:
    """Who issues the report (the same settings as the minutes)."""

    parent_body: str
    issuing_body: str
    unit_code: str
    place: str
    issued_on: dt.date
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class _HeaderView:
    # What qa_app.pdf.minutes._header reads from a MinutesView.
    parent_body: str
    issuing_body: str
    place: str
    issued_on: dt.date
    number_label: str


def _d(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _pct(value: float | None, locale: str) -> str:
    return m.fmt_percent(value, locale)


def _cls(L: dict[str, str], cls: str | None) -> str:
    return L.get(f"cls_{cls}", "—") if cls else "—"


def _table(rows: list[list[Any]], widths: list[float], st: dict, bold_last: bool = False,
           text_cols: tuple[int, ...] = (0,)) -> Table:
    """``rows``: the header row, then the body."""
    # Text columns are left-aligned, figures centred, as in the minutes' tables.
    cells = []
    for r, row in enumerate(rows[1:], 1):
        out = []
        for c, value in enumerate(row):
            text = m.esc(value)
            if bold_last and r == len(rows) - 1:
                text = f"<b>{text}</b>"
            out.append(Paragraph(text, st["cell"] if c in text_cols else st["cell_c"]))
        cells.append(out)
    return m.grid_table(rows[0], cells, widths, st)


# ---------------------------------------------------------------------------------------------- tables
# The tables both formats show, built once: a header and rows of plain values. ``fmt`` turns a percentage into
# what the format shows (text such as "75,0 %" in the PDF, a number rounded half up to one place in the XLSX,
# as the compliance pages and API give it).

Fmt = Callable[[float | None], Any]


def _targets_table(data: ReportData, L: dict[str, str], fmt: Fmt) -> tuple[list[str], list[list[Any]]]:
    header = [L["h_indicator"], L["h_facilities"], L["h_assessed"], L["h_meeting"], L["h_value"],
              L["h_target"].format(year=data.period_end.year), L["h_t2025"], L["h_t2030"]]
    return header, [[i.title, i.total, i.assessed, i.meeting, fmt(i.value), fmt(i.target_now), fmt(i.target_2025),
                     fmt(i.target_2030)] for i in data.indicators]


def _items_table(lines: Iterable[ItemLine], L: dict[str, str]) -> tuple[list[str], list[list[Any]]]:
    return [L["h_item"], L["h_text"], L["h_failed"], L["h_answered"]], [[x.id, x.text, x.failed, x.answered]
                                                                       for x in lines]


def _districts_table(data: ReportData, L: dict[str, str], fmt: Fmt) -> tuple[list[str], list[list[Any]]]:
    header = [data.district_label or L["h_district"], L["h_facilities"], L["h_assessed"], L["h_meeting"],
              L["h_value"], L["h_coverage"]]
    return header, [[d.name, d.total, d.assessed, d.meeting, fmt(d.value), fmt(d.coverage)] for d in data.districts]


def _disagreements_table(data: ReportData, L: dict[str, str]) -> tuple[list[str], list[list[Any]]]:
    return [L["h_item"], L["h_text"], L["h_up"], L["h_down"]], [
        [x.id, x.text, x.self_met_ext_failed, x.self_failed_ext_met] for x in data.disagreements]


def _fill(first: float, n: int, rest: float) -> list[float]:
    return [first] + [rest] * n


def build_report_pdf(data: ReportData, issuer: Issuer, locale: str = "vi") -> bytes:
    """Render a progress or final report as PDF bytes in the minutes' Decree 30/2020 layout."""
    m.register_fonts()
    L = labels(locale)
    st = m._styles()
    story: list[Flowable] = []
    header = _HeaderView(parent_body=issuer.parent_body, issuing_body=issuer.issuing_body, place=issuer.place,
                         issued_on=issuer.issued_on, number_label=L["number"].format(code=issuer.unit_code))
    story += m._header(header, header_labels(locale), st)
    story.append(Paragraph(m.esc(L["title"]), st["title"]))
    story.append(Paragraph(m.esc(L[f"summary_{data.kind}"]), st["summary"]))
    story.append(m.Rule(40 * mm, m.TEXT_W, gap=8))
    story.append(Spacer(1, 8))
    end = _d(data.period_end)
    story.append(Paragraph(m.esc(L["scope"].format(region=data.region, start=_d(data.period_start), end=end)),
                           st["body"]))
    story.append(Paragraph(m.esc(L["intro"].format(end=end)), st["body"]))

    # I. Targets
    m._heading(story, L["s_targets"], st["heading"])
    pct = functools.partial(_pct, locale=locale)
    header, body = _targets_table(data, L, pct)
    story.append(_table([header, *body], _fill(m.TEXT_W - 7 * 17 * mm, 7, 17 * mm), st))
    for ind in data.indicators:
        if ind.on_track is not None:
            story.append(Paragraph(m.esc(f"- {ind.title}: {L['on_track'] if ind.on_track else L['below']}."),
                                   st["hang"]))

    # II. Rounds
    m._heading(story, L["s_rounds"], st["heading"])
    if not data.rounds:
        story.append(Paragraph(m.esc(L["no_rounds"]), st["body"]))
    for i, rnd in enumerate(data.rounds, 1):
        t = rnd.total
        covered, required = ((t.communes_covered, t.communes_required) if rnd.basis == "communes"
                             else (t.visited, t.required))
        story.append(Paragraph(m.esc(f"{i}. " + L["round_line"].format(
            name=rnd.name, start=_d(rnd.start), deadline=_d(rnd.deadline), target=_pct(rnd.target, locale),
            basis=L[f"basis_{rnd.basis}"], covered=covered, required=required, value=_pct(t.value, locale))),
            st["body"]))
        head = [L["h_district"], L["h_required"], L["h_planned"], L["h_done"], L["h_approved"], L["h_overdue"],
                L["h_communes"], L["h_coverage"]]
        body = [[name, g.required, g.planned, g.done, g.approved, g.overdue,
                 f"{g.communes_covered}/{g.communes_required}", _pct(g.value, locale)] for name, g in rnd.groups]
        body.append([L["total"], t.required, t.planned, t.done, t.approved, t.overdue,
                     f"{t.communes_covered}/{t.communes_required}", _pct(t.value, locale)])
        story.append(_table([head, *body], _fill(m.TEXT_W - 7 * 17 * mm, 7, 17 * mm), st, bold_last=True))
        story.append(Spacer(1, 6))

    # III. Classes and score bands
    m._heading(story, L["s_classes"], st["heading"])
    story.append(Paragraph(m.esc(L["classes_intro"].format(n=data.inspections)), st["body"]))
    n = data.inspections
    share = (lambda k: _pct(100.0 * k / n, locale)) if n else (lambda k: "—")
    cls_rows = [[L["h_class"], L["h_count"], L["h_share"]]]
    cls_rows += [[L[f"cls_{c}"], data.classes.get(c, 0), share(data.classes.get(c, 0))] for c in CLASSES]
    band_rows = [[L["h_band"], L["h_count"], L["h_share"]]]
    band_rows += [[f"{lo}–{hi}%" if hi < 100 else f"{lo}–100%", k, share(k)] for (lo, hi), k in data.bands]
    half = (m.TEXT_W - 6 * mm) / 2
    side = Table([[_table(cls_rows, [half - 40 * mm, 20 * mm, 20 * mm], st),
                   _table(band_rows, [half - 40 * mm, 20 * mm, 20 * mm], st)]], colWidths=[half + 3 * mm] * 2)
    side.setStyle(m._table_style(("LEFTPADDING", (0, 0), (-1, -1), 0)))
    story.append(side)

    # IV. Failed items and sections
    m._heading(story, L["s_failed"], st["heading"])
    story.append(Paragraph(m.esc(L["failed_intro"].format(end=end)), st["body"]))
    for n, (heading, lines) in enumerate(((L["failed_sections"], data.failed_sections),
                                          (L["failed_items"], data.failed_items)), 1):
        story.append(Paragraph(m.esc(f"{n}. {heading}"), st["sub"]))
        if not lines:
            story.append(Paragraph(m.esc(L["none"]), st["body"]))
            continue
        header, body = _items_table(lines, L)
        story.append(_table([header, *body], [14 * mm, m.TEXT_W - 14 * mm - 52 * mm, 26 * mm, 26 * mm], st,
                            text_cols=(0, 1)))
        story.append(Spacer(1, 6))

    # V. Corrective actions
    m._heading(story, L["s_actions"], st["heading"])
    story.append(Paragraph(m.esc(L["actions"].format(opened=data.actions_opened, done=data.actions_done,
                                                     overdue=data.actions_overdue, end=end)), st["body"]))

    # VI. Per district
    m._heading(story, L["s_districts"], st["heading"])
    header, body = _districts_table(data, L, pct)
    story.append(_table([header, *body], _fill(m.TEXT_W - 5 * 20 * mm, 5, 20 * mm), st))

    # VII. Self-assessments
    m._heading(story, L["s_self"], st["heading"])
    if not data.self_pairs:
        story.append(Paragraph(m.esc(L["no_self"]), st["body"]))
    else:
        rows = [[L["h_facility"], L["h_self"], L["h_ext"], L["h_gap"]]]
        for p in data.self_pairs:
            gap = p.gap
            rows.append([p.facility, f"{_d(p.self_date)}: {_pct(p.self_percent, locale)} – {_cls(L, p.self_class)}",
                         f"{_d(p.ext_date)}: {_pct(p.ext_percent, locale)} – {_cls(L, p.ext_class)}",
                         "—" if gap is None else m.fmt_number(gap, locale)])
        story.append(_table(rows, [m.TEXT_W - 2 * 48 * mm - 22 * mm, 48 * mm, 48 * mm, 22 * mm], st,
                            text_cols=(0, 1, 2)))
        if data.disagreements:
            story.append(Spacer(1, 6))
            story.append(Paragraph(m.esc(L["disagree"]), st["sub"]))
            header, body = _disagreements_table(data, L)
            story.append(_table([header, *body], [14 * mm, m.TEXT_W - 14 * mm - 56 * mm, 28 * mm, 28 * mm], st,
                                text_cols=(0, 1)))

    story.append(CondPageBreak(60 * mm))
    story.append(Spacer(1, 12))
    story.append(_closing(issuer, L, st))

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=m.MARGIN_LEFT, rightMargin=m.MARGIN_RIGHT, topMargin=m.MARGIN_TOP,
        bottomMargin=m.MARGIN_BOTTOM, initialFontName=m.REGULAR, initialFontSize=m.BODY_SIZE,
        title=m.nfc(f"{L['title'].capitalize()} – {L[f'summary_{data.kind}']}"), author=m.nfc(issuer.issuing_body),
        subject=m.nfc(L["scope"].format(region=data.region, start=_d(data.period_start), end=end)),
        creator="qa-app", invariant=1)
    doc.build(story, onLaterPages=lambda c, d: m._later_page(c))
    return out.getvalue()


def _closing(issuer: Issuer, L: dict[str, str], st: dict) -> Flowable:
    # Decree 30/2020: recipients bottom left, the signer's block bottom right.
    half = m.TEXT_W / 2
    left: list[Flowable] = [Paragraph(m.esc(L["recipients"]), st["recip_h"])]
    for r in issuer.recipients:
        left.append(Paragraph(m.esc("- " + r.strip().lstrip("- ").rstrip(";.") + ";"), st["recip"]))
    left.append(Paragraph(m.esc(L["archive"].format(unit=issuer.unit_code)), st["recip"]))
    right = [Paragraph(m.esc(L["sig"]), st["sig_role"]), Paragraph(m.esc(L["sig_hint"]), st["sig_hint"]),
             Spacer(1, 28 * mm)]
    table = Table([[left, right]], colWidths=[half, half])
    table.setStyle(m._table_style(("LEFTPADDING", (0, 0), (-1, -1), 0)))
    return KeepTogether([table])


# ---------------------------------------------------------------------------------------------- XLSX


def _safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str):
        value = m.nfc(value)
        if value.startswith(FORMULA_PREFIXES):
            return "'" + value
    return value


def _num(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def _rate(value: float | None) -> float | None:
    """An indicator value or target as the compliance pages and API give it (half up, one decimal)."""
    return round_half_up(value) if value is not None else None


def build_report_xlsx(data: ReportData, issuer: Issuer, locale: str = "vi") -> bytes:
    """The report's tables as an XLSX workbook, one sheet per part (numbers as numbers, percentages 0–100)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    L = labels(locale)
    book = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows: list[list[Any]], first: bool = False) -> None:
        ws = book.active if first else book.create_sheet()
        ws.title = title[:31]
        ws.append([_safe(h) for h in header])
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([_safe(v) for v in row])
        ws.freeze_panes = "A2"

    end = _d(data.period_end)
    sheet(L["sh_targets"], *_targets_table(data, L, _rate), first=True)
    info = book.active
    info.insert_rows(1, 3)
    info["A1"] = _safe(f"{L['title']}: {L[f'summary_{data.kind}']}")
    info["A1"].font = bold
    info["A2"] = _safe(L["scope"].format(region=data.region, start=_d(data.period_start), end=end))
    info["A3"] = _safe(issuer.issuing_body)
    info.freeze_panes = "A5"
    rows = []
    for rnd in data.rounds:
        for name, g in [*rnd.groups, (L["total"], rnd.total)]:
            rows.append([rnd.name, name, g.required, g.planned, g.done, g.approved, g.overdue, g.communes_required,
                         g.communes_covered, _num(g.value), rnd.target])
    sheet(L["sh_rounds"], [L["h_round"], L["h_district"], L["h_required"], L["h_planned"], L["h_done"],
                           L["h_approved"], L["h_overdue"], L["h_communes_req"], L["h_communes_cov"],
                           L["h_coverage"], L["h_round_target"]], rows)
    sheet(L["sh_classes"], [L["h_class"], L["h_count"]],
          [[L[f"cls_{c}"], data.classes.get(c, 0)] for c in CLASSES]
          + [[f"{lo}–{hi}%", k] for (lo, hi), k in data.bands])
    sheet(L["sh_failed"], *_items_table(data.failed_sections + data.failed_items, L))
    sheet(L["sh_actions"], [L["s_actions"], L["h_count"]],
          [[L["a_opened"], data.actions_opened], [L["a_done"], data.actions_done],
           [L["a_overdue"], data.actions_overdue]])
    sheet(L["sh_districts"], *_districts_table(data, L, _rate))
    self_head = [L["h_facility"], f"{L['h_self']}: {L['h_date']}", f"{L['h_self']}: {L['h_score']}",
                 f"{L['h_self']}: {L['h_class']}", f"{L['h_ext']}: {L['h_date']}", f"{L['h_ext']}: {L['h_score']}",
                 f"{L['h_ext']}: {L['h_class']}", L["h_gap"]]
    sheet(L["sh_self"], self_head,
          [[p.facility, p.self_date, _num(p.self_percent), _cls(L, p.self_class), p.ext_date, _num(p.ext_percent),
            _cls(L, p.ext_class), _num(p.gap)] for p in data.self_pairs])
    if data.disagreements:
        ws = book[L["sh_self"]]
        ws.append([])
        header, body = _disagreements_table(data, L)
        for row in (header, *body):
            ws.append([_safe(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
