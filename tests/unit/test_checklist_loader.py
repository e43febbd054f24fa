"""Unit tests for the checklist loader (qa_app.checklists.loader): no app, no database.

Most error tests mutate the small valid fixture ``checklists/demo/v1.yaml`` in one place and
assert both the message and the line the loader reports.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import pickle
import random
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from qa_app.checklists.loader import (
    ChecklistDiff,
    ChecklistError,
    Problem,
    canonical_json,
    diff_checklists,
    format_diff,
    load_checklist,
    load_directory,
    parse_checklist,
    select_version,
)
from qa_app.checklists.schema import Checklist, Text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = HERE / "checklists"
BASE = (FIXTURES / "demo" / "v1.yaml").read_text(encoding="utf-8")
V2 = (FIXTURES / "demo" / "v2.yaml").read_text(encoding="utf-8")
SCHEMA = json.loads((ROOT / "checklists" / "checklist.schema.json").read_text(encoding="utf-8"))
SHIPPED = sorted((ROOT / "checklists").glob("*/v*.yaml"))

# No example database: runs must not write .hypothesis/ into the repository.
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def mutate(*changes: tuple[str, str], text: str = BASE) -> str:
    """``text`` with each (old, new) applied; every ``old`` must occur exactly once."""
    for old, new in changes:
        assert text.count(old) == 1, f"fixture snippet not unique: {old!r}"
        text = text.replace(old, new)
    return text


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line equal to (or else containing) ``needle``."""
    lines = text.split("\n")
    for matches in (lambda ln: ln.strip() == needle.strip(), lambda ln: needle in ln):
        found = [number for number, line in enumerate(lines, 1) if matches(line)]
        if len(found) >= occurrence:
            return found[occurrence - 1]
    raise AssertionError(f"{needle!r} not in text")


def problems(text: str, source: str = "test.yaml") -> list[Problem]:
    """The problems reported for ``text`` (which must be refused)."""
    with pytest.raises(ChecklistError) as info:
        parse_checklist(text, source)
    assert info.value.problems, "ChecklistError without problems"
    return info.value.problems


def assert_reported(found: list[Problem], line: int, *fragments: str) -> Problem:
    """Some problem is on ``line`` and its message contains every fragment."""
    for problem in found:
        if problem.line == line and all(f in problem.message for f in fragments):
            return problem
    listing = "\n".join(str(p) for p in found)
    raise AssertionError(f"no problem at line {line} containing {fragments}; got:\n{listing}")


