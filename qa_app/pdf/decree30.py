"""Decree 30/2020/NĐ-CP layout primitives shared by every PDF the app writes (the minutes and the round reports):
the embedded Liberation Serif faces, A4 page geometry and margins, text escaping and number formats, the
paragraph and table styles, the header (issuing body, national motto, number and place-date line), headings
that never end a page, the page numbers and the framed notices, a drawn signature image and the QR code.

Pure module: no Flask, no database. Every string is NFC-normalised and XML-escaped before ReportLab's
Paragraph markup sees it, and every style names an embedded face, so a PDF never falls back to an unembedded
Helvetica.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import unicodedata
from pathlib import Path
from typing import Any
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
    Paragraph,
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


def grid_table(head: list[str], rows: list[list[Flowable]], widths: list[float],
               st: dict[str, ParagraphStyle]) -> Table:
    """A ruled table: the header row (bold, centred) repeated on every page, then the body cells as given."""
    table = Table([[Paragraph(esc(h), st["cell_h"]) for h in head], *rows], colWidths=widths, repeatRows=1)
    table.setStyle(_grid_style())
    return table


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


def _heading(story: list[Flowable], text: str, style: ParagraphStyle) -> None:
    # A heading never ends a page: move it down when less than ~3 lines remain.
    story.append(CondPageBreak(25 * mm))
    story.append(Paragraph(esc(text), style))


def _header(view: Any, L: dict[str, str], st: dict[str, ParagraphStyle]) -> list[Flowable]:
    # ``view``: the minutes' view or a round report's (issuing and parent body, number label, place, date).
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
