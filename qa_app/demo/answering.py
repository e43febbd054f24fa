"""Generated answers and their scores: per-profile plans, seeded answers, and a fast exact scorer (pure).

The fast scorer exists for the national data set (~300,000 inspections): it precomputes, once per
(checklist version, facility profile), which items apply and what each possible answer is worth in
integer units, so scoring an inspection is a few integer sums and one classification. It follows the
rules of :mod:`qa_app.scoring` exactly (same Fractions, same rounding, same ``classify``); the tests
compare the two on every inspection of a small data set.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from ..checklists.schema import (
    MET,
    NA,
    NOT_MET,
    Checklist,
    FacilityProfile,
    item_applies,
    item_is_critical,
)
from ..scoring import Score, exact, score_inspection

YES_NO, SCALE, NUMBER, TEXT = "yes_no_na", "scale", "number", "text"
FOUR_PLACES = Decimal("0.0001")

# Findings a supervisor writes next to a failed item, by section (generic enough for any version's items).
FINDING_NOTES: Mapping[str, tuple[str, ...]] = {
    "A": ("Chưa niêm yết bảng giá dịch vụ KHHGĐ tại nơi tiếp đón.", "Không tìm thấy kế hoạch hoạt động KHHGĐ năm nay.",
          "Tài liệu hướng dẫn quốc gia là bản cũ, chưa cập nhật."),
    "B": ("Phòng tư vấn dùng chung với phòng tiêm chủng, không bảo đảm kín đáo.",
          "Bồn rửa tay trong phòng thủ thuật không có nước.", "Thiếu tờ rơi về các BPTT tại khu vực chờ."),
    "C": ("Giấy chứng nhận tập huấn KHHGĐ đã quá 2 năm.", "Cán bộ được đào tạo đặt DCTC đã chuyển công tác.",
          "Nhân viên chưa nêu đủ các bước xử trí phản vệ."),
    "D": ("Máy đo huyết áp hỏng, chưa được thay.", "Chỉ có 01 bộ dụng cụ đặt DCTC vô khuẩn, không đủ cho buổi dịch vụ.",
          "Nồi hấp hỏng, dụng cụ phải gửi lên TTYT tiệt khuẩn."),
    "E": ("Có 02 vỉ viên uống tránh thai hết hạn để lẫn trong tủ cấp phát.",
          "Hết thuốc tiêm tránh thai từ tháng trước.",
          "Số tồn trên thẻ kho không khớp kiểm đếm thực tế (lệch 15 chiếc BCS)."),
    "F": ("Sổ theo dõi tiệt khuẩn ghi không đầy đủ ngày và thông số mẻ hấp.",
          "Hộp an toàn đựng vật sắc nhọn quá đầy.", "Không thấy nhân viên vệ sinh tay giữa hai khách hàng."),
    "G": ("Tư vấn chỉ giới thiệu một biện pháp, chưa nêu các lựa chọn khác.",
          "Chưa hướng dẫn khách hàng nhắc lại cách dùng.", "Khách hàng cho biết không được hẹn ngày tái khám."),
    "H": ("Không sử dụng bảng kiểm loại trừ có thai trước khi cung cấp biện pháp.",
          "Không đo huyết áp trước khi tiêm thuốc tránh thai.", "Phiếu đồng ý của khách hàng chưa có chữ ký."),
    "I": ("Hộp chống sốc thiếu adrenalin, phác đồ chưa niêm yết.", "Chưa có sổ ghi nhận tai biến.",
          "Không có số điện thoại liên hệ tuyến trên tại nơi thủ thuật."),
    "J": ("Sổ KHHGĐ thiếu địa chỉ khách hàng ở nhiều dòng.", "Báo cáo quý gần nhất nộp chậm.",
          "Số liệu báo cáo không khớp sổ gốc (đối chiếu 10 ca, lệch 2)."),
    "K": ("Chưa có hòm thư góp ý.", "Chưa thực hiện khảo sát hài lòng khách hàng trong năm.",
          "Chưa tự đánh giá theo bảng kiểm năm nay."),
    "L": ("Người bán lẻ không hỏi khả năng có thai khi bán viên uống.", "Không có sổ theo dõi nhiệt độ, độ ẩm.",
          "Phần mềm quản lý không ghi số lô, hạn dùng."),
}
DEFAULT_NOTES = ("Đã nhắc nhở, cơ sở cam kết khắc phục.", "Cần bổ sung trước lần giám sát tới.")
NA_NOTES = ("Cơ sở không cung cấp dịch vụ này tại thời điểm kiểm tra.", "Không có khách hàng trong buổi kiểm tra.")
OTHER_TEXTS = ("Đã kiểm tra, ghi nhận đầy đủ.", "Theo báo cáo của cơ sở.", "Xem phụ lục kèm theo biên bản.")


@dataclass(frozen=True)
class ItemPlan:
    """One applicable item, with what each answer to it is worth for this profile."""

    item_id: str
    section: int  # index into Plan.section_ids
    kind: str
    allow_na: bool
    critical: bool
    difficulty: float
    possible: int  # integer points when answered (0 for informational items)
    levels: tuple[int, ...]  # scale levels, ascending (yes/no: (0, 1) for not met / met)
    points: tuple[int, ...]  # points earned per level
    fails: tuple[bool, ...]  # whether each level fails the item
    value_kind: str  # informational items: distance_km, travel_minutes, water, count, text
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """The applicable items of one checklist version for one facility profile, precomputed once."""

    checklist: Checklist
    profile: FacilityProfile
    items: tuple[ItemPlan, ...]
    section_ids: tuple[str, ...]  # sections with at least one applicable item, in checklist order
    section_weights: tuple[Fraction, ...]
    unit: int  # integer points per point of item weight
    # Section weights scaled to integers, and (numerator, denominator) of meets_min, conditional_min, section_min.
    section_weight_ints: tuple[int, ...] = ()
    thresholds: tuple[tuple[int, int], ...] = ()
    # Integer points -> stored Decimal, filled as scoring meets them (values repeat a lot).
    decimals: dict[int, Decimal] = field(default_factory=dict, compare=False)


@dataclass
class Outcome:
    """The scores of one inspection, in the shape they are stored (Decimals as the columns hold them)."""

    overall_percent: Decimal | None
    classification: str | None
    critical_failures: int
    failed_items: int
    sections: list[tuple[str, Decimal, Decimal, Decimal | None, int]]
    failed: list[bool]  # per answer, aligned with the answers given
    critical: list[bool]


@dataclass
class Answers:
    """Generated answers of one inspection, in checklist order, with the fast path's points."""

    item_ids: list[str]
    values: list[str]
    notes: list[str]
    earned: list[int]
    possible: list[int]
    failed: list[bool]
    critical: list[bool]

    def as_mapping(self) -> dict[str, str]:
        """Item id -> stored value, as score_inspection takes them."""
        return dict(zip(self.item_ids, self.values, strict=True))


