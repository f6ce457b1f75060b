"""Invitations end to end: a real browser, the real SMTP server and Twilio's contract on loopback.

A facilitator books a face to face conference in the browser. A dispatcher
sends the invitations through aiosmtpd and Stoplight Prism serving Twilio's
published API. The victim and the offender each get an SMS with their private
link and an email with a valid calendar invite for their own arrival. The
victim confirms on their page (checked with axe at desktop and phone sizes);
the offender replies YES by SMS (a signed webhook). A reschedule sends
updates with the same UID and a higher SEQUENCE; reminders go at their times
under a frozen clock; a cancellation sends cancellations. A second conference
is booked and the victim says on their page they no longer want to take part:
their invitations end and the offender hears only that it will not go ahead.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
import time_machine
from icalendar import Calendar
from playwright.sync_api import Page, expect
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from rj_scheduler.auth.models import Role
from rj_scheduler.cases.working_days import bank_holidays
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.notify.dispatcher import Dispatcher
from rj_scheduler.notify.models import OutboxMessage
from rj_scheduler.templating import LONDON
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.browser.browsing import PASSWORD, LiveServer, sign_in, submit, visit
from tests.notify.peers import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, PrismTwilio, SmtpServer

VICTIM_MOBILE = "+447700900511"
OFFENDER_MOBILE = "+447700900522"
VICTIM_EMAIL = "vera.vale@example.org"
OFFENDER_EMAIL = "owen.oakes@example.org"
DISCREET = re.compile(r"victim|offender|restorative justice|crime|court|police|vale|oakes", re.IGNORECASE)


@dataclass(frozen=True)
class World:
    facilitator: tuple[str, str]
    case_ref: str
    day: dt.date
    victim_id: int
    offender_id: int


@pytest.fixture(scope="module")
def prism() -> Iterator[PrismTwilio]:
    server = PrismTwilio()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _booking_day() -> dt.date:
    day = now().astimezone(LONDON).date() + dt.timedelta(days=8)
    while day.weekday() >= 4 or day in bank_holidays() or (day + dt.timedelta(days=1)) in bank_holidays():
        day += dt.timedelta(days=1)
    return day


def _set_up(live_server: LiveServer) -> World:
    """A ready case whose victim and offender allow SMS and email; a venue whose waiting rooms have their own doors."""
    from rj_scheduler.conferences import services
    from rj_scheduler.invitations.models import InvitationSettings
    from tests.factories import (
        give_full_consent,
        make_case,
        make_service,
        make_user,
        sign_off_all_assessments,
    )

    with live_server.app.app_context():
        tag = uuid.uuid4().hex[:8]
        service = make_service(name=f"Invitations area {tag}", code=f"I{tag[:6]}")
        service.phone_number = "0116 496 0123"
        service.email = "appointments@example.org"
        db.session.add(InvitationSettings(service_id=service.id, sender_name="Appointments Team"))
        lead = make_user(service, Role.FACILITATOR, email=f"inv-lead-{tag}@example.org", password=PASSWORD)
        lead.full_name = "Lena Lead"
        lead.trained_for_sensitive_cases = True
        co = make_user(service, Role.FACILITATOR, email=f"inv-co-{tag}@example.org", password=PASSWORD)
        co.full_name = "Colin Co"
        manager = make_user(service, Role.MANAGER, email=f"inv-manager-{tag}@example.org", password=PASSWORD)
        case = make_case(service, lead=lead, victim_name="Vera Vale", offender_name="Owen Oakes")
        victim, offender = case.parties
        for party, mobile, email in (
            (victim, VICTIM_MOBILE, VICTIM_EMAIL),
            (offender, OFFENDER_MOBILE, OFFENDER_EMAIL),
        ):
            party.mobile_e164 = mobile
            party.email = email
            party.allow_sms = True
            party.allow_email = True
            give_full_consent(party)
        sign_off_all_assessments(case, author=lead, approver=manager, at=now())
        case.state = "ready"
        at = now()
        venue = services.save_venue(
            service.id,
            services.VenueInput(name="Riverside Centre", kind="office", address="1 River Street, Leicester"),
            actor=manager,
            at=at,
        )
        services.set_opening_hours(
            venue, [(d, dt.time(8), dt.time(18)) for d in range(5)], actor=manager, at=at
        )
        front = services.add_entrance(
            venue,
            name="Front door on River Street",
            directions="Reception is on the left.",
            parking=None,
            actor=manager,
            at=at,
        )
        side = services.add_entrance(
            venue,
            name="Side door on Mill Lane",
            directions="The blue door by the car park.",
            parking=None,
            actor=manager,
            at=at,
        )
        services.add_room(
            venue, name="Meeting room 1", kind="meeting", capacity=6, entrance=None, actor=manager, at=at
        )
        services.add_room(
            venue, name="Garden room", kind="waiting", capacity=6, entrance=front, actor=manager, at=at
        )
        services.add_room(
            venue, name="Blue room", kind="waiting", capacity=6, entrance=side, actor=manager, at=at
        )
        world = World(
            facilitator=(lead.email, lead.totp_secret),
            case_ref=case.reference,
            day=_booking_day(),
            victim_id=victim.id,
            offender_id=offender.id,
        )
        commit_unit_of_work()
        db.session.remove()
    return world


def _sign_in(page: Page, live_server: LiveServer, who: tuple[str, str]) -> None:
    sign_in(page, live_server.url, *who)


def _dispatch(live_server: LiveServer, prism: PrismTwilio, smtp: SmtpServer):
    config = dict(live_server.app.config)
    config.update(
        RJ_SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=FROM_NUMBER,
        TWILIO_API_BASE_URL=prism.base_url,
        RJ_EMAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.port,
        MAIL_DEFAULT_SENDER="appointments@example.org",
        RJ_QUIET_HOURS="off",
        RJ_DISPATCH_THREADS=4,
        RJ_SMS_MAX_PER_SECOND=1000,
    )
    with live_server.app.app_context():
        stats = Dispatcher(config, poll_interval=0.05).run(once=True)
        db.session.remove()
    return stats


def _messages(live_server: LiveServer, party_id: int, **where) -> list[OutboxMessage]:
    with live_server.app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.party_id == party_id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        rows = list(db.session.scalars(query.order_by(OutboxMessage.id)))
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
    return rows


def _emails_to(smtp: SmtpServer, address: str, *, invites_only: bool = True) -> list:
    """The emails that reached ``address`` (by default only those carrying a calendar invite)."""
    return [
        m
        for m in smtp.messages()
        if m["To"].addresses[0].addr_spec == address
        and (not invites_only or any(p.get_content_type() == "text/calendar" for p in m.walk()))
    ]


def _invite_in(message) -> tuple[str, object]:
    """The method and the event of the calendar invite an email carries (inline part and .ics agree)."""
    inline = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    attached = [p for p in message.walk() if p.get_filename() and p.get_filename().endswith(".ics")]
    assert len(inline) == 1
    assert len(attached) == 1
    calendar = Calendar.from_ical(attached[0].get_payload(decode=True))
    assert inline[0].get_param("method") == str(calendar["METHOD"])
    return str(calendar["METHOD"]), next(iter(calendar.walk("VEVENT")))


def _link_in(sms: OutboxMessage, live_server: LiveServer) -> str:
    match = re.search(re.escape(live_server.url) + r"/i/[A-Za-z0-9_-]{43}", sms.body_text)
    assert match, sms.body_text
    return match.group(0)


def _reply_by_sms(live_server: LiveServer, from_number: str, body: str) -> requests.Response:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT_SID,
        "From": from_number,
        "To": FROM_NUMBER,
        "Body": body,
    }
    url = f"{live_server.url}/webhooks/twilio/inbound"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)


def _invitation_status(live_server: LiveServer, party_id: int) -> list[str]:
    from rj_scheduler.invitations.models import Invitation

    with live_server.app.app_context():
        statuses = list(
            db.session.scalars(
                select(Invitation.status).where(Invitation.party_id == party_id).order_by(Invitation.id)
            )
        )
        db.session.remove()
    return statuses


def _fill_when(page: Page, day: dt.date, start: str) -> None:
    page.locator("#day-day").fill(str(day.day))
    page.locator("#day-month").fill(str(day.month))
    page.locator("#day-year").fill(str(day.year))
    page.get_by_label("Start time (UK time)").fill(start)
    page.get_by_label("Length in minutes").fill("90")


def _book(page: Page, live_server: LiveServer, world: World, day: dt.date) -> str:
    visit(page, f"{live_server.url}/cases/{world.case_ref}")
    submit(page, page.get_by_role("link", name="Book a meeting").click)
    _fill_when(page, day, "10:00")
    page.get_by_label("Venue", exact=True).select_option(label="Riverside Centre")
    page.get_by_label("Meeting room", exact=True).select_option(
        label="Riverside Centre: Meeting room 1 (holds 6)"
    )
    page.get_by_label("Victim's waiting room").select_option(label="Riverside Centre: Garden room")
    page.get_by_label("Offender's waiting room").select_option(label="Riverside Centre: Blue room")
    page.get_by_label("Co-facilitator").select_option(label="Colin Co")
    submit(page, page.get_by_role("button", name="Book the meeting").click)
    expect(page.get_by_text("Conference (face to face) booked.")).to_be_visible()
    return page.url


def test_invitations_reach_both_parties_and_follow_every_change(
    page: Page, new_page, live_server: LiveServer, prism: PrismTwilio, smtp: SmtpServer, monkeypatch
):
    monkeypatch.setitem(live_server.app.config, "RJ_PUBLIC_URL", live_server.url)
    monkeypatch.setitem(live_server.app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    world = _set_up(live_server)
    _sign_in(page, live_server, world.facilitator)
    meeting_url = _book(page, live_server, world, world.day)

    # The dispatcher sends each party an SMS (through Twilio's contract) and an email with an invite.
    _dispatch(live_server, prism, smtp)
    for party_id, email, own_door, other_door in (
        (world.victim_id, VICTIM_EMAIL, "Front door on River Street", "Side door on Mill Lane"),
        (world.offender_id, OFFENDER_EMAIL, "Side door on Mill Lane", "Front door on River Street"),
    ):
        [sms] = _messages(live_server, party_id, kind="invitation", channel="sms")
        assert sms.status == "sent"
        assert sms.provider_id.startswith("SM")
        assert not DISCREET.search(sms.body_text)
        [mail] = _emails_to(smtp, email)
        assert not DISCREET.search(str(mail["Subject"]))
        method, event = _invite_in(mail)
        assert method == "REQUEST"
        assert str(event["ATTENDEE"]).lower() == f"mailto:{email}"
        assert own_door in str(event["LOCATION"])
        assert other_door not in event.to_ical().decode()
        assert int(event["SEQUENCE"]) == 0
    victim_event = _invite_in(_emails_to(smtp, VICTIM_EMAIL)[0])[1]
    offender_event = _invite_in(_emails_to(smtp, OFFENDER_EMAIL)[0])[1]
    assert victim_event["UID"] == offender_event["UID"]
    # Staggered arrival: the offender comes first, each calendar shows only its own time.
    assert offender_event.decoded("DTSTART") < victim_event.decoded("DTSTART")

    # The victim confirms on their page, on a phone, with the keyboard.
    [victim_sms] = _messages(live_server, world.victim_id, kind="invitation", channel="sms")
    victim_link = _link_in(victim_sms, live_server)
    phone = new_page(live_server.url, viewport={"width": 320, "height": 640})
    visit(phone, victim_link)
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    expect(phone.locator("main")).to_contain_text("Front door on River Street")
    expect(phone.locator("main")).not_to_contain_text("Side door on Mill Lane")
    expect(phone.locator("main")).not_to_contain_text("Owen")
    confirm = phone.get_by_role("button", name="Yes, I will come")
    confirm.focus()
    submit(phone, lambda: phone.keyboard.press("Enter"))
    expect(phone.locator(".govuk-notification-banner")).to_be_visible()
    assert _invitation_status(live_server, world.victim_id) == ["confirmed"]

    # The offender replies YES to their SMS.
    answer = _reply_by_sms(live_server, OFFENDER_MOBILE, "Yes")
    assert answer.status_code == 200
    assert _invitation_status(live_server, world.offender_id) == ["confirmed"]

    # The facilitator sees both answers on the meeting page.
    visit(page, meeting_url)
    expect(page.locator("main")).to_contain_text("Confirmed")

    # A reschedule sends updates: the same UID, a higher SEQUENCE; answers are asked for again.
    submit(page, page.get_by_role("link", name="Move").click)
    page.get_by_label("Why is it moving?").fill("The room is needed.")
    page.get_by_label("Start time (UK time)").fill("14:00")
    submit(page, page.get_by_role("button", name="Move the meeting").click)
    expect(page.get_by_text("Conference (face to face) moved.")).to_be_visible()
    _dispatch(live_server, prism, smtp)
    for email in (VICTIM_EMAIL, OFFENDER_EMAIL):
        first, update = _emails_to(smtp, email)
        _, before = _invite_in(first)
        method, after = _invite_in(update)
        assert method == "REQUEST"
        assert after["UID"] == before["UID"]
        assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
        assert after.decoded("DTSTART") > before.decoded("DTSTART")
    assert len(_messages(live_server, world.victim_id, kind="invitation_update", channel="sms")) == 1
    submit(page, page.get_by_role("button", name="Sign out").click)

    # Reminders go at their times (3 days and 1 day before by email and SMS, 2 hours before by SMS).
    with live_server.app.app_context():
        from rj_scheduler.invitations.models import Invitation

        victim_arrives = db.session.scalar(
            select(Invitation).where(Invitation.party_id == world.victim_id)
        ).meeting.attendees
        arrival = next(a.arrives_at for a in victim_arrives if a.party_id == world.victim_id)
        db.session.remove()
    previous = {("email", 0), ("sms", 0)}
    for offset, expected in (
        (dt.timedelta(days=3), {("email", 1), ("sms", 1)}),
        (dt.timedelta(days=1), {("email", 2), ("sms", 2)}),
        (dt.timedelta(hours=2), {("email", 2), ("sms", 3)}),
    ):
        for moment, want in (
            (arrival - offset - dt.timedelta(minutes=1), previous),
            (arrival - offset, expected),
        ):
            with time_machine.travel(moment, tick=False):
                _dispatch(live_server, prism, smtp)
            sent = _messages(live_server, world.victim_id, kind="appointment_reminder", status="sent")
            counts = {(c, sum(1 for m in sent if m.channel == c)) for c in ("email", "sms")}
            assert counts == want, (offset, moment, counts)
        previous = expected
    reminder_sms = _messages(
        live_server, world.offender_id, kind="appointment_reminder", channel="sms", status="sent"
    )
    assert len(reminder_sms) == 3
    assert all(not DISCREET.search(m.body_text) for m in reminder_sms)

    # On the day, the facilitator cancels: both parties get cancellations (METHOD:CANCEL, same UID).
    with time_machine.travel(arrival - dt.timedelta(minutes=90), tick=True):
        _sign_in(page, live_server, world.facilitator)
        visit(page, meeting_url)
        submit(page, page.get_by_role("link", name="Cancel", exact=True).click)
        page.get_by_label("Why is it cancelled?").fill("The facilitator is unwell.")
        submit(page, page.get_by_role("button", name="Cancel the meeting").click)
        expect(page.get_by_text("Conference (face to face) cancelled.")).to_be_visible()
        _dispatch(live_server, prism, smtp)
    for email in (VICTIM_EMAIL, OFFENDER_EMAIL):
        *_, update, cancellation = _emails_to(smtp, email)
        method, event = _invite_in(cancellation)
        assert method == "CANCEL"
        assert str(event["STATUS"]) == "CANCELLED"
        assert event["UID"] == _invite_in(update)[1]["UID"]
        assert int(event["SEQUENCE"]) > int(_invite_in(update)[1]["SEQUENCE"])
        assert "unwell" not in cancellation.get_body(("plain",)).get_content()
    assert _invitation_status(live_server, world.victim_id) == ["cancelled"]
    # The dead link says only that it has expired.
    gone = visit(new_page(live_server.url), victim_link)
    assert gone.status == 404

    # A second conference; the victim says on their page that they no longer want to take part.
    with time_machine.travel(arrival - dt.timedelta(minutes=80), tick=True):
        next_day = world.day + dt.timedelta(days=1)
        _book(page, live_server, world, next_day)
        _dispatch(live_server, prism, smtp)
        [sms] = _messages(live_server, world.victim_id, kind="invitation", channel="sms", status="sent")[-1:]
        desk = new_page(live_server.url, viewport={"width": 1280, "height": 800})
        visit(desk, _link_in(sms, live_server))
        submit(desk, desk.get_by_role("button", name="I no longer want to take part").click)
        submit(desk, desk.get_by_role("button", name="Yes, I no longer want to take part").click)
        expect(desk.locator("main")).to_contain_text("call")
        _dispatch(live_server, prism, smtp)
    assert _invitation_status(live_server, world.victim_id) == ["cancelled", "withdrawn"]
    notices = _messages(live_server, world.offender_id, kind="meeting_not_going_ahead")
    assert sorted(m.channel for m in notices) == ["email", "sms"]
    assert {m.status for m in notices} == {"sent"}
    for notice in notices:
        text = f"{notice.subject or ''} {notice.body_text}"
        assert not DISCREET.search(text)
        assert "vera" not in text.lower()
        assert "withdr" not in text.lower()
    method, _ = _invite_in(_emails_to(smtp, OFFENDER_EMAIL)[-1])
    assert method == "CANCEL"
