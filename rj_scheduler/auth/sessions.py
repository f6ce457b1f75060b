"""Server-side staff sessions: start, check, end.

The signed Flask cookie carries the user's public id and a random session
token; the token's hash must match an open ``StaffSession`` row that has not
idled out or outlived its maximum age. Ending the row (logout, deactivation,
password change, two-factor reset) makes any copy of the cookie worthless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app, session
from flask_login import LoginManager
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rj_scheduler.auth.models import StaffSession, User
from rj_scheduler.db import now

SESSION_TOKEN_KEY = "rj_sid"  # noqa: S105  (a cookie key, not a secret)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db_session: Session, user: User, ip_address: str | None, user_agent: str | None) -> str:
    """Open a server-side session for ``user`` and return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db_session.add(
        StaffSession(
            user_id=user.id,
            token_hash=_hash(token),
            ip_address=ip_address,
            user_agent=(user_agent or "")[:300],
        )
    )
    db_session.flush()
    return token


def end_session(db_session: Session, token: str | None, reason: str) -> None:
    """End the session a cookie token belongs to."""
    if not token:
        return
    db_session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _hash(token), StaffSession.ended_at.is_(None))
        .values(ended_at=now(), end_reason=reason)
    )


def end_all_sessions(db_session: Session, user: User, reason: str) -> None:
    """End every open session of ``user`` (deactivation, password change, two-factor reset)."""
    db_session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now(), end_reason=reason)
    )


def find_open_session(
    db_session: Session, token: str, at: dt.datetime, idle: dt.timedelta, max_age: dt.timedelta
) -> StaffSession | None:
    """The open session for ``token``, ending it first if it has idled out or grown too old."""
    row = db_session.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(token)))
    if row is None or row.ended_at is not None:
        return None
    if at - row.last_seen_at > idle:
        row.ended_at, row.end_reason = at, "inactivity"
        return None
    if at - row.created_at > max_age:
        row.ended_at, row.end_reason = at, "maximum age"
        return None
    return row


def register_session_loader(login_manager: LoginManager) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.session_protection = None  # our server-side sessions do this job

    @login_manager.user_loader
    def load_user(user_public_id: str) -> User | None:
        from rj_scheduler.extensions import db

        token = session.get(SESSION_TOKEN_KEY)
        if not token:
            return None
        config = current_app.config
        at = now()
        row = find_open_session(
            db.session,
            token,
            at,
            dt.timedelta(minutes=config["RJ_SESSION_IDLE_MINUTES"]),
            dt.timedelta(hours=config["RJ_SESSION_MAX_HOURS"]),
        )
        if row is None or row.user.public_id != user_public_id or not row.user.is_active:
            session.clear()
            return None
        row.last_seen_at = at
        return row.user
