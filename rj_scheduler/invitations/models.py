"""Invitations to meetings, what happened to each, facilitators' tasks and each service's settings.

An invitation is one attendee's own view of one meeting: a party (victim,
offender, supporter, interpreter, professional) or a facilitator. A party's
invitation has a private link; only a hash of its token is stored. Messages
sent for an invitation are outbox messages (``rj_scheduler.notify``) carrying
the meeting and the recipient; the invitation's events record what the
recipient did (opened, confirmed, declined, asked to change, withdrew).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj_scheduler.auth.models import User
from rj_scheduler.cases.models import Case, LabelledEnum, Party
from rj_scheduler.conferences.models import Meeting
from rj_scheduler.db import Base, now, public_id


def _values(enum_cls) -> str:
    return "(" + ", ".join(f"'{m.value}'" for m in enum_cls) + ")"


class InvitationStatus(LabelledEnum):
    INVITED = "invited", "Invited"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Cannot come"
    CHANGE_REQUESTED = "change_requested", "Asked for a different time"
    WITHDRAWN = "withdrawn", "No longer taking part"
    CANCELLED = "cancelled", "Cancelled"


# An invitation in one of these is over: nothing more is sent for it and its link is dead.
CLOSED_STATUSES = frozenset({InvitationStatus.WITHDRAWN.value, InvitationStatus.CANCELLED.value})


class InvitationEventKind(LabelledEnum):
    SENT = "sent", "Invitation sent"
    UPDATED = "updated", "Update sent"
    CANCELLED = "cancelled", "Cancellation sent"
    LETTER = "letter", "To send by post or phone"
    OPENED = "opened", "Page opened"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Said they cannot come"
    CHANGE_REQUESTED = "change_requested", "Asked for a different time"
    WITHDRAWN = "withdrawn", "Said they no longer want to take part"
    SATISFACTION = "satisfaction", "Gave feedback"
    REMINDERS_QUEUED = "reminders_queued", "Reminders planned"


class TaskKind(LabelledEnum):
    SEND_LETTER = "send_letter", "Phone or write: no SMS or email allowed"
    CALL_AFTER_WITHDRAWAL = "call_after_withdrawal", "Call: no longer wants to take part"
    CHECK_REPLY = "check_reply", "Check an SMS reply"
    CHANGE_REQUESTED = "change_requested", "Asked for a different time"
    DECLINED = "declined", "Cannot come"


class Invitation(Base):
    """One attendee's invitation to one meeting (a party with a private link, or a facilitator)."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(f"status IN {_values(InvitationStatus)}", name="status_known"),
        CheckConstraint("(party_id IS NULL) <> (user_id IS NULL)", name="one_invitee"),
        CheckConstraint("party_id IS NOT NULL OR token_hash IS NULL", name="links_only_for_parties"),
        UniqueConstraint("meeting_id", "party_id"),
        UniqueConstraint("meeting_id", "user_id"),
        Index("ix_invitations_party_status", "party_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The catalogue its words come from (the party's language when invited; staff read English).
    language: Mapped[str] = mapped_column(String(12), default="en")
    # The private link's token is derived from this random nonce and the app's secret key;
    # only its SHA-256 is stored, so the database alone never yields a working link.
    token_nonce: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=InvitationStatus.INVITED.value)
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=now)
    # How it reaches them: "email", "sms", "email+sms" or "letter" (a facilitator's task).
    channels: Mapped[str] = mapped_column(String(20))
    # The meeting's sequence the last invite, update or cancellation was sent for ("nothing twice").
    sent_sequence: Mapped[int | None]
    opened_at: Mapped[dt.datetime | None]
    last_opened_at: Mapped[dt.datetime | None]
    responded_at: Mapped[dt.datetime | None]
    response_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    meeting: Mapped[Meeting] = relationship()
    case: Mapped[Case] = relationship()
    party: Mapped[Party | None] = relationship()
    user: Mapped[User | None] = relationship()
    events: Mapped[list[InvitationEvent]] = relationship(
        back_populates="invitation", order_by="[InvitationEvent.at, InvitationEvent.id]"
    )

    @property
    def status_label(self) -> str:
        return InvitationStatus.label_of(self.status)

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def is_for_party(self) -> bool:
        return self.party_id is not None

    @property
    def recipient_name(self) -> str:
        if self.party is not None:
            return self.party.display_name
        return self.user.full_name if self.user is not None else ""


class InvitationEvent(Base):
    """Something that happened to an invitation, with when and (for messages) on which channel."""

    __tablename__ = "invitation_events"
    __table_args__ = (CheckConstraint(f"kind IN {_values(InvitationEventKind)}", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime]

    invitation: Mapped[Invitation] = relationship(back_populates="events")

    @property
    def kind_label(self) -> str:
        return InvitationEventKind.label_of(self.kind)


class InvitationTask(Base):
    """Something a facilitator must do by hand for an invitation: phone or write, call back, check a reply."""

    __tablename__ = "invitation_tasks"
    __table_args__ = (
        CheckConstraint(f"kind IN {_values(TaskKind)}", name="kind_known"),
        Index("ix_invitation_tasks_service_open", "service_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    done_at: Mapped[dt.datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship()
    invitation: Mapped[Invitation | None] = relationship()

    @property
    def kind_label(self) -> str:
        return TaskKind.label_of(self.kind)


DEFAULT_REMINDERS = "3d:email+sms, 1d:email+sms, 2h:sms"


class InvitationSettings(Base):
    """A service's invitation settings (a row only once a manager changes them).

    ``sender_name`` is how messages name the service: it must be discreet (the
    service's own name often says "victim" or "restorative justice").
    ``reminders`` lists offsets before a party's arrival and their channels,
    e.g. ``3d:email+sms, 1d:email+sms, 2h:sms``.
    """

    __tablename__ = "invitation_settings"
    __table_args__ = (CheckConstraint("link_valid_days BETWEEN 1 AND 365", name="link_days_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), unique=True)
    sender_name: Mapped[str | None] = mapped_column(String(100))
    reminders: Mapped[str] = mapped_column(String(200), default=DEFAULT_REMINDERS)
    link_valid_days: Mapped[int] = mapped_column(default=30)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
