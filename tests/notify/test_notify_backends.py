"""The backends against real peers: aiosmtpd for SMTP, Prism serving Twilio's published contract."""

from __future__ import annotations

import requests

from rj_scheduler.notify.backends import (
    Attachment,
    OutgoingEmail,
    OutgoingSms,
    SmtpEmailBackend,
    TwilioSmsBackend,
)
from rj_scheduler.notify.twilio_http import BaseUrlTwilioHttpClient
from tests.notify.peers import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilioBehaviour


def _email(**overrides) -> OutgoingEmail:
    values = {
        "message_id": 1,
        "public_id": "abc123",
        "to": "party1@example.org",
        "to_name": "Alex Testperson",
        "subject": "Your appointment on Tuesday 3 March",
        "text": "Hello Alex,\n\nSee you on Tuesday.",
        "html": "<p>Hello Alex,</p><p>See you on Tuesday.</p>",
        "attachments": (
            Attachment("appointment.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
        ),
    }
    values.update(overrides)
    return OutgoingEmail(**values)


def _smtp(port: int) -> SmtpEmailBackend:
    return SmtpEmailBackend(server="127.0.0.1", port=port, sender="rj-test@example.org", timeout=5)


def _twilio(base_url: str) -> TwilioSmsBackend:
    return TwilioSmsBackend(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        public_url="https://rj.example.org",
        from_number=FROM_NUMBER,
        api_base_url=base_url,
        timeout=10,
    )


def test_smtp_sends_multipart_text_and_html_with_attachments(smtp_server):
    result = _smtp(smtp_server.port).send_email(_email())
    assert result.outcome == "sent"
    [received] = smtp_server.messages()
    assert received["Subject"] == "Your appointment on Tuesday 3 March"
    assert received["X-RJ-Outbox-Message"] == "abc123"
    assert received.get_body(("plain",)).get_content().startswith("Hello Alex,")
    assert "<p>Hello Alex,</p>" in received.get_body(("html",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert b"BEGIN:VCALENDAR" in attachment.get_payload(decode=True)


def test_smtp_permanent_refusal_is_a_failure_and_temporary_is_a_retry(smtp_server):
    backend = _smtp(smtp_server.port)
    bounced = backend.send_email(_email(to="bounce@example.org"))
    assert bounced.outcome == "failed"
    assert "550" in bounced.error
    busy = backend.send_email(_email(to="busy@example.org"))
    assert busy.outcome == "retry"
    assert "451" in busy.error


def test_smtp_server_down_is_a_retry(smtp_server):
    smtp_server.stop()
    result = _smtp(smtp_server.port).send_email(_email())
    assert result.outcome == "retry"
    assert "Could not reach the SMTP server" in result.error


def test_twilio_backend_sends_through_the_contract_mock(prism_twilio):
    result = _twilio(prism_twilio.base_url).send_sms(OutgoingSms(1, "+447700900123", "Hello from the test"))
    assert result.outcome == "sent", result.error
    assert result.provider_id.startswith("SM")


def test_prism_rejects_a_request_that_breaks_twilios_contract(prism_twilio):
    url = f"{prism_twilio.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    missing_to = requests.post(
        url, data={"From": FROM_NUMBER, "Body": "hi"}, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10
    )
    assert missing_to.status_code == 422
    unauthenticated = requests.post(
        url, data={"To": "+447700900123", "From": FROM_NUMBER, "Body": "hi"}, timeout=10
    )
    assert unauthenticated.status_code == 401


def test_base_url_client_keeps_path_and_query_and_replaces_only_the_host():
    client = BaseUrlTwilioHttpClient("http://127.0.0.1:4010")
    rewritten = client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=1")
    assert rewritten == "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json?PageSize=1"


def test_twilio_500_and_429_are_retried(fake_twilio):
    backend = _twilio(fake_twilio.base_url)
    fake_twilio.behaviour = FakeTwilioBehaviour(fault=(500, 20500))
    assert backend.send_sms(OutgoingSms(1, "+447700900123", "x")).outcome == "retry"
    fake_twilio.behaviour = FakeTwilioBehaviour(fault=(429, 20429))
    result = backend.send_sms(OutgoingSms(1, "+447700900123", "x"))
    assert result.outcome == "retry"
    assert "429" in result.error


def test_invalid_unsubscribed_and_landline_numbers_are_permanent_failures(fake_twilio):
    backend = _twilio(fake_twilio.base_url)
    for code, words in ((21211, "not valid"), (21610, "replied STOP"), (21614, "not a mobile")):
        fake_twilio.behaviour = FakeTwilioBehaviour(fault=(400, code))
        result = backend.send_sms(OutgoingSms(1, "+447700900123", "x"))
        assert result.outcome == "failed"
        assert str(code) in result.error
        assert words in result.error


def test_twilio_unreachable_is_a_retry(fake_twilio):
    fake_twilio.stop()
    result = _twilio(fake_twilio.base_url).send_sms(OutgoingSms(1, "+447700900123", "x"))
    assert result.outcome == "retry"
    assert "Could not reach Twilio" in result.error
