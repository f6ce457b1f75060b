"""Assessments, their mitigations, sign-offs, the in-app notices to authors, and risk settings.

An assessment is one version of one party's suitability or risk assessment.
Changing an approved assessment creates a new row (the next version, linked to
the previous one), so every approval stays in history with the content it
approved. The database refuses a sign-off by the assessment's author (four
eyes, DOMAIN rule 3), and a sign-off names the author through a composite key
so that the stored author cannot differ from the assessment's.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj_scheduler.auth.models import User
from rj_scheduler.cases.models import Case, Party
from rj_scheduler.db import Base, now, public_id
from rj_scheduler.risk.levels import LEVEL_VALUES

DEFAULT_APPROVAL_VALID_DAYS = 90


class AssessmentKind(enum.StrEnum):
    SUITABILITY = "suitability"
    RISK = "risk"

    @property
    def label(self) -> str:
        return {"suitability": "Suitability assessment", "risk": "Risk assessment"}[self.value]


class AssessmentStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    AWAITING_MANAGER = "awaiting_manager"
    APPROVED = "approved"
    RETURNED = "returned"
    SUPERSEDED = "superseded"

    @property
    def label(self) -> str:
        return {
            "draft": "Draft",
            "submitted": "Waiting for sign-off",
            "awaiting_manager": "Waiting for a manager's approval",
            "approved": "Approved",
            "returned": "Returned",
            "superseded": "Replaced by a newer version",
        }[self.value]


class Decision(enum.StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"


def _values(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Assessment(Base):
    """One version of a party's suitability or risk assessment, with its answers (JSON, keyed by question id)."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint(f"kind IN {_values(k.value for k in AssessmentKind)}", name="kind_known"),
        CheckConstraint(f"status IN {_values(s.value for s in AssessmentStatus)}", name="status_known"),
        CheckConstraint(
            f"final_level IS NULL OR final_level IN {_values(LEVEL_VALUES)}", name="final_level_known"
        ),
        CheckConstraint(f"indicative_level IN {_values(LEVEL_VALUES)}", name="indicative_level_known"),
        CheckConstraint("status <> 'approved' OR approved_at IS NOT NULL", name="approved_has_time"),
        CheckConstraint("version_number >= 1", name="version_positive"),
        CheckConstraint("questionnaire_version >= 1", name="questionnaire_version_positive"),
        # The composite key sign-offs point at, so their stored author is the assessment's author.
        UniqueConstraint("id", "author_id", name="uq_assessments_id_author_id"),
        UniqueConstraint("party_id", "kind", "version_number"),
        # One live (not superseded) assessment per party and kind.
        Index(
            "ix_assessments_live_per_party_kind",
            "party_id",
            "kind",
            unique=True,
            sqlite_where=text("status <> 'superseded'"),
            postgresql_where=text("status <> 'superseded'"),
        ),
        Index("ix_assessments_service_status", "service_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    kind: Mapped[str] = mapped_column(String(20))
    questionnaire_id: Mapped[str] = mapped_column(String(60))
    questionnaire_version: Mapped[int]
    version_number: Mapped[int] = mapped_column(default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=AssessmentStatus.DRAFT.value)
    answers_json: Mapped[str] = mapped_column(Text, default="{}")
    indicative_level: Mapped[str] = mapped_column(String(10), default="low")
    indicative_score: Mapped[int] = mapped_column(default=0)
    final_level: Mapped[str | None] = mapped_column(String(10))
    level_rationale: Mapped[str | None] = mapped_column(Text)
    # Suitability assessments only: the facilitator's conclusion.
    suitable: Mapped[bool | None]
    # Worked out at submission: a high final level or a sensitive case needs a manager's approval.
    needs_manager: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now)
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    superseded_at: Mapped[dt.datetime | None]

    case: Mapped[Case] = relationship()
    party: Mapped[Party] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    previous: Mapped[Assessment | None] = relationship(remote_side=[id], foreign_keys=[previous_id])
    mitigations: Mapped[list[Mitigation]] = relationship(
        back_populates="assessment", order_by="Mitigation.id", cascade="all, delete-orphan"
    )
    sign_offs: Mapped[list[SignOff]] = relationship(
        back_populates="assessment",
        order_by="SignOff.decided_at, SignOff.id",
        foreign_keys="SignOff.assessment_id",
        overlaps="author",
    )
    editors: Mapped[list[AssessmentEditor]] = relationship(cascade="all, delete-orphan")

    @property
    def answers(self) -> dict[str, str]:
        return json.loads(self.answers_json or "{}")

    @property
    def kind_enum(self) -> AssessmentKind:
        return AssessmentKind(self.kind)

    @property
    def kind_label(self) -> str:
        return AssessmentKind(self.kind).label

    @property
    def status_enum(self) -> AssessmentStatus:
        return AssessmentStatus(self.status)

    @property
    def status_label(self) -> str:
        return AssessmentStatus(self.status).label

    @property
    def editable(self) -> bool:
        return self.status in (AssessmentStatus.DRAFT, AssessmentStatus.RETURNED)

    @property
    def editor_ids(self) -> set[int]:
        """Everyone who wrote any of this version (the author always among them)."""
        return {e.user_id for e in self.editors} | {self.author_id}

    @property
    def content_hash(self) -> str:
        """A SHA-256 of what a sign-off approves: answers, level, rationale, conclusion, mitigations planned.

        Marking a mitigation done is progress, not a change, so it is left out.
        """
        content = {
            "questionnaire": [self.questionnaire_id, self.questionnaire_version],
            "answers": self.answers,
            "final_level": self.final_level,
            "rationale": self.level_rationale,
            "suitable": self.suitable,
            "mitigations": sorted(
                [m.description, m.owner, bool(m.before_conference)] for m in self.mitigations
            ),
        }
        blob = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


