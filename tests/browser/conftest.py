"""Browser tests: the real app served on 127.0.0.1, driven by Debian's Chromium.

Every page of the app a test opens is checked with axe-core (WCAG 2.2 AA); a
serious or critical violation, or a Content-Security-Policy violation, fails
the test. Navigation goes through ``visit`` and ``submit`` so the check cannot
be forgotten, and the ``page`` fixture fails any test that let an app page load
without a check.

These tests commit real data, so they run on their own database (a separate
SQLite file, or a sibling ``<name>_browser`` PostgreSQL database) and are
marked ``no_db_isolation`` so the root conftest does not wrap them in a
rolled-back transaction.

Without ``/usr/bin/chromium`` they are skipped with a clear notice, except in
CI (``CI=true``), where they fail instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy.engine import make_url

from tests.browser.browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SKIP_REASON,
    LiveServer,
    build_app,
    forget,
    serve,
    unchecked_loads,
    watch,
)

BROWSER_DIR = Path(__file__).resolve().parent

# Generous waits: CI machines and a busy laptop are slower than the defaults assume.
expect.set_options(timeout=15_000)

_skipped_for_missing_chromium: list[str] = []


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


# --- collection: mark, skip or fail ---------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/browser commits real data and needs Chromium."""
    chromium_missing = not CHROMIUM.exists()
    for item in items:
        if BROWSER_DIR not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.no_db_isolation)
        item.add_marker(pytest.mark.browser)
        if chromium_missing and not _in_ci():
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))
            _skipped_for_missing_chromium.append(item.nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped_for_missing_chromium:
        terminalreporter.write_line(
            f"NOTICE: {len(_skipped_for_missing_chromium)} tests SKIPPED. {SKIP_REASON}.",
            yellow=True,
            bold=True,
        )


# --- the database and the live servers ------------------------------------------------------


@pytest.fixture(scope="session")
def browser_database_url() -> Iterator[str]:
    """A database of the browser tests' own, migrated once; dropped at the end on PostgreSQL."""
    base = os.environ.get("RJ_TEST_DATABASE_URL", "")
    if base.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        url = make_url("postgresql+psycopg://" + base.split("://", 1)[1])
        name = f"{url.database}_browser"
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

        def run(sql: str) -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql)  # type: ignore[arg-type]

        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        run(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    with tempfile.TemporaryDirectory(prefix="rj-browser-") as d:
        yield f"sqlite:///{Path(d) / 'browser.sqlite3'}"


@pytest.fixture(scope="session")
def live_server(browser_database_url: str) -> Iterator[LiveServer]:
    """The app in development settings over HTTP, with CSRF protection on as in real use."""
    live = serve(build_app(browser_database_url, RJ_ENV="development", WTF_CSRF_ENABLED=True))
    try:
        yield live
    finally:
        live.stop()


# --- Chromium, pages and the accessibility check ----------------------------------------------


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"CI=true but {SKIP_REASON.split(':')[0]}: CI must run the browser tests")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(chromium_browser: Browser) -> Iterator[Callable[..., Page]]:
    """Factory: a page in a fresh browser context (no cookies) watched for ``app_origins``."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def _make(*app_origins: str, **context_options: Any) -> Page:
        context = chromium_browser.new_context(**context_options)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = watch(context.new_page(), *app_origins)
        pages.append(page)
        return page

    yield _make
    try:
        for page in pages:
            missed = unchecked_loads(page)
            assert not missed, f"app pages loaded without an accessibility check: {missed}"
    finally:
        for page in pages:
            forget(page)
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page: Callable[..., Page], live_server: LiveServer) -> Page:
    """A page in a fresh browser context on the development live server."""
    return new_page(live_server.url)
