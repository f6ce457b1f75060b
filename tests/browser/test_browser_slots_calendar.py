"""The slot finder and the calendars in a real browser, with axe-core on every page.

A facilitator opens "Find a slot" for a ready case, searches for a face to face
conference, sees the slots with facilitators, rooms and each party's arrival,
books the first one through the pre-filled booking form, finds it in their
week, and makes, uses and stops a calendar subscription address. A supervisor
sees it in the team's week.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

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
    supervisor: tuple[str, str]
    case_ref: str
    day: dt.date


def _search_day() -> dt.date:
    day = now().astimezone(LONDON).date() + dt.timedelta(days=8)
    while day.weekday() >= 5 or day in bank_holidays():
        day += dt.timedelta(days=1)
    return day


def _set_up(live_server: LiveServer) -> World:
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
        service = make_service(name=f"Slots area {tag}", code=f"S{tag[:6]}")
        lead = make_user(service, Role.FACILITATOR, email=f"slots-lead-{tag}@example.org", password=PASSWORD)
        lead.full_name = "Lena Lead"
        co = make_user(service, Role.FACILITATOR, email=f"slots-co-{tag}@example.org", password=PASSWORD)
        co.full_name = "Colin Co"
        supervisor = make_user(
            service, Role.SUPERVISOR, email=f"slots-sup-{tag}@example.org", password=PASSWORD
        )
        supervisor.full_name = "Sue Supervisor"
        manager = make_user(
            service, Role.MANAGER, email=f"slots-manager-{tag}@example.org", password=PASSWORD
        )
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
        world = World(
            facilitator=(lead.email, lead.totp_secret),
            supervisor=(supervisor.email, supervisor.totp_secret),
            case_ref=case.reference,
            day=_search_day(),
        )
        commit_unit_of_work()
        db.session.remove()
    return world


def _sign_in(page: Page, live_server: LiveServer, who: tuple[str, str]) -> None:
    sign_in(page, live_server.url, *who)


def test_facilitator_finds_a_slot_books_it_and_sees_it_in_their_calendar(page: Page, live_server: LiveServer):
    world = _set_up(live_server)
    _sign_in(page, live_server, world.facilitator)

    visit(page, f"{live_server.url}/cases/{world.case_ref}")
    submit(page, page.get_by_role("link", name="Find a slot").click)
    expect(page).to_have_url(f"{live_server.url}/cases/{world.case_ref}/find-a-slot")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a slot")
    # A preparation meeting without saying who it is with is refused with a message.
    page.get_by_label("Preparation meeting: face to face").check()
    response = submit(page, page.get_by_role("button", name="Find slots").click)
    assert response.status == 400
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose who the meeting is with")

    page.get_by_label("Conference: face to face").check()
    page.get_by_label("Length in minutes").fill("90")
    for field, day in (("first_day", world.day), ("last_day", world.day)):
        page.locator(f"#{field}-day").fill(str(day.day))
        page.locator(f"#{field}-month").fill(str(day.month))
        page.locator(f"#{field}-year").fill(str(day.year))
    submit(page, page.get_by_role("button", name="Find slots").click)
    slots = page.locator("#slots")
    first = slots.locator("tbody tr").first
    expect(first).to_contain_text("9:30am to 11:00am")
    expect(first).to_contain_text("Lena Lead (lead, the case's facilitator)")
    expect(first).to_contain_text("Colin Co (co-facilitator)")
    expect(first).to_contain_text("Vera Victim (victim): 9:15am to 11:00am, waits in Garden room")
    expect(first).to_contain_text("Owen Offender (offender): 9:00am to 11:15am, waits in Blue room")

    submit(page, first.get_by_role("link", name="Book this slot").click)
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a meeting")
    expect(page.get_by_label("Start time (UK time)")).to_have_value("09:30")
    submit(page, page.get_by_role("button", name="Book the meeting").click)
    expect(page.get_by_text("Conference (face to face) booked.")).to_be_visible()

    # The week view shows it on its day; the slot is no longer offered.
    visit(page, f"{live_server.url}/calendar?week={world.day.isoformat()}")
    row = page.locator("#week tbody tr").nth(world.day.weekday())
    expect(row).to_contain_text("9:30am to 11:00am: Conference (face to face)")
    expect(row).to_contain_text(world.case_ref)

    # A calendar subscription address: shown once, serves the meeting, stops when revoked.
    submit(page, page.get_by_role("link", name="Add your meetings to Outlook or Google Calendar").click)
    submit(page, page.get_by_role("button", name="Make a subscription address").click)
    feed_url = page.locator("#feed-url").inner_text()
    feed = page.request.get(feed_url)
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert f"SUMMARY:{world.case_ref}: Conference (face to face)" in feed.text()
    assert "Vera" not in feed.text()
    submit(page, page.get_by_role("button", name="Stop the subscription").click)
    expect(page.locator("#feed-status")).to_have_text("You do not have a subscription address.")
    assert page.request.get(feed_url).status == 404


def test_supervisor_sees_the_teams_week(page: Page, live_server: LiveServer):
    world = _set_up(live_server)
    _sign_in(page, live_server, world.supervisor)
    visit(page, f"{live_server.url}/calendar/team?week={world.day.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team meetings")
    page.get_by_label("Facilitator").select_option(label="Lena Lead")
    submit(page, page.get_by_role("button", name="Show").click)
    expect(page.locator("#week caption")).to_contain_text("Lena Lead")
    submit(page, page.get_by_role("link", name="Next week").click)
    expect(page.locator("#week tbody tr")).to_have_count(7)
