"""Withdrawing consent to take part cancels that party's pending messages, in the same unit of work."""

from __future__ import annotations

from sqlalchemy import select

from rj_scheduler.auth.models import Role
from rj_scheduler.cases.services import record_consent
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.notify.models import MessageStatus, OutboxMessage
from rj_scheduler.notify.services import queue_party_message
from tests.factories import make_user
from tests.notify.parties import make_case, make_party

VALUES = {"first_name": "Sam", "service_name": "LLR Support Service", "service_phone": "0300 123 4567"}


def _queue(party, channel: str, key: str) -> OutboxMessage:
    return queue_party_message(party, "tried_to_reach_you", channel, VALUES, idempotency_key=key)


def _status(message: OutboxMessage) -> str:
    return db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message.id))


def test_withdrawing_consent_to_take_part_cancels_that_partys_pending_messages_only():
    lead = make_user(role=Role.FACILITATOR)
    case = make_case(lead.service, lead)
    party = make_party(case, consents=("contact", "sms", "email", "take_part"))
    other = make_party(case, role="offender", consents=("contact", "sms", "take_part"))
    sms, email = _queue(party, "sms", "w-sms"), _queue(party, "email", "w-email")
    already_sent = _queue(party, "sms", "w-sent")
    already_sent.status = MessageStatus.SENT.value
    others = _queue(other, "sms", "w-other")
    db.session.flush()

    record_consent(party, "take_part", given=False, at=now(), method="phone", actor=lead)

    assert _status(sms) == _status(email) == MessageStatus.CANCELLED.value
    assert sms.status_reason == "They withdrew consent to take part."
    assert _status(already_sent) == MessageStatus.SENT.value
    assert _status(others) == MessageStatus.PENDING.value


def test_a_withdrawal_that_rolls_back_leaves_the_messages_pending():
    lead = make_user(role=Role.FACILITATOR)
    party = make_party(make_case(lead.service, lead), consents=("contact", "sms", "take_part"))
    sms = _queue(party, "sms", "w-rollback")
    savepoint = db.session.begin_nested()
    record_consent(party, "take_part", given=False, at=now(), method="phone", actor=lead)
    assert _status(sms) == MessageStatus.CANCELLED.value
    savepoint.rollback()
    assert _status(sms) == MessageStatus.PENDING.value


def test_withdrawing_another_consent_cancels_nothing():
    lead = make_user(role=Role.FACILITATOR)
    party = make_party(make_case(lead.service, lead), consents=("contact", "sms", "email", "take_part"))
    email = _queue(party, "email", "w-email-only")
    record_consent(party, "sms", given=False, at=now(), method="phone", actor=lead)
    assert _status(email) == MessageStatus.PENDING.value
