"""Personal calendar feeds: a secret, revocable address per staff member serving their meetings as iCalendar.

Outlook or Google subscribe to the address and fetch it without signing in, so
the token is the only key: it is shown once, only its SHA-256 hash is stored,
and a new one revokes the old. The feed leaves the building: each event says
the case reference, the kind of meeting, its times and the venue, and never a
participant's name or contact details (DOMAIN rule 4), nor the offence.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence

from icalendar import Calendar, Event
from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from rj_scheduler.auth.models import User
from rj_scheduler.conferences.models import AttendeeRole, Meeting, MeetingAttendee, MeetingStatus
from rj_scheduler.db import Base, now
from rj_scheduler.extensions import db
from rj_scheduler.templating import LONDON

# Meetings from this long ago stay in the feed, so a calendar keeps the recent past.
FEED_PAST = dt.timedelta(days=30)
PRODUCT_ID = "-//rj_scheduler//Staff calendar feed//EN"


class CalendarFeed(Base):
    """A staff member's calendar subscription: the hash of its secret token, and when it was revoked."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (Index("ix_calendar_feeds_user_revoked", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed(session: Session, user: User) -> CalendarFeed | None:
    return session.scalar(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
    )


def revoke_feed(user: User, *, at: dt.datetime) -> bool:
    """Revoke the user's subscription address (True if there was one): it answers 404 from now on."""
    feed = active_feed(db.session, user)
    if feed is None:
        return False
    feed.revoked_at = at
    db.session.flush()
    return True


def create_feed(user: User, *, at: dt.datetime) -> tuple[CalendarFeed, str]:
    """A new secret subscription address for ``user`` (the old one, if any, stops working).

    Returns the feed and the token; the token is not stored and cannot be shown again.
    """
    revoke_feed(user, at=at)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(
        service_id=user.service_id, user_id=user.id, token_hash=token_hash(token), created_at=at
    )
    db.session.add(feed)
    db.session.flush()
    return feed, token


def feed_for_token(session: Session, token: str) -> CalendarFeed | None:
    """The live feed a token opens, or None (wrong, revoked, or its owner no longer active)."""
    if not token or len(token) > 100:
        return None
    feed = session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    if feed is None or not feed.user.is_active_account:
        return None
    return feed


def facilitated_meetings(
    session: Session,
    user: User,
    starts: dt.datetime,
    ends: dt.datetime,
    *,
    statuses: Sequence[str] | None = None,
) -> Sequence[Meeting]:
    """Meetings ``user`` leads or co-facilitates that start in [starts, ends), earliest first (venue loaded)."""
    query = (
        select(Meeting)
        .join(MeetingAttendee, MeetingAttendee.meeting_id == Meeting.id)
        .where(
            Meeting.service_id == user.service_id,
            MeetingAttendee.user_id == user.id,
            MeetingAttendee.role.in_(
                [AttendeeRole.LEAD_FACILITATOR.value, AttendeeRole.CO_FACILITATOR.value]
            ),
            Meeting.starts_at >= starts,
            Meeting.starts_at < ends,
        )
        .options(selectinload(Meeting.venue), selectinload(Meeting.room), selectinload(Meeting.case))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if statuses is not None:
        query = query.where(Meeting.status.in_(list(statuses)))
    return session.scalars(query).all()


def feed_meetings(session: Session, user: User, at: dt.datetime) -> Sequence[Meeting]:
    """What the feed carries: the user's meetings from ``FEED_PAST`` ago onwards, cancelled ones included
    (marked cancelled, so a subscribed calendar removes them instead of keeping a stale copy)."""
    return facilitated_meetings(session, user, at - FEED_PAST, dt.datetime.max.replace(tzinfo=dt.UTC))


def _summary(meeting: Meeting) -> str:
    return f"{meeting.case.reference}: {meeting.title}"


def _location(meeting: Meeting) -> str:
    if meeting.venue is not None:
        room = f", {meeting.room.name}" if meeting.room is not None else ""
        return f"{meeting.venue.name}{room}"
    if meeting.format == "video":
        return "Video meeting"
    return ""


def build_feed(user: User, meetings: Sequence[Meeting], at: dt.datetime, host: str) -> bytes:
    """The iCalendar document of ``meetings``: one event per meeting with a stable UID (its public id),
    its SEQUENCE, times in Europe/London with the VTIMEZONE, the case reference and the kind of meeting
    as the title and the venue as the place. Nothing about the participants goes in."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "RJ meetings")
    calendar.add("x-wr-timezone", "Europe/London")
    for meeting in meetings:
        if meeting.starts_at is None or meeting.ends_at is None:
            continue
        event = Event()
        event.add("uid", f"{meeting.public_id}@{host}")
        event.add("sequence", meeting.sequence)
        event.add("dtstamp", at.astimezone(dt.UTC))
        event.add("last-modified", meeting.updated_at.astimezone(dt.UTC))
        event.add("dtstart", meeting.starts_at.astimezone(LONDON))
        event.add("dtend", meeting.ends_at.astimezone(LONDON))
        event.add("summary", _summary(meeting))
        location = _location(meeting)
        if location:
            event.add("location", location)
        cancelled = meeting.status in (MeetingStatus.CANCELLED.value, MeetingStatus.POSTPONED.value)
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
