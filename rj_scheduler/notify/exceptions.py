"""Refusals of the messaging engine, each carrying plain-English reasons."""

from __future__ import annotations


class NotifyError(Exception):
    """Base class: ``reasons`` are shown to staff as they are."""

    def __init__(self, reasons: list[str] | str) -> None:
        self.reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__("; ".join(self.reasons))


class WordingRefused(NotifyError):
    """The wording names an unknown placeholder, or discreet wording gives the case away."""


class UnknownMessageKind(NotifyError):
    """No capability registered this kind of message."""


class DispatcherAlreadyRunning(NotifyError):
    """On SQLite one dispatcher runs at a time."""


class SendingNotConfigured(NotifyError):
    """The chosen backend lacks a setting it needs."""
