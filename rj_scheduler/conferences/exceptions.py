"""Refusals of the conferences capability, each carrying plain-English reasons."""

from __future__ import annotations


class ConferenceError(Exception):
    """Base class: a rule of the conferences capability refused the request."""


class _Reasons(ConferenceError):
    """Refused for every one of ``reasons`` (all of them, never just the first)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = list(reasons)


class BookingRefused(_Reasons):
    """A meeting could not be booked (or rebooked): ``reasons`` lists every rule it breaks."""


class ChangeRefused(_Reasons):
    """A meeting could not be cancelled, postponed or changed in this way."""


class OutcomeRefused(_Reasons):
    """An outcome, agreement item or satisfaction score could not be recorded."""


class LocalTimeInvalid(ConferenceError):
    """A Europe/London wall-clock time that does not exist or happens twice (a clock change)."""


class _FieldErrors(ConferenceError):
    """Refused because of the listed fields: ``errors`` maps a field name to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class VenueInvalid(_FieldErrors):
    """A venue, entrance, room or opening hours were refused field by field."""


class AvailabilityInvalid(_FieldErrors):
    """A working pattern, leave, or a party's unavailable dates or preferred times were refused."""


class SettingsInvalid(_FieldErrors):
    """Conference settings were refused field by field."""
