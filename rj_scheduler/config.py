"""Every setting of rj_scheduler, read from the environment.

Each setting has a default and a one-line meaning; README.md lists them in one
table. ``load_config`` is the only place that reads ``os.environ`` for the app.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can start with."""


@dataclass(frozen=True)
class Setting:
    env: str
    default: str | None
    meaning: str


# The table README.md documents. Keep it in step with load_config.
SETTINGS: tuple[Setting, ...] = (
    Setting("RJ_ENV", "development", "`development` or `production`; production refuses unsafe defaults"),
    Setting(
        "DATABASE_URL",
        "sqlite:///<instance>/rj_scheduler.sqlite3",
        "SQLAlchemy URL of the database (SQLite or `postgresql+psycopg://`)",
    ),
    Setting(
        "SECRET_KEY",
        None,
        "signs sessions and CSRF tokens; generated into the instance folder in development, required in production",
    ),
    Setting(
        "RJ_PUBLIC_URL",
        "http://127.0.0.1:5000",
        "the address people reach the service at (links in messages, webhook signatures)",
    ),
    Setting(
        "RJ_SESSION_IDLE_MINUTES",
        "30",
        "a staff session ends after this many minutes without a request",
    ),
    Setting(
        "RJ_SESSION_MAX_HOURS",
        "12",
        "a staff session ends this many hours after login, whatever the activity",
    ),
    Setting(
        "RJ_LOGIN_MAX_FAILURES",
        "5",
        "failed sign-in attempts for one email address before it is locked",
    ),
    Setting("RJ_LOGIN_LOCKOUT_MINUTES", "15", "how long a locked email address stays locked"),
    Setting(
        "RJ_LOGIN_RATE_LIMIT",
        "20 per minute",
        "sign-in attempts allowed from one address (Flask-Limiter syntax)",
    ),
    Setting(
        "RJ_PARTICIPANT_PAGE_RATE_LIMIT",
        "30 per minute; 300 per hour",
        "requests to participants' private pages (`/i/...`) allowed from one address",
    ),
    Setting(
        "RJ_PARTICIPANT_DEAD_LINK_RATE_LIMIT",
        "10 per minute",
        "wrong, expired or cancelled private links tried from one address before it is refused",
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        "where rate-limit counters live; use `redis://` when running several workers",
    ),
    Setting(
        "RJ_AUDIT_CHECKPOINT_SECONDS",
        "300",
        "how often the newest audit hash is written to the application log",
    ),
    Setting(
        "RJ_ALLOW_DRAMA_NUMBERS",
        "on in development, off in production",
        "accept Ofcom's drama range 07700 900000-900999 as mobile numbers (demo and tests)",
    ),
    Setting(
        "RJ_TRUSTED_PROXIES",
        "0",
        "how many reverse proxies to trust for the client address (X-Forwarded-For)",
    ),
    Setting("LOG_LEVEL", "INFO", "level of the JSON application log on standard error"),
    # Messaging (rj_scheduler/notify, docs/messaging.md)
    Setting(
        "RJ_SMS_BACKEND",
        "`outbox` in development; required in production",
        "`twilio` sends SMS; `outbox` keeps them for the Outbox page (production only if set explicitly)",
    ),
    Setting(
        "RJ_EMAIL_BACKEND",
        "`outbox` in development; required in production",
        "`smtp` sends email; `outbox` keeps them for the Outbox page (production only if set explicitly)",
    ),
    Setting("TWILIO_ACCOUNT_SID", None, "Twilio account SID (required with `RJ_SMS_BACKEND=twilio`)"),
    Setting(
        "TWILIO_AUTH_TOKEN", None, "Twilio auth token: authenticates API calls and signs webhooks (a secret)"
    ),
    Setting(
        "TWILIO_MESSAGING_SERVICE_SID",
        None,
        "Twilio Messaging Service that sends the SMS (this or `TWILIO_FROM_NUMBER`)",
    ),
    Setting(
        "TWILIO_FROM_NUMBER",
        None,
        "E.164 number SMS come from; a number, not a sender ID, so parties can reply",
    ),
    Setting(
        "TWILIO_API_BASE_URL",
        None,
        "send Twilio API requests to this base URL instead of Twilio's hosts (a local mock)",
    ),
    Setting("MAIL_SERVER", "localhost", "SMTP server for `RJ_EMAIL_BACKEND=smtp`"),
    Setting("MAIL_PORT", "25 (465 with SSL, 587 with TLS)", "SMTP port"),
    Setting("MAIL_USE_TLS", "off", "STARTTLS after connecting"),
    Setting("MAIL_USE_SSL", "off", "connect with TLS from the start (SMTPS)"),
    Setting("MAIL_USERNAME", None, "SMTP user name, if the server needs one"),
    Setting("MAIL_PASSWORD", None, "SMTP password (a secret)"),
    Setting(
        "MAIL_DEFAULT_SENDER",
        "rj-scheduler@localhost in development; required in production with smtp",
        "the From address of every email",
    ),
    Setting(
        "RJ_SMS_MAX_PER_SECOND",
        "10",
        "most SMS one dispatcher sends per second (keep the sum over dispatchers within the account's limit)",
    ),
    Setting(
        "RJ_QUIET_HOURS",
        "20:00-09:00",
        "Europe/London hours in which no SMS is sent (they wait); `off` to send at any hour",
    ),
    Setting(
        "RJ_DISPATCH_LEASE_SECONDS",
        "300",
        "a message held by a dispatcher that stopped returns to the queue after this long",
    ),
    Setting(
        "RJ_DISPATCH_MAX_ATTEMPTS",
        "8",
        "attempts before a message with temporary errors is marked failed",
    ),
    Setting("RJ_DISPATCH_THREADS", "16", "messages one dispatcher sends at the same time"),
    Setting(
        "RJ_FIRST_CONTACT_WORKING_DAYS", "5", "working days from referral to first contact (Victims' Code)"
    ),
    Setting(
        "RJ_FIRST_CONTACT_WORKING_DAYS_ENHANCED",
        "1",
        "working days to first contact in a sensitive case (victims with enhanced rights)",
    ),
    Setting("RJ_API_RATE_LIMIT", "120 per minute", "partner API requests allowed per API key"),
    Setting("RJ_API_ADDRESS_RATE_LIMIT", "600 per minute", "partner API requests allowed per client address"),
    Setting("RJ_SELF_REFERRAL_RATE_LIMIT", "5 per hour", "self-referrals accepted per client address"),
)


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(env: str, instance_path: Path, environ: dict[str, str]) -> str:
    key = environ.get("SECRET_KEY", "")
    if key:
        if env == "production" and len(key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production.")
        return key
    if env == "production":
        raise ConfigError("SECRET_KEY is required when RJ_ENV=production.")
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _messaging(env: str, environ: dict[str, str]) -> dict[str, object]:
    """The messaging settings; production must name its backends and give what they need."""
    from rj_scheduler.notify.config import messaging_config

    try:
        return messaging_config(env, environ)
    except ValueError as error:
        raise ConfigError(str(error)) from error


def load_config(instance_path: Path, environ: dict[str, str] | None = None) -> dict[str, object]:
    """Build the Flask config from the environment, refusing unsafe production settings."""
    environ = dict(os.environ if environ is None else environ)
    env = environ.get("RJ_ENV", "development")
    if env not in {"development", "production"}:
        raise ConfigError(f"RJ_ENV must be 'development' or 'production', not {env!r}.")
    production = env == "production"
    database_url = environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'rj_scheduler.sqlite3'}"
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        # psycopg 3 is the supported driver; accept the plain URL form people paste.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    public_url = environ.get("RJ_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    if production and not public_url.startswith("https://"):
        raise ConfigError("RJ_PUBLIC_URL must be an https:// address in production.")
    return {
        "RJ_ENV": env,
        "SECRET_KEY": _secret_key(env, instance_path, environ),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RJ_PUBLIC_URL": public_url,
        "RJ_SESSION_IDLE_MINUTES": int(environ.get("RJ_SESSION_IDLE_MINUTES", "30")),
        "RJ_SESSION_MAX_HOURS": int(environ.get("RJ_SESSION_MAX_HOURS", "12")),
        "RJ_LOGIN_MAX_FAILURES": int(environ.get("RJ_LOGIN_MAX_FAILURES", "5")),
        "RJ_LOGIN_LOCKOUT_MINUTES": int(environ.get("RJ_LOGIN_LOCKOUT_MINUTES", "15")),
        "RJ_LOGIN_RATE_LIMIT": environ.get("RJ_LOGIN_RATE_LIMIT", "20 per minute"),
        "RJ_PARTICIPANT_PAGE_RATE_LIMIT": environ.get(
            "RJ_PARTICIPANT_PAGE_RATE_LIMIT", "30 per minute; 300 per hour"
        ),
        "RJ_PARTICIPANT_DEAD_LINK_RATE_LIMIT": environ.get(
            "RJ_PARTICIPANT_DEAD_LINK_RATE_LIMIT", "10 per minute"
        ),
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RJ_AUDIT_CHECKPOINT_SECONDS": int(environ.get("RJ_AUDIT_CHECKPOINT_SECONDS", "300")),
        "RJ_ALLOW_DRAMA_NUMBERS": _bool(environ.get("RJ_ALLOW_DRAMA_NUMBERS"), not production),
        "RJ_TRUSTED_PROXIES": int(environ.get("RJ_TRUSTED_PROXIES", "0")),
        "LOG_LEVEL": environ.get("LOG_LEVEL", "INFO"),
        "RJ_FIRST_CONTACT_WORKING_DAYS": int(environ.get("RJ_FIRST_CONTACT_WORKING_DAYS", "5")),
        "RJ_FIRST_CONTACT_WORKING_DAYS_ENHANCED": int(
            environ.get("RJ_FIRST_CONTACT_WORKING_DAYS_ENHANCED", "1")
        ),
        "RJ_API_RATE_LIMIT": environ.get("RJ_API_RATE_LIMIT", "120 per minute"),
        "RJ_API_ADDRESS_RATE_LIMIT": environ.get("RJ_API_ADDRESS_RATE_LIMIT", "600 per minute"),
        "RJ_SELF_REFERRAL_RATE_LIMIT": environ.get("RJ_SELF_REFERRAL_RATE_LIMIT", "5 per hour"),
        "SESSION_COOKIE_NAME": "rj_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the server-side session
        "WTF_CSRF_SSL_STRICT": True,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        **_messaging(env, environ),
    }
