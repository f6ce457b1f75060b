"""The outbox and one dispatcher in this process: sending, retries, permanent failures, pre-send checks."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from sqlalchemy import select, update

from rj_scheduler.auth.models import Role
from rj_scheduler.cases.models import ConsentRecord, ContactWindow
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.notify import queries
from rj_scheduler.notify.backends import Attachment
from rj_scheduler.notify.checks import (
    quiet_hours_end,
    register_still_relevant_check,
    unregister_still_relevant_check,
)
from rj_scheduler.notify.dispatcher import RateLimiter, backoff_seconds
from rj_scheduler.notify.exceptions import WordingRefused
from rj_scheduler.notify.models import MessageStatus, OutboxMessage
from rj_scheduler.notify.services import queue_party_message, save_wording, send_staff_email
from tests.factories import make_service, make_user
from tests.notify.parties import make_case, make_party
from tests.notify.peers import FakeTwilioBehaviour, smtp_config, twilio_config

VALUES = {
    "first_name": "Alex",
    "service_name": "LLR Support Service",
    "service_phone": "0300 123 4567",
    "appointment_date": "Tuesday 3 March",
    "appointment_time": "2:30pm",
    "link": "https://rj.example.org/i/abc",
}


@pytest.fixture
def lead():
    return make_user(make_service(), Role.FACILITATOR)


@pytest.fixture
def party(lead):
    return make_party(make_case(lead.service, lead))


def _queue(party, channel="sms", key=None, **kwargs) -> OutboxMessage:
    return queue_party_message(
        party,
        "appointment_reminder",
        channel,
        VALUES,
        idempotency_key=key or f"test:{party.id}:{channel}",
        **kwargs,
    )


def _make_due(message: OutboxMessage) -> None:
    """The backoff has elapsed."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(available_at=now() - dt.timedelta(seconds=1))
    )


def _reload(message: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id)


def test_the_same_idempotency_key_never_creates_a_second_message(party):
    first = _queue(party, key="reminder:meeting-1:party")
    second = _queue(party, key="reminder:meeting-1:party")
    assert first.id == second.id
    count = db.session.scalar(
        select(db.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.idempotency_key == "reminder:meeting-1:party")
    )
    assert count == 1


def test_a_message_queued_in_a_rolled_back_change_never_exists(party):
    savepoint = db.session.begin_nested()
    message = _queue(party, key="rolled-back")
    message_id = message.id
    savepoint.rollback()
    assert db.session.get(OutboxMessage, message_id) is None


def test_outbox_backend_keeps_the_message_instead_of_sending(party, run_dispatcher):
    message = _queue(party)
    stats = run_dispatcher()
    assert stats.kept == 1
    message = _reload(message)
    assert message.status == MessageStatus.KEPT
    assert message.attempts == 1


def test_email_is_sent_over_smtp_with_its_attachment(party, run_dispatcher, smtp_server):
    message = _queue(
        party, "email", attachments=[Attachment("appointment.ics", "text/calendar", b"BEGIN:VCALENDAR")]
    )
    run_dispatcher(**smtp_config(smtp_server.port))
    [received] = smtp_server.messages()
    assert received["To"].addresses[0].addr_spec == party.email
    assert received["Subject"] == "Your appointment on Tuesday 3 March"
    assert [a.get_filename() for a in received.iter_attachments()] == ["appointment.ics"]
    assert _reload(message).status == MessageStatus.SENT


def test_smtp_down_then_back_sends_the_message_after_a_retry(party, run_dispatcher, smtp_server):
    message = _queue(party, "email")
    smtp_server.stop()
    stats = run_dispatcher(**smtp_config(smtp_server.port))
    assert stats.retried == 1
    message = _reload(message)
    assert message.status == MessageStatus.PENDING
    assert "Could not reach the SMTP server" in message.last_error
    assert message.available_at > now() + dt.timedelta(seconds=10)
    # Nothing is due until the backoff has passed.
    assert run_dispatcher(**smtp_config(smtp_server.port)).claimed == 0
    smtp_server.start()
    _make_due(message)
    run_dispatcher(**smtp_config(smtp_server.port))
    assert _reload(message).status == MessageStatus.SENT
    assert len(smtp_server.messages()) == 1


def test_sms_goes_through_twilios_contract_mock(party, run_dispatcher, prism_twilio):
    message = _queue(party)
    run_dispatcher(**twilio_config(prism_twilio.base_url))
    message = _reload(message)
    assert message.status == MessageStatus.SENT, message.last_error
    assert message.provider_id.startswith("SM")


