"""Calendar invites: one recipient's iCalendar file for a meeting (RFC 5545, methods of RFC 5546).

Each recipient gets their own file: their own arrival and departure times, their
own entrance, and themselves as the only ATTENDEE, so nothing about another
party travels in it (DOMAIN rule 4). The caller gives already-translated,
discreet text (rule 6); nothing else is added here.

Times are written in Europe/London with a VTIMEZONE made of yearly rules
(last Sunday of March and of October), the form Outlook, Gmail and Apple
Calendar write themselves: Outlook reads a time zone's RRULE but only
approximates one made of RDATE lists (MS-OXCICAL 2.1.3.1.1.19.2). The rules are
checked against the tz database for the event's years; should the United
Kingdom ever change its clock rules, the VTIMEZONE is taken from the tz database
instead (icalendar's ``add_missing_timezones``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vRecur

from rj_scheduler.notify.backends import Attachment

LONDON = ZoneInfo("Europe/London")
PRODUCT_ID = "-//rj_scheduler//Invitations//EN"
METHODS = ("REQUEST", "CANCEL", "PUBLISH")
INVITE_FILENAME = "invite.ics"
CANCELLATION_FILENAME = "cancellation.ics"


def calendar_content_type(method: str) -> str:
    """The MIME type of a calendar file sent with ``method`` (iMIP, RFC 6047)."""
    return f"text/calendar; method={_checked_method(method)}; charset=UTF-8"


INVITE_CONTENT_TYPE = "text/calendar; method=REQUEST; charset=UTF-8"


@dataclass(frozen=True)
class CalendarEvent:
    """What one recipient's calendar shows of one meeting."""

    uid: str  # stable per meeting, e.g. f"{meeting.public_id}@rj.example.org"
    sequence: int  # rises with every change (meeting.sequence)
    stamp: dt.datetime  # aware; when this version was made (DTSTAMP, written in UTC)
    starts_at: dt.datetime  # aware UTC: for a party, THEIR arrival time
    ends_at: dt.datetime  # aware UTC: for a party, THEIR departure time
    summary: str  # discreet title, already translated
    description: str  # already translated text; includes the private link
    location: str | None  # their entrance and the venue address (or "Video call")
    url: str | None  # their private link (URL property) or None
    organizer_email: str  # the service's mailbox
    organizer_name: str  # the service's discreet sender name
    attendee_email: str | None  # the recipient alone (None for a download or an SMS-only party)
    attendee_name: str | None
    cancelled: bool = False  # True -> STATUS:CANCELLED (and METHOD:CANCEL in build_invite)


def effective_method(event: CalendarEvent, method: str) -> str:
    """The method actually written: a cancelled event is never sent as a REQUEST, always as a CANCEL."""
    method = _checked_method(method)
    if event.cancelled and method == "REQUEST":
        return "CANCEL"
    return method


def build_invite(event: CalendarEvent, method: str) -> bytes:
    """The iCalendar file of ``event`` for its one recipient.

    method: "REQUEST" (invite or update), "CANCEL" (cancellation) or "PUBLISH" (a download from the
    participant page: no ATTENDEE, no RSVP). A CANCEL, or a cancelled event, has STATUS:CANCELLED with
    the same UID and the SEQUENCE given (the caller raises it with every change). The only ATTENDEE is
    the recipient, with RSVP=FALSE: replies come through the private page, not the calendar.
    """
    method = effective_method(event, method)
    _check_times(event)
    cancelled = event.cancelled or method == "CANCEL"

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", event.stamp.astimezone(dt.UTC))
    # The hour the clocks go back happens twice in London: RFC 5545 reads such a local time as the first
    # one, ical.js as the second. A meeting touching that hour is written in UTC, which all agree on.
    zone = dt.UTC if _ambiguous_in_london(event.starts_at) or _ambiguous_in_london(event.ends_at) else LONDON
    vevent.add("dtstart", event.starts_at.astimezone(zone))
    vevent.add("dtend", event.ends_at.astimezone(zone))
    vevent.add("summary", _text(event.summary))
    if event.location:
        vevent.add("location", _text(event.location))
    vevent.add("description", _text(event.description))
    if event.url:
        vevent.add("url", event.url)
    vevent.add("organizer", _address(event.organizer_email, event.organizer_name))
    if method != "PUBLISH" and event.attendee_email:
        attendee = _address(event.attendee_email, event.attendee_name)
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        attendee.params["RSVP"] = "FALSE"
        vevent.add("attendee", attendee)
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # A cancelled meeting no longer makes the person busy.
    vevent.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")

    years = range(event.starts_at.astimezone(LONDON).year, event.ends_at.astimezone(LONDON).year + 1)
    if _uk_rules_hold(years):
        calendar.add_component(_london_timezone())
        calendar.add_component(vevent)
    else:
        calendar.add_component(vevent)
        calendar.add_missing_timezones(
            first_date=dt.date(years[0] - 1, 1, 1), last_date=dt.date(years[-1] + 2, 1, 1)
        )
    return calendar.to_ical()


