"""Own account: password rules, changing a password ends the other sessions."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from rj_scheduler.auth.passwords import password_problems, verify_password
from rj_scheduler.extensions import db
from tests.auth.auth_helpers import audit_actions, copy_cookie, replay
from tests.factories import DEFAULT_PASSWORD, make_user

NEW_PASSWORD = "pebble lantern orchard 7"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass", "Password must be 12 characters or more"),
        ("password1234", "Password is too common. Try three random words"),
        ("aaaaaaaaaaaaaaaa", "Password is too common. Try three random words"),
        ("morganblue river stones", "Password must not contain your name or email address"),
        ("m.jones stones river x", "Password must not contain your name or email address"),
    ],
)
def test_password_rules_refuse_short_common_and_personal_passwords(password, problem):
    assert problem in password_problems(password, email="m.jones@example.org", full_name="Morgan Jones")


def test_password_rules_accept_three_random_words():
    assert password_problems(NEW_PASSWORD, email="m.jones@example.org", full_name="Morgan Jones") == []


def test_account_page_shows_own_details(signed_in):
    user = make_user()
    response = signed_in(user).get("/account")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert user.email in html
    assert "Change your password" in html
    assert "account.viewed" in audit_actions(user.public_id)


def test_wrong_current_password_is_refused_next_to_the_field(signed_in):
    user = make_user()
    response = signed_in(user).post(
        "/account/password", data={"current_password": "not my password", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert "Your current password is not correct" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("tiny", "Password must be 12 characters or more"),
        ("qwertyuiop123", "Password is too common"),
        (DEFAULT_PASSWORD, "must be different from your current password"),
    ],
)
def test_new_password_must_keep_the_rules(signed_in, new_password, message):
    user = make_user()
    response = signed_in(user).post(
        "/account/password", data={"current_password": DEFAULT_PASSWORD, "new_password": new_password}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_new_password_may_not_contain_own_name(signed_in):
    user = make_user(full_name="Priya Facilitator")
    response = signed_in(user).post(
        "/account/password",
        data={"current_password": DEFAULT_PASSWORD, "new_password": "priya likes long walks"},
    )
    assert response.status_code == 400
    assert "must not contain your name" in response.get_data(as_text=True)


def test_password_change_ends_every_other_session_and_keeps_this_one(app, signed_in):
    user = make_user()
    elsewhere = signed_in(user)
    assert elsewhere.get("/dashboard").status_code == 200
    copied = copy_cookie(elsewhere)
    here = signed_in(user)
    response = here.post(
        "/account/password", data={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert here.get("/dashboard").status_code == 200
    assert elsewhere.get("/dashboard").status_code == 302
    assert replay(app, copied).status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert "account.password_changed" in audit_actions(user.public_id)


def test_a_copied_cookie_of_the_changing_browser_stops_working_too(app, signed_in):
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False):
        user = make_user()
        here = signed_in(user)
        before = copy_cookie(here)
        here.post(
            "/account/password", data={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert replay(app, before).status_code == 302