class AssessmentEditor(Base):
    """Someone who wrote part of an assessment version: none of them may sign it off."""

    __tablename__ = "assessment_editors"

    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    first_edited_at: Mapped[dt.datetime] = mapped_column(default=now)


class Mitigation(Base):
    """An action that lowers a risk: who owns it, whether it must be done before the conference, and if it is."""

    __tablename__ = "assessment_mitigations"
    __table_args__ = (CheckConstraint("done = (done_at IS NOT NULL)", name="done_has_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    before_conference: Mapped[bool] = mapped_column(default=False)
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[dt.datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    assessment: Mapped[Assessment] = relationship(back_populates="mitigations")


class SignOff(Base):
    """A supervisor's or manager's decision on one assessment version: what, by whom, as what, when, on what content."""

    __tablename__ = "assessment_sign_offs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["assessment_id", "author_id"],
            ["assessments.id", "assessments.author_id"],
            name="fk_assessment_sign_offs_assessment_author",
        ),
        # Four eyes (DOMAIN rule 3): nobody signs off their own assessment, whatever their role.
        CheckConstraint("signed_off_by_id <> author_id", name="not_by_author"),
        CheckConstraint(f"decision IN {_values(d.value for d in Decision)}", name="decision_known"),
        CheckConstraint("role_at_time IN ('supervisor', 'manager')", name="role_may_sign_off"),
        CheckConstraint(
            "decision <> 'returned' OR (comments IS NOT NULL AND comments <> '')",
            name="return_has_comments",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    assessment_id: Mapped[int] = mapped_column(index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_off_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(20))
    role_at_time: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[dt.datetime]
    comments: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    assessment_version_number: Mapped[int]

    assessment: Mapped[Assessment] = relationship(
        back_populates="sign_offs", foreign_keys=[assessment_id], overlaps="author"
    )
    signed_off_by: Mapped[User] = relationship(foreign_keys=[signed_off_by_id])

    @property
    def by_manager(self) -> bool:
        return self.role_at_time == "manager"


class AssessmentNotice(Base):
    """An in-app notice to an assessment's author: it was returned (with comments) or approved."""

    __tablename__ = "assessment_notices"
    __table_args__ = (Index("ix_assessment_notices_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    read_at: Mapped[dt.datetime | None]

    assessment: Mapped[Assessment] = relationship()


class RiskSettings(Base):
    """A service's risk settings; without a row the defaults apply (approval valid for 90 days)."""

    __tablename__ = "risk_settings"
    __table_args__ = (CheckConstraint("approval_valid_days BETWEEN 1 AND 730", name="valid_days_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), unique=True)
    approval_valid_days: Mapped[int] = mapped_column(default=DEFAULT_APPROVAL_VALID_DAYS)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
