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

import datetime as dt
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
    ScaleLevel,
    ScoringRules,
    Section,
    Text,
)
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


def _node_or_skip() -> str:
    if Path(NODE).exists() or shutil.which(NODE):
        return NODE
    if os.environ.get("CI"):
        pytest.fail(f"Node not found at {NODE}: the parity test needs it")
    pytest.skip(f"Node not found at {NODE}")


def subset(values: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=3).map(tuple)


@st.composite
def items(draw: st.DrawFn, item_id: str) -> Item:
    answer_type = draw(st.sampled_from(("yes_no_na", "yes_no_na", "scale", "number", "text")))
    scale: tuple[ScaleLevel, ...] = ()
    pass_min = None
    if answer_type == "scale":
        levels = draw(st.lists(st.integers(0, 4), unique=True, min_size=1, max_size=4))
        scale = tuple(ScaleLevel(v, Text(str(v))) for v in sorted(levels))
        pass_min = draw(st.none() | st.sampled_from(sorted(levels)))
    critical = draw(st.sampled_from(("never", "never", "always", "when_offers")))
    return Item(
        id=item_id, section_id=item_id[0], text=Text(item_id), guidance=Text(""), verification=("QS",),
        answer_type=answer_type, weight=draw(st.sampled_from(WEIGHTS)),
        applies_to=draw(st.one_of(st.just(()), subset(FACILITY_TYPES))),
        applies_if_offers=draw(st.one_of(st.just(()), subset(SERVICES))),
        critical=critical,
        critical_when_offers=draw(subset(SERVICES).filter(bool)) if critical == "when_offers" else (),
        allow_na=draw(st.booleans()), scale=scale, pass_min=pass_min,
    )


@st.composite
def checklists(draw: st.DrawFn) -> Checklist:
    sections = []
    for letter in "ABCD"[: draw(st.integers(1, 4))]:
        owned = tuple(draw(items(f"{letter}{n}")) for n in range(1, draw(st.integers(1, 6)) + 1))
        sections.append(Section(letter, Text(letter), draw(st.sampled_from(WEIGHTS)), owned,
                                draw(st.one_of(st.just(()), st.just(()), subset(FACILITY_TYPES)))))
    meets, conditional = sorted(draw(st.lists(st.sampled_from(THRESHOLDS), min_size=2, max_size=2)), reverse=True)
    rules = ScoringRules(meets_min=meets, conditional_min=conditional, section_min=draw(st.sampled_from(FLOORS)),
                         overall=draw(st.sampled_from(("pooled", "weighted_sections"))))
    return Checklist(code="parity", version=1, status="published", title=Text("Parity"),
                     effective_from=dt.date(2025, 1, 1), legal_basis=(), facility_types=FACILITY_TYPES,
                     scoring=rules, sections=tuple(sections), sha256="0" * 64)


def answer_for(item: Item) -> st.SearchStrategy[Any]:
    """A raw answer the form or the API could send for ``item`` (or none)."""
    blank = st.sampled_from([None, "", "  "])
    na = [st.sampled_from(["na", "NA", " na "])] if item.allow_na else []
    if item.answer_type == "yes_no_na":
        given_ = st.sampled_from(["met", "not_met", "met", "MET "])
    elif item.answer_type == "scale":
        levels = [level.value for level in item.scale]
        given_ = st.sampled_from(levels) | st.sampled_from([str(v) for v in levels])
    elif item.answer_type == "number":
        given_ = st.integers(-5, 500) | st.sampled_from(["3", "2.5", " 7 ", "1e2"])
    else:
        given_ = st.sampled_from(["ok", "na", "Đủ thuốc", "0"])
    return st.one_of(blank, given_, *na)


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
    score = score_inspection(checklist, profile, answers)
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


def test_tablet_engine_agrees_on_the_shipped_checklists() -> None:
    """Every checklist file, for every facility type and a few service mixes, all met then one failure each."""
    from qa_app.checklists.loader import load_checklist

    generated = []
    files = sorted((ROOT / "checklists").glob("*/*.yaml"))
    assert files
    for path in files:
        checklist = load_checklist(path)
        for facility_type in checklist.facility_types:
            for services in (frozenset(), frozenset(SERVICES), frozenset({"VU", "BCS"}), frozenset({"QC", "TT"})):
                profile = FacilityProfile(facility_type, services)
                met = {i.id: ("met" if i.answer_type == "yes_no_na" else
                              str(i.scale_max) if i.answer_type == "scale" else "1") for i in checklist.items}
                generated.append((checklist, profile, met))
                for item in checklist.items[:: max(1, len(checklist.items) // 12)]:
                    if item.scored:
                        failing = "not_met" if item.answer_type == "yes_no_na" else str(item.scale_min)
                        generated.append((checklist, profile, {**met, item.id: failing}))
    compare(generated)


def test_the_hash_of_the_applicable_set_is_sha256_in_both() -> None:
    # Plain known vectors: the tablet's hand-written SHA-256 must equal hashlib's on non-ASCII text too.
    import hashlib

    texts = ["", "abc", "A1\nA2\nC3", "Tiêu chí ★ " * 40]
    script = ("const e=require(process.argv[1]);process.stdout.write(JSON.stringify("
              + json.dumps(texts) + ".map(t=>e.sha256(t))))")
    done = subprocess.run([_node_or_skip(), "-e", script, str(ROOT / "static" / "js" / "qa-engine.js")],
                          capture_output=True, timeout=60, check=True)
    assert json.loads(done.stdout) == [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
