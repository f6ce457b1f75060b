"""Password hashing (Argon2id) and NCSC-style password rules.

Length over complexity: at least 12 characters, no composition rules, and a
deny-list of common passwords (the 30,000 most common, shipped with zxcvbn).
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHasher()
# Verified against when the account does not exist, so an unknown address takes
# as long to refuse as a wrong password.
_DUMMY_HASH = _hasher.hash("this account does not exist")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; spends the same effort when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def _deny_list() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def password_problems(password: str, *, email: str = "", full_name: str = "") -> list[str]:
    """Plain-English reasons the password is refused; empty when it is acceptable."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Password must be {MIN_LENGTH} characters or more")
    elif len(password) > MAX_LENGTH:
        problems.append(f"Password must be {MAX_LENGTH} characters or fewer")
    lowered = password.lower()
    squashed = "".join(lowered.split())
    if lowered in _deny_list() or squashed in _deny_list() or len(set(lowered)) < 4:
        problems.append("Password is too common. Try three random words")
    local_part = email.split("@", 1)[0].lower()
    name_parts = [p for p in full_name.lower().split() if len(p) >= 3]
    if (local_part and len(local_part) >= 3 and local_part in lowered) or any(
        p in lowered for p in name_parts
    ):
        problems.append("Password must not contain your name or email address")
    return problems
