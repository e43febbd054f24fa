"""Importers: the official unit lists (GSO pre-2025, 2025 conversion table) and the facility CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from qa_app.audit.models import AuditEntry
from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.facilities import importers as fimp
from qa_app.facilities.importers import parse_date, parse_facilities
from qa_app.facilities.models import Facility
from qa_app.facilities.services import import_facilities
from qa_app.regions.importers import (
    FileFormatError,
    fold,
    note_is_whole,
    parse_conversion,
    parse_gso,
    split_kind,
)
from qa_app.regions.models import AdminUnit, UnitSuccession
from qa_app.regions.services import import_units

from . import facility_fixtures as ff
from . import factories as f

# The official unit lists are not shipped with the project: QA_REFERENCE_DIR names a folder holding them.
REFERENCE = Path(os.environ.get("QA_REFERENCE_DIR", "/nonexistent"))
GSO_FILE = REFERENCE / "gso-communes-2025-01-04.csv"
CONVERSION_FILE = REFERENCE / "conversion-new-old-2025-07.csv"
needs_reference = pytest.mark.skipif(not (GSO_FILE.exists() and CONVERSION_FILE.exists()),
                                     reason="QA_REFERENCE_DIR does not hold the official unit lists")


def units(system: str, level: str) -> dict[str, AdminUnit]:
    return {u.code: u for u in db.session.scalars(
        sa.select(AdminUnit).where(AdminUnit.system == system, AdminUnit.level == level))}


def assert_paths_materialised() -> None:
    by_id = {u.id: u for u in db.session.scalars(sa.select(AdminUnit))}
    for u in by_id.values():
        expected = (by_id[u.parent_id].path if u.parent_id else "/") + f"{u.id}/"
        assert u.path == expected, u


def messages(result) -> list[str]:
    return [str(e) for e in result.errors]


# ---------------------------------------------------------------------------------------------- text helpers


def test_split_kind_forgives_case_spacing_and_missing_accents() -> None:
    assert split_kind("Thị Xã  Việt Yên") == ("Thị xã", "Thị xã Việt Yên")
    assert split_kind("phường\u00a0Vĩnh Hải") == ("Phường", "Phường Vĩnh Hải")
    assert split_kind("Xa Ea Kly") == ("Xã", "Xã Ea Kly")
    assert split_kind("Thành phố Lai Châu") == ("Thành phố", "Thành phố Lai Châu")
    assert split_kind("Đặc khu Côn Đảo\n") == ("Đặc khu", "Đặc khu Côn Đảo")
    assert split_kind("Bản Bo") == ("", "Bản Bo")
    # Decomposed (NFD) text, as some exports write it, is recomposed.
    assert split_kind("Phu\u031bo\u031b\u0300ng Từ Sơn")[0] == "Phường"
    assert split_kind("Thị trấn X", ("Xã", "Phường")) == ("", "Thị trấn X")
    assert fold("Đoàn Kết") == "doan ket"


@pytest.mark.parametrize(("note", "whole"), [
    ("Nhập toàn bộ", True), ("Giữ nguyên ", True), ("Đổi tên", True), ("Đổi loại hình", True),
    ("Nhập toàn bộ diện tích", True), ("Sắp xếp toàn bộ huyện Cồn Cỏ thành đặc khu Cồn Cỏ", True),
    ("Nhập một phần", False), ("Nhập một  phần\n", False), ("Nhâp một phần diện tích", False),
    ("Nhập một phần diện tích, toàn bộ dân số", False), ("Phần còn lại sau khi tách một phần vào xã Canh Vinh", False),
    ("Đổi tên từ một phần Phường 15", False), ("", None), ("xem ghi chú", None),
])
def test_note_is_whole(note: str, whole: bool | None) -> None:
    assert note_is_whole(note) is whole


# ---------------------------------------------------------------------------------------------- GSO list

GSO_HEADER = "Tỉnh Thành Phố,Mã TP,Quận Huyện,Mã QH,Phường Xã,Mã PX,Cấp,Tên Tiếng Anh\n"
GSO_SAMPLE = (
    "\ufeff" + GSO_HEADER
    + "Tỉnh Lai Châu,12,Thành phố Lai Châu,105,Phường Quyết Thắng,03386,Phường,\n"
    + "\n"  # a blank line
    + " Tỉnh Lai Châu ,12,Thành phố Lai Châu,105,  Phường  Tân Phong ,03387,Phường,Tan Phong Ward\n"
    + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Thị Trấn Tam Đường,03390,Thị trấn,\n"
    + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Xã Bản Giang,3430,Xã,\n"  # leading zero lost by a spreadsheet
    + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Phường Lạ,03431,Xã,\n"  # odd: the name says Phường, Cấp says Xã
    + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Bản Hon,03433,Xã,\n"  # no kind in the name: Cấp decides
    + "Tỉnh Điện Biên,11,Thị Xã Mường Lay,095,Phường Sông Đà,03151,Phường,\n"
    + "Thành phố Hải Phòng,31,Huyện Bạch Long Vĩ,318,,,Huyện,\n"  # a district without communes
)


def test_gso_messy_rows_imported(app: Flask) -> None:
    parsed = parse_gso(GSO_SAMPLE.encode())
    assert parsed.errors == []
    assert (parsed.count("province"), parsed.count("district"), parsed.count("commune")) == (3, 4, 7)
    with app.app_context():
        report = import_units(parsed, source="sample.csv")
        db.session.commit()
        assert vars(report.levels["commune"]) == {"created": 7, "updated": 0, "unchanged": 0}
        communes = units("pre2025", "commune")
        assert communes["03387"].name == "Phường Tân Phong"
        assert communes["03387"].name_en == "Tan Phong Ward"
        assert communes["03430"].kind == "Xã"
        assert communes["03430"].name == "Xã Bản Giang"
        assert communes["03390"].kind == "Thị trấn"
        assert communes["03390"].name == "Thị trấn Tam Đường"
        assert communes["03431"].kind == "Phường"
        assert (communes["03433"].kind, communes["03433"].name) == ("Xã", "Bản Hon")
        assert communes["03386"].name_en is None
        districts = units("pre2025", "district")
        assert districts["095"].kind == "Thị xã"
        assert districts["095"].name == "Thị xã Mường Lay"
        assert districts["318"].kind == "Huyện"
        assert districts["105"].kind == "Thành phố"
        provinces = units("pre2025", "province")
        assert provinces["31"].kind == "Thành phố"
        assert provinces["12"].name == "Tỉnh Lai Châu"
        assert communes["03430"].path == f"/{provinces['12'].id}/{districts['106'].id}/{communes['03430'].id}/"
        assert all(u.valid_to == dt.date(2025, 6, 30) for u in communes.values())
        assert_paths_materialised()
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "regions.imported")).one()
        assert entry.details["commune"]["created"] == 7


def test_gso_reimport_is_idempotent_and_updates_names(app: Flask) -> None:
    with app.app_context():
        import_units(parse_gso(GSO_SAMPLE.encode()))
        db.session.commit()
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit))
        report = import_units(parse_gso(GSO_SAMPLE.encode()))
        assert vars(report.levels["commune"]) == {"created": 0, "updated": 0, "unchanged": 7}
        renamed = GSO_SAMPLE.replace("Xã Bản Giang,3430,Xã,", "Phường Bản Giang,03430,Phường,Ban Giang Ward")
        report = import_units(parse_gso(renamed.encode()))
        db.session.commit()
        assert vars(report.levels["commune"]) == {"created": 0, "updated": 1, "unchanged": 6}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == before
        commune = units("pre2025", "commune")["03430"]
        assert (commune.name, commune.kind, commune.name_en) == ("Phường Bản Giang", "Phường", "Ban Giang Ward")
        # A file without English names keeps the stored ones.
        import_units(parse_gso(GSO_SAMPLE.encode()))
        assert units("pre2025", "commune")["03430"].name_en == "Ban Giang Ward"
        assert_paths_materialised()


def test_gso_one_province_and_semicolons(app: Flask) -> None:
    semicolons = GSO_SAMPLE.replace(",", ";").replace("Tan Phong Ward", "Tan Phong Ward")
    parsed = parse_gso(semicolons.encode(), province="12")
    assert parsed.errors == []
    assert (parsed.count("province"), parsed.count("district"), parsed.count("commune")) == (1, 2, 6)
    with app.app_context():
        import_units(parsed)
        assert set(units("pre2025", "province")) == {"12"}


def test_gso_bad_rows_reported_with_row_numbers(app: Flask) -> None:
    bad = (GSO_HEADER
           + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Xã Bản Giang,03430,Xã,\n"      # row 2: fine
           + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Xã Bản Giang,0343A,Xã,\n"      # row 3: bad code
           + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,,03432,Xã,\n"                  # row 4: no name
           + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Bản Hon,03433,,\n"             # row 5: no kind anywhere
           + "Tỉnh Lai Châu,12,Huyện Phong Thổ,109,Xã Bản Giang,03430,Xã,\n"      # row 6: other district
           + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Xã Nậm Loỏng,03430,Xã,\n"      # row 7: other name
           + "Tỉnh Lai Châu,1234,Huyện Tam Đường,106,Xã Sơn Bình,03434,Xã,\n"     # row 8: bad province code
           + "Tỉnh Lai Châu,12,Xã Tam Đường,106,Xã Sơn Bình,03434,Xã,\n")         # row 9: a Xã as district
    parsed = parse_gso(bad.encode())
    found = messages(parsed)
    assert "row 3: commune code '0343A' is not a 5-digit code" in found
    assert "row 4: commune name is missing" in found
    assert any(m.startswith("row 5: cannot tell the kind of commune 'Bản Hon'") for m in found)
    assert any(m.startswith("row 6: commune 03430 (Xã Bản Giang) is listed under 106 in row 2") for m in found)
    assert "row 7: commune 03430 is called 'Xã Nậm Loỏng' here but 'Xã Bản Giang' in row 2" in found
    assert "row 8: province code '1234' is not a 2-digit code" in found
    assert any(m.startswith("row 9: 'Xã Tam Đường' is a Xã, which is not a kind of district") for m in found)
    with app.app_context(), pytest.raises(ValueError, match="errors"):
        import_units(parsed)


@pytest.mark.parametrize(("data", "needle"), [
    ("Lai Châu,12\n".encode("cp1258"), "not UTF-8"),
    (b"PK\x03\x04rest-of-a-zip", "workbook"),
    ("a,b\n".encode("utf-16"), "UTF-16"),
    (b"", "empty"),
    ("Tên,Mã\nLai Châu,12\n".encode(), "not the GSO commune list"),
])
def test_gso_unreadable_files(data: bytes, needle: str) -> None:
    with pytest.raises(FileFormatError) as caught:
        parse_gso(data)
    assert needle in str(caught.value)


# ---------------------------------------------------------------------------------------------- conversion

LC, TPLC, TD = "Tỉnh Lai Châu (12)", "Thành phố Lai Châu (105)", "Huyện Tam Đường (106)"
HP = "Thành phố Hải Phòng (31)"


def csv_text(*rows: tuple[str, ...]) -> str:
    """Rows as a spreadsheet writes them (cells with commas or newlines quoted)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


