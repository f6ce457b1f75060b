"""Auth test fixtures: make each test request behave as it would on a real server.

Two differences between the root conftest and a real server matter here, so
every request a test makes starts with both put right:

- The root conftest keeps one app context pushed for the whole test, and Flask
  reuses it for each request, so ``g`` (and Flask-Login's cached user in it)
  would carry from one request to the next. A real server gives each request
  its own ``g``; these tests check what the session loader decides each time.
- Data a test sets up is only flushed, so a refused request (status 400 or
  more, which the unit of work rolls back) would roll back the test's users
  too. On a real server they were committed long before; commit them first
  (inside the test's own transaction, which is still rolled back at the end).
"""

from __future__ import annotations

import pytest
from flask import g, request_started

from rj_scheduler.extensions import db


def _like_a_real_request(sender, **extra) -> None:
    g.pop("_login_user", None)
    db.session.commit()


@pytest.fixture(autouse=True)
def real_request_boundaries():
    request_started.connect(_like_a_real_request)
    yield
    request_started.disconnect(_like_a_real_request)
