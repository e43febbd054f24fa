"""Inspection minutes (biên bản) in the Decree 30/2020/NĐ-CP layout: a pure builder, view model in, PDF bytes out.

Pure module: no Flask, no database. Every string is NFC-normalised and XML-escaped before ReportLab's
Paragraph markup sees it, and every style names an embedded Liberation Serif face (Times New Roman metrics),
so the PDF never falls back to an unembedded Helvetica.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm, mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ..minutes import text as rules

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD, ITALIC, BOLD_ITALIC = ("LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic",
                                      "LiberationSerif-BoldItalic")
FONT_FILES = {REGULAR: "LiberationSerif-Regular.ttf", BOLD: "LiberationSerif-Bold.ttf",
              ITALIC: "LiberationSerif-Italic.ttf", BOLD_ITALIC: "LiberationSerif-BoldItalic.ttf"}

# Decree 30/2020 Annex I: top/bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 20 * mm, 20 * mm, 30 * mm, 15 * mm
PAGE_W, PAGE_H = A4
TEXT_W = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT
BODY_SIZE = 13

_fonts_lock = threading.Lock()
_fonts_ready = False


def register_fonts() -> None:
    """Register the four Liberation Serif faces once per process (one internal name per file)."""
    global _fonts_ready
    with _fonts_lock:
        if _fonts_ready:
            return
        for name, filename in FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)
        _fonts_ready = True


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


# ---------------------------------------------------------------------------------------------- labels

# The minutes are a legal document in Vietnamese; English is a courtesy rendering of the same layout.
LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "motto_nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "no": "Số:",
        "title": "BIÊN BẢN",
        "summary": "Kiểm tra, đánh giá chất lượng dịch vụ kế hoạch hóa gia đình tại {facility}",
        "title_self": "PHIẾU TỰ ĐÁNH GIÁ",
        "summary_self": "Chất lượng dịch vụ kế hoạch hóa gia đình tại {facility}",
        "opening_self": ("Vào hồi {time} {date}, {facility} tự đánh giá chất lượng dịch vụ kế hoạch hóa gia đình "
                         "theo bảng kiểm dưới đây; đơn vị tiếp nhận: {unit}. Thành phần gồm có:"),
        "pending": "BẢN GHI TẠI BUỔI KIỂM TRA — CHỜ VÀO SỔ VÀ KÝ SỐ CỦA ĐƠN VỊ",
        "basis": "Căn cứ {text};",
        "locale": "vi",
        "opening": ("Hôm nay, vào hồi {time} {date}, tại {facility}, đoàn kiểm tra "
                    "của {unit} tiến hành kiểm tra, đánh giá chất lượng dịch vụ kế hoạch hóa gia đình, "
                    "thành phần gồm có:"),
        "time": "{h:02d} giờ {mi:02d}",
        "time_blank": "… giờ …",
        "s_members": "I. THÀNH PHẦN",
        "team": "1. Đoàn kiểm tra:",
        "reps": "2. Đại diện cơ sở được kiểm tra:",
        "s_facility": "II. THÔNG TIN VỀ CƠ SỞ ĐƯỢC KIỂM TRA",
        "f_name": "Tên cơ sở:",
        "f_address": "Địa chỉ:",
        "f_unit": "Địa bàn (từ 01/7/2025):",
        "f_legacy": "Địa bàn (trước 01/7/2025):",
        "f_type": "Loại hình:",
        "f_own": "Hình thức sở hữu:",
        "s_results": "III. NỘI DUNG VÀ KẾT QUẢ KIỂM TRA",
        "checklist": ("1. Bảng kiểm sử dụng: {title} (mã {code}, phiên bản {version}, "
                      "mã băm nội dung {sha}…)."),
        "by_section": "2. Kết quả theo từng phần:",
        "h_section": "Phần", "h_title": "Nội dung", "h_points": "Điểm đạt/ tối đa", "h_pct": "Tỷ lệ",
        "h_crit": "TC bắt buộc không đạt",
        "overall": "Tổng hợp chung: đạt {pct}. Xếp loại: {cls}.",
        "failed": "3. Các tiêu chí không đạt:",
        "none_failed": "Không có tiêu chí nào không đạt.",
        "h_item": "Mã", "h_text": "Tiêu chí", "h_note": "Ghi chú",
        "critical": "4. Tiêu chí bắt buộc không đạt (không đạt bất kỳ tiêu chí nào dưới đây thì cơ sở không đạt):",
        "none_critical": "4. Không có tiêu chí bắt buộc nào không đạt.",
        "crit_mark": " (bắt buộc)",
        "s_conclusion": "IV. KẾT LUẬN",
        "strengths": "1. Ưu điểm:",
        "shortcomings": "2. Tồn tại, hạn chế:",
        "none_noted": "Không có.",
        "s_actions": "V. KIẾN NGHỊ, YÊU CẦU KHẮC PHỤC",
        "none_actions": "Không có yêu cầu khắc phục.",
        "h_action": "Nội dung khắc phục", "h_resp": "Người chịu trách nhiệm", "h_deadline": "Thời hạn",
        "s_opinion": "VI. Ý KIẾN CỦA CƠ SỞ ĐƯỢC KIỂM TRA",
        "closing": ("Biên bản kết thúc vào hồi {time}; đã được đọc lại cho các thành viên cùng nghe, "
                    "thống nhất và ký tên."),
        "same_day": " cùng ngày",
        "filed": ("Biên bản được vào sổ số {number} {date}, lúc {time}, và ký số bởi {signer}."),
        "content_hash": "Mã nội dung đã ký tại buổi kiểm tra (SHA-256):",
        "stamp_title": "Văn bản đã được ký số",
        "stamp_unit": "Đơn vị ký: {unit}",
        "stamp_time": "Thời gian ký: {time} {date}",
        "sig_facility": "ĐẠI DIỆN CƠ SỞ ĐƯỢC KIỂM TRA",
        "sig_head": "TRƯỞNG ĐOÀN KIỂM TRA",
        "sig_secretary": "THƯ KÝ",
        "sig_deputy": "PHÓ TRƯỞNG ĐOÀN",
        "sig_member": "THÀNH VIÊN ĐOÀN",
        "sig_hint": "(Ký, ghi rõ họ tên)",
        "sig_hint_seal": "(Ký, ghi rõ họ tên, đóng dấu nếu có)",
        "recipients": "Nơi nhận:",
        "archive": "- Lưu: VT, {unit}.",
        "verify": "Kiểm tra tính xác thực của biên bản điện tử này: quét mã QR hoặc truy cập {url}",
        "annex": "PHỤ LỤC",
        "annex_sub": "BẢNG KIỂM CHI TIẾT",
        "annex_ref": "(Kèm theo Biên bản số {number} {date})",
        "annex_ref_self": "(Kèm theo Phiếu tự đánh giá {date})",
        "h_answer": "Kết quả",
        "cls_because_critical": " (có tiêu chí bắt buộc không đạt)",
        "cls_meets": "Đạt chuẩn", "cls_conditional": "Đạt có điều kiện", "cls_does_not_meet": "Không đạt",
        "cls_not_assessable": "Không đánh giá được (có nội dung không quan sát được), cần giám sát lại",
        "not_scored": "không xác định",
        "role_head": "Trưởng đoàn", "role_deputy": "Phó trưởng đoàn", "role_secretary": "Thư ký",
        "role_member": "Thành viên", "role_facility_rep": "Đại diện cơ sở",
        "ans_met": "Đạt", "ans_not_met": "Không đạt", "ans_na": "Không áp dụng", "ans_blank": "—",
        "ans_not_observed": "Không quan sát được",
        "ans_excluded": "Không áp dụng với cơ sở",
        "type_TYT": "Trạm Y tế xã/phường/đặc khu", "type_TTYT": "Trung tâm Y tế", "type_BV": "Bệnh viện",
        "type_PK": "Phòng khám", "type_NT": "Nhà thuốc, quầy thuốc",
        "own_public": "Công lập", "own_non_public": "Ngoài công lập",
        "unit_code": "mã",
    },
    "en": {
        "motto_nation": "SOCIALIST REPUBLIC OF VIETNAM",
        "motto": "Independence - Freedom - Happiness",
        "no": "No.:",
        "title": "MINUTES",
        "summary": "Inspection and assessment of the quality of family planning services at {facility}",
        "title_self": "SELF-ASSESSMENT FORM",
        "summary_self": "Quality of family planning services at {facility}",
        "opening_self": ("At {time} on {date}, {facility} assessed the quality of its own family planning services "
                         "with the checklist below; received by: {unit}. Participants:"),
        "pending": "RECORD TAKEN AT THE VISIT — AWAITING FILING AND THE UNIT'S DIGITAL SIGNATURE",
        "basis": "Pursuant to {text};",
        "locale": "en",
        "opening": ("Today, at {time} on {date}, at {facility}, the inspection team of {unit} "
                    "inspected and assessed the quality of family planning services, with the following "
                    "participants:"),
        "time": "{h:02d}:{mi:02d}",
        "time_blank": "…:…",
        "s_members": "I. PARTICIPANTS",
        "team": "1. Inspection team:",
        "reps": "2. Representatives of the inspected facility:",
        "s_facility": "II. THE INSPECTED FACILITY",
        "f_name": "Name:",
        "f_address": "Address:",
        "f_unit": "Administrative unit (from 1 July 2025):",
        "f_legacy": "Administrative unit (before 1 July 2025):",
        "f_type": "Type:",
        "f_own": "Ownership:",
        "s_results": "III. CONTENT AND RESULTS",
        "checklist": "1. Checklist used: {title} (code {code}, version {version}, content hash {sha}…).",
        "by_section": "2. Results by section:",
        "h_section": "Section", "h_title": "Content", "h_points": "Points earned/ possible", "h_pct": "Score",
        "h_crit": "Critical items failed",
        "overall": "Overall: {pct}. Classification: {cls}.",
        "failed": "3. Items not met:",
        "none_failed": "No item was failed.",
        "h_item": "Item", "h_text": "Criterion", "h_note": "Note",
        "critical": "4. Critical items failed (failing any of them fails the facility):",
        "none_critical": "4. No critical item was failed.",
        "crit_mark": " (critical)",
        "s_conclusion": "IV. CONCLUSION",
        "strengths": "1. Strengths:",
        "shortcomings": "2. Shortcomings:",
        "none_noted": "None.",
        "s_actions": "V. RECOMMENDATIONS AND CORRECTIVE ACTIONS",
        "none_actions": "No corrective action is required.",
        "h_action": "Corrective action", "h_resp": "Responsible", "h_deadline": "Deadline",
        "s_opinion": "VI. OPINION OF THE INSPECTED FACILITY",
        "closing": ("The meeting closed at {time}; these minutes were read aloud to all "
                    "participants, agreed and signed."),
        "same_day": " on the same day",
        "filed": "Filed as No. {number} on {date} at {time} and digitally signed by {signer}.",
        "content_hash": "Hash of the content signed at the visit (SHA-256):",
        "stamp_title": "Digitally signed",
        "stamp_unit": "Signed by: {unit}",
        "stamp_time": "Signing time: {time}, {date}",
        "sig_facility": "FOR THE INSPECTED FACILITY",
        "sig_head": "HEAD OF THE INSPECTION TEAM",
        "sig_secretary": "SECRETARY",
        "sig_deputy": "DEPUTY HEAD OF THE TEAM",
        "sig_member": "TEAM MEMBER",
        "sig_hint": "(Signature, full name)",
        "sig_hint_seal": "(Signature, full name, seal if any)",
        "recipients": "Recipients:",
        "archive": "- Archived: VT, {unit}.",
        "verify": "Check that this electronic document is authentic: scan the QR code or visit {url}",
        "annex": "ANNEX",
        "annex_sub": "DETAILED CHECKLIST",
        "annex_ref": "(Attached to minutes No. {number} of {date})",
        "annex_ref_self": "(Attached to the self-assessment form of {date})",
        "h_answer": "Result",
        "cls_because_critical": " (a critical item was failed)",
        "cls_meets": "Meets the standard", "cls_conditional": "Conditional", "cls_does_not_meet": "Does not meet",
        "cls_not_assessable": "Not assessable (something could not be observed): re-visit needed",
        "not_scored": "not determined",
        "role_head": "Head of team", "role_deputy": "Deputy head", "role_secretary": "Secretary",
        "role_member": "Member", "role_facility_rep": "Facility representative",
        "ans_met": "Met", "ans_not_met": "Not met", "ans_na": "Not applicable", "ans_blank": "—",
        "ans_not_observed": "Not observed",
        "ans_excluded": "Does not apply to this facility",
        "type_TYT": "Commune health station", "type_TTYT": "District health centre", "type_BV": "Hospital",
        "type_PK": "Private clinic", "type_NT": "Pharmacy or drug counter",
        "own_public": "Public", "own_non_public": "Non-public",
        "unit_code": "code",
    },
}


def labels(locale: str) -> dict[str, str]:
    """The fixed wording of the minutes in ``locale`` (Vietnamese unless English is asked for)."""
    return LABELS["en" if (locale or "").startswith("en") else "vi"]


def nfc(text: object) -> str:
    """NFC-normalise: decomposed accents would be placed wrongly by ReportLab."""
    return unicodedata.normalize("NFC", str(text))


def esc(text: object) -> str:
    """NFC + XML-escape user text for Paragraph markup (notes with '<script>' print literally)."""
    return escape(nfc(text)).replace("\n", "<br/>")


def fmt_number(value: float, locale: str, decimals: int = 1) -> str:
    """1234.5 -> '1234,5' (vi) / '1234.5' (en); trailing zeros dropped."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"
    return text.replace(".", ",") if not locale.startswith("en") else text


