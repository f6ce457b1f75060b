"""Times at the clock changes: stored in UTC, typed and shown in Europe/London, nonexistent or ambiguous times refused."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from conf_helpers import NOW, face_to_face, make_ready_setting

from rj_scheduler.conferences import services
from rj_scheduler.conferences.exceptions import LocalTimeInvalid
from rj_scheduler.conferences.times import clock, local_to_utc, parse_local_datetime

SPRING_FORWARD = dt.date(2027, 3, 28)  # last Sunday of March 2027
FALL_BACK = dt.date(2026, 10, 25)  # last Sunday of October 2026


def test_a_time_skipped_when_the_clocks_go_forward_is_refused():
    with pytest.raises(LocalTimeInvalid, match="does not exist in the UK: the clocks go forward"):
        local_to_utc(SPRING_FORWARD, dt.time(1, 30))


def test_a_time_that_happens_twice_when_the_clocks_go_back_is_refused():
    with pytest.raises(LocalTimeInvalid, match="happens twice in the UK: the clocks go back"):
        local_to_utc(FALL_BACK, dt.time(1, 30))


def test_times_either_side_of_the_clock_changes_are_stored_in_utc():
    assert local_to_utc(SPRING_FORWARD, dt.time(0, 59)) == dt.datetime(2027, 3, 28, 0, 59, tzinfo=dt.UTC)
    assert local_to_utc(SPRING_FORWARD, dt.time(2, 0)) == dt.datetime(2027, 3, 28, 1, 0, tzinfo=dt.UTC)
    assert local_to_utc(FALL_BACK, dt.time(0, 59)) == dt.datetime(2026, 10, 24, 23, 59, tzinfo=dt.UTC)
    assert local_to_utc(FALL_BACK, dt.time(2, 0)) == dt.datetime(2026, 10, 25, 2, 0, tzinfo=dt.UTC)


def test_a_slot_finder_link_with_a_nonexistent_time_is_refused():
    with pytest.raises(LocalTimeInvalid):
        parse_local_datetime("2027-03-28T01:15")
    assert parse_local_datetime("2027-03-29T10:00") == dt.datetime(2027, 3, 29, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_meeting_after_the_clocks_go_forward_is_booked_at_its_london_time():
    s = make_ready_setting()
    # Tuesday 30 March 2027 is in British Summer Time: 10am in London is 9am UTC.
    start = local_to_utc(dt.date(2027, 3, 30), dt.time(10, 0))
    assert start == dt.datetime(2027, 3, 30, 9, 0, tzinfo=dt.UTC)
    meeting = services.book_meeting(face_to_face(s, start=start), actor=s.lead, at=NOW)
    assert clock(meeting.starts_at) == "10:00am"
    offender = next(a for a in meeting.attendees if a.party and a.party.role == "offender")
    assert clock(offender.arrives_at) == "9:30am"


def test_opening_hours_are_london_wall_clock_times_in_summer_and_winter():
    s = make_ready_setting()
    services.update_settings(
        s.service.id,
        victim_arrives_before_start_minutes=0,
        offender_arrives_before_victim_minutes=5,
        victim_leaves_before_offender_minutes=5,
        buffer_minutes=0,
        actor=s.manager,
        at=NOW,
    )
    # The venue opens at 8am London time. In summer 8:10am London is 7:10 UTC and must still count as open.
    services.set_working_hours(s.lead, [(1, dt.time(7), dt.time(19))], actor=s.lead, at=NOW)
    services.set_working_hours(s.co, [(1, dt.time(7), dt.time(19))], actor=s.co, at=NOW)
    for day in (dt.date(2026, 12, 1), dt.date(2027, 3, 30)):
        early = face_to_face(s, start=local_to_utc(day, dt.time(8, 10)), minutes=60)
        assert services.booking_refusals(early, NOW) == [], day
        too_early = face_to_face(s, start=local_to_utc(day, dt.time(8, 0)), minutes=60)
        assert [r for r in services.booking_refusals(too_early, NOW) if "is not open from 7:55am" in r], day
