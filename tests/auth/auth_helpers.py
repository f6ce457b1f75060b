"""Helpers for the auth tests: driving the two sign-in steps and reading the audit log."""

from __future__ import annotations

import datetime as dt

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.auth.models import User
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from tests.factories import DEFAULT_PASSWORD

COOKIE = "rj_session"
SIGN_IN_REFUSED = "Enter a correct email address and password"
CODE_REFUSED = "Enter a correct code from your authenticator app"


def post_password(
    client: FlaskClient, email: str, password: str = DEFAULT_PASSWORD, next_url: str | None = None
):
    url = "/login" if next_url is None else f"/login?next={next_url}"
    return client.post(url, data={"email": email, "password": password})


def code_for(user: User, at: dt.datetime | None = None) -> str:
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).at(at or now())


def sign_in_fully(
    client: FlaskClient, user: User, password: str = DEFAULT_PASSWORD, next_url: str | None = None
):
    """Password, then a code from the user's app; returns the response to the code."""
    response = post_password(client, user.email, password, next_url)
    assert response.status_code == 302, response.data
    return client.post("/login/two-factor", data={"code": code_for(user)})


def copy_cookie(client: FlaskClient) -> str:
    """The session cookie's value, as someone who copied it would have it."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie_value: str, path: str = "/dashboard"):
    """GET ``path`` from a fresh client that carries only the copied cookie."""
    fresh = app.test_client()
    fresh.set_cookie(COOKIE, cookie_value)
    return fresh.get(path)


def audit_actions(object_id: str | None = None) -> list[str]:
    stmt = select(AuditEntry.action).order_by(AuditEntry.id)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return list(db.session.scalars(stmt))
