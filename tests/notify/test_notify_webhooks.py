"""Twilio's webhooks: signatures checked against the public URL, replays harmless, replies acted on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from rj_scheduler.auth.models import Role
from rj_scheduler.cases.consent import current_consent
from rj_scheduler.cases.models import ConsentRecord, TimelineEvent
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.notify import queries
from rj_scheduler.notify.models import InboundMessage, MessageStatus, OutboxMessage, UnmatchedStatusCallback
from rj_scheduler.notify.services import queue_message
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.factories import make_service, make_user
from tests.notify.parties import make_case, make_party
from tests.notify.peers import AUTH_TOKEN, FakeTwilioBehaviour, twilio_config

PUBLIC_URL = "https://rj.example.org"
STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/inbound"


@pytest.fixture(autouse=True)
def twilio_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setitem(app.config, "RJ_PUBLIC_URL", PUBLIC_URL)


def _post(client, path, params, *, token=AUTH_TOKEN, signed_url=None, signature=None, send=None):
    url = signed_url or PUBLIC_URL + path
    headers = {}
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    if signature:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, data=send if send is not None else params, headers=headers)


@pytest.fixture
def lead():
    return make_user(make_service(), Role.FACILITATOR)


@pytest.fixture
def party(lead):
    return make_party(make_case(lead.service, lead))


def _sent_sms(party, sid="SM" + "1" * 32) -> OutboxMessage:
    message = queue_message(
        service_id=party.service_id,
        channel="sms",
        kind="appointment_reminder",
        to_address=party.mobile_e164,
        body_text="Hello",
        idempotency_key=f"webhook:{party.id}:{sid}",
        case_id=party.case_id,
        party_id=party.id,
    )
    message.status = MessageStatus.SENT.value
    message.provider_id = sid
    message.sent_at = now()
    db.session.flush()
    _settle()
    return message


def _settle() -> None:
    """Commit the setup as its own unit of work (inside the test's outer transaction)."""
    commit_unit_of_work()


def _status(message):
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id).status


def test_a_validly_signed_delivery_report_marks_the_message_delivered(client, party):
    message = _sent_sms(party)
    response = _post(client, STATUS, {"MessageSid": message.provider_id, "MessageStatus": "delivered"})
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert _status(message) == MessageStatus.DELIVERED


@pytest.mark.parametrize(
    "how",
    ["missing", "forged", "another_url", "changed_body", "another_token"],
)
def test_a_badly_signed_webhook_is_refused_with_403_and_changes_nothing(client, party, how):
    message = _sent_sms(party)
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    kwargs = {}
    if how == "missing":
        kwargs["signature"] = ""
    elif how == "forged":
        kwargs["signature"] = "bm90IGEgcmVhbCBzaWduYXR1cmU="
    elif how == "another_url":
        kwargs["signed_url"] = "https://elsewhere.example.org" + STATUS
    elif how == "changed_body":
        kwargs["send"] = {**params, "MessageStatus": "failed"}
    elif how == "another_token":
        kwargs["token"] = "someone-elses-auth-token"
    response = _post(client, STATUS, params, **kwargs)
    assert response.status_code == 403
    assert _status(message) == MessageStatus.SENT


def test_webhooks_are_refused_when_no_auth_token_is_configured(client, party, app, monkeypatch):
    message = _sent_sms(party)
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + STATUS, params)
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", None)
    assert _post(client, STATUS, params, signature=signature).status_code == 403


def test_the_signature_is_checked_against_the_public_url_not_the_internal_one(client, party):
    message = _sent_sms(party)
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    # The request reaches the app as http://localhost/..., but Twilio signed the public https URL.
    assert _post(client, STATUS, params, signed_url="http://localhost" + STATUS).status_code == 403
    assert _post(client, STATUS, params).status_code == 200


def test_replayed_status_callbacks_never_move_a_message_backwards(client, party):
    message = _sent_sms(party)
    for status in ("sent", "delivered", "sent", "queued", "delivered", "undelivered"):
        assert (
            _post(client, STATUS, {"MessageSid": message.provider_id, "MessageStatus": status}).status_code
            == 200
        )
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert message.status == MessageStatus.DELIVERED
    assert message.provider_status == "delivered"


def test_an_undelivered_report_fails_the_message_with_the_error_and_shows_it_on_the_case(client, party, lead):
    message = _sent_sms(party)
    _post(
        client,
        STATUS,
        {"MessageSid": message.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert message.status == MessageStatus.FAILED
    assert "30003" in message.last_error
    assert queries.failed_messages(party.service_id, case_id=party.case_id) == [message]
    told = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.user_id == lead.id)
    )
    assert told == 1


