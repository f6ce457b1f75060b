"""Demo venues, working patterns, and upcoming and past meetings on the cases demo's cases.

Three venues (an office with separate entrances and two waiting rooms, a
community hall, a prison), the facilitators' working patterns and some leave,
then: a preparation meeting booked for the ready case (through the booking
rules); an upcoming face to face conference on the scheduled case (its
sign-offs have expired, so it shows as needing attention); held conferences
with outcomes, satisfaction and agreements on the later cases. Cases are found
by their crime references. Idempotent: if the demo service already has
venues, nothing is added.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from rj_scheduler.cases.models import Case, PartyRole
from rj_scheduler.cases.working_days import is_working_day
from rj_scheduler.conferences import queries, services
from rj_scheduler.conferences.booking import MeetingDraft, PartyPlan, with_default_arrival_plan
from rj_scheduler.conferences.exceptions import BookingRefused
from rj_scheduler.conferences.models import Meeting, MeetingStatus, Venue
from rj_scheduler.conferences.times import local_to_utc, london_day
from rj_scheduler.db import now
from rj_scheduler.extensions import db

FACILITATOR = "facilitator@example.org"
FACILITATOR_2 = "facilitator2@example.org"
WEEKDAYS = range(5)


def _working_day(start: dt.date, step: int) -> dt.date:
    day = start
    while not is_working_day(day):
        day += dt.timedelta(days=step)
    return day


def _case(service_id: int, crime_reference: str) -> Case | None:
    return db.session.scalar(
        select(Case).where(Case.service_id == service_id, Case.crime_reference == crime_reference)
    )


def _venues(service_id: int) -> dict[str, object]:
    at = now()
    office = services.save_venue(
        service_id,
        services.VenueInput(
            name="Riverside Centre",
            kind="office",
            address="1 River Street\nLeicester\nLE1 1AA",
            accessibility="Step-free access from both entrances, hearing loop in Meeting room 1, accessible toilet.",
        ),
        actor=None,
        at=at,
    )
    services.set_opening_hours(
        office, [(d, dt.time(8, 30), dt.time(18, 0)) for d in WEEKDAYS], actor=None, at=at
    )
    front = services.add_entrance(
        office,
        name="Front door on River Street",
        directions="From the bus station, walk along River Street for 5 minutes.",
        parking="Pay and display on River Street.",
        actor=None,
        at=at,
    )
    side = services.add_entrance(
        office,
        name="Side door on Mill Lane",
        directions="Turn into Mill Lane beside the chemist; the door has a blue sign.",
        parking="Two spaces behind the building: ask reception.",
        actor=None,
        at=at,
    )
    rooms = {
        "meeting": services.add_room(
            office, name="Meeting room 1", kind="meeting", capacity=8, entrance=None, actor=None, at=at
        ),
        "victim_waiting": services.add_room(
            office, name="Garden room", kind="waiting", capacity=4, entrance=front, actor=None, at=at
        ),
        "offender_waiting": services.add_room(
            office, name="Blue room", kind="waiting", capacity=4, entrance=side, actor=None, at=at
        ),
    }
    hall = services.save_venue(
        service_id,
        services.VenueInput(
            name="Hill House Community Hall", kind="community", address="2 Hill Road\nLoughborough"
        ),
        actor=None,
        at=at,
    )
    services.set_opening_hours(hall, [(d, dt.time(9), dt.time(21)) for d in range(6)], actor=None, at=at)
    services.add_room(hall, name="Main hall", kind="meeting", capacity=12, entrance=None, actor=None, at=at)
    services.add_room(hall, name="Quiet room", kind="waiting", capacity=3, entrance=None, actor=None, at=at)
    services.add_room(hall, name="Library", kind="waiting", capacity=3, entrance=None, actor=None, at=at)
    prison = services.save_venue(
        service_id,
        services.VenueInput(
            name="HMP Example",
            kind="prison",
            address="Prison Lane\nExampletown",
            booking_notes="Book official visits 10 working days ahead with the Restorative Justice lead."
            " Bring photo ID; no phones past the gate.",
        ),
        actor=None,
        at=at,
    )
    services.set_opening_hours(prison, [(d, dt.time(9), dt.time(16)) for d in WEEKDAYS], actor=None, at=at)
    services.add_room(
        prison, name="Visits room 2", kind="meeting", capacity=8, entrance=None, actor=None, at=at
    )
    return {"office": office, **rooms}


def _place(draft: MeetingDraft, status: MeetingStatus, *, at: dt.datetime) -> Meeting:
    """Write a meeting as it stood (past meetings cannot be booked now): the demo's history, not a booking."""
    settings = queries.settings_for(db.session, draft.case.service_id)
    draft = with_default_arrival_plan(draft, settings)
    meeting = Meeting(
        service_id=draft.case.service_id,
        case_id=draft.case.id,
        kind=draft.kind,
        format=draft.format,
        status=MeetingStatus.BOOKED.value,
        booked_by_id=draft.lead_facilitator.id if draft.lead_facilitator else None,
        booked_at=at,
        updated_at=at,
    )
    meeting.case = draft.case
    services.write_meeting(meeting, draft, settings)
    meeting.status = status.value
    db.session.flush()
    return meeting


