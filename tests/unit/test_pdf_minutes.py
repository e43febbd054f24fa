"""The pure minutes builder: Decree 30/2020 wording, embedded fonts, Vietnamese glyph coverage, escaping."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from reportlab.pdfbase import pdfmetrics

from qa_app.checklists.loader import load_checklist
from qa_app.pdf import minutes
from qa_app.pdf.sample import SAMPLE_NOTE, sample_view

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = load_checklist(ROOT / "checklists" / "fp-quality" / "v1.yaml")


def pdf_text(data: bytes) -> str:
    """Extracted text, NFC, whitespace collapsed (pypdf)."""
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def strings_of(value: object) -> list[str]:
    """Every string inside a (nested) dataclass view."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value):
        return [s for f in dataclasses.fields(value) for s in strings_of(getattr(value, f.name))]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings_of(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_of(v)]
    return []


@pytest.fixture(scope="module")
def view() -> minutes.MinutesView:
    return sample_view(CHECKLIST)


@pytest.fixture(scope="module")
def pdf(view: minutes.MinutesView) -> bytes:
    return minutes.build_minutes_pdf(view)


def test_header_title_and_content_are_in_the_text(pdf: bytes, view: minutes.MinutesView) -> None:
    text = pdf_text(pdf)
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SỞ Y TẾ TỈNH LAI CHÂU",
                     "Số: 07/BB-TTKSBT", "Lai Châu, ngày 05 tháng 02 năm 2026", "BIÊN BẢN",
                     "Kiểm tra, đánh giá chất lượng dịch vụ kế hoạch hóa gia đình", "Trạm Y tế xã Bản Bo",
                     "86,4%", "Đạt có điều kiện", "Nguyễn Thị Hương", "Đặng Thị Ngọc Ánh", "Nơi nhận:",
                     "Lưu: VT, TTKSBT.", "PHỤ LỤC", "Kế hoạch giám sát chất lượng dịch vụ KHHGĐ năm 2026",
                     "cơ sở giữ 01 bản, đoàn kiểm tra giữ 01 bản", "THỬ NGHIỆM", view.checklist_sha256[:12]):
        assert expected in text, expected
    # Every section score is printed.
    for section in view.sections:
        assert minutes.fmt_percent(section.percent, "vi") in text


def test_user_markup_prints_literally(pdf: bytes) -> None:
    text = pdf_text(pdf)
    assert '<script>alert("x")</script>' in text
    assert "&amp;" not in text


def test_only_embedded_fonts(pdf: bytes, tmp_path: Path) -> None:
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    path = tmp_path / "m.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        assert "Helvetica" not in row, row
        assert "LiberationSerif" in row, row
        # columns: name type encoding emb sub uni …
        assert row.split()[-5] == "yes", row


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_character_has_a_glyph(locale: str) -> None:
    view = sample_view(CHECKLIST, locale)
    minutes.build_minutes_pdf(view, locale)
    texts = strings_of(view) + list(minutes.labels(locale).values())
    chars = {c for s in texts for c in unicodedata.normalize("NFC", s) if c not in "\n\r\t"}
    for font in minutes.FONT_FILES:
        cmap = pdfmetrics.getFont(font).face.charToGlyph
        missing = sorted(c for c in chars if ord(c) not in cmap)
        assert not missing, (font, missing)


def test_english_rendering(view: minutes.MinutesView) -> None:
    text = pdf_text(minutes.build_minutes_pdf(sample_view(CHECKLIST, "en"), "en"))
    assert "SOCIALIST REPUBLIC OF VIETNAM" in text
    assert "MINUTES" in text
    assert "Recipients:" in text


def test_number_label_has_leading_zero(view: minutes.MinutesView) -> None:
    assert dataclasses.replace(view, number=3).number_label == "03/BB-TTKSBT"
    assert dataclasses.replace(view, number=123).number_label == "123/BB-TTKSBT"


def test_several_pages_with_page_numbers_from_page_two(pdf: bytes) -> None:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    first = reader.pages[0].extract_text().split()
    second = reader.pages[1].extract_text().split()
    assert first[0] != "1"
    assert second[0] == "2"


def test_note_escaping_helper() -> None:
    assert minutes.esc(SAMPLE_NOTE).count("&lt;script&gt;") == 1
    assert minutes.esc("a\nb") == "a<br/>b"
