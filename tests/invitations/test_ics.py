"""One recipient's calendar file: the fields the issue asks for, nothing more, and only that recipient."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from rj_scheduler.invitations.ics import (
    INVITE_CONTENT_TYPE,
    CalendarEvent,
    build_invite,
    calendar_content_type,
    invite_attachment,
    uk_rule_transitions,
)

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
ADDRESS = "Side entrance (Mill Lane), Warwick Hall,\n1 High Street, Warwick; CV34 4AA\\back door"


def _event(**changes) -> CalendarEvent:
    values = {
        "uid": "m-7f3a9c@rj.example.org",
        "sequence": 3,
        "stamp": dt.datetime(2026, 11, 23, 9, 15, tzinfo=UTC),
        "starts_at": dt.datetime(2026, 12, 8, 10, 0, tzinfo=UTC),
        "ends_at": dt.datetime(2026, 12, 8, 12, 30, tzinfo=UTC),
        "summary": "Appointment with the Warwickshire service",
        "description": "Your page: https://rj.example.org/i/tok3n\nCall us on 01632 960000.",
        "location": ADDRESS,
        "url": "https://rj.example.org/i/tok3n",
        "organizer_email": "appointments@example.org",
        "organizer_name": "Warwickshire appointments",
        "attendee_email": "ruth.okafor@example.org",
        "attendee_name": "Ruth Okafor",
    }
    values.update(changes)
    return CalendarEvent(**values)


def _parse(data: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def _lines(data: bytes) -> list[str]:
    """The content lines of the file, unfolded."""
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


def test_calendar_has_prodid_version_calscale_method_and_one_event():
    calendar, _ = _parse(build_invite(_event(), "REQUEST"))
    assert str(calendar["PRODID"]) == "-//rj_scheduler//Invitations//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert len(calendar.walk("VEVENT")) == 1
    assert calendar.walk("VALARM") == []


def test_event_carries_exactly_the_given_fields():
    data = build_invite(_event(), "REQUEST")
    _, event = _parse(data)
    assert str(event["UID"]) == "m-7f3a9c@rj.example.org"
    assert event["SEQUENCE"] == 3
    assert str(event["SUMMARY"]) == "Appointment with the Warwickshire service"
    assert str(event["DESCRIPTION"]) == "Your page: https://rj.example.org/i/tok3n\nCall us on 01632 960000."
    assert str(event["LOCATION"]) == ADDRESS
    assert str(event["URL"]) == "https://rj.example.org/i/tok3n"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["TRANSP"]) == "OPAQUE"
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:appointments@example.org"
    assert organizer.params["CN"] == "Warwickshire appointments"
    # Nothing else is added: no other people, no alarm, no extra text.
    assert set(event.keys()) == {
        "UID",
        "SEQUENCE",
        "DTSTAMP",
        "DTSTART",
        "DTEND",
        "SUMMARY",
        "LOCATION",
        "DESCRIPTION",
        "URL",
        "ORGANIZER",
        "ATTENDEE",
        "STATUS",
        "TRANSP",
    }


def test_summer_times_are_in_london_with_dtstamp_in_utc():
    summer = _event(
        starts_at=dt.datetime(2026, 7, 8, 9, 0, tzinfo=UTC),
        ends_at=dt.datetime(2026, 7, 8, 11, 30, tzinfo=UTC),
    )
    data = build_invite(summer, "REQUEST")
    lines = _lines(data)
    assert "DTSTART;TZID=Europe/London:20260708T100000" in lines
    assert "DTEND;TZID=Europe/London:20260708T123000" in lines
    assert "DTSTAMP:20261123T091500Z" in lines
    _, event = _parse(data)
    assert event.decoded("DTSTART") == dt.datetime(2026, 7, 8, 9, 0, tzinfo=UTC)


def test_winter_times_are_in_london_too():
    lines = _lines(build_invite(_event(), "REQUEST"))
    assert "DTSTART;TZID=Europe/London:20261208T100000" in lines
    assert "DTEND;TZID=Europe/London:20261208T123000" in lines


def test_only_the_recipient_is_an_attendee_and_no_reply_is_asked():
    _, event = _parse(build_invite(_event(), "REQUEST"))
    attendee = event["ATTENDEE"]
    assert not isinstance(attendee, list), "exactly one ATTENDEE"
    assert str(attendee) == "mailto:ruth.okafor@example.org"
    assert attendee.params["CN"] == "Ruth Okafor"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "FALSE"


def test_cancellation_keeps_the_uid_with_the_higher_sequence_given():
    invite = _event(sequence=3)
    cancellation = dataclasses.replace(invite, sequence=4, stamp=dt.datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    calendar, event = _parse(build_invite(cancellation, "CANCEL"))
    _, first = _parse(build_invite(invite, "REQUEST"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == str(first["UID"])
    assert event["SEQUENCE"] == 4 > first["SEQUENCE"]
    assert str(event["ATTENDEE"]) == "mailto:ruth.okafor@example.org"
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_a_cancelled_event_is_never_written_as_a_request():
    calendar, event = _parse(build_invite(_event(cancelled=True), "REQUEST"))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    attachment = invite_attachment(_event(cancelled=True), "REQUEST")
    assert attachment.filename == "cancellation.ics"
    assert attachment.content_type == "text/calendar; method=CANCEL; charset=UTF-8"


def test_a_download_is_published_without_attendee_or_reply():
    calendar, event = _parse(build_invite(_event(attendee_email=None, attendee_name=None), "PUBLISH"))
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert "ATTENDEE" not in event
    assert b"RSVP" not in build_invite(_event(), "PUBLISH")
    assert b"ruth.okafor@example.org" not in build_invite(_event(), "PUBLISH")


def test_an_sms_only_party_has_no_attendee():
    _, event = _parse(build_invite(_event(attendee_email=None, attendee_name=None), "REQUEST"))
    assert "ATTENDEE" not in event


def test_no_url_and_no_location_when_none_given():
    _, event = _parse(build_invite(_event(url=None, location=None), "REQUEST"))
    assert "URL" not in event
    assert "LOCATION" not in event


def test_commas_semicolons_newlines_and_backslashes_are_escaped_and_survive():
    data = build_invite(_event(location=ADDRESS.replace("\n", "\r\n")), "REQUEST")
    location = next(line for line in _lines(data) if line.startswith("LOCATION:"))
    assert location == (
        "LOCATION:Side entrance (Mill Lane)\\, Warwick Hall\\,\\n1 High Street\\, Warwick\\; CV34 4AA\\\\back door"
    )
    _, event = _parse(data)
    assert str(event["LOCATION"]) == ADDRESS


def test_names_with_quotes_and_commas_survive_in_parameters():
    _, event = _parse(build_invite(_event(attendee_name='Ruth "Roo" Okafor, Jr.'), "REQUEST"))
    assert event["ATTENDEE"].params["CN"] == 'Ruth "Roo" Okafor, Jr.'


def test_lines_are_folded_at_75_octets_with_crlf():
    long_text = "Zażółć gęślą jaźń. " * 30 + "https://rj.example.org/i/" + "x" * 60
    data = build_invite(_event(description=long_text), "REQUEST")
    assert data.endswith(b"\r\n")
    raw_lines = data.split(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in raw_lines) <= 75
    assert any(line.startswith(b" ") for line in raw_lines)
    for line in raw_lines:
        line.decode("utf-8")  # folding never splits a character
    _, event = _parse(data)
    assert str(event["DESCRIPTION"]) == long_text


def test_vtimezone_has_both_daylight_and_standard_rules():
    calendar, _ = _parse(build_invite(_event(), "REQUEST"))
    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/London"
    [daylight] = timezone.walk("DAYLIGHT")
    [standard] = timezone.walk("STANDARD")
    assert daylight["TZOFFSETFROM"].td == dt.timedelta(0)
    assert daylight["TZOFFSETTO"].td == dt.timedelta(hours=1)
    assert standard["TZOFFSETFROM"].td == dt.timedelta(hours=1)
    assert standard["TZOFFSETTO"].td == dt.timedelta(0)
    assert daylight["RRULE"].to_ical() in (
        b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
        b"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    )
    assert standard["RRULE"].to_ical() in (
        b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
        b"FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    )


@pytest.mark.parametrize("year", range(2024, 2038))
def test_the_written_rules_are_the_clock_changes_of_the_tz_database(year):
    spring, autumn = uk_rule_transitions(year)
    second = dt.timedelta(seconds=1)
    assert (spring - second).astimezone(LONDON).utcoffset() == dt.timedelta(0)
    assert spring.astimezone(LONDON).utcoffset() == dt.timedelta(hours=1)
    assert (autumn - second).astimezone(LONDON).utcoffset() == dt.timedelta(hours=1)
    assert autumn.astimezone(LONDON).utcoffset() == dt.timedelta(0)


def test_2026_clock_changes_are_29_march_and_25_october():
    assert uk_rule_transitions(2026) == (
        dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    )


def test_the_repeated_hour_when_clocks_go_back_is_written_in_utc():
    data = build_invite(
        _event(
            starts_at=dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST
            ends_at=dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT
        ),
        "REQUEST",
    )
    lines = _lines(data)
    assert "DTSTART:20261025T003000Z" in lines
    assert "DTEND:20261025T013000Z" in lines


@given(
    st.datetimes(
        min_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=dt.datetime(2030, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.integers(min_value=15, max_value=8 * 60),
)
def test_any_meeting_reads_back_at_the_same_instants(starts_at, minutes):
    starts_at = starts_at.replace(second=0, microsecond=0)
    ends_at = starts_at + dt.timedelta(minutes=minutes)
    _, event = _parse(build_invite(_event(starts_at=starts_at, ends_at=ends_at), "REQUEST"))
    assert event.decoded("DTSTART") == starts_at
    assert event.decoded("DTEND") == ends_at


def test_attachment_names_and_content_types():
    invite = invite_attachment(_event(), "REQUEST")
    assert invite.filename == "invite.ics"
    assert invite.content_type == INVITE_CONTENT_TYPE == "text/calendar; method=REQUEST; charset=UTF-8"
    assert invite.content == build_invite(_event(), "REQUEST")
    cancellation = invite_attachment(_event(), "CANCEL")
    assert cancellation.filename == "cancellation.ics"
    assert cancellation.content_type == calendar_content_type("CANCEL")
    assert invite_attachment(_event(), "PUBLISH").filename == "invite.ics"


def test_naive_times_unknown_methods_and_backwards_events_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        build_invite(_event(starts_at=dt.datetime(2026, 12, 8, 10, 0)), "REQUEST")  # noqa: DTZ001
    with pytest.raises(ValueError, match="method"):
        build_invite(_event(), "REPLY")
    with pytest.raises(ValueError, match="end after"):
        build_invite(_event(ends_at=dt.datetime(2026, 12, 8, 9, 0, tzinfo=UTC)), "REQUEST")
