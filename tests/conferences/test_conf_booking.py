"""Booking rules: two facilitators, separate waiting rooms, staggered arrival, every refusal listed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from conf_helpers import DAY, NOW, at_local, face_to_face, make_ready_setting, make_room
from factories import make_user

from rj_scheduler.auth.models import Role
from rj_scheduler.cases.services import record_consent
from rj_scheduler.conferences import services
from rj_scheduler.conferences.booking import MeetingDraft, PartyPlan, booking_refusals
from rj_scheduler.conferences.exceptions import BookingRefused
from rj_scheduler.conferences.models import MeetingAttendee, ResourceBooking
from rj_scheduler.extensions import db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def s():
    return make_ready_setting()


def test_a_ready_case_books_a_face_to_face_conference_and_moves_to_scheduled(s):
    meeting = services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
    assert meeting.status == "booked"
    assert meeting.sequence == 0
    assert s.case.state == "scheduled"
    roles = sorted(a.role for a in meeting.attendees)
    assert roles == ["co_facilitator", "lead_facilitator", "party", "party"]


def test_face_to_face_needs_two_facilitators(s):
    draft = face_to_face(s, co_facilitator=None)
    reasons = booking_refusals(draft, NOW)
    assert "A face to face conference needs two facilitators: choose a co-facilitator." in reasons
    with pytest.raises(BookingRefused):
        services.book_meeting(draft, actor=s.lead, at=NOW)


def test_co_facilitator_must_differ_from_lead(s):
    reasons = booking_refusals(face_to_face(s, co_facilitator=s.lead), NOW)
    assert "The co-facilitator must be someone other than the lead facilitator." in reasons


def test_waiting_rooms_must_differ(s):
    draft = face_to_face(
        s, parties=[PartyPlan(s.victim, s.victim_room), PartyPlan(s.offender, s.victim_room)]
    )
    assert "The victim and the offender must wait in different waiting rooms." in booking_refusals(draft, NOW)


def test_a_meeting_room_is_not_a_waiting_room(s):
    draft = face_to_face(
        s, parties=[PartyPlan(s.victim, s.meeting_room), PartyPlan(s.offender, s.offender_room)]
    )
    reasons = booking_refusals(draft, NOW)
    assert any("is not a waiting room" in r for r in reasons)


def test_offender_arrives_first_by_default(s):
    start = at_local(DAY, 10)
    meeting = services.book_meeting(face_to_face(s, start=start), actor=s.lead, at=NOW)
    plans = {a.party.role: a for a in meeting.attendees if a.party is not None}
    assert plans["victim"].arrives_at == start - dt.timedelta(minutes=15)
    assert plans["offender"].arrives_at == start - dt.timedelta(minutes=30)
    # The victim leaves first.
    assert plans["victim"].departs_at == meeting.ends_at
    assert plans["offender"].departs_at == meeting.ends_at + dt.timedelta(minutes=15)
    assert plans["victim"].waiting_room_id == s.victim_room.id
    assert plans["offender"].waiting_room_id == s.offender_room.id


def test_arrival_defaults_follow_the_service_settings(s):
    services.update_settings(
        s.service.id,
        victim_arrives_before_start_minutes=10,
        offender_arrives_before_victim_minutes=20,
        victim_leaves_before_offender_minutes=25,
        buffer_minutes=0,
        actor=s.manager,
        at=NOW,
    )
    start = at_local(DAY, 11)
    meeting = services.book_meeting(face_to_face(s, start=start), actor=s.lead, at=NOW)
    plans = {a.party.role: a for a in meeting.attendees if a.party is not None}
    assert plans["victim"].arrives_at == start - dt.timedelta(minutes=10)
    assert plans["offender"].arrives_at == start - dt.timedelta(minutes=30)
    assert plans["offender"].departs_at == meeting.ends_at + dt.timedelta(minutes=25)


def test_parties_may_not_arrive_at_the_same_time(s):
    start = at_local(DAY, 10)
    same = start - dt.timedelta(minutes=20)
    draft = face_to_face(
        s,
        start=start,
        parties=[
            PartyPlan(s.victim, s.victim_room, same, start + dt.timedelta(minutes=90)),
            PartyPlan(s.offender, s.offender_room, same, start + dt.timedelta(minutes=100)),
        ],
    )
    assert "The victim and the offender must arrive at different times." in booking_refusals(draft, NOW)


def test_waiting_room_must_be_free_for_the_partys_whole_stay(s):
    services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
    # Another case uses the offender's waiting room as a waiting room later that morning, overlapping the stay.
    other = make_ready_setting(s.service)
    draft = face_to_face(
        other,
        start=at_local(DAY, 12),
        venue=s.venue,
        room=make_room(s.venue, "Meeting room 2"),
        parties=[
            PartyPlan(other.victim, make_room(s.venue, "Yellow room", "waiting")),
            PartyPlan(other.offender, s.offender_room),
        ],
    )
    reasons = booking_refusals(draft, NOW)
    assert any(r.startswith("Blue room at Riverside Centre is already booked") for r in reasons), reasons


def test_booking_refused_lists_every_reason(s):
    services.add_leave(s.co, starts_on=DAY, ends_on=DAY, note=None, actor=s.co, at=NOW)
    services.add_party_unavailability(s.victim, starts_on=DAY, ends_on=None, note=None, actor=s.lead, at=NOW)
    record_consent(s.offender, "take_part", given=False, at=NOW, method="phone", actor=s.lead)
    start = at_local(DAY, 7)  # before the venue opens and before anyone works
    draft = face_to_face(
        s,
        start=start,
        parties=[PartyPlan(s.victim, s.victim_room), PartyPlan(s.offender, s.victim_room)],
    )
    with pytest.raises(BookingRefused) as refused:
        services.book_meeting(draft, actor=s.lead, at=NOW)
    reasons = refused.value.reasons
    assert "The victim and the offender must wait in different waiting rooms." in reasons
    assert any("withdrawn consent" in r for r in reasons)
    assert "Colin Co is on leave on Tuesday 1 December 2026." in reasons
    assert "Vera Victim (victim) is not available on Tuesday 1 December 2026." in reasons
    assert any(r.startswith("Riverside Centre is not open") for r in reasons)
    assert any(r.startswith("Lena Lead does not work") for r in reasons)
    assert len(reasons) >= 6
    assert db.session.query(MeetingAttendee).count() == 0


def test_facilitator_already_booked_is_refused_with_the_buffer(s):
    services.book_meeting(face_to_face(s, start=at_local(DAY, 10), minutes=60), actor=s.lead, at=NOW)
    other = make_ready_setting(s.service)
    # The first conference ends at 11:00 and its offender leaves at 11:15; with the 15-minute buffer the
    # facilitator is free from 11:30. The next conference's offender arrives 30 minutes before its start.
    too_soon = face_to_face(other, start=at_local(DAY, 11, 45), co_facilitator=s.co)
    reasons = booking_refusals(too_soon, NOW)
    assert any(
        r.startswith("Colin Co is already booked") and "15 minutes between them" in r for r in reasons
    ), reasons
    later = face_to_face(other, start=at_local(DAY, 12), co_facilitator=s.co)
    assert not [r for r in booking_refusals(later, NOW) if r.startswith("Colin Co")]


def test_party_already_booked_is_refused(s):
    prep = MeetingDraft(
        case=s.case,
        kind="preparation",
        format="video",
        parties=[PartyPlan(s.victim)],
        lead_facilitator=s.co,
        starts_at=at_local(DAY, 10),
        ends_at=at_local(DAY, 11),
        video_link="https://video.example.org/room/1",
    )
    services.book_meeting(prep, actor=s.lead, at=NOW)
    reasons = booking_refusals(
        face_to_face(s, start=at_local(DAY, 10, 30), co_facilitator=make_user(s.service)), NOW
    )
    assert any(r.startswith("Vera Victim (victim) is already booked") for r in reasons), reasons


def test_bank_holiday_is_refused(s):
    christmas = dt.date(2026, 12, 25)
    reasons = booking_refusals(face_to_face(s, start=at_local(christmas, 10)), NOW)
    assert "Friday 25 December 2026 is a bank holiday." in reasons


def test_facilitator_off_work_by_their_working_pattern(s):
    services.set_working_hours(s.co, [(1, dt.time(13, 0), dt.time(17, 0))], actor=s.co, at=NOW)
    reasons = booking_refusals(face_to_face(s, start=at_local(DAY, 10)), NOW)
    assert any(r.startswith("Colin Co does not work from") for r in reasons), reasons


def test_end_before_start_and_zero_duration_are_refused(s):
    start = at_local(DAY, 10)
    backwards = face_to_face(s, start=start)
    backwards.ends_at = start - dt.timedelta(minutes=30)
    assert "The meeting must end after it starts." in booking_refusals(backwards, NOW)
    zero = face_to_face(s, start=start, minutes=0)
    assert "The meeting must last longer than zero minutes." in booking_refusals(zero, NOW)


def test_conference_needs_signed_off_assessments(s):
    from factories import give_full_consent, make_case

    case = make_case(s.service, lead=s.lead)
    for party in case.parties:
        give_full_consent(party)
    case.state = "ready"
    draft = face_to_face(
        s,
        case=case,
        parties=[
            PartyPlan(case.parties[0], s.victim_room),
            PartyPlan(case.parties[1], s.offender_room),
        ],
    )
    reasons = booking_refusals(draft, NOW)
    assert any("has no" in r and "assessment" in r for r in reasons), reasons


def test_video_conference_needs_a_joining_link_and_no_room(s):
    draft = MeetingDraft(
        case=s.case,
        kind="conference",
        format="video",
        parties=[PartyPlan(s.victim), PartyPlan(s.offender)],
        lead_facilitator=s.lead,
        starts_at=at_local(DAY, 10),
        ends_at=at_local(DAY, 11),
    )
    assert any("joining link" in r for r in booking_refusals(draft, NOW))
    draft.video_link = "https://video.example.org/abc"
    meeting = services.book_meeting(draft, actor=s.lead, at=NOW)
    assert meeting.room_id is None
    kinds = {b.resource_kind for b in db.session.query(ResourceBooking).filter_by(meeting_id=meeting.id)}
    assert kinds == {"facilitator", "party"}


def test_preparation_meeting_is_with_one_party(s):
    draft = MeetingDraft(
        case=s.case,
        kind="preparation",
        format="face_to_face",
        parties=[PartyPlan(s.victim), PartyPlan(s.offender)],
        lead_facilitator=s.lead,
        starts_at=at_local(DAY, 10),
        ends_at=at_local(DAY, 11),
        venue=s.venue,
        room=s.meeting_room,
    )
    assert any(r.startswith("A preparation meeting is with one person") for r in booking_refusals(draft, NOW))
    draft.parties = [PartyPlan(s.offender)]
    assert booking_refusals(draft, NOW) == []


def test_letter_of_explanation_has_a_due_date_and_holds_nothing(s):
    draft = MeetingDraft(
        case=s.case,
        kind="conference",
        format="letter",
        parties=[PartyPlan(s.offender)],
        lead_facilitator=s.lead,
        letter_due_on=dt.date(2026, 12, 14),
    )
    meeting = services.book_meeting(draft, actor=s.lead, at=NOW)
    assert meeting.starts_at is None
    assert db.session.query(ResourceBooking).filter_by(meeting_id=meeting.id).count() == 0


def test_a_closed_venue_day_is_refused(s):
    saturday = dt.date(2026, 12, 5)
    services.set_working_hours(s.lead, [(5, dt.time(9), dt.time(17))], actor=s.lead, at=NOW)
    services.set_working_hours(s.co, [(5, dt.time(9), dt.time(17))], actor=s.co, at=NOW)
    reasons = booking_refusals(face_to_face(s, start=at_local(saturday, 10)), NOW)
    assert "Riverside Centre is not open from 9:30am to 11:45am on Saturdays (open: closed)." in reasons


def test_manager_of_the_service_is_not_needed_for_a_booking_but_staff_of_another_service_cannot_facilitate(s):
    outsider = make_user(None, Role.FACILITATOR, full_name="Otto Outsider")
    reasons = booking_refusals(face_to_face(s, co_facilitator=outsider), NOW)
    assert "Otto Outsider cannot facilitate: they are not active staff of this service." in reasons


def test_a_supporter_waits_with_the_person_they_support_within_the_rooms_capacity(s):
    from factories import make_consenting_party

    supporter = make_consenting_party(s.case, "supporter", supports=s.victim, full_name="Sue Supporter")
    from factories import make_signed_off_assessment

    make_signed_off_assessment(supporter, "risk", author=s.lead, approver=s.manager, at=NOW)
    small = make_room(s.venue, "Small room", "waiting", 1)
    draft = face_to_face(
        s,
        parties=[
            PartyPlan(s.victim, small),
            PartyPlan(supporter, small),
            PartyPlan(s.offender, s.offender_room),
        ],
    )
    assert "Small room holds 1 person; 2 would wait there." in booking_refusals(draft, NOW)
    draft.parties[0].waiting_room = s.victim_room
    draft.parties[1].waiting_room = s.victim_room
    meeting = services.book_meeting(draft, actor=s.lead, at=NOW)
    plans = {a.party.full_name: a for a in meeting.attendees if a.party is not None}
    assert plans["Sue Supporter"].arrives_at == plans["Vera Victim"].arrives_at
    rooms = db.session.query(ResourceBooking).filter_by(meeting_id=meeting.id, resource_kind="room").count()
    assert rooms == 3  # the meeting room and one hold per waiting room, the shared one merged


def test_the_buffer_between_meetings_is_configurable(s):
    services.update_settings(
        s.service.id,
        victim_arrives_before_start_minutes=15,
        offender_arrives_before_victim_minutes=15,
        victim_leaves_before_offender_minutes=15,
        buffer_minutes=60,
        actor=s.manager,
        at=NOW,
    )
    # The first conference's offender leaves at 11:15: with a 60-minute buffer Colin Co is free from 12:15.
    services.book_meeting(face_to_face(s, start=at_local(DAY, 10), minutes=60), actor=s.lead, at=NOW)
    other = make_ready_setting(s.service)
    too_soon = face_to_face(other, start=at_local(DAY, 12, 15), co_facilitator=s.co)  # offender arrives 11:45
    reasons = booking_refusals(too_soon, NOW)
    assert any(r.startswith("Colin Co is already booked") and "60 minutes between them" in r for r in reasons)
    later = face_to_face(other, start=at_local(DAY, 12, 45), co_facilitator=s.co)  # offender arrives 12:15
    assert not [r for r in booking_refusals(later, NOW) if r.startswith("Colin Co")]


def test_withdrawing_consent_puts_a_note_on_the_timeline_of_each_future_meeting(s):
    from rj_scheduler.cases.models import TimelineEvent

    services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
    record_consent(s.offender, "take_part", given=False, at=NOW, method="phone", actor=s.lead)
    notes = db.session.query(TimelineEvent).filter_by(case_id=s.case.id, kind="meeting_needs_attention").all()
    assert len(notes) == 1
    assert "Owen Offender (offender) withdrew consent to take part" in notes[0].summary


def test_each_change_is_announced_with_the_same_meeting_and_a_higher_sequence(s):
    from rj_scheduler.conferences import events

    seen: list[tuple[str, str, int]] = []

    def listen(name):
        def receiver(sender, meeting, at, **_):
            seen.append((name, meeting.public_id, meeting.sequence))

        return receiver

    receivers = {name: listen(name) for name in ("booked", "rescheduled", "postponed", "cancelled")}
    for name, receiver in receivers.items():
        getattr(events, f"meeting_{name}").connect(receiver)
    try:
        meeting = services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
        services.reschedule_meeting(
            meeting, face_to_face(s, start=at_local(DAY, 14)), reason="Asked for later.", actor=s.lead, at=NOW
        )
        services.postpone_meeting(meeting, reason="Illness.", actor=s.lead, at=NOW)
        services.cancel_meeting(meeting, reason="Withdrawn.", actor=s.lead, at=NOW)
    finally:
        for name, receiver in receivers.items():
            getattr(events, f"meeting_{name}").disconnect(receiver)
    assert seen == [
        ("booked", meeting.public_id, 0),
        ("rescheduled", meeting.public_id, 1),
        ("postponed", meeting.public_id, 2),
        ("cancelled", meeting.public_id, 3),
    ]
