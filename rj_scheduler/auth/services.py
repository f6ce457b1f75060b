"""The rules of staff sign-in and accounts.

Plain functions taking the acting user, the objects and the clock; they flush,
never commit, and raise the refusals in ``auth.exceptions``. Every change and
every sign-in attempt records an audit entry; passwords and codes never reach
the audit log or the application log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyotp
from sqlalchemy.exc import IntegrityError

from rj_scheduler.audit import services as audit
from rj_scheduler.auth import queries
from rj_scheduler.auth.exceptions import (
    CodeRefused,
    PasswordRefused,
    SignInRefused,
    StaffChangeRefused,
)
from rj_scheduler.auth.models import LoginThrottle, Role, Service, User
from rj_scheduler.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from rj_scheduler.auth.sessions import end_all_sessions
from rj_scheduler.extensions import db

TOTP_ISSUER = "Restorative justice scheduler"
TOTP_STEP_SECONDS = 30
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CODE = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class SignInLimits:
    """How many failures lock an address, and for how long."""

    max_failures: int = 5
    lockout_minutes: int = 15

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SignInLimits:
        return cls(int(config["RJ_LOGIN_MAX_FAILURES"]), int(config["RJ_LOGIN_LOCKOUT_MINUTES"]))

    @property
    def lockout(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.lockout_minutes)


# ---------------------------------------------------------------- throttling


def _throttle_key(email: str) -> str:
    return hashlib.sha256(queries.normalise_email(email).encode()).hexdigest()


def _throttle(email: str) -> LoginThrottle:
    key = _throttle_key(email)
    row = queries.throttle_by_key(key)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = LoginThrottle(key_hash=key, failures=0)
            db.session.add(row)
    except IntegrityError:  # another request created it at the same moment
        row = queries.throttle_by_key(key)
        assert row is not None  # noqa: S101  (it exists: that is why the insert failed)
    return row


def is_locked(email: str, at: dt.datetime) -> bool:
    """An address is locked until its ``locked_until``, whether or not an account has it."""
    row = queries.throttle_by_key(_throttle_key(email))
    return row is not None and row.locked_until is not None and row.locked_until > at


def _register_failure(email: str, user: User | None, at: dt.datetime, limits: SignInLimits) -> bool:
    """Count a failed attempt within the lockout window; lock at the limit. True if now locked."""
    row = _throttle(email)
    window_over = row.first_failure_at is None or at - row.first_failure_at > limits.lockout
    lock_over = row.locked_until is not None and row.locked_until <= at
    if window_over or lock_over:
        row.failures, row.first_failure_at, row.locked_until = 0, at, None
    row.failures += 1
    if row.failures >= limits.max_failures:
        row.locked_until = at + limits.lockout
        audit.record(
            "account.locked",
            object_type="user" if user else None,
            object_id=user.public_id if user else None,
            service_id=user.service_id if user else None,
            outcome="refused",
            details={"failures": row.failures, "minutes": limits.lockout_minutes},
        )
    db.session.flush()
    return row.locked_until is not None


def _clear_failures(email: str) -> None:
    row = queries.throttle_by_key(_throttle_key(email))
    if row is not None:
        row.failures, row.first_failure_at, row.locked_until = 0, None, None


# ---------------------------------------------------------------- sign-in


def authenticate(email: str, password: str, at: dt.datetime, limits: SignInLimits) -> User:
    """Check an address and password: one refusal for unknown, wrong and deactivated alike.

    Every attempt verifies an Argon2 hash (a dummy one for an unknown address),
    so the answer takes as long whatever the reason. A locked address is refused
    even with the right password. Failures are counted per address; the count is
    cleared only by a complete sign-in (password and code, see ``verify_code``)
    so a known password does not buy unlimited code guesses.
    """
    user = queries.user_by_email(email)
    password_ok = verify_password(user.password_hash if user else None, password)
    if is_locked(email, at):
        audit.record(
            "account.sign_in_failed",
            object_type="user" if user else None,
            object_id=user.public_id if user else None,
            service_id=user.service_id if user else None,
            outcome="refused",
            details={"reason": "locked"},
        )
        raise SignInRefused(locked=True, lockout_minutes=limits.lockout_minutes)
    if user is None or not password_ok or not user.is_active_account:
        reason = (
            "unknown address" if user is None else ("wrong password" if not password_ok else "deactivated")
        )
        audit.record(
            "account.sign_in_failed",
            object_type="user" if user else None,
            object_id=user.public_id if user else None,
            service_id=user.service_id if user else None,
            outcome="refused",
            details={"reason": reason},
        )
        locked = _register_failure(email, user, at, limits)
        raise SignInRefused(locked=locked, lockout_minutes=limits.lockout_minutes)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(
        "account.password_accepted",
        object_type="user",
        object_id=user.public_id,
        service_id=user.service_id,
        actor_user_id=user.id,
    )
    return user


# ---------------------------------------------------------------- two-factor


def start_two_factor_enrolment(user: User) -> str:
    """Give an unenrolled user a secret to enrol (kept until confirmed); return it."""
    if user.two_factor_enrolled:
        raise CodeRefused()
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_timestep = None
        db.session.flush()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    if not user.totp_secret:
        raise CodeRefused()
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def _matching_step(user: User, code: str, at: dt.datetime) -> int | None:
    """The time step (now, or one either side) whose code matches and is newer than the last used."""
    if not user.totp_secret or not _CODE.match(code):
        return None
    totp = pyotp.TOTP(user.totp_secret)
    current = int(at.timestamp()) // TOTP_STEP_SECONDS
    last = user.totp_last_timestep if user.totp_last_timestep is not None else -1
    for step in (current - 1, current, current + 1):
        if step > last and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_code(user: User, code: str, at: dt.datetime, limits: SignInLimits) -> None:
    """Accept a code from the user's authenticator app, each code once only.

    Only the current 30-second step and one either side are accepted, and only a
    step later than the last one accepted, so a seen code cannot be replayed. A
    first code confirms enrolment. Wrong codes count towards the address's
    lock-out like wrong passwords; a correct code completes the sign-in and
    clears the count.
    """
    normalised = "".join((code or "").split()).replace("-", "")
    if is_locked(user.email, at):
        audit.record(
            "account.two_factor_failed",
            object_type="user",
            object_id=user.public_id,
            service_id=user.service_id,
            actor_user_id=user.id,
            outcome="refused",
            details={"reason": "locked"},
        )
        raise CodeRefused(locked=True, lockout_minutes=limits.lockout_minutes)
    step = _matching_step(user, normalised, at) if user.is_active_account else None
    if step is None:
        audit.record(
            "account.two_factor_failed",
            object_type="user",
            object_id=user.public_id,
            service_id=user.service_id,
            actor_user_id=user.id,
            outcome="refused",
        )
        locked = _register_failure(user.email, user, at, limits)
        raise CodeRefused(locked=locked, lockout_minutes=limits.lockout_minutes)
    user.totp_last_timestep = step
    if not user.two_factor_enrolled:
        user.totp_enrolled_at = at
        audit.record(
            "account.two_factor_enrolled",
            object_type="user",
            object_id=user.public_id,
            service_id=user.service_id,
            actor_user_id=user.id,
        )
    _clear_failures(user.email)
    db.session.flush()


def record_signed_in(user: User) -> None:
    """Audit a completed sign-in (the view starts the server-side session)."""
    audit.record(
        "account.signed_in",
        object_type="user",
        object_id=user.public_id,
        service_id=user.service_id,
        actor_user_id=user.id,
    )


def record_signed_out(user: User) -> None:
    audit.record(
        "account.signed_out",
        object_type="user",
        object_id=user.public_id,
        service_id=user.service_id,
        actor_user_id=user.id,
    )


# ---------------------------------------------------------------- passwords


def _new_password_problems(
    user: User, new_password: str, field: str = "new_password"
) -> dict[str, list[str]]:
    problems = password_problems(new_password, email=user.email, full_name=user.full_name)
    if not problems and verify_password(user.password_hash, new_password):
        problems = ["Your new password must be different from your current password"]
    return {field: problems} if problems else {}


def _set_password(user: User, new_password: str, at: dt.datetime, reason: str) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = at
    user.must_change_password = False
    end_all_sessions(db.session, user, reason)
    db.session.flush()


def change_password(user: User, current_password: str, new_password: str, at: dt.datetime) -> None:
    """Change one's own password: the current one is required, the rules apply, every session ends.

    The view starts a fresh session for the browser that made the change; every
    other session (and any copy of the old cookie) stops working.
    """
    problems: dict[str, list[str]] = {}
    if not verify_password(user.password_hash, current_password or ""):
        problems["current_password"] = ["Your current password is not correct"]
    else:
        problems.update(_new_password_problems(user, new_password or ""))
    if problems:
        audit.record(
            "account.password_change_refused",
            object_type="user",
            object_id=user.public_id,
            service_id=user.service_id,
            outcome="refused",
        )
        raise PasswordRefused(problems)
    _set_password(user, new_password, at, "password changed")
    audit.record(
        "account.password_changed", object_type="user", object_id=user.public_id, service_id=user.service_id
    )


def replace_temporary_password(user: User, new_password: str, at: dt.datetime) -> None:
    """At first sign-in, replace the password a manager chose (password and code already proven)."""
    if not user.must_change_password:
        raise PasswordRefused({"new_password": ["Your password does not need to be changed"]})
    problems = _new_password_problems(user, new_password or "")
    if problems:
        raise PasswordRefused(problems)
    _set_password(user, new_password, at, "password changed")
    audit.record(
        "account.password_changed",
        object_type="user",
        object_id=user.public_id,
        service_id=user.service_id,
        actor_user_id=user.id,
        details={"replaced_temporary_password": True},
    )


# ---------------------------------------------------------------- staff management


def _check_name(full_name: str) -> dict[str, list[str]]:
    name = (full_name or "").strip()
    if not name:
        return {"full_name": ["Enter their full name"]}
    if len(name) > 200:
        return {"full_name": ["Full name must be 200 characters or fewer"]}
    return {}


def _check_role(role: str) -> dict[str, list[str]]:
    return {} if role in {r.value for r in Role} else {"role": ["Select a role"]}


def create_staff(
    service: Service,
    *,
    email: str,
    full_name: str,
    role: str,
    trained_for_sensitive_cases: bool,
    password: str,
    temporary: bool,
    by: User | None,
) -> User:
    """Add a member of staff to ``service``.

    The email address must be new; the password rules apply. A ``temporary``
    password (one a manager chose) must be replaced at the user's first sign-in.
    ``by`` is the manager acting (None from the command line), who must belong to
    the same service.
    """
    if by is not None and (by.service_id != service.id or not by.is_manager):
        raise StaffChangeRefused({"role": ["Only a manager of this service can add its staff"]})
    address = queries.normalise_email(email)
    problems: dict[str, list[str]] = {}
    if not _EMAIL.match(address) or len(address) > 320:
        problems["email"] = ["Enter an email address in the correct format, like name@example.org"]
    elif queries.user_by_email(address) is not None:
        problems["email"] = ["This email address is already in use"]
    problems.update(_check_name(full_name))
    problems.update(_check_role(role))
    rules = password_problems(password or "", email=address, full_name=full_name or "")
    if rules:
        problems["password"] = rules
    if problems:
        raise StaffChangeRefused(problems)
    user = User(
        service_id=service.id,
        email=address,
        full_name=full_name.strip(),
        role=role,
        trained_for_sensitive_cases=bool(trained_for_sensitive_cases),
        password_hash=hash_password(password),
        must_change_password=temporary,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as error:  # the same address added at the same moment
        raise StaffChangeRefused({"email": ["This email address is already in use"]}) from error
    audit.record(
        "staff.created",
        object_type="user",
        object_id=user.public_id,
        service_id=service.id,
        details={"role": role, "trained_for_sensitive_cases": user.trained_for_sensitive_cases},
    )
    return user


def _require_same_service_manager(by: User, user: User) -> None:
    if not by.is_manager or by.service_id != user.service_id:
        raise StaffChangeRefused({"role": ["Only a manager of this service can change its staff"]})


def edit_staff(by: User, user: User, *, full_name: str, role: str, trained_for_sensitive_cases: bool) -> None:
    """Change a member of staff's name, role and training. A manager cannot change their own role."""
    _require_same_service_manager(by, user)
    problems = _check_name(full_name) | _check_role(role)
    if not problems and user.id == by.id and role != user.role:
        problems["role"] = ["You cannot change your own role. Ask another manager"]
    if problems:
        raise StaffChangeRefused(problems)
    changes: dict[str, Any] = {}
    if full_name.strip() != user.full_name:
        changes["full_name"] = "changed"
        user.full_name = full_name.strip()
    if role != user.role:
        changes["role"] = {"from": user.role, "to": role}
        user.role = role
    if bool(trained_for_sensitive_cases) != user.trained_for_sensitive_cases:
        changes["trained_for_sensitive_cases"] = bool(trained_for_sensitive_cases)
        user.trained_for_sensitive_cases = bool(trained_for_sensitive_cases)
    db.session.flush()
    audit.record(
        "staff.updated",
        object_type="user",
        object_id=user.public_id,
        service_id=user.service_id,
        details={"changes": changes},
    )


