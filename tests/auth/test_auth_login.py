"""Sign-in: one message for every refusal, lock-out, rate limit, two-factor, sessions and cookies."""

from __future__ import annotations

import datetime as dt
import re

import argon2
import pyotp
import pytest
import time_machine
from sqlalchemy import select

from rj_scheduler.auth.models import StaffSession
from rj_scheduler.config import load_config
from rj_scheduler.extensions import db, limiter
from tests.auth.auth_helpers import (
    CODE_REFUSED,
    SIGN_IN_REFUSED,
    audit_actions,
    code_for,
    copy_cookie,
    post_password,
    replay,
    sign_in_fully,
)
from tests.conftest import make_app
from tests.factories import make_user

T0 = dt.datetime(2026, 3, 2, 10, 0, 5, tzinfo=dt.UTC)
LOCKED = "Too many failed attempts. Try again in 15 minutes."


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_login_page_offers_the_contract_fields(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="email"' in html
    assert "Email address" in html
    assert 'name="password"' in html
    assert 'type="password"' in html
    assert "Sign in" in html


def test_unknown_address_and_wrong_password_get_the_same_message_and_both_verify_argon2(client, monkeypatch):
    user = make_user()
    calls: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def counting_verify(self, hash_, password):
        calls.append(hash_)
        return real_verify(self, hash_, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)

    wrong = post_password(client, user.email, "not the right password at all")
    unknown = post_password(client, "nobody-here@example.org", "not the right password at all")

    assert wrong.status_code == unknown.status_code == 400
    assert len(calls) == 2  # a real hash for the known address, the dummy hash for the unknown one
    for response in (wrong, unknown):
        html = response.get_data(as_text=True)
        assert html.count(SIGN_IN_REFUSED) == 2  # in the error summary and next to the field
    wrong_html = wrong.get_data(as_text=True).replace(user.email, "ADDRESS")
    unknown_html = unknown.get_data(as_text=True).replace("nobody-here@example.org", "ADDRESS")
    assert wrong_html == unknown_html


def test_empty_fields_get_a_message_each_and_status_400(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter your email address" in html
    assert "Enter your password" in html


def test_lockout_after_repeated_failures_refuses_even_correct_password(client, frozen):
    user = make_user()
    for _ in range(4):
        response = post_password(client, user.email, "wrong password guess")
        assert SIGN_IN_REFUSED in response.get_data(as_text=True)
    fifth = post_password(client, user.email, "wrong password guess")
    assert fifth.status_code == 400
    assert LOCKED in fifth.get_data(as_text=True)

    correct = post_password(client, user.email)
    assert correct.status_code == 400
    assert LOCKED in correct.get_data(as_text=True)
    assert "account.locked" in audit_actions(user.public_id)

    frozen.shift(dt.timedelta(minutes=16))
    assert post_password(client, user.email).status_code == 302


def test_unknown_address_is_locked_like_a_known_one(client, frozen):
    for _ in range(5):
        response = post_password(client, "made-up@example.org", "wrong password guess")
    assert LOCKED in response.get_data(as_text=True)


def test_failures_spread_beyond_the_lockout_window_do_not_lock(client, frozen):
    user = make_user()
    for _ in range(4):
        post_password(client, user.email, "wrong password guess")
    frozen.shift(dt.timedelta(minutes=16))
    response = post_password(client, user.email, "wrong password guess")
    assert SIGN_IN_REFUSED in response.get_data(as_text=True)
    assert post_password(client, user.email).status_code == 302


def test_complete_sign_in_clears_the_failure_count(client, frozen):
    user = make_user()
    for _ in range(4):
        post_password(client, user.email, "wrong password guess")
    assert sign_in_fully(client, user).status_code == 302
    client.post("/logout")
    for _ in range(4):
        response = post_password(client, user.email, "wrong password guess")
    assert SIGN_IN_REFUSED in response.get_data(as_text=True)


def test_deactivated_account_gets_the_same_message_with_the_right_password(client):
    user = make_user(active=False)
    response = post_password(client, user.email)
    assert response.status_code == 400
    assert SIGN_IN_REFUSED in response.get_data(as_text=True)


@pytest.fixture
def rate_limited_app(tmp_root):
    was_enabled = limiter.enabled
    app = make_app(tmp_root, RATELIMIT_ENABLED=True, RJ_LOGIN_RATE_LIMIT="3 per minute")
    try:
        yield app
    finally:
        limiter.reset()
        limiter.enabled = was_enabled


def test_rate_limit_gives_the_429_page(rate_limited_app):
    client = rate_limited_app.test_client()
    with rate_limited_app.app_context():
        for _ in range(3):
            assert post_password(client, "someone@example.org", "wrong password guess").status_code == 400
        response = post_password(client, "someone-else@example.org", "wrong password guess")
        assert response.status_code == 429
        assert "Too many attempts" in response.get_data(as_text=True)
        # The code step shares the same budget.
        assert client.post("/login/two-factor", data={"code": "123456"}).status_code == 429
        assert client.get("/login").status_code == 200


def test_two_factor_is_required_before_any_staff_page(client):
    user = make_user()
    assert post_password(client, user.email).headers["Location"].endswith("/login/two-factor")
    for path in ("/dashboard", "/account", "/staff"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_enrolment_shows_an_inline_svg_qr_code_and_the_key_then_a_code_signs_in(client, frozen):
    user = make_user(enrolled=False)
    response = post_password(client, user.email)
    assert response.headers["Location"].endswith("/login/two-factor/setup")
    page = client.get("/login/two-factor/setup")
    html = page.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Set up two-factor authentication</h1>' in html
    assert "<svg" in html
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    secret = re.sub(r"\s+", "", re.search(r'id="totp-secret">([^<]+)<', html).group(1))
    db.session.refresh(user)
    assert secret == user.totp_secret
    assert not user.two_factor_enrolled

    # A reload keeps the same key, so a half-finished scan still works.
    assert secret in re.sub(r"\s+", "", client.get("/login/two-factor/setup").get_data(as_text=True))

    wrong = client.post("/login/two-factor/setup", data={"code": "000000"})
    assert wrong.status_code == 400
    assert CODE_REFUSED in wrong.get_data(as_text=True)

    done = client.post("/login/two-factor/setup", data={"code": pyotp.TOTP(secret).at(T0)})
    assert done.status_code == 302
    assert done.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    db.session.refresh(user)
    assert user.two_factor_enrolled
    assert {"account.two_factor_enrolled", "account.signed_in"} <= set(audit_actions(user.public_id))


def test_enrolment_uri_names_the_service_as_issuer(client):
    user = make_user(enrolled=False)
    post_password(client, user.email)
    client.get("/login/two-factor/setup")
    from rj_scheduler.auth.services import provisioning_uri

    db.session.refresh(user)
    assert "issuer=Restorative%20justice%20scheduler" in provisioning_uri(user)


def test_totp_code_is_accepted_once_only(app, frozen):
    user = make_user()
    first = app.test_client()
    assert sign_in_fully(first, user).status_code == 302

    second = app.test_client()
    assert post_password(second, user.email).status_code == 302
    replay = second.post("/login/two-factor", data={"code": code_for(user, T0)})
    assert replay.status_code == 400
    assert CODE_REFUSED in replay.get_data(as_text=True)
    assert second.get("/dashboard").status_code == 302

    # The next time step's code is fresh and works.
    frozen.shift(dt.timedelta(seconds=30))
    assert second.post("/login/two-factor", data={"code": code_for(user)}).status_code == 302


def test_code_from_two_steps_ago_is_refused(client, frozen):
    user = make_user()
    # A random secret can, rarely, give the stale step the same code as a valid one: pick another.
    while code_for(user, T0 - dt.timedelta(seconds=70)) in {
        code_for(user, T0 + dt.timedelta(seconds=s)) for s in (-30, 0, 30)
    }:
        user.totp_secret = pyotp.random_base32()
    post_password(client, user.email)
    stale = code_for(user, T0 - dt.timedelta(seconds=70))
    response = client.post("/login/two-factor", data={"code": stale})
    assert response.status_code == 400
    assert CODE_REFUSED in response.get_data(as_text=True)


def test_wrong_codes_count_towards_the_lockout(client, frozen):
    user = make_user()
    post_password(client, user.email)
    for _ in range(4):
        client.post("/login/two-factor", data={"code": "000000"})
    fifth = client.post("/login/two-factor", data={"code": "000000"})
    assert LOCKED in fifth.get_data(as_text=True)
    # The pending sign-in is gone: the right code no longer helps.
    assert client.post("/login/two-factor", data={"code": code_for(user)}).headers["Location"] == "/login"
    assert LOCKED in post_password(client, user.email).get_data(as_text=True)


def test_pending_sign_in_expires_after_five_minutes(client, frozen):
    user = make_user()
    post_password(client, user.email)
    frozen.shift(dt.timedelta(minutes=6))
    response = client.post("/login/two-factor", data={"code": code_for(user)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example/dashboard", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_pointing_off_site_is_ignored(client, frozen, target):
    user = make_user()
    response = sign_in_fully(client, user, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_next_on_this_site_is_followed(client, frozen):
    user = make_user()
    response = sign_in_fully(client, user, next_url="/account")
    assert response.headers["Location"] == "/account"


def test_signing_out_ends_the_session_and_a_copied_cookie_stops_working(app, frozen):
    user = make_user()
    client = app.test_client()
    sign_in_fully(client, user)
    copied = copy_cookie(client)
    assert replay(app, copied).status_code == 200

    response = client.post("/logout", follow_redirects=True)
    assert "You have signed out" in response.get_data(as_text=True)
    replayed = replay(app, copied)
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/login")
    row = db.session.scalar(select(StaffSession).where(StaffSession.user_id == user.id))
    assert row.end_reason == "signed out"
    assert "account.signed_out" in audit_actions(user.public_id)


def test_session_ends_after_inactivity(signed_in):
    with time_machine.travel(T0, tick=False) as traveller:
        user = make_user()
        client = signed_in(user)
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get("/dashboard").status_code == 200  # activity keeps it open
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get("/dashboard").status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get("/dashboard")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_session_ends_after_its_maximum_age_whatever_the_activity(signed_in):
    with time_machine.travel(T0, tick=False) as traveller:
        client = signed_in(make_user())
        for _ in range(25):  # 12.5 hours of requests every 30 minutes less a second
            traveller.shift(dt.timedelta(minutes=29, seconds=59))
            last = client.get("/dashboard")
        assert last.status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client):
    user = make_user()
    response = post_password(client, user.email)
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie


def test_session_cookie_is_secure_in_production(tmp_root):
    config = load_config(
        tmp_root,
        {"RJ_ENV": "production", "SECRET_KEY": "x" * 48, "RJ_PUBLIC_URL": "https://rj.example.org"},
    )
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"

    app = make_app(tmp_root, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    with app.app_context():
        user = make_user()
        response = post_password(client, user.email)
    assert "Secure" in response.headers["Set-Cookie"]


def test_signed_in_user_visiting_login_goes_to_the_dashboard(signed_in):
    response = signed_in(make_user()).get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_passwords_and_codes_never_reach_the_audit_log(client, frozen, caplog):
    from rj_scheduler.audit.models import AuditEntry

    user = make_user()
    post_password(client, user.email, "my secret guess 123")
    post_password(client, user.email)
    client.post("/login/two-factor", data={"code": "987654"})
    code = code_for(user)
    client.post("/login/two-factor", data={"code": code})
    stored = " ".join(f"{e.action} {e.object_id} {e.details}" for e in db.session.scalars(select(AuditEntry)))
    assert "account.sign_in_failed" in stored
    assert "account.signed_in" in stored
    for secret in ("my secret guess 123", "correct horse", "987654", code, user.totp_secret):
        assert secret not in stored
        assert secret not in caplog.text
