"""``flask rj create-user`` creates a staff user, applying the same rules as the staff pages."""

from __future__ import annotations

from sqlalchemy import func, select

from rj_scheduler.auth.models import Service, User
from rj_scheduler.auth.passwords import verify_password
from rj_scheduler.extensions import db
from tests.auth.auth_helpers import audit_actions
from tests.factories import make_service

PASSWORD = "granite puffin orchestra 5"


def _run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["rj", "create-user", *args], input=input)


def test_create_user_creates_the_service_when_named(app):
    result = _run(
        app,
        "--email", "Lee.Admin@example.org", "--name", "Lee Admin", "--role", "manager",
        "--service-code", "zx", "--service-name", "Zed area restorative justice",
        "--trained", "--password", PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "lee.admin@example.org"))
    assert user.role == "manager"
    assert user.trained_for_sensitive_cases
    assert not user.must_change_password
    assert user.service.code == "ZX"
    assert verify_password(user.password_hash, PASSWORD)
    assert "staff.created" in audit_actions(user.public_id)


def test_create_user_prompts_for_the_password(app):
    service = make_service()
    result = _run(
        app, "--email", "kim@example.org", "--name", "Kim Prompted", "--role", "facilitator",
        "--service-code", service.code, input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "kim@example.org")).service_id == service.id


def test_create_user_refuses_an_unknown_service_without_a_name(app):
    count = db.session.scalar(select(func.count(Service.id)))
    result = _run(
        app, "--email", "x@example.org", "--name", "X Person", "--role", "facilitator",
        "--service-code", "QQ9", "--password", PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "No service has the code QQ9" in result.output
    assert db.session.scalar(select(func.count(Service.id))) == count


def test_create_user_applies_the_password_rules_and_saves_nothing(app):
    service = make_service()
    result = _run(
        app, "--email", "weak@example.org", "--name", "Weak Password", "--role", "facilitator",
        "--service-code", service.code, "--password", "password",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--password: Password must be 12 characters or more." in result.output
    assert db.session.scalar(select(User).where(User.email == "weak@example.org")) is None


def test_create_user_refuses_a_bad_role_and_a_used_address(app):
    service = make_service()
    bad_role = _run(
        app, "--email", "r@example.org", "--name", "R", "--role", "chief",
        "--service-code", service.code, "--password", PASSWORD,
    )  # fmt: skip
    assert bad_role.exit_code == 2
    assert "Invalid value for '--role'" in bad_role.output
    args = [
        "--name",
        "Dee Duplicate",
        "--role",
        "facilitator",
        "--service-code",
        service.code,
        "--password",
        PASSWORD,
    ]
    assert _run(app, "--email", "dee@example.org", *args).exit_code == 0
    again = _run(app, "--email", "DEE@example.org", *args)
    assert again.exit_code == 1
    assert "--email: This email address is already in use." in again.output


def test_create_user_help_explains_every_option(app):
    result = _run(app, "--help")
    assert result.exit_code == 0
    for option in (
        "--email",
        "--name",
        "--role",
        "--service-code",
        "--service-name",
        "--trained",
        "--password",
    ):
        assert option in result.output
