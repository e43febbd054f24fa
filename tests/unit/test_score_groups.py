"""Score groups: parts of a checklist with their own aggregation and thresholds, combined by a rule the file states.

Checklists are written in the file format (parse_checklist), so the loader, the schema and the engine are
tested together the way an editor would use them.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_app.checklists.loader import ChecklistError, parse_checklist
from qa_app.checklists.schema import FacilityProfile
from qa_app.scoring import CLASSIFICATION_RANK, score_inspection

PROPERTY = settings(max_examples=200, deadline=None, database=None)
TYT = FacilityProfile("TYT")

HEAD = """\
schema: 1
code: grouped
version: 1
status: published
title: {vi: "Bảng kiểm có nhóm"}
effective_from: 2025-01-01
facility_types: [TYT, PK]
scoring: {overall: pooled, meets_min: 90, conditional_min: 80, section_min: 50, validity_months: 24,
          corrective_days: 30%(rule)s}
"""


def section(sid: str, count: int, weights: tuple[float, ...] | None = None, extra: str = "") -> str:
    lines = [f"  - id: {sid}", f"    title: {{vi: \"Phần {sid}\"}}", "    weight: 2" if sid.endswith("2") else
             "    weight: 1", "    items:"]
    for n in range(1, count + 1):
        weight = f", weight: {weights[n - 1]}" if weights else ""
        lines.append(f"      - {{id: {sid}-{n}, text: {{vi: \"Tiêu chí {sid}-{n}\"}}{weight}{extra}}}")
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=64)
def checklist(groups: str, sections: str, rule: str = ""):
    text = HEAD % {"rule": f", groups_rule: {rule}" if rule else ""} + "sections:\n" + sections + groups
    return parse_checklist(text, "grouped.yaml")


# A readiness part (mean of its two section means, threshold 75) AND a clinical part (pooled, 80, no partial pass).
AND_GROUPS = """\
groups:
  - id: readiness
    title: {vi: "Sẵn sàng", en: "Readiness"}
    sections: [R1, R2]
    aggregation: mean_of_sections
    meets_min: 75
    conditional_min: 75
  - id: clinical
    title: {vi: "Thực hành lâm sàng", en: "Clinical practice"}
    sections: [C]
    meets_min: 80
    conditional_min: 80
"""
AND_SECTIONS = section("R1", 4) + section("R2", 4) + section("C", 5)


def answers(**met: int) -> dict[str, str]:
    """Answers with the first N items of each section met and the rest not met."""
    sizes = {"R1": 4, "R2": 4, "C": 5}
    return {f"{sid}-{n}": "met" if n <= met.get(sid, sizes[sid]) else "not_met"
            for sid, size in sizes.items() for n in range(1, size + 1)}


def test_and_of_two_groups_with_different_thresholds() -> None:
    cl = checklist(AND_GROUPS, AND_SECTIONS)
    # Both exactly at their thresholds: readiness (75 + 75) / 2 = 75, clinical 4/5 = 80.
    score = score_inspection(cl, TYT, answers(R1=3, R2=3, C=4))
    assert [(g.group_id, g.percent, g.classification) for g in score.groups] == [
        ("readiness", 75.0, "meets"), ("clinical", 80.0, "meets")]
    assert score.classification == "meets"
    # Clinical perfect, readiness just under (75 and 50 → 62.5): the blended pooled total (11/13 = 84.6%) would
    # pass at 80%, the AND of the parts does not.
    score = score_inspection(cl, TYT, answers(R1=3, R2=2, C=5))
    assert score.groups[1].classification == "meets"
    assert score.groups[0].classification == "does_not_meet"
    assert score.classification == "does_not_meet"
    # Readiness perfect, clinical just under (3/5 = 60).
    assert score_inspection(cl, TYT, answers(C=3)).classification == "does_not_meet"


def test_mean_of_section_means_drops_empty_sections() -> None:
    cl = checklist(AND_GROUPS, AND_SECTIONS)
    given_answers = answers(R1=2, C=5)
    # R2 entirely N/A: its section has no percentage and drops out, so readiness is R1's 50%, not (50 + 0) / 2.
    given_answers.update({f"R2-{n}": "na" for n in range(1, 5)})
    score = score_inspection(cl, TYT, given_answers)
    assert score.groups[0].percent_exact == 50
    # A mean of means, not a pooled ratio: R1 1/4 = 25%, R2 4/4 = 100% → 62.5 (pooled would be 5/8 = 62.5 too,
    # so use unequal sizes through N/A): R1 1 of 2 answered = 50, R2 4/4 = 100 → 75 (pooled 5/6 = 83.3).
    mixed = answers(R1=1)
    mixed.update({"R1-3": "na", "R1-4": "na"})
    assert score_inspection(cl, TYT, mixed).groups[0].percent_exact == 75


def test_boundaries_are_exact_fractions() -> None:
    # Weights 0.1 + 0.7 of 1.0 are 0.7999999999999999 in floating point; the group must still meet at 80.
    groups = """\
groups:
  - id: only
    title: {vi: "Toàn bộ"}
    sections: [W]
    meets_min: 80
    conditional_min: 70
