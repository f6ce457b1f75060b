"""The first journey in a real browser: sign in, enrol two-factor, sign out, and the old cookie is dead.

Every page on the way is checked with axe-core (see conftest.py).
"""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import Page, expect

from tests.browser.browsing import PASSWORD, LiveServer, submit, visit

SESSION_COOKIE = "rj_session"
CODE_LABEL = "Enter the 6-digit code from your authenticator app"


def _sign_in_with_password(page: Page, live_server: LiveServer, email: str) -> None:
    visit(page, f"{live_server.url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in").click)


def test_staff_member_enrols_two_factor_signs_out_and_the_old_session_cookie_stops_working(
    page, new_page, live_server
):
    user = live_server.create_user(enrolled=False)

    _sign_in_with_password(page, live_server, user.email)
    expect(page).to_have_url(re.compile(r"/login/two-factor/setup"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    secret = re.sub(r"\s+", "", page.locator("#totp-secret").inner_text())
    page.get_by_label(CODE_LABEL).fill(pyotp.TOTP(secret).now())
    submit(page, page.get_by_role("button", name="Continue").click)

    expect(page).to_have_url(f"{live_server.url}/dashboard")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {user.full_name}")).to_be_visible()
    old_cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)

    submit(page, page.get_by_role("button", name="Sign out").click)
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("You have signed out")).to_be_visible()

    replay = new_page(live_server.url)
    replay.context.add_cookies([old_cookie])
    visit(replay, f"{live_server.url}/dashboard")
    expect(replay).to_have_url(re.compile(r"/login(\?.*)?$"))
    expect(replay.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(replay.get_by_label("Email address")).to_be_visible()


def _tab_to(page: Page, selector: str, limit: int = 25) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_sign_in_and_two_factor_can_be_completed_with_the_keyboard_alone(page, live_server):
    user = live_server.create_user(enrolled=True)

    visit(page, f"{live_server.url}/login")
    _tab_to(page, "input[name=email]")
    page.keyboard.type(user.email)
    _tab_to(page, "input[name=password]")
    page.keyboard.type(PASSWORD)
    submit(page, lambda: page.keyboard.press("Enter"))

    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    _tab_to(page, "input[name=code]")
    page.keyboard.type(pyotp.TOTP(user.totp_secret).now())
    submit(page, lambda: page.keyboard.press("Enter"))

    expect(page).to_have_url(f"{live_server.url}/dashboard")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_page_not_found_is_accessible_and_answers_404(page, live_server):
    response = visit(page, f"{live_server.url}/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_be_visible()
