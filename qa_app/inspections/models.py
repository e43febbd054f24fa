"""Inspections, their answers and the scores stored at submission."""

from __future__ import annotations

import datetime as dt
import decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..checklists.models import ChecklistVersion
from ..extensions import UTCDateTime, db, intpk, timestamp
from ..facilities.models import Facility

STATUSES = ("draft", "submitted", "returned", "approved")
KINDS = ("external", "self")
CLASSIFICATIONS = ("meets", "conditional", "does_not_meet")


class Inspection(db.Model):
    """One visit scoring one facility against one pinned checklist version."""

    __tablename__ = "inspection"
    __table_args__ = (
        sa.CheckConstraint("status IN ('draft', 'submitted', 'returned', 'approved')", name="status"),
        sa.CheckConstraint("kind IN ('external', 'self')", name="kind"),
        sa.CheckConstraint(
            "classification IS NULL OR classification IN ('meets', 'conditional', 'does_not_meet', 'not_assessable')",
            name="classification",
        ),
        sa.CheckConstraint("overall_percent IS NULL OR (overall_percent >= 0 AND overall_percent <= 100)",
                           name="overall_range"),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
        # Scores are stored at submission and must be there for everything past draft.
        sa.CheckConstraint(
            "status IN ('draft', 'returned') OR (submitted_at IS NOT NULL AND classification IS NOT NULL"
            " AND checklist_sha256 IS NOT NULL)",
            name="scored_when_submitted",
        ),
        sa.CheckConstraint("status <> 'approved' OR (approved_at IS NOT NULL AND approved_by_id IS NOT NULL)",
                           name="approval_recorded"),
        sa.Index("ix_inspection_facility_status_date", "facility_id", "status", "inspection_date"),
    )

    id: Mapped[intpk]
    # Client-generated id (UUID) so an offline tablet can create an inspection exactly once.
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facility.id", ondelete="RESTRICT"))
    checklist_version_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_version.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.String(10), default="external")
    status: Mapped[str] = mapped_column(sa.String(10), default="draft", index=True)
    inspection_date: Mapped[dt.date] = mapped_column(sa.Date)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    created_at: Mapped[timestamp]
    updated_at: Mapped[timestamp]
    # Bumped on every change; a writer that read an older revision gets a conflict, never a silent overwrite.
    revision: Mapped[int] = mapped_column(default=1)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    overall_percent: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(5, 2))
    classification: Mapped[str | None] = mapped_column(sa.String(16))
    critical_failures: Mapped[int | None]
    failed_items: Mapped[int | None]
    checklist_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    # Score group results stored at submission, in file order: [{"id", "percent", "classification"}]; None for a
    # checklist without groups.
    group_results: Mapped[list | None] = mapped_column(sa.JSON)
    # Type and services the facility had on the day: scoring must not change when the registry does.
    facility_type: Mapped[str] = mapped_column(sa.String(4))
    facility_services: Mapped[list] = mapped_column(sa.JSON, default=list)
    facility_opinion: Mapped[str] = mapped_column(sa.Text, default="")
    # The representative explicitly chose "không có ý kiến": an empty opinion is otherwise "not recorded",
    # never printed as an agreement (qa_app/minutes/text.py).
    facility_no_opinion: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The decision establishing the team (Quyết định số … ngày … của …), cited first among the bases of the
    # minutes; empty: the unit's configured plan is cited instead.
    team_decision_number: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    team_decision_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    team_decision_issuer: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    # Kết luận of the team: strengths and shortcomings, written by the supervisor (suggested from the results).
    conclusion_strengths: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    conclusion_shortcomings: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # A correction of an approved inspection is a new inspection that points to the old one.
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspection.id", ondelete="RESTRICT"))

    facility: Mapped[Facility] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    answers: Mapped[list[Answer]] = relationship(back_populates="inspection", cascade="all, delete-orphan")
    section_results: Mapped[list[SectionResult]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="SectionResult.section_id"
    )


class Answer(db.Model):
    """The answer to one item of one inspection, with the supervisor's note."""

    __tablename__ = "answer"
    __table_args__ = (
        sa.UniqueConstraint("inspection_id", "item_id"),
        # Only the failed answers (~15 %): the dashboards' "most failed items" counts from this index alone.
        sa.Index("ix_answer_failed", "inspection_id", "item_id",
                 sqlite_where=sa.text("failed IS 1"), postgresql_where=sa.text("failed IS TRUE")),
    )

    id: Mapped[intpk]
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(sa.String(16))
    # Normalised answer as text: "met" / "not_met" / "na", a scale level, a number, or free text.
    value: Mapped[str | None] = mapped_column(sa.String(2000))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # Compare-and-set counter: a save that read an older revision is a conflict, not an overwrite.
    revision: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[timestamp]
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    # Set from the scoring engine at submission, so "most failed items" is a SQL count.
    failed: Mapped[bool | None]
    critical_failure: Mapped[bool | None]

    inspection: Mapped[Inspection] = relationship(back_populates="answers")


class SectionResult(db.Model):
    """A section's score as computed at submission (the SQL aggregates of dashboards read these)."""

    __tablename__ = "section_result"
    __table_args__ = (
        sa.CheckConstraint("possible >= 0 AND earned >= 0 AND earned <= possible", name="points"),
        sa.CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)", name="percent_range"),
    )

    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id", ondelete="CASCADE"), primary_key=True)
    section_id: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    earned: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(10, 4))
    possible: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(10, 4))
    percent: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(5, 2))
    critical_failures: Mapped[int] = mapped_column(default=0)

    inspection: Mapped[Inspection] = relationship(back_populates="section_results")


