"""The slot finder's rules, one by one, on hand-made calendars (no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from rj_scheduler.conferences.slots import (
    ArrivalSettings,
    Busy,
    CalendarSnapshot,
    DateRanges,
    FacilitatorCalendar,
    PartyCalendar,
    RoomCalendar,
    SlotRequest,
    VenueCalendar,
    WeeklyHours,
    find_slots,
    grid,
    london_time_exists,
)

LONDON = ZoneInfo("Europe/London")
MONDAY = dt.date(2026, 6, 1)  # British Summer Time: London is UTC+1
NINE_TO_FIVE = WeeklyHours.of((d, dt.time(9), dt.time(17)) for d in range(5))
EVERY_DAY = WeeklyHours.of((d, dt.time(0), dt.time(23, 59)) for d in range(7))


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


def facilitator(id_: int, *busy, hours=NINE_TO_FIVE, leave=(), trained=False) -> FacilitatorCalendar:
    return FacilitatorCalendar(
        id=id_,
        name=f"Facilitator {id_}",
        hours=hours,
        busy=Busy(busy),
        leave=DateRanges(tuple(leave)),
        trained_for_sensitive_cases=trained,
    )


def room(id_: int, kind: str, *busy, capacity: int = 8) -> RoomCalendar:
    return RoomCalendar(id=id_, name=f"Room {id_}", kind=kind, capacity=capacity, busy=Busy(busy))


def venue(id_: int, rooms, hours=NINE_TO_FIVE, kind="office") -> VenueCalendar:
    return VenueCalendar(id=id_, name=f"Venue {id_}", kind=kind, hours=hours, rooms=tuple(rooms))


def party(id_: int, side: str, *busy, unavailable=(), previous_room_id=None) -> PartyCalendar:
    return PartyCalendar(
        id=id_,
        label=side.capitalize(),
        side=side,
        busy=Busy(busy),
        unavailable=DateRanges(tuple(unavailable)),
        previous_room_id=previous_room_id,
    )


def snapshot(**changes) -> CalendarSnapshot:
    values = {
        "facilitators": (facilitator(1), facilitator(2)),
        "venues": (venue(1, [room(10, "meeting"), room(11, "waiting"), room(12, "waiting")]),),
        "parties": (party(100, "victim"), party(200, "offender")),
        "settings": ArrivalSettings(),
        "case_lead_id": 1,
    }
    values.update(changes)
    return CalendarSnapshot(**values)


def conference(first=MONDAY, last=MONDAY, minutes=60, **changes) -> SlotRequest:
    values = {
        "kind": "conference",
        "format": "face_to_face",
        "duration": dt.timedelta(minutes=minutes),
        "first_day": first,
        "last_day": last,
        "not_before": at(first, 0) - dt.timedelta(days=1),
    }
    values.update(changes)
    return SlotRequest(**values)


def starts(result) -> list[dt.datetime]:
    return [s.starts_at.astimezone(LONDON).replace(tzinfo=None) for s in result.slots]


def test_busy_intervals_that_only_touch_leave_the_time_free():
    busy = Busy([(at(MONDAY, 10), at(MONDAY, 11)), (at(MONDAY, 10, 30), at(MONDAY, 12))])
    ts = lambda h, m=0: int(at(MONDAY, h, m).timestamp())  # noqa: E731
    assert busy.is_free(ts(9), ts(10))
    assert busy.is_free(ts(12), ts(13))
    assert not busy.is_free(ts(11, 30), ts(11, 45))
    assert not busy.is_free(ts(9), ts(13))
    assert len(busy) == 1


def test_face_to_face_conference_gets_two_facilitators_a_meeting_room_and_two_different_waiting_rooms():
    result = find_slots(conference(), snapshot(), limit=1)
    (slot,) = result.slots
    assert {slot.lead_facilitator_id, slot.co_facilitator_id} == {1, 2}
    assert slot.room_id == 10
    rooms = {p.side: p.waiting_room_id for p in slot.parties}
    assert rooms["victim"] != rooms["offender"]
    assert set(rooms.values()) == {11, 12}


def test_offender_arrives_first_and_victim_leaves_first_by_the_services_settings():
    settings = ArrivalSettings(
        victim_arrives_before_start=10, offender_arrives_before_victim=20, victim_leaves_before_offender=25
    )
    (slot,) = find_slots(conference(), snapshot(settings=settings), limit=1).slots
    plan = {p.side: p for p in slot.parties}
    # The venue opens at 9: the offender must arrive at 9, 30 minutes before the start.
    assert slot.starts_at == at(MONDAY, 9, 30)
    assert plan["offender"].arrives_at == at(MONDAY, 9)
    assert plan["victim"].arrives_at == at(MONDAY, 9, 20)
    assert plan["victim"].departs_at == at(MONDAY, 10, 30)
    assert plan["offender"].departs_at == at(MONDAY, 10, 55)


def test_a_face_to_face_conference_is_never_offered_with_only_one_waiting_room():
    one_waiting_room = (venue(1, [room(10, "meeting"), room(11, "waiting")]),)
    result = find_slots(conference(), snapshot(venues=one_waiting_room))
    assert result.slots == ()
    assert "two different free waiting rooms" in result.reasons[0]


def test_waiting_rooms_must_be_free_for_the_offenders_early_arrival():
    early = (at(MONDAY, 8), at(MONDAY, 9, 50))
    rooms = [room(10, "meeting"), room(11, "waiting", early), room(12, "waiting", early)]
    result = find_slots(
        conference(), snapshot(venues=(venue(1, rooms),), settings=ArrivalSettings(buffer=0)), limit=1
    )
    # At 10:15 the victim (from 10:00) would have a room, but the offender (from 9:45) would not.
    assert starts(result) == [dt.datetime.combine(MONDAY, dt.time(10, 30))]


def test_waiting_rooms_must_be_free_until_the_offender_leaves_after_the_victim():
    late = (at(MONDAY, 10, 40), at(MONDAY, 12))
    rooms = [room(10, "meeting"), room(11, "waiting", late), room(12, "waiting", late)]
    result = find_slots(
        conference(), snapshot(venues=(venue(1, rooms),), settings=ArrivalSettings(buffer=0)), limit=1
    )
    # At 9:30 the victim leaves at 10:30 but the offender stays until 10:45: no room for the offender.
    assert starts(result) == [dt.datetime.combine(MONDAY, dt.time(12, 30))]


def test_the_buffer_keeps_a_gap_after_and_before_other_bookings_of_a_facilitator():
    # Stored bookings already include the buffer after them: a meeting from 11:00 to 12:00 holds until 12:15.
    busy = (at(MONDAY, 11), at(MONDAY, 12, 15))
    facilitators = (facilitator(1, busy),)
    request = conference(format="video", kind="conference")
    result = find_slots(
        request, snapshot(facilitators=facilitators, settings=ArrivalSettings(buffer=15)), limit=40
    )
    offered = starts(result)
    day = dt.datetime.combine(MONDAY, dt.time())
    # A one-hour video meeting at 9:45 would end at 10:45 and needs 15 minutes before the 11:00 booking.
    assert day.replace(hour=9, minute=45) in offered
    assert day.replace(hour=10) not in offered
    assert day.replace(hour=12) not in offered
    assert day.replace(hour=12, minute=15) in offered


def test_a_facilitator_on_leave_or_not_working_is_not_offered():
    facilitators = (
        facilitator(1, leave=[(MONDAY, MONDAY)]),
        facilitator(2),
        facilitator(3, hours=WeeklyHours.of([(0, dt.time(13), dt.time(17))])),
    )
    result = find_slots(conference(), snapshot(facilitators=facilitators, case_lead_id=1), limit=40)
    assert result.slots
    for slot in result.slots:
        assert 1 not in (slot.lead_facilitator_id, slot.co_facilitator_id)
        assert slot.starts_at.astimezone(LONDON).hour >= 13


def test_the_venue_must_be_open_from_the_first_arrival_to_the_last_departure():
    hours = WeeklyHours.of([(0, dt.time(10), dt.time(12))])
    rooms = [room(10, "meeting"), room(11, "waiting"), room(12, "waiting")]
    result = find_slots(conference(), snapshot(venues=(venue(1, rooms, hours=hours),)), limit=40)
    # The offender arrives 30 minutes early and leaves 15 minutes late: a 60-minute conference starts at 10:30 or 10:45.
    assert starts(result) == [
        dt.datetime.combine(MONDAY, dt.time(10, 30)),
        dt.datetime.combine(MONDAY, dt.time(10, 45)),
    ]


def test_bank_holidays_are_skipped():
    result = find_slots(conference(), snapshot(bank_holidays=frozenset({MONDAY})))
    assert result.slots == ()
    assert result.reasons[0].startswith("It is a bank holiday")


def test_a_day_a_party_is_unavailable_is_skipped():
    tuesday = MONDAY + dt.timedelta(days=1)
    parties = (party(100, "victim", unavailable=[(MONDAY, MONDAY)]), party(200, "offender"))
    result = find_slots(conference(last=tuesday), snapshot(parties=parties), limit=1)
    assert result.slots[0].starts_at.date() == tuesday


def test_a_party_with_another_meeting_is_not_double_booked():
    parties = (party(100, "victim", (at(MONDAY, 9), at(MONDAY, 15))), party(200, "offender"))
    result = find_slots(conference(), snapshot(parties=parties, settings=ArrivalSettings(buffer=0)), limit=1)
    # The victim arrives 15 minutes before the start, so the earliest start is 15:15.
    assert starts(result) == [dt.datetime.combine(MONDAY, dt.time(15, 15))]


def test_the_cases_own_lead_facilitator_is_preferred_at_the_same_time():
    facilitators = (facilitator(1), facilitator(2), facilitator(3))
    (slot,) = find_slots(conference(), snapshot(facilitators=facilitators, case_lead_id=3), limit=1).slots
    assert slot.own_lead
    assert slot.lead_facilitator_id == 3
    assert slot.co_facilitator_id == 1


def test_the_earliest_time_wins_over_the_own_lead_facilitator():
    facilitators = (facilitator(1), facilitator(2), facilitator(3, (at(MONDAY, 8), at(MONDAY, 12))))
    (slot,) = find_slots(conference(), snapshot(facilitators=facilitators, case_lead_id=3), limit=1).slots
    assert not slot.own_lead
    assert slot.starts_at == at(MONDAY, 9, 30)


def test_fewest_room_moves_keeps_parties_in_the_rooms_they_know():
    rooms_a = [room(10, "meeting"), room(11, "waiting"), room(12, "waiting")]
    rooms_b = [room(20, "meeting"), room(21, "waiting"), room(22, "waiting")]
    parties = (party(100, "victim", previous_room_id=22), party(200, "offender", previous_room_id=21))
    result = find_slots(
        conference(), snapshot(venues=(venue(1, rooms_a), venue(2, rooms_b)), parties=parties), limit=1
    )
    (slot,) = result.slots
    assert slot.venue_id == 2
    assert slot.room_moves == 0
    assert {p.side: p.waiting_room_id for p in slot.parties} == {"victim": 22, "offender": 21}


def test_a_sensitive_case_needs_a_lead_facilitator_trained_for_sensitive_cases():
    facilitators = (
        facilitator(1),
        facilitator(2),
        facilitator(3, (at(MONDAY, 8), at(MONDAY, 14)), trained=True),
    )
    result = find_slots(conference(), snapshot(facilitators=facilitators, case_is_sensitive=True), limit=1)
    (slot,) = result.slots
    assert slot.lead_facilitator_id == 3
    assert slot.starts_at == at(MONDAY, 14, 30)
    none_trained = find_slots(
        conference(), snapshot(facilitators=facilitators[:2], case_is_sensitive=True), limit=1
    )
    assert none_trained.slots == ()
    assert "trained for sensitive cases" in none_trained.reasons[0]


def test_small_rooms_are_not_offered_to_a_large_meeting():
    rooms = [room(10, "meeting", capacity=3), room(11, "waiting"), room(12, "waiting")]
    result = find_slots(conference(), snapshot(venues=(venue(1, rooms),)))
    assert result.slots == ()
    assert "meeting room big enough" in result.reasons[0]


def test_a_video_meeting_needs_no_venue_and_one_facilitator():
    request = conference(format="video")
    (slot,) = find_slots(request, snapshot(venues=(), facilitators=(facilitator(1),)), limit=1).slots
    assert slot.venue_id is None
    assert slot.co_facilitator_id is None
    assert slot.starts_at == at(MONDAY, 9)


def test_a_prison_conference_is_only_offered_at_a_prison():
    office = venue(1, [room(10, "meeting"), room(11, "waiting"), room(12, "waiting")])
    prison = venue(2, [room(20, "meeting")], kind="prison")
    (slot,) = find_slots(conference(format="prison"), snapshot(venues=(office, prison)), limit=1).slots
    assert slot.venue_id == 2


def test_no_slot_is_offered_in_the_past():
    request = conference(not_before=at(MONDAY, 13, 5))
    assert starts(find_slots(request, snapshot(), limit=1)) == [dt.datetime.combine(MONDAY, dt.time(13, 15))]


def test_readiness_blockers_are_the_reasons_when_the_case_is_not_ready():
    result = find_slots(conference(), snapshot(blockers=("Vera has not agreed to take part.",)))
    assert result.slots == ()
    assert result.reasons == ("Vera has not agreed to take part.",)


def test_when_nothing_fits_the_reasons_that_got_furthest_come_first_in_plain_words():
    tuesday = MONDAY + dt.timedelta(days=1)
    parties = (party(100, "victim", unavailable=[(MONDAY, MONDAY)]), party(200, "offender"))
    one_waiting_room = (venue(1, [room(10, "meeting"), room(11, "waiting")]),)
    result = find_slots(conference(last=tuesday), snapshot(parties=parties, venues=one_waiting_room))
    assert result.slots == ()
    # Tuesday 9:30 to 15:45 (26 times): everyone free, but one waiting room cannot hold both parties apart.
    assert result.reasons[0] == (
        "No open venue with a free meeting room also has two different free waiting rooms at the times"
        " the parties and facilitators are free (26 of 112 possible times between 1 June 2026 and 2 June 2026)."
    )
    only_monday = find_slots(conference(), snapshot(parties=parties))
    assert only_monday.reasons == (
        "A party has said they are unavailable that day (56 of 56 possible times between 1 June 2026 and 1 June 2026).",
    )


@pytest.mark.parametrize(
    ("day", "time", "exists"),
    [
        (dt.date(2026, 3, 29), dt.time(0, 45), True),
        (dt.date(2026, 3, 29), dt.time(1, 0), False),  # clocks go forward: 1:00 to 1:59 never happen
        (dt.date(2026, 3, 29), dt.time(1, 45), False),
        (dt.date(2026, 3, 29), dt.time(2, 0), True),
        (dt.date(2026, 10, 25), dt.time(0, 45), True),
        (dt.date(2026, 10, 25), dt.time(1, 0), False),  # clocks go back: 1:00 to 1:59 happen twice
        (dt.date(2026, 10, 25), dt.time(1, 45), False),
        (dt.date(2026, 10, 25), dt.time(2, 0), True),
    ],
)
def test_times_skipped_or_repeated_at_a_clock_change_are_not_london_times(day, time, exists):
    assert london_time_exists(day, time) is exists


@pytest.mark.parametrize("day", [dt.date(2026, 3, 29), dt.date(2026, 10, 25)])
def test_the_grid_skips_nonexistent_and_ambiguous_times_at_both_clock_changes(day):
    request = conference(first=day, last=day, day_starts=dt.time(0), day_ends=dt.time(3), grid_minutes=30)
    wall_clock = [start.astimezone(LONDON).strftime("%H:%M") for _, start in grid(request)]
    assert wall_clock == ["00:00", "00:30", "02:00", "02:30"]


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (dt.date(2026, 3, 27), 9),
        (dt.date(2026, 3, 30), 8),
        (dt.date(2026, 10, 23), 8),
        (dt.date(2026, 10, 26), 9),
    ],
)
def test_working_hours_are_london_wall_clock_on_both_sides_of_each_clock_change(day, utc_hour):
    request = conference(first=day, last=day, format="video")
    (slot,) = find_slots(request, snapshot(facilitators=(facilitator(1),)), limit=1).slots
    assert slot.starts_at.astimezone(dt.UTC).hour == utc_hour


def test_a_meeting_across_the_night_of_a_clock_change_runs_its_real_length():
    day = dt.date(2026, 10, 25)
    hours = WeeklyHours.of([(6, dt.time(0), dt.time(23, 59))])
    request = conference(first=day, last=day, format="video", day_starts=dt.time(0, 30), minutes=120)
    (slot,) = find_slots(request, snapshot(facilitators=(facilitator(1, hours=hours),)), limit=1).slots
    assert slot.ends_at - slot.starts_at == dt.timedelta(hours=2)
    # 00:30 BST is 23:30 UTC; two real hours later it is 01:30 UTC, which is 01:30 GMT on the wall clock.
    assert slot.starts_at == dt.datetime(2026, 10, 24, 23, 30, tzinfo=dt.UTC)
    assert slot.ends_at.astimezone(LONDON).strftime("%H:%M") == "01:30"
