"""Demo inspections: which facility is visited when and by whom, how far each one got (draft, returned,
approved), and the rows of a visit (answers, section results, team, signatures, corrective actions, review
comments), all drawn from seeded random generators so the same seed gives the same rows."""

from __future__ import annotations

import bisect
import datetime as dt
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..checklists.models import ChecklistVersion
from ..checklists.registry import checklist_of, version_for
from ..checklists.schema import Checklist, FacilityProfile
from ..extensions import db
from ..inspections.models import (
    Answer,
    CorrectiveAction,
    Inspection,
    ReviewComment,
    SectionResult,
    Signature,
    TeamMember,
)
from ..scoring import score_inspection
from .answering import (
    Answers,
    Outcome,
    Plan,
    build_plan,
    engine_outcome,
    fast_outcome,
    generate_answers,
    met_probability,
)
from .bulk import _chunks, _insert_returning
from .facilities import FacilitySpec
from .names import person
from .params import OPINIONS, DemoParams, DemoSummary, _local
from .people import _Staff
from .signatures import signature


@dataclass
class _Planned:
    facility: int
    day: dt.date
    kind: str
    seq: int
    status: str = "approved"
    next_external: dt.date | None = None



def _plan_inspections(facilities: list[FacilitySpec], params: DemoParams, staff: _Staff) -> list[_Planned]:
    """Visit dates and kinds for every facility, then the statuses of the recent ones."""
    planned: list[_Planned] = []
    last = params.today - dt.timedelta(days=1)
    for index, f in enumerate(facilities):
        rng = random.Random(f"{params.seed}/schedule/{f.code}")
        start = max(params.history_from, f.active_from + dt.timedelta(days=60))
        end = min(last, f.active_to or last)
        if start > end:
            continue
        visits: list[tuple[dt.date, str]] = []
        if f.cadence != "never":
            step = 365 if f.cadence == "yearly" else 730
            day = start + dt.timedelta(days=rng.randint(0, min(step - 1, (end - start).days)))
            while day <= end:
                visits.append((day, "external"))
                day += dt.timedelta(days=step + rng.randint(-45, 45))
        for year in range(start.year, end.year + 1):
            if rng.random() < params.self_share:
                lo, hi = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
                if lo <= hi:
                    visits.append((lo + dt.timedelta(days=rng.randint(0, (hi - lo).days)), "self"))
        visits.sort()
        planned += [_Planned(index, day, kind, seq) for seq, (day, kind) in enumerate(visits)]
    _add_work_in_progress(planned, facilities, params, staff)
    _assign_statuses(planned, facilities, params, staff)
    # The next external visit is when the team checks last visit's corrective actions.
    following: dict[int, dt.date] = {}
    for p in sorted(planned, key=lambda p: (p.facility, -p.day.toordinal(), -p.seq)):
        p.next_external = following.get(p.facility)
        if p.kind == "external" and p.status != "draft":
            following[p.facility] = p.day
    return planned


def _add_work_in_progress(planned: list[_Planned], facilities: list[FacilitySpec], params: DemoParams,
                          staff: _Staff) -> None:
    """Visits of the last weeks still in progress (drafts) or awaiting review (submitted).

    They go preferably to the demo supervisors' districts, so that the demo logins have a draft to finish
    and a queue to review; facilities visited in the recent window are left alone.
    """
    rng = random.Random(f"{params.seed}/in-progress")
    recent = {p.facility for p in planned if (params.today - p.day).days <= params.recent_days}
    seqs = Counter(p.facility for p in planned)
    candidates = [i for i, f in enumerate(facilities)
                  if i not in recent and f.cadence != "never" and f.is_active(params.today)]
    focus = [i for i in candidates if facilities[i].district in staff.focus]
    rest = [i for i in candidates if facilities[i].district not in staff.focus]
    scale = len(facilities) / 100
    for status, wanted, days in (("draft", max(params.drafts, round(0.4 * scale)), (1, 6)),
                                 ("submitted", max(params.submitted, round(0.5 * scale)), (2, 20))):
        chosen = rng.sample(focus, min(len(focus), wanted))
        chosen += rng.sample(rest, min(len(rest), wanted - len(chosen)))
        for index in sorted(chosen):
            day = params.today - dt.timedelta(days=rng.randint(*days))
            planned.append(_Planned(index, day, "external", seqs[index], status=status))
        taken = set(chosen)
        focus = [i for i in focus if i not in taken]
        rest = [i for i in rest if i not in taken]


