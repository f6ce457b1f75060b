"""Builders for the conferences tests: a ready case with signed-off assessments, a venue, two facilitators.

``NOW`` is Monday 23 November 2026, 9am in London; ``DAY`` (Tuesday 1
December 2026) is an ordinary working day with nothing booked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from factories import give_full_consent, make_case, make_user, sign_off_all_assessments

from rj_scheduler.auth.models import Role, Service, User
from rj_scheduler.cases.models import Case, Party
from rj_scheduler.conferences import services
from rj_scheduler.conferences.booking import MeetingDraft, PartyPlan
from rj_scheduler.conferences.models import Room, Venue
from rj_scheduler.conferences.times import local_to_utc
from rj_scheduler.extensions import db

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 12, 1)
OFFICE_HOURS = [(d, dt.time(8, 0), dt.time(18, 0)) for d in range(5)]


@dataclass
class Setting:
    service: Service
    lead: User
    co: User
    manager: User
    case: Case
    victim: Party
    offender: Party
    venue: Venue
    meeting_room: Room
    victim_room: Room
    offender_room: Room


def make_venue(service: Service, name: str = "Riverside Centre", *, kind: str = "office") -> Venue:
    venue = services.save_venue(
        service.id,
        services.VenueInput(name=name, kind=kind, address="1 River Street\nLeicester\nLE1 1AA"),
        actor=None,
        at=NOW,
    )
    services.set_opening_hours(venue, OFFICE_HOURS, actor=None, at=NOW)
    return venue


def make_room(venue: Venue, name: str, kind: str = "meeting", capacity: int = 8) -> Room:
    return services.add_room(
        venue, name=name, kind=kind, capacity=capacity, entrance=None, actor=None, at=NOW
    )


def make_ready_setting(service: Service | None = None, venue_name: str | None = None) -> Setting:
    """A case whose victim and offender consent and have approved assessments, a venue, two facilitators."""
    lead = make_user(service, Role.FACILITATOR, full_name="Lena Lead")
    lead.trained_for_sensitive_cases = True
    service = lead.service
    co = make_user(service, Role.FACILITATOR, full_name="Colin Co")
    manager = make_user(service, Role.MANAGER, full_name="Mina Manager")
    case = make_case(service, lead=lead)
    for party in case.parties:
        give_full_consent(party)
    sign_off_all_assessments(case, author=lead, approver=manager)
    case.state = "ready"
    db.session.flush()
    venue = make_venue(
        service, venue_name or ("Riverside Centre" if len(service.users) <= 3 else f"Venue {lead.id}")
    )
    setting = Setting(
        service=service,
        lead=lead,
        co=co,
        manager=manager,
        case=case,
        victim=next(p for p in case.parties if p.role == "victim"),
        offender=next(p for p in case.parties if p.role == "offender"),
        venue=venue,
        meeting_room=make_room(venue, "Meeting room 1"),
        victim_room=make_room(venue, "Garden room", "waiting", 4),
        offender_room=make_room(venue, "Blue room", "waiting", 4),
    )
    return setting


def at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return local_to_utc(day, dt.time(hour, minute))


def face_to_face(s: Setting, start: dt.datetime | None = None, minutes: int = 90, **changes) -> MeetingDraft:
    start = start or at_local(DAY, 10)
    draft = MeetingDraft(
        case=s.case,
        kind="conference",
        format="face_to_face",
        parties=[PartyPlan(s.victim, s.victim_room), PartyPlan(s.offender, s.offender_room)],
        lead_facilitator=s.lead,
        co_facilitator=s.co,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        venue=s.venue,
        room=s.meeting_room,
    )
    for name, value in changes.items():
        setattr(draft, name, value)
    return draft
