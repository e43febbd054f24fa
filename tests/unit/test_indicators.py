"""Indicators file: loading, every kind of error with its line, province overrides, target interpolation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from qa_app.checklists.schema import Text
from qa_app.compliance.chart import build_chart, least_squares, project
from qa_app.compliance.indicators import (
    DEFAULT_PATH,
    Indicator,
    IndicatorError,
    load_indicators,
    parse_indicators,
    target_at,
)
from qa_app.compliance.queries import months_back

VALID = """\
schema: 1
indicators:
  - id: facilities_meeting_standard
    title: {vi: "Cơ sở đạt chuẩn", en: "Facilities meeting the standard"}
    measure:
      classifications: [meets]
    baseline: {year: 2021, value: 40}
    targets: {2025: 75, 2030: 90}
  - id: tyt_methods_ready
    title: {vi: "Trạm y tế sẵn sàng"}
    measure:
      classifications: [meets, conditional]
      requires_services: [VU, BCS, TT, DCTC]
    filters: {facility_types: [TYT]}
    targets: {2025: 75, 2030: 95}
provinces:
  - system: pre2025
    code: "24"
    overrides:
      tyt_methods_ready:
        targets: {2025: 85}
  - system: pre2025
    code: "62"
    overrides:
      tyt_methods_ready:
        filters: {high_fertility: true}
    indicators:
      - id: districts_with_clinical_methods
        title: {vi: "Huyện có cơ sở cung cấp biện pháp lâm sàng"}
        measure: {classifications: [meets, conditional], requires_services: [DCTC]}
        filters: {facility_types: [TTYT, BV]}
        targets: {2025: 95, 2030: 100}