CONVERSION_SAMPLE = csv_text(
    ("Đơn vị hành chính từ ngày 01/7/2025", "", "", "Đơn vị hành chính trước ngày 01/7/2025", "", "", "", "", ""),
    ("Tỉnh, thành phố", "Tên Xã mới", "Mã Xã mới", "Tên Xã cũ", "Mã Xã cũ", "Ghi chú", "Quận/huyện", "Tỉnh cũ", ""),
    ("LAI CHÂU  ", "", "", "", "", "", "", "", ""),
    (LC, "Phường Đoàn Kết", "03388", "Phường Quyết Thắng", "03386", "Nhập toàn bộ", TPLC, LC, ""),
    (LC, "Phường  Đoàn Kết ", "03388", "Phường Tân Phong", "03387", "Nhập một phần", TPLC, LC, ""),
    ("", "", "", "", "", "", "", "", ""),
    (LC, "Xã Bản Bo", "03430", "Xã Bản Giang", "03430", "Giữ nguyên ", TD, LC, ""),
    (LC, "Xa Tân Phong", "03431", "Phường Tân Phong", "03387", "Nhập một phần\n", TPLC, LC, ""),
    (LC, "Xã Bản Bo", "03430", "Xã Bản Giang", "03430", "Giữ nguyên", TD, LC, ""),
    (LC, "Xã Bình Lư", "03433", "Thị trấn Tam Đường", "03390", "", TD, LC, ""),
    ("Tỉnh Bắc Ninh (24)", "", "", "", "", "", "", "", ""),
    (HP, "Đặc khu Bạch Long Vĩ", "11948", "", "", "Sắp xếp toàn bộ huyện Bạch Long Vĩ thành đặc khu Bạch Long Vĩ",
     "Huyện Bạch Long Vĩ (318)", HP, ""),
    (HP, "Xã Kim Đông", "11950", "Khu vực bãi bồi ven biển", "", "Nhập toàn bộ", "Huyện Kim Sơn (376)",
     "Tỉnh Ninh Bình (37)", ""),
)


