"""The pure text rules of the minutes: Decree 30/2020 dates, copies, the facility's opinion, agency names."""

from __future__ import annotations

import datetime as dt

import pytest

from qa_app.minutes import text as rules


@pytest.mark.parametrize(("day", "expected"), [(1, "01"), (9, "09"), (10, "10"), (11, "11"), (29, "29"),
                                               (30, "30"), (31, "31")])
def test_day_has_a_leading_zero_below_ten_only(day: int, expected: str) -> None:
    assert rules.d30_day(day) == expected


@pytest.mark.parametrize(("month", "expected"), [(1, "01"), (2, "02"), (3, "3"), (9, "9"), (10, "10"),
                                                 (11, "11"), (12, "12")])
def test_month_has_a_leading_zero_for_january_and_february_only(month: int, expected: str) -> None:
    assert rules.d30_month(month) == expected


def test_every_day_of_a_leap_year() -> None:
    day = dt.date(2028, 1, 1)
    while day.year == 2028:
        text = rules.d30_date(day)
        d = f"0{day.day}" if day.day < 10 else str(day.day)
        m = f"0{day.month}" if day.month < 3 else str(day.month)
        assert text == f"ngày {d} tháng {m} năm 2028"
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(("value", "expected"), [
    (dt.date(2026, 1, 31), "Lai Châu, ngày 31 tháng 01 năm 2026"),
    (dt.date(2026, 2, 1), "Lai Châu, ngày 01 tháng 02 năm 2026"),
    (dt.date(2026, 2, 28), "Lai Châu, ngày 28 tháng 02 năm 2026"),
    (dt.date(2026, 3, 1), "Lai Châu, ngày 01 tháng 3 năm 2026"),
    (dt.date(2026, 9, 9), "Lai Châu, ngày 09 tháng 9 năm 2026"),
    (dt.date(2026, 9, 10), "Lai Châu, ngày 10 tháng 9 năm 2026"),
    (dt.date(2026, 10, 5), "Lai Châu, ngày 05 tháng 10 năm 2026"),
    (dt.date(2026, 12, 31), "Lai Châu, ngày 31 tháng 12 năm 2026"),
])
def test_date_line(value: dt.date, expected: str) -> None:
    assert rules.date_line(" Lai Châu ", value) == expected


def test_english_date_is_spelled_out() -> None:
    assert rules.d30_date(dt.date(2026, 9, 5), "en") == "5 September 2026"


def test_time_phrase_says_the_day_only_when_the_visit_spans_days() -> None:
    visit = dt.date(2026, 9, 5)
    assert rules.time_phrase(dt.datetime(2026, 9, 5, 8, 5), visit) == "08 giờ 05"
    assert rules.time_phrase(dt.datetime(2026, 9, 6, 17, 30), visit) == "17 giờ 30 ngày 06 tháng 9 năm 2026"
    assert rules.time_phrase(dt.datetime(2026, 9, 6, 17, 30), visit, "en") == "17:30 on 6 September 2026"


# ---------------------------------------------------------------------------------------------- copies


def test_two_copies_by_default_wording() -> None:
    assert rules.copies_sentence(2, ["cơ sở", "đoàn kiểm tra"]) == (
        "Biên bản được lập thành 02 bản có giá trị như nhau: cơ sở giữ 01 bản, đoàn kiểm tra giữ 01 bản.")


def test_three_copies_with_the_managing_body() -> None:
    assert rules.copies_sentence(3, ["cơ sở", "đoàn kiểm tra", "Sở Y tế"]) == (
        "Biên bản được lập thành 03 bản có giá trị như nhau: cơ sở giữ 01 bản, đoàn kiểm tra giữ 01 bản, "
        "Sở Y tế giữ 01 bản.")


def test_more_copies_than_holders_go_to_the_last_holder() -> None:
    assert rules.copies_sentence(4, ["cơ sở", "đoàn kiểm tra"]).endswith("cơ sở giữ 01 bản, đoàn kiểm tra giữ 03 bản.")
    assert rules.copies_sentence(12, ["cơ sở"]) == (
        "Biên bản được lập thành 12 bản có giá trị như nhau: cơ sở giữ 12 bản.")


def test_copies_in_english_and_no_holders_given() -> None:
    assert rules.copies_sentence(2, [], "en") == (
        "They are made in 02 copies of equal value: 01 kept by the facility, 01 kept by the inspection team.")


def test_at_least_one_copy() -> None:
    with pytest.raises(ValueError):
        rules.copies_sentence(0, ["cơ sở"])


# ---------------------------------------------------------------------------------------------- facility opinion


def test_the_facility_opinion_is_never_invented() -> None:
    said = "Cơ sở chưa đồng ý với kết luận tiêu chí C7."
    assert rules.facility_opinion_text(f"  {said} ", False) == said
    assert rules.facility_opinion_text(said, True) == said
    # Nothing said: "not recorded", or the explicit "no comment" they chose; never an agreement.
    for declined in (False, True):
        for locale in ("vi", "en"):
            text = rules.facility_opinion_text("   ", declined, locale)
            assert "thống nhất" not in text and "agree" not in text
    assert rules.facility_opinion_text("", True) == "Đại diện cơ sở không có ý kiến."
    assert rules.facility_opinion_text("", False) == "Chưa ghi nhận ý kiến của cơ sở."