"""
    cl = checklist(groups, section("W", 3, (0.1, 0.7, 0.2)))
    score = score_inspection(cl, TYT, {"W-1": "met", "W-2": "met", "W-3": "not_met"})
    assert score.groups[0].percent_exact == 80 and score.groups[0].classification == "meets"
    assert score.classification == "meets"


WEIGHTED_GROUPS = """\
groups:
  - id: readiness
    title: {vi: "Sẵn sàng"}
    sections: [R1, R2]
    aggregation: weighted_sections
    meets_min: 90
    conditional_min: 80
    floor: 60
    weight: 1
  - id: clinical
    title: {vi: "Lâm sàng"}
    sections: [C]
    meets_min: 90
    conditional_min: 80
    floor: 80
    weight: 3
"""


def test_weighted_overall_with_every_group_at_its_floor() -> None:
    cl = checklist(WEIGHTED_GROUPS, AND_SECTIONS, rule="weighted_groups")
    # Readiness: R1 50% (weight 1), R2 100% (weight 2) → 250/3 %; clinical 100% weighted 3 → overall 95.83.
    score = score_inspection(cl, TYT, answers(R1=2))
    assert score.groups[0].percent_exact * 3 == 250
    assert score.classification == "meets"
    # Clinical at 60% is below its floor of 80: fails whatever the weighted overall.
    score = score_inspection(cl, TYT, answers(C=3))
    assert score.groups[1].at_floor is False
    assert score.classification == "does_not_meet"


def test_a_group_that_does_not_apply_is_left_out() -> None:
    groups = AND_GROUPS.replace("    sections: [C]\n", "    sections: [C]\n    applies_to: [PK]\n")
    cl = checklist(groups, AND_SECTIONS)
    score = score_inspection(cl, TYT, {k: v for k, v in answers(C=0).items() if not k.startswith("C")})
    assert score.groups[1].applicable is False and score.complete
    assert score.classification == "meets"
    assert score_inspection(cl, FacilityProfile("PK"), answers(C=0)).classification == "does_not_meet"


@pytest.mark.parametrize("groups, message", [
    (AND_GROUPS.replace("[C]", "[C, X]"), "group clinical: unknown section 'X'"),
    (AND_GROUPS.replace("[C]", "[C, R1]"), "section R1 already belongs to group readiness"),
    (AND_GROUPS.replace("sections: [C]", "sections: [R2]").replace("[R1, R2]", "[R1]"),
     "every section must belong to a group; not in any group: C"),
    (AND_GROUPS.replace("mean_of_sections", "median"), "aggregation must be one of pooled, weighted_sections"),
    (AND_GROUPS.replace("meets_min: 80", "meets_min: 70"), "conditional_min (80) must not be above meets_min (70)"),
])
def test_group_mistakes_are_reported(groups: str, message: str) -> None:
    with pytest.raises(ChecklistError) as err:
        checklist(groups, AND_SECTIONS)
    assert message in str(err.value)


def test_groups_rule_needs_groups() -> None:
    with pytest.raises(ChecklistError) as err:
        checklist("", AND_SECTIONS, rule="weighted_groups")
    assert "scoring.groups_rule needs 'groups'" in str(err.value)


# ---------------------------------------------------------------------------------------------- properties

SCALE_SECTIONS = (section("R1", 4) + section("R2", 4)
                  + "  - id: C\n    title: {vi: \"Phần C\"}\n    items:\n"
                  + "".join(f"      - {{id: C-{n}, text: {{vi: \"Bước {n}\"}}, answer: scale, scale: "
                            f"[{{value: 0, label: {{vi: \"0\"}}}}, {{value: 1, label: {{vi: \"1\"}}}}, "
                            f"{{value: 2, label: {{vi: \"2\"}}}}]{', critical: always' if n == 1 else ''}}}\n"
                            for n in range(1, 6)))
RULES = {"all": "", "weighted": "weighted_groups"}
YES_NO = st.sampled_from(["met", "not_met", "na"])


@st.composite
def grouped_answers(draw):
    values = {f"{sid}-{n}": draw(YES_NO) for sid in ("R1", "R2") for n in range(1, 5)}
    values.update({f"C-{n}": draw(st.sampled_from([0, 1, 2, "na"])) for n in range(1, 6)})
    return values


def _raised(value):
    return {"not_met": "met", 0: 1, 1: 2}.get(value)


@PROPERTY
@given(grouped_answers(), st.sampled_from(sorted(RULES)), st.data())
def test_raising_an_answer_never_lowers_a_group(values, rule, data) -> None:
    groups = WEIGHTED_GROUPS if rule == "weighted" else AND_GROUPS.replace("mean_of_sections", "pooled")
    cl = checklist(groups, SCALE_SECTIONS, RULES[rule])
    raisable = sorted(k for k, v in values.items() if _raised(v) is not None)
    if not raisable:
        return
    key = data.draw(st.sampled_from(raisable))
    before = score_inspection(cl, TYT, values)
    after = score_inspection(cl, TYT, {**values, key: _raised(values[key])})
    for old, new in zip(before.groups, after.groups, strict=True):
        # A raised answer is a scored answer, so a group with nothing scorable before has a percentage after.
        if old.percent_exact is None:
            continue
        assert new.percent_exact >= old.percent_exact
        assert CLASSIFICATION_RANK[new.classification] >= CLASSIFICATION_RANK[old.classification]
    if before.classification is not None:
        assert CLASSIFICATION_RANK[after.classification] >= CLASSIFICATION_RANK[before.classification]


@PROPERTY
@given(grouped_answers(), st.sampled_from(["pooled", "weighted_sections", "mean_of_sections"]),
       st.sampled_from(sorted(RULES)))
def test_removing_an_empty_section_changes_nothing(values, aggregation, rule) -> None:
    base_groups = (WEIGHTED_GROUPS if rule == "weighted" else AND_GROUPS).replace(
        "mean_of_sections", aggregation).replace("weighted_sections", aggregation)
    without = checklist(base_groups, SCALE_SECTIONS, RULES[rule])
    # The same checklist with a section E in the readiness group whose items are all answered N/A.
    with_empty = checklist(base_groups.replace("[R1, R2]", "[R1, R2, E]"), SCALE_SECTIONS + section("E", 3),
                           RULES[rule])
    empty = {f"E-{n}": "na" for n in range(1, 4)}
    a, b = score_inspection(without, TYT, values), score_inspection(with_empty, TYT, {**values, **empty})
    assert [(g.percent_exact, g.classification) for g in a.groups] == \
        [(g.percent_exact, g.classification) for g in b.groups]
    assert (a.overall_exact, a.classification) == (b.overall_exact, b.classification)


# ---------------------------------------------------------------------------------------------- not observed

OBSERVED_SECTIONS = (section("R1", 4) + section("R2", 4)
                     + section("C", 5, extra=", allow_not_observed: true"))


def test_not_observed_is_distinct_from_na_and_makes_the_group_not_assessable() -> None:
    cl = checklist(AND_GROUPS, OBSERVED_SECTIONS)
    values = {**answers(), "C-1": "not_observed", "C-2": "not_observed"}
    score = score_inspection(cl, TYT, values)
    assert score.items["C-1"].excluded_reason == "not_observed"
    assert score.not_observed == ("C-1", "C-2")
    assert [g.classification for g in score.groups] == ["meets", "not_assessable"]
    assert score.complete and score.classification == "not_assessable" and score.revisit_needed
    # N/A for the same items leaves a clinical part of 3/3 that meets.
    assert score_inspection(cl, TYT, {**answers(), "C-1": "na", "C-2": "na"}).classification == "meets"
    # Every step unobserved: nothing scorable in the group, still a final "not assessable", not "incomplete".
    nothing = score_inspection(cl, TYT, {**answers(), **{f"C-{n}": "not_observed" for n in range(1, 6)}})
    assert nothing.groups[1].percent is None and nothing.classification == "not_assessable"
    # What was observed already fails: the result is a failure, not a re-visit.
    failing = score_inspection(cl, TYT, {**answers(R1=0), "C-1": "not_observed"})
    assert failing.classification == "does_not_meet" and not failing.revisit_needed


def test_not_observed_only_where_the_file_allows_it() -> None:
    from qa_app.checklists.answers import AnswerError, normalize_answer

    cl = checklist(AND_GROUPS, OBSERVED_SECTIONS)
    assert normalize_answer(cl.item("C-1"), " Not_Observed ") == "not_observed"
    with pytest.raises(AnswerError) as err:
        normalize_answer(cl.item("R1-1"), "not_observed")
    assert err.value.code == "not_observed_not_allowed"
    with pytest.raises(ChecklistError) as problem:
        parse_checklist((HEAD % {"rule": ""}) + "sections:\n" + section("N", 1, extra=", answer: number, "
                                                                           "allow_not_observed: true"), "x.yaml")
    assert "allow_not_observed is for scored items" in str(problem.value)


def test_without_groups_a_not_observed_answer_makes_the_inspection_not_assessable() -> None:
    cl = checklist("", OBSERVED_SECTIONS)
    score = score_inspection(cl, TYT, {**answers(), "C-3": "not_observed"})
    assert score.groups == () and score.classification == "not_assessable"


@PROPERTY
@given(grouped_answers(), st.sampled_from(sorted(RULES) + ["none"]), st.data())
def test_a_not_observed_answer_never_yields_meets(values, rule, data) -> None:
    observed = SCALE_SECTIONS.replace("answer: scale,", "answer: scale, allow_not_observed: true,")
    groups = {"weighted": WEIGHTED_GROUPS, "all": AND_GROUPS, "none": ""}[rule]
    cl = checklist(groups, observed, RULES.get(rule, ""))
    key = data.draw(st.sampled_from([f"C-{n}" for n in range(1, 6)]))
    score = score_inspection(cl, TYT, {**values, key: "not_observed"})
    assert score.classification != "meets"
    # Nor does the group holding the unobserved step.
    for group, result in zip(cl.groups, score.groups, strict=True):
        if "C" in group.sections:
            assert result.classification != "meets"