@pytest.mark.parametrize("fault", [(500, 20500), (429, 20429)])
def test_twilio_500_or_429_is_retried_and_then_sent(party, run_dispatcher, fake_twilio, fault):
    fake_twilio.behaviour = FakeTwilioBehaviour(fault=fault, fault_count=1)
    message = _queue(party)
    assert run_dispatcher(**twilio_config(fake_twilio.base_url)).retried == 1
    assert _reload(message).status == MessageStatus.PENDING
    _make_due(message)
    run_dispatcher(**twilio_config(fake_twilio.base_url))
    message = _reload(message)
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
    assert len(fake_twilio.requests) == 2


def test_temporary_errors_give_up_after_the_maximum_attempts(party, run_dispatcher, fake_twilio):
    fake_twilio.behaviour = FakeTwilioBehaviour(fault=(500, 20500))
    message = _queue(party)
    for _ in range(3):
        run_dispatcher(**twilio_config(fake_twilio.base_url), RJ_DISPATCH_MAX_ATTEMPTS=3)
        _make_due(message)
    message = _reload(message)
    assert message.status == MessageStatus.FAILED
    assert message.last_error.startswith("Gave up after 3 attempts.")
    assert len(fake_twilio.requests) == 3


def test_invalid_number_ends_as_a_clear_failure_on_the_case_and_tells_the_lead(
    lead, party, run_dispatcher, fake_twilio
):
    fake_twilio.behaviour = FakeTwilioBehaviour(per_number={party.mobile_e164: (400, 21211)})
    message = _queue(party)
    stats = run_dispatcher(**twilio_config(fake_twilio.base_url))
    assert stats.failed == 1
    assert stats.retried == 0
    message = _reload(message)
    assert message.status == MessageStatus.FAILED
    assert "21211" in message.last_error
    assert "not valid" in message.last_error
    assert queries.failed_messages(party.service_id, case_id=party.case_id) == [message]
    assert queries.failed_messages(party.service_id, facilitator_id=lead.id) == [message]
    # Nothing is retried.
    _make_due(message)
    assert run_dispatcher(**twilio_config(fake_twilio.base_url)).claimed <= 1
    assert len(fake_twilio.requests) == 1
    staff_email = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.user_id == lead.id, OutboxMessage.kind == "staff_message_failed"
        )
    )
    assert staff_email is not None
    assert "could not be sent" in staff_email.subject


def test_unsubscribed_recipient_is_not_retried(party, run_dispatcher, fake_twilio):
    fake_twilio.behaviour = FakeTwilioBehaviour(fault=(400, 21610))
    message = _queue(party)
    run_dispatcher(**twilio_config(fake_twilio.base_url))
    message = _reload(message)
    assert message.status == MessageStatus.FAILED
    assert "replied STOP" in message.last_error


def test_consent_withdrawn_after_queueing_suppresses_the_message_with_the_reason(party, run_dispatcher):
    message = _queue(party)
    party.consent_records.append(
        ConsentRecord(
            service_id=party.service_id,
            party_id=party.id,
            kind="sms",
            given=False,
            recorded_at=now(),
            method="phone",
        )
    )
    db.session.flush()
    assert run_dispatcher().suppressed == 1
    message = _reload(message)
    assert message.status == MessageStatus.SUPPRESSED
    assert message.status_reason == "They have withdrawn consent to SMS"


def test_outside_the_safe_contact_window_the_message_waits_for_it(party, run_dispatcher):
    # Monday 10:00 London; the party is safe to contact on Tuesdays 18:00-19:00 only.
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=True):
        party.contact_windows.append(ContactWindow(weekday=1, starts_at=dt.time(18), ends_at=dt.time(19)))
        db.session.flush()
        message = _queue(party)
        assert run_dispatcher().deferred == 1
    message = _reload(message)
    assert message.status == MessageStatus.PENDING
    assert message.available_at == dt.datetime(2026, 3, 3, 18, 0, tzinfo=dt.UTC)
    assert message.attempts == 0
    assert "outside the times" in message.status_reason


def test_no_sms_in_quiet_hours_by_default(party, run_dispatcher):
    with time_machine.travel(dt.datetime(2026, 7, 1, 20, 30, tzinfo=dt.UTC), tick=True):  # 21:30 London (BST)
        sms = _queue(party)
        email = _queue(party, "email")
        stats = run_dispatcher(RJ_QUIET_HOURS="20:00-09:00")
    assert stats.deferred == 1
    assert stats.kept == 1
    sms = _reload(sms)
    assert sms.status == MessageStatus.PENDING
    assert sms.available_at == dt.datetime(2026, 7, 2, 8, 0, tzinfo=dt.UTC)  # 09:00 London
    assert _reload(email).status == MessageStatus.KEPT