# ---------------------------------------------------------------------------------------------- agency names


def width_in_chars(text: str) -> float:
    return float(len(text))


def test_agency_name_that_fits_stays_on_one_line() -> None:
    assert rules.agency_lines("TRUNG TÂM KIỂM SOÁT BỆNH TẬT", width_in_chars, 40) == ["TRUNG TÂM KIỂM SOÁT BỆNH TẬT"]


def test_agency_name_breaks_between_words_never_inside_one() -> None:
    # Split by syllables, "TRUNG TÂM KIỂM / SOÁT BỆNH TẬT" would do; it cuts the word "kiểm soát".
    # The words are TRUNG TÂM | KIỂM SOÁT | BỆNH TẬT, and the most even split of those is chosen.
    assert rules.agency_lines("TRUNG TÂM KIỂM SOÁT BỆNH TẬT", width_in_chars, 20) == ["TRUNG TÂM",
                                                                                    "KIỂM SOÁT BỆNH TẬT"]
    assert rules.agency_lines("TRUNG TÂM KIỂM SOÁT BỆNH TẬT", width_in_chars, 19) == ["TRUNG TÂM",
                                                                                    "KIỂM SOÁT BỆNH TẬT"]
    assert rules.agency_lines("TRUNG TÂM KIỂM SOÁT BỆNH TẬT", width_in_chars, 17) == ["TRUNG TÂM", "KIỂM SOÁT",
                                                                                    "BỆNH TẬT"]


def test_agency_name_lines_are_balanced_and_keep_phrases_whole() -> None:
    lines = rules.agency_lines("CHI CỤC DÂN SỐ KẾ HOẠCH HÓA GIA ĐÌNH TỈNH LAI CHÂU", width_in_chars, 30)
    # "kế hoạch hóa gia đình" is one phrase: never "KẾ HOẠCH / HÓA GIA ĐÌNH".
    assert lines == ["CHI CỤC DÂN SỐ", "KẾ HOẠCH HÓA GIA ĐÌNH", "TỈNH LAI CHÂU"]


def test_lowercase_names_and_words_kept_in_their_case() -> None:
    lines = rules.agency_lines("Trung tâm Kiểm soát bệnh tật", width_in_chars, 19)
    assert lines == ["Trung tâm", "Kiểm soát bệnh tật"]


def test_a_single_word_wider_than_the_column_is_left_whole() -> None:
    assert rules.agency_lines("KẾ HOẠCH HÓA GIA ĐÌNH", width_in_chars, 5) == ["KẾ HOẠCH HÓA GIA ĐÌNH"]
    assert rules.agency_lines("", width_in_chars, 5) == [""]


@pytest.mark.parametrize(("name", "expected"), [
    ("TRUNG TÂM KIỂM SOÁT BỆNH TẬT", "Trung tâm Kiểm soát bệnh tật"),
    ("TRUNG TÂM KIỂM SOÁT BỆNH TẬT TỈNH LAI CHÂU", "Trung tâm Kiểm soát bệnh tật tỉnh Lai Châu"),
    ("SỞ Y TẾ TỈNH LAI CHÂU", "Sở Y tế tỉnh Lai Châu"),
    ("CHI CỤC DÂN SỐ TỈNH BẮC NINH", "Chi cục Dân số tỉnh Bắc Ninh"),
    ("Trung tâm Y tế khu vực Tam Đường", "Trung tâm Y tế khu vực Tam Đường"),  # written by hand: kept
])
def test_agency_name_in_running_text(name: str, expected: str) -> None:
    assert rules.running_name(name) == expected


def test_team_decision_citation() -> None:
    assert rules.team_decision_text("12/QĐ-SYT", dt.date(2026, 3, 5), "SỞ Y TẾ TỈNH LAI CHÂU") == (
        "Quyết định số 12/QĐ-SYT ngày 05 tháng 3 năm 2026 của Sở Y tế tỉnh Lai Châu về việc thành lập Đoàn kiểm tra")
    assert rules.team_decision_text("12/QĐ-SYT", None, "Sở Y tế") == ""
    assert rules.team_decision_text("12/QĐ-SYT", dt.date(2026, 3, 5), "Lai Chau DoH", "en") == (
        "Decision No. 12/QĐ-SYT of 5 March 2026 of Lai Chau DoH establishing the inspection team")


def test_conclusion_suggestions_from_passed_and_failed_sections() -> None:
    sections = [("A. Cơ sở vật chất", 100.0, 0), ("B. Nhân lực", 92.5, 1), ("C. Tư vấn", 66.67, 0),
                ("D. Ghi chép", 85.0, 0), ("E. Không áp dụng", None, 0)]
    strengths, shortcomings = rules.suggest_conclusion(sections, ["B2", "C7"])
    assert strengths == "Thực hiện tốt các nội dung: A. Cơ sở vật chất."
    assert shortcomings == ("Còn hạn chế ở các nội dung: B. Nhân lực (92,5%); C. Tư vấn (66,7%). "
                            "Các tiêu chí không đạt: B2, C7.")
    assert rules.suggest_conclusion([("A", 95.0, 0)], [], "en") == ("Good results in: A.", "")
