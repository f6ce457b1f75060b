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
        _run(env, "rj", "demo")  # a second run adds nothing
        queued = _outbox(url)
        party_messages = [m for m in queued if m.party_id is not None]
        staff_emails = [m for m in queued if m.user_id is not None]
        assert len(party_messages) == 3
        assert staff_emails, "the risk demo's decisions email their authors"
        assert len(queued) == len(party_messages) + len(staff_emails)
        assert {m.status for m in queued} == {"pending"}

        dispatch = _run(env, "rj", "dispatch", "--once")
        assert f"sent {len(queued) - 1}" in dispatch.stderr
        assert "suppressed 1" in dispatch.stderr

        outbox = _outbox(url)
    by_status: dict[str, list] = {}
    for message in outbox:
        by_status.setdefault(message.status, []).append(message)
    assert sorted(by_status) == ["sent", "suppressed"]
    assert [m.status_reason for m in by_status["suppressed"]] == ["They have not agreed to SMS"]

    sent_sms = [m for m in by_status["sent"] if m.channel == "sms"]
    assert len(sent_sms) == 1
    assert sent_sms[0].provider_id.startswith("SM")  # Prism's answer, from Twilio's contract
    assert DRAMA_RANGE.match(sent_sms[0].to_address)
    assert not REFUSED.search(sent_sms[0].body_text)

    arrived = smtp_server.messages()
    assert len(arrived) == 1 + len(staff_emails)
    subjects = [str(m["Subject"]) for m in arrived]
    assert subjects.count("We tried to call you") == 1
    staff_subjects = [s for s in subjects if s != "We tried to call you"]
    assert all(
        re.fullmatch(r"Case VF-\d{4}-\d{5}: assessment (signed off|returned with comments)", s)
        for s in staff_subjects
    ), staff_subjects
    for message in arrived:
        assert str(message["From"]) == "rj-demo@example.org"
        address = message["To"].addresses[0].addr_spec
        assert address.endswith("@example.org"), address
        assert message.get_body(("plain",)) is not None
        assert message.get_body(("html",)) is not None
    every_address = [m.to_address for m in outbox]
    assert all(DRAMA_RANGE.match(a) or a.endswith("@example.org") for a in every_address), every_address
