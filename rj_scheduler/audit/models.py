"""The audit entry: one row per read or change, chained by hashes per service."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj_scheduler.db import Base, now

if TYPE_CHECKING:
    from rj_scheduler.auth.models import User


class AuditEntry(Base):
    """Who did what to which object, when, from where, in which request.

    Entries form one hash chain per service (chain 0 holds entries with no
    service, such as a failed sign-in for an unknown address): each entry's hash
    covers its fields and the previous entry's hash, and ``(chain_id, seq)`` is
    unique, so a changed, inserted or deleted row breaks the chain.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("chain_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int]
    seq: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=now, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(80))
    object_id: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    ip_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    # Loaded with the entry by the viewer's query; a lazy load would be one query per row.
    actor: Mapped[User | None] = relationship(lazy="raise_on_sql", viewonly=True)
