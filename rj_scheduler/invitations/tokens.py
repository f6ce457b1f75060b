"""The private link of a party's invitation: ``/i/<token>``.

The token is an HMAC-SHA256 of the invitation's random 128-bit nonce under the
app's secret key (256 bits, URL-safe). Only its SHA-256 is stored, so a copy
of the database alone opens nothing; the app can write the same link into an
update or a reminder later without keeping the token. Changing the secret key
changes every link (a deliberate way to kill them all).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from rj_scheduler.invitations.models import CLOSED_STATUSES, Invitation

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _derive(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key_bytes = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key_bytes, b"rj-invitation-link:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def give_link(invitation: Invitation) -> None:
    """Give a party's invitation its private link (a fresh random nonce; the old link, if any, dies)."""
    invitation.token_nonce = secrets.token_hex(16)
    invitation.token_hash = token_hash(_derive(invitation.token_nonce))


def token_for(invitation: Invitation) -> str:
    if invitation.token_nonce is None:
        raise ValueError("Only a party's invitation has a private link.")
    return _derive(invitation.token_nonce)


def link_for(invitation: Invitation) -> str:
    return f"{current_app.config['RJ_PUBLIC_URL']}/i/{token_for(invitation)}"


def link_expires_at(invitation: Invitation, valid_days: int) -> dt.datetime | None:
    meeting = invitation.meeting
    if meeting.ends_at is None:
        return None
    return meeting.ends_at + dt.timedelta(days=valid_days)


def invitation_for_token(session: Session, token: str, at: dt.datetime) -> Invitation | None:
    """The live invitation a token opens, or None: unknown, malformed, expired, cancelled or withdrawn.

    Every None means the same to the caller, so a page never tells whether a meeting exists.
    """
    if not token or not TOKEN_PATTERN.match(token):
        return None
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None or invitation.status in CLOSED_STATUSES:
        return None
    if not hmac.compare_digest(token_for(invitation), token):
        return None
    from rj_scheduler.invitations.queries import settings_for

    expires = link_expires_at(invitation, settings_for(session, invitation.service_id).link_valid_days)
    if expires is None or at >= expires:
        return None
    return invitation