def fmt_percent(value: float | None, locale: str) -> str:
    """87.5 -> '87,5%'."""
    return "—" if value is None else fmt_number(value, locale) + "%"


# ---------------------------------------------------------------------------------------------- styles


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.25,
                          alignment=TA_JUSTIFY, firstLineIndent=1 * cm, spaceAfter=6)
    s = {
        "body": base,
        "plain": ParagraphStyle("plain", parent=base, firstLineIndent=0),
        "hang": ParagraphStyle("hang", parent=base, firstLineIndent=0, leftIndent=1 * cm, spaceAfter=3),
        "heading": ParagraphStyle("heading", parent=base, fontName=BOLD, firstLineIndent=0, alignment=TA_LEFT,
                                  spaceBefore=6),
        "sub": ParagraphStyle("sub", parent=base, fontName=BOLD, firstLineIndent=1 * cm, alignment=TA_LEFT),
        "hdr": ParagraphStyle("hdr", fontName=REGULAR, fontSize=12, leading=14.5, alignment=TA_CENTER),
        "hdr_b": ParagraphStyle("hdr_b", fontName=BOLD, fontSize=12, leading=14.5, alignment=TA_CENTER),
        "motto": ParagraphStyle("motto", fontName=BOLD, fontSize=13, leading=15.5, alignment=TA_CENTER),
        "number": ParagraphStyle("number", fontName=REGULAR, fontSize=13, leading=15.5, alignment=TA_CENTER),
        "date": ParagraphStyle("date", fontName=ITALIC, fontSize=13, leading=15.5, alignment=TA_CENTER),
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=14, leading=17, alignment=TA_CENTER,
                                spaceBefore=14),
        "summary": ParagraphStyle("summary", fontName=BOLD, fontSize=14, leading=17, alignment=TA_CENTER),
        "cell": ParagraphStyle("cell", fontName=REGULAR, fontSize=11, leading=13, alignment=TA_LEFT),
        "cell_c": ParagraphStyle("cell_c", fontName=REGULAR, fontSize=11, leading=13, alignment=TA_CENTER),
        "cell_h": ParagraphStyle("cell_h", fontName=BOLD, fontSize=11, leading=13, alignment=TA_CENTER),
        "sig_role": ParagraphStyle("sig_role", fontName=BOLD, fontSize=13, leading=15.5, alignment=TA_CENTER),
        "sig_hint": ParagraphStyle("sig_hint", fontName=ITALIC, fontSize=12, leading=14, alignment=TA_CENTER),
        "sig_name": ParagraphStyle("sig_name", fontName=BOLD, fontSize=13, leading=15.5, alignment=TA_CENTER),
        "recip_h": ParagraphStyle("recip_h", fontName=BOLD_ITALIC, fontSize=12, leading=14, alignment=TA_LEFT),
        "recip": ParagraphStyle("recip", fontName=REGULAR, fontSize=11, leading=13, alignment=TA_LEFT),
        "small": ParagraphStyle("small", fontName=ITALIC, fontSize=10, leading=12, alignment=TA_LEFT),
        "demo": ParagraphStyle("demo", fontName=BOLD_ITALIC, fontSize=11, leading=13, alignment=TA_CENTER,
                               textColor=colors.HexColor("#b00020")),
    }
    return s


