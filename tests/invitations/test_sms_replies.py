"""RSVP by SMS through Twilio's real webhook: YES confirms, NO declines, anything unclear goes to the facilitator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from rj_scheduler.cases.models import TimelineEvent
from rj_scheduler.conferences.services import cancel_meeting
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.invitations.models import Invitation, InvitationEvent, InvitationStatus, InvitationTask
from rj_scheduler.notify import queries as notify_queries
from rj_scheduler.notify.dispatcher import Dispatcher
from rj_scheduler.notify.models import InboundMessage
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.conferences.conf_helpers import at_local
from tests.invitations.inv_helpers import DAY, book, reachable_setting
from tests.notify.conftest import dispatcher_config
from tests.notify.peers import AUTH_TOKEN

PUBLIC_URL = "https://rj.example.org"
INBOUND = "/webhooks/twilio/inbound"


@pytest.fixture(autouse=True)
def twilio_and_clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setitem(app.config, "RJ_PUBLIC_URL", PUBLIC_URL)
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC), tick=True):
        yield


def _send_invitations(app: Flask) -> None:
    """The invitations go out (kept by the outbox backend), so replies from these numbers are matched."""
    commit_unit_of_work()
    Dispatcher(dispatcher_config(app), poll_interval=0.05).run(once=True)


_sids = iter(range(10**6))


def _reply(client, number: str, body: str, sid: str | None = None):
    sid = sid or f"SM{next(_sids):032d}"
    params = {"MessageSid": sid, "From": number, "To": "+447700900001", "Body": body}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + INBOUND, params)
    response = client.post(INBOUND, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    db.session.expire_all()
    return response


def _tasks(case, kind: str) -> list[InvitationTask]:
    return list(
        db.session.scalars(
            select(InvitationTask).where(InvitationTask.case_id == case.id, InvitationTask.kind == kind)
        )
    )


def _status(booked, party) -> str:
    return db.session.get(Invitation, booked.invitation_of(party=party).id).status


def test_yes_confirms_the_senders_next_invitation_and_thanks_them(app, client):
    booked = book()
    _send_invitations(app)
    response = _reply(client, booked.offender.mobile_e164, "Yes")
    assert _status(booked, booked.offender) == InvitationStatus.CONFIRMED
    assert _status(booked, booked.victim) == InvitationStatus.INVITED
    assert b"<Message>Thank you, see you on Tuesday 1 December 2026.</Message>" in response.data
    event = db.session.scalar(
        select(InvitationEvent).where(
            InvitationEvent.invitation_id == booked.invitation_of(party=booked.offender).id,
            InvitationEvent.kind == "confirmed",
        )
    )
    assert event.channel == "sms"
    inbound = db.session.scalar(select(InboundMessage))
    assert inbound.handled_at is not None
    # The timeline keeps the plain record of the reply as well as the confirmation.
    kinds = set(
        db.session.scalars(select(TimelineEvent.kind).where(TimelineEvent.case_id == booked.setting.case.id))
    )
    assert {"sms_reply_yes", "invitation_confirm"} <= kinds


def test_no_declines_asks_the_facilitator_to_call_and_says_we_will_be_in_touch(app, client):
    booked = book()
    _send_invitations(app)
    response = _reply(client, booked.victim.mobile_e164, "no")
    assert _status(booked, booked.victim) == InvitationStatus.DECLINED
    assert b"<Message>Thank you for telling us. We will be in touch.</Message>" in response.data
    [task] = _tasks(booked.setting.case, "declined")
    assert "by SMS reply" in task.detail
    assert notify_queries.inbound_to_deal_with(booked.setting.service.id) == []


def test_a_reply_is_applied_to_the_next_upcoming_meeting_only(app, client):
    s = reachable_setting()
    first = book(s, start=at_local(DAY, 10))
    second = book(s, start=at_local(DAY + dt.timedelta(days=7), 10))
    _send_invitations(app)
    _reply(client, s.offender.mobile_e164, "YES")
    assert _status(first, s.offender) == InvitationStatus.CONFIRMED
    assert _status(second, s.offender) == InvitationStatus.INVITED


def test_yes_when_two_meetings_fall_on_the_same_day_goes_to_the_facilitator(app, client):
    s = reachable_setting()
    morning = book(s, start=at_local(DAY, 10))
    afternoon = book(s, start=at_local(DAY, 15))
    _send_invitations(app)
    response = _reply(client, s.victim.mobile_e164, "Yes")
    assert b"<Message>" not in response.data
    assert _status(morning, s.victim) == InvitationStatus.INVITED
    assert _status(afternoon, s.victim) == InvitationStatus.INVITED
    [task] = _tasks(s.case, "check_reply")
    assert "more than one appointment that day" in task.detail
    assert "\u2018Yes\u2019" in task.detail
    # Not applied: the reply stays unhandled until the facilitator marks the task done.
    assert db.session.scalar(select(InboundMessage)).handled_at is None


def test_any_other_reply_goes_to_the_facilitator_and_waits_in_the_replies_list(app, client):
    booked = book()
    _send_invitations(app)
    text = "Can we make it Thursday instead? " + "x" * 300
    response = _reply(client, booked.victim.mobile_e164, text)
    assert b"<Message>" not in response.data
    assert _status(booked, booked.victim) == InvitationStatus.INVITED
    [task] = _tasks(booked.setting.case, "check_reply")
    assert task.invitation_id == booked.invitation_of(party=booked.victim).id
    assert "replied by SMS: \u2018Can we make it Thursday instead?" in task.detail
    assert len(task.detail) < len(text)  # the first 200 characters only
    [waiting] = notify_queries.inbound_to_deal_with(booked.setting.service.id)
    assert waiting.body == text


def test_yes_with_no_upcoming_invitation_asks_the_facilitator_to_check(app, client):
    booked = book()
    _send_invitations(app)
    cancel_meeting(booked.meeting, reason="Facilitator ill", actor=booked.setting.lead, at=now())
    _send_invitations(app)
    _reply(client, booked.offender.mobile_e164, "yes")
    assert _status(booked, booked.offender) == InvitationStatus.CANCELLED
    [task] = _tasks(booked.setting.case, "check_reply")
    assert "no upcoming appointment" in task.detail


def test_a_replayed_yes_is_applied_once(app, client):
    booked = book()
    _send_invitations(app)
    _reply(client, booked.offender.mobile_e164, "Yes", sid="SM" + "e" * 32)
    second = _reply(client, booked.offender.mobile_e164, "Yes", sid="SM" + "e" * 32)
    assert b"<Message>" not in second.data
    confirmations = db.session.scalar(
        select(func.count())
        .select_from(InvitationEvent)
        .where(InvitationEvent.kind == "confirmed", InvitationEvent.service_id == booked.setting.service.id)
    )
    assert confirmations == 1


def test_a_yes_from_a_number_we_never_messaged_is_logged_and_ignored(app, client):
    booked = book()
    _send_invitations(app)
    response = _reply(client, "+447700900999", "YES")
    assert b"<Message>" not in response.data
    inbound = db.session.scalar(select(InboundMessage).where(InboundMessage.from_number == "+447700900999"))
    assert inbound.service_id is None
    assert _status(booked, booked.victim) == InvitationStatus.INVITED
    assert _status(booked, booked.offender) == InvitationStatus.INVITED
    assert db.session.scalar(select(func.count()).select_from(InvitationTask)) == 0


def test_the_thank_you_is_in_the_partys_language(app, client):
    s = reachable_setting()
    s.offender.language = "pl"
    db.session.flush()
    booked = book(s)
    _send_invitations(app)
    response = _reply(client, s.offender.mobile_e164, "Yes")
    assert _status(booked, s.offender) == InvitationStatus.CONFIRMED
    assert "<Message>Dziękujemy, do zobaczenia".encode() in response.data


def test_a_polish_speaker_answers_tak_or_nie_as_their_invitation_asks(app, client):
    s = reachable_setting()
    s.offender.language = "pl"
    s.victim.language = "pl"
    db.session.flush()
    booked = book(s)
    from tests.invitations.inv_helpers import messages_of

    [sms] = messages_of(booked.meeting, party_id=booked.offender.id, kind="invitation", channel="sms")
    assert "TAK" in sms.body_text
    assert "NIE" in sms.body_text
    _send_invitations(app)
    _reply(client, booked.offender.mobile_e164, "Tak")
    _reply(client, booked.victim.mobile_e164, "nie")
    assert _status(booked, booked.offender) == InvitationStatus.CONFIRMED
    assert _status(booked, booked.victim) == InvitationStatus.DECLINED
