"""Cases test fixtures: each test request starts as it would on a real server.

The root conftest keeps one app context (and so one ``g``) for the whole test,
and data set up by factories is only flushed, so a refused request (rolled
back by the unit of work) would roll the set-up back too. Before each request
we commit what the test set up (inside the test's own transaction, still
rolled back at the end) with its audit entries, and forget the cached user.
"""

from __future__ import annotations

import pytest
from flask import g, request_started

from rj_scheduler.unit_of_work import commit_unit_of_work


def _like_a_real_request(sender, **extra) -> None:
    g.pop("_login_user", None)
    commit_unit_of_work()


@pytest.fixture(autouse=True)
def real_request_boundaries():
    request_started.connect(_like_a_real_request)
    yield
    request_started.disconnect(_like_a_real_request)