TEAM_ROLES = ("head", "deputy", "member", "secretary", "facility_rep")


class TeamMember(db.Model):
    """A member of the inspection team, or a representative of the inspected facility."""

    __tablename__ = "team_member"
    __table_args__ = (
        sa.CheckConstraint("role IN ('head', 'deputy', 'member', 'secretary', 'facility_rep')", name="role"),
        sa.CheckConstraint("length(trim(full_name)) > 0", name="name_present"),
    )

    id: Mapped[intpk]
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    full_name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[str] = mapped_column(sa.String(160), default="")
    position_order: Mapped[int] = mapped_column(default=0)


class Signature(db.Model):
    """A drawn signature (PNG and the strokes it was drawn with) of one team member or the facility representative.

    ``member_key`` names the member (``signer_keys``): the role for the first member of a role ("head",
    "secretary"), "role-N" for the N-th ("member-2"). The team is replaced whole when saved, so the key follows
    the member's place in the team, and any change of the team changes the content and voids signatures anyway.
    """

    __tablename__ = "signature"
    __table_args__ = (
        sa.UniqueConstraint("inspection_id", "member_key"),
        sa.CheckConstraint("role IN ('head', 'deputy', 'member', 'secretary', 'facility_rep')", name="role"),
    )

    id: Mapped[intpk]
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(16))
    member_key: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    signer_name: Mapped[str] = mapped_column(sa.String(120))
    png: Mapped[bytes] = mapped_column(sa.LargeBinary)
    strokes: Mapped[list] = mapped_column(sa.JSON, default=list)
    signed_at: Mapped[timestamp]
    # SHA-256 of the visit content the signer saw (qa_app/minutes/content.py); NULL for rows from before.
    content_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    # Set when the content changed after signing: the signature no longer counts and is never printed.
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Photo(db.Model):
    """Evidence photographed for one item (resized JPEG, checked on upload)."""

    __tablename__ = "photo"
    __table_args__ = (sa.CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[intpk]
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(sa.String(16))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[timestamp]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))


class CorrectiveAction(db.Model):
    """What the facility must fix for a failed item, who is responsible, and by when."""

    __tablename__ = "corrective_action"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'done')", name="status"),
        sa.CheckConstraint("status <> 'done' OR (done_at IS NOT NULL AND length(trim(evidence)) > 0)",
                           name="done_needs_evidence"),
        sa.Index("ix_corrective_action_facility_status", "facility_id", "status"),
    )

    id: Mapped[intpk]
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id", ondelete="CASCADE"), index=True)
    # Denormalised so a facility's open actions are one indexed query.
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facility.id", ondelete="RESTRICT"))
    item_id: Mapped[str] = mapped_column(sa.String(16))
    action: Mapped[str] = mapped_column(sa.Text)
    responsible: Mapped[str] = mapped_column(sa.String(160))
    deadline: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(8), default="open")
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))


class ReviewComment(db.Model):
    """A reviewer's comment on an inspection, or on one of its items; a return always carries one."""

    __tablename__ = "review_comment"
    __table_args__ = (sa.CheckConstraint("length(trim(body)) > 0", name="body_present"),)

    id: Mapped[intpk]
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str | None] = mapped_column(sa.String(16))
    body: Mapped[str] = mapped_column(sa.Text)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    created_at: Mapped[timestamp]
    resolved: Mapped[bool] = mapped_column(default=False)


def signer_keys(roles: list[str]) -> list[str]:
    """The signer key of each team member, given the members' roles in team order (pure).

    The first member of a role is keyed by the role itself (so signatures made when there was one row per role
    keep their meaning); the N-th (N >= 2) by "role-N".
    """
    seen: dict[str, int] = {}
    keys = []
    for role in roles:
        seen[role] = seen.get(role, 0) + 1
        keys.append(role if seen[role] == 1 else f"{role}-{seen[role]}")
    return keys


class StatusInterval(db.Model):
    """A read model of compliance: the days on which one approved inspection is its facility's latest.

    One row per approved external inspection that no approved correction replaces: from its inspection date
    (``starts_on``) to the date of the facility's next such inspection in the same programme (``ends_on``,
    exclusive; NULL while it is the latest), with the first day its checklist's validity no longer covers it
    (``expires_on``) and the result stored at submission. "The facility's latest result on day D" is then a
    lookup (starts_on <= D < ends_on) instead of ranking every inspection of the country again. Written by
    inspections.status in the transaction of every approval, and rebuilt by the same code.
    """

    __tablename__ = "status_interval"
    __table_args__ = (
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ordered"),
        sa.Index("ix_status_interval_facility", "facility_id", "programme", "starts_on"),
        sa.Index("ix_status_interval_day", "programme", "starts_on", "ends_on"),
    )

    id: Mapped[intpk]
    facility_id: Mapped[int] = mapped_column(sa.ForeignKey("facility.id", ondelete="CASCADE"))
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection.id", ondelete="CASCADE"), unique=True)
    programme: Mapped[str] = mapped_column(sa.String(20))
    checklist_version_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_version.id", ondelete="RESTRICT"))
    starts_on: Mapped[dt.date] = mapped_column(sa.Date)
    ends_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    expires_on: Mapped[dt.date] = mapped_column(sa.Date)
    classification: Mapped[str | None] = mapped_column(sa.String(16))
    overall_percent: Mapped[decimal.Decimal | None] = mapped_column(sa.Numeric(5, 2))
    critical_failures: Mapped[int | None]
