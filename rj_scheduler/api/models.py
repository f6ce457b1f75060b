"""Partner API keys and the idempotency records of the referral API.

An API key belongs to one service and files referrals as one referral source.
Only a SHA-256 hash of its secret is stored; the full key is shown once, when
a manager creates it. An idempotency record is written first in the same
transaction as the referral it answers, so the unique (api key, key) pair
stops two concurrent retries from creating two cases.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj_scheduler.auth.models import Service, User
from rj_scheduler.cases.models import ReferralSource
from rj_scheduler.db import Base, now, public_id

# A partner system files as one of these sources; a self-referral never comes through the API.
API_SOURCES = tuple(s.value for s in ReferralSource if s is not ReferralSource.SELF_REFERRAL)


class ApiKey(Base):
    """A partner system's key: ``rjk_<prefix>_<secret>``, of which only the prefix and a hash are kept."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(f"source IN {API_SOURCES!r}", name="source_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    partner_name: Mapped[str] = mapped_column(String(200))
    # The referral source every referral sent with this key is filed as.
    source: Mapped[str] = mapped_column(String(40))
    # Shown to identify the key (in lists and audit entries); not a secret.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    service: Mapped[Service] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def source_label(self) -> str:
        return ReferralSource.label_of(self.source)


class IdempotencyRecord(Base):
    """The first answer to a request with a given ``Idempotency-Key``, replayed to any retry."""

    __tablename__ = "api_idempotency_records"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the request body in canonical JSON: a reused key with another body is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    # Empty only inside the transaction that is still answering the request.
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    response_location: Mapped[str | None] = mapped_column(String(500))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    api_key: Mapped[ApiKey] = relationship()