def test_conversion_messy_rows(app: Flask) -> None:
    parsed = parse_conversion(CONVERSION_SAMPLE.encode())
    assert parsed.errors == []
    assert (parsed.count("province"), parsed.count("commune")) == (2, 6)
    warnings = [str(w) for w in parsed.warnings]
    assert any(w.startswith("row 9: old commune 03430 → new commune 03430 repeats row 7") for w in warnings)
    assert any(w.startswith("row 13: no old commune code") for w in warnings)
    # The multi-line note cell counts as one spreadsheet row: rows after it keep the spreadsheet's numbers.
    assert [link.row for link in parsed.links] == [4, 5, 7, 8, 10, 12]
    with app.app_context():
        import_units(parse_gso(GSO_SAMPLE.encode()))
        report = import_units(parsed, source="conversion.csv")
        db.session.commit()
        assert (report.links, report.unlinked) == (6, 0)
        provinces, communes = units("2025", "province"), units("2025", "commune")
        assert set(provinces) == {"12", "31"}
        assert provinces["31"].kind == "Thành phố"
        assert communes["03388"].name == "Phường Đoàn Kết"
        assert (communes["03431"].kind, communes["03431"].name) == ("Xã", "Xã Tân Phong")
        assert communes["11948"].kind == "Đặc khu"
        assert communes["03430"].valid_from == dt.date(2025, 7, 1)
        assert communes["03430"].parent_id == provinces["12"].id
        old = units("pre2025", "commune")
        links = {(s.old_unit_id, s.new_unit_id): s.whole for s in db.session.scalars(sa.select(UnitSuccession))}
        assert links[(old["03386"].id, communes["03388"].id)] is True
        # Tân Phong went in part to two new communes.
        assert links[(old["03387"].id, communes["03388"].id)] is False
        assert links[(old["03387"].id, communes["03431"].id)] is False
        assert links[(old["03430"].id, communes["03430"].id)] is True
        # No note: the old town went to one new commune only, so it counts as whole.
        assert links[(old["03390"].id, communes["03433"].id)] is True
        # The island district became a special zone: linked from the old district.
        assert links[(units("pre2025", "district")["318"].id, communes["11948"].id)] is True
        assert_paths_materialised()


