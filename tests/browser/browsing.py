"""Helpers for the browser tests: the live server, and navigation that always runs the accessibility check.

Kept out of conftest.py so the tests and the fixtures import one module (a
conftest is loaded under another module name, which would split its state).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
from flask import Flask
from playwright.sync_api import Page, Response, expect
from werkzeug.serving import BaseWSGIServer, make_server

from rj_scheduler import create_app
from rj_scheduler.auth.models import Role
from rj_scheduler.extensions import db
from rj_scheduler.unit_of_work import commit_unit_of_work

CHROMIUM = Path("/usr/bin/chromium")
SKIP_REASON = "Chromium not installed (apt-get install chromium): browser tests skipped"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
BROWSER_SECRET = "browser-test-secret-key-long-enough-for-production-settings"
PASSWORD = "correct horse battery staple 42"

_migrated: set[str] = set()


def build_app(database_url: str, **overrides: object) -> Flask:
    """The real app on the browser tests' database, migrated the first time it is used."""
    config: dict[str, object] = {
        "SECRET_KEY": BROWSER_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "RJ_ALLOW_DRAMA_NUMBERS": True,
    }
    config.update(overrides)
    app = create_app(config)
    if database_url not in _migrated:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
            db.session.remove()
        _migrated.add(database_url)
    return app


@dataclass(frozen=True)
class StaffMember:
    """What a test needs to sign in as a user created for it."""

    email: str
    full_name: str
    totp_secret: str | None


@dataclass
class LiveServer:
    """The app served by werkzeug in a thread; ``url`` has no trailing slash."""

    app: Flask
    url: str
    server: BaseWSGIServer
    thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def create_user(self, *, enrolled: bool, role: Role = Role.FACILITATOR) -> StaffMember:
        """A committed staff user with a unique email, made by the app's own code."""
        from tests.factories import make_service, make_user

        with self.app.app_context():
            tag = uuid.uuid4().hex[:10]
            service = make_service(name=f"Browser area {tag}", code=f"B{tag[:8]}")
            user = make_user(
                service, role, email=f"browser-{tag}@example.org", password=PASSWORD, enrolled=enrolled
            )
            member = StaffMember(email=user.email, full_name=user.full_name, totp_secret=user.totp_secret)
            commit_unit_of_work()
            db.session.remove()
        return member


def serve(app: Flask, ssl_context: Any = None) -> LiveServer:
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    scheme = "https" if ssl_context is not None else "http"
    thread = threading.Thread(target=server.serve_forever, name=f"live-{scheme}", daemon=True)
    thread.start()
    return LiveServer(app=app, url=f"{scheme}://127.0.0.1:{server.server_port}", server=server, thread=thread)


@dataclass
class PageWatch:
    """What happened on one page: app documents loaded, checked, and CSP violations seen."""

    app_origins: tuple[str, ...]
    loads: list[str] = field(default_factory=list)
    checked: int = 0
    csp_violations: list[str] = field(default_factory=list)

    def on_load(self, page: Page) -> None:
        if page.url.startswith(self.app_origins):
            self.loads.append(page.url)

    def on_console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def unchecked(self) -> list[str]:
        return self.loads[self.checked :]


_watches: dict[int, PageWatch] = {}


def watch(page: Page, *app_origins: str) -> Page:
    """Track every app document ``page`` loads, so an unchecked one fails the test."""
    record = PageWatch(app_origins=tuple(app_origins))
    page.on("load", record.on_load)
    page.on("console", record.on_console)
    _watches[id(page)] = record
    return page


def unchecked_loads(page: Page) -> list[str]:
    """App documents ``page`` loaded that were never checked."""
    record = _watches.get(id(page))
    return record.unchecked() if record else []


def forget(page: Page) -> None:
    _watches.pop(id(page), None)


def _format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe-core found {len(violations)} serious or critical WCAG 2.2 AA violations on {url}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def axe_check(page: Page) -> None:
    """Run axe-core on the page; fail on a serious or critical WCAG 2.2 AA violation or a CSP violation.

    axe is injected with ``page.evaluate`` of its source. Evaluation through the
    DevTools protocol is not subject to the page's Content-Security-Policy, so
    the app's CSP stays fully in force; ``bypass_csp=True`` on the context would
    switch the CSP off for the whole page and hide the very inline-script and
    inline-style violations this check reports.
    """
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    results = page.evaluate(
        """async (tags) => {
            const r = await window.axe.run(document, {runOnly: {type: "tag", values: tags}});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )
    record = _watches.get(id(page))
    if record is not None:
        unchecked = record.unchecked()
        assert len(unchecked) <= 1, f"app pages loaded without an accessibility check: {unchecked[:-1]}"
        record.checked = len(record.loads)
        assert not record.csp_violations, (
            f"Content-Security-Policy violations on {page.url}: {record.csp_violations}"
        )
    serious = [v for v in results if v["impact"] in FAILING_IMPACTS]
    assert not serious, _format_violations(page.url, serious)


def visit(page: Page, url: str) -> Response:
    """Open ``url`` and check the page it ends on."""
    response = page.goto(url, wait_until="load")
    assert response is not None, f"no response for {url}"
    axe_check(page)
    return response


def submit(page: Page, action: Callable[[], object]) -> Response:
    """Do ``action`` (a click or a key press that sends a form) and check the page it leads to."""
    with page.expect_navigation(wait_until="load") as navigation:
        action()
    response = navigation.value
    assert response is not None, "the form led to no response"
    axe_check(page)
    return response


def sign_in(page: Page, base_url: str, email: str, totp_secret: str) -> None:
    """Sign in through the real forms (password, then a fresh two-factor code); lands on the dashboard."""
    visit(page, f"{base_url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in").click)
    page.get_by_label("Enter the 6-digit code from your authenticator app").fill(
        pyotp.TOTP(totp_secret).now()
    )
    submit(page, page.get_by_role("button", name="Continue").click)
    expect(page).to_have_url(f"{base_url}/dashboard")
