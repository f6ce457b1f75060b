"""Named reads of invitations, their tasks and settings, shared by services and views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from rj_scheduler.cases.models import Case, Party
from rj_scheduler.conferences.models import Meeting, MeetingStatus
from rj_scheduler.invitations.models import (
    CLOSED_STATUSES,
    Invitation,
    InvitationSettings,
    InvitationTask,
)
from rj_scheduler.notify.models import OutboxMessage

INVITATION_KINDS = (
    "invitation",
    "invitation_update",
    "invitation_cancelled",
    "meeting_not_going_ahead",
    "staff_invitation",
)


def settings_for(session: Session, service_id: int) -> InvitationSettings:
    """The service's invitation settings, or the defaults (not added to the session) if it has none."""
    row = session.scalar(select(InvitationSettings).where(InvitationSettings.service_id == service_id))
    if row is not None:
        return row
    defaults = InvitationSettings(service_id=service_id)
    for column in InvitationSettings.__table__.columns:
        if getattr(defaults, column.key) is None and column.default is not None and column.default.is_scalar:
            setattr(defaults, column.key, column.default.arg)
    return defaults


def invitations_for_meeting(session: Session, meeting: Meeting) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.meeting_id == meeting.id)
            .options(
                selectinload(Invitation.party), selectinload(Invitation.user), selectinload(Invitation.events)
            )
            .order_by(Invitation.id)
        )
    )


def invitations_of_party(session: Session, party: Party) -> list[Invitation]:
    return list(
        session.scalars(select(Invitation).where(Invitation.party_id == party.id).order_by(Invitation.id))
    )


def upcoming_open_invitations_for_mobile(
    session: Session, service_id: int, mobile_e164: str, at: dt.datetime
) -> list[Invitation]:
    """The open invitations of this mobile number's parties whose meetings are still to come, soonest first."""
    return list(
        session.scalars(
            select(Invitation)
            .join(Party, Party.id == Invitation.party_id)
            .join(Meeting, Meeting.id == Invitation.meeting_id)
            .where(
                Invitation.service_id == service_id,
                Party.mobile_e164 == mobile_e164,
                Invitation.status.not_in(tuple(CLOSED_STATUSES)),
                Meeting.status == MeetingStatus.BOOKED.value,
                Meeting.ends_at > at,
            )
            .order_by(Meeting.starts_at, Invitation.id)
        )
    )


def messages_for_meeting(session: Session, meeting: Meeting) -> dict[tuple[str, int], list[OutboxMessage]]:
    """Every outbox message about a meeting in one query, by recipient (``("party", id)`` or ``("user", id)``)."""
    by_recipient: dict[tuple[str, int], list[OutboxMessage]] = {}
    for message in session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.meeting_id == meeting.id)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ):
        key = ("party", message.party_id) if message.party_id is not None else ("user", message.user_id)
        by_recipient.setdefault(key, []).append(message)  # type: ignore[arg-type]
    return by_recipient


def open_tasks(session: Session, service_id: int) -> Sequence[InvitationTask]:
    return session.scalars(
        select(InvitationTask)
        .where(InvitationTask.service_id == service_id, InvitationTask.done_at.is_(None))
        .options(selectinload(InvitationTask.case), selectinload(InvitationTask.invitation))
        .order_by(InvitationTask.created_at, InvitationTask.id)
    ).all()


def tasks_for_case(session: Session, case: Case, *, include_done: bool = False) -> Sequence[InvitationTask]:
    query = select(InvitationTask).where(InvitationTask.case_id == case.id)
    if not include_done:
        query = query.where(InvitationTask.done_at.is_(None))
    return session.scalars(
        query.options(selectinload(InvitationTask.case), selectinload(InvitationTask.invitation)).order_by(
            InvitationTask.created_at, InvitationTask.id
        )
    ).all()


def task_by_public_id(session: Session, public_id: str) -> InvitationTask | None:
    return session.scalar(select(InvitationTask).where(InvitationTask.public_id == public_id))


def invitation_by_public_id(session: Session, public_id: str) -> Invitation | None:
    return session.scalar(select(Invitation).where(Invitation.public_id == public_id))


def future_invitations_of_party(session: Session, party: Party, at: dt.datetime) -> list[Invitation]:
    """The party's invitations to meetings not yet over (booked or postponed), open or not."""
    return list(
        session.scalars(
            select(Invitation)
            .join(Meeting, Meeting.id == Invitation.meeting_id)
            .where(
                Invitation.party_id == party.id,
                or_(Meeting.ends_at.is_(None), Meeting.ends_at > at),
            )
            .order_by(Meeting.starts_at, Invitation.id)
        )
    )