"""


def test_the_shipped_file_loads() -> None:
    config = load_indicators(DEFAULT_PATH)
    ids = [i.id for i in config.indicators]
    assert ids == ["facilities_meeting_standard", "facilities_meeting_standard_public",
                   "facilities_meeting_standard_non_public", "pharmacies_meeting_standard", "tyt_methods_ready",
                   "tyt_community_distribution", "stockout_3_months", "expired_stock", "non_public_ever_assessed"]
    headline = config.get("facilities_meeting_standard")
    # Service facilities only: pharmacies and drug counters have their own line (the market channel).
    assert "NT" not in headline.filters.facility_types
    assert config.get("pharmacies_meeting_standard").filters.facility_types == ("NT",)
    assert config.get("pharmacies_meeting_standard").targets == ()
    # The two sector lines split the combined one exactly.
    public = config.get("facilities_meeting_standard_public")
    non_public = config.get("facilities_meeting_standard_non_public")
    assert public.filters.facility_types == non_public.filters.facility_types == headline.filters.facility_types
    assert public.filters.ownership + non_public.filters.ownership == headline.filters.ownership
    # 1848's own qualifier; Bắc Giang's plan covers every station and says so; Kon Tum keeps the filter.
    assert config.get("tyt_methods_ready").filters.high_fertility is True
    assert config.get("tyt_methods_ready", ("pre2025", "24")).filters.high_fertility is None
    assert config.get("tyt_methods_ready").items_met[:2] == ("C1", "C2")
    assert config.get("tyt_methods_ready").classifications == ()
    assert config.target_for("facilities_meeting_standard", None, 2025) == 75
    assert config.target_for("facilities_meeting_standard", None, 2030) == 90
    assert config.target_for("tyt_methods_ready", ("pre2025", "24"), 2025) == 85
    assert config.target_for("tyt_methods_ready", ("pre2025", "62"), 2030) == 95
    assert config.get("tyt_methods_ready", ("pre2025", "62")).filters.high_fertility is True
    # Quảng Ngãi (2025 code 51) has no plan of its own: national targets.
    assert config.target_for("tyt_methods_ready", ("2025", "51"), 2025) == 75


def test_province_overrides_and_additions() -> None:
    config = parse_indicators(VALID, "t.yaml")
    national = config.get("tyt_methods_ready")
    bac_giang = config.get("tyt_methods_ready", ("pre2025", "24"))
    assert national.targets == ((2025, 75.0), (2030, 95.0))
    assert bac_giang.targets == ((2025, 85.0), (2030, 95.0))  # 2030 kept from the national plan
    assert bac_giang.requires_services == ("VU", "BCS", "TT", "DCTC")
    kon_tum = config.for_province(("pre2025", "62"))
    assert [i.id for i in kon_tum] == ["facilities_meeting_standard", "tyt_methods_ready",
                                       "districts_with_clinical_methods"]
    assert kon_tum[1].filters.high_fertility is True
    assert kon_tum[1].filters.facility_types == ("TYT",)
    assert national.filters.high_fertility is None
    # A province without a plan, and the whole country, get the national indicators.
    assert config.for_province(("2025", "12")) == config.indicators == config.for_province(None)
    with pytest.raises(KeyError):
        config.get("districts_with_clinical_methods")


def _indicator(**kw: object) -> Indicator:
    base: dict[str, object] = {"id": "x", "title": Text(vi="x"), "definition": Text(vi=""),
                               "classifications": ("meets",), "targets": ((2025, 75.0), (2030, 90.0))}
    base.update(kw)
    return Indicator(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("year", "expected"), [
    (2020, None), (2021, 40.0), (2022, 48.75), (2023, 57.5), (2025, 75.0), (2026, 78.0), (2028, 84.0),
    (2030, 90.0), (2035, 90.0),
])
def test_targets_follow_a_straight_line_from_the_baseline(year: int, expected: float | None) -> None:
    indicator = _indicator(baseline_year=2021, baseline_value=40.0)
    assert target_at(indicator, year) == (pytest.approx(expected) if expected is not None else None)


def test_measured_baseline_and_no_baseline() -> None:
    measured = _indicator(baseline_year=2021)
    assert target_at(measured, 2023, measured_baseline=25.0) == pytest.approx(50.0)
    # Not measurable (no data): the line starts at the first named year.
    assert target_at(measured, 2023) is None
    assert target_at(measured, 2027) == pytest.approx(81.0)
    assert target_at(_indicator(), 2024) is None


HEAD = "schema: 1\nindicators:\n  - id: a\n    title: {vi: A}\n"
MEASURE = "    measure: {classifications: [meets]}\n"
TARGETS = "    targets: {2025: 75}\n"
# Each broken file marks the line the problem must be reported on with "#!".
BROKEN = {
    "unknown indicator key": (HEAD + MEASURE + TARGETS + "    targts: {2025: 75}  #!\n",
                              "unknown key 'targts' (did you mean 'targets'?)"),
    "bad year": (HEAD + MEASURE + "    targets:\n      20x5: 75  #!\n", "'20x5' is not a year"),
    "year out of range": (HEAD + MEASURE + "    targets:\n      1899: 75  #!\n", "1899 is not a year"),
    "target out of 0-100": (HEAD + MEASURE + "    targets:\n      2025: 175  #!\n",
                            "175 must be a percentage between 0 and 100"),
    "unknown facility type": (HEAD + MEASURE + TARGETS + "    filters:\n      facility_types:\n        - TYT\n"
                              "        - XYZ  #!\n", "unknown facility type 'XYZ'"),
    "unknown ownership": (HEAD + MEASURE + TARGETS + "    filters: {ownership: [private]}  #!\n",
                          "unknown ownership 'private'"),
    "unknown service": (HEAD + TARGETS + "    measure: {classifications: [meets], requires_services: [IUD]}  #!\n",
                        "unknown service 'IUD'"),
    "unknown classification": (HEAD + TARGETS + "    measure: {classifications: [good]}  #!\n",
                               "unknown classification 'good'"),
    "duplicate indicator id": (HEAD + MEASURE + TARGETS + "  - id: a  #!\n    title: {vi: B}\n" + MEASURE + TARGETS,
                               "duplicate indicator id 'a' (already defined at line 3)"),
    "baseline after targets": (HEAD + MEASURE + TARGETS + "    baseline:\n      year: 2026  #!\n",
                               "baseline year 2026 must come before"),
    "high_fertility not a flag": (HEAD + MEASURE + TARGETS + "    filters: {high_fertility: sometimes}  #!\n",
                                  "high_fertility must be true"),
    "measure without a rule": (HEAD + TARGETS + "    measure: {requires_services: [VU]}  #!\n",
                               "measure needs at least one of classifications"),
    "bad item id": (HEAD + TARGETS + "    measure:\n      items_met: [C8, e 9]  #!\n", "'e 9' is not a checklist item id"),
    "item listed twice": (HEAD + TARGETS + "    measure:\n      items_not_met: [E8, E8]  #!\n", "'E8' is listed twice"),
    "bad denominator": (HEAD + TARGETS + "    measure:\n      items_not_met: [E8]\n      denominator: some  #!\n",
                        "denominator must be one of all, assessed"),
    "ever_assessed false": (HEAD + TARGETS + "    measure:\n      ever_assessed: false  #!\n",
                            "ever_assessed can only be true"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_one_broken_file_per_kind_reports_file_line_and_message(kind: str) -> None:
    text, message = BROKEN[kind]
    marked = [n for n, line in enumerate(text.splitlines(), 1) if "#!" in line]
    line = marked[0] if marked else 3
    with pytest.raises(IndicatorError) as caught:
        parse_indicators(text, "broken.yaml")
    problems = caught.value.problems
    hit = next((p for p in problems if message in p.message), None)
    assert hit is not None, problems
    assert (hit.path, hit.line) == ("broken.yaml", line), (hit, text)
    assert str(hit).startswith(f"broken.yaml:{line}: ")


def test_every_problem_is_reported_at_once_and_nothing_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "indicators.yaml"
    path.write_text(VALID.replace("2025: 75, 2030: 90", "2025: 175, 2030: 90")
                    .replace("[TYT]", "[TYT, ABC]")
                    .replace("tyt_methods_ready:\n        targets", "tyt_methods_readdy:\n        targets"),
                    encoding="utf-8")
    with pytest.raises(IndicatorError) as caught:
        load_indicators(path)
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 3, messages
    assert all(p.path == str(path) for p in caught.value.problems)
    assert any("overrides unknown indicator 'tyt_methods_readdy'" in m for m in messages)


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("schema: 1\nindicators: [\n", "not valid YAML"),
    ("schema: 2\nindicators: []\n", "schema must be 1"),
    ("schema: 1\nindicators:\n  - id: a\n    id: b\n", "duplicate key 'id'"),
    ("schema: 1\nindicators:\n  - {id: a, title: {vi: A}, measure: {classifications: [meets]}, targets: {2025: 75}}\n"
     "provinces:\n  - {system: pre2025, code: 24}\n", "code must be two digits in quotes"),
    ("schema: 1\nindicators:\n  - {id: a, title: {vi: A}, measure: {classifications: [meets]}, targets: {2025: 75}}\n"
     "provinces:\n  - {system: '2026', code: '24'}\n", "system must be one of"),
    ("schema: 1\nindicators:\n  - {id: a, title: {vi: A}, measure: {classifications: [meets]}, targets: {2025: 75}}\n"
     "provinces:\n  - {system: pre2025, code: '24'}\n  - {system: pre2025, code: '24'}\n", "has two plans"),
    ("schema: 1\nindicators:\n  - {id: a, title: {en: A}, measure: {classifications: [meets]}, targets: {2025: 75}}\n",
     "missing required key 'vi'"),
])
def test_other_errors(text: str, message: str) -> None:
    with pytest.raises(IndicatorError) as caught:
        parse_indicators(text, "x.yaml")
    assert any(message in p.message for p in caught.value.problems), caught.value.problems


def test_months_back_handles_month_ends() -> None:
    assert months_back(dt.date(2026, 6, 30), 24) == dt.date(2024, 6, 30)
    assert months_back(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_back(dt.date(2024, 2, 29), 12) == dt.date(2023, 2, 28)


def test_projection_is_least_squares_on_the_last_three_years() -> None:
    assert least_squares([(2024, 50.0), (2025, 60.0), (2026, 70.0)]) == pytest.approx((10.0, -20190.0))
    points = [(2022, 5.0), (2023, 30.0), (2024, 50.0), (2025, 60.0), (2026, 70.0)]
    projected = dict(project(points))
    assert projected[2026] == 70.0
    assert projected[2027] == pytest.approx(80.0)
    assert projected[2029] == 100.0  # clamped
    assert project([(2026, 40.0)]) == []


def test_chart_geometry_stays_inside_the_plot() -> None:
    chart = build_chart([(2022, 10.0), (2023, None), (2024, 50.0)], [(2021, 0.0), (2025, 75.0), (2030, 90.0)],
                        [(2024, 50.0), (2030, 100.0)], first_year=2022)
    xs = [float(p.split(",")[0]) for p in chart.actual.split()]
    assert len(xs) == 2
    assert xs[0] == chart.plot_left
    assert chart.target.count(",") == 2  # the 2021 point lies before the first year and is left out
    assert all(chart.plot_top <= y <= chart.plot_bottom for _, y, _, _ in chart.dots)


def test_item_measures_without_targets_and_high_fertility_any() -> None:
    config = parse_indicators("""\
schema: 1
indicators:
  - id: iud_ready
    title: {vi: "Sẵn sàng đặt DCTC"}
    measure: {items_met: [C2, D3, E6], requires_services: [DCTC]}
    filters: {facility_types: [TYT], high_fertility: true}
  - id: stockout
    title: {vi: "Hết hàng"}
    measure: {items_not_met: [E8], denominator: assessed}
provinces:
  - system: pre2025
    code: "24"
    overrides:
      iud_ready:
        filters: {high_fertility: any}
""", "t.yaml")
    ready = config.get("iud_ready")
    assert (ready.items_met, ready.classifications, ready.targets) == (("C2", "D3", "E6"), (), ())
    assert ready.target(2025) is None
    assert config.get("iud_ready", ("pre2025", "24")).filters.high_fertility is None
    assert config.get("stockout").denominator == "assessed"
    assert config.get("stockout").items_not_met == ("E8",)
