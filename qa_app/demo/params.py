"""The demo data's parameters and summary: the public demo logins, the scale presets (demo, province,
national) and the counts reported after generating. Imported by ``flask qa seed`` / ``setup`` through
``demo.generator``."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from .geography import UnitKey

# Every demo account has this password (printed by `flask qa setup`); it is public, so never seed production.
DEMO_PASSWORD = "DemoQA@2025"

# (username, full name, role, scope) with the scope as "system:level:code" of an admin unit, or None.
DEMO_USERS: list[tuple[str, str, str, str | None]] = [
    ("admin", "Nguyễn Minh Tuấn", "admin", None),
    ("quanly.tinh", "Lò Thị Hương", "provincial_manager", "2025:province:12"),
    ("duyet.tamduong", "Trần Văn Hùng", "reviewer", "pre2025:district:106"),
    ("duyet.phongtho", "Lường Thị Thu", "reviewer", "pre2025:district:109"),
    ("giamsat.td1", "Lò Văn Phong", "supervisor", "pre2025:district:106"),
    ("giamsat.td2", "Đỗ Thị Thanh Hà", "supervisor", "pre2025:district:106"),
    ("giamsat.pt", "Giàng A Lử", "supervisor", "pre2025:district:109"),
    # The provincial inspection team, which visits the districts that have no supervisor account of their own.
    ("giamsat.tinh", "Phạm Thu Trang", "supervisor", "2025:province:12"),
]
# A reviewer of the regional health centre that runs the Tam Đường service area (demo set only): the
# post-reform scope, beside the district-scoped reviewers kept for the pre-2025 history.
AREA_DEMO_USER = ("duyet.khuvuc", "Vàng Thị Mai", "reviewer", "KV-12-106",
                  "Phó Giám đốc Trung tâm Y tế khu vực Tam Đường")

DEMO_POSITIONS: dict[str, str] = {
    "admin": "Quản trị hệ thống, Sở Y tế tỉnh Lai Châu",
    "quanly.tinh": "Phó Chi cục trưởng Chi cục Dân số, Sở Y tế tỉnh Lai Châu",
    "duyet.tamduong": "Phó Giám đốc Trung tâm Y tế huyện Tam Đường",
    "duyet.phongtho": "Trưởng khoa Chăm sóc sức khỏe sinh sản, Trung tâm Y tế huyện Phong Thổ",
    "giamsat.td1": "Viên chức Dân số, Trung tâm Y tế huyện Tam Đường",
    "giamsat.td2": "Nữ hộ sinh, khoa Chăm sóc sức khỏe sinh sản, Trung tâm Y tế huyện Tam Đường",
    "giamsat.pt": "Y sĩ sản nhi, Trung tâm Y tế huyện Phong Thổ",
    "giamsat.tinh": "Chuyên viên phòng Nghiệp vụ, Chi cục Dân số tỉnh Lai Châu",
}

LOCAL = dt.timezone(dt.timedelta(hours=7))  # Vietnam: visits happen in office hours, local time
OPINIONS = (
    "Cơ sở thống nhất với kết quả kiểm tra và cam kết khắc phục các tồn tại trong thời hạn 30 ngày.",
    "Cơ sở nhất trí với biên bản; đề nghị Trung tâm Y tế hỗ trợ bổ sung dụng cụ đặt DCTC.",
    "Thống nhất. Cơ sở sẽ báo cáo kết quả khắc phục trước ngày giám sát lần sau.",
    "Cơ sở nhất trí với nội dung biên bản.",
)


def _local(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOCAL).astimezone(dt.UTC)


def scope_code(system: str, level: str, code: str) -> str:
    """The scope notation of DEMO_USERS: 'pre2025:district:106'."""
    return f"{system}:{level}:{code}"


def parse_scope_code(text: str | None) -> UnitKey | None:
    """(system, level, code) from 'pre2025:district:106'; None for the whole country."""
    if text is None:
        return None
    system, level, code = text.split(":")
    return (system, level, code)


@dataclass(frozen=True)
class DemoParams:
    """What to generate; ``for_scale`` gives the three standard sets, fields allow tiny test sets."""

    seed: int = 2025
    # The day the data set ends; fixed so that the same seed gives the same rows on any day.
    today: dt.date = dt.date(2026, 11, 15)
    history_from: dt.date = dt.date(2021, 1, 1)
    # True: the real Lai Châu (demo). False: synthetic provinces of the sizes below.
    real_province: bool = True
    provinces: int = 1  # 2025 provinces
    old_provinces: int = 1  # pre-2025 provinces
    districts: int = 12  # pre-2025 districts, in total
    old_communes: int = 300  # pre-2025 communes, in total
    communes: int = 110  # 2025 communes (one commune health station each), in total
    split_share: float = 0.03  # share of old communes split between two new ones
    # Facilities besides one station per 2025 commune and one centre per old district, in total.
    public_hospitals: int = 1
    private_hospitals: int = 1
    clinics: int = 15
    pharmacies: int = 20
    recent_open_share: float = 0.1  # private facilities opened in 2023–2024
    closed_share: float = 0.015  # private facilities closed (the first in 2025)
    ethnic_share: float = 0.6  # heads and staff from the mountain peoples (Lai Châu)
    # Inspections.
    never_share: float = 0.08  # facilities never inspected externally
    biennial_share: float = 0.22  # facilities inspected every two years instead of yearly
    self_share: float = 0.15  # chance of a self-assessment per facility and year
    na_rate: float = 0.03
    critical_factor: float = 0.05  # critical items fail this much less often than others
    note_rate: float = 0.35  # share of failed items with a written finding
    recent_days: int = 60  # the window with work in progress (submitted, returned, draft)
    drafts: int = 2  # at least this many drafts in the recent window
    submitted: int = 3  # at least this many visits of the last weeks awaiting review
    returned: int = 1  # at least this many returned inspections
    # Scoring: True uses the precomputed fast path (verified against score_inspection in the tests).
    fast_scoring: bool = False
    staff_users: bool = False  # one reviewer and one supervisor per district, one manager per province
    signatures: bool = True  # drawn signatures (PNG) of team head and facility representative
    chunk_size: int = 10_000  # answer rows per insert

    @classmethod
    def for_scale(cls, scale: str, seed: int = 2025, **overrides: Any) -> DemoParams:
        """'demo' (Lai Châu), 'province' (~600 facilities) or 'national' (~50,000 facilities)."""
        if scale == "demo":
            params = cls(seed=seed)
        elif scale == "province":
            params = cls(seed=seed, real_province=False, provinces=1, old_provinces=1, districts=12,
                         old_communes=300, communes=110, public_hospitals=3, private_hospitals=1, clinics=200,
                         pharmacies=270, ethnic_share=0.3, drafts=4, returned=2, fast_scoring=True,
                         staff_users=True)
        elif scale == "national":
            params = cls(seed=seed, real_province=False, provinces=34, old_provinces=63, districts=696,
                         old_communes=10_056, communes=3_321, public_hospitals=34 * 3, private_hospitals=34,
                         clinics=16_000, pharmacies=29_500, ethnic_share=0.15, drafts=200, returned=80,
                         fast_scoring=True, staff_users=True, signatures=False, chunk_size=20_000)
        else:
            raise ValueError(f"unknown scale {scale!r}: demo, province or national")
        return replace(params, **overrides)


@dataclass
class DemoSummary:
    """What was generated, for the command line."""

    params: DemoParams
    units: Counter[str] = field(default_factory=Counter)  # "pre2025 commune" -> count
    successions: int = 0
    facilities: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, ownership) -> count
    inspections: Counter[str] = field(default_factory=Counter)  # status -> count
    kinds: Counter[str] = field(default_factory=Counter)
    never_assessed: int = 0
    answers: int = 0
    section_results: int = 0
    team_members: int = 0
    signatures: int = 0
    corrective_actions: int = 0
    review_comments: int = 0
    users: Counter[str] = field(default_factory=Counter)  # role -> count
    skipped: int = 0  # planned visits with no checklist version in force
    areas: int = 0  # service areas (one per old district)
    seconds: float = 0.0

    def describe(self) -> str:
        """A few lines: units, facilities by type, inspections by status, answers, users."""
        order = ("pre2025 province", "pre2025 district", "pre2025 commune", "2025 province", "2025 commune")
        units = ", ".join(f"{self.units[name]} {name}" for name in order if self.units[name])
        by_type: Counter[str] = Counter()
        for (ftype, _), n in self.facilities.items():
            by_type[ftype] += n
        types = ", ".join(f"{t} {by_type[t]}" for t in ("TYT", "DT", "TTYT", "BV", "PK", "NT") if by_type[t])
        public = sum(n for (_, own), n in self.facilities.items() if own == "public")
        statuses = ", ".join(f"{s} {self.inspections[s]}" for s in ("approved", "submitted", "returned", "draft"))
        roles = ", ".join(f"{r} {n}" for r, n in sorted(self.users.items()))
        lines = [
            f"Demo data (seed {self.params.seed}, up to {self.params.today:%d/%m/%Y}) in {self.seconds:.1f} s",
            f"  Units: {units}; {self.successions} old-to-new successions",
            f"  Facilities: {sum(self.facilities.values())} ({types}; {public} public), "
            f"{self.never_assessed} never inspected; {self.areas} service areas",
            f"  Inspections: {sum(self.inspections.values())} ({statuses}; "
            f"{self.kinds['external']} external, {self.kinds['self']} self-assessments)",
            f"  Answers: {self.answers}; section results: {self.section_results}; team members: "
            f"{self.team_members}; signatures: {self.signatures}; corrective actions: {self.corrective_actions}; "
            f"review comments: {self.review_comments}",
            f"  Users: {sum(self.users.values())} ({roles})",
        ]
        if self.skipped:
            lines.append(f"  Skipped {self.skipped} planned visits with no checklist version in force")
        return "\n".join(lines)
