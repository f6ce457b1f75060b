"""Working days in England and Wales: weekends and bank holidays skipped.

The bank holidays come from the copy ``govuk-bank-holidays`` ships; the
network is never used at run time.
"""

from __future__ import annotations

import datetime as dt
import functools

from govuk_bank_holidays.bank_holidays import BankHolidays


@functools.cache
def bank_holidays() -> frozenset[dt.date]:
    """England and Wales bank holidays from the bundled copy."""
    holidays = BankHolidays(use_cached_holidays=True)
    return frozenset(h["date"] for h in holidays.get_holidays(division=BankHolidays.ENGLAND_AND_WALES))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays()


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (the start day itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