def deactivate_staff(by: User, user: User, at: dt.datetime) -> None:
    """Stop a member of staff signing in and end all their sessions. Nobody deactivates themselves."""
    _require_same_service_manager(by, user)
    if user.id == by.id:
        raise StaffChangeRefused({"confirm": ["You cannot deactivate your own account"]})
    if not user.is_active_account:
        raise StaffChangeRefused({"confirm": ["This account is already deactivated"]})
    user.is_active_account = False
    user.deactivated_at = at
    end_all_sessions(db.session, user, "deactivated")
    db.session.flush()
    audit.record(
        "staff.deactivated", object_type="user", object_id=user.public_id, service_id=user.service_id
    )


def reactivate_staff(by: User, user: User) -> None:
    """Let a deactivated member of staff sign in again."""
    _require_same_service_manager(by, user)
    if user.is_active_account:
        raise StaffChangeRefused({"confirm": ["This account is already active"]})
    user.is_active_account = True
    user.deactivated_at = None
    db.session.flush()
    audit.record(
        "staff.reactivated", object_type="user", object_id=user.public_id, service_id=user.service_id
    )


def reset_two_factor(by: User, user: User) -> None:
    """Clear a member of staff's two-factor secret and end their sessions: they enrol again at sign-in."""
    _require_same_service_manager(by, user)
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_timestep = None
    end_all_sessions(db.session, user, "two-factor reset")
    db.session.flush()
    audit.record(
        "staff.two_factor_reset", object_type="user", object_id=user.public_id, service_id=user.service_id
    )


def find_or_create_service(code: str, name: str | None) -> Service:
    """The service with ``code``; created with ``name`` if given, else refused."""
    service = queries.service_by_code(code)
    if service is not None:
        return service
    clean_code = code.strip().upper()
    if not name or not name.strip():
        raise StaffChangeRefused(
            {"service_code": [f"No service has the code {clean_code}. Give a service name to create it"]}
        )
    if not re.fullmatch(r"[A-Z0-9]{1,10}", clean_code):
        raise StaffChangeRefused({"service_code": ["A service code is 1 to 10 letters or digits"]})
    service = Service(code=clean_code, name=name.strip()[:200])
    db.session.add(service)
    db.session.flush()
    audit.record("service.created", object_type="service", object_id=service.public_id, service_id=service.id)
    return service
