"""An invitation email through a real SMTP server: the calendar as a text/calendar alternative and as
an application/ics attachment, both the same event (what Outlook, Gmail and Apple Mail look for)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import vobject
from icalendar import Calendar

from rj_scheduler.auth.models import Role
from rj_scheduler.invitations.ics import CalendarEvent, build_invite, invite_attachment
from rj_scheduler.notify.backends import Attachment, OutgoingEmail, SmtpEmailBackend
from rj_scheduler.notify.services import queue_message
from tests.factories import make_user
from tests.notify.parties import make_case, make_party

UTC = dt.UTC
EVENT = CalendarEvent(
    uid="m-41c9e2@rj.example.org",
    sequence=1,
    stamp=dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
    starts_at=dt.datetime(2026, 12, 3, 13, 45, tzinfo=UTC),
    ends_at=dt.datetime(2026, 12, 3, 16, 0, tzinfo=UTC),
    summary="Spotkanie z zespołem (Warwickshire)",
    description="Twoja strona: https://rj.example.org/i/tok3n",
    location="Side entrance, Warwick Hall,\n1 High Street; Warwick",
    url="https://rj.example.org/i/tok3n",
    organizer_email="appointments@example.org",
    organizer_name="Appointments",
    attendee_email="kasia.nowak@example.org",
    attendee_name="Kasia Nowak",
)


def _email(*attachments: Attachment, html: str | None = "<p>Your appointment is on 3 December.</p>"):
    return OutgoingEmail(
        message_id=7,
        public_id="inv7",
        to="kasia.nowak@example.org",
        to_name="Kasia Nowak",
        subject="Your appointment on 3 December",
        text="Your appointment is on 3 December.",
        html=html,
        attachments=attachments,
    )


def _send(smtp_server, email: OutgoingEmail):
    backend = SmtpEmailBackend(server="127.0.0.1", port=smtp_server.port, sender="appointments@example.org")
    result = backend.send_email(email)
    assert result.outcome == "sent", result.error
    [received] = smtp_server.messages()
    return received


def _event_in(data: bytes) -> dict:
    """The event as icalendar and vobject each read it (they must agree)."""
    calendar = Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    other = vobject.readOne(data.decode("utf-8"))
    read = {
        "method": str(calendar["METHOD"]),
        "uid": str(event["UID"]),
        "sequence": int(event["SEQUENCE"]),
        "status": str(event["STATUS"]),
        "start": event.decoded("DTSTART").astimezone(UTC),
        "end": event.decoded("DTEND").astimezone(UTC),
        "summary": str(event["SUMMARY"]),
        "attendees": [str(event["ATTENDEE"])],
    }
    assert read == {
        "method": other.method.value,
        "uid": other.vevent.uid.value,
        "sequence": int(other.vevent.sequence.value),
        "status": other.vevent.status.value,
        "start": other.vevent.dtstart.value.astimezone(UTC),
        "end": other.vevent.dtend.value.astimezone(UTC),
        "summary": other.vevent.summary.value,
        "attendees": [attendee.value for attendee in other.vevent.attendee_list],
    }
    return read


def test_invite_email_has_text_html_and_calendar_alternatives_and_an_ics_attachment(smtp_server):
    received = _send(smtp_server, _email(invite_attachment(EVENT, "REQUEST")))

    assert received.get_content_type() == "multipart/mixed"
    alternative, attached = received.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    inline = alternative.get_payload()[2]
    assert inline.get_param("method") == "REQUEST"
    assert inline.get_content_charset() == "utf-8"
    assert inline.get_content_disposition() is None

    assert list(received.iter_attachments()) == [attached]
    assert attached.get_content_type() == "application/ics"
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_filename() == "invite.ics"

    sent = build_invite(EVENT, "REQUEST")
    assert inline.get_payload(decode=True) == sent, "the calendar arrives byte for byte, CRLF line ends kept"
    assert attached.get_payload(decode=True) == sent
    expected = {
        "method": "REQUEST",
        "uid": "m-41c9e2@rj.example.org",
        "sequence": 1,
        "status": "CONFIRMED",
        "start": EVENT.starts_at,
        "end": EVENT.ends_at,
        "summary": "Spotkanie z zespołem (Warwickshire)",
        "attendees": ["mailto:kasia.nowak@example.org"],
    }
    assert _event_in(inline.get_payload(decode=True)) == expected
    assert _event_in(attached.get_payload(decode=True)) == expected
    assert received.get_body(("plain",)).get_content().startswith("Your appointment is on 3 December.")


def test_cancellation_email_carries_method_cancel_and_cancellation_ics(smtp_server):
    cancelled = dataclasses.replace(EVENT, sequence=2, cancelled=True)
    received = _send(smtp_server, _email(invite_attachment(cancelled, "CANCEL")))
    alternative, attached = received.get_payload()
    inline = alternative.get_payload()[-1]
    assert inline.get_content_type() == "text/calendar"
    assert inline.get_param("method") == "CANCEL"
    assert attached.get_filename() == "cancellation.ics"
    assert attached.get_content_type() == "application/ics"
    for data in (inline.get_payload(decode=True), attached.get_payload(decode=True)):
        read = _event_in(data)
        assert (read["method"], read["status"], read["uid"], read["sequence"]) == (
            "CANCEL",
            "CANCELLED",
            EVENT.uid,
            2,
        )


def test_text_only_invite_email_has_text_and_calendar_alternatives(smtp_server):
    received = _send(smtp_server, _email(invite_attachment(EVENT, "REQUEST"), html=None))
    alternative, attached = received.get_payload()
    assert [part.get_content_type() for part in alternative.get_payload()] == ["text/plain", "text/calendar"]
    assert attached.get_filename() == "invite.ics"


def test_other_attachments_travel_unchanged_beside_the_invite(smtp_server):
    letter = Attachment("letter.pdf", "application/pdf", b"%PDF-1.7 a printable letter")
    plain_calendar = Attachment("feed.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    received = _send(smtp_server, _email(invite_attachment(EVENT, "REQUEST"), letter, plain_calendar))
    alternative = received.get_payload()[0]
    assert [part.get_content_type() for part in alternative.get_payload()].count("text/calendar") == 1
    attachments = {part.get_filename(): part for part in received.iter_attachments()}
    assert set(attachments) == {"invite.ics", "letter.pdf", "feed.ics"}
    assert attachments["letter.pdf"].get_content_type() == "application/pdf"
    assert attachments["letter.pdf"].get_payload(decode=True) == b"%PDF-1.7 a printable letter"
    # A calendar file without an iTIP method is a plain file, not an invitation.
    assert attachments["feed.ics"].get_content_type() == "text/calendar"
    assert attachments["invite.ics"].get_content_type() == "application/ics"


def test_outbox_message_page_shows_the_calendar_file_text(signed_in):
    manager = make_user(role=Role.MANAGER)
    party = make_party(make_case(manager.service))
    event = dataclasses.replace(EVENT, attendee_email=party.email, attendee_name=None)
    email = queue_message(
        service_id=manager.service.id,
        channel="email",
        kind="appointment_reminder",
        to_address=party.email,
        subject="Your appointment",
        body_text="Your appointment is on 3 December.",
        idempotency_key=f"calendar-page-{party.id}",
        party_id=party.id,
        case_id=party.case_id,
        attachments=[invite_attachment(event, "REQUEST")],
    )
    page = signed_in(manager).get(f"/messages/outbox/{email.public_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Calendar file invite.ics" in html
    assert '<pre class="rj-calendar-text">BEGIN:VCALENDAR' in html
    assert "METHOD:REQUEST" in html
    assert "UID:m-41c9e2@rj.example.org" in html
    assert "SUMMARY:Spotkanie z zespołem (Warwickshire)" in html
    assert "LOCATION:Side entrance\\, Warwick Hall\\,\\n1 High Street\\; Warwick" in html
