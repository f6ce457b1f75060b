"""Auth test fixtures.

The root conftest keeps one app context pushed for a whole test, and Flask
reuses it for every request the test makes, so ``g`` (and Flask-Login's cached
user in it) would carry from one request to the next. A real server gives each
request its own ``g``; these tests need that, because they check what the
session loader decides on each request.
"""

from __future__ import annotations

import pytest
from flask import g, request_started


def _forget_cached_user(sender, **extra) -> None:
    g.pop("_login_user", None)


@pytest.fixture(autouse=True)
def fresh_user_per_request():
    request_started.connect(_forget_cached_user)
    yield
    request_started.disconnect(_forget_cached_user)
