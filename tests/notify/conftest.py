"""Fixtures of the messaging tests: real SMTP and Twilio peers on loopback, and a dispatcher runner."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from rj_scheduler.notify.dispatcher import Dispatcher, DispatchStats
from tests.notify.peers import FakeTwilio, PrismTwilio, SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prism_twilio() -> Iterator[PrismTwilio]:
    prism = PrismTwilio()
    prism.start()
    try:
        yield prism
    finally:
        prism.stop()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def dispatcher_config(app: Flask, **overrides: Any) -> dict[str, Any]:
    """The app's config for a dispatcher: outbox backends, no quiet hours, small pools, unless overridden."""
    config = dict(app.config)
    config.update(
        {
            "RJ_SMS_BACKEND": "outbox",
            "RJ_EMAIL_BACKEND": "outbox",
            "RJ_QUIET_HOURS": "off",
            "RJ_DISPATCH_THREADS": 4,
            "RJ_SMS_MAX_PER_SECOND": 1000,
        }
    )
    config.update(overrides)
    return config


@pytest.fixture
def run_dispatcher(app: Flask):
    """Run one dispatcher in this process until nothing is due (``--once``)."""

    def _run(**overrides: Any) -> DispatchStats:
        return Dispatcher(dispatcher_config(app, **overrides), poll_interval=0.05).run(once=True)

    return _run
