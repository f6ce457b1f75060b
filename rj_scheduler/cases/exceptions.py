"""Refusals of the cases capability, each carrying plain-English reasons."""

from __future__ import annotations


class CaseError(Exception):
    """Base class: a rule of the cases capability refused the request."""


class _FieldErrors(CaseError):
    """Refused because of the listed fields: ``errors`` maps a field name to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class ReferralInvalid(_FieldErrors):
    """A referral was refused: ``errors`` maps each field (``parties[0].mobile`` for a party) to a message."""


class PartyInvalid(_FieldErrors):
    """A party's details were refused field by field."""


class ConsentInvalid(_FieldErrors):
    """A consent record was refused field by field."""


class ContactInvalid(_FieldErrors):
    """A first contact, re-offer point or safe-contact preference was refused field by field."""


class NoteInvalid(_FieldErrors):
    """A note was refused."""


class TransitionRefused(CaseError):
    """A state transition that is not allowed, with the reasons why."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = list(reasons)


class ReassignRefused(CaseError):
    """A case cannot be given to that member of staff."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TriageRefused(CaseError):
    """The case does not need triage, or the user may not triage it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