def as_json_data(text: str) -> Any:
    """YAML text as JSON-like data (dates as ISO strings), as an editor's schema plugin sees it."""

    def fix(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    return fix(yaml.safe_load(text))


SCHEMA_VALIDATOR = Draft202012Validator(SCHEMA)


# --------------------------------------------------------------------------------------------------
# a valid file
# --------------------------------------------------------------------------------------------------


def test_minimal_file_loads() -> None:
    text = """\
schema: 1
code: mini
version: 1
status: draft
title: {vi: "Tối thiểu"}
effective_from: 2025-01-01
facility_types: [TYT]
scoring: {overall: pooled, meets_min: 90, conditional_min: 80, section_min: 50,
          validity_months: 24, corrective_days: 30}
sections:
  - id: A
    title: {vi: "Phần A"}
    items:
      - id: A1
        text: {vi: "Câu hỏi"}
"""
    checklist = parse_checklist(text, "mini.yaml")
    assert (checklist.code, checklist.version, checklist.status) == ("mini", 1, "draft")
    assert checklist.title == Text("Tối thiểu", "")
    assert checklist.legal_basis == ()
    assert checklist.description is None
    item = checklist.item("A1")
    # Defaults of the format.
    assert (item.answer_type, item.weight, item.critical, item.allow_na) == (
        "yes_no_na",
        1.0,
        "never",
        True,
    )
    assert item.guidance == Text("")
    assert item.verification == ()
    assert item.applies_to == ()
    assert checklist.section("A").weight == 1.0
    assert item.line == line_of(text, "- id: A1")
    assert checklist.section("A").line == line_of(text, "- id: A")
    assert checklist.source == "mini.yaml"


def test_full_fixture_loads_every_feature() -> None:
    checklist = load_checklist(FIXTURES / "demo" / "v1.yaml")
    assert checklist.effective_from == dt.date(2025, 1, 1)
    assert checklist.facility_types == ("TYT", "TTYT", "BV", "PK")
    assert checklist.scoring.overall == "weighted_sections"
    assert (checklist.scoring.meets_min, checklist.scoring.conditional_min) == (90.0, 80.0)
    assert [s.id for s in checklist.sections] == ["A", "B"]
    assert [i.id for i in checklist.items] == ["A1", "A2", "B1", "B2", "B3"]
    a1, a2, b1, b2 = (checklist.item(i) for i in ("A1", "A2", "B1", "B2"))
    assert a1.critical == "always"
    assert a1.allow_na is False
    assert a1.guidance.en == "Look at the licence"
    assert a2.answer_type == "number"
    assert a2.unit == Text("lượt", "visits")
    assert b1.critical == "when_offers"
    assert b1.critical_when_offers == ("DCTC",)
    assert b1.applies_if_offers == ("DCTC",)
    assert b1.verification == ("QS", "KK")
    assert b2.answer_type == "scale"
    assert [lv.value for lv in b2.scale] == [0, 1, 2]
    assert b2.scale[1].label.vi == "Đạt một phần"
    assert b2.pass_min == 1
    assert b2.weight == 2.0
    assert checklist.section("B").weight == 1.5
    assert checklist.section("B").applies_to == (
        "TYT",
        "TTYT",
        "BV",
    )
    assert b2.section_id == "B"
    assert b2.line == line_of(BASE, "- id: B2")


def test_scale_pass_min_defaults_to_the_top_level() -> None:
    checklist = parse_checklist(mutate(("        pass_min: 1\n", "")), "t")
    assert checklist.item("B2").pass_min == 2


def test_block_scalars_are_trimmed_in_texts() -> None:
    text = mutate(
        ('text: {vi: "Ghi chú", en: "Notes"}', "text:\n          vi: |\n            Ghi chú\n")
    )
    assert parse_checklist(text, "t").item("B3").text == Text("Ghi chú", "")


# --------------------------------------------------------------------------------------------------
# one broken file per kind of error: message and line
# --------------------------------------------------------------------------------------------------

# (test id, changes to BASE, needle of the line the problem must be reported on, message fragments)
CASES: list[tuple[str, list[tuple[str, str]], str, tuple[str, ...]]] = [
    ("yaml-syntax", [("code: demo\n", "code: demo: x\n")], "code: demo: x", ("not valid YAML",)),
    (
        "yaml-unclosed-flow",
        [('title: {vi: "Pháp lý", en: "Legal"}', 'title: {vi: "Pháp lý", en: "Legal"')],
        "    weight: 2",
        ("not valid YAML",),
    ),
    ("tab-indentation", [("  - id: A\n", "\t- id: A\n")], "\t- id: A", ("tab character",)),
    (
        "duplicate-yaml-key",
        [("status: published\n", "status: published\nstatus: draft\n")],
        "status: draft",
        ("duplicate key 'status'", "line 6"),
    ),
    (
        "missing-top-key",
        [("status: published\n", "")],
        "schema: 1",
        ("missing required key 'status'",),
    ),
    (
        "missing-item-key",
        [
            (
                '        text: {vi: "Số lượt tư vấn trong tháng", '
                'en: "Counselling visits this month"}\n',
                "",
            )
        ],
        "- id: A2",
        ("item A2", "missing required key 'text'"),
    ),
    (
        "missing-section-key",
        [('    title: {vi: "Dụng cụ tử cung", en: "IUD"}\n', "")],
        "- id: B",
        ("section B", "missing required key 'title'"),
    ),
    (
        "missing-scoring-key",
        [("  validity_months: 24\n", "")],
        "overall: weighted_sections",
        ("scoring", "missing required key 'validity_months'"),
    ),
    (
        "unknown-key-typo",
        [
            (
                "        weight: 2\n        applies_to: [BV]",
                "        wieght: 2\n        applies_to: [BV]",
            )
        ],
        "wieght: 2",
        ("item B2", "unknown key 'wieght'", "did you mean 'weight'"),
    ),
    (
        "unknown-top-key",
        [("status: published\n", "status: published\nauthor: me\n")],
        "author: me",
        ("unknown key 'author'",),
    ),
    (
        "unknown-text-key",
        [('text: {vi: "Ghi chú", en: "Notes"}', 'text: {vi: "Ghi chú", fr: "Notes"}')],
        'fr: "Notes"',
        ("item B3 text", "unknown key 'fr'"),
    ),
    (
        "wrong-type-bool",
        [("allow_na: false", 'allow_na: "no"')],
        "allow_na",
        ("item A1", "allow_na must be true or false"),
    ),
    (
        "wrong-type-list",
        [("verification: [QS, KK]", "verification: QS")],
        "verification: QS",
        ("item B1", "verification must be a list"),
    ),
    (
        "wrong-type-text",
        [('title: {vi: "Pháp lý", en: "Legal"}', "title: Pháp lý")],
        "title: Pháp lý",
        ("section A title must be a mapping",),
    ),
    (
        "wrong-type-sections",
        [("sections:\n", "sections: {}\nold_sections:\n")],
        "sections: {}",
        ("sections must be a list",),
    ),
    (
        "wrong-type-item",
        [
            (
                '      - id: B3\n        text: {vi: "Ghi chú", en: "Notes"}\n'
                "        answer: text\n",
                "      - B3\n",
            )
        ],
        "- B3",
        ("item #3 of section B must be a mapping",),
    ),
    ("schema-not-1", [("schema: 1", "schema: 2")], "schema: 2", ("schema must be 1",)),
    ("schema-bool", [("schema: 1", "schema: true")], "schema: true", ("schema must be 1",)),
    ("bad-code", [("code: demo", "code: Demo_1")], "code: Demo_1", ("code must be lowercase",)),
    ("code-too-long", [("code: demo", "code: " + "d" * 65)], "code: ddd", ("at most 64",)),
    (
        "version-zero",
        [("version: 1", "version: 0")],
        "version: 0",
        ("version must be a positive whole number",),
    ),
    (
        "version-text",
        [("version: 1", 'version: "1"')],
        "version:",
        ("version must be a positive whole number",),
    ),
    (
        "version-float",
        [("version: 1", "version: 1.5")],
        "version:",
        ("version must be a positive whole number",),
    ),
    (
        "version-bool",
        [("version: 1", "version: true")],
        "version:",
        ("version must be a positive whole number",),
    ),
    (
        "bad-status",
        [("status: published", "status: final")],
        "status: final",
        ("status must be one of draft, published",),
    ),
    (
        "impossible-date",
        [("effective_from: 2025-01-01", "effective_from: 2025-02-30")],
        "effective_from",
        ("2025-02-30",),
    ),
    (
        "date-not-iso",
        [("effective_from: 2025-01-01", "effective_from: 1/1/2025")],
        "effective_from",
        ("effective_from must be a date",),
    ),
    (
        "date-with-time",
        [("effective_from: 2025-01-01", "effective_from: 2025-01-01 08:00:00")],
        "effective_from",
        ("without a time",),
    ),
    (
        "date-missing",
        [("effective_from: 2025-01-01\n", "")],
        "schema: 1",
        ("missing required key 'effective_from'",),
    ),
    (
        "text-missing-vi",
        [
            (
                'title: {vi: "Bảng kiểm mẫu", en: "Sample checklist"}',
                'title: {en: "Sample checklist"}',
            )
        ],
        "title: {en",
        ("title: missing required key 'vi'",),
    ),
    (
        "text-empty-vi",
        [('text: {vi: "Ghi chú", en: "Notes"}', 'text: {vi: "  ", en: "Notes"}')],
        'text: {vi: "  "',
        ("item B3 text", "Vietnamese text ('vi') is empty"),
    ),
    (
        "text-vi-not-string",
        [('text: {vi: "Ghi chú", en: "Notes"}', 'text: {vi: 12, en: "Notes"}')],
        "text: {vi: 12",
        ("item B3 text", "'vi' must be text"),
    ),
    (
        "title-too-long",
        [('title: {vi: "Bảng kiểm mẫu"', 'title: {vi: "' + "x" * 301 + '"')],
        'title: {vi: "xxx',
        ("longer than 300",),
    ),
    ("control-character", [('en: "Notes"', 'en: "No\\x07tes"')], 'en: "No\\x07tes"', ("U+0007",)),
    (
        "unknown-facility-type",
        [("facility_types: [TYT, TTYT, BV, PK]", "facility_types: [TYT, TTYT, BV, PK, XYZ]")],
        "facility_types",
        ("facility_types", "unknown facility type 'XYZ'"),
    ),
    (
        "duplicate-facility-type",
        [("facility_types: [TYT, TTYT, BV, PK]", "facility_types: [TYT, TTYT, BV, PK, TYT]")],
        "facility_types",
        ("'TYT' is listed twice",),
    ),
    (
        "empty-facility-types",
        [("facility_types: [TYT, TTYT, BV, PK]", "facility_types: []")],
        "facility_types",
        ("must list at least one facility type",),
    ),
    (
        "unknown-section-type",
        [("applies_to: [TYT, TTYT, BV]", "applies_to: [TYT, TTYT, HOSP]")],
        "applies_to: [TYT",
        ("section B: applies_to", "unknown facility type 'HOSP'"),
    ),
    (
        "unknown-item-type",
        [("applies_to: [BV]", "applies_to: [BVX]")],
        "applies_to: [BVX]",
        ("item B2: applies_to", "unknown facility type 'BVX'", "did you mean 'BV'"),
    ),
    (
        "section-type-outside-checklist",
        [("applies_to: [TYT, TTYT, BV]", "applies_to: [TYT, NT]")],
        "applies_to: [TYT",
        ("section B: applies_to names NT", "facility_types"),
    ),
    (
        "item-type-outside-checklist",
        [("applies_to: [BV]", "applies_to: [BV, NT]")],
        "applies_to: [BV, NT]",
        ("item B2: applies_to names NT", "checklist's facility_types"),
    ),
    (
        "item-type-outside-section",
        [("applies_to: [BV]", "applies_to: [BV, PK]")],
        "applies_to: [BV, PK]",
        ("item B2: applies_to names PK", "section B's applies_to"),
    ),
    (
        "unknown-service",
        [("applies_if_offers: [DCTC]", "applies_if_offers: [IUD]")],
        "applies_if_offers",
        ("item B1", "unknown service 'IUD'"),
    ),
    (
        "unknown-verification",
        [("verification: [QS, KK]", "verification: [QS, XX]")],
        "verification: [QS, XX]",
        ("item B1", "unknown verification method 'XX'"),
    ),
    (
        "unknown-answer-type",
        [("answer: text", "answer: choice")],
        "answer: choice",
        ("item B3: answer must be one of yes_no_na, scale, number, text",),
    ),
    (
        "weight-zero",
        [("        weight: 2\n", "        weight: 0\n")],
        "weight: 0",
        ("item B2: weight must be a positive number",),
    ),
    (
        "weight-negative-section",
        [("weight: 1.5", "weight: -1.5")],
        "weight: -1.5",
        ("section B: weight must be a positive number",),
    ),
    (
        "weight-bool",
        [("        weight: 2\n", "        weight: true\n")],
        "weight: true",
        ("item B2: weight must be a positive number", "true/false"),
    ),
    (
        "weight-text",
        [("        weight: 2\n", '        weight: "2"\n')],
        'weight: "2"',
        ("item B2: weight must be a positive number",),
    ),
    (
        "weight-nan",
        [("        weight: 2\n", "        weight: .nan\n")],
        "weight: .nan",
        ("item B2: weight must be a positive number",),
    ),
    (
        "weight-missing-weighted",
        [("    weight: 2\n    items:", "    items:")],
        "- id: A",
        ("section A: missing key 'weight'", "weighted_sections"),
    ),
    (
        "bad-critical",
        [("critical: always", "critical: sometimes")],
        "critical: sometimes",
        ("item A1: critical must be never, always or {when_offers",),
    ),
    (
        "critical-bool",
        [("critical: always", "critical: yes")],
        "critical: yes",
        ("item A1: critical must be",),
    ),
    (
        "critical-empty-when-offers",
        [("critical: {when_offers: [DCTC]}", "critical: {when_offers: []}")],
        "critical: {when_offers: []}",
        ("item B1: critical when_offers must list at least one service",),
    ),
    (
        "critical-unknown-service",
        [("critical: {when_offers: [DCTC]}", "critical: {when_offers: [DCTC, IUD]}")],
        "critical: {when_offers",
        ("item B1: critical when_offers", "unknown service 'IUD'"),
    ),
    (
        "critical-unknown-key",
        [("critical: {when_offers: [DCTC]}", "critical: {when: [DCTC]}")],
        "critical: {when:",
        ("item B1: critical: unknown key 'when'",),
    ),
    (
        "critical-missing-when-offers",
        [("critical: {when_offers: [DCTC]}", "critical: {}")],
        "critical: {}",
        ("item B1: critical: missing required key 'when_offers'",),
    ),
    (
        "critical-never-applies-type",
        [
            (
                "        applies_if_offers: [DCTC]\n",
                "        applies_if_offers: [DCTC]\n        applies_to: [PK]\n",
            )
        ],
        "- id: B1",
        ("critical item B1 can never apply",),
    ),
    (
        "critical-never-applies-service",
        [("critical: {when_offers: [DCTC]}", "critical: {when_offers: [QC, TT]}")],
        "critical: {when_offers: [QC, TT]}",
        ("item B1 is never critical", "QC, TT", "DCTC"),
    ),
    (
        "critical-informational",
        [("        answer: number\n", "        answer: number\n        critical: always # A2\n")],
        "critical: always # A2",
        ("item A2", "number item is informational", "cannot be critical"),
    ),
    (
        "scale-missing",
        [
            (
                """        scale:
          - {value: 0, label: {vi: "Không đạt", en: "Not met"}}
          - {value: 1, label: {vi: "Đạt một phần", en: "Partly met"}}
          - {value: 2, label: {vi: "Đạt", en: "Met"}}
""",
                "",
            )
        ],
        "- id: B2",
        ("item B2: a scale item needs 'scale'",),
    ),
    (
        "scale-empty",
        [
            (
                """        scale:
          - {value: 0, label: {vi: "Không đạt", en: "Not met"}}
          - {value: 1, label: {vi: "Đạt một phần", en: "Partly met"}}
          - {value: 2, label: {vi: "Đạt", en: "Met"}}
""",
                "        scale: []\n",
            )
        ],
        "scale: []",
        ("item B2: scale needs at least two levels",),
    ),
    (
        "scale-duplicate-value",
        [("{value: 1, label", "{value: 0, label")],
        "Đạt một phần",
        ("item B2: scale value 0 is used twice",),
    ),
    (
        "scale-non-int",
        [("{value: 1, label", "{value: 1.5, label")],
        "Đạt một phần",
        ("item B2 scale level 2: value must be a whole number",),
    ),
    (
        "scale-not-ascending",
        [("{value: 2, label", "{value: -1, label")],
        '{vi: "Đạt", en: "Met"}',
        ("item B2: scale levels must go from lowest to highest",),
    ),
    (
        "scale-level-no-label",
        [('{value: 2, label: {vi: "Đạt", en: "Met"}}', "{value: 2}")],
        "{value: 2}",
        ("item B2 scale level 3: missing required key 'label'",),
    ),
    (
        "pass-min-outside",
        [("pass_min: 1", "pass_min: 5")],
        "pass_min: 5",
        ("item B2: pass_min 5 is not one of the scale values (0, 1, 2)",),
    ),
    (
        "pass-min-lowest",
        [("pass_min: 1", "pass_min: 0")],
        "pass_min: 0",
        ("item B2: pass_min 0 is the lowest level",),
    ),
    (
        "pass-min-on-yes-no",
        [("allow_na: false\n", "allow_na: false\n        pass_min: 1 # A1\n")],
        "pass_min: 1 # A1",
        ("item A1: pass_min is only for scale items",),
    ),
    (
        "scale-on-number",
        [
            (
                'unit: {vi: "lượt", en: "visits"}\n',
                'unit: {vi: "lượt", en: "visits"}\n        scale: [] # A2\n',
            )
        ],
        "scale: [] # A2",
        ("item A2: scale is only for scale items", "not number"),
    ),
    (
        "unit-on-yes-no",
        [("allow_na: false\n", 'allow_na: false\n        unit: {vi: "lượt"} # A1\n')],
        'unit: {vi: "lượt"} # A1',
        ("item A1: unit is only for number items",),
    ),
    ("section-no-items", [], "items: []", ("section C has no items",)),
    (
        "section-never-applies",
        [("applies_to: [TYT, TTYT, BV]", "applies_to: [NT]")],
        "applies_to: [NT]",
        ("section B can never apply",),
    ),
    ("no-sections", [], "sections: []", ("a checklist needs at least one section",)),
    (
        "meets-min-over-100",
        [("meets_min: 90", "meets_min: 120")],
        "meets_min: 120",
        ("scoring.meets_min must be a percentage between 0 and 100",),
    ),
    (
        "section-min-text",
        [("section_min: 50", 'section_min: "50"')],
        "section_min",
        ("scoring.section_min must be a percentage",),
    ),
    (
        "conditional-above-meets",
        [("conditional_min: 80", "conditional_min: 95")],
        "conditional_min: 95",
        ("scoring.conditional_min (95) must not be above scoring.meets_min (90)",),
    ),
    (
        "bad-overall",
        [("overall: weighted_sections", "overall: average")],
        "overall: average",
        ("scoring.overall must be one of pooled, weighted_sections",),
    ),
    (
        "validity-months-zero",
        [("validity_months: 24", "validity_months: 0")],
        "validity_months: 0",
        ("scoring.validity_months must be a positive whole number",),
    ),
    (
        "corrective-days-float",
        [("corrective_days: 30", "corrective_days: 1.5")],
        "corrective_days: 1.5",
        ("scoring.corrective_days must be a positive whole number",),
    ),
    (
        "duplicate-section-id",
        [("  - id: B\n", "  - id: A\n")],
        "- id: A|2",
        ("duplicate section id 'A' at lines 21 and 36",),
    ),
    (
        "duplicate-item-id",
        [("      - id: B2\n", "      - id: A1\n")],
        "- id: A1|2",
        ("duplicate item id 'A1' at lines 25 and 46",),
    ),
    (
        "bad-item-id",
        [("      - id: B3\n", "      - id: B 3\n")],
        "- id: B 3",
        ("id must be letters, digits",),
    ),
    (
        "unsupported-tag",
        [("scoring:\n", "scoring: !!set\n")],
        "scoring: !!set",
        ("unsupported YAML tag",),
    ),
    (
        "python-tag",
        [("code: demo", "code: !!python/name:os.system demo")],
        "code: !!python",
        ("cannot read the value",),
    ),
    (
        "merge-key",
        [("scoring:\n", "scoring:\n  <<: {x: 1}\n")],
        "<<: {x: 1}",
        ("merge keys (<<) are not supported",),
    ),
]

# Cases whose change is an addition at the end of the file.
APPEND = {
    "section-no-items": '  - id: C\n    title: {vi: "Trống"}\n    weight: 1\n    items: []\n',
}


def case_text(name: str, changes: list[tuple[str, str]]) -> str:
    if name == "no-sections":
        return BASE[: BASE.index("sections:\n")] + "sections: []\n"
    return mutate(*changes) + APPEND.get(name, "")


@pytest.mark.parametrize(
    ("name", "changes", "needle", "fragments"), CASES, ids=[c[0] for c in CASES]
)
def test_each_kind_of_error_is_reported_with_its_line(
    name: str, changes: list[tuple[str, str]], needle: str, fragments: tuple[str, ...]
) -> None:
    text = case_text(name, changes)
    needle, _, occurrence = needle.partition("|")
    found = problems(text)
    assert_reported(found, line_of(text, needle, int(occurrence or 1)), *fragments)
    assert all(p.path == "test.yaml" and p.line >= 1 for p in found)


def test_every_error_kind_is_caught_by_a_distinct_case() -> None:
    # Guard against a case that silently stops testing anything (e.g. a snippet no longer in BASE).
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))
    for name, changes, _, _ in CASES:
        assert case_text(name, changes) != BASE, name


