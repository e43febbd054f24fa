"""Unit tests for the answer-type registry (qa_app.checklists.answers); no app, no loader."""

from __future__ import annotations

import math
import unicodedata
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_app.checklists.answers import (
    ANSWER_TYPE_REGISTRY,
    MAX_TEXT_LENGTH,
    AnswerError,
    is_na,
    item_failed,
    item_value_fraction,
    normalize_answer,
)
from qa_app.checklists.schema import ANSWER_TYPES, Item, ScaleLevel, Text

# No example database: runs must not write .hypothesis/ into the repository.
PROPERTY = settings(max_examples=200, deadline=None, database=None)


def make_item(item_id: str = "B7", answer_type: str = "yes_no_na", **kw: Any) -> Item:
    """An item with only the fields a test cares about."""
    return Item(
        id=item_id,
        section_id=item_id[0],
        text=Text(item_id),
        guidance=Text(""),
        verification=("QS",),
        answer_type=answer_type,
        weight=kw.pop("weight", 1),
        **kw,
    )


def scale(*values: int, **kw: Any) -> Item:
    """A scale item with the given level values."""
    levels = tuple(ScaleLevel(v, Text(str(v))) for v in values)
    return make_item("S1", "scale", scale=levels, **kw)


def assert_refused(item: Item, raw: object, code: str | None = None) -> AnswerError:
    with pytest.raises(AnswerError) as info:
        normalize_answer(item, raw)
    assert item.id in str(info.value)
    assert info.value.item_id == item.id
    if code is not None:
        assert info.value.code == code
    return info.value


def test_registry_covers_every_schema_answer_type_and_agrees_on_scored() -> None:
    assert set(ANSWER_TYPE_REGISTRY) == set(ANSWER_TYPES)
    for name, answer_type in ANSWER_TYPE_REGISTRY.items():
        assert answer_type.name == name
        assert answer_type.scored == make_item(answer_type=name).scored


@pytest.mark.parametrize("answer_type", ANSWER_TYPES)
@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
def test_blank_means_unanswered(answer_type: str, raw: object) -> None:
    assert normalize_answer(make_item(answer_type=answer_type, allow_na=False), raw) is None


def test_unknown_answer_type_is_refused_naming_the_item() -> None:
    assert_refused(make_item("Z9", "checkbox"), "met", "unknown_type")


# --- yes_no_na ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("met", "met"),
        ("not_met", "not_met"),
        ("na", "na"),
        (" MET ", "met"),
        ("Not_Met", "not_met"),
        ("NA", "na"),
    ],
)
def test_yes_no_na_accepts_the_three_codes(raw: str, expected: str) -> None:
    assert normalize_answer(make_item(), raw) == expected


@pytest.mark.parametrize(
    "raw", ["yes", "no", "not met", "n/a", "1", 1, 0, True, False, 1.0, ["met"]]
)
def test_yes_no_na_refuses_anything_else(raw: object) -> None:
    error = assert_refused(make_item(), raw, "invalid_choice")
    assert "met" in str(error)


def test_na_refused_when_not_allowed() -> None:
    item = make_item("C3", allow_na=False)
    assert_refused(item, "na", "na_not_allowed")
    assert_refused(item, " NA ", "na_not_allowed")
    assert normalize_answer(item, "not_met") == "not_met"


