"""Shared fixtures: the app on a migrated database, a savepoint per test, signed-in clients.

The database is SQLite by default, or the PostgreSQL database named by
``RJ_TEST_DATABASE_URL``. It is built once per session by running the
migrations (never ``create_all``); each test runs inside a transaction that is
rolled back, and the app's commits only release savepoints inside it.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

# Test modules import the factories both as ``factories`` and as
# ``tests.factories``; make both names one module, so there is one counter
# behind the generated (unique) emails and service codes.
import tests.factories as _factories
from rj_scheduler import create_app
from rj_scheduler.auth.models import User
from rj_scheduler.auth.sessions import SESSION_TOKEN_KEY, start_session
from rj_scheduler.extensions import db

sys.modules.setdefault("factories", _factories)

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-checks"


def _test_database_url(tmp_root: Path) -> str:
    url = os.environ.get("RJ_TEST_DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{tmp_root / 'test.sqlite3'}"


def _guard_sockets() -> None:
    """Tests may only open connections to this machine (loopback or a local socket)."""
    real_connect = socket.socket.connect

    def connect(self, address):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("127."):
                raise RuntimeError(f"test tried to reach {host}: only loopback is allowed")
        return real_connect(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]


_guard_sockets()


def _testing_postgres() -> bool:
    return (os.environ.get("RJ_TEST_DATABASE_URL") or "").startswith("postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run each database-specific test only on its database (the suite runs on both in CI).

    A test marked ``postgres_only`` has a ``sqlite_only`` counterpart and the other
    way round; each is deselected, not skipped, on the other database.
    """
    other = "sqlite_only" if _testing_postgres() else "postgres_only"
    keep = [item for item in items if other not in item.keywords]
    dropped = [item for item in items if other in item.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    config.stash[_DESELECTED] = len(dropped)


_DESELECTED = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    count = config.stash.get(_DESELECTED, 0)
    if count:
        database = "PostgreSQL" if _testing_postgres() else "SQLite"
        terminalreporter.write_line(
            f"NOTICE: {count} test(s) for the other database were deselected on {database};"
            " `make test` and `make test-postgres` together run them all."
        )


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="rj-tests-") as d:
        yield Path(d)


def make_app(tmp_root: Path, **overrides: object) -> Flask:
    """An app for tests on the test database; ``overrides`` win."""
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": _test_database_url(tmp_root),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RJ_ALLOW_DRAMA_NUMBERS": True,
        "SERVER_NAME": "localhost",
    }
    config.update(overrides)
    os.environ.setdefault("RJ_ENV", "development")
    return create_app(config)


@pytest.fixture(scope="session")
def app(tmp_root: Path) -> Iterator[Flask]:
    """The app, with the test database built once by running the migrations."""
    application = make_app(tmp_root)
    with application.app_context():
        _reset_database(application)
        from flask_migrate import upgrade

        upgrade()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def _reset_database(application: Flask) -> None:
    url = application.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(autouse=True)
def db_session(request: pytest.FixtureRequest, app: Flask) -> Iterator[scoped_session]:
    """Run the test inside a transaction that is rolled back afterwards."""
    if "no_db_isolation" in request.keywords:
        yield db.session
        return
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    outer = connection.begin()
    original = db.session
    session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    )
    db.session = session  # type: ignore[assignment]
    ctx = app.app_context()
    ctx.push()
    try:
        yield session
    finally:
        ctx.pop()
        session.remove()
        outer.rollback()
        connection.close()
        db.session = original  # type: ignore[assignment]


def _like_a_real_request(sender: Flask, **extra: object) -> None:
    """Make each test request start as it would on a real server.

    The test keeps one app context pushed, and Flask reuses it for each request,
    so ``g`` (Flask-Login's cached user, queued audit entries) would carry from
    one request to the next: give each request an empty ``g``. And data the test
    set up is only flushed, so a refused request (rolled back by the unit of
    work) would take it too: commit it first, inside the test's own transaction,
    which is still rolled back at the end.
    """
    for key in list(vars(g)):
        delattr(g, key)
    db.session.commit()


@pytest.fixture(autouse=True)
def real_request_boundaries(request: pytest.FixtureRequest) -> Iterator[None]:
    if "no_db_isolation" in request.keywords:
        yield
        return
    request_started.connect(_like_a_real_request)
    yield
    request_started.disconnect(_like_a_real_request)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, user: User) -> FlaskClient:
    """Give ``client`` an open server-side session for ``user`` (past password and two-factor)."""
    token = start_session(db.session, user, "127.0.0.1", "pytest")
    with client.session_transaction() as s:
        s["_user_id"] = user.get_id()
        s["_fresh"] = True
        s[SESSION_TOKEN_KEY] = token
    return client


@pytest.fixture
def signed_in(app: Flask):
    """Factory: a new test client signed in as the given user."""

    def _make(user: User) -> FlaskClient:
        return sign_in(app.test_client(), user)

    return _make
