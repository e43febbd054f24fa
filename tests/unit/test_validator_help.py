"""Validator messages that help an editor fix the file: indentation, quoted numbers, decimal commas, XLSForm keys."""

from __future__ import annotations

import pytest

from qa_app.checklists.loader import ChecklistError, parse_checklist

BASE = """\
schema: 1
code: help
version: 1
status: draft
title: {vi: "Bảng kiểm thử"}
effective_from: 2025-01-01
facility_types: [TYT]
scoring:
  overall: weighted_sections
  meets_min: 90
  conditional_min: 80
  section_min: 50
  validity_months: 24
  corrective_days: 30
sections:
  - id: A
    title: {vi: "Phần A"}
    weight: 2
    items:
      - id: A1
        text: {vi: "Tiêu chí A1"}
        weight: 1
      - id: A2
        text: {vi: "Tiêu chí A2"}
"""


def problems(text: str) -> list[str]:
    try:
        parse_checklist(text, "help.yaml")
    except ChecklistError as err:
        return [str(p) for p in err.problems]
    return []


def test_base_is_valid() -> None:
    assert problems(BASE) == []


@pytest.mark.parametrize("old, new, expected", [
    # An item one space short of its siblings.
    ("      - id: A2\n", "     - id: A2\n",
     "help.yaml:23: not valid YAML: check the indentation of line 23 (items must be indented under 'items:' of "
     "line 19, at the same column as the entry on line 20 (6 spaces, not 5))"),
    # A key of an item one space too far in.
    ("        weight: 1\n", "         weight: 1\n",
     "check the indentation of line 22 ('weight' must start at the same column as 'text' on line 21: "
     "8 spaces, not 9)"),
    # A section key typed at the items' column.
    ("    weight: 2\n", "  weight: 2\n", "check the indentation of line 18"),
])
def test_indentation_mistakes_name_the_line_and_the_fix(old: str, new: str, expected: str) -> None:
    found = problems(BASE.replace(old, new))
    assert len(found) == 1
    assert expected in found[0]
    assert "[YAML:" in found[0]  # the parser's own words are kept, after the hint


def test_a_colon_inside_a_value_asks_for_quotes() -> None:
    found = problems(BASE.replace("code: help\n", "code: help: x\n"))
    assert "the value on line 2 contains ': '; put the whole value in quotes" in found[0]


@pytest.mark.parametrize("old, new, expected", [
    ("        weight: 1\n", '        weight: "1"\n',
     "item A1: weight must be a positive number, not the text '1' (remove the quotes: write 1)"),
    ("        weight: 1\n", "        weight: 1,5\n",
     "item A1: weight must be a positive number, not the text '1,5' (use a decimal point, not a comma: write 1.5)"),
    ("  meets_min: 90\n", "  meets_min: 87,5\n",
     "scoring.meets_min must be a percentage between 0 and 100, not the text '87,5' (use a decimal point"),
    ("  validity_months: 24\n", "  validity_months: '24'\n",
     "scoring.validity_months must be a positive whole number, not the text '24' (remove the quotes: write 24)"),
])
def test_quoted_numbers_and_decimal_commas_get_a_suggestion(old: str, new: str, expected: str) -> None:
    assert any(expected in p for p in problems(BASE.replace(old, new)))


@pytest.mark.parametrize("key, equivalent", [
    ("relevant", "here applies_to (facility types) or applies_if_offers (services)"),
    ("required", "here every applicable item must be answered; allow_na and allow_not_observed"),
    ("constraint", "here for numbers use integer, min and max; for text max_length"),
    ("hint", "here guidance is the help"),
])
def test_xlsform_keys_point_to_the_equivalent(key: str, equivalent: str) -> None:
    text = BASE.replace("        weight: 1\n", f"        {key}: x\n")
    found = problems(text)
    assert len(found) == 1
    assert f"item A1: unknown key '{key}' ('{key}' is an XLSForm key: {equivalent}" in found[0]
