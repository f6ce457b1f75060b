"""The messaging settings, read by ``rj_scheduler.config.load_config``.

Backends: development defaults to ``outbox`` (nothing leaves the machine);
production defaults to ``twilio`` and ``smtp`` and uses ``outbox`` only when it
is set explicitly. Credentials are checked when a dispatcher starts
(``require_sending_config``), so the web app can start without them; webhooks
without ``TWILIO_AUTH_TOKEN`` answer 403.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SMS_BACKENDS = ("twilio", "outbox")
EMAIL_BACKENDS = ("smtp", "outbox")
_QUIET_HOURS = re.compile(r"^\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)\s*$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def parse_quiet_hours(value: str | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """``"20:00-09:00"`` → ((20, 0), (9, 0)); ``"off"`` or empty → None. Raises ValueError."""
    if value is None or value.strip().lower() in {"", "off", "none"}:
        return None
    match = _QUIET_HOURS.match(value)
    if not match:
        raise ValueError(f"RJ_QUIET_HOURS must look like 20:00-09:00 or be 'off', not {value!r}.")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if (h1, m1) == (h2, m2):
        raise ValueError("RJ_QUIET_HOURS must start and end at different times.")
    return (h1, m1), (h2, m2)


def messaging_config(env: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The messaging part of the Flask config. Raises ValueError for a setting it cannot use."""
    production = env == "production"
    sms_backend = environ.get("RJ_SMS_BACKEND") or ("twilio" if production else "outbox")
    email_backend = environ.get("RJ_EMAIL_BACKEND") or ("smtp" if production else "outbox")
    if sms_backend not in SMS_BACKENDS:
        raise ValueError(f"RJ_SMS_BACKEND must be one of {', '.join(SMS_BACKENDS)}, not {sms_backend!r}.")
    if email_backend not in EMAIL_BACKENDS:
        raise ValueError(
            f"RJ_EMAIL_BACKEND must be one of {', '.join(EMAIL_BACKENDS)}, not {email_backend!r}."
        )
    from_number = environ.get("TWILIO_FROM_NUMBER") or None
    if from_number and not _E164.match(from_number):
        raise ValueError(
            "TWILIO_FROM_NUMBER must be a phone number in E.164 form (e.g. +447700900001): "
            "an alphanumeric sender ID cannot receive replies."
        )
    use_ssl = _bool(environ.get("MAIL_USE_SSL"))
    use_tls = _bool(environ.get("MAIL_USE_TLS"))
    if use_ssl and use_tls:
        raise ValueError("Set MAIL_USE_SSL or MAIL_USE_TLS, not both.")
    default_port = "465" if use_ssl else "587" if use_tls else "25"
    quiet = environ.get("RJ_QUIET_HOURS", "20:00-09:00")
    parse_quiet_hours(quiet)
    numbers = {
        "RJ_SMS_MAX_PER_SECOND": float(environ.get("RJ_SMS_MAX_PER_SECOND", "10")),
        "RJ_DISPATCH_LEASE_SECONDS": int(environ.get("RJ_DISPATCH_LEASE_SECONDS", "300")),
        "RJ_DISPATCH_MAX_ATTEMPTS": int(environ.get("RJ_DISPATCH_MAX_ATTEMPTS", "8")),
        "RJ_DISPATCH_THREADS": int(environ.get("RJ_DISPATCH_THREADS", "16")),
    }
    if numbers["RJ_SMS_MAX_PER_SECOND"] <= 0:
        raise ValueError("RJ_SMS_MAX_PER_SECOND must be above 0.")
    if numbers["RJ_DISPATCH_LEASE_SECONDS"] < 1 or numbers["RJ_DISPATCH_MAX_ATTEMPTS"] < 1:
        raise ValueError("RJ_DISPATCH_LEASE_SECONDS and RJ_DISPATCH_MAX_ATTEMPTS must be at least 1.")
    if numbers["RJ_DISPATCH_THREADS"] < 1:
        raise ValueError("RJ_DISPATCH_THREADS must be at least 1.")
    return {
        "RJ_SMS_BACKEND": sms_backend,
        "RJ_EMAIL_BACKEND": email_backend,
        "TWILIO_ACCOUNT_SID": environ.get("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_AUTH_TOKEN": environ.get("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_MESSAGING_SERVICE_SID": environ.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        "TWILIO_FROM_NUMBER": from_number,
        "TWILIO_API_BASE_URL": (environ.get("TWILIO_API_BASE_URL") or "").rstrip("/") or None,
        "MAIL_SERVER": environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(environ.get("MAIL_PORT") or default_port),
        "MAIL_USE_TLS": use_tls,
        "MAIL_USE_SSL": use_ssl,
        "MAIL_USERNAME": environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": environ.get("MAIL_DEFAULT_SENDER")
        or (None if production else "rj-scheduler@localhost"),
        "RJ_QUIET_HOURS": quiet,
        **numbers,
    }


def sending_config_problems(config: Mapping[str, Any]) -> list[str]:
    """What the chosen backends still need before a dispatcher can send, in plain English."""
    problems = []
    if config.get("RJ_SMS_BACKEND") == "twilio":
        if not config.get("TWILIO_ACCOUNT_SID") or not config.get("TWILIO_AUTH_TOKEN"):
            problems.append("RJ_SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        if not config.get("TWILIO_MESSAGING_SERVICE_SID") and not config.get("TWILIO_FROM_NUMBER"):
            problems.append("RJ_SMS_BACKEND=twilio needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER.")
    if config.get("RJ_EMAIL_BACKEND") == "smtp" and not config.get("MAIL_DEFAULT_SENDER"):
        problems.append("RJ_EMAIL_BACKEND=smtp needs MAIL_DEFAULT_SENDER.")
    return problems
