"""Property: every slot the finder offers, read from the real database, is accepted by the real booking rules.

Each example writes a small random calendar (working patterns, leave, venues
with opening hours and rooms, parties' unavailable days, other bookings,
the service's arrival settings) inside a savepoint, loads the snapshot with
``load_snapshot``, and hands each slot to ``booking_refusals``, the one
function that decides whether a meeting may be booked; the first slot is then
booked for real with ``book_meeting``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rj_scheduler.auth.models import Role
from rj_scheduler.conferences.booking import booking_refusals
from rj_scheduler.conferences.models import (
    ConferenceSettings,
    Meeting,
    OpeningHours,
    PartyUnavailability,
    ResourceBooking,
    Room,
    StaffLeave,
    Venue,
    WorkingHours,
)
from rj_scheduler.conferences.services import book_meeting
from rj_scheduler.conferences.slots import (
    SlotRequest,
    attending_parties,
    draft_for_slot,
    find_slots,
    load_snapshot,
)
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from tests.factories import make_ready_case, make_service, make_user, sign_off_all_assessments

LONDON = ZoneInfo("Europe/London")
VIDEO_LINK = "https://video.example.org/room/123"
TYPES = [("conference", "face_to_face"), ("conference", "video"), ("preparation", "face_to_face")]


def _next_monday(at: dt.datetime) -> dt.date:
    today = at.astimezone(LONDON).date()
    return today + dt.timedelta(days=7 - today.weekday())


@st.composite
def calendars(draw):
    hours = st.lists(
        st.tuples(st.integers(0, 6), st.integers(7, 11), st.integers(2, 9)),
        min_size=1,
        max_size=7,
        unique_by=lambda r: r[0],
    )
    busy = st.lists(
        st.tuples(st.integers(0, 2), st.integers(8 * 4, 17 * 4), st.sampled_from([2, 4, 6, 10])), max_size=8
    )
    return {
        "type": draw(st.sampled_from(TYPES)),
        "minutes": draw(st.sampled_from([45, 60, 90])),
        "facilitator_hours": [draw(st.one_of(st.none(), hours)) for _ in range(3)],
        "facilitator_busy": [draw(busy) for _ in range(3)],
        "leave": [draw(st.sampled_from([None, 0, 1, 2])) for _ in range(3)],
        "venues": [
            {
                "hours": draw(hours),
                "rooms": draw(
                    st.lists(
                        st.tuples(st.sampled_from(["meeting", "waiting"]), st.integers(1, 8), busy),
                        min_size=1,
                        max_size=4,
                    )
                ),
            }
            for _ in range(draw(st.integers(0, 1)))
        ]
        + (
            # Often a well-equipped office open on weekdays, so that face to face conferences fit.
            [
                {
                    "hours": [(d, 8, 10) for d in range(5)],
                    "rooms": [
                        ("meeting", 8, draw(busy)),
                        ("waiting", 4, draw(busy)),
                        ("waiting", 4, draw(busy)),
                    ],
                }
            ]
            if draw(st.booleans())
            else []
        ),
        "party_busy": [draw(busy) for _ in range(2)],
        "party_unavailable": [draw(st.sampled_from([None, 0, 1, 2])) for _ in range(2)],
        "settings": draw(
            st.tuples(
                st.sampled_from([0, 15]),
                st.sampled_from([10, 15]),
                st.sampled_from([5, 15]),
                st.sampled_from([0, 15, 30]),
            )
        ),
    }


def _intervals(monday: dt.date, rows):
    """(day offset, quarter hour of the day, length in quarters) rows as merged London intervals (no overlaps,
    as the exclusion constraint demands of one resource)."""
    spans = sorted(
        (
            dt.datetime.combine(monday + dt.timedelta(days=d), dt.time(q // 4, q % 4 * 15), tzinfo=LONDON),
            dt.datetime.combine(monday + dt.timedelta(days=d), dt.time(q // 4, q % 4 * 15), tzinfo=LONDON)
            + dt.timedelta(minutes=15 * n),
        )
        for d, q, n in rows
    )
    merged: list[list[dt.datetime]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def _write(calendar, base, monday):
    session = db.session
    service, staff, holder = base["service"], base["staff"], base["holder"]
    victim_arrives, offender_before, victim_leaves, buffer = calendar["settings"]
    session.add(
        ConferenceSettings(
            service_id=service.id,
            victim_arrives_before_start_minutes=victim_arrives,
            offender_arrives_before_victim_minutes=offender_before,
            victim_leaves_before_offender_minutes=victim_leaves,
            buffer_minutes=buffer,
        )
    )

    def hold(kind, resource_id, rows):
        for a, b in _intervals(monday, rows):
            session.add(
                ResourceBooking(
                    service_id=service.id,
                    meeting_id=holder.id,
                    resource_kind=kind,
                    resource_id=resource_id,
                    starts_at=a,
                    ends_at=b,
                )
            )

    for user, hours, busy, leave in zip(
        staff, calendar["facilitator_hours"], calendar["facilitator_busy"], calendar["leave"], strict=True
    ):
        for weekday, opens, length in hours or ():
            session.add(
                WorkingHours(
                    service_id=service.id,
                    user_id=user.id,
                    weekday=weekday,
                    starts_at=dt.time(opens),
                    ends_at=dt.time(min(opens + length, 23)),
                )
            )
        if leave is not None:
            day = monday + dt.timedelta(days=leave)
            session.add(StaffLeave(service_id=service.id, user_id=user.id, starts_on=day, ends_on=day))
        hold("facilitator", user.id, busy)
    for n, spec in enumerate(calendar["venues"]):
        venue = Venue(service_id=service.id, name=f"Venue {n}", address="1 Test Street")
        session.add(venue)
        session.flush()
        for weekday, opens, length in spec["hours"]:
            session.add(
                OpeningHours(
                    venue_id=venue.id,
                    weekday=weekday,
                    opens_at=dt.time(opens),
                    closes_at=dt.time(min(opens + length, 23)),
                )
            )
        for m, (kind, capacity, busy) in enumerate(spec["rooms"]):
            room = Room(
                service_id=service.id, venue_id=venue.id, name=f"Room {m}", kind=kind, capacity=capacity
            )
            session.add(room)
            session.flush()
            hold("room", room.id, busy)
    for party, busy, unavailable in zip(
        base["parties"], calendar["party_busy"], calendar["party_unavailable"], strict=True
    ):
        hold("party", party.id, busy)
        if unavailable is not None:
            day = monday + dt.timedelta(days=unavailable)
            session.add(
                PartyUnavailability(service_id=service.id, party_id=party.id, starts_on=day, ends_on=day)
            )
    session.flush()
    session.expire_all()


def test_every_slot_offered_is_accepted_by_the_booking_rules_and_books(app):
    base: dict[str, object] = {}
    booked: list[str] = []

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,  # the same calendars every run: the non-vacuity check below never flickers
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(calendars())
    def check(calendar):
        if not base:
            service = make_service()
            lead = make_user(service, Role.FACILITATOR)
            case = make_ready_case(service, lead=lead)
            sign_off_all_assessments(case)
            other = make_ready_case(service, lead=lead)
            at = now()
            holder = Meeting(
                service_id=service.id,
                case_id=other.id,
                kind="preparation",
                format="video",
                starts_at=at - dt.timedelta(days=30),
                ends_at=at - dt.timedelta(days=30, hours=-1),
            )
            db.session.add(holder)
            db.session.flush()
            base.update(
                service=service,
                case=case,
                staff=[lead, make_user(service), make_user(service, Role.SUPERVISOR)],
                parties=sorted(case.parties, key=lambda p: p.role, reverse=True),  # victim, offender
                holder=holder,
                at=at,
            )
        at = base["at"]
        monday = _next_monday(at)
        kind, format_ = calendar["type"]
        nested = db.session.begin_nested()
        try:
            _write(calendar, base, monday)
            case = base["case"]
            victim = next(p for p in case.parties if p.role == "victim")
            parties = attending_parties(case, kind, format_, victim)
            request = SlotRequest(
                kind=kind,
                format=format_,
                duration=dt.timedelta(minutes=calendar["minutes"]),
                first_day=monday,
                last_day=monday + dt.timedelta(days=2),
                not_before=at,
            )
            loaded = load_snapshot(db.session, case, request, at, parties)
            result = find_slots(request, loaded.snapshot, limit=8)
            event(f"{kind} {format_}: {'slots' if result.slots else 'none'}")
            for slot in result.slots:
                draft = draft_for_slot(case, request, slot, db.session, video_link=VIDEO_LINK)
                assert booking_refusals(draft, at) == [], slot
            if result.slots:
                draft = draft_for_slot(case, request, result.slots[0], db.session, video_link=VIDEO_LINK)
                meeting = book_meeting(draft, actor=base["staff"][0], at=at)
                db.session.flush()
                assert meeting.starts_at == result.slots[0].starts_at
                booked.append(f"{kind} {format_}")
            else:
                assert result.reasons
        finally:
            nested.rollback()
            db.session.expire_all()

    check()
    # The property is not vacuous: slots were found, and booked, for every type of meeting.
    assert set(booked) == {f"{k} {f}" for k, f in TYPES}
