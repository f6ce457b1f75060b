"""Services, staff users, server-side staff sessions and sign-in throttles."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj_scheduler.db import Base, now, public_id


class Role(enum.StrEnum):
    """A staff member's role. A manager has every right a supervisor has."""

    FACILITATOR = "facilitator"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"

    @property
    def label(self) -> str:
        return self.value.capitalize()


ROLE_VALUES = tuple(r.value for r in Role)


class Service(Base):
    """One PCC area's restorative justice team. Staff see only their own service's data."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    name: Mapped[str] = mapped_column(String(200))
    # Short code used in case references, e.g. "VF" in VF-2026-00042.
    code: Mapped[str] = mapped_column(String(10), unique=True)
    phone_number: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    users: Mapped[list[User]] = relationship(back_populates="service")


class User(Base):
    """A member of staff: facilitator, supervisor or manager of one service."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLE_VALUES!r}", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # Trained to facilitate sensitive cases (domestic abuse, sexual offences,
    # hate crime, under-18s): DOMAIN.md rule 3.
    trained_for_sensitive_cases: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str] = mapped_column(Text)
    password_changed_at: Mapped[dt.datetime] = mapped_column(default=now)
    # Set when a manager chose the password: the user replaces it at next sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[dt.datetime | None]
    # The last TOTP time step accepted: a code is accepted once only.
    totp_last_timestep: Mapped[int | None]
    is_active_account: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    service: Mapped[Service] = relationship(back_populates="users")

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.public_id

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.MANAGER)

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def two_factor_enrolled(self) -> bool:
        return self.totp_enrolled_at is not None


class StaffSession(Base):
    """A signed-in staff session held on the server, so that it can be ended.

    The browser's cookie carries a random token; only its hash is stored. Logout,
    deactivation, a password change or inactivity ends the session, and a copied
    cookie then stops working.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=now)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(40))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


Index("ix_staff_sessions_open", StaffSession.user_id, StaffSession.ended_at)


class LoginThrottle(Base):
    """Failed sign-in attempts per email address, known or not.

    Keyed by a hash of the normalised address so unknown and known addresses are
    throttled and locked alike, and the table does not list who tried.
    """

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]