def test_quiet_hours_follow_london_time_across_the_clock_change():
    winter_evening = dt.datetime(2026, 1, 10, 20, 30, tzinfo=dt.UTC)  # 20:30 GMT
    assert quiet_hours_end(winter_evening, "20:00-09:00") == dt.datetime(2026, 1, 11, 9, 0, tzinfo=dt.UTC)
    early = dt.datetime(2026, 1, 10, 8, 59, tzinfo=dt.UTC)
    assert quiet_hours_end(early, "20:00-09:00") == dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)
    assert quiet_hours_end(dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC), "20:00-09:00") is None
    assert quiet_hours_end(winter_evening, "off") is None


def _meeting_of(party) -> int:
    from rj_scheduler.conferences.models import Meeting

    starts = now() + dt.timedelta(days=3)
    meeting = Meeting(
        service_id=party.service_id,
        case_id=party.case_id,
        kind="preparation",
        format="video",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting.id


def test_a_message_about_something_no_longer_on_is_cancelled_with_the_reason(party, run_dispatcher):
    off_meeting, on_meeting = _meeting_of(party), _meeting_of(party)

    def meeting_is_off(message):
        return "The meeting was cancelled." if message.meeting_id == off_meeting else None

    register_still_relevant_check("appointment_reminder", meeting_is_off)
    try:
        off = _queue(party, key="about-off", meeting_id=off_meeting)
        on = _queue(party, "email", key="about-on", meeting_id=on_meeting)
        stats = run_dispatcher()
    finally:
        unregister_still_relevant_check("appointment_reminder", meeting_is_off)
    assert stats.cancelled == 1
    off = _reload(off)
    assert off.status == MessageStatus.CANCELLED
    assert off.status_reason == "The meeting was cancelled."
    assert _reload(on).status == MessageStatus.KEPT


def test_discreet_party_gets_discreet_wording_and_never_the_names_given(party):
    with pytest.raises(WordingRefused):
        queue_party_message(
            party,
            "appointment_reminder",
            "sms",
            {**VALUES, "first_name": "Jordan Otherparty"},
            idempotency_key="never",
            never_mention=["Jordan Otherparty"],
        )


def test_a_services_own_wording_is_used(lead, party):
    manager = make_user(lead.service, Role.MANAGER)
    save_wording(
        lead.service,
        "appointment_reminder",
        "sms",
        "discreet",
        None,
        "See you ((appointment_date)).",
        manager,
    )
    assert _queue(party).body_text == "See you Tuesday 3 March."


def test_staff_email_goes_through_the_same_engine(lead, run_dispatcher, smtp_server):
    message = send_staff_email(
        lead,
        "staff_sign_off_decision",
        {
            "case_reference": "T-1",
            "decision": "signed off",
            "decided_by": "Sam Supervisor",
            "link": "https://x.example.org",
        },
    )
    run_dispatcher(**smtp_config(smtp_server.port))
    [received] = smtp_server.messages()
    assert received["Subject"] == "Case T-1: assessment signed off"
    assert lead.full_name in received.get_body(("plain",)).get_content()
    assert _reload(message).status == MessageStatus.SENT


def test_a_closed_staff_account_gets_no_email(lead, run_dispatcher):
    message = send_staff_email(
        lead,
        "staff_sign_off_decision",
        {"case_reference": "T-1", "decision": "x", "decided_by": "y", "link": "z"},
    )
    lead.is_active_account = False
    db.session.flush()
    assert run_dispatcher().cancelled == 1
    assert _reload(message).status == MessageStatus.CANCELLED


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    import random

    rng = random.Random(1)
    first = [backoff_seconds(1, rng) for _ in range(50)]
    third = [backoff_seconds(3, rng) for _ in range(50)]
    assert all(15 <= s <= 30 for s in first)
    assert all(60 <= s <= 120 for s in third)
    assert len(set(first)) > 1
    assert all(s <= 3600 for s in (backoff_seconds(30, rng) for _ in range(20)))


def test_rate_limiter_spaces_sms_to_the_cap():
    limiter = RateLimiter(per_second=20)
    started = time.monotonic()
    for _ in range(6):
        limiter.acquire()
    assert time.monotonic() - started >= 0.25 - 0.01