# --- scale ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, 0),
        (2, 2),
        ("1", 1),
        (" 2 ", 2),
        ("+1", 1),
        (2.0, 2),
        ("2.0", 2),
        ("na", "na"),
        ("NA", "na"),
    ],
)
def test_scale_accepts_levels_as_int_numeric_string_or_na(raw: object, expected: object) -> None:
    value = normalize_answer(scale(0, 1, 2), raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("raw", [3, -1, 1.5, "1.5", "two", True, False, "nan", "inf", "-0.5", [1]])
def test_scale_refuses_values_that_are_not_levels(raw: object) -> None:
    assert_refused(scale(0, 1, 2), raw)


def test_scale_levels_need_not_be_contiguous() -> None:
    item = scale(0, 2, 4)
    assert normalize_answer(item, "4") == 4
    assert_refused(item, 1, "invalid_choice")
    assert_refused(item, 5, "invalid_choice")


def test_scale_na_refused_when_not_allowed() -> None:
    assert_refused(scale(0, 1, 2, allow_na=False), "na", "na_not_allowed")


# --- number ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, 12),
        (0, 0),
        (-3, -3),
        (12.5, 12.5),
        ("12", 12),
        (" 7 ", 7),
        ("-3.5", -3.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("na", "na"),
        (2**53, 2**53),
        (Fraction(1, 4), 0.25),
    ],
)
def test_number_accepts_ints_floats_and_numeric_strings(raw: object, expected: object) -> None:
    value = normalize_answer(make_item(answer_type="number"), raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    "raw",
    [
        math.nan,
        math.inf,
        -math.inf,
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "1e999",
        True,
        False,
        "1_000",
        "1,5",
        "12 visits",
        "١٢",
        "0x10",
        [],
        {},
        b"12",
        2**53 + 1,
        "9" * 5000,
    ],
)
def test_number_refuses_non_finite_bool_and_non_numbers(raw: object) -> None:
    assert_refused(make_item(answer_type="number"), raw)


def test_number_na_refused_when_not_allowed() -> None:
    assert_refused(make_item(answer_type="number", allow_na=False), "na", "na_not_allowed")


# --- text -----------------------------------------------------------------------------------


def test_text_is_stripped_and_nfc_normalised() -> None:
    decomposed = unicodedata.normalize("NFD", "  Tủ thuốc cấp cứu đầy đủ\r\nghi chú  ")
    value = normalize_answer(make_item(answer_type="text"), decomposed)
    assert value == "Tủ thuốc cấp cứu đầy đủ\nghi chú"
    assert unicodedata.is_normalized("NFC", value)
    assert value != decomposed.strip()  # the input really was decomposed


def test_text_length_limit_counts_after_stripping() -> None:
    item = make_item(answer_type="text")
    assert normalize_answer(item, "  " + "x" * MAX_TEXT_LENGTH + "  ") == "x" * MAX_TEXT_LENGTH
    assert MAX_TEXT_LENGTH == 2000
    assert_refused(item, "x" * (MAX_TEXT_LENGTH + 1), "too_long")


def test_text_length_counts_composed_characters() -> None:
    # 2000 Vietnamese letters typed decomposed are 4000 code points before NFC.
    text = unicodedata.normalize("NFD", "ệ" * MAX_TEXT_LENGTH)
    assert len(text) > MAX_TEXT_LENGTH
    assert normalize_answer(make_item(answer_type="text"), text) == "ệ" * MAX_TEXT_LENGTH


@pytest.mark.parametrize("raw", [12, 1.5, True, ["a"], b"abc"])
def test_text_refuses_non_strings(raw: object) -> None:
    assert_refused(make_item(answer_type="text"), raw, "not_text")


def test_text_refuses_nul_and_control_characters() -> None:
    assert_refused(make_item(answer_type="text"), "a\x00b", "invalid_text")
    assert_refused(make_item(answer_type="text"), "a\x1bb", "invalid_text")
    assert normalize_answer(make_item(answer_type="text"), "a\tb\nc") == "a\tb\nc"


def test_text_na_is_plain_text_not_an_exclusion() -> None:
    item = make_item(answer_type="text", allow_na=False)
    assert normalize_answer(item, "NA") == "NA"
    assert not is_na(item, "na")


# --- value fraction, failure, N/A -----------------------------------------------------------


def test_yes_no_na_fractions_and_failure() -> None:
    item = make_item()
    assert item_value_fraction(item, "met") == 1
    assert item_value_fraction(item, "not_met") == 0
    assert item_value_fraction(item, "not_met") is not None
    assert item_value_fraction(item, "na") is None
    assert item_value_fraction(item, None) is None
    assert [item_failed(item, v) for v in ("met", "not_met", "na", None)] == [
        False,
        True,
        False,
        False,
    ]
    assert [is_na(item, v) for v in ("met", "not_met", "na", None)] == [False, False, True, False]


