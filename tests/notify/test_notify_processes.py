"""Real dispatcher processes against a committed database: crashes lose nothing, claims never overlap."""

from __future__ import annotations

import collections
import signal
import time

import pytest
from sqlalchemy import create_engine, func, select

from rj_scheduler.notify.models import OutboxMessage
from tests.notify.peers import FakeTwilio, FakeTwilioBehaviour
from tests.notify.process_db import (
    committed_database,
    dispatcher_env,
    seed_sms,
    start_dispatcher,
    stop,
)

pytestmark = pytest.mark.no_db_isolation


@pytest.fixture
def database():
    with committed_database() as url:
        engine = create_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()


@pytest.fixture
def slow_twilio():
    server = FakeTwilio(FakeTwilioBehaviour(delay=0.05))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _statuses(engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return dict(rows)


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_a_dispatcher_killed_mid_batch_loses_nothing(database, slow_twilio):
    url, engine = database
    bodies = seed_sms(engine, 200)
    env = dispatcher_env(url, slow_twilio.base_url, RJ_DISPATCH_LEASE_SECONDS="2")
    first = start_dispatcher(env)
    try:
        _wait_for(lambda: len(slow_twilio.requests) >= 40)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    statuses = _statuses(engine)
    assert statuses.get("sent", 0) < 200
    assert statuses.get("sending", 0) > 0, "the kill should leave claimed messages behind"
    time.sleep(2.5)  # the lease expires
    second = start_dispatcher(env, "--once")
    try:
        assert second.wait(timeout=120) == 0, second.stderr.read().decode()
    finally:
        stop(second)
    assert _statuses(engine) == {"sent": 200}
    counts = collections.Counter(slow_twilio.bodies())
    assert set(counts) == set(bodies)
    # Only messages in flight at the moment of the kill may have gone twice.
    assert sum(n - 1 for n in counts.values()) <= 16


def test_sigterm_finishes_the_messages_in_hand_then_exits(database, slow_twilio):
    url, engine = database
    seed_sms(engine, 400)
    process = start_dispatcher(dispatcher_env(url, slow_twilio.base_url))
    try:
        _wait_for(lambda: len(slow_twilio.requests) >= 20)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        stop(process)
    statuses = _statuses(engine)
    assert statuses.get("sending", 0) == 0, "nothing is left held after a clean stop"
    assert statuses.get("sent", 0) == len(slow_twilio.requests)
    assert statuses.get("sent", 0) < 400


@pytest.mark.postgres_only  # SQLite counterpart: test_on_sqlite_a_second_dispatcher_refuses_to_start...
def test_two_dispatchers_on_postgresql_send_each_message_exactly_once(database, fake_twilio):
    url, engine = database
    bodies = seed_sms(engine, 2000)
    env = dispatcher_env(url, fake_twilio.base_url)
    processes = [start_dispatcher(env, "--once") for _ in range(2)]
    try:
        for process in processes:
            assert process.wait(timeout=240) == 0, process.stderr.read().decode()
    finally:
        for process in processes:
            stop(process)
    counts = collections.Counter(fake_twilio.bodies())
    assert len(counts) == 2000
    assert set(counts) == set(bodies)
    assert max(counts.values()) == 1
    assert _statuses(engine) == {"sent": 2000}
    with engine.connect() as conn:
        by_dispatcher = dict(
            conn.execute(
                select(OutboxMessage.claimed_by, func.count()).group_by(OutboxMessage.claimed_by)
            ).all()
        )
    assert len(by_dispatcher) == 2, "both dispatchers took part"


@pytest.mark.sqlite_only  # PostgreSQL counterpart: test_two_dispatchers_on_postgresql_send_each_...
def test_on_sqlite_a_second_dispatcher_refuses_to_start_and_one_sends_each_message_once(
    database, fake_twilio
):
    url, engine = database
    bodies = seed_sms(engine, 1000)
    env = dispatcher_env(url, fake_twilio.base_url)
    fake_twilio.behaviour = FakeTwilioBehaviour(delay=0.01)
    first = start_dispatcher(env, "--once")
    try:
        _wait_for(lambda: len(fake_twilio.requests) >= 1)
        second = start_dispatcher(env, "--once")
        try:
            assert second.wait(timeout=60) == 1
            assert b"one dispatcher runs at a time" in second.stderr.read()
        finally:
            stop(second)
        assert first.wait(timeout=240) == 0, first.stderr.read().decode()
    finally:
        stop(first)
    counts = collections.Counter(fake_twilio.bodies())
    assert set(counts) == set(bodies)
    assert max(counts.values()) == 1
    assert _statuses(engine) == {"sent": 1000}