def invite_attachment(event: CalendarEvent, method: str) -> Attachment:
    """The calendar file as an email attachment: ``invite.ics``, or ``cancellation.ics`` for a CANCEL."""
    written = effective_method(event, method)
    filename = CANCELLATION_FILENAME if written == "CANCEL" else INVITE_FILENAME
    return Attachment(
        filename=filename, content_type=calendar_content_type(written), content=build_invite(event, method)
    )


def _checked_method(method: str) -> str:
    upper = method.upper()
    if upper not in METHODS:
        raise ValueError(f"A calendar invite's method is one of {', '.join(METHODS)}, not {method!r}.")
    return upper


def _check_times(event: CalendarEvent) -> None:
    for name in ("stamp", "starts_at", "ends_at"):
        value = getattr(event, name)
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"CalendarEvent.{name} must be timezone-aware.")
    if event.ends_at <= event.starts_at:
        raise ValueError("A calendar event must end after it starts.")


def _text(value: str) -> str:
    # icalendar escapes commas, semicolons, backslashes and newlines; bare carriage returns would
    # otherwise survive as stray characters in some readers.
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _ambiguous_in_london(instant: dt.datetime) -> bool:
    local = instant.astimezone(LONDON)
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def _address(email: str, name: str | None) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    return address


# The United Kingdom's clock rules since 1996: BST from 01:00 GMT on the last Sunday of March,
# GMT from 02:00 BST (01:00 GMT) on the last Sunday of October.
_DAYLIGHT_START = dt.datetime(1996, 3, 31, 1, 0)  # noqa: DTZ001 - VTIMEZONE onsets are local, floating times
_STANDARD_START = dt.datetime(1996, 10, 27, 2, 0)  # noqa: DTZ001


def _london_timezone() -> Timezone:
    timezone = Timezone()
    timezone.add("tzid", "Europe/London")
    daylight = TimezoneDaylight()
    daylight.add("dtstart", _DAYLIGHT_START)
    daylight.add("rrule", vRecur({"FREQ": "YEARLY", "BYMONTH": 3, "BYDAY": "-1SU"}))
    daylight.add("tzoffsetfrom", dt.timedelta(0))
    daylight.add("tzoffsetto", dt.timedelta(hours=1))
    daylight.add("tzname", "BST")
    standard = TimezoneStandard()
    standard.add("dtstart", _STANDARD_START)
    standard.add("rrule", vRecur({"FREQ": "YEARLY", "BYMONTH": 10, "BYDAY": "-1SU"}))
    standard.add("tzoffsetfrom", dt.timedelta(hours=1))
    standard.add("tzoffsetto", dt.timedelta(0))
    standard.add("tzname", "GMT")
    timezone.add_component(daylight)
    timezone.add_component(standard)
    return timezone


def _last_sunday(year: int, month: int) -> dt.date:
    day = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=(day.weekday() - 6) % 7)


def uk_rule_transitions(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The two clock changes of ``year`` by the rules written in the VTIMEZONE, as UTC instants."""
    spring = dt.datetime.combine(_last_sunday(year, 3), dt.time(1, 0), tzinfo=dt.UTC)
    autumn = dt.datetime.combine(_last_sunday(year, 10), dt.time(1, 0), tzinfo=dt.UTC)
    return spring, autumn


def _uk_rules_hold(years: range) -> bool:
    """Whether the tz database agrees with the written rules for every year the event touches."""
    for year in years:
        spring, autumn = uk_rule_transitions(year)
        second = dt.timedelta(seconds=1)
        expected = (
            ((spring - second), dt.timedelta(0)),
            (spring, dt.timedelta(hours=1)),
            ((autumn - second), dt.timedelta(hours=1)),
            (autumn, dt.timedelta(0)),
            (dt.datetime(year, 1, 15, tzinfo=dt.UTC), dt.timedelta(0)),
            (dt.datetime(year, 7, 15, tzinfo=dt.UTC), dt.timedelta(hours=1)),
        )
        if any(instant.astimezone(LONDON).utcoffset() != offset for instant, offset in expected):
            return False
    return True