def test_conversion_idempotent_and_links_later(app: Flask) -> None:
    with app.app_context():
        # Before the pre-2025 list exists, communes are created but cannot be linked.
        report = import_units(parse_conversion(CONVERSION_SAMPLE.encode()))
        assert (report.links, report.unlinked) == (0, 6)
        import_units(parse_gso(GSO_SAMPLE.encode()))
        report = import_units(parse_conversion(CONVERSION_SAMPLE.encode()))
        assert vars(report.levels["commune"]) == {"created": 0, "updated": 0, "unchanged": 6}
        assert report.links == 6
        renamed = CONVERSION_SAMPLE.replace("Xã Bình Lư,03433", "Phường Bình Lư,03433")
        report = import_units(parse_conversion(renamed.encode()))
        db.session.commit()
        assert vars(report.levels["commune"]) == {"created": 0, "updated": 1, "unchanged": 5}
        assert units("2025", "commune")["03433"].kind == "Phường"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UnitSuccession)) == 6
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)
                                 .where(AdminUnit.system == "2025")) == 8


def test_conversion_one_province() -> None:
    parsed = parse_conversion(CONVERSION_SAMPLE.encode(), province="31")
    assert set(parsed.units["province"]) == {"31"}
    assert set(parsed.units["commune"]) == {"11948", "11950"}


def test_conversion_bad_rows_reported(app: Flask) -> None:
    head = CONVERSION_SAMPLE.split("\n", 2)
    bad = head[0] + "\n" + head[1] + "\n" + (
        "Tỉnh Lai Châu,Xã Bản Bo,03430,Xã Bản Giang,03430,Nhập toàn bộ,,,\n"                       # row 3
        "Tỉnh Lai Châu (12),Xã Bản Bo,3430X,Xã Bản Giang,03430,Nhập toàn bộ,,,\n"                  # row 4
        "Tỉnh Lai Châu (12),Bản Bo,03430,Xã Bản Giang,03430,Nhập toàn bộ,,,\n"                     # row 5
        "Tỉnh Lai Châu (12),Xã Bản Bo,03430,Xã Bản Giang,3430B,Nhập toàn bộ,,,\n"                  # row 6
        "Tỉnh Lai Châu (12),Xã Bản Bo,03430,Xã Bản Giang,03430,Nhập toàn bộ,,,\n"                  # row 7: fine
        "Tỉnh Điện Biên (11),Xã Bản Bo,03430,Xã Bản Giang,03430,Nhập toàn bộ,,,\n"                 # row 8
        "Tỉnh Lai Châu (12),Xã Nậm Tăm,03430,Xã Nậm Tăm,03454,Nhập toàn bộ,,,\n"                    # row 9
        "Tỉnh Lai Châu (12),Huyện Tam Đường,03460,Xã Bản Giang,03430,Nhập toàn bộ,,,\n"  # row 10
        "Tỉnh Lai Châu (12),,03461,Xã Bản Giang,03430,Nhập toàn bộ,,,\n")                           # row 11
    found = messages(parse_conversion(bad.encode()))
    assert any(m.startswith("row 3: the province cell 'Tỉnh Lai Châu' has no code in brackets") for m in found)
    assert "row 4: new commune code '3430X' is not a 5-digit code" in found
    assert any(m.startswith("row 5: cannot tell the kind of new commune 'Bản Bo'") for m in found)
    assert "row 6: old commune code '3430B' is not a 5-digit code" in found
    assert "row 8: commune 03430 (Xã Bản Bo) is listed under 12 in row 6 but under 11 here" in found
    assert "row 9: commune 03430 is called 'Xã Nậm Tăm' here but 'Xã Bản Bo' in row 6" in found
    assert any(m.startswith("row 10: 'Huyện Tam Đường' is a Huyện") for m in found)
    assert "row 11: new commune name is missing" in found
    assert not any(m.startswith("row 7") for m in found)
    with app.app_context():
        with pytest.raises(ValueError, match="errors"):
            import_units(parse_conversion(bad.encode()))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == 0


