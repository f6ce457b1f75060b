"""Named reads of assessments, sign-offs, notices and settings, always scoped to one service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from rj_scheduler.auth.models import User
from rj_scheduler.cases.models import Case, Party
from rj_scheduler.risk.models import (
    DEFAULT_APPROVAL_VALID_DAYS,
    Assessment,
    AssessmentNotice,
    AssessmentStatus,
    Mitigation,
    RiskSettings,
    SignOff,
)

_LOAD = (
    selectinload(Assessment.mitigations),
    selectinload(Assessment.sign_offs).joinedload(SignOff.signed_off_by),
    selectinload(Assessment.editors),
    joinedload(Assessment.author),
)


def assessment_by_public_id(session: Session, service_id: int, public_id: str) -> Assessment | None:
    """An assessment of this service (with its case and party), or None."""
    return session.scalar(
        select(Assessment)
        .where(Assessment.service_id == service_id, Assessment.public_id == public_id)
        .options(*_LOAD, joinedload(Assessment.case), joinedload(Assessment.party))
    )


def mitigation_by_public_id(session: Session, assessment: Assessment, public_id: str) -> Mitigation | None:
    return next((m for m in assessment.mitigations if m.public_id == public_id), None)


def live_assessment(session: Session, party: Party, kind: str) -> Assessment | None:
    """The party's current version of this kind of assessment (not superseded), or None."""
    return session.scalar(
        select(Assessment)
        .where(
            Assessment.party_id == party.id,
            Assessment.service_id == party.service_id,
            Assessment.kind == kind,
            Assessment.status != AssessmentStatus.SUPERSEDED.value,
        )
        .options(*_LOAD)
    )


def live_assessments_for_case(session: Session, case: Case) -> dict[tuple[int, str], Assessment]:
    """Every party's current assessments in the case, keyed by (party id, kind), in one query."""
    rows = session.scalars(
        select(Assessment)
        .where(
            Assessment.case_id == case.id,
            Assessment.service_id == case.service_id,
            Assessment.status != AssessmentStatus.SUPERSEDED.value,
        )
        .options(*_LOAD)
    )
    return {(a.party_id, a.kind): a for a in rows}


def versions(session: Session, assessment: Assessment) -> list[Assessment]:
    """Every version of this party's assessment of this kind, newest first (history)."""
    return list(
        session.scalars(
            select(Assessment)
            .where(
                Assessment.party_id == assessment.party_id,
                Assessment.kind == assessment.kind,
                Assessment.service_id == assessment.service_id,
            )
            .options(*_LOAD)
            .order_by(Assessment.version_number.desc())
        )
    )


def approval_valid_days(session: Session, service_id: int) -> int:
    """How many days an approval stays valid in this service (the default when none is set)."""
    days = session.scalar(
        select(RiskSettings.approval_valid_days).where(RiskSettings.service_id == service_id)
    )
    return days if days is not None else DEFAULT_APPROVAL_VALID_DAYS


def risk_settings(session: Session, service_id: int) -> RiskSettings | None:
    return session.scalar(select(RiskSettings).where(RiskSettings.service_id == service_id))


@dataclass(frozen=True)
class QueueItem:
    assessment: Assessment
    waited: dt.timedelta
    level: str


_LEVEL_ORDER = sql_case({"high": 0, "medium": 1, "low": 2}, value=Assessment.final_level, else_=3)


def sign_off_queue(
    session: Session, service_id: int, statuses: list[str], at: dt.datetime
) -> list[QueueItem]:
    """Assessments waiting for sign-off: highest final level first, then the longest waiting."""
    rows = session.scalars(
        select(Assessment)
        .where(Assessment.service_id == service_id, Assessment.status.in_(statuses))
        .options(
            joinedload(Assessment.case),
            joinedload(Assessment.party),
            joinedload(Assessment.author),
            selectinload(Assessment.editors),
        )
        .order_by(_LEVEL_ORDER, Assessment.submitted_at, Assessment.id)
    )
    return [
        QueueItem(assessment=a, waited=at - (a.submitted_at or at), level=a.final_level or "low")
        for a in rows
    ]


def unread_notices(session: Session, user: User, limit: int = 20) -> list[AssessmentNotice]:
    """The user's unread notices about their assessments, newest first."""
    return list(
        session.scalars(
            select(AssessmentNotice)
            .where(
                AssessmentNotice.user_id == user.id,
                AssessmentNotice.service_id == user.service_id,
                AssessmentNotice.read_at.is_(None),
            )
            .options(joinedload(AssessmentNotice.assessment).joinedload(Assessment.case))
            .order_by(AssessmentNotice.created_at.desc(), AssessmentNotice.id.desc())
            .limit(limit)
        )
    )