def _assign_statuses(planned: list[_Planned], facilities: list[FacilitySpec], params: DemoParams,
                     staff: _Staff) -> None:
    """Work in progress sits in the last weeks: some submitted, one or more returned, the rest approved."""
    rng = random.Random(f"{params.seed}/statuses")
    today = params.today
    recent = [p for p in planned if (today - p.day).days <= params.recent_days and p.status == "approved"]
    # Visits in the demo supervisors' districts first, newest first, so the demo logins see the work.
    recent.sort(key=lambda p: (facilities[p.facility].district not in staff.focus, -p.day.toordinal(),
                               facilities[p.facility].code, p.seq))
    returnable = [p for p in recent if p.kind == "external" and 7 <= (today - p.day).days <= 45]
    for p in returnable[:max(params.returned, round(0.01 * len(recent)))]:
        p.status = "returned"
    for p in sorted(recent, key=lambda p: (p.day, facilities[p.facility].code, p.seq)):
        if p.status != "approved":
            continue
        age = (today - p.day).days
        # Reviewers take days to weeks: the newest are mostly still waiting.
        if age <= 30 and rng.random() < 0.75 or age > 30 and rng.random() < 0.15:
            p.status = "submitted"


class _VersionPicker:
    """registry.version_for, called once per facility type and period between effective dates."""

    def __init__(self) -> None:
        rows = db.session.scalars(sa.select(ChecklistVersion).where(ChecklistVersion.status == "published")).all()
        self.bounds = sorted({row.effective_from for row in rows})
        self.cache: dict[tuple[str, int], ChecklistVersion | None] = {}
        self.checklists: dict[int, Checklist] = {}

    def pick(self, ftype: str, day: dt.date) -> tuple[ChecklistVersion, Checklist] | None:
        """The version (and its parsed checklist) an inspection of ``ftype`` on ``day`` uses."""
        key = (ftype, bisect.bisect_right(self.bounds, day))
        if key not in self.cache:
            self.cache[key] = version_for(ftype, day)
        version = self.cache[key]
        if version is None:
            return None
        if version.id not in self.checklists:
            self.checklists[version.id] = checklist_of(version)
        return version, self.checklists[version.id]


class _AnswerWriter:
    """Bulk writer for answer rows: plain DB-API executemany on SQLite and PostgreSQL, Core elsewhere."""

    COLUMNS = ("inspection_id", "item_id", "value", "note", "revision", "updated_at", "updated_by_id", "failed",
               "critical_failure")

    def __init__(self, chunk_size: int) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.chunk_size = chunk_size
        table = Answer.__table__
        dialect = db.session.get_bind().dialect
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
        self.raw = dialect.name in ("sqlite", "postgresql") and mark is not None
        # The bind processors SQLAlchemy itself would apply (UTC conversion, SQLite's datetime strings,
        # booleans), run once per inspection instead of once per answer row.
        when = table.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
        flag = table.c.failed.type.dialect_impl(dialect).bind_processor(dialect)
        self.when = (when or _same) if self.raw else _same
        self.flags = {v: (flag(v) if flag and self.raw and v is not None else v) for v in (True, False, None)}
        if self.raw:
            self.sql = (f"INSERT INTO {table.name} ({', '.join(self.COLUMNS)}) "
                        f"VALUES ({', '.join([mark] * len(self.COLUMNS))})")

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        """Queue rows (tuples in COLUMNS order); written when a chunk is full."""
        self.rows += rows
        if len(self.rows) >= self.chunk_size:
            self.flush()

    def flush(self) -> None:
        """Write the queued rows."""
        if not self.rows:
            return
        if self.raw:
            db.session.connection().exec_driver_sql(self.sql, self.rows)
        else:
            db.session.execute(sa.insert(Answer.__table__),
                               [dict(zip(self.COLUMNS, row, strict=True)) for row in self.rows])
        self.rows = []