def _value_kind(item: object) -> str:
    unit = getattr(item, "unit", None)
    unit_text = (unit.vi if unit else "").lower()
    text = item.text.vi.lower()  # type: ignore[attr-defined]
    if item.answer_type == NUMBER:  # type: ignore[attr-defined]
        if unit_text == "km" or "khoảng cách" in text:
            return "distance_km"
        if unit_text in ("phút", "giờ") or "thời gian" in text:
            return "travel_minutes"
        return "count"
    if "nước" in text:
        return "water"
    return "text"


def build_plan(checklist: Checklist, profile: FacilityProfile, difficulty: Mapping[str, float]) -> Plan:
    """Precompute applicability, criticality and integer points of every item for ``profile``."""
    weights = {item.id: exact(item.weight, f"weight of item {item.id}") for item in checklist.items}
    spans = [item.scale_max - item.scale_min for item in checklist.items if item.answer_type == SCALE]
    scale_lcm = math.lcm(*[s for s in spans if s > 0]) if spans else 1
    unit = math.lcm(*[w.denominator for w in weights.values()]) * scale_lcm
    section_ids: list[str] = []
    section_weights: list[Fraction] = []
    items: list[ItemPlan] = []
    for section in checklist.sections:
        applicable = [item for item in section.items if item_applies(item, section, profile)[0]]
        if not applicable:
            continue
        index = len(section_ids)
        section_ids.append(section.id)
        section_weights.append(exact(section.weight, f"weight of section {section.id}"))
        notes = FINDING_NOTES.get(section.id[:1], DEFAULT_NOTES)
        for item in applicable:
            possible = int(weights[item.id] * unit) if item.scored else 0
            if item.answer_type == SCALE:
                levels = tuple(sorted(level.value for level in item.scale)) or (0, 1)
                low, high = levels[0], levels[-1]
                pass_min = item.pass_min if item.pass_min is not None else high
                # finding_below (issue 19) decides which values are findings when the file sets it.
                limit = item.finding_below if item.finding_below is not None else pass_min
                points = tuple(possible if high == low else possible * (v - low) // (high - low) for v in levels)
                fails = tuple(v < limit and item.scored for v in levels)
            else:
                levels, points, fails = (0, 1), (0, possible), (item.scored, False)
            items.append(ItemPlan(
                item_id=item.id, section=index, kind=item.answer_type, allow_na=item.allow_na,
                critical=item_is_critical(item, profile), difficulty=difficulty.get(item.id, 0.0),
                possible=possible, levels=levels, points=points, fails=fails, value_kind=_value_kind(item),
                notes=notes))
    weight_lcm = math.lcm(*(w.denominator for w in section_weights)) if section_weights else 1
    rules = checklist.scoring
    thresholds = tuple((t.numerator, t.denominator) for t in (
        exact(rules.meets_min, "meets_min"), exact(rules.conditional_min, "conditional_min"),
        exact(rules.section_min, "section_min")))
    return Plan(checklist, profile, tuple(items), tuple(section_ids), tuple(section_weights), unit,
                tuple(int(w * weight_lcm) for w in section_weights), thresholds)


def met_probability(ftype: str, ownership: str, day: dt.date, self_assessment: bool) -> float:
    """Chance that an average item is met: improving from 2021 to 2026, lower for the private sector."""
    start, end = BASELINES.get((ftype, ownership), BASELINES[(ftype, "public" if ftype != "NT" else "non_public")])
    # The programme pushed hardest towards the 2025 target; the gains slow down afterwards.
    t = min(1.0, max(0.0, (day - dt.date(2021, 1, 1)).days / (dt.date(2026, 12, 31) - dt.date(2021, 1, 1)).days))
    p = start + (end - start) * (1.0 - (1.0 - t) ** 1.5)
    return p + (0.04 if self_assessment else 0.0)  # facilities grade themselves a little kinder


BASELINES: Mapping[tuple[str, str], tuple[float, float]] = {
    ("TYT", "public"): (0.70, 0.945), ("TTYT", "public"): (0.80, 0.965), ("BV", "public"): (0.82, 0.97),
    ("BV", "non_public"): (0.78, 0.95), ("PK", "non_public"): (0.68, 0.91), ("PK", "public"): (0.72, 0.92),
    ("NT", "non_public"): (0.60, 0.87), ("NT", "public"): (0.65, 0.88),
}


def generate_answers(plan: Plan, rng: random.Random, p_met: float, traits: Mapping[str, object], *,
                     na_rate: float, critical_factor: float, note_rate: float, limit: int | None = None) -> Answers:
    """Seeded answers for the first ``limit`` applicable items (all when None), with their points."""
    items = plan.items if limit is None else plan.items[:limit]
    out = Answers([], [], [], [], [], [], [])
    ids, values, notes, earned, possible, failed, critical = (
        out.item_ids, out.values, out.notes, out.earned, out.possible, out.failed, out.critical)
    rand = rng.random
    for it in items:
        ids.append(it.item_id)
        kind = it.kind
        if kind in (YES_NO, SCALE):
            r = rand()
            if it.allow_na and r < na_rate:
                values.append(NA)
                notes.append(rng.choice(NA_NOTES) if rand() < note_rate else "")
                earned.append(0)
                possible.append(0)
                failed.append(False)
                critical.append(False)
                continue
            q = p_met + it.difficulty
            fail_p = (1.0 - q) * (critical_factor if it.critical else 1.0)
            if rand() >= fail_p:
                level = len(it.levels) - 1
            elif len(it.levels) > 2 and rand() < 0.7:
                level = rng.randint(1, len(it.levels) - 2)  # partly met
            else:
                level = 0
            did_fail = it.fails[level]
            if kind == YES_NO:
                values.append(MET if level else NOT_MET)
            else:
                values.append(str(it.levels[level]))
            notes.append(rng.choice(it.notes) if did_fail and rand() < note_rate else "")
            earned.append(it.points[level])
            possible.append(it.possible)
            failed.append(did_fail)
            critical.append(did_fail and it.critical)
            continue
        # Informational items: the facility's own facts, with the small drift of a second measurement.
        vk = it.value_kind
        if vk == "distance_km":
            values.append(f"{traits['distance_km']}")
        elif vk == "travel_minutes":
            values.append(str(int(traits["travel_minutes"]) + rng.choice((-5, 0, 0, 0, 5))))  # type: ignore[call-overload]
        elif vk == "count":
            values.append(str(rng.randint(0, 40)))
        elif vk == "water":
            values.append(str(traits["water"]))
        else:
            values.append(rng.choice(OTHER_TEXTS))
        notes.append("")
        earned.append(0)
        possible.append(0)
        failed.append(False)
        critical.append(False)
    return out


def _decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(FOUR_PLACES)


def _percent(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.2f}")


def fast_outcome(plan: Plan, answers: Answers) -> Outcome:
    """Score generated answers from the plan's integer points; equal to score_inspection's result.

    Integer arithmetic throughout: a percentage is shown rounded down to 2 decimals, so
    display(100·e/p) is floor(10000·e/p)/100, and a threshold t = a/b is passed when 100·e·b >= a·p.
    """
    if plan.checklist.groups:
        # Score groups combine sections by rules the integer shortcut does not model: score with the engine.
        return engine_outcome(score_inspection(plan.checklist, plan.profile, answers.as_mapping()), answers)
    n = len(plan.section_ids)
    s_earned = [0] * n
    s_possible = [0] * n
    s_critical = [0] * n
    for it, e, p, c in zip(plan.items, answers.earned, answers.possible, answers.critical, strict=False):
        s_earned[it.section] += e
        s_possible[it.section] += p
        if c:
            s_critical[it.section] += 1
    decimals = plan.decimals
    sections = []
    for i in range(n):
        e, p = s_earned[i], s_possible[i]
        for value in (e, p):
            if value not in decimals:
                decimals[value] = _decimal(Fraction(value, plan.unit))
        percent = Decimal(10_000 * e // p).scaleb(-2) if p else None
        sections.append((plan.section_ids[i], decimals[e], decimals[p], percent, s_critical[i]))
    scored = [i for i in range(n) if s_possible[i]]
    critical_failures = sum(s_critical)
    if not scored:
        return Outcome(None, None, critical_failures, sum(answers.failed), sections, answers.failed,
                       answers.critical)
    if plan.checklist.scoring.overall == "pooled":
        num, den = 100 * sum(s_earned), sum(s_possible)
    else:
        # Weighted mean of exact section percentages, over one common denominator.
        common = math.lcm(*(s_possible[i] for i in scored))
        weights = plan.section_weight_ints
        num = sum(weights[i] * 100 * s_earned[i] * (common // s_possible[i]) for i in scored)
        den = common * sum(weights[i] for i in scored)
    floor_num, floor_den = plan.thresholds[2]
    gates = not critical_failures and all(
        100 * s_earned[i] * floor_den >= floor_num * s_possible[i] for i in scored)
    (meets_num, meets_den), (cond_num, cond_den) = plan.thresholds[0], plan.thresholds[1]
    if gates and num * meets_den >= meets_num * den:
        classification = "meets"
    elif gates and num * cond_den >= cond_num * den:
        classification = "conditional"
    else:
        classification = "does_not_meet"
    overall = Decimal(100 * num // den).scaleb(-2)
    return Outcome(overall, classification, critical_failures, sum(answers.failed), sections, answers.failed,
                   answers.critical)


def engine_outcome(score: Score, answers: Answers) -> Outcome:
    """The same Outcome from the scoring engine's Score (the reference implementation)."""
    sections = [
        (s.section_id, _decimal(s.earned), _decimal(s.possible), _percent(s.percent), len(s.critical_failures))
        for s in score.sections if s.applicable
    ]
    failed = [score.items[i].failed for i in answers.item_ids]
    critical = [score.items[i].failed and score.items[i].critical for i in answers.item_ids]
    return Outcome(_percent(score.overall_percent), score.classification, len(score.critical_failures),
                   len(score.failed_items), sections, failed, critical)
