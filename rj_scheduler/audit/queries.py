"""Named reads of the audit log for the manager's viewer.

Every read here is scoped to one service: a manager sees their own service's
chain and nothing else. Pages are found by sequence number (keyset paging), so
a page costs the same few queries whether the log holds a hundred entries or
millions, and the actor comes in the same query as the entries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session, joinedload

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.auth.models import User

LONDON = ZoneInfo("Europe/London")
PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    """What a manager narrowed the log to; every field is optional."""

    action: str | None = None
    actor_user_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    date_from: dt.date | None = None  # a day in Europe/London, inclusive
    date_to: dt.date | None = None  # a day in Europe/London, inclusive


@dataclass(frozen=True)
class AuditPage:
    """One page of entries, newest first, and the cursors to the pages either side."""

    entries: list[AuditEntry]
    newer_than: int | None  # pass as ``after`` for the page of newer entries
    older_than: int | None  # pass as ``before`` for the page of older entries


def _london_midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=LONDON).astimezone(dt.UTC)


def _like_prefix(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + ".%"


def _conditions(service_id: int, filters: AuditFilters) -> list[ColumnElement[bool]]:
    # chain_id is the service's own chain (and carries the (chain_id, seq) index);
    # service_id is checked too so no entry of another service can slip in.
    conditions: list[ColumnElement[bool]] = [
        AuditEntry.chain_id == service_id,
        AuditEntry.service_id == service_id,
    ]
    if filters.action:
        # "case" finds "case" and every "case.*" action.
        conditions.append(
            or_(
                AuditEntry.action == filters.action,
                AuditEntry.action.like(_like_prefix(filters.action), escape="\\"),
            )
        )
    if filters.actor_user_id is not None:
        conditions.append(AuditEntry.actor_user_id == filters.actor_user_id)
    if filters.object_type:
        conditions.append(AuditEntry.object_type == filters.object_type)
    if filters.object_id:
        conditions.append(AuditEntry.object_id == filters.object_id)
    if filters.date_from:
        conditions.append(AuditEntry.created_at >= _london_midnight_utc(filters.date_from))
    if filters.date_to:
        conditions.append(
            AuditEntry.created_at < _london_midnight_utc(filters.date_to + dt.timedelta(days=1))
        )
    return conditions


def service_audit_page(
    session: Session,
    service_id: int,
    filters: AuditFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    page_size: int = PAGE_SIZE,
) -> AuditPage:
    """A page of one service's entries, newest first, with their actors loaded.

    ``before`` gives the page of entries older than that sequence number;
    ``after`` the page of entries newer than it. Two queries, whatever the size.
    """
    conditions = _conditions(service_id, filters)
    stmt = select(AuditEntry).options(joinedload(AuditEntry.actor)).where(*conditions).limit(page_size + 1)
    if after is not None:
        rows = list(session.scalars(stmt.where(AuditEntry.seq > after).order_by(AuditEntry.seq.asc())))
        more_newer = len(rows) > page_size
        entries = list(reversed(rows[:page_size]))
        more_older = bool(entries) and bool(
            session.scalar(select(exists().where(and_(*conditions, AuditEntry.seq < entries[-1].seq))))
        )
    else:
        if before is not None:
            stmt = stmt.where(AuditEntry.seq < before)
        rows = list(session.scalars(stmt.order_by(AuditEntry.seq.desc())))
        more_older = len(rows) > page_size
        entries = rows[:page_size]
        more_newer = (
            before is not None
            and bool(entries)
            and bool(
                session.scalar(select(exists().where(and_(*conditions, AuditEntry.seq > entries[0].seq))))
            )
        )
    return AuditPage(
        entries=entries,
        newer_than=entries[0].seq if entries and more_newer else None,
        older_than=entries[-1].seq if entries and more_older else None,
    )


def service_staff(session: Session, service_id: int) -> list[User]:
    """Everyone who is or was a member of staff of the service, by name (for the filter)."""
    return list(session.scalars(select(User).where(User.service_id == service_id).order_by(User.full_name)))