def test_top_level_not_a_mapping() -> None:
    found = problems("# a comment\n\n- schema: 1\n- code: x\n")
    assert len(found) == 1
    assert_reported(found, 3, "top level of a checklist must be a mapping", "a list")
    assert_reported(problems("just text\n"), 1, "must be a mapping")


def test_empty_file() -> None:
    assert_reported(problems(""), 1, "the file is empty")
    assert_reported(problems("# only a comment\n"), 1, "the file is empty")


def test_recursive_alias_and_several_documents() -> None:
    found = problems(mutate(("legal_basis:\n", "legal_basis: &loop\n  - *loop\n")))
    # PyYAML resolves the alias to the anchored node itself, so the anchor's line is reported.
    assert_reported(found, line_of(BASE, "legal_basis:"), "recursive alias")
    text = BASE + "---\nschema: 1\n"
    assert_reported(problems(text), line_of(text, "---"), "not valid YAML", "another document")


def test_alias_bomb_is_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for n in range(1, 10):
        bomb += (
            f"{chr(97 + n)}: &{chr(97 + n)} [*{chr(96 + n)}, *{chr(96 + n)}, *{chr(96 + n)}, "
            f"*{chr(96 + n)}, *{chr(96 + n)}, *{chr(96 + n)}, *{chr(96 + n)}, *{chr(96 + n)}]\n"
        )
    found = problems(bomb)
    assert any("too many values" in p.message for p in found)


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    assert any("nested" in p.message for p in problems("a: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert any("nested" in p.message for p in problems("a: " + "[" * 60 + "]" * 60 + "\n"))


def test_duplicate_section_and_item_ids_name_both_lines() -> None:
    text = mutate(("      - id: B3\n", "      - id: A2\n"))
    first, second = line_of(text, "- id: A2"), line_of(text, "- id: A2", 2)
    problem = assert_reported(problems(text), second, "duplicate item id 'A2'")
    assert f"lines {first} and {second}" in problem.message


def test_file_name_must_match_version(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "v2.yaml"
    path.parent.mkdir()
    path.write_text(BASE, encoding="utf-8")
    with pytest.raises(ChecklistError) as info:
        load_checklist(path)
    problem = assert_reported(
        info.value.problems, line_of(BASE, "version: 1"), "v2.yaml", "version 1", "v1.yaml"
    )
    assert problem.path == str(path)
    other = tmp_path / "demo" / "checklist.yaml"
    other.write_text(BASE, encoding="utf-8")
    with pytest.raises(ChecklistError) as info:
        load_checklist(other)
    assert_reported(info.value.problems, line_of(BASE, "version: 1"), "'checklist.yaml'", "v1.yaml")
    padded = tmp_path / "demo" / "v01.yaml"
    padded.write_text(BASE, encoding="utf-8")
    with pytest.raises(ChecklistError):
        load_checklist(padded)
    good = tmp_path / "demo" / "v1.yaml"
    good.write_text(BASE, encoding="utf-8")
    assert load_checklist(str(good)).source == str(good)


def test_file_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "v1.yaml"
    lines = BASE.encode("utf-8").split(b"\n")
    lines[6] = lines[6].replace(b"Sample", b"Sam\xffple")
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ChecklistError) as info:
        load_checklist(path)
    assert_reported(info.value.problems, 7, "not UTF-8")
    with pytest.raises(ChecklistError) as info:
        load_checklist(tmp_path / "missing" / "v1.yaml")
    assert_reported(info.value.problems, 1, "cannot read the file")


def test_several_errors_are_all_reported_at_once() -> None:
    text = mutate(
        ("schema: 1", "schema: 3"),
        ("status: published", "status: final"),
        ("meets_min: 90", "meets_min: 101"),
        ("        weight: 2\n", "        wieght: 2\n"),
        ("verification: [QS, KK]", "verification: [QS, XX]"),
        ("answer: text", "answer: choice"),
        ("      - id: B2\n", "      - id: A1\n"),
        ("status: final\n", "status: final\nstatus: draft\n"),
    )
    found = problems(text)
    expected = [
        ("schema: 3", "schema must be 1"),
        ("status: final", "status must be one of"),
        ("status: draft", "duplicate key 'status'"),
        ("meets_min: 101", "scoring.meets_min"),
        ("wieght: 2", "unknown key 'wieght'"),
        ("verification: [QS, XX]", "unknown verification method 'XX'"),
        ("answer: choice", "answer must be one of"),
        ("- id: A1|2", "duplicate item id 'A1'"),
    ]
    for needle, fragment in expected:
        needle, _, occurrence = needle.partition("|")
        assert_reported(found, line_of(text, needle, int(occurrence or 1)), fragment)
    assert len(found) == len(expected)
    # Reported in file order, and the exception text lists them all as "path:line: message".
    assert [p.line for p in found] == sorted(p.line for p in found)
    with pytest.raises(ChecklistError) as info:
        parse_checklist(text, "multi.yaml")
    assert str(info.value).splitlines() == [str(p) for p in info.value.problems]


def test_problem_and_error_formatting() -> None:
    problem = Problem("checklists/x/v1.yaml", 12, "item A1: weight must be a positive number")
    assert str(problem) == "checklists/x/v1.yaml:12: item A1: weight must be a positive number"
    error = ChecklistError([problem, Problem("b.yaml", 3, "oops")])
    assert str(error) == f"{problem}\nb.yaml:3: oops"
    assert pickle.loads(pickle.dumps(error)).problems == error.problems
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.line = 3  # type: ignore[misc]


def test_yaml_syntax_error_line_points_at_the_error() -> None:
    text = mutate(("      - id: B3\n", "      - id: B3\n       bad indentation: [\n"))
    found = problems(text)
    assert len(found) == 1
    assert found[0].message.startswith("not valid YAML")
    assert found[0].line >= line_of(text, "- id: B3")


# --------------------------------------------------------------------------------------------------
# content hash and normalisation
# --------------------------------------------------------------------------------------------------


def test_hash_is_sha256_of_the_canonical_json_of_the_content() -> None:
    checklist = parse_checklist(BASE, "t")
    expected = json.dumps(
        checklist.content, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert canonical_json(checklist.content) == expected
    assert checklist.sha256 == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert checklist.content["effective_from"] == "2025-01-01"
    assert checklist.content["sections"][1]["items"][1]["scale"][2] == {
        "value": 2,
        "label": {"vi": "Đạt", "en": "Met"},
    }
    json.dumps(checklist.content)  # JSON-serialisable


def test_hash_ignores_layout_and_comments_but_not_content() -> None:
    reference = parse_checklist(BASE, "t").sha256
    relayout = mutate(
        ("schema: 1\n", "# a new comment\nschema:    1   # trailing comment\n\n"),
        (
            'title: {vi: "Bảng kiểm mẫu", en: "Sample checklist"}',
            "title:\n  en: Sample checklist\n  vi: 'Bảng kiểm mẫu'",
        ),
        ("effective_from: 2025-01-01", 'effective_from: "2025-01-01"'),
        (
            "facility_types: [TYT, TTYT, BV, PK]",
            "facility_types:\n  - TYT\n  - TTYT\n  - BV\n  - PK",
        ),
    )
    assert parse_checklist(relayout, "other-name").sha256 == reference
    # Key order is not content either.
    reordered = mutate(("schema: 1\ncode: demo\n", "code: demo\nschema: 1\n"))
    assert parse_checklist(reordered, "t").sha256 == reference
    changed = mutate(('en: "Notes"', 'en: "Remarks"'))
    assert parse_checklist(changed, "t").sha256 != reference
    weight = mutate(("weight: 1.5", "weight: 1.25"))
    assert parse_checklist(weight, "t").sha256 != reference


def test_json_round_trip_keeps_the_hash() -> None:
    # The registry rebuilds checklists from the content stored in the database.
    checklist = parse_checklist(mutate(("weight: 1.5", "weight: 10000000000000000.0")), "t")
    again = parse_checklist(json.dumps(checklist.content, ensure_ascii=False), "database")
    assert again.sha256 == checklist.sha256
    assert again.content == checklist.content
    assert again.effective_from == checklist.effective_from
    assert again.section("B").weight == 1e16


def test_strings_are_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Đạt")
    assert decomposed != "Đạt"
    assert len(decomposed) > len("Đạt")
    text_nfd = mutate(
        ('text: {vi: "Ghi chú", en: "Notes"}', f'text: {{vi: "{decomposed}", en: "Notes"}}')
    )
    text_nfc = mutate(('text: {vi: "Ghi chú", en: "Notes"}', 'text: {vi: "Đạt", en: "Notes"}'))
    loaded = parse_checklist(text_nfd, "t")
    assert loaded.item("B3").text.vi == "Đạt"
    assert unicodedata.is_normalized("NFC", loaded.content["sections"][1]["items"][2]["text"]["vi"])
    assert loaded.sha256 == parse_checklist(text_nfc, "t").sha256


# --------------------------------------------------------------------------------------------------
# diff
# --------------------------------------------------------------------------------------------------


def test_diff_between_two_versions() -> None:
    old, new = (
        load_checklist(FIXTURES / "demo" / "v1.yaml"),
        load_checklist(FIXTURES / "demo" / "v2.yaml"),
    )
    diff = diff_checklists(old, new)
    assert diff.added == ["C1"]
    assert diff.removed == ["B3"]
    assert dict(diff.changed) == {"A1": ["text"], "B2": ["weight", "pass_min"], "A2": ["section"]}
    assert diff.sections_added == ["C"]
    assert diff.sections_removed == []
    assert diff.sections_changed == [("B", ["weight"])]
    assert diff.scoring_changed == [("meets_min", 90.0, 85.0)]
    assert diff.checklist_changed == ["effective_from"]
    assert not diff.is_empty
    text = format_diff(diff)
    assert "Items added (1): C1" in text
    assert "Items removed (1): B3" in text
    assert "  B2: weight, pass_min" in text
    assert "meets_min: 90 → 85" in text
    assert "  B: weight" in text
    assert "Tiêu chí thêm mới (1): C1" in format_diff(diff, locale="vi")


def test_diff_of_identical_versions_is_empty_and_detects_critical_and_order() -> None:
    old = parse_checklist(BASE, "t")
    same = diff_checklists(
        old, parse_checklist(mutate(("schema: 1\n", "# comment\nschema: 1\n")), "t")
    )
    assert same.is_empty
    assert same == ChecklistDiff()
    assert "No differences." in format_diff(same)
    assert "Items removed (0): none" in format_diff(same)
    # A1 moves to the end of section A and stops being critical; B1 becomes critical for QC too.
    new = parse_checklist(
        mutate(
            ("critical: {when_offers: [DCTC]}", "critical: {when_offers: [DCTC, QC]}"),
            ("conditional_min: 80", "conditional_min: 70"),
            (
                """      - id: A1
        text: {vi: "Có giấy phép hoạt động", en: "Has an operating licence"}
        guidance: {vi: "Xem giấy phép", en: "Look at the licence"}
        verification: [HS]
        critical: always
        allow_na: false
""",
                "",
            ),
            (
                '        unit: {vi: "lượt", en: "visits"}\n',
                """        unit: {vi: "lượt", en: "visits"}
      - id: A1
        text: {vi: "Có giấy phép hoạt động", en: "Has an operating licence"}
        guidance: {vi: "Xem giấy phép", en: "Look at the licence"}
        verification: [HS]
        critical: never
        allow_na: false
""",
            ),
            (
                'title: {vi: "Bảng kiểm mẫu", en: "Sample checklist"}',
                'title: {vi: "Bảng kiểm mẫu", en: "Sample"}',
            ),
        ),
        "t",
    )
    diff = diff_checklists(old, new)
    assert dict(diff.changed) == {"A1": ["critical"], "B1": ["critical"]}
    assert diff.sections_changed == [("A", ["item order"])]
    assert diff.scoring_changed == [("conditional_min", 80.0, 70.0)]
    assert diff.checklist_changed == ["title"]


# --------------------------------------------------------------------------------------------------
# choosing the version for an inspection
# --------------------------------------------------------------------------------------------------


def variant(base: Checklist, **changes: Any) -> Checklist:
    return dataclasses.replace(base, **changes)


def test_select_version_rules() -> None:
    base = parse_checklist(BASE, "t")
    v1 = variant(base, version=1, effective_from=dt.date(2021, 1, 1))
    v2 = variant(base, version=2, effective_from=dt.date(2026, 1, 1))
    v3_draft = variant(base, version=3, status="draft", effective_from=dt.date(2025, 6, 1))
    v4_future = variant(base, version=4, effective_from=dt.date(2030, 1, 1))
    pharmacy = variant(
        base, code="pharmacy", version=1, facility_types=("NT",), effective_from=dt.date(2021, 1, 1)
    )
    everything = [v1, v2, v3_draft, v4_future, pharmacy]
    # Latest effective published version wins; the draft is ignored even though newer and effective.
    assert select_version(everything, "TYT", dt.date(2025, 12, 31)) is v1
    assert select_version(everything, "TYT", dt.date(2026, 1, 1)) is v2
    # A future effective date is ignored until it arrives.
    assert select_version(everything, "TYT", dt.date(2029, 12, 31)) is v2
    assert select_version(everything, "TYT", dt.date(2030, 1, 1)) is v4_future
    # Other facility types: the pharmacy checklist; nobody covers NT before it is effective.
    assert select_version(everything, "NT", dt.date(2026, 1, 1)) is pharmacy
    assert select_version(everything, "NT", dt.date(2020, 12, 31)) is None
    assert select_version([v1, v2], "NT", dt.date(2026, 1, 1)) is None
    assert select_version([v3_draft], "TYT", dt.date(2026, 1, 1)) is None
    assert select_version([], "TYT", dt.date(2026, 1, 1)) is None
    # The effective date itself counts; the order of candidates does not.
    assert select_version(everything, "TYT", dt.date(2021, 1, 1)) is v1
    for seed in range(5):
        shuffled = everything[:]
        random.Random(seed).shuffle(shuffled)
        assert select_version(iter(shuffled), "TYT", dt.date(2026, 6, 1)) is v2


def test_select_version_highest_version_wins_within_a_checklist() -> None:
    base = parse_checklist(BASE, "t")
    # v2 became effective later than v3 (a fix published with an earlier date): v3 supersedes.
    v2 = variant(base, version=2, effective_from=dt.date(2025, 6, 1))
    v3 = variant(base, version=3, effective_from=dt.date(2025, 3, 1))
    assert select_version([v2, v3], "TYT", dt.date(2025, 7, 1)) is v3
    other = variant(base, code="aaa", version=1, effective_from=dt.date(2025, 3, 1))
    # Across checklists: the most recently effective one, then the alphabetically first code.
    assert select_version([v3, other], "TYT", dt.date(2025, 7, 1)) is other
    assert select_version([other, v3], "TYT", dt.date(2025, 7, 1)) is other


# --------------------------------------------------------------------------------------------------
# a folder of checklists
# --------------------------------------------------------------------------------------------------


def write(root: Path, folder: str, name: str, text: str) -> Path:
    path = root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_load_directory_valid(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    (tmp_path / "demo" / "notes.txt").write_text("not a checklist", encoding="utf-8")
    (tmp_path / "v1.yaml").write_text(
        "not: [a checklist", encoding="utf-8"
    )  # not in a folder: ignored
    checklists, found = load_directory(tmp_path)
    assert found == []
    assert [(c.code, c.version) for c in checklists] == [("demo", 1), ("demo", 2)]


def test_load_directory_cross_file_problems(tmp_path: Path) -> None:
    write(tmp_path, "demo", "v1.yaml", BASE)
    v2 = write(tmp_path, "demo", "v2.yaml", V2)
    stray = write(
        tmp_path, "copy", "v1.yaml", BASE
    )  # folder 'copy' but code demo: also duplicates demo v1
    moved = write(tmp_path, "other", "v2.yaml", mutate(("code: demo", "code: elsewhere"), text=V2))
    broken = write(
        tmp_path,
        "broken",
        "v1.yaml",
        mutate(("code: demo", "code: broken"), ("weight: 1.5", "weight: -1")),
    )
    misnamed = write(tmp_path, "demo", "v3.yaml", V2)
    checklists, found = load_directory(tmp_path)
    # Only demo v2 survives: files with problems, and both files of a duplicate, contribute nothing.
    assert [(c.code, c.version, c.source) for c in checklists] == [("demo", 2, str(v2))]
    by_file: dict[str, list[Problem]] = {}
    for problem in found:
        by_file.setdefault(problem.path, []).append(problem)
    assert_reported(
        by_file[str(stray)], line_of(BASE, "code: demo"), "folder 'copy'", "code is 'demo'"
    )
    assert_reported(
        by_file[str(stray)], line_of(BASE, "version: 1"), "'demo' version 1", "more than one file"
    )
    assert_reported(
        by_file[str(tmp_path / "demo" / "v1.yaml")],
        line_of(BASE, "version: 1"),
        "more than one file",
        str(stray),
    )
    assert_reported(
        by_file[str(moved)], line_of(V2, "code: demo"), "folder 'other'", "code is 'elsewhere'"
    )
    assert_reported(by_file[str(broken)], line_of(BASE, "weight: 1.5"), "section B: weight")
    assert_reported(by_file[str(misnamed)], line_of(V2, "version: 2"), "v3.yaml", "v2.yaml")
    # demo v2 and demo/v3.yaml (version 2) are not duplicates: the misnamed file is already refused.
    assert str(v2) not in by_file
    assert len(found) == 6


def test_load_directory_missing_root(tmp_path: Path) -> None:
    checklists, found = load_directory(tmp_path / "nowhere")
    assert checklists == []
    assert len(found) == 1
    assert "does not exist" in found[0].message


# --------------------------------------------------------------------------------------------------
# JSON Schema for editors
# --------------------------------------------------------------------------------------------------


def test_json_schema_is_valid_and_accepts_the_fixtures() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    for path in sorted(FIXTURES.glob("*/v*.yaml")):
        errors = list(SCHEMA_VALIDATOR.iter_errors(as_json_data(path.read_text(encoding="utf-8"))))
        assert errors == [], f"{path}: {[e.message for e in errors]}"


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_shipped_checklists_match_the_json_schema(path: Path) -> None:
    errors = list(SCHEMA_VALIDATOR.iter_errors(as_json_data(path.read_text(encoding="utf-8"))))
    assert errors == [], "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ([("        weight: 2\n", "        wieght: 2\n")], "wieght"),
        ([("status: published\n", "status: published\nauthor: me\n")], "author"),
        ([("applies_to: [BV]", "applies_to: [BVX]")], "BVX"),
        ([("allow_na: false\n", "allow_na: false\n        pass_min: 1\n")], "False schema"),
        (
            [("        answer: number\n", "        answer: number\n        critical: always\n")],
            "never",
        ),
        ([("schema: 1", "schema: 2")], "1 was expected"),
        ([("        weight: 2\n", "        weight: 0\n")], "0"),
    ],
)
def test_json_schema_rejects_broken_samples(changes: list[tuple[str, str]], fragment: str) -> None:
    errors = list(SCHEMA_VALIDATOR.iter_errors(as_json_data(mutate(*changes))))
    assert errors, "schema accepted a broken sample"
    assert any(
        fragment in e.message or any(fragment in c.message for c in e.context) for e in errors
    ), [e.message for e in errors]


# --------------------------------------------------------------------------------------------------
# fuzzing: never anything but a checklist or ChecklistError with lines
# --------------------------------------------------------------------------------------------------

BASE_TREE = yaml.safe_load(BASE)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.dates()
    | st.sampled_from(
        [
            "TYT",
            "NT",
            "BV",
            "DCTC",
            "QC",
            "XX",
            "scale",
            "number",
            "text",
            "yes_no_na",
            "always",
            "never",
            "pooled",
            "weighted_sections",
            "draft",
            "published",
            "A1",
            "B2",
            "A",
            "",
            " ",
            "vi",
            "en",
            "when_offers",
            "2025-01-01",
            "Đạt",
            "1e+16",
        ]
    )
    | st.sampled_from([0, 1, 2, -1, 0.5, 100, 101, 1e16])
)
KEYS = st.sampled_from(
    [
        "id",
        "text",
        "vi",
        "en",
        "weight",
        "wieght",
        "applies_to",
        "critical",
        "scale",
        "pass_min",
        "unit",
        "answer",
        "items",
        "title",
        "when_offers",
        "value",
        "label",
    ]
) | st.text(max_size=8)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)


