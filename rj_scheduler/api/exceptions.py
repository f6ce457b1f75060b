"""Refusals of the partner API and of API key management, each carrying plain-English reasons."""

from __future__ import annotations


class ApiError(Exception):
    """Base class: a rule of the partner API refused the request."""


class ApiKeyInvalid(ApiError):
    """A manager's new API key was refused: ``errors`` maps a form field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class ApiKeyRefused(ApiError):
    """An API key cannot be changed that way (for example, it is already revoked)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ApiKeyRejected(ApiError):
    """The presented API key is missing, malformed, unknown or revoked (answered with 401)."""

    def __init__(self, reason: str, *, prefix: str | None = None, service_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.prefix = prefix
        self.service_id = service_id


class RequestInvalid(ApiError):
    """The request body was refused: ``errors`` maps a JSON pointer (``#/parties/0/mobile``) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class IdempotencyKeyReused(ApiError):
    """The Idempotency-Key was already used by this partner for a different request."""


class IdempotencyKeyInFlight(ApiError):
    """The first request with this Idempotency-Key has not finished yet."""


class HeaderInvalid(ApiError):
    """A request header the API needs is missing or malformed (answered with 400)."""

    def __init__(self, header: str, reason: str) -> None:
        super().__init__(reason)
        self.header = header
        self.reason = reason