def test_conversion_without_header_refused() -> None:
    with pytest.raises(FileFormatError, match="not the 2025 conversion table"):
        parse_conversion(GSO_SAMPLE.encode())


# ---------------------------------------------------------------------------------------------- real files


@needs_reference
def test_real_files_lai_chau(app: Flask) -> None:
    gso = parse_gso(GSO_FILE.read_bytes(), province="12")
    assert gso.errors == []
    assert (gso.count("province"), gso.count("district"), gso.count("commune")) == (1, 8, 106)
    conversion = parse_conversion(CONVERSION_FILE.read_bytes(), province="12")
    assert conversion.errors == []
    assert (conversion.count("province"), conversion.count("commune")) == (1, 38)
    with app.app_context():
        import_units(gso)
        report = import_units(conversion)
        db.session.commit()
        assert (report.links, report.unlinked) == (106, 0)
        # Every Lai Châu commune was merged whole or kept: each old commune has exactly one successor.
        rows = db.session.execute(sa.select(UnitSuccession.old_unit_id, sa.func.count())
                                  .group_by(UnitSuccession.old_unit_id)).all()
        assert len(rows) == 106
        assert {count for _, count in rows} == {1}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UnitSuccession)
                                 .where(UnitSuccession.whole.is_(False))) == 0
        communes = units("2025", "commune")
        assert len(communes) == 38
        assert communes["03388"].name == "Phường Đoàn Kết"
        assert_paths_materialised()


@needs_reference
def test_real_files_whole_country(app: Flask) -> None:
    started = time.perf_counter()
    gso = parse_gso(GSO_FILE.read_bytes())
    conversion = parse_conversion(CONVERSION_FILE.read_bytes())
    assert gso.errors == []
    assert conversion.errors == []
    assert (gso.count("province"), gso.count("district"), gso.count("commune")) == (63, 696, 10051)
    assert (conversion.count("province"), conversion.count("commune")) == (34, 3321)
    with app.app_context():
        import_units(gso)
        report = import_units(conversion)
        db.session.commit()
        kinds = dict(db.session.execute(sa.select(AdminUnit.kind, sa.func.count()).where(
            AdminUnit.system == "2025", AdminUnit.level == "commune").group_by(AdminUnit.kind)).all())
        assert kinds == {"Xã": 2621, "Phường": 687, "Đặc khu": 13}
        # Eleven old communes were created after the GSO export of 4 January 2025.
        assert report.unlinked == 11
        assert report.links == 10559
        assert_paths_materialised()
    # Generous bound: about 3 s on a laptop; a per-row ORM import would take minutes.
    assert time.perf_counter() - started < 60


@needs_reference
def test_regions_cli(app: Flask, runner) -> None:
    result = runner.invoke(args=["regions", "import-gso", str(GSO_FILE), "--province", "12"])
    assert result.exit_code == 0, result.output
    assert "commune: 106 created" in result.output
    assert "written in" in result.output
    result = runner.invoke(args=["regions", "import-conversion", str(CONVERSION_FILE), "--province", "12"])
    assert result.exit_code == 0, result.output
    assert "commune: 38 created" in result.output
    assert "predecessor links: 106" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == 1 + 8 + 106 + 1 + 38


def test_regions_cli_refuses_bad_file(app: Flask, runner, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(GSO_HEADER + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Xã Bản Giang,0343A,Xã,\n"
                    + "Tỉnh Lai Châu,12,Huyện Tam Đường,106,Xã Sơn Bình,03434,Xã,\n", encoding="utf-8")
    result = runner.invoke(args=["regions", "import-gso", str(path)])
    assert result.exit_code == 1
    assert "row 2: commune code '0343A' is not a 5-digit code" in result.output
    assert "nothing was imported" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)) == 0


