"""Failed messages and replies reach the people who must act on them: case pages and dashboards."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select

from rj_scheduler.auth.models import Role
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.notify.models import InboundMessage, MessageStatus, OutboxMessage
from rj_scheduler.notify.services import queue_party_message
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.factories import make_service, make_user
from tests.notify.parties import make_case, make_party

VALUES = {"first_name": "Sam", "service_name": "LLR Support Service", "service_phone": "0300 123 4567"}
REASON = "The mobile number is not valid (Twilio error 21211)."


def _failed(party, key: str) -> OutboxMessage:
    message = queue_party_message(party, "tried_to_reach_you", "sms", VALUES, idempotency_key=key)
    message.status = MessageStatus.FAILED.value
    message.last_error = REASON
    message.failed_at = message.finished_at = now()
    db.session.flush()
    return message


def _reply(party, sid: str, body: str) -> InboundMessage:
    inbound = InboundMessage(
        message_sid=sid,
        service_id=party.service_id,
        case_id=party.case_id,
        party_id=party.id,
        from_number=party.mobile_e164,
        body=body,
        category="other",
        received_at=now(),
    )
    db.session.add(inbound)
    db.session.flush()
    return inbound


def test_a_failed_message_shows_on_its_case_page_and_on_the_lead_facilitators_dashboard(signed_in):
    lead = make_user(role=Role.FACILITATOR)
    case = make_case(lead.service, lead)
    party = make_party(case, name="Alex Failedcontact")
    _failed(party, "panel-failed")
    client = signed_in(lead)
    case_page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    for page in (case_page, dashboard):
        assert "1 message could not be sent" in page
        assert "Alex Failedcontact (Victim), we tried to reach you by SMS." in page
        assert REASON in page
    assert f"Case {case.reference}" in dashboard


def test_a_failed_message_is_not_shown_to_another_facilitator_or_another_service(signed_in):
    lead = make_user(role=Role.FACILITATOR)
    colleague = make_user(lead.service, Role.FACILITATOR)
    other_service_lead = make_user(make_service(), Role.FACILITATOR)
    _failed(make_party(make_case(lead.service, lead)), "panel-mine")
    other_case = make_case(other_service_lead.service, other_service_lead)
    _failed(make_party(other_case), "panel-theirs")
    assert "could not be sent" not in signed_in(colleague).get("/dashboard").get_data(as_text=True)
    own = signed_in(lead).get("/dashboard").get_data(as_text=True)
    assert "1 message could not be sent" in own
    assert other_case.reference not in own
    assert signed_in(lead).get(f"/cases/{other_case.reference}").status_code == 404


def test_a_failed_message_marked_as_dealt_with_leaves_the_case_page(signed_in):
    lead = make_user(role=Role.FACILITATOR)
    case = make_case(lead.service, lead)
    message = _failed(make_party(case), "panel-dealt")
    client = signed_in(lead)
    response = client.post(
        f"/messages/failed/{message.public_id}/acknowledge", data={"next": f"/cases/{case.reference}"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case.reference}"
    assert "could not be sent" not in client.get(f"/cases/{case.reference}").get_data(as_text=True)


def test_a_reply_needing_attention_shows_and_can_be_marked_handled(signed_in):
    lead = make_user(role=Role.FACILITATOR)
    case = make_case(lead.service, lead)
    party = make_party(case, name="Robin Replier")
    inbound = _reply(party, "SM" + "a" * 32, "Can we make it Thursday instead?")
    client = signed_in(lead)
    for url in (f"/cases/{case.reference}", "/dashboard"):
        page = client.get(url).get_data(as_text=True)
        assert "Replies to deal with" in page
        assert "Robin Replier (Victim)" in page
        assert "Can we make it Thursday instead?" in page
    response = client.post(f"/messages/inbound/{inbound.public_id}/handled", data={"next": "/dashboard"})
    assert response.status_code == 302
    handled = db.session.scalar(select(InboundMessage).where(InboundMessage.id == inbound.id))
    assert handled.handled_at is not None
    assert handled.handled_by_id == lead.id
    assert "Replies to deal with" not in client.get("/dashboard").get_data(as_text=True)


def test_another_services_reply_cannot_be_marked_handled(signed_in):
    lead = make_user(role=Role.FACILITATOR)
    other = make_user(make_service(), Role.FACILITATOR)
    inbound = _reply(make_party(make_case(other.service, other)), "SM" + "b" * 32, "Hello?")
    response = signed_in(lead).post(f"/messages/inbound/{inbound.public_id}/handled", data={})
    assert response.status_code == 404
    assert inbound.handled_at is None


def _dashboard_statements(client) -> int:
    engine = db.session.get_bind().engine
    client.get("/dashboard")
    count = 0

    def count_statement(*args, **kwargs):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        response = client.get("/dashboard")
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert response.status_code == 200
    return count


def test_the_dashboard_costs_the_same_with_3_or_30_failed_messages_and_replies(signed_in):
    counts = []
    for n in (3, 30):
        lead = make_user(role=Role.FACILITATOR)
        for i in range(n):
            party = make_party(make_case(lead.service, lead))
            _failed(party, f"count-{lead.id}-{i}")
            _reply(party, f"SM{lead.id:08d}{i:024d}", f"Reply {i}")
        commit_unit_of_work()
        page = signed_in(lead).get("/dashboard").get_data(as_text=True)
        assert f"{n} messages could not be sent" in page
        counts.append(_dashboard_statements(signed_in(lead)))
    assert counts[0] == counts[1], counts


def test_managers_find_the_outbox_and_message_wording_in_the_navigation(signed_in):
    manager = make_user(role=Role.MANAGER)
    facilitator = make_user(manager.service, Role.FACILITATOR)
    page = signed_in(manager).get("/dashboard").get_data(as_text=True)
    assert 'href="/messages/outbox"' in page
    assert 'href="/messages/wording"' in page
    page = signed_in(facilitator).get("/dashboard").get_data(as_text=True)
    assert 'href="/messages/outbox"' not in page
    assert 'href="/messages/wording"' not in page


def test_a_reply_shows_when_it_arrived_in_uk_time(signed_in):
    lead = make_user(role=Role.FACILITATOR)
    inbound = _reply(make_party(make_case(lead.service, lead)), "SM" + "c" * 32, "Call me")
    inbound.received_at = dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.UTC)
    db.session.flush()
    assert "1 July 2026 at 2:05pm" in signed_in(lead).get("/dashboard").get_data(as_text=True)
