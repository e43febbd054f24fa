"""A synthetic minutes view from a loaded checklist, for the benchmark and the builder's unit tests (pure)."""

from __future__ import annotations

import datetime as dt
import io

from ..checklists.schema import Checklist
from .minutes import (
    ActionRow,
    AnnexRow,
    AnnexSection,
    FailedItem,
    MinutesView,
    Person,
    SectionRow,
    SignatureBox,
)

SAMPLE_NOTE = 'Tủ thuốc cấp cứu thiếu adrenalin <script>alert("x")</script> & "ống tiêm"'


def signature_png(seed: int = 0) -> bytes:
    """A small drawn-looking signature (transparent PNG), made with Pillow."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (300, 110), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    points = [(20 + i * 13, 60 + ((i * 37 + seed * 11) % 40) - 20) for i in range(20)]
    draw.line(points, fill=(10, 30, 120, 255), width=4, joint="curve")
    draw.line([(40, 85), (260, 78)], fill=(10, 30, 120, 255), width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sample_view(checklist: Checklist, locale: str = "vi", *, failed_every: int = 9,
                verify_url: str = "http://127.0.0.1:5000/verify/abc") -> MinutesView:
    """Every item answered (every ``failed_every``-th one not met, with a note that contains markup)."""
    annex, failed, actions, sections = [], [], [], []
    day = dt.date(2026, 2, 5)
    n = 0
    for section in checklist.sections:
        rows = []
        earned = possible = 0.0
        crit = 0
        for item in section.items:
            n += 1
            bad = n % failed_every == 0
            critical = item.critical == "always"
            note = SAMPLE_NOTE if bad else ""
            rows.append(AnnexRow(item.id, item.text.get(locale), "Không đạt" if bad else "Đạt", note, critical))
            possible += item.weight
            if bad:
                failed.append(FailedItem(item.id, item.text.get(locale), critical, note))
                actions.append(ActionRow(item.id, "Bổ sung, khắc phục ngay theo hướng dẫn của đoàn",
                                         "Trạm trưởng", day + dt.timedelta(days=30)))
                crit += int(critical)
            else:
                earned += item.weight
        annex.append(AnnexSection(section.id, section.title.get(locale), tuple(rows)))
        sections.append(SectionRow(section.id, section.title.get(locale), earned, possible,
                                   round(100 * earned / possible, 2) if possible else None, crit))
    return MinutesView(
        parent_body="SỞ Y TẾ TỈNH LAI CHÂU", issuing_body="TRUNG TÂM KIỂM SOÁT BỆNH TẬT", unit_code="TTKSBT",
        place="Lai Châu", number=7, year=2026, issued_on=day, facility_name="Trạm Y tế xã Bản Bo",
        facility_address="Bản Bo, xã Bản Bo, tỉnh Lai Châu", facility_unit="Xã Bản Bo, Tỉnh Lai Châu (03430)",
        facility_legacy_unit="Xã Bản Giang, Huyện Tam Đường, Tỉnh Lai Châu (03430)",
        facility_type="Trạm Y tế xã", facility_ownership="Công lập", inspection_date=day,
        legal_basis=tuple(t.get(locale) for t in checklist.legal_basis),
        decision="Kế hoạch giám sát chất lượng dịch vụ KHHGĐ năm 2026",
        checklist_title=checklist.title.get(locale), checklist_code=checklist.code,
        checklist_version=checklist.version, checklist_sha256=checklist.sha256, sections=tuple(sections),
        overall_percent=86.4, classification="conditional",
        team=(Person("Nguyễn Thị Hương", "Phó Giám đốc Trung tâm Kiểm soát bệnh tật", "Trưởng đoàn"),
              Person("Lò Văn Thắng", "Chuyên viên khoa Sức khỏe sinh sản", "Thư ký")),
        facility_reps=(Person("Đặng Thị Ngọc Ánh", "Trạm trưởng", "Đại diện cơ sở"),),
        failed_items=tuple(failed), actions=tuple(actions), facility_opinion="Cơ sở thống nhất với kết quả.",
        head_signature=SignatureBox("Nguyễn Thị Hương", png=signature_png(1)),
        facility_signature=SignatureBox("Đặng Thị Ngọc Ánh", png=signature_png(2)),
        secretary_signature=SignatureBox("Lò Văn Thắng", png=signature_png(3)),
        annex=tuple(annex), verify_url=verify_url, start_time=dt.time(8, 5), end_time=dt.time(11, 30),
        recipients=("Trạm Y tế xã Bản Bo", "Sở Y tế tỉnh Lai Châu (để b/c)"),
        demo_notice="Ký bằng chứng thư số THỬ NGHIỆM (demo) — không có giá trị pháp lý",
    )
