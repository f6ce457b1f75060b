"""Model factories named for states. Data is invented; emails use example.org."""

from __future__ import annotations

import itertools

import pyotp

from rj_scheduler.auth.models import Role, Service, User
from rj_scheduler.auth.passwords import hash_password
from rj_scheduler.db import now
from rj_scheduler.extensions import db

_counter = itertools.count(1)
DEFAULT_PASSWORD = "correct horse battery staple 42"


def make_service(name: str | None = None, code: str | None = None) -> Service:
    n = next(_counter)
    service = Service(name=name or f"Test area {n}", code=code or f"T{n}", phone_number="0300 123 4567")
    db.session.add(service)
    db.session.flush()
    return service


def make_user(
    service: Service | None = None,
    role: Role | str = Role.FACILITATOR,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    enrolled: bool = True,
    active: bool = True,
    full_name: str | None = None,
) -> User:
    """A staff user; ``enrolled`` gives them a two-factor secret already confirmed."""
    n = next(_counter)
    service = service or make_service()
    user = User(
        service=service,
        email=email or f"staff{n}@example.org",
        full_name=full_name or f"Staff Member {n}",
        role=str(role),
        password_hash=hash_password(password),
        is_active_account=active,
    )
    if enrolled:
        user.totp_secret = pyotp.random_base32()
        user.totp_enrolled_at = now()
    db.session.add(user)
    db.session.flush()
    return user