def test_a_report_for_an_unknown_message_is_acknowledged_and_logged(client, caplog):
    caplog.set_level("INFO", logger="rj_scheduler.notify")
    sid = "SM" + "9" * 32
    response = _post(client, STATUS, {"MessageSid": sid, "MessageStatus": "delivered"})
    assert response.status_code == 200
    assert db.session.scalar(
        select(UnmatchedStatusCallback).where(UnmatchedStatusCallback.message_sid == sid)
    )
    assert any("unknown message" in r.getMessage() for r in caplog.records)


def test_a_report_that_arrives_before_the_sid_is_recorded_is_applied_when_it_is(
    client, party, run_dispatcher, fake_twilio
):
    sid = "SM" + "e" * 32
    fake_twilio.behaviour = FakeTwilioBehaviour(sid=sid)
    message = queue_message(
        service_id=party.service_id,
        channel="sms",
        kind="appointment_reminder",
        to_address=party.mobile_e164,
        body_text="Hello",
        idempotency_key="early-report",
        party_id=party.id,
        case_id=party.case_id,
    )
    _settle()
    # Twilio reports delivery before the dispatcher has written down the SID it was given.
    assert _post(client, STATUS, {"MessageSid": sid, "MessageStatus": "delivered"}).status_code == 200
    run_dispatcher(**twilio_config(fake_twilio.base_url))
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert message.provider_id == sid
    assert message.status == MessageStatus.DELIVERED
    assert (
        db.session.scalar(select(UnmatchedStatusCallback).where(UnmatchedStatusCallback.message_sid == sid))
        is None
    )


def _inbound(client, party_or_number, body, sid="SM" + "a" * 32):
    number = party_or_number if isinstance(party_or_number, str) else party_or_number.mobile_e164
    return _post(client, INBOUND, {"MessageSid": sid, "From": number, "To": "+447700900001", "Body": body})


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Unsubscribe", "STOPALL", "END", "QUIT", "REVOKE", "OPTOUT", "cancel"]
)
def test_stop_words_record_an_sms_opt_out_and_cancel_waiting_sms(client, party, word):
    _sent_sms(party)
    waiting = queue_message(
        service_id=party.service_id,
        channel="sms",
        kind="appointment_reminder",
        to_address=party.mobile_e164,
        body_text="Later",
        idempotency_key="waiting",
        party_id=party.id,
        case_id=party.case_id,
    )
    _settle()
    response = _inbound(client, party, word)
    assert response.status_code == 200
    db.session.expire_all()
    consent = current_consent(party, "sms")
    assert consent.given is False
    assert consent.method == "sms_reply"
    assert consent.recorded_by_id is None
    assert db.session.get(OutboxMessage, waiting.id).status == MessageStatus.CANCELLED
    assert db.session.scalar(
        select(TimelineEvent).where(
            TimelineEvent.party_id == party.id, TimelineEvent.kind == "consent_withdrawn"
        )
    )


def test_an_inbound_message_is_processed_once_per_message_sid(client, party):
    _sent_sms(party)
    for _ in range(3):
        assert _inbound(client, party, "STOP", sid="SM" + "b" * 32).status_code == 200
    withdrawals = db.session.scalar(
        select(func.count())
        .select_from(ConsentRecord)
        .where(ConsentRecord.party_id == party.id, ConsentRecord.given.is_(False))
    )
    assert withdrawals == 1
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 1


@pytest.mark.parametrize("word", ["START", "unstop"])
def test_start_and_unstop_opt_back_in(client, party, word):
    _sent_sms(party)
    _inbound(client, party, "STOP", sid="SM" + "c" * 32)
    _inbound(client, party, word, sid="SM" + "d" * 32)
    db.session.expire_all()
    assert current_consent(party, "sms").given is True


def test_help_answers_with_the_services_phone_number_in_twiml(client, party):
    _sent_sms(party)
    response = _inbound(client, party, "HELP")
    assert response.status_code == 200
    assert b"<Message>For help with your appointment, call us on 0300 123 4567.</Message>" in response.data


def test_yes_is_recorded_on_the_timeline(client, party):
    _sent_sms(party)
    _inbound(client, party, "Yes")
    event = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "sms_reply_yes"))
    assert event is not None
    assert event.party_id == party.id
    assert queries.inbound_to_deal_with(party.service_id) == []


def test_any_other_reply_waits_for_the_facilitator(client, party, lead):
    _sent_sms(party)
    response = _inbound(client, party, "Can we make it Thursday instead?")
    assert response.status_code == 200
    assert b"<Message>" not in response.data
    [waiting] = queries.inbound_to_deal_with(party.service_id, facilitator_id=lead.id)
    assert waiting.body == "Can we make it Thursday instead?"
    assert waiting.party_id == party.id


def test_a_reply_from_a_number_we_never_messaged_is_acknowledged_and_kept_from_staff(client, party):
    response = _inbound(client, "+447700900999", "Who is this?")
    assert response.status_code == 200
    inbound = db.session.scalar(select(InboundMessage))
    assert inbound.service_id is None
    assert queries.inbound_to_deal_with(party.service_id) == []
