"""Outbox messages, their attachments, the services' message wording and inbound SMS.

An outbox message is written in the same transaction as the change that causes
it and sent later by a dispatcher (``rj_scheduler.notify.dispatcher``). Its
``available_at`` is the one time a dispatcher looks at: when it is due, when a
retry or a deferral may run, or (while "sending") when its lease expires.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj_scheduler.db import Base, now, public_id

if TYPE_CHECKING:
    from rj_scheduler.auth.models import User
    from rj_scheduler.cases.models import Case, Party


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class MessageStatus(enum.StrEnum):
    """Where an outbox message is in its life.

    pending: waiting to be sent (due now or later); sending: held by a
    dispatcher under a lease; sent: accepted by Twilio or the SMTP server;
    delivered: Twilio reported delivery; failed: will not be tried again
    (permanent error or too many attempts); cancelled: no longer relevant
    (e.g. the meeting is off); suppressed: the rules forbid it (no consent,
    opted out, no number or address); kept: the ``outbox`` backend kept it
    for people to read instead of sending it.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"
    KEPT = "kept"

    @property
    def label(self) -> str:
        return self.value.capitalize()


OPEN_STATUSES = (MessageStatus.PENDING.value, MessageStatus.SENDING.value)
FINAL_STATUSES = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.FAILED,
        MessageStatus.CANCELLED,
        MessageStatus.SUPPRESSED,
        MessageStatus.KEPT,
    }
)
_STATUS_VALUES = tuple(s.value for s in MessageStatus)
_CHANNEL_VALUES = tuple(c.value for c in Channel)


class OutboxMessage(Base):
    """One SMS or email to a party or a member of staff, with everything needed to send it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(f"status IN {_STATUS_VALUES!r}", name="status_known"),
        CheckConstraint(f"channel IN {_CHANNEL_VALUES!r}", name="channel_known"),
        CheckConstraint("party_id IS NULL OR user_id IS NULL", name="one_recipient"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The meeting the message is about (invitations register their "still on" check:
    # see checks.register_still_relevant_check).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(60))
    # The address at queueing time; a party's current number or address is
    # used when the message is sent.
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Makes creating the same message twice impossible (e.g. "reminder:meeting 7:party 3").
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.PENDING.value)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    due_at: Mapped[dt.datetime] = mapped_column(default=now)
    available_at: Mapped[dt.datetime] = mapped_column(default=now)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_status: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    # A facilitator has seen a failure and dealt with it (it leaves the dashboard).
    acknowledged_at: Mapped[dt.datetime | None]

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )
    # Read-only: the ids above are what services set; lists load these in bulk (no N+1).
    party: Mapped[Party | None] = relationship(foreign_keys=[party_id], viewonly=True)
    case: Mapped[Case | None] = relationship(foreign_keys=[case_id], viewonly=True)
    user: Mapped[User | None] = relationship(foreign_keys=[user_id], viewonly=True)

    @property
    def status_enum(self) -> MessageStatus:
        return MessageStatus(self.status)

    @property
    def is_sms(self) -> bool:
        return self.channel == Channel.SMS


# Claiming reads only open messages: a partial index keeps that fast however
# many old messages the table holds.
Index(
    "ix_outbox_messages_claimable",
    OutboxMessage.available_at,
    postgresql_where=text("status IN ('pending', 'sending')"),
    sqlite_where=text("status IN ('pending', 'sending')"),
)
Index(
    "ix_outbox_messages_failed",
    OutboxMessage.service_id,
    OutboxMessage.failed_at,
    postgresql_where=text("status = 'failed' AND acknowledged_at IS NULL"),
    sqlite_where=text("status = 'failed' AND acknowledged_at IS NULL"),
)


class OutboxAttachment(Base):
    """A file sent with an email, such as a calendar invitation (.ics)."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")

    @property
    def size(self) -> int:
        return len(self.content)


class WordingStyle(enum.StrEnum):
    """Discreet wording (the default for parties) names only the service and the appointment."""

    DISCREET = "discreet"
    PLAIN = "plain"


class MessageWording(Base):
    """A service's own wording of one kind of message on one channel, in one style."""

    __tablename__ = "message_wordings"
    __table_args__ = (
        UniqueConstraint("service_id", "kind", "channel", "style"),
        CheckConstraint(f"channel IN {_CHANNEL_VALUES!r}", name="channel_known"),
        CheckConstraint("style IN ('discreet', 'plain')", name="style_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10))
    style: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=now)


class InboundCategory(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    YES = "yes"
    NO = "no"
    OTHER = "other"


class InboundMessage(Base):
    """An SMS a party sent to the service, processed once per Twilio MessageSid."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        CheckConstraint(
            "category IN ('opt_out', 'opt_in', 'help', 'yes', 'no', 'other')", name="category_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    # Unknown senders are kept without a service and never shown to staff.
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    from_number: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[dt.datetime] = mapped_column(default=now)
    handled_at: Mapped[dt.datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    party: Mapped[Party | None] = relationship(foreign_keys=[party_id], viewonly=True)
    case: Mapped[Case | None] = relationship(foreign_keys=[case_id], viewonly=True)


class UnmatchedStatusCallback(Base):
    """A Twilio status callback for a MessageSid no outbox message carries (yet).

    Twilio may report on a message before the dispatcher has recorded the SID it
    was given; the dispatcher applies the newest such report when it records
    the SID. Callbacks for messages that never appear are simply logged here.
    """

    __tablename__ = "unmatched_status_callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    provider_status: Mapped[str] = mapped_column(String(30))
    error_code: Mapped[str | None] = mapped_column(String(10))
    received_at: Mapped[dt.datetime] = mapped_column(default=now)
