"""Refusals of the sign-in and account rules, each carrying plain-English reasons.

Views turn them into messages next to the fields they name; the command line
turns them into ``click.ClickException`` messages.
"""

from __future__ import annotations

SIGN_IN_REFUSED = "Enter a correct email address and password"
CODE_REFUSED = "Enter a correct code from your authenticator app"


def locked_message(minutes: int) -> str:
    return f"Too many failed attempts. Try again in {minutes} minutes."


class AuthRefused(Exception):
    """Base class: ``problems`` maps a form field name to its messages."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(m for messages in problems.values() for m in messages))


class SignInRefused(AuthRefused):
    """Wrong password, unknown or deactivated address: one message for all, so none is revealed."""

    def __init__(self, *, locked: bool = False, lockout_minutes: int = 15) -> None:
        self.locked = locked
        message = locked_message(lockout_minutes) if locked else SIGN_IN_REFUSED
        super().__init__({"email": [message]})


class CodeRefused(AuthRefused):
    """A two-factor code that is wrong, already used or out of date (or the address is locked)."""

    def __init__(self, *, locked: bool = False, lockout_minutes: int = 15) -> None:
        self.locked = locked
        message = locked_message(lockout_minutes) if locked else CODE_REFUSED
        super().__init__({"code": [message]})


class PasswordRefused(AuthRefused):
    """A password change refused: the current password is wrong or the new one breaks the rules."""


class StaffChangeRefused(AuthRefused):
    """A change to a member of staff that the rules do not allow."""
