"""A separate, committed database for tests that run real dispatcher processes, dropped afterwards.

SQLite: a fresh file. PostgreSQL (when RJ_TEST_DATABASE_URL names one): a fresh
database on the same server. Both are built by ``flask db upgrade``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine

from rj_scheduler.auth.models import Service
from rj_scheduler.notify.models import OutboxMessage
from tests.notify.peers import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, ROOT

FLASK = [str(Path(sys.executable).parent / "flask"), "--app", "rj_scheduler"]


def is_postgres() -> bool:
    return (os.environ.get("RJ_TEST_DATABASE_URL") or "").startswith("postgres")


def _pg_url(database: str) -> str:
    base = os.environ["RJ_TEST_DATABASE_URL"]
    base = "postgresql+psycopg://" + base.split("://", 1)[1]
    return base.rsplit("/", 1)[0] + "/" + database


@contextlib.contextmanager
def committed_database() -> Iterator[str]:
    """The SQLAlchemy URL of a new, migrated, empty database."""
    if is_postgres():
        name = f"rj_notify_proc_{os.getpid()}_{secrets.token_hex(3)}"
        admin = create_engine(_pg_url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = _pg_url(name)
        try:
            _upgrade(url)
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        return
    with tempfile.TemporaryDirectory(prefix="rj-notify-proc-") as folder:
        url = f"sqlite:///{folder}/dispatch.sqlite3"
        _upgrade(url)
        yield url


def dispatcher_env(url: str, twilio_base_url: str, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "RJ_ENV": "development",
        "SECRET_KEY": "process-test-secret-key-long-enough-0123456789",
        "DATABASE_URL": url,
        "RJ_SMS_BACKEND": "twilio",
        "RJ_EMAIL_BACKEND": "outbox",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": twilio_base_url,
        "RJ_QUIET_HOURS": "off",
        "RJ_SMS_MAX_PER_SECOND": "1000",
        "RJ_DISPATCH_THREADS": "8",
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


def _upgrade(url: str) -> None:
    env = dispatcher_env(url, "http://127.0.0.1:1")
    subprocess.run([*FLASK, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)


def seed_sms(engine: Engine, count: int, *, prefix: str = "msg") -> list[str]:
    """``count`` due SMS with distinct bodies, committed; returns the bodies."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    with engine.begin() as conn:
        service_id = conn.execute(
            insert(Service.__table__).values(
                public_id=secrets.token_hex(16),
                name="Process test",
                code=f"P{secrets.token_hex(3)}",
                created_at=at,
            )
        ).inserted_primary_key[0]
        rows = [
            {
                "public_id": secrets.token_hex(16),
                "service_id": service_id,
                "channel": "sms",
                "kind": "process_test",
                "to_address": f"+447700900{i % 1000:03d}",
                "body_text": f"{prefix}-{i}",
                "idempotency_key": f"{prefix}-{i}",
                "status": "pending",
                "due_at": at,
                "available_at": at,
                "attempts": 0,
                "created_at": at,
            }
            for i in range(count)
        ]
        conn.execute(insert(OutboxMessage.__table__), rows)
    return [r["body_text"] for r in rows]


def start_dispatcher(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*FLASK, "rj", "dispatch", "--poll-interval", "0.1", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