def _same(value: Any) -> Any:
    return value


@dataclass
class _Rows:
    """Everything one inspection writes, waiting for the inspection's id."""

    inspection: dict[str, Any]
    answers: list[list[Any]]
    sections: list[tuple[str, Any, Any, Any, int]] = field(default_factory=list)
    team: list[dict[str, Any]] = field(default_factory=list)
    signatures: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


HEAD_TITLES = {"TYT": "Trạm trưởng", "TTYT": "Giám đốc", "BV": "Phó Giám đốc",
               "PK": "Người phụ trách chuyên môn", "NT": "Dược sĩ phụ trách chuyên môn"}
DEPUTY_TITLES = {"TYT": "Nữ hộ sinh, phụ trách KHHGĐ", "TTYT": "Trưởng khoa CSSKSS", "BV": "Trưởng khoa Phụ sản",
                 "PK": "Y sĩ sản nhi", "NT": "Nhân viên bán thuốc"}
ACTIONS = {
    "A": "Bổ sung, niêm yết và lưu đủ giấy tờ, tài liệu chuyên môn theo quy định",
    "B": "Sửa chữa, bố trí lại cơ sở vật chất bảo đảm kín đáo, vệ sinh",
    "C": "Cử cán bộ tham gia tập huấn và lưu giấy chứng nhận",
    "D": "Đề xuất bổ sung, sửa chữa trang thiết bị; tạm dừng thủ thuật khi chưa đủ dụng cụ",
    "E": "Kiểm kê kho, loại bỏ hàng hết hạn, dự trù bổ sung PTTT",
    "F": "Thực hiện đúng quy trình KSNK và ghi sổ theo dõi tiệt khuẩn",
    "G": "Rà soát kỹ năng tư vấn theo bảng kiểm, tư vấn đầy đủ các BPTT",
    "H": "Thực hiện đúng hướng dẫn quốc gia, dùng bảng kiểm trước khi cung cấp biện pháp",
    "I": "Bổ sung hộp chống sốc, niêm yết phác đồ và thông tin chuyển tuyến",
    "J": "Hoàn thiện sổ sách, đối chiếu số liệu trước khi báo cáo",
    "K": "Đặt hòm thư góp ý, tổ chức khảo sát hài lòng và tự đánh giá",
    "L": "Bổ sung hồ sơ GPP, sổ theo dõi nhiệt độ, độ ẩm và quản lý số lô",
}
EVIDENCE = ("Đã khắc phục, có ảnh chụp minh chứng gửi kèm.", "Kiểm tra lại ngày giám sát sau: đã đạt.",
            "Cơ sở gửi báo cáo khắc phục và bản sao giấy tờ.", "Đã bổ sung, xác nhận qua điện thoại và ảnh chụp.")
RETURN_COMMENTS = ("Đề nghị bổ sung ảnh minh chứng cho các tiêu chí không đạt và ghi rõ ý kiến của cơ sở.",
                   "Biên bản thiếu chữ ký xác nhận ý kiến cơ sở; đề nghị rà soát lại thời hạn khắc phục.")