@pytest.mark.parametrize(
    ("levels", "value", "fraction"),
    [
        ((0, 1, 2), 0, Fraction(0)),
        ((0, 1, 2), 1, Fraction(1, 2)),
        ((0, 1, 2), 2, Fraction(1)),
        ((1, 2, 3, 4), 2, Fraction(1, 3)),
        ((2, 4, 6), 4, Fraction(1, 2)),
        ((0, 1), 1, Fraction(1)),
    ],
)
def test_scale_fraction_is_position_between_min_and_max(
    levels: tuple[int, ...], value: int, fraction: Fraction
) -> None:
    result = item_value_fraction(scale(*levels), value)
    assert result == fraction
    assert isinstance(result, Fraction)


def test_scale_na_has_no_fraction_and_does_not_fail() -> None:
    assert item_value_fraction(scale(0, 1, 2), "na") is None
    assert not item_failed(scale(0, 1, 2), "na")
    assert is_na(scale(0, 1, 2), "na")


def test_scale_fails_below_the_top_by_default() -> None:
    item = scale(0, 1, 2)
    assert [item_failed(item, v) for v in (0, 1, 2)] == [True, True, False]


def test_scale_fails_below_pass_min() -> None:
    item = scale(0, 1, 2, pass_min=1)
    assert [item_failed(item, v) for v in (0, 1, 2)] == [True, False, False]
    bottom = scale(0, 1, 2, pass_min=0)
    assert [item_failed(bottom, v) for v in (0, 1, 2)] == [False, False, False]


@pytest.mark.parametrize("answer_type", ["number", "text"])
def test_informational_items_have_no_fraction_and_never_fail(answer_type: str) -> None:
    item = make_item(answer_type=answer_type)
    value = 0 if answer_type == "number" else "không có"
    assert item_value_fraction(item, value) is None
    assert not item_failed(item, value)


@pytest.mark.parametrize(
    ("item", "value"),
    [(make_item(), "yes"), (scale(0, 1, 2), 5), (scale(0, 1, 2), "1"), (scale(0, 1, 2), True)],
)
def test_fraction_refuses_values_that_were_not_normalised(item: Item, value: object) -> None:
    with pytest.raises(AnswerError):
        item_value_fraction(item, value)  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------


@PROPERTY
@given(st.text(max_size=60))
def test_text_normalisation_is_idempotent_and_canonical(raw: str) -> None:
    item = make_item(answer_type="text")
    try:
        value = normalize_answer(item, raw)
    except AnswerError:
        return
    if value is None:
        assert not raw.strip()
        return
    assert isinstance(value, str)
    assert value == value.strip()
    assert unicodedata.is_normalized("NFC", value)
    assert "\r\n" not in value
    assert len(value) <= MAX_TEXT_LENGTH
    assert normalize_answer(item, value) == value


@PROPERTY
@given(st.one_of(st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False)))
def test_number_round_trips_through_its_string_form(number: int | float) -> None:
    item = make_item(answer_type="number")
    assert normalize_answer(item, number) == number
    from_string = normalize_answer(item, repr(number))
    assert from_string == number
    assert type(from_string) is type(number)


@PROPERTY
@given(
    st.lists(st.integers(-5, 10), min_size=1, max_size=5, unique=True),
    st.integers(-10, 15),
    st.booleans(),
)
def test_scale_normalisation_matches_the_levels(levels: list[int], raw: int, as_text: bool) -> None:
    item = scale(*levels)
    given_raw: object = str(raw) if as_text else raw
    if raw in levels:
        value = normalize_answer(item, given_raw)
        assert value == raw
        fraction = item_value_fraction(item, value)
        assert fraction is not None
        assert 0 <= fraction <= 1
        assert (fraction == 1) == (raw == max(levels))
        assert item_failed(item, value) == (raw < max(levels))
    else:
        assert_refused(item, given_raw, "invalid_choice")
