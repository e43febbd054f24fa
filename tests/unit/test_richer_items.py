"""Richer items and sections: section applies_if_offers, instructions, informational items, number constraints,
text max_length, per-level descriptors and finding_below."""

from __future__ import annotations

import pytest

from qa_app.checklists.answers import AnswerError, normalize_answer
from qa_app.checklists.loader import ChecklistError, parse_checklist
from qa_app.checklists.schema import FacilityProfile
from qa_app.scoring import score_inspection

BASE = """\
schema: 1
code: richer
version: 1
status: published
title: {vi: "Bảng kiểm thử"}
effective_from: 2025-01-01
facility_types: [TYT, NT]
scoring: {overall: pooled, meets_min: 90, conditional_min: 80, section_min: 50, validity_months: 24,
          corrective_days: 30}
sections:
  - id: A
    title: {vi: "Chung"}
    instructions: {vi: "Hỏi trưởng trạm trước khi quan sát.", en: "Ask the head of station before observing."}
    items:
      - {id: A1, text: {vi: "Có sổ"}}
      - {id: A2, text: {vi: "Có khách hàng được quan sát trong buổi giám sát"}, informational: true}
      - id: A3
        text: {vi: "Số khách hàng mới trong tháng"}
        answer: number
        integer: true
        min: 0
        max: 500
      - {id: A4, text: {vi: "Nhận xét"}, answer: text, max_length: 20}
      - id: A5
        text: {vi: "Tư vấn đúng các bước"}
        answer: scale
        finding_below: 1
        scale:
          - {value: 0, label: {vi: "Không làm"}, descriptor: {vi: "Không tư vấn", en: "No counselling"}}
          - {value: 1, label: {vi: "Làm chưa đủ"}, descriptor: {vi: "Bỏ sót 1–2 bước"}}
          - {value: 2, label: {vi: "Làm đủ"}}
  - id: D
    title: {vi: "Dụng cụ đặt DCTC"}
    applies_if_offers: [DCTC]
    items:
      - {id: D1, text: {vi: "Có bộ dụng cụ đặt DCTC"}}
"""


@pytest.fixture(scope="module")
def cl():
    return parse_checklist(BASE, "richer.yaml")


def test_section_applies_if_offers_and_instructions(cl) -> None:
    assert cl.section("A").instructions.get("en") == "Ask the head of station before observing."
    without = score_inspection(cl, FacilityProfile("TYT"), {"A1": "met", "A5": 2})
    assert without.items["D1"].applicable is False and without.items["D1"].excluded_reason == "service"
    with_iud = score_inspection(cl, FacilityProfile("TYT", frozenset({"DCTC"})), {"A1": "met", "A5": 2})
    assert with_iud.items["D1"].applicable is True and "D1" in with_iud.unanswered


def test_informational_items_are_recorded_never_scored_nor_findings(cl) -> None:
    score = score_inspection(cl, FacilityProfile("TYT"), {"A1": "met", "A2": "not_met", "A3": 3, "A4": "ổn", "A5": 2})
    assert score.items["A2"].possible == 0 and not score.items["A2"].failed
    assert score.classification == "meets" and score.failed_items == ()


@pytest.mark.parametrize("raw, code", [("-3", "below_min"), ("2.5", "not_an_integer"), ("1e3", "not_an_integer"),
                                       (501, "above_max"), (2.5, "not_an_integer")])
def test_number_constraints_are_refused(cl, raw, code) -> None:
    with pytest.raises(AnswerError) as err:
        normalize_answer(cl.item("A3"), raw)
    assert err.value.code == code


def test_number_and_text_within_constraints(cl) -> None:
    assert normalize_answer(cl.item("A3"), " 12 ") == 12
    assert normalize_answer(cl.item("A3"), 7.0) == 7
    assert normalize_answer(cl.item("A4"), "x" * 20) == "x" * 20
    with pytest.raises(AnswerError) as err:
        normalize_answer(cl.item("A4"), "x" * 21)
    assert err.value.code == "too_long"


