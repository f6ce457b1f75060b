"""The app starts, serves health checks and sends the security headers."""

from tests.factories import make_user


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.data == b"ok\n"


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200


def test_every_response_carries_security_headers(client):
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_signed_in_facilitator_sees_dashboard(signed_in):
    user = make_user()
    response = signed_in(user).get("/dashboard")
    assert response.status_code == 200
    assert b"Dashboard" in response.data
    assert user.full_name.encode() in response.data
