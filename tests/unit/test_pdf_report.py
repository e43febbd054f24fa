"""The period report builders (pure): the minutes' Decree 30/2020 header and fonts, the figures, escaping, XLSX."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from reportlab.pdfbase import pdfmetrics

from qa_app.pdf import minutes
from qa_app.rounds.coverage import GroupCoverage
from qa_app.rounds.export import LABELS, Issuer, build_report_pdf, build_report_xlsx, labels
from qa_app.rounds.report import (
    Disagreement,
    DistrictLine,
    IndicatorLine,
    ItemLine,
    ReportData,
    RoundLine,
    SelfPair,
)
from tests.unit.test_pdf_minutes import pdf_text, strings_of

MARKUP = 'Trạm Y tế <b>xã</b> & "Bản Bo" <script>alert(1)</script>'


def sample(kind: str = "progress", districts: int = 12) -> ReportData:
    g1 = GroupCoverage(group_id=1, required=10, visited=8, planned=10, done=8, approved=6, overdue=1,
                       communes_required=5, communes_covered=4, target=80.0)
    g2 = GroupCoverage(group_id=2, required=5, visited=2, planned=4, done=2, approved=1, overdue=2,
                       communes_required=3, communes_covered=1, target=80.0)
    total = GroupCoverage(group_id=None, required=15, visited=10, planned=14, done=10, approved=7, overdue=3,
                          communes_required=8, communes_covered=5, target=80.0)
    return ReportData(
        kind=kind, region="Tỉnh Lai Châu", period_start=dt.date(2026, 4, 15), period_end=dt.date(2026, 6, 30),
        indicators=[
            IndicatorLine("facilities_meeting_standard", "Tỷ lệ cơ sở cung cấp dịch vụ KHHGĐ đạt chuẩn chất lượng",
                          120, 90, 61, 50.8333, 75.0, 78.0, 75.0, 90.0, False),
            IndicatorLine("tyt_methods_ready", "Tỷ lệ trạm y tế xã cung cấp được các biện pháp tránh thai",
                          40, 35, 33, 82.5, 87.5, 80.0, 75.0, 95.0, True)],
        rounds=[RoundLine(1, "Đợt I năm 2026 – huyện vùng cao", dt.date(2026, 4, 15), dt.date(2026, 6, 30),
                          "facilities", 80.0, total, [("Huyện Tam Đường", g1), ("Huyện Phong Thổ", g2)])],
        inspections=40, classes={"meets": 25, "conditional": 9, "does_not_meet": 6},
        bands=[((0, 50), 1), ((50, 70), 2), ((70, 80), 3), ((80, 90), 9), ((90, 100), 25)],
        failed_items=[ItemLine("B2", "Có đủ thuốc cấp cứu chống sốc phản vệ", 12, 40),
                      ItemLine("C4", "Tư vấn đầy đủ các biện pháp tránh thai", 9, 40)],
        failed_sections=[ItemLine("B", "Cơ sở vật chất, trang thiết bị", 7, 40)],
        actions_opened=31, actions_done=18, actions_overdue=4,
        districts=[DistrictLine(f"Huyện số {i} (1{i:02d})", 10 + i, 8, 5, 50.0, 80.0) for i in range(districts)],
        district_label="Huyện",
        self_pairs=[SelfPair(MARKUP, dt.date(2026, 4, 2), 96.0, "meets", dt.date(2026, 5, 10), 71.5,
                             "does_not_meet")],
        disagreements=[Disagreement("B2", "Có đủ thuốc cấp cứu chống sốc phản vệ", 5, 0, 9)])


ISSUER = Issuer(parent_body="SỞ Y TẾ TỈNH LAI CHÂU", issuing_body="TRUNG TÂM KIỂM SOÁT BỆNH TẬT", unit_code="TTKSBT",
                place="Lai Châu", issued_on=dt.date(2026, 7, 2), recipients=("Sở Y tế tỉnh Lai Châu (để b/c)",))


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return build_report_pdf(sample(), ISSUER)


def test_header_title_and_figures_are_in_the_text(pdf: bytes) -> None:
    text = pdf_text(pdf)
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SỞ Y TẾ TỈNH LAI CHÂU",
                     "TRUNG TÂM KIỂM SOÁT BỆNH TẬT", "/BC-TTKSBT", "Lai Châu, ngày 02 tháng 7 năm 2026", "BÁO CÁO",
                     "Sơ kết công tác kiểm tra, giám sát chất lượng dịch vụ kế hoạch hóa gia đình",
                     "từ ngày 15/04/2026 đến ngày 30/06/2026", "I. KẾT QUẢ THỰC HIỆN CHỈ TIÊU", "50,8%", "78%",
                     "Chưa đạt chỉ tiêu", "Đạt chỉ tiêu", "II. TIẾN ĐỘ VÀ ĐỘ BAO PHỦ CÁC ĐỢT GIÁM SÁT",
                     "Đợt I năm 2026 – huyện vùng cao", "Huyện Tam Đường", "66,7%", "III. PHÂN BỐ ĐIỂM VÀ XẾP LOẠI",
                     "62,5%", "Đạt có điều kiện", "90–100%", "IV. TIÊU CHÍ VÀ PHẦN KHÔNG ĐẠT NHIỀU NHẤT",
                     "Có đủ thuốc cấp cứu chống sốc phản vệ", "V. KHẮC PHỤC SAU KIỂM TRA", "quá hạn chưa hoàn thành",
                     "VI. KẾT QUẢ THEO ĐỊA BÀN", "Huyện số 11 (111)", "VII. SO SÁNH TỰ ĐÁNH GIÁ",
                     "24,5", "Nơi nhận:", "Lưu: VT, TTKSBT.", "THỦ TRƯỞNG ĐƠN VỊ"):
        assert expected in text, expected


def test_final_report_title() -> None:
    text = pdf_text(build_report_pdf(sample("final"), ISSUER))
    assert "Tổng kết công tác kiểm tra, giám sát" in text
    assert "Sơ kết" not in text


def test_user_markup_prints_literally(pdf: bytes) -> None:
    text = pdf_text(pdf)
    assert '<script>alert(1)</script>' in text
    assert "<b>xã</b>" in text
    assert "&amp;" not in text


def test_only_embedded_fonts(pdf: bytes, tmp_path: Path) -> None:
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        assert "Helvetica" not in row, row
        assert "LiberationSerif" in row, row
        assert row.split()[-5] == "yes", row


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_character_has_a_glyph(locale: str) -> None:
    data = sample()
    build_report_pdf(data, ISSUER, locale)
    texts = strings_of(data) + strings_of(ISSUER) + list(labels(locale).values()) + list(
        minutes.labels(locale).values())
    chars = {c for s in texts for c in unicodedata.normalize("NFC", s) if c not in "\n\r\t"}
    for font in minutes.FONT_FILES:
        cmap = pdfmetrics.getFont(font).face.charToGlyph
        missing = sorted(c for c in chars if ord(c) not in cmap)
        assert not missing, (font, missing)


def test_same_layout_as_the_minutes(pdf: bytes) -> None:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    # A4 portrait, like the minutes.
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    # Page numbers from page two, centred in the top margin, none on page one.
    assert len(reader.pages) >= 2
    assert reader.pages[0].extract_text().split()[0] != "1"
    assert reader.pages[1].extract_text().split()[0] == "2"
    # The header block sits exactly where the minutes put it: same motto, same rules, same places.
    from qa_app.checklists.loader import load_checklist
    from qa_app.pdf.sample import sample_view

    checklist = load_checklist(Path(__file__).resolve().parents[2] / "checklists" / "fp-quality" / "v1.yaml")
    minutes_pdf = minutes.build_minutes_pdf(dataclasses.replace(sample_view(checklist), issued_on=ISSUER.issued_on,
                                                                inspection_date=ISSUER.issued_on))
    ours, theirs = header_positions(pdf), header_positions(minutes_pdf)
    # The title is centred on the same line as the minutes' "BIÊN BẢN".
    theirs["BÁO CÁO"] = (ours["BÁO CÁO"][0], theirs["BIÊN BẢN"][1])
    for key in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SỞ Y TẾ TỈNH LAI CHÂU",
                "TRUNG TÂM", "KIỂM SOÁT BỆNH TẬT", "BÁO CÁO", "Lai Châu, ngày 02 tháng 7 năm 2026"):
        assert ours[key] == pytest.approx(theirs[key], abs=0.5), key
    assert ours["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"][0] > ours["SỞ Y TẾ TỈNH LAI CHÂU"][0]


def header_positions(data: bytes) -> dict[str, tuple[float, float]]:
    """Text of page one -> its (x, y) on the page (text matrix times the current matrix)."""
    pypdf = pytest.importorskip("pypdf")
    positions: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        t = unicodedata.normalize("NFC", text.strip())
        if t and t not in positions:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            positions[t] = (round(x, 2), round(y, 2))

    pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return positions


def test_english_rendering() -> None:
    text = pdf_text(build_report_pdf(sample(), ISSUER, "en"))
    for expected in ("SOCIALIST REPUBLIC OF VIETNAM", "REPORT", "Progress report on the supervision",
                     "Recipients:", "HEAD OF THE UNIT", "50.8%"):
        assert expected in text, expected


def test_both_languages_have_the_same_labels() -> None:
    assert set(LABELS["vi"]) == set(LABELS["en"])


def test_empty_report_still_renders() -> None:
    empty = dataclasses.replace(sample(), rounds=[], failed_items=[], failed_sections=[], self_pairs=[],
                                disagreements=[], districts=[], inspections=0,
                                classes={"meets": 0, "conditional": 0, "does_not_meet": 0})
    text = pdf_text(build_report_pdf(empty, ISSUER))
    assert "Không có đợt giám sát nào trong kỳ báo cáo." in text
    assert "Không có cơ sở nào vừa tự đánh giá vừa được kiểm tra trong kỳ." in text


def test_xlsx_has_numbers_and_neutralised_formulas() -> None:
    from openpyxl import load_workbook

    data = dataclasses.replace(sample(), region="=HYPERLINK(\"http://x\")")
    data.self_pairs[0] = dataclasses.replace(data.self_pairs[0], facility="=1+1 Nhà thuốc")
    book = load_workbook(io.BytesIO(build_report_xlsx(data, ISSUER)))
    assert book.sheetnames == ["Chỉ tiêu", "Đợt giám sát", "Xếp loại", "Không đạt", "Khắc phục", "Theo địa bàn",
                               "Tự đánh giá"]
    first = book.worksheets[0]
    assert first["A2"].value.startswith("Địa bàn: =HYPERLINK")
    rows = list(first.iter_rows(min_row=5, values_only=True))
    assert rows[0][1:5] == (120, 90, 61, 50.8)  # 61/120 = 50.83…, rounded as the compliance pages and API
    rounds = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert rounds[-1][1:7] == ("Tổng cộng", 15, 14, 10, 7, 3)
    self_rows = list(book.worksheets[6].iter_rows(min_row=2, values_only=True))
    assert self_rows[0][0] == "'=1+1 Nhà thuốc"
    assert self_rows[0][7] == 24.5