def _write_inspections(planned: list[_Planned], facilities: list[FacilitySpec], facility_ids: list[int],
                       staff: _Staff, params: DemoParams, summary: DemoSummary) -> None:
    picker = _VersionPicker()
    plans: dict[tuple[int, str, tuple[str, ...], str], Plan] = {}
    difficulty: dict[str, float] = {}
    writer = _AnswerWriter(params.chunk_size)
    batch: list[_Rows] = []
    assessed: set[int] = set()
    batch_size = max(50, params.chunk_size // 100)

    def flush_batch() -> None:
        ids = _insert_returning(Inspection.__table__, [rows.inspection for rows in batch])
        children: dict[sa.Table, list[dict[str, Any]]] = {table: [] for table in (
            SectionResult.__table__, TeamMember.__table__, Signature.__table__, CorrectiveAction.__table__,
            ReviewComment.__table__)}
        for rows, iid in zip(batch, ids, strict=True):
            children[SectionResult.__table__] += [
                {"inspection_id": iid, "section_id": s, "earned": e, "possible": p, "percent": pc,
                 "critical_failures": c} for s, e, p, pc, c in rows.sections]
            for table, extra in ((TeamMember.__table__, rows.team), (Signature.__table__, rows.signatures),
                                 (CorrectiveAction.__table__, rows.actions), (ReviewComment.__table__, rows.comments)):
                for row in extra:
                    row["inspection_id"] = iid
                children[table] += extra
            for row in rows.answers:
                row[0] = iid
            writer.add([tuple(row) for row in rows.answers])
        for table, table_rows in children.items():
            for chunk in _chunks(table_rows, 5_000):
                db.session.execute(sa.insert(table), list(chunk))
        summary.section_results += len(children[SectionResult.__table__])
        summary.team_members += len(children[TeamMember.__table__])
        summary.signatures += len(children[Signature.__table__])
        summary.corrective_actions += len(children[CorrectiveAction.__table__])
        summary.review_comments += len(children[ReviewComment.__table__])
        batch.clear()

    for p in sorted(planned, key=lambda p: (p.facility, p.seq)):
        f = facilities[p.facility]
        chosen = picker.pick(f.type, p.day)
        if chosen is None:
            summary.skipped += 1
            continue
        version, checklist = chosen
        services = f.services_on(p.day)
        plan_key = (version.id, f.type, services, f.ownership)
        plan = plans.get(plan_key)
        if plan is None:
            for item in checklist.items:
                if item.id not in difficulty:
                    # Some items are harder everywhere (training certificates, client surveys): a fixed offset.
                    item_rng = random.Random(f"{params.seed}/difficulty/{item.id}")
                    difficulty[item.id] = max(-0.08, min(0.08, item_rng.gauss(0.0, 0.04)))
            plan = plans[plan_key] = build_plan(
                checklist, FacilityProfile(f.type, frozenset(services), f.ownership), difficulty)
        rows = _inspection_rows(p, f, facility_ids[p.facility], version, plan, params, staff, writer)
        batch.append(rows)
        summary.inspections[rows.inspection["status"]] += 1
        summary.kinds[p.kind] += 1
        summary.answers += len(rows.answers)
        if p.kind == "external":
            assessed.add(p.facility)
        if len(batch) >= batch_size:
            flush_batch()
    if batch:
        flush_batch()
    writer.flush()
    summary.never_assessed = len(facilities) - len(assessed)


def _inspection_rows(p: _Planned, f: FacilitySpec, facility_id: int, version: ChecklistVersion, plan: Plan,
                     params: DemoParams, staff: _Staff, writer: _AnswerWriter) -> _Rows:
    """One inspection's rows; the answers and scores of a complete one, partial answers for a draft."""
    rng = random.Random(f"{params.seed}/inspection/{f.code}/{p.seq}")
    inspection_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    p_met = met_probability(f.type, f.ownership, p.day, p.kind == "self") + f.quality + rng.gauss(0.0, 0.025)
    limit = None if p.status != "draft" else max(1, int(len(plan.items) * rng.uniform(0.3, 0.85)))
    answers = generate_answers(plan, rng, p_met, f.traits, na_rate=params.na_rate,
                               critical_factor=params.critical_factor, note_rate=params.note_rate, limit=limit)
    now = _local(params.today, 10, 0)
    province = staff.provinces[f.province]
    creators = staff.creators.get(f.district) or [staff.province_creator.get(province)
                                                  or next(iter(staff.province_creator.values()))]
    creator = creators[rng.randrange(len(creators))]
    reviewer = (staff.reviewer.get(f.district) or staff.manager.get(province)
                or next(iter(staff.manager.values())))
    created = min(_local(p.day, 7, 30) + dt.timedelta(minutes=rng.randint(0, 120)), now - dt.timedelta(hours=3))
    answered = created + dt.timedelta(minutes=rng.randint(50, 150))
    status = p.status
    inspection: dict[str, Any] = {
        "uuid": inspection_uuid, "facility_id": facility_id, "checklist_version_id": version.id, "kind": p.kind,
        "status": status, "inspection_date": p.day, "created_by_id": creator, "created_at": created,
        "facility_type": f.type, "facility_services": sorted(plan.profile.services), "facility_opinion": "",
        "supersedes_id": None, "submitted_at": None, "submitted_by_id": None, "approved_at": None,
        "approved_by_id": None, "overall_percent": None, "classification": None, "critical_failures": None,
        "failed_items": None, "checklist_sha256": None,
    }
    rows = _Rows(inspection, [])
    rows.team = _team(p, f, creator, creators, staff, rng, params)
    stamp = writer.when(answered)
    if status == "draft":
        inspection.update(updated_at=answered, revision=1 + len(answers.values) + 1)
        rows.answers = [[0, i, v, n, 1, stamp, creator, None, None]
                        for i, v, n in zip(answers.item_ids, answers.values, answers.notes, strict=True)]
        return rows
    outcome: Outcome
    if params.fast_scoring:
        outcome = fast_outcome(plan, answers)
    else:
        outcome = engine_outcome(score_inspection(plan.checklist, plan.profile, answers.as_mapping()), answers)
    # Tablets without network sync in the next days; otherwise the team submits on site.
    submitted = answered + (dt.timedelta(minutes=rng.randint(5, 40)) if rng.random() < 0.75
                            else dt.timedelta(days=rng.randint(1, 4)))
    submitted = min(submitted, now - dt.timedelta(hours=1))
    revision = 1 + len(answers.values) + 3  # start, every answer, team, signatures, corrective actions, submit
    inspection.update(submitted_at=submitted, submitted_by_id=creator, overall_percent=outcome.overall_percent,
                      classification=outcome.classification, critical_failures=outcome.critical_failures,
                      failed_items=outcome.failed_items, checklist_sha256=version.sha256, updated_at=submitted,
                      revision=revision + 1)
    if p.kind == "external" and rng.random() < 0.7:
        inspection["facility_opinion"] = OPINIONS[rng.randrange(len(OPINIONS))]
    if status == "approved":
        approved = min(submitted + dt.timedelta(days=rng.randint(1, 21), hours=rng.randint(0, 6)),
                       now - dt.timedelta(minutes=10))
        if approved <= submitted:
            inspection["status"] = status = "submitted"
        else:
            inspection.update(approved_at=approved, approved_by_id=reviewer, updated_at=approved,
                              revision=revision + 2)
    elif status == "returned":
        returned = max(submitted, min(submitted + dt.timedelta(days=rng.randint(1, 5)), now - dt.timedelta(minutes=30)))
        inspection.update(updated_at=returned, revision=revision + 2)
        failed_ids = [i for i, fl in zip(answers.item_ids, outcome.failed, strict=True) if fl]
        rows.comments.append({"item_id": None, "body": RETURN_COMMENTS[rng.randrange(len(RETURN_COMMENTS))],
                              "author_id": reviewer, "created_at": returned, "resolved": False})
        if failed_ids:
            item_id = failed_ids[rng.randrange(len(failed_ids))]
            rows.comments.append({"item_id": item_id, "body": f"Tiêu chí {item_id}: ghi chú chưa nêu cụ thể tồn tại, "
                                  "đề nghị mô tả rõ và chụp ảnh minh chứng.", "author_id": reviewer,
                                  "created_at": returned, "resolved": False})
    flags = writer.flags
    rows.answers = [[0, i, v, n, 1, stamp, creator, flags[fl], flags[cr]] for i, v, n, fl, cr in zip(
        answers.item_ids, answers.values, answers.notes, outcome.failed, outcome.critical, strict=True)]
    rows.sections = outcome.sections
    rows.actions = _actions(p, f, facility_id, plan, answers, outcome, creator, rng, params)
    if params.signatures:
        # Every named member signs (filing requires it); one member per role here, so the role is the signer key.
        for member in rows.team:
            png, strokes = signature(member["full_name"], params.seed)
            rows.signatures.append({"role": member["role"], "member_key": member["role"],
                                    "signer_name": member["full_name"], "png": png,
                                    "strokes": strokes, "signed_at": answered + dt.timedelta(minutes=3)})
    return rows


def _team(p: _Planned, f: FacilitySpec, creator: int, creators: list[int], staff: _Staff, rng: random.Random,
          params: DemoParams) -> list[dict[str, Any]]:
    """Who signs the minutes: the team head and a member, and the facility's representative."""
    facility_head = (f.head_name, f"{HEAD_TITLES[f.type]}, {f.name}")
    deputy = (person(random.Random(f"{params.seed}/deputy/{f.code}"), params.ethnic_share),
              f"{DEPUTY_TITLES[f.type]}, {f.name}")
    if p.kind == "self":
        # A self-assessment is led by the facility's head and countersigned by the staff member in charge of FP.
        members = [("head", *facility_head), ("facility_rep", *deputy)]
    else:
        others = [u for u in creators if u != creator]
        second = staff.people[others[rng.randrange(len(others))]] if others else (
            person(rng, params.ethnic_share), "Cán bộ Trung tâm Kiểm soát bệnh tật tỉnh")
        members = [("head", *staff.people[creator]), ("member", *second), ("facility_rep", *facility_head)]
    return [{"role": role, "full_name": name, "position": position[:160], "position_order": order}
            for order, (role, name, position) in enumerate(members)]


def _actions(p: _Planned, f: FacilitySpec, facility_id: int, plan: Plan, answers: Answers, outcome: Outcome,
             creator: int, rng: random.Random, params: DemoParams) -> list[dict[str, Any]]:
    """A corrective action for every failed item (submission requires one), closed once the fix is seen."""
    deadline = p.day + dt.timedelta(days=plan.checklist.scoring.corrective_days)
    responsible = f"{f.head_name}, {HEAD_TITLES[f.type]}"
    out = []
    for item, note, failed in zip(answers.item_ids, answers.notes, outcome.failed, strict=True):
        if not failed:
            continue
        action = ACTIONS.get(item[:1], "Khắc phục tồn tại và báo cáo kết quả")
        row: dict[str, Any] = {"facility_id": facility_id, "item_id": item, "action": f"{action} ({note.rstrip('.')})."
                               if note else f"{action}.", "responsible": responsible, "deadline": deadline,
                               "status": "open", "evidence": "", "done_at": None, "done_by_id": None}
        # Fixed before the next visit, or (half of the time) reported fixed some weeks after the deadline.
        if p.next_external is not None or (deadline < params.today and rng.random() < 0.5):
            last = min(deadline + dt.timedelta(days=20), p.next_external or params.today)
            span = (last - p.day).days
            if span >= 2:
                done_day = p.day + dt.timedelta(days=rng.randint(max(1, span // 3), span - 1))
                row.update(status="done", evidence=EVIDENCE[rng.randrange(len(EVIDENCE))],
                           done_at=_local(done_day, 9, rng.randint(0, 59)), done_by_id=creator)
        out.append(row)
    return out
