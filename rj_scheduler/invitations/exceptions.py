"""Refusals of the invitations capability, each with plain-English reasons."""

from __future__ import annotations


class ResponseRefused(Exception):
    """A participant's answer (or a facilitator's change) that cannot be taken."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons
