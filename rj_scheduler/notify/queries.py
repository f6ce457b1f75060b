"""Named reads of the outbox, always scoped to one service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from rj_scheduler.extensions import db
from rj_scheduler.notify.models import InboundCategory, InboundMessage, MessageStatus, OutboxMessage

PAGE_SIZE = 50


@dataclass(frozen=True)
class OutboxPage:
    messages: list[OutboxMessage]
    total: int
    page: int
    pages: int


def outbox_page(service_id: int, *, status: str | None = None, page: int = 1) -> OutboxPage:
    """The service's outbox, newest first, PAGE_SIZE at a time."""
    conditions = [OutboxMessage.service_id == service_id]
    if status:
        conditions.append(OutboxMessage.status == status)
    total = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(*conditions)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    messages = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(*conditions)
            .options(
                selectinload(OutboxMessage.attachments),
                selectinload(OutboxMessage.party),
                selectinload(OutboxMessage.user),
            )
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    return OutboxPage(messages=messages, total=total, page=page, pages=pages)


def outbox_message(service_id: int, public_id: str) -> OutboxMessage | None:
    """One message of the service, or None (another service's message does not exist for you)."""
    return db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.service_id == service_id, OutboxMessage.public_id == public_id
        )
    )


def failed_messages(
    service_id: int,
    *,
    case_id: int | None = None,
    facilitator_id: int | None = None,
    include_acknowledged: bool = False,
    limit: int = 50,
) -> list[OutboxMessage]:
    """Party messages that finally failed (or were suppressed), for a case page or a facilitator's dashboard.

    With ``facilitator_id``: the failures on cases they lead. Suppressed
    messages count as failures here: someone expected them to arrive.
    """
    from rj_scheduler.cases.models import Case

    stmt = select(OutboxMessage).where(
        OutboxMessage.service_id == service_id,
        OutboxMessage.party_id.is_not(None),
        OutboxMessage.status.in_([MessageStatus.FAILED.value, MessageStatus.SUPPRESSED.value]),
    )
    if not include_acknowledged:
        stmt = stmt.where(OutboxMessage.acknowledged_at.is_(None))
    if case_id is not None:
        stmt = stmt.where(OutboxMessage.case_id == case_id)
    if facilitator_id is not None:
        stmt = stmt.join(Case, Case.id == OutboxMessage.case_id).where(
            Case.lead_facilitator_id == facilitator_id
        )
    stmt = (
        stmt.options(selectinload(OutboxMessage.party), selectinload(OutboxMessage.case))
        .order_by(OutboxMessage.finished_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def inbound_to_deal_with(
    service_id: int, *, case_id: int | None = None, facilitator_id: int | None = None, limit: int = 50
) -> list[InboundMessage]:
    """SMS replies nobody has dealt with yet (those the engine could not act on itself)."""
    from rj_scheduler.cases.models import Case

    stmt = select(InboundMessage).where(
        InboundMessage.service_id == service_id,
        InboundMessage.handled_at.is_(None),
        or_(InboundMessage.category == InboundCategory.OTHER.value, InboundMessage.party_id.is_(None)),
    )
    if case_id is not None:
        stmt = stmt.where(InboundMessage.case_id == case_id)
    if facilitator_id is not None:
        stmt = stmt.join(Case, Case.id == InboundMessage.case_id).where(
            Case.lead_facilitator_id == facilitator_id
        )
    stmt = (
        stmt.options(selectinload(InboundMessage.party), selectinload(InboundMessage.case))
        .order_by(InboundMessage.received_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def inbound_message(service_id: int, public_id: str) -> InboundMessage | None:
    return db.session.scalar(
        select(InboundMessage).where(
            InboundMessage.service_id == service_id, InboundMessage.public_id == public_id
        )
    )


def recipient_label(message: OutboxMessage) -> str:
    """Who a message is for, as staff see it: the party's name and role, or the member of staff."""
    party = message.party
    if party is not None:
        return f"{party.display_name} ({party.role_label})"
    user = message.user
    if user is not None:
        return f"{user.full_name} (staff)"
    return "Unknown"
