"""Concurrent retries of one referral, in real threads on a committed database, make one case.

These requests commit for real (no rolled-back test transaction), each in its
own session and connection as on a real server, and the test removes what
they wrote.
"""

from __future__ import annotations

import secrets
import threading

import pytest
from sqlalchemy import delete, func, select

from rj_scheduler.api.models import IdempotencyRecord
from rj_scheduler.auth.models import Service
from rj_scheduler.cases.models import Case, ContactWindow, Party
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from tests.api.api_helpers import make_api_key, post_referral, referral_body

REQUESTS = 6


@pytest.fixture
def committed_key(app):
    """A service and a live key, committed; everything written under the service is removed afterwards."""
    with app.app_context():
        service = Service(name="Idempotency race area", code=f"R{secrets.token_hex(3)}")
        db.session.add(service)
        db.session.flush()
        key, full_key = make_api_key(service)
        # Recently used, so no request updates (and locks) the key's row: the requests meet at the
        # idempotency record's unique constraint instead.
        key.last_used_at = now()
        db.session.commit()
        service_id = service.id
    yield service_id, full_key
    with app.app_context():
        party_ids = select(Party.id).where(Party.service_id == service_id)
        db.session.execute(delete(ContactWindow).where(ContactWindow.party_id.in_(party_ids)))
        for table in reversed(db.metadata.sorted_tables):
            if "service_id" in table.c:
                db.session.execute(delete(table).where(table.c.service_id == service_id))
        db.session.execute(delete(Service).where(Service.id == service_id))
        db.session.commit()


@pytest.mark.no_db_isolation
def test_concurrent_requests_with_one_idempotency_key_make_one_case(app, committed_key):
    service_id, full_key = committed_key
    start = threading.Barrier(REQUESTS)
    answers: list[tuple[int, dict, str | None]] = []
    failures: list[BaseException] = []

    def send() -> None:
        try:
            client = app.test_client()
            start.wait(timeout=30)
            response = post_referral(client, full_key, referral_body(), idempotency_key="race-1")
            answers.append(
                (response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed"))
            )
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=send) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert len(answers) == REQUESTS
    assert {status for status, _body, _replayed in answers} == {201}, answers
    assert len({body["reference"] for _status, body, _replayed in answers}) == 1
    # One request made the case; every other one was answered with its stored result.
    assert sorted(replayed or "" for _status, _body, replayed in answers) == [""] + ["true"] * (REQUESTS - 1)
    with app.app_context():
        assert db.session.scalar(select(func.count(Case.id)).where(Case.service_id == service_id)) == 1
        assert (
            db.session.scalar(
                select(func.count(IdempotencyRecord.id)).where(IdempotencyRecord.service_id == service_id)
            )
            == 1
        )
