"""No double booking under concurrency (DOMAIN rule 8): many people book the same room at the same moment.

Twenty-four facilitators' browsers each submit the booking form at once, through
real HTTP to a live werkzeug server, from real threads, each for a different
ready case but the same facilitators and rooms at overlapping times. Exactly
one booking is made; every other request gets a clear refusal (400), never a
500. On PostgreSQL the requests that pass the service's check at the same
moment meet the exclusion constraint; on SQLite BEGIN IMMEDIATE serialises them.

These requests commit for real (no rolled-back test transaction); the test
removes the case and conference data it wrote afterwards (the staff, the
service and their audit entries stay, so the audit chain is untouched).
"""

from __future__ import annotations

import datetime as dt
import http.client
import secrets
import threading
import urllib.parse
from collections.abc import Iterator

import pytest
from conf_helpers import make_room, make_venue
from factories import give_full_consent, make_case, make_user, sign_off_all_assessments
from sqlalchemy import delete, func, select
from werkzeug.serving import make_server

from rj_scheduler.auth.models import Role, Service
from rj_scheduler.cases.models import ContactWindow, Party
from rj_scheduler.cases.working_days import bank_holidays
from rj_scheduler.conferences.models import Meeting, OpeningHours, ResourceBooking, Venue
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.templating import LONDON
from tests.conftest import sign_in

REQUESTS = 24
KEEP = {"audit_entries", "users", "services", "staff_sessions"}


def _booking_day() -> dt.date:
    """A working day at least a week ahead (real clock: the live server's threads use it)."""
    day = now().astimezone(LONDON).date() + dt.timedelta(days=8)
    while day.weekday() >= 5 or day in bank_holidays():
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def committed_world(app) -> Iterator[dict]:
    """A service with two facilitators, one venue, and REQUESTS ready cases, all committed."""
    with app.app_context():
        service = Service(name="Booking race area", code=f"C{secrets.token_hex(3)}")
        db.session.add(service)
        db.session.flush()
        lead = make_user(service, Role.FACILITATOR, full_name="Rita Racer")
        lead.trained_for_sensitive_cases = True
        co = make_user(service, Role.FACILITATOR, full_name="Cal Racer")
        manager = make_user(service, Role.MANAGER)
        venue = make_venue(service, "Race Centre")
        rooms = {
            "room": make_room(venue, "Main room"),
            "victim_waiting_room": make_room(venue, "Left room", "waiting"),
            "offender_waiting_room": make_room(venue, "Right room", "waiting"),
        }
        cases = []
        for n in range(REQUESTS):
            case = make_case(service, lead=lead, victim_name=f"Victim {n}", offender_name=f"Offender {n}")
            for party in case.parties:
                give_full_consent(party)
            sign_off_all_assessments(case, author=lead, approver=manager, at=now())
            case.state = "ready"
            cases.append({"reference": case.reference, "parties": [p.public_id for p in case.parties]})
        db.session.flush()
        cookies = []
        for _ in range(REQUESTS):
            client = sign_in(app.test_client(), lead)
            name = app.config["SESSION_COOKIE_NAME"]
            cookies.append(f"{name}={client.get_cookie(name, domain='localhost').value}")
        world = {
            "service_id": service.id,
            "lead": lead.public_id,
            "co": co.public_id,
            "venue": venue.public_id,
            "rooms": {name: room.public_id for name, room in rooms.items()},
            "cases": cases,
            "cookies": cookies,
        }
        db.session.commit()
    yield world
    with app.app_context():
        service_id = world["service_id"]
        party_ids = select(Party.id).where(Party.service_id == service_id)
        db.session.execute(delete(ContactWindow).where(ContactWindow.party_id.in_(party_ids)))
        assessments = db.metadata.tables["assessments"]
        editors = db.metadata.tables["assessment_editors"]
        db.session.execute(
            delete(editors).where(
                editors.c.assessment_id.in_(
                    select(assessments.c.id).where(assessments.c.service_id == service_id)
                )
            )
        )
        db.session.execute(
            assessments.update().where(assessments.c.service_id == service_id).values(previous_id=None)
        )
        venue_ids = select(Venue.id).where(Venue.service_id == service_id)
        db.session.execute(delete(OpeningHours).where(OpeningHours.venue_id.in_(venue_ids)))
        for table in reversed(db.metadata.sorted_tables):
            if "service_id" in table.c and table.name not in KEEP:
                db.session.execute(delete(table).where(table.c.service_id == service_id))
        db.session.commit()


@pytest.fixture
def live(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="conf-live", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.mark.no_db_isolation
def test_concurrent_bookings_of_one_room_make_exactly_one_booking(app, committed_world, live):
    world = committed_world
    day = _booking_day()
    start = threading.Barrier(REQUESTS)
    answers: list[tuple[int, str]] = []
    failures: list[BaseException] = []

    def book(n: int) -> None:
        case = world["cases"][n]
        minute = n % 30  # every request overlaps every other: 10:00 to 10:29 starts, 90 minutes long
        body = urllib.parse.urlencode(
            {
                "kind": "conference",
                "format": "face_to_face",
                "parties": case["parties"],
                "day": [str(day.day), str(day.month), str(day.year)],
                "start_time": f"10:{minute:02d}",
                "duration_minutes": "90",
                "lead_facilitator": world["lead"],
                "co_facilitator": world["co"],
                "venue": world["venue"],
                **world["rooms"],
            },
            doseq=True,
        )
        try:
            connection = http.client.HTTPConnection(live, timeout=120)
            start.wait(timeout=60)
            connection.request(
                "POST",
                f"/cases/{case['reference']}/meetings/new",
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": world["cookies"][n],
                    "Host": "localhost",
                },
            )
            response = connection.getresponse()
            answers.append((response.status, response.read().decode()))
            connection.close()
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert failures == []
    statuses = sorted(status for status, _text in answers)
    assert statuses == [302] + [400] * (REQUESTS - 1), statuses
    for status, text in answers:
        if status == 400:
            assert "is already booked" in text or "Someone else has just booked" in text, text[:2000]
    with app.app_context():
        service_id = world["service_id"]
        assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.service_id == service_id)) == 1
        bookings = db.session.scalars(
            select(ResourceBooking).where(ResourceBooking.service_id == service_id)
        ).all()
        holders = [(b.resource_kind, b.resource_id) for b in bookings]
        assert len(holders) == len(set(holders))
