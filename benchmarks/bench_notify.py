# ruff: noqa: S101, S608  (benchmarks assert their targets; the SQL has no outside input)
"""Messaging benchmarks (``make bench``): dispatcher throughput and claim speed over a million old messages.

The database is SQLite in a temporary folder, or the PostgreSQL database named
by ``RJ_BENCH_DATABASE_URL`` (it is emptied first). Figures go in
docs/benchmarks.md under "Messaging".
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, insert, select, text, update

from rj_scheduler import create_app
from rj_scheduler.auth.models import Service
from rj_scheduler.extensions import db
from rj_scheduler.notify.dispatcher import Dispatcher
from rj_scheduler.notify.models import OutboxMessage
from tests.notify.peers import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio, FakeTwilioBehaviour

THROUGHPUT_MESSAGES = 1000
OLD_MESSAGES = int(os.environ.get("RJ_BENCH_OLD_MESSAGES", "1000000"))
CLAIM_BATCH = 100


@pytest.fixture(scope="module")
def app() -> Iterator:
    url = os.environ.get("RJ_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="rj-bench-") as folder:
        if url:
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        else:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        os.environ.setdefault("RJ_ENV", "development")
        application = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "b" * 40, "TESTING": True})
        with application.app_context():
            from flask_migrate import upgrade

            upgrade()
            yield application
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def service_id(app) -> int:
    service = Service(name="Benchmark area", code=f"B{secrets.token_hex(2)}")
    db.session.add(service)
    db.session.commit()
    return service.id


@pytest.fixture(scope="module")
def slow_twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio(FakeTwilioBehaviour(delay=0.1))
    server.start()
    yield server
    server.stop()


def _config(app, twilio_url: str, **extra) -> dict:
    config = dict(app.config)
    config.update(
        {
            "RJ_SMS_BACKEND": "twilio",
            "RJ_EMAIL_BACKEND": "outbox",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_MESSAGING_SERVICE_SID": None,
            "TWILIO_API_BASE_URL": twilio_url,
            "RJ_QUIET_HOURS": "off",
            "RJ_SMS_MAX_PER_SECOND": 100,
            "RJ_DISPATCH_THREADS": 16,
        }
    )
    config.update(extra)
    return config


def _seed_pending(service_id: int, count: int, tag: str) -> None:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    rows = [
        {
            "public_id": secrets.token_hex(16),
            "service_id": service_id,
            "channel": "sms",
            "kind": "bench",
            "to_address": f"+447700900{i % 1000:03d}",
            "body_text": f"Benchmark message {i}",
            "idempotency_key": f"{tag}-{i}",
            "status": "pending",
            "due_at": at,
            "available_at": at,
            "attempts": 0,
            "created_at": at,
        }
        for i in range(count)
    ]
    db.session.execute(insert(OutboxMessage.__table__), rows)
    db.session.commit()


def test_one_dispatcher_sends_at_least_50_sms_per_second_against_a_100ms_twilio(
    benchmark, app, service_id, slow_twilio
):
    """1,000 SMS through one dispatcher; the mock Twilio takes 100 ms per request."""
    config = _config(app, slow_twilio.base_url)
    rates: list[float] = []

    def setup():
        db.session.execute(delete(OutboxMessage.__table__).where(OutboxMessage.kind == "bench"))
        db.session.commit()
        _seed_pending(service_id, THROUGHPUT_MESSAGES, secrets.token_hex(4))
        return (), {}

    def run():
        started = time.perf_counter()
        stats = Dispatcher(config, poll_interval=0.05).run(once=True)
        elapsed = time.perf_counter() - started
        assert stats.sent == THROUGHPUT_MESSAGES
        rates.append(THROUGHPUT_MESSAGES / elapsed)

    benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info["sms_per_second"] = [round(r, 1) for r in rates]
    benchmark.extra_info["database"] = db.engine.dialect.name
    assert min(rates) >= 50, f"one dispatcher reached only {min(rates):.1f} SMS/s"


def _bulk_old_messages(service_id: int, count: int) -> None:
    """A million delivered messages, written by the database itself (INSERT ... SELECT)."""
    dialect = db.engine.dialect.name
    columns = (
        "public_id, service_id, channel, kind, to_address, body_text, idempotency_key, status, "
        "due_at, available_at, attempts, created_at, sent_at, finished_at"
    )
    if dialect == "postgresql":
        at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        sql = text(
            f"INSERT INTO outbox_messages ({columns}) "
            "SELECT md5(g::text), :service, 'sms', 'old', '+447700900000', 'An old message', 'old-' || g, "
            "'delivered', :at, :at, 1, :at, :at, :at FROM generate_series(1, :count) AS g"
        )
    else:
        at = "2025-01-01 00:00:00.000000"
        sql = text(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :count) "
            f"INSERT INTO outbox_messages ({columns}) "
            "SELECT lower(hex(randomblob(16))), :service, 'sms', 'old', '+447700900000', 'An old message', "
            "'old-' || n, 'delivered', :at, :at, 1, :at, :at, :at FROM g"
        )
    db.session.execute(sql, {"service": service_id, "count": count, "at": at})
    db.session.commit()
    if dialect == "postgresql":
        db.session.execute(text("ANALYZE outbox_messages"))
        db.session.commit()
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def test_claiming_stays_fast_with_a_million_old_messages(benchmark, app, service_id):
    """Claim 100 due messages from a table holding a million delivered ones."""
    db.session.execute(delete(OutboxMessage.__table__).where(OutboxMessage.kind == "bench"))
    db.session.commit()
    started = time.perf_counter()
    if not db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "old")
    ):
        _bulk_old_messages(service_id, OLD_MESSAGES)
    build_seconds = time.perf_counter() - started
    _seed_pending(service_id, CLAIM_BATCH, "claim")
    dispatcher = Dispatcher(_config(app, "http://127.0.0.1:1"))

    def setup():
        db.session.execute(
            update(OutboxMessage.__table__)
            .where(OutboxMessage.kind == "bench")
            .values(status="pending", available_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        db.session.commit()
        return (), {}

    def claim():
        _token, ids = dispatcher.claim(CLAIM_BATCH)
        assert len(ids) == CLAIM_BATCH

    benchmark.pedantic(claim, setup=setup, rounds=20, iterations=1)
    total = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    benchmark.extra_info["messages_in_table"] = total
    benchmark.extra_info["bulk_insert_seconds"] = round(build_seconds, 1)
    benchmark.extra_info["database"] = db.engine.dialect.name
    assert total >= OLD_MESSAGES
    assert benchmark.stats.stats.median < 0.05, "claiming 100 messages should take well under 50 ms"