# ---------------------------------------------------------------------------------------------- facility CSV

FAC_HEADER = ("code,name,type,ownership,unit_system,unit_code,legacy_unit_code,services,high_fertility,"
              "active_from,active_to,address,phone,head_name\n")


def fac_csv(*rows: str, header: str = FAC_HEADER) -> bytes:
    return (header + "".join(r + "\n" for r in rows)).encode()


def test_parse_dates_and_values() -> None:
    assert parse_date("2015-01-31") == dt.date(2015, 1, 31)
    assert parse_date("31/01/2015") == dt.date(2015, 1, 31)
    assert parse_date("1/2/2015") == dt.date(2015, 2, 1)
    with pytest.raises(ValueError, match="2015-02-30|day is out of range"):
        parse_date("2015-02-30")
    data = ("\ufeffCode;Name;Type;Ownership;Unit_code;Services;High_fertility;Active_from\n"
            "TYT-1;Trạm Y tế xã Bản Bo;tyt;Công lập;3430;VU BCS;có;01/01/2015\n"
            "PK-1;Phòng khám A;PK;tư nhân;03430;\"dctc, vu;qc\";Không;2020-05-01\n").encode()
    parsed = parse_facilities(data)
    assert parsed.errors == []
    first, second = parsed.rows
    assert (first.type, first.ownership, first.unit_code, first.unit_system) == ("TYT", "public", "03430", "2025")
    assert first.services == ("VU", "BCS")
    assert first.high_fertility is True
    assert first.active_from == dt.date(2015, 1, 1)
    assert first.row == 2
    assert second.ownership == "non_public"
    assert second.services == ("DCTC", "VU", "QC")
    assert second.high_fertility is False


def test_parse_every_row_error_kind() -> None:
    parsed = parse_facilities(fac_csv(
        "TYT-1,Trạm A,XYZ,public,2025,03430,,VU,1,2015-01-01,,,,",          # 2 unknown type
        "TYT-2,Trạm B,TYT,non_public,2025,03430,,VU,1,2015-01-01,,,,",      # 3 TYT must be public
        "TYT-3,Trạm C,TYT,public,2025,03430,,VU,1,2020-01-01,2019-12-31,,,",  # 4 active_to before active_from
        "TYT-1,Trạm D,TYT,public,2025,03430,,VU,1,2015-01-01,,,,",          # 5 duplicate of row 2? (row 2 bad)
        "TYT-5,Trạm E,TYT,public,2025,03430,,VU,1,2015-01-01,,,,",          # 6 fine
        "TYT-5,Trạm F,TYT,public,2025,03430,,VU,1,2015-01-01,,,,",          # 7 duplicate of row 6
        "TYT-7,Trạm G,TYT,public,2030,03430,,VU XX,maybe,2015-13-01,,,,",    # 8 system, service, flag, date
        ",,TYT,public,2025,,,,,,,,,",                                          # 9 code, name, unit, date empty
        "PK 9,Phòng khám,PK,cong ty,2025,0343,1234567,,0,2015-01-01,,,,",     # 10 code, ownership, legacy
        "PK-10,Phòng khám,PK,public,2025,03430,,,0,2015-01-01,,,,,extra",     # 11 too many cells
    ))
    found = messages(parsed)
    expected = [
        "row 2: Unknown type 'XYZ' (use one of TYT, TTYT, BV, PK, NT, CDC, PKKV, NHS, YTCQ, DLD).",
        "row 3: A commune health station (TYT) must be public.",
        "row 4: active_to 31/12/2019 is before active_from 01/01/2020.",
        "row 7: Duplicate code 'TYT-5' in file rows 6 and 7.",
        "row 8: Unknown unit_system '2030' (use 2025 or pre2025).",
        "row 8: Unknown service 'XX' (use DCTC, QC, TT, VU, BCS, TS).",
        "row 8: high_fertility 'maybe' must be 1/0, yes/no or có/không.",
        "row 8: active_from '2015-13-01' is not a date (write YYYY-MM-DD or DD/MM/YYYY).",
        "row 9: The code is empty.", "row 9: The name is empty.", "row 9: The unit_code is empty.",
        "row 9: active_from is empty (the date the facility started, e.g. 2015-01-01).",
        "row 10: Code 'PK 9' may contain only letters, digits and . _ / -",
        "row 10: Unknown ownership 'cong ty' (use public or non_public).",
        "row 10: legacy_unit_code '1234567' is not a unit code (3 or 5 digits).",
        "row 11: 15 cells but the header has 14 columns (a comma or semicolon inside a value must be quoted).",
    ]
    for message in expected:
        assert message in found, message
    # Row 5 repeats the code of row 2, which was itself invalid: only one report per real problem.
    assert not any(m.startswith("row 5") for m in found)
    assert [r.code for r in parsed.rows] == ["TYT-1", "TYT-5"]


