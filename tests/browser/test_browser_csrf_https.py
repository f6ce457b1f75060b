"""CSRF protection and security headers with production settings, over HTTPS, in a real browser.

The app runs with ``RJ_ENV=production`` (secure cookies, strict CSRF referrer
check) behind a local TLS certificate made by trustme. A second local server on
another port plays a hostile site. Every app page visited is checked with axe-core.
"""

from __future__ import annotations

import html
import re
import ssl
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs

import pyotp
import pytest
import trustme
from playwright.sync_api import Page, Response, expect
from werkzeug.serving import make_server

from rj_scheduler.web import CONTENT_SECURITY_POLICY
from tests.browser.browsing import (
    PASSWORD,
    LiveServer,
    StaffMember,
    axe_check,
    build_app,
    serve,
    submit,
    visit,
)

SESSION_COOKIE = "rj_session"
FRIENDLY_CSRF_TITLE = "Your form could not be sent"


@pytest.fixture(scope="module")
def tls() -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for 127.0.0.1."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def https_server(browser_database_url: str, tls: ssl.SSLContext) -> Iterator[LiveServer]:
    """The app with production settings, served over HTTPS."""
    app = build_app(
        browser_database_url,
        RJ_ENV="production",
        SECRET_KEY="production-like-secret-key-" + "x" * 40,
        SESSION_COOKIE_SECURE=True,
        WTF_CSRF_ENABLED=True,
        WTF_CSRF_SSL_STRICT=True,
        PREFERRED_URL_SCHEME="https",
        RJ_PUBLIC_URL="https://127.0.0.1",
        RJ_ALLOW_DRAMA_NUMBERS=False,
        TESTING=False,
        DEBUG=False,
    )
    assert app.config["RJ_ENV"] == "production"
    live = serve(app, ssl_context=tls)
    try:
        yield live
    finally:
        live.stop()


def _hostile_site(environ, start_response):  # type: ignore[no-untyped-def]
    """A page on another origin that posts a form to the app as soon as it loads.

    It is the test's own page, not the app's, so it may use inline script.
    """
    query = parse_qs(environ.get("QUERY_STRING", ""))
    target = query["target"][0]
    token = query.get("token", [""])[0]
    hidden = f'<input type="hidden" name="csrf_token" value="{html.escape(token)}">' if token else ""
    body = (
        "<!DOCTYPE html><html lang='en'><head><title>Win a prize</title></head><body>"
        f"<form method='post' action='{html.escape(target)}'>{hidden}<button>Go</button></form>"
        "<script>document.forms[0].submit()</script></body></html>"
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


@pytest.fixture(scope="module")
def hostile_server(tls: ssl.SSLContext) -> Iterator[str]:
    """Another origin (same host, another port) serving ``_hostile_site`` over HTTPS."""
    server = make_server("127.0.0.1", 0, _hostile_site, threaded=True, ssl_context=tls)
    thread = threading.Thread(target=server.serve_forever, name="hostile", daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def secure_page(new_page, https_server: LiveServer) -> Page:
    """A fresh browser context that accepts the local certificate."""
    return new_page(https_server.url, ignore_https_errors=True)


def _sign_in(page: Page, server: LiveServer, user: StaffMember) -> list[str]:
    """Sign in through the real forms; return the Referer of each form post."""
    referers: list[str] = []

    def note(request) -> None:  # type: ignore[no-untyped-def]
        if request.method == "POST" and request.is_navigation_request():
            referers.append(request.headers.get("referer", ""))

    page.on("request", note)
    visit(page, f"{server.url}/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in").click)
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    assert user.totp_secret is not None
    page.get_by_label(re.compile("code", re.IGNORECASE)).fill(pyotp.TOTP(user.totp_secret).now())
    submit(page, page.get_by_role("button", name="Continue").click)
    expect(page).to_have_url(f"{server.url}/dashboard")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.remove_listener("request", note)
    return referers


def _assert_still_signed_in(page: Page, server: LiveServer) -> None:
    response = visit(page, f"{server.url}/dashboard")
    assert response.status == 200
    expect(page).to_have_url(f"{server.url}/dashboard")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _assert_friendly_csrf_page(page: Page, response: Response) -> None:
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text(FRIENDLY_CSRF_TITLE)
    headers = response.all_headers()
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"]), "a refused form still gets a request id"


def test_sign_in_form_posts_over_https_with_a_token_and_a_same_origin_referer(secure_page, https_server):
    user = https_server.create_user(enrolled=True)

    referers = _sign_in(secure_page, https_server, user)

    assert len(referers) == 2, referers  # the password form, then the two-factor form
    for referer in referers:
        assert referer.startswith(f"{https_server.url}/login"), referer


def test_a_form_with_a_forged_csrf_token_is_refused_with_a_friendly_400_and_changes_nothing(
    secure_page, https_server
):
    user = https_server.create_user(enrolled=True)
    _sign_in(secure_page, https_server, user)

    secure_page.evaluate(
        "() => { document.querySelector('form[action=\"/logout\"] input[name=csrf_token]').value = 'forged'; }"
    )
    response = submit(secure_page, secure_page.get_by_role("button", name="Sign out").click)

    _assert_friendly_csrf_page(secure_page, response)
    _assert_still_signed_in(secure_page, https_server)


def test_a_form_without_a_csrf_token_is_refused_with_a_friendly_400_and_changes_nothing(
    secure_page, https_server
):
    user = https_server.create_user(enrolled=True)
    _sign_in(secure_page, https_server, user)

    secure_page.evaluate(
        "() => document.querySelector('form[action=\"/logout\"] input[name=csrf_token]').remove()"
    )
    response = submit(secure_page, secure_page.get_by_role("button", name="Sign out").click)

    _assert_friendly_csrf_page(secure_page, response)
    _assert_still_signed_in(secure_page, https_server)


@pytest.mark.parametrize("with_stolen_token", [False, True], ids=["no-token", "stolen-token"])
def test_a_cross_site_post_is_refused_with_400_even_with_a_valid_token(
    secure_page, https_server, hostile_server, with_stolen_token
):
    """The session cookie is sent (same site, another port), so only the CSRF checks stop the post.

    With a stolen but valid token, the strict referrer check (the Referer is the
    hostile origin) still refuses it.
    """
    user = https_server.create_user(enrolled=True)
    _sign_in(secure_page, https_server, user)
    token = secure_page.locator('form[action="/logout"] input[name=csrf_token]').input_value()
    query = f"target={https_server.url}/logout" + (f"&token={token}" if with_stolen_token else "")

    with secure_page.expect_response(lambda r: r.url == f"{https_server.url}/logout") as posted:
        secure_page.goto(f"{hostile_server}/?{query}", wait_until="commit")
    response = posted.value
    secure_page.wait_for_url(f"{https_server.url}/logout")
    axe_check(secure_page)

    assert response.request.method == "POST"
    assert response.request.headers.get("referer", "").startswith(hostile_server)
    _assert_friendly_csrf_page(secure_page, response)
    _assert_still_signed_in(secure_page, https_server)


def test_production_responses_carry_hsts_csp_and_same_origin_referrer_policy_and_safe_cookies(
    secure_page, https_server
):
    user = https_server.create_user(enrolled=True)

    response = visit(secure_page, f"{https_server.url}/login")
    headers = response.all_headers()
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"

    _sign_in(secure_page, https_server, user)
    cookie = next(c for c in secure_page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["secure"] is True
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
