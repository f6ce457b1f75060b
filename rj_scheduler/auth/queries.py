"""Named reads of services, staff and sign-in throttles."""

from __future__ import annotations

from sqlalchemy import select

from rj_scheduler.auth.models import LoginThrottle, Service, User
from rj_scheduler.extensions import db


def normalise_email(email: str) -> str:
    """The form every address is stored and looked up in: trimmed, lower case."""
    return (email or "").strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def user_by_public_id(user_public_id: str) -> User | None:
    """Any service's user: callers check the service through the policy (404 for another's)."""
    return db.session.scalar(select(User).where(User.public_id == user_public_id))


def staff_of_service(service_id: int) -> list[User]:
    """The staff of one service, active first, then by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.service_id == service_id)
            .order_by(User.is_active_account.desc(), User.full_name, User.id)
        )
    )


def service_by_code(code: str) -> Service | None:
    return db.session.scalar(select(Service).where(Service.code == code.strip().upper()))


def throttle_by_key(key_hash: str) -> LoginThrottle | None:
    return db.session.scalar(select(LoginThrottle).where(LoginThrottle.key_hash == key_hash))
