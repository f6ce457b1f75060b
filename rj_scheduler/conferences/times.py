"""Europe/London wall-clock times typed by staff, turned into UTC instants (and refused at clock changes).

On the last Sunday of March 01:00-01:59 does not exist in London; on the last
Sunday of October 01:00-01:59 happens twice. A meeting time in either is
refused with a message instead of being guessed.
"""

from __future__ import annotations

import datetime as dt

from rj_scheduler.conferences.exceptions import LocalTimeInvalid
from rj_scheduler.templating import LONDON

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def local_to_utc(day: dt.date, time: dt.time) -> dt.datetime:
    """The UTC instant of ``time`` on ``day`` in London; ``LocalTimeInvalid`` if it does not exist or is ambiguous."""
    local = dt.datetime.combine(day, time.replace(tzinfo=None, fold=0), tzinfo=LONDON)
    round_trip = local.astimezone(dt.UTC).astimezone(LONDON)
    shown = f"{time.strftime('%H:%M')} on {day.strftime('%-d %B %Y')}"
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise LocalTimeInvalid(
            f"{shown} does not exist in the UK: the clocks go forward that night. Choose another time."
        )
    if local.utcoffset() != local.replace(fold=1).utcoffset():
        raise LocalTimeInvalid(
            f"{shown} happens twice in the UK: the clocks go back that night. Choose another time."
        )
    return local.astimezone(dt.UTC)


def parse_local_datetime(text: str) -> dt.datetime:
    """An ISO date-time from a URL or form (``2026-12-01T10:00``): London time unless it says its offset."""
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise LocalTimeInvalid("Enter a date and time like 2026-12-01T10:00.") from error
    if parsed.tzinfo is not None:
        return parsed.astimezone(dt.UTC)
    return local_to_utc(parsed.date(), parsed.time())


def to_london(at: dt.datetime) -> dt.datetime:
    return at.astimezone(LONDON)


def london_day(at: dt.datetime) -> dt.date:
    return at.astimezone(LONDON).date()


def clock(at: dt.datetime) -> str:
    """A London time of day, GOV.UK style: 9:30am."""
    text = at.astimezone(LONDON).strftime("%-I:%M%p")
    return text.replace("AM", "am").replace("PM", "pm")


def clock_of(time: dt.time) -> str:
    text = dt.datetime.combine(dt.date(2000, 1, 3), time).strftime("%-I:%M%p")
    return text.replace("AM", "am").replace("PM", "pm")


def day_text(day: dt.date) -> str:
    return day.strftime("%A %-d %B %Y")