def test_finding_below_and_descriptors(cl) -> None:
    item = cl.item("A5")
    assert item.scale[0].descriptor.get("en") == "No counselling"
    assert item.scale[1].descriptor.get("en") == "Bỏ sót 1–2 bước"  # English falls back to Vietnamese
    partial = score_inspection(cl, FacilityProfile("TYT"), {"A1": "met", "A5": 1})
    # A partial mark earns half the points but is not a finding needing a corrective action.
    assert partial.items["A5"].earned * 2 == partial.items["A5"].possible and not partial.items["A5"].failed
    assert score_inspection(cl, FacilityProfile("TYT"), {"A1": "met", "A5": 0}).failed_items == ("A5",)


@pytest.mark.parametrize("old, new, message", [
    ("        integer: true\n", "        integer: yes please\n", "A3: integer must be true or false"),
    ("        max: 500\n", "        max: -1\n", "item A3: max (-1) is below min (0)"),
    ("max_length: 20}", "max_length: 0}", "item A4: max_length must be a whole number from 1 to 2000"),
    ("answer: text, max_length: 20}", "answer: text, integer: true}", "item A4: integer is only for number items"),
    ("        finding_below: 1\n", "        finding_below: 5\n", "finding_below 5 is not one of the scale values"),
    ("    applies_if_offers: [DCTC]\n", "    applies_if_offers: [IUD]\n", "unknown service 'IUD'"),
])
def test_richer_keys_are_validated(old: str, new: str, message: str) -> None:
    assert old in BASE
    with pytest.raises(ChecklistError) as err:
        parse_checklist(BASE.replace(old, new), "richer.yaml")
    assert message in str(err.value)


OPTIONS = BASE.replace('''  - id: D
    title: {vi: "Dụng cụ đặt DCTC"}''', '''      - id: A6
        text: {vi: "Kho PTTT được sắp xếp"}
        answer: options
        options:
          - {value: full, label: {vi: "Sắp xếp đúng, đủ", en: "Fully in order"}, score: 3}
          - {value: partial, label: {vi: "Sắp xếp một phần"}, score: 1.5,
             descriptor: {vi: "Có kệ nhưng không theo hạn dùng"}}
          - {value: none, label: {vi: "Không sắp xếp"}, score: 0}
          - {value: no_store, label: {vi: "Không có kho riêng"}, score: null}
        finding_below: 1.5
  - id: D
    title: {vi: "Dụng cụ đặt DCTC"}''')


def test_option_sets_score_per_option_and_null_leaves_out() -> None:
    cl = parse_checklist(OPTIONS, "options.yaml")
    item = cl.item("A6")
    assert [o.score for o in item.options] == [3.0, 1.5, 0.0, None]
    base = {"A1": "met", "A2": "met", "A3": 1, "A4": "ổn", "A5": 2}
    half = score_inspection(cl, FacilityProfile("TYT"), {**base, "A6": "partial"})
    assert half.items["A6"].earned * 2 == half.items["A6"].possible and not half.items["A6"].failed
    none = score_inspection(cl, FacilityProfile("TYT"), {**base, "A6": "none"})
    assert none.items["A6"].earned == 0 and none.items["A6"].failed
    left_out = score_inspection(cl, FacilityProfile("TYT"), {**base, "A6": "no_store"})
    assert left_out.items["A6"].possible == 0 and left_out.classification == "meets"
    with pytest.raises(AnswerError) as err:
        normalize_answer(item, "most")
    assert err.value.code == "invalid_choice"


@pytest.mark.parametrize("old, new, message", [
    ("score: null}", "score: -1}", "score must be a number >= 0, or null"),
    ("value: partial", "value: full", "option 'full' is listed twice"),
    ("score: 3}", "score: '3'}", "(remove the quotes: write 3)"),
])
def test_option_sets_are_validated(old: str, new: str, message: str) -> None:
    assert old in OPTIONS
    with pytest.raises(ChecklistError) as err:
        parse_checklist(OPTIONS.replace(old, new), "options.yaml")
    assert message in str(err.value)