def _table_style(*extra: tuple) -> TableStyle:
    # FONTNAME on every table: the default cell font is an unembedded Helvetica.
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR), ("FONTSIZE", (0, 0), (-1, -1), 11),
                       ("VALIGN", (0, 0), (-1, -1), "TOP"), *extra])


def _grid_style(header_rows: int = 1) -> TableStyle:
    return _table_style(
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#eeeeee")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    )


class Rule(Flowable):
    """A centred horizontal rule of a given width (under the motto and the issuing body)."""

    def __init__(self, width: float, box_width: float, gap: float = 2):
        super().__init__()
        self.rule_width, self.box_width, self.gap = width, box_width, gap

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.box_width, self.gap + 1

    def draw(self) -> None:
        x0 = (self.box_width - self.rule_width) / 2
        self.canv.setLineWidth(0.7)
        self.canv.line(x0, 1, x0 + self.rule_width, 1)


class QrCode(Flowable):
    """The verification URL as a QR code (reportlab.graphics.barcode.qr), drawn as one filled path."""

    def __init__(self, url: str, size: float):
        super().__init__()
        widget = QrCodeWidget(url, barLevel="M")
        widget.qr.make()
        self.modules = widget.qr.modules
        self.size = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        # One path instead of hundreds of Drawing rectangles: a third of the build time otherwise.
        n = len(self.modules)
        cell = self.size / n
        path = self.canv.beginPath()
        for r, row in enumerate(self.modules):
            for c, dark in enumerate(row):
                if dark:
                    path.rect(c * cell, self.size - (r + 1) * cell, cell, cell)
        self.canv.setFillColor(colors.black)
        self.canv.drawPath(path, stroke=0, fill=1)


def _signature_image(png: bytes, max_w: float, max_h: float) -> Flowable:
    if not png:
        return Spacer(max_w, max_h)
    try:
        reader = ImageReader(io.BytesIO(png))
        w, h = reader.getSize()
    except Exception:  # noqa: BLE001 - a damaged drawing must not stop the minutes; the name is printed
        return Spacer(max_w, max_h)
    scale = min(max_w / w, max_h / h)
    return Image(io.BytesIO(png), width=w * scale, height=h * scale)


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


def _canvas_dated(when: dt.datetime | None) -> type[Canvas]:
    """A Canvas class whose document's CreationDate/ModDate is ``when`` (UTC) instead of the invariant date."""

    class DatedCanvas(Canvas):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            if when is not None:
                stamp = self._doc._timeStamp
                utc = when.astimezone(dt.UTC)
                stamp.t = utc.timestamp()
                stamp.YMDhms = (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
                stamp.dhh = stamp.dmm = 0

    return DatedCanvas


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


def _heading(story: list[Flowable], text: str, style: ParagraphStyle) -> None:
    # A heading never ends a page: move it down when less than ~3 lines remain.
    story.append(CondPageBreak(25 * mm))
    story.append(Paragraph(esc(text), style))


def _header(view: MinutesView, L: dict[str, str], st: dict[str, ParagraphStyle]) -> list[Flowable]:
    # The national motto at 12 pt needs ~89 mm; the issuing body gets the rest and wraps evenly if needed.
    right_w = 95 * mm
    left_w = TEXT_W - right_w
    body_lines = _balanced_lines(nfc(view.issuing_body.upper()), BOLD, 12, left_w - 4)
    body_w = max(pdfmetrics.stringWidth(line, BOLD, 12) for line in body_lines)
    motto_w = pdfmetrics.stringWidth(nfc(L["motto"]), BOLD, 13)
    left = []
    if view.parent_body:
        for line in _balanced_lines(nfc(view.parent_body.upper()), REGULAR, 12, left_w - 4):
            left.append(Paragraph(esc(line), st["hdr"]))
    left.append(Paragraph("<br/>".join(esc(line) for line in body_lines), st["hdr_b"]))
    # Decree 30/2020: the rule under the issuing body is 1/3 to 1/2 of the text's length.
    left.append(Rule(body_w * 0.4, left_w - 4, gap=6))
    right = [Paragraph(esc(L["motto_nation"]), st["hdr_b"]), Paragraph(esc(L["motto"]), st["motto"]),
             Rule(motto_w, right_w - 4, gap=5)]
    # The date line is the visit's: the record was drawn up and signed that day (the filing date is in the
    # filing note under the signatures).
    rows = [
        [left, right],
        [Paragraph(f"{esc(L['no'])} {esc(view.number_label)}" if getattr(view, "document", "") != "self_assessment"
                   else "", st["number"]),
         Paragraph(esc(rules.date_line(view.place, _header_date(view), L["locale"])), st["date"])],
    ]
    table = Table(rows, colWidths=[left_w, right_w])
    table.setStyle(_table_style(("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                                ("TOPPADDING", (0, 1), (-1, 1), 6)))
    return [table]


def _header_date(view: object) -> dt.date:
    # Minutes carry the visit date; other documents sharing this header (round reports) their issue date.
    return getattr(view, "inspection_date", None) or view.issued_on


def _balanced_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """One line if it fits, else the fewest most even lines, broken between words, never inside one."""
    return rules.agency_lines(text, lambda t: pdfmetrics.stringWidth(t, font, size), width)


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
    head = [Paragraph(esc(L[k]), st["cell_h"]) for k in ("h_section", "h_title", "h_points", "h_pct", "h_crit")]
    rows = [head]
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
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(_grid_style())
    return table


def _failed_table(items: Iterable[FailedItem], L: dict[str, str], st: dict[str, ParagraphStyle]) -> Table:
    rows = [[Paragraph(esc(L[k]), st["cell_h"]) for k in ("h_item", "h_text", "h_note")]]
    for f in items:
        text = esc(f.text) + (f"<b>{esc(L['crit_mark'])}</b>" if f.critical else "")
        rows.append([Paragraph(esc(f.item_id), st["cell_c"]), Paragraph(text, st["cell"]),
                     Paragraph(esc(f.note), st["cell"])])
    table = Table(rows, colWidths=[14 * mm, TEXT_W - 14 * mm - 50 * mm, 50 * mm], repeatRows=1)
    table.setStyle(_grid_style())
    return table


def _actions_table(actions: Iterable[ActionRow], L: dict[str, str], st: dict[str, ParagraphStyle]) -> Table:
    rows = [[Paragraph(esc(L[k]), st["cell_h"]) for k in ("h_item", "h_action", "h_resp", "h_deadline")]]
    for a in actions:
        rows.append([Paragraph(esc(a.item_id), st["cell_c"]), Paragraph(esc(a.action), st["cell"]),
                     Paragraph(esc(a.responsible), st["cell"]),
                     Paragraph(f"{a.deadline.day:02d}/{a.deadline.month:02d}/{a.deadline.year}", st["cell_c"])])
    table = Table(rows, colWidths=[14 * mm, TEXT_W - 14 * mm - 45 * mm - 24 * mm, 45 * mm, 24 * mm], repeatRows=1)
    table.setStyle(_grid_style())
    return table


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


def _notice(canvas: object, text: str) -> None:
    # A framed notice in the top margin of page 1: the copy taken at the visit is not the filed minutes.
    canvas.saveState()
    text = nfc(text)
    width = pdfmetrics.stringWidth(text, BOLD, 10) + 12
    x = MARGIN_LEFT + (TEXT_W - width) / 2
    canvas.setStrokeColor(colors.HexColor("#8a4b00"))
    canvas.setFillColor(colors.HexColor("#8a4b00"))
    canvas.rect(x, PAGE_H - 14 * mm, width, 6.5 * mm, stroke=1, fill=0)
    canvas.setFont(BOLD, 10)
    canvas.drawCentredString(MARGIN_LEFT + TEXT_W / 2, PAGE_H - 14 * mm + 2 * mm, text)
    canvas.restoreState()


def _later_page(canvas: object) -> None:
    # Decree 30/2020: page numbers centred in the top margin, none on the first page.
    canvas.saveState()
    canvas.setFont(REGULAR, 13)
    canvas.drawCentredString(MARGIN_LEFT + TEXT_W / 2, PAGE_H - 12 * mm, str(canvas.getPageNumber()))
    canvas.restoreState()
