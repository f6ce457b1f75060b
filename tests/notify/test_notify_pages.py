"""The manager's Outbox and wording editor; dealing with failed messages."""

from __future__ import annotations

from sqlalchemy import select

from rj_scheduler.auth.models import Role
from rj_scheduler.extensions import db
from rj_scheduler.notify.backends import Attachment
from rj_scheduler.notify.models import MessageStatus, MessageWording
from rj_scheduler.notify.services import queue_message
from tests.factories import make_service, make_user
from tests.notify.parties import make_case, make_party


def _messages(service, party):
    sms = queue_message(
        service_id=service.id,
        channel="sms",
        kind="appointment_reminder",
        to_address=party.mobile_e164,
        body_text="Hello Sam, see you on Tuesday ✓",
        idempotency_key=f"page-sms-{party.id}",
        party_id=party.id,
        case_id=party.case_id,
    )
    email = queue_message(
        service_id=service.id,
        channel="email",
        kind="appointment_reminder",
        to_address=party.email,
        subject="Your appointment",
        body_text="Hello",
        idempotency_key=f"page-email-{party.id}",
        party_id=party.id,
        case_id=party.case_id,
        attachments=[Attachment("appointment.ics", "text/calendar", b"BEGIN:VCALENDAR")],
    )
    return sms, email


def test_manager_sees_sms_encoding_and_segments_and_email_attachments_on_the_outbox(signed_in):
    manager = make_user(role=Role.MANAGER)
    party = make_party(make_case(manager.service))
    sms, email = _messages(manager.service, party)
    client = signed_in(manager)
    page = client.get("/messages/outbox").get_data(as_text=True)
    assert "UCS-2, 31 characters, 1 segment" in page
    assert "appointment.ics" in page
    detail = client.get(f"/messages/outbox/{sms.public_id}").get_data(as_text=True)
    assert "Hello Sam, see you on Tuesday ✓" in detail
    assert "UCS-2" in detail
    download = client.get(f"/messages/outbox/{email.public_id}/attachments/1")
    assert download.status_code == 200
    assert download.data == b"BEGIN:VCALENDAR"


def test_facilitators_cannot_open_the_outbox(signed_in):
    facilitator = make_user(role=Role.FACILITATOR)
    assert signed_in(facilitator).get("/messages/outbox").status_code == 403


def test_another_services_message_answers_404(signed_in):
    manager = make_user(role=Role.MANAGER)
    other = make_service()
    sms, _ = _messages(other, make_party(make_case(other)))
    assert signed_in(manager).get(f"/messages/outbox/{sms.public_id}").status_code == 404


def test_saving_wording_with_an_unknown_placeholder_is_refused_naming_it(signed_in):
    manager = make_user(role=Role.MANAGER)
    response = signed_in(manager).post(
        "/messages/wording/appointment_reminder/sms/discreet",
        data={"body": "Hello ((first_name)), your room is ((room_number)).", "save": "Save wording"},
    )
    assert response.status_code == 400
    assert "((room_number)) is not a placeholder for this message" in response.get_data(as_text=True)
    assert db.session.scalar(select(MessageWording)) is None


def test_saving_discreet_wording_that_mentions_restorative_justice_is_refused(signed_in):
    manager = make_user(role=Role.MANAGER)
    response = signed_in(manager).post(
        "/messages/wording/appointment_reminder/sms/discreet",
        data={"body": "Your restorative justice meeting is on ((appointment_date)).", "save": "Save wording"},
    )
    assert response.status_code == 400
    assert "Discreet wording must not mention it" in response.get_data(as_text=True)


def test_preview_shows_encoding_characters_segments_and_warns_over_two(signed_in):
    manager = make_user(role=Role.MANAGER)
    long_text = "Hello ((first_name)). " + "Please bring your letter. " * 14
    response = signed_in(manager).post(
        "/messages/wording/appointment_reminder/sms/discreet", data={"body": long_text, "preview": "Preview"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "GSM-7" in page
    assert "3 text messages" in page
    assert "Hello Sam." in page


def test_saved_wording_is_kept_for_the_service(signed_in):
    manager = make_user(role=Role.MANAGER)
    response = signed_in(manager).post(
        "/messages/wording/appointment_reminder/sms/discreet",
        data={"body": "Hi ((first_name)), see you ((appointment_date)).", "save": "Save wording"},
    )
    assert response.status_code == 302
    saved = db.session.scalar(select(MessageWording))
    assert saved.service_id == manager.service_id
    assert saved.body == "Hi ((first_name)), see you ((appointment_date))."


def test_facilitator_marks_a_failed_message_as_dealt_with(signed_in):
    facilitator = make_user(role=Role.FACILITATOR)
    party = make_party(make_case(facilitator.service, facilitator))
    sms, _ = _messages(facilitator.service, party)
    sms.status = MessageStatus.FAILED.value
    db.session.flush()
    client = signed_in(facilitator)
    response = client.post(f"/messages/failed/{sms.public_id}/acknowledge", data={"next": "/dashboard"})
    assert response.status_code == 302
    assert sms.acknowledged_at is not None