def paths_of(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found.extend(paths_of(value, (*prefix, key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found.extend(paths_of(value, (*prefix, index)))
    return found


def apply_mutation(tree: Any, path: tuple[Any, ...], operation: str, value: Any, key: Any) -> Any:
    if not path:
        return value if operation == "replace" else tree
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if operation == "delete":
        del parent[last]
    elif operation == "replace":
        parent[last] = value
    elif isinstance(parent[last], dict):
        parent[last][key] = value
    elif isinstance(parent[last], list):
        parent[last].insert(0, value)
    else:
        parent[last] = value
    return tree


def outcome(load: Callable[[], Checklist]) -> tuple[Checklist | None, list[Problem]]:
    """Run ``load``: (checklist, []) or (None, problems); any other exception propagates."""
    try:
        return load(), []
    except ChecklistError as exc:
        return None, exc.problems


def assert_well_formed(found: list[Problem], source: str) -> None:
    """Refusals always carry problems, each with a line ≥ 1, the source and a message."""
    assert found
    for problem in found:
        assert isinstance(problem.line, int), problem
        assert problem.line >= 1, problem
        assert problem.path == source
        assert problem.message


def check_outcome(text: str, source: str = "fuzz.yaml") -> Checklist | None:
    """Load ``text``: either a checklist or a ChecklistError whose problems all have a line ≥ 1."""
    checklist, found = outcome(lambda: parse_checklist(text, source))
    if checklist is None:
        assert_well_formed(found, source)
        return None
    # A loaded checklist survives the trip through the database (canonical JSON) unchanged, and the
    # editors' JSON Schema never refuses what the loader accepts.
    again = parse_checklist(json.dumps(checklist.content, ensure_ascii=False), "database")
    assert again.sha256 == checklist.sha256
    assert again.content == checklist.content
    errors = [e.message for e in SCHEMA_VALIDATOR.iter_errors(checklist.content)]
    assert errors == []
    return checklist


@FUZZ
@given(data=st.data())
def test_fuzz_structural_mutations(data: st.DataObject) -> None:
    tree = json.loads(json.dumps(BASE_TREE, default=str))  # deep copy (dates become strings)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        path = data.draw(st.sampled_from(paths_of(tree)), label="path")
        operation = data.draw(st.sampled_from(["delete", "replace", "insert"]), label="operation")
        value = data.draw(VALUES, label="value")
        key = data.draw(KEYS, label="key")
        tree = apply_mutation(tree, path, operation, value, key)
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    check_outcome(text)


@FUZZ
@given(data=st.data())
def test_fuzz_text_mutations(data: st.DataObject) -> None:
    text = BASE
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        start = data.draw(st.integers(0, len(text)), label="start")
        end = data.draw(st.integers(start, min(len(text), start + 40)), label="end")
        insert = data.draw(
            st.text(max_size=10)
            | st.sampled_from(
                [
                    "\t",
                    "\n",
                    ":",
                    "- ",
                    "{",
                    "]",
                    "&a",
                    "*a",
                    "!!",
                    "<<: ",
                    '"',
                    "'",
                    "#",
                    "\x00",
                    "\ufeff",
                ]
            ),
            label="insert",
        )
        text = text[:start] + insert + text[end:]
    check_outcome(text)


@FUZZ
@given(text=st.text(max_size=300))
def test_fuzz_random_text(text: str) -> None:
    check_outcome(text)


@FUZZ
@given(blob=st.binary(max_size=300))
def test_fuzz_random_bytes_in_a_file(blob: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "v1.yaml"
        path.write_bytes(blob)
        checklist, found = outcome(lambda: load_checklist(path))
        if checklist is None:
            assert_well_formed(found, str(path))
    check_outcome(blob.decode("latin-1"))


def test_fuzz_helpers_do_mutate() -> None:
    # The fuzz tests only mean something if their mutations reach the loader.
    tree = json.loads(json.dumps(BASE_TREE, default=str))
    path = ("sections", 0, "items", 0, "weight")
    tree = apply_mutation(tree, ("sections", 0, "items", 0), "insert", -1, "weight")
    assert path in paths_of(tree)
    found = problems(yaml.safe_dump(tree, allow_unicode=True))
    assert any(re.search(r"item A1: weight must be a positive number", p.message) for p in found)
    assert os.path.exists(FIXTURES / "demo" / "v1.yaml")
