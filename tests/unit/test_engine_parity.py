"""The tablet's rules (static/js/qa-engine.js, run in Node) agree with the server's (qa_app/scoring.py).

Generated checklists, facility profiles and answers go through both engines; the applicable item sets, their hash,
every percentage, failure and classification must be identical. Hypothesis draws the cases; they are then sent
to ONE Node process as a batch (a process per case would be slow) and compared one by one.

Every CI run checks ``QA_PARITY_EXAMPLES`` cases (500 by default). A larger seeded run, e.g. before changing either
engine (see docs/offline.md):

    QA_PARITY_EXAMPLES=20000 .venv/bin/python -m pytest tests/unit/test_engine_parity.py -q \
        -p no:cacheprovider --hypothesis-seed=2026
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_app.checklists.schema import (
    FACILITY_TYPES,
    SERVICES,
    Checklist,
    FacilityProfile,
    Item,
    Option,
    ScaleLevel,
    ScoreGroup,
    ScoringRules,
    Section,
    Text,
    item_applies,
)
from qa_app.checklists.answers import AnswerError, normalize_answer
from qa_app.checklists.tablet import applicable_hash, checklist_json, profile_json
from qa_app.scoring import score_inspection

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "unit" / "engine_parity.js"
NODE = os.environ.get("QA_NODE") or shutil.which("node") or "/usr/bin/node"
EXAMPLES = int(os.environ.get("QA_PARITY_EXAMPLES", "500"))

# Decimals that binary floats cannot hold exactly (0.1, 0.3, 0.7) next to ones they can.
WEIGHTS = (1, 2, 3, 0.5, 1.5, 0.25, 0.1, 0.2, 0.3, 0.7)
THRESHOLDS = (100, 95, 90, 87.5, 85.25, 80, 75, 66.67, 50)
FLOORS = (0, 30, 50, 60.5, 75)
# Option scores, None meaning "left out of the score" (like N/A).
OPTION_SCORES = (None, 0, 1, 2, 0.5, 1.5, 3, 0.1)
OPTION_VALUES = ("full", "partial", "none", "no_room")


def _node_or_skip() -> str:
    if Path(NODE).exists() or shutil.which(NODE):
        return NODE
    if os.environ.get("CI"):
        pytest.fail(f"Node not found at {NODE}: the parity test needs it")
    pytest.skip(f"Node not found at {NODE}")


def subset(values: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=3).map(tuple)


@st.composite
def items(draw: st.DrawFn, item_id: str, informational_section: bool = False) -> Item:
    answer_type = draw(st.sampled_from(("yes_no_na", "yes_no_na", "scale", "options", "number", "text")))
    scale: tuple[ScaleLevel, ...] = ()
    options: tuple[Option, ...] = ()
    pass_min = finding_below = None
    if answer_type == "scale":
        levels = draw(st.lists(st.integers(0, 4), unique=True, min_size=1, max_size=4))
        scale = tuple(ScaleLevel(v, Text(str(v))) for v in sorted(levels))
        pass_min = draw(st.none() | st.sampled_from(sorted(levels)))
        finding_below = draw(st.none() | st.sampled_from(sorted(levels)))
    if answer_type == "options":
        values = draw(st.lists(st.sampled_from(OPTION_VALUES), unique=True, min_size=1, max_size=4))
        options = tuple(Option(v, Text(v), draw(st.sampled_from(OPTION_SCORES))) for v in values)
        finding_below = draw(st.none() | st.sampled_from((0, 0.5, 1, 2)))
    scored_type = answer_type in ("yes_no_na", "scale", "options")
    # As the loader builds them: an informational section makes every item informational, which is never critical.
    informational = informational_section or draw(st.integers(0, 7)) == 0
    critical = "never" if informational else draw(st.sampled_from(("never", "never", "always", "when_offers")))
    return Item(
        id=item_id, section_id=item_id[0], text=Text(item_id), guidance=Text(""), verification=("QS",),
        answer_type=answer_type, weight=draw(st.sampled_from(WEIGHTS)),
        applies_to=draw(st.one_of(st.just(()), subset(FACILITY_TYPES))),
        applies_if_offers=draw(st.one_of(st.just(()), subset(SERVICES))),
        critical=critical,
        critical_when_offers=draw(subset(SERVICES).filter(bool)) if critical == "when_offers" else (),
        allow_na=draw(st.booleans()), allow_not_observed=scored_type and draw(st.booleans()),
        scale=scale, pass_min=pass_min, finding_below=finding_below, informational=informational, options=options,
        integer=answer_type == "number" and draw(st.booleans()),
        min=draw(st.sampled_from((None, 0, 1, -2.5))) if answer_type == "number" else None,
        max=draw(st.sampled_from((None, 10, 500, 7.5))) if answer_type == "number" else None,
        max_length=draw(st.sampled_from((None, 3, 10))) if answer_type == "text" else None,
    )


@st.composite
def groups_for(draw: st.DrawFn, section_ids: list[str]) -> tuple[ScoreGroup, ...]:
    """Consecutive runs of sections, each a group with its own aggregation, thresholds and applicability."""
    cuts = sorted(draw(st.lists(st.integers(1, len(section_ids) - 1), unique=True, max_size=3))
                  if len(section_ids) > 1 else [])
    bounds = [0, *cuts, len(section_ids)]
    groups = []
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        meets, conditional = sorted(draw(st.lists(st.sampled_from(THRESHOLDS), min_size=2, max_size=2)),
                                    reverse=True)
        groups.append(ScoreGroup(
            id=f"g{index}", title=Text(f"g{index}"), sections=tuple(section_ids[start:end]),
            aggregation=draw(st.sampled_from(("pooled", "weighted_sections", "mean_of_sections"))),
            meets_min=meets, conditional_min=conditional, section_min=draw(st.sampled_from(FLOORS)),
            floor=draw(st.sampled_from(FLOORS)), weight=draw(st.sampled_from(WEIGHTS)),
            applies_to=draw(st.one_of(st.just(()), st.just(()), subset(FACILITY_TYPES)))))
    return tuple(groups)


@st.composite
def checklists(draw: st.DrawFn) -> Checklist:
    sections = []
    for letter in "ABCD"[: draw(st.integers(1, 4))]:
        informational = draw(st.integers(0, 5)) == 0
        owned = tuple(draw(items(f"{letter}{n}", informational)) for n in range(1, draw(st.integers(1, 6)) + 1))
        sections.append(Section(letter, Text(letter), draw(st.sampled_from(WEIGHTS)), owned,
                                draw(st.one_of(st.just(()), st.just(()), subset(FACILITY_TYPES))),
                                applies_if_offers=draw(st.one_of(st.just(()), st.just(()), subset(SERVICES))),
                                informational=informational))
    meets, conditional = sorted(draw(st.lists(st.sampled_from(THRESHOLDS), min_size=2, max_size=2)), reverse=True)
    rules = ScoringRules(meets_min=meets, conditional_min=conditional, section_min=draw(st.sampled_from(FLOORS)),
                         overall=draw(st.sampled_from(("pooled", "weighted_sections"))),
                         groups_rule=draw(st.sampled_from(("all_groups_meet", "weighted_groups"))))
    groups: tuple[ScoreGroup, ...] = ()
    if draw(st.booleans()):
        groups = draw(groups_for([s.id for s in sections]))
        # As the loader does: each section knows its group and the group's facility types.
        owner = {sid: g for g in groups for sid in g.sections}
        sections = [dataclasses.replace(s, group_id=owner[s.id].id, group_applies_to=owner[s.id].applies_to)
                    for s in sections]
    return Checklist(code="parity", version=1, status="published", title=Text("Parity"),
                     effective_from=dt.date(2025, 1, 1), legal_basis=(), facility_types=FACILITY_TYPES,
                     scoring=rules, sections=tuple(sections), sha256="0" * 64, groups=groups)


def answer_for(item: Item) -> st.SearchStrategy[Any]:
    """A raw answer the form or the API could send for ``item`` (or none); some are refused by both engines."""
    blank = st.sampled_from([None, "", "  "])
    na = [st.sampled_from(["na", "NA", " na "])] if item.allow_na else []
    # "not observed" where it is allowed, and now and then where it is not (both engines refuse it).
    unobserved = st.sampled_from(["not_observed", " Not_Observed "])
    if item.answer_type == "yes_no_na":
        given_ = st.sampled_from(["met", "not_met", "met", "MET "])
    elif item.answer_type == "scale":
        levels = [level.value for level in item.scale]
        given_ = st.sampled_from(levels) | st.sampled_from([str(v) for v in levels])
    elif item.answer_type == "options":
        values = [o.value for o in item.options]
        given_ = st.sampled_from(values) | st.sampled_from([f" {v} " for v in values]) | st.just("other")
    elif item.answer_type == "number":
        given_ = st.integers(-5, 600) | st.sampled_from(["3", "2.5", " 7 ", "1e2", 2.5, "-3", "8"])
    else:
        given_ = st.sampled_from(["ok", "na", "Đủ thuốc", "0", "  much too long for a short box  "])
    choices = [blank, given_, given_, *na]
    if item.allow_not_observed:
        choices += [unobserved, unobserved]
    elif item.answer_type != "text":
        choices.append(st.just("not_observed"))  # refused by both engines
    return st.one_of(*choices)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Checklist, FacilityProfile, dict[str, Any]]:
    checklist = draw(checklists())
    profile = FacilityProfile(draw(st.sampled_from(FACILITY_TYPES)), frozenset(draw(subset(SERVICES))))
    answers = {}
    for item in checklist.items:
        # Answers for items that do not apply are kept, and ignored, by both engines.
        if draw(st.integers(0, 9)) < 8:
            answers[item.id] = draw(answer_for(item))
    return checklist, profile, answers


def python_result(checklist: Checklist, profile: FacilityProfile, answers: dict[str, Any]) -> dict[str, Any]:
    # The server refuses an invalid answer to an applicable item (AnswerError); the tablet keeps it unanswered and
    # lists it as invalid. Score what is left and compare the lists.
    invalid = []
    for section in checklist.sections:
        for item in section.items:
            if item.id in answers and item_applies(item, section, profile)[0]:
                try:
                    normalize_answer(item, answers[item.id])
                except AnswerError:
                    invalid.append(item.id)
    score = score_inspection(checklist, profile, {k: v for k, v in answers.items() if k not in invalid})
    return {
        "applicable": [i for i, r in score.items.items() if r.applicable],
        "applicable_hash": applicable_hash(checklist, profile),
        "overall_percent": score.overall_percent,
        "classification": score.classification,
        "provisional_classification": score.provisional_classification,
        "critical_failures": list(score.critical_failures),
        "failed_items": list(score.failed_items),
        "unanswered": list(score.unanswered),
        "answered_count": score.answered_count,
        "invalid": invalid,
        "not_observed": list(score.not_observed),
        "groups": [[g.group_id, g.applicable, g.percent, g.classification] for g in score.groups],
        "sections": [[s.section_id, s.percent, s.applicable, s.answered] for s in score.sections],
        "critical": sorted(i for i, r in score.items.items() if r.critical),
        # What the forms show: the `pct` filter's text in both languages.
        "shown": [_pct(p, lang) for p in [score.overall_percent, *(s.percent for s in score.sections)]
                  for lang in ("vi", "en")],
    }


def _pct(value: float | None, lang: str) -> str:
    from babel.numbers import format_percent

    return "—" if value is None else format_percent(float(value) / 100, format="#,##0.0%", locale=lang)


def run_node(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = subprocess.run([_node_or_skip(), str(RUNNER)], input=json.dumps(batch).encode("utf-8"),
                          capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return json.loads(done.stdout)


def compare(generated: list[tuple[Checklist, FacilityProfile, dict[str, Any]]]) -> None:
    batch = [{"checklist": checklist_json(c), "profile": profile_json(p), "answers": a} for c, p, a in generated]
    results = run_node(batch)
    assert len(results) == len(generated)
    for (checklist, profile, answers), case, js in zip(generated, batch, results, strict=True):
        py = python_result(checklist, profile, answers)
        if py != js:
            diff = {k: (py[k], js.get(k)) for k in py if py[k] != js.get(k)}
            raise AssertionError(f"the engines disagree on {diff} (python, js) for the case "
                                 f"{json.dumps(case, ensure_ascii=False)}")


def test_tablet_engine_agrees_with_the_server_on_generated_cases() -> None:
    _node_or_skip()
    generated: list[tuple[Checklist, FacilityProfile, dict[str, Any]]] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(cases())
    def collect(case: tuple[Checklist, FacilityProfile, dict[str, Any]]) -> None:
        generated.append(case)

    collect()
    assert len(generated) >= min(EXAMPLES, 500)
    compare(generated)


def _best(item: Item) -> str:
    """The full-marks answer of an item of a shipped checklist."""
    if item.answer_type == "yes_no_na":
        return "met"
    if item.answer_type == "scale":
        return str(item.scale_max)
    if item.answer_type == "options":
        return max((o for o in item.options if o.score is not None), key=lambda o: o.score).value
    return "1"


def _worst_answer(item: Item) -> str:
    if item.answer_type == "yes_no_na":
        return "not_met"
    if item.answer_type == "scale":
        return str(item.scale_min)
    return min((o for o in item.options if o.score is not None), key=lambda o: o.score).value


def test_tablet_engine_agrees_on_the_shipped_checklists() -> None:
    """Every checklist file, for every facility type and a few service mixes: all met, one failure each, and each
    item that allows it answered "not observed" (alone and next to a failure)."""
    from qa_app.checklists.loader import load_checklist

    generated = []
    files = sorted((ROOT / "checklists").glob("*/*.yaml"))
    assert files
    for path in files:
        checklist = load_checklist(path)
        for facility_type in checklist.facility_types:
            for services in (frozenset(), frozenset(SERVICES), frozenset({"VU", "BCS"}), frozenset({"QC", "TT"})):
                profile = FacilityProfile(facility_type, services)
                met = {i.id: _best(i) for i in checklist.items}
                generated.append((checklist, profile, met))
                sample = checklist.items[:: max(1, len(checklist.items) // 12)]
                for item in sample:
                    if item.scored:
                        generated.append((checklist, profile, {**met, item.id: _worst_answer(item)}))
                for item in checklist.items:
                    if item.allow_not_observed:
                        generated.append((checklist, profile, {**met, item.id: "not_observed"}))
                        failing = next(i for i in sample if i.scored)
                        generated.append((checklist, profile, {**met, item.id: "not_observed",
                                                               failing.id: _worst_answer(failing)}))
    compare(generated)


SHIPPED = ("fp-quality/v1.yaml", "fp-quality/v2.yaml", "fp-campaign/v1.yaml")


def test_the_applicable_set_hash_agrees_for_every_type_and_service_profile() -> None:
    """The hash the tablet compares with the server before a sync, for the shipped checklists: every facility type
    (also those a checklist does not cover) with every combination of services."""
    from qa_app.checklists.loader import load_checklist

    checklists_ = [load_checklist(ROOT / "checklists" / name) for name in SHIPPED]
    profiles = [FacilityProfile(t, frozenset(services)) for t in FACILITY_TYPES
                for n in range(len(SERVICES) + 1) for services in itertools.combinations(SERVICES, n)]
    done = subprocess.run([_node_or_skip(), str(RUNNER)], capture_output=True, timeout=600, check=False,
                          input=json.dumps({"checklists": [checklist_json(c) for c in checklists_],
                                            "profiles": [profile_json(p) for p in profiles]}).encode("utf-8"))
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    hashes = json.loads(done.stdout)
    distinct = set()
    for checklist, js in zip(checklists_, hashes, strict=True):
        py = [applicable_hash(checklist, p) for p in profiles]
        wrong = [(p.type, sorted(p.services)) for p, a, b in zip(profiles, py, js, strict=True) if a != b]
        assert not wrong, f"{checklist.code} v{checklist.version}: the hashes differ for {wrong[:5]}"
        distinct |= set(py)
    # Not a vacuous check: the profiles give many different applicable sets (fp-quality varies with type and
    # services; the campaign checklist is the same for every commune station).
    assert len(distinct) > 20


def test_the_hash_of_the_applicable_set_is_sha256_in_both() -> None:
    # Plain known vectors: the tablet's hand-written SHA-256 must equal hashlib's on non-ASCII text too.
    import hashlib

    texts = ["", "abc", "A1\nA2\nC3", "Tiêu chí ★ " * 40]
    script = ("const e=require(process.argv[1]);process.stdout.write(JSON.stringify("
              + json.dumps(texts) + ".map(t=>e.sha256(t))))")
    done = subprocess.run([_node_or_skip(), "-e", script, str(ROOT / "static" / "js" / "qa-engine.js")],
                          capture_output=True, timeout=60, check=True)
    assert json.loads(done.stdout) == [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]


def test_every_refusal_of_a_typed_answer_has_words() -> None:
    """QAForm.typedProblem (the forms' check of a typed answer) names every refusal QAEngine.normalize can make;
    an empty message would let the form send a value the server refuses, and the supervisor lose the text."""
    script = r"""
    const vm = require("vm"), fs = require("fs"), path = require("path");
    const js = (name) => fs.readFileSync(path.join(process.argv[1], "static", "js", name), "utf8");
    const ctx = {}; ctx.window = ctx; ctx.self = ctx; vm.createContext(ctx);
    vm.runInContext(js("qa-engine.js"), ctx); vm.runInContext(js("qa-form.js"), ctx);
    const T = {value_integer: "I {item}", value_number: "N {item}", value_min: "min {min}", value_max: "max {max}",
               value_too_long: "long {n}", value_refused: "R {item}"};
    const cases = [
      [{id: "A1", answer_type: "text", max_length: 5}, "ab\u0007c"],
      [{id: "A2", answer_type: "text", max_length: 5}, "abcdefgh"],
      [{id: "A3", answer_type: "number", integer: true}, "2.5"],
      [{id: "A4", answer_type: "number", min: 1, max: 9}, "0"],
      [{id: "A5", answer_type: "number", min: 1, max: 9}, "10"],
      [{id: "A6", answer_type: "number"}, "abc"],
      [{id: "A7", answer_type: "number"}, "1e400"],
      [{id: "A8", answer_type: "select_one", options: [{value: "full", score: 1}]}, "none"],
    ];
    process.stdout.write(JSON.stringify(cases.map(([item, raw]) => ctx.QAForm.typedProblem(item, raw, T, "vi"))));
    """
    done = subprocess.run([_node_or_skip(), "-e", script, str(ROOT)], capture_output=True, check=True)
    messages = json.loads(done.stdout)
    assert all(messages), messages
    assert messages[0] == "R A1" and messages[2] == "I A3"
