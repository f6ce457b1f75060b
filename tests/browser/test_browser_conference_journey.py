"""A face to face conference in a real browser, from booking to closure.

A facilitator opens a ready case (consent given, assessments signed off),
tries to book a face to face conference with both parties in one waiting room
and no co-facilitator (refused, every reason listed, what was typed kept),
then books it with a co-facilitator and separate waiting rooms; moves it to the
afternoon with a reason; on the day, records that it was held, who came, the
victim's satisfaction and an apology in the outcome agreement; marks the
apology done and closes the case as completed. Every page is checked with
axe-core (see browsing.py).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

import time_machine
from playwright.sync_api import Page, expect

from rj_scheduler.auth.models import Role
from rj_scheduler.cases.working_days import bank_holidays
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.templating import LONDON
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.browser.browsing import PASSWORD, LiveServer, sign_in, submit, visit


@dataclass(frozen=True)
class World:
    facilitator: tuple[str, str]
    case_ref: str
    day: dt.date


def _booking_day() -> dt.date:
    day = now().astimezone(LONDON).date() + dt.timedelta(days=8)
    while day.weekday() >= 5 or day in bank_holidays():
        day += dt.timedelta(days=1)
    return day


def _set_up(live_server: LiveServer) -> World:
    """A ready case (consent, approved assessments), its lead and a co-facilitator, and a venue with rooms."""
    from rj_scheduler.conferences import services
    from tests.factories import (
        give_full_consent,
        make_case,
        make_service,
        make_user,
        sign_off_all_assessments,
    )

    with live_server.app.app_context():
        tag = uuid.uuid4().hex[:8]
        service = make_service(name=f"Conference area {tag}", code=f"C{tag[:6]}")
        lead = make_user(service, Role.FACILITATOR, email=f"conf-lead-{tag}@example.org", password=PASSWORD)
        lead.full_name = "Lena Lead"
        lead.trained_for_sensitive_cases = True
        co = make_user(service, Role.FACILITATOR, email=f"conf-co-{tag}@example.org", password=PASSWORD)
        co.full_name = "Colin Co"
        manager = make_user(service, Role.MANAGER, email=f"conf-manager-{tag}@example.org", password=PASSWORD)
        case = make_case(service, lead=lead)
        for party in case.parties:
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
        for name, kind in (
            ("Meeting room 1", "meeting"),
            ("Garden room", "waiting"),
            ("Blue room", "waiting"),
        ):
            services.add_room(venue, name=name, kind=kind, capacity=6, entrance=None, actor=manager, at=at)
        world = World(facilitator=(lead.email, lead.totp_secret), case_ref=case.reference, day=_booking_day())
        commit_unit_of_work()
        db.session.remove()
    return world


def _sign_in(page: Page, live_server: LiveServer, who: tuple[str, str]) -> None:
    sign_in(page, live_server.url, *who)


def _fill_when(page: Page, day: dt.date, start: str) -> None:
    page.locator("#day-day").fill(str(day.day))
    page.locator("#day-month").fill(str(day.month))
    page.locator("#day-year").fill(str(day.year))
    page.get_by_label("Start time (UK time)").fill(start)
    page.get_by_label("Length in minutes").fill("90")


def test_facilitator_books_moves_and_follows_a_conference_to_closure(page: Page, live_server: LiveServer):
    world = _set_up(live_server)
    _sign_in(page, live_server, world.facilitator)

    # The case page offers to book a meeting.
    visit(page, f"{live_server.url}/cases/{world.case_ref}")
    expect(page.get_by_role("heading", name="Meetings")).to_be_visible()
    submit(page, page.get_by_role("link", name="Book a meeting").click)
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a meeting")

    # First attempt: one waiting room for both parties and no co-facilitator: refused with every reason.
    expect(page.get_by_label("Conference", exact=True)).to_be_checked()
    expect(page.get_by_label("Face to face")).to_be_checked()
    expect(page.get_by_label("Vera Victim (victim)")).to_be_checked()
    expect(page.get_by_label("Owen Offender (offender)")).to_be_checked()
    _fill_when(page, world.day, "10:00")
    page.get_by_label("Venue", exact=True).select_option(label="Riverside Centre")
    page.get_by_label("Meeting room", exact=True).select_option(
        label="Riverside Centre: Meeting room 1 (holds 6)"
    )
    page.get_by_label("Victim's waiting room").select_option(label="Riverside Centre: Garden room")
    page.get_by_label("Offender's waiting room").select_option(label="Riverside Centre: Garden room")
    response = submit(page, page.get_by_role("button", name="Book the meeting").click)
    assert response.status == 400
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("A face to face conference needs two facilitators")
    expect(summary).to_contain_text("The victim and the offender must wait in different waiting rooms.")
    expect(page.get_by_label("Start time (UK time)")).to_have_value("10:00")

    # Second attempt: a co-facilitator and separate waiting rooms.
    page.get_by_label("Co-facilitator").select_option(label="Colin Co")
    page.get_by_label("Offender's waiting room").select_option(label="Riverside Centre: Blue room")
    submit(page, page.get_by_role("button", name="Book the meeting").click)
    expect(page.get_by_text("Conference (face to face) booked.")).to_be_visible()
    meeting_url = page.url
    arrivals = page.get_by_role("table", name="Parties and their arrival")
    expect(arrivals).to_contain_text("Garden room")
    expect(arrivals).to_contain_text("Blue room")
    expect(arrivals).to_contain_text("9:30am")  # the offender arrives first
    expect(arrivals).to_contain_text("9:45am")

    # Move it to the afternoon, with a reason; it keeps its address (its identity).
    submit(page, page.get_by_role("link", name="Move").click)
    page.get_by_label("Why is it moving?").fill("The victim asked for the afternoon.")
    page.get_by_label("Start time (UK time)").fill("14:00")
    submit(page, page.get_by_role("button", name="Move the meeting").click)
    expect(page.get_by_text("Conference (face to face) moved.")).to_be_visible()
    assert page.url == meeting_url
    expect(page.get_by_role("table", name="Parties and their arrival")).to_contain_text("1:30pm")
    submit(page, page.get_by_role("button", name="Sign out").click)

    # On the day, after the conference.
    afternoon = dt.datetime.combine(world.day, dt.time(16, 30), tzinfo=LONDON)
    with time_machine.travel(afternoon, tick=True):
        _sign_in(page, live_server, world.facilitator)
        visit(page, meeting_url)
        submit(page, page.get_by_role("link", name="Record the outcome").click)
        page.get_by_label("Yes").check()
        page.get_by_role("checkbox", name="Vera Victim (victim)").check()
        page.get_by_role("checkbox", name="Owen Offender (offender)").check()
        satisfaction = page.get_by_role(
            "group", name="Vera Victim (victim): how satisfied were they? (optional)"
        )
        satisfaction.get_by_label("5").check()
        page.get_by_label("Vera Victim (victim): their comments (optional)").fill("I was listened to.")
        submit(page, page.get_by_role("button", name="Save outcome").click)
        expect(page.get_by_text("Outcome saved.")).to_be_visible()
        expect(page.get_by_text("Vera Victim: 5 out of 5")).to_be_visible()

        submit(page, page.get_by_role("link", name="Add to the agreement").click)
        page.get_by_label("Apology").check()
        page.get_by_label("Details").fill("A written apology to the victim.")
        page.get_by_label("Who does it?").select_option(label="Owen Offender (offender)")
        due = world.day + dt.timedelta(days=14)
        page.locator("#due_on-day").fill(str(due.day))
        page.locator("#due_on-month").fill(str(due.month))
        page.locator("#due_on-year").fill(str(due.year))
        submit(page, page.get_by_role("button", name="Add to the agreement").click)
        expect(page.get_by_text("Added to the outcome agreement.")).to_be_visible()

        # Closing before the apology is done is refused.
        submit(page, page.get_by_role("link", name="Close the case as completed").click)
        response = submit(page, page.get_by_role("button", name="Close the case as completed").click)
        assert response.status == 400
        expect(page.locator(".govuk-error-summary")).to_contain_text("is not done yet")

        visit(page, meeting_url)
        submit(page, page.get_by_role("button", name=re.compile(r"^Mark as done")).click)
        expect(page.get_by_text("Apology marked as done.")).to_be_visible()
        submit(page, page.get_by_role("link", name="Close the case as completed").click)
        submit(page, page.get_by_role("button", name="Close the case as completed").click)
        expect(page.get_by_text("Case closed as completed.")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Completed")


def test_manager_sets_up_a_venue_and_staff_keep_their_time(page: Page, live_server: LiveServer):
    """Venues, rooms, entrances, opening hours and settings (manager); working hours and leave; a party's dates."""
    world = _set_up(live_server)
    with live_server.app.app_context():
        from rj_scheduler.auth.models import User
        from tests.factories import make_user

        lead = db.session.query(User).filter_by(email=world.facilitator[0]).one()
        manager = make_user(
            lead.service, Role.MANAGER, email=f"venue-{uuid.uuid4().hex[:8]}@example.org", password=PASSWORD
        )
        manager_login = (manager.email, manager.totp_secret)
        commit_unit_of_work()
        db.session.remove()

    _sign_in(page, live_server, manager_login)
    visit(page, f"{live_server.url}/venues")
    submit(page, page.get_by_role("link", name="Add a venue").click)
    page.get_by_label("Name").fill("HMP Example")
    page.get_by_label("Prison").check()
    page.get_by_label("Address").fill("Prison Lane, Exampletown")
    page.get_by_label("Booking notes").fill("Book official visits 10 working days ahead.")
    submit(page, page.get_by_role("button", name="Save venue").click)
    expect(page.get_by_role("heading", level=1)).to_have_text("HMP Example")
    submit(page, page.get_by_role("link", name="Add an entrance").click)
    page.get_by_label("Entrance name").fill("Visitors' centre")
    page.get_by_label("Parking").fill("Visitors' car park.")
    submit(page, page.get_by_role("button", name="Add entrance").click)
    submit(page, page.get_by_role("link", name="Add a room").click)
    page.get_by_label("Room name").fill("Visits room 2")
    page.get_by_label("Meeting room").check()
    page.get_by_label("How many people it holds").fill("8")
    page.get_by_label("Nearest entrance").select_option(label="Visitors' centre")
    submit(page, page.get_by_role("button", name="Add room").click)
    expect(page.get_by_role("table")).to_contain_text("Visits room 2")
    submit(page, page.get_by_role("link", name="Change opening hours").click)
    page.get_by_label("Saturday: open from").fill("10:00")
    page.get_by_label("Saturday: until").fill("09:00")
    response = submit(page, page.get_by_role("button", name="Save").click)
    assert response.status == 400
    page.get_by_label("Saturday: until").fill("12:00")
    submit(page, page.get_by_role("button", name="Save").click)
    expect(page.get_by_text("Saturday: 10:00am to 12:00pm")).to_be_visible()
    visit(page, f"{live_server.url}/conference-settings")
    page.get_by_label("Minutes between meetings for the same person or room").fill("30")
    submit(page, page.get_by_role("button", name="Save settings").click)
    expect(page.get_by_text("Conference settings saved.")).to_be_visible()
    visit(page, f"{live_server.url}/availability/team")
    submit(page, page.get_by_role("link", name="Lena Lead").click)
    expect(page.get_by_role("heading", level=1)).to_have_text("Availability of Lena Lead")
    submit(page, page.get_by_role("button", name="Sign out").click)

    _sign_in(page, live_server, world.facilitator)
    visit(page, f"{live_server.url}/availability")
    submit(page, page.get_by_role("link", name="Change working hours").click)
    page.get_by_label("Friday: working from").fill("")
    page.get_by_label("Friday: until").fill("")
    submit(page, page.get_by_role("button", name="Save").click)
    expect(page.get_by_text("Friday: not working")).to_be_visible()
    submit(page, page.get_by_role("link", name="Add leave").click)
    page.locator("#starts_on-day").fill(str(world.day.day))
    page.locator("#starts_on-month").fill(str(world.day.month))
    page.locator("#starts_on-year").fill(str(world.day.year))
    submit(page, page.get_by_role("button", name="Add").click)
    expect(page.get_by_text("Leave added.")).to_be_visible()

    visit(page, f"{live_server.url}/cases/{world.case_ref}")
    submit(page, page.get_by_role("link", name="Vera Victim").click)
    submit(page, page.get_by_role("link", name=re.compile(r"^Days they cannot attend")).click)
    page.locator("#starts_on-day").fill(str(world.day.day))
    page.locator("#starts_on-month").fill(str(world.day.month))
    page.locator("#starts_on-year").fill(str(world.day.year))
    submit(page, page.get_by_role("button", name="Add").click)
    expect(page.get_by_text("Dates added.")).to_be_visible()
    submit(page, page.get_by_role("link", name="Change the times they prefer").click)
    page.get_by_label("Tuesday: preferred from").fill("13:00")
    page.get_by_label("Tuesday: until").fill("16:00")
    submit(page, page.get_by_role("button", name="Save").click)
    expect(page.get_by_text("Tuesday, 1:00pm to 4:00pm")).to_be_visible()