def _face_to_face(case: Case, lead, co, rooms, start: dt.datetime) -> MeetingDraft:
    victim = next(p for p in case.parties if p.role == PartyRole.VICTIM)
    offender = next(p for p in case.parties if p.role == PartyRole.OFFENDER)
    return MeetingDraft(
        case=case,
        kind="conference",
        format="face_to_face",
        parties=[PartyPlan(victim, rooms["victim_waiting"]), PartyPlan(offender, rooms["offender_waiting"])],
        lead_facilitator=lead,
        co_facilitator=co,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=90),
        venue=rooms["office"],
        room=rooms["meeting"],
    )


def _held(meeting: Meeting, lead, at: dt.datetime, items: list[tuple[str, str, int, bool]]) -> None:
    """Record a held conference's outcome, satisfaction and agreement ``items`` (kind, text, days to do, done)."""
    victim = next(a.party for a in meeting.attendees if a.party and a.party.role == PartyRole.VICTIM)
    offender = next(a.party for a in meeting.attendees if a.party and a.party.role == PartyRole.OFFENDER)
    meeting.status = MeetingStatus.BOOKED.value
    outcome = services.record_outcome(
        meeting,
        held=True,
        not_held_reason=None,
        attended_party_ids={victim.id, offender.id},
        notes="Both parties spoke and listened. Invented demo notes.",
        satisfaction={victim.id: (5, "I felt heard."), offender.id: (4, None)},
        actor=lead,
        at=at,
    )
    for kind, text, days, done in items:
        item = services.add_agreement_item(
            outcome,
            services.AgreementInput(
                kind=kind,
                description=text,
                party=offender,
                due_on=london_day(at) + dt.timedelta(days=days),
                follow_up_on=max(london_day(now()), london_day(at) + dt.timedelta(days=days)),
            ),
            actor=lead,
            at=at,
        )
        if done:
            services.mark_agreement_item_done(item, actor=lead, at=at + dt.timedelta(days=max(days - 1, 1)))


def load_demo(context) -> None:
    """Add the demo venues, working patterns and meetings once."""
    service = context.service
    if db.session.scalar(select(func.count(Venue.id)).where(Venue.service_id == service.id)):
        return
    at_now = now()
    today = london_day(at_now)
    lead, co = context.users.get(FACILITATOR), context.users.get(FACILITATOR_2)
    rooms = _venues(service.id)
    if lead is None or co is None:
        return
    services.set_working_hours(
        lead, [(d, dt.time(8, 30), dt.time(17, 30)) for d in WEEKDAYS], actor=lead, at=at_now
    )
    services.set_working_hours(co, [(d, dt.time(9), dt.time(17, 30)) for d in range(4)], actor=co, at=at_now)
    leave_from = _working_day(today + dt.timedelta(days=21), 1)
    services.add_leave(
        co,
        starts_on=leave_from,
        ends_on=leave_from + dt.timedelta(days=4),
        note="Annual leave",
        actor=co,
        at=at_now,
    )
    placed = 0
    ready = _case(service.id, "DEMO/007/26")
    if ready is not None:
        victim = next(p for p in ready.parties if p.role == PartyRole.VICTIM)
        day = _working_day(today + dt.timedelta(days=3), 1)
        draft = MeetingDraft(
            case=ready,
            kind="preparation",
            format="face_to_face",
            parties=[PartyPlan(victim)],
            lead_facilitator=lead,
            starts_at=local_to_utc(day, dt.time(14)),
            ends_at=local_to_utc(day, dt.time(15)),
            venue=rooms["office"],
            room=rooms["meeting"],
        )
        try:
            services.book_meeting(draft, actor=lead, at=at_now)
            placed += 1
        except BookingRefused:
            pass
    scheduled = _case(service.id, "DEMO/008/26")
    if scheduled is not None:
        day = _working_day(today + dt.timedelta(days=10), 1)
        _place(
            _face_to_face(scheduled, co, lead, rooms, local_to_utc(day, dt.time(10))),
            MeetingStatus.BOOKED,
            at=at_now,
        )
        placed += 1
    for reference, days_ago, items in (
        ("DEMO/009/26", 5, []),
        (
            "DEMO/010/26",
            20,
            [
                ("apology", "A handwritten letter of apology to the victim.", 7, True),
                ("reparation", "Pay for the repair of the garden fence.", 35, False),
            ],
        ),
    ):
        case = _case(service.id, reference)
        if case is None:
            continue
        day = _working_day(today - dt.timedelta(days=days_ago), -1)
        start = local_to_utc(day, dt.time(10))
        case_lead = case.lead_facilitator or lead
        partner = lead if case_lead.id == co.id else co
        draft = _face_to_face(case, case_lead, partner, rooms, start)
        meeting = _place(draft, MeetingStatus.BOOKED, at=start - dt.timedelta(days=14))
        state = case.state
        case.state = (
            "scheduled"  # the cases demo set the later state directly; replay the outcome from scheduled
        )
        _held(meeting, case_lead, start + dt.timedelta(hours=2), items)
        case.state = state
        placed += 1
    db.session.flush()
    context.notes.append(
        f"Conferences: 3 venues with rooms and entrances, working patterns, {placed} meetings"
        " (upcoming, needing attention, held with outcomes and agreements). Managers see Venues."
    )