@pytest.mark.parametrize(("data", "needle"), [
    (FAC_HEADER.replace("code,", "").encode(), "Missing column(s): code"),
    (FAC_HEADER.replace("address", "adress").encode() + b"X,Y,TYT,public,2025,03430,,,,2015-01-01,,,,\n",
     "Unknown column(s): 'adress'"),
    (FAC_HEADER.encode(), "no facility rows"),
    ("code,name\nTYT-1,Châu Đô\n".encode("cp1258"), "not UTF-8"),
    (b"PK\x03\x04xlsx", "workbook"),
])
def test_facility_file_refused(data: bytes, needle: str) -> None:
    with pytest.raises(FileFormatError) as caught:
        parse_facilities(data)
    assert needle in str(caught.value)


def test_facility_file_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fimp, "MAX_ROWS", 2)
    with pytest.raises(FileFormatError, match="at most 2 can be imported"):
        parse_facilities(fac_csv(*[f"T-{i},Trạm,TYT,public,2025,03430,,,,2015-01-01,,,," for i in range(3)]))
    monkeypatch.setattr(fimp, "MAX_FILE_BYTES", 100)
    with pytest.raises(FileFormatError, match="larger than"):
        parse_facilities(b"x" * 101)


def scoped_units(app: Flask) -> dict[str, int]:
    """Lai Châu in both systems (tests/factories.two_districts), a split old commune, and users."""
    with app.app_context():
        u = f.two_districts()
        split_old = f.unit("pre2025", "commune", "03455", "Xã Dào San", u["d2"])
        db.session.add_all([UnitSuccession(old_unit_id=u["c1"].id, new_unit_id=u["n1"].id, whole=True),
                            UnitSuccession(old_unit_id=split_old.id, new_unit_id=u["n1"].id, whole=False),
                            UnitSuccession(old_unit_id=split_old.id, new_unit_id=u["n2"].id, whole=False)])
        other = f.unit("2025", "province", "11", "Tỉnh Điện Biên")
        f.unit("2025", "commune", "03160", "Xã Mường Phăng", other)
        ids = {key: unit.id for key, unit in u.items()}
        ids["sup"] = ff.user("giamsat", "supervisor", u["d1"]).id
        ids["mgr"] = ff.user("quanly", "provincial_manager", u["province"]).id
        ids["mgr_db"] = ff.user("quanly_db", "provincial_manager", other).id
        db.session.commit()
    return ids


def test_import_facilities_resolves_units_and_updates(app: Flask) -> None:
    ids = scoped_units(app)
    data = fac_csv(
        "TYT-03430,Trạm Y tế xã Bản Bo,TYT,public,2025,03430,03430,VU;BCS,1,2015-01-01,,Bản Bo,0213 123,Lò Văn A",
        "PK-1,Phòng khám Tâm Đức,PK,non_public,pre2025,03430,,DCTC VU,0,15/06/2020,,,,",
    )
    with app.app_context():
        mgr = db.session.get(User, ids["mgr"])
        report = import_facilities(parse_facilities(data), mgr, source="f.csv", sha256="a" * 64)
        assert report.ok, report.errors
        assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
        db.session.commit()
        station = db.session.scalar(sa.select(Facility).where(Facility.code == "TYT-03430"))
        assert (station.unit_id, station.legacy_unit_id) == (ids["n1"], ids["c1"])
        assert station.high_fertility
        assert station.services == ["BCS", "VU"]
        assert station.head_name == "Lò Văn A"
        clinic = db.session.scalar(sa.select(Facility).where(Facility.code == "PK-1"))
        # pre2025 unit, merged whole into one 2025 commune: both units are known.
        assert (clinic.unit_id, clinic.legacy_unit_id) == (ids["n1"], ids["c1"])
        assert clinic.active_from == dt.date(2020, 6, 15)
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "facilities.imported")).one()
        assert entry.user_id == ids["mgr"]
        assert entry.details["created"] == 2
        assert entry.entity_id == "a" * 64

        changed = data.replace("Lò Văn A".encode(), "Lò Thị B".encode()).replace(b"DCTC VU", b"DCTC;VU;QC")
        report = import_facilities(parse_facilities(changed), mgr)
        db.session.commit()
        assert (report.created, report.updated, report.unchanged) == (0, 2, 0)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Facility)) == 2
        clinic = db.session.scalar(sa.select(Facility).where(Facility.code == "PK-1"))
        assert clinic.services == ["DCTC", "QC", "VU"]
        report = import_facilities(parse_facilities(changed), mgr)
        assert (report.created, report.updated, report.unchanged) == (0, 0, 2)


