"""Demo messages: what the outbox holds on a service's ordinary day, queued through the real services.

Idempotent: every message has a fixed idempotency key, so running the demo again
adds nothing. The parties are the cases demo's (invented people, Ofcom's drama
range, example.org). After ``flask rj demo``, ``flask rj dispatch --once`` keeps
them for the Outbox page (or sends them to local servers: README, "Try messaging
with local servers"). One message goes to a party who has not agreed to SMS: the
dispatcher suppresses it, and it appears on the case page and the lead
facilitator's dashboard as a message that could not be sent.
"""

from __future__ import annotations

from sqlalchemy import func, select

from rj_scheduler.cases.models import Case, Party
from rj_scheduler.extensions import db
from rj_scheduler.notify.models import OutboxMessage
from rj_scheduler.notify.services import queue_party_message

# (crime reference of a cases demo case, channel): each case's victim gets "we tried to reach you".
DEMO_PARTY_MESSAGES = (
    ("DEMO/006/26", "sms"),  # agreed to SMS and email
    ("DEMO/005/26", "email"),  # agreed to SMS and email
    ("DEMO/004/26", "sms"),  # agreed to be contacted, not to SMS: suppressed when dispatched
)


def _victim(service_id: int, crime_reference: str) -> Party | None:
    case = db.session.scalar(
        select(Case).where(Case.service_id == service_id, Case.crime_reference == crime_reference)
    )
    if case is None:
        return None
    return next((p for p in case.parties if p.role == "victim"), None)


def load_demo(context) -> None:
    """Queue the demo messages once (fixed idempotency keys)."""
    service = context.service
    queued = 0
    for crime_reference, channel in DEMO_PARTY_MESSAGES:
        party = _victim(service.id, crime_reference)
        if party is None:
            continue
        queue_party_message(
            party,
            "tried_to_reach_you",
            channel,
            {
                "first_name": party.preferred_name or party.full_name.split()[0],
                "service_name": service.name,
                "service_phone": service.phone_number or "",
            },
            idempotency_key=f"demo:tried_to_reach_you:{channel}:{party.public_id}",
        )
        queued += 1
    # Staff emails come from the other demo loaders' real decisions (e.g. the risk
    # demo's sign-offs email their authors), so none is invented here.
    db.session.flush()
    queued = db.session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.service_id == service.id, OutboxMessage.status == "pending"
        )
    )
    context.notes.append(
        f"Messages: {queued} demo messages in the outbox. Send them with"
        " `flask --app rj_scheduler rj dispatch --once`; managers see them on the Outbox page."
    )
