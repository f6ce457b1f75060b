"""The demo, end to end: ``flask rj demo`` then ``flask rj dispatch --once`` through real local peers.

A fresh committed database, the real commands as separate processes, email to
aiosmtpd on loopback and SMS to Prism serving Twilio's published contract
(which answers 422 to any request that breaks it, so "sent" means it was valid).
"""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import create_engine, select

from rj_scheduler.notify.models import OutboxMessage
from tests.notify.peers import ROOT
from tests.notify.process_db import FLASK, committed_database, dispatcher_env

pytestmark = pytest.mark.no_db_isolation

DRAMA_RANGE = re.compile(r"^\+447700900\d{3}$")
REFUSED = re.compile(r"victim|offender|restorative justice|crime|court|police", re.IGNORECASE)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*FLASK, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def _outbox(url: str) -> list[OutboxMessage]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(OutboxMessage.__table__).order_by(OutboxMessage.id)))
    finally:
        engine.dispose()


def test_the_demo_messages_reach_the_local_smtp_server_and_twilio_contract_mock(smtp_server, prism_twilio):
    with committed_database() as url:
        env = dispatcher_env(
            url,
            prism_twilio.base_url,
            RJ_EMAIL_BACKEND="smtp",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(smtp_server.port),
            MAIL_DEFAULT_SENDER="rj-demo@example.org",
        )
        _run(env, "rj", "demo")
        first = len(_outbox(url))
        _run(env, "rj", "demo")  # a second run adds nothing
        queued = _outbox(url)
        assert len(queued) == first
        assert {m.status for m in queued} == {"pending"}
        # Reminders wait for their time; everything else is due now.
        later = [m for m in queued if m.kind == "appointment_reminder"]
        due = [m for m in queued if m.kind != "appointment_reminder"]
        assert later, "the demo's upcoming meetings have reminders planned"
        kinds = {m.kind for m in due}
        assert {"tried_to_reach_you", "invitation", "staff_invitation", "staff_sign_off_decision"} <= kinds

        dispatch = _run(env, "rj", "dispatch", "--once")
        outbox = {m.id: m for m in _outbox(url)}
    suppressed = [outbox[m.id] for m in due if outbox[m.id].status == "suppressed"]
    sent = [outbox[m.id] for m in due if outbox[m.id].status == "sent"]
    assert len(sent) + len(suppressed) == len(due), [outbox[m.id].status for m in due]
    assert f"sent {len(sent)}" in dispatch.stderr
    assert [m.status_reason for m in suppressed] == ["They have not agreed to SMS"]
    assert {outbox[m.id].status for m in later} == {"pending"}

    sent_sms = [m for m in sent if m.channel == "sms"]
    assert {m.kind for m in sent_sms} == {"tried_to_reach_you", "invitation"}
    for sms in sent_sms:
        assert sms.provider_id.startswith("SM")  # Prism's answer, from Twilio's contract
        assert DRAMA_RANGE.match(sms.to_address)
        assert not REFUSED.search(sms.body_text)

    arrived = smtp_server.messages()
    assert len(arrived) == len([m for m in sent if m.channel == "email"])
    invitations = [
        m
        for m in arrived
        if m.get("X-RJ-Outbox-Message") in {x.public_id for x in sent if x.kind == "invitation"}
    ]
    assert invitations, "the demo's party invitations arrive by email"
    for message in invitations:
        calendar = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert calendar, "an invitation email carries its calendar invite"
        assert calendar[0].get_param("method") == "REQUEST"
        assert not REFUSED.search(str(message["Subject"]))
    for message in arrived:
        assert str(message["From"]) == "rj-demo@example.org"
        address = message["To"].addresses[0].addr_spec
        assert address.endswith("@example.org"), address
        assert message.get_body(("plain",)) is not None
        assert message.get_body(("html",)) is not None
    every_address = [m.to_address for m in outbox.values()]
    assert all(DRAMA_RANGE.match(a) or a.endswith("@example.org") for a in every_address), every_address