def test_import_facilities_database_errors_write_nothing(app: Flask) -> None:
    ids = scoped_units(app)
    with app.app_context():
        other_mgr = db.session.get(User, ids["mgr_db"])
        f.facility("PK-DB", "Phòng khám Điện Biên", db.session.get(AdminUnit, ids["n2"]))  # Lai Châu facility
        db.session.commit()
        data = fac_csv(
            "TYT-1,Trạm 1,TYT,public,2025,12345,,VU,1,2015-01-01,,,,",       # 2 unknown unit code
            "TYT-2,Trạm 2,TYT,public,2025,03160,99999,VU,1,2015-01-01,,,,",  # 3 unknown legacy code
            "TYT-3,Trạm 3,TYT,public,2025,106,,VU,1,2015-01-01,,,,",         # 4 district in 2025
            "TYT-4,Trạm 4,TYT,public,pre2025,03455,,VU,1,2015-01-01,,,,",    # 5 split old commune
            "TYT-5,Trạm 5,TYT,public,pre2025,03451,,VU,1,2015-01-01,,,,",    # 6 no successor
            "TYT-6,Trạm 6,TYT,public,2025,03430,,VU,1,2015-01-01,,,,",       # 7 outside scope
            "PK-DB,Phòng khám,PK,non_public,2025,03160,,VU,0,2015-01-01,,,,",  # 8 code of another province
            "TYT-8,Trạm 8,TYT,public,2025,03160,,VU,1,2015-01-01,,,,",       # 9 fine
            "TYT-9,Trạm 9,TYT,public,pre2025,03430,03451,VU,1,2015-01-01,,,,",  # 10 two different old codes
        )
        report = import_facilities(parse_facilities(data), other_mgr)
        found = [str(e) for e in report.errors]
        assert "row 2: Unknown unit code 12345 in system 2025." in found
        assert "row 3: Unknown unit code 99999 in system pre2025." in found
        assert any(m.startswith("row 4: Unit code 106 is a district code") for m in found)
        assert any(m.startswith("row 5: Pre-2025 unit 03455 (Xã Dào San) was split between Xã Bản Bo (03430), "
                                "Xã Khổng Lào (03451)") for m in found)
        assert any(m.startswith("row 6: Pre-2025 unit 03451 (Xã Mường So) has no 2025 successor") for m in found)
        assert "row 7: Unit 03430 (Xã Bản Bo) is outside your scope." in found
        assert "row 8: Code 'PK-DB' belongs to a facility outside your scope." in found
        assert any(m.startswith("row 10: unit_system is pre2025 with unit_code 03430") for m in found)
        assert not any(m.startswith("row 9") for m in found)
        assert [e.row for e in report.errors] == sorted(e.row for e in report.errors)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Facility)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "facilities.imported")) == 0


def test_facilities_cli(app: Flask, runner, tmp_path: Path) -> None:
    scoped_units(app)
    good = tmp_path / "good.csv"
    good.write_bytes(fac_csv("TYT-03430,Trạm Y tế xã Bản Bo,TYT,public,2025,03430,03430,VU,1,2015-01-01,,,,"))
    result = runner.invoke(args=["facilities", "import", str(good), "--dry-run"])
    assert result.exit_code == 0
    assert "1 would be created" in result.output
    result = runner.invoke(args=["facilities", "import", str(good), "--as", "quanly"])
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated" in result.output
    result = runner.invoke(args=["facilities", "import", str(good), "--as", "quanly_db"])
    assert result.exit_code == 1
    assert "row 2: Unit 03430 (Xã Bản Bo) is outside your scope." in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(fac_csv("X-1,Trạm,TYT,non_public,2025,03430,,VU,1,2015-01-01,,,,"))
    result = runner.invoke(args=["facilities", "import", str(bad)])
    assert result.exit_code == 1
    assert "TYT) must be public" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Facility)) == 1


def test_an_area_file_with_a_column_given_twice_is_refused_on_its_header_row() -> None:
    """The service-area CSV shares the facility CSV's header checks: a repeated column never silently wins."""
    from qa_app.areas.importers import parse_areas
    from qa_app.regions.importers import FileFormatError

    data = ("\n\narea_code,name,commune_codes,valid_from,name\n"
            "KV-1,Khu vực 1,03430,2025-07-01,Khu vực khác\n").encode()
    with pytest.raises(FileFormatError) as err:
        parse_areas(data)
    assert [(p.row, p.params) for p in err.value.problems] == [(3, {"columns": "name"})]
