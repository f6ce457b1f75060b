"""Managers manage the staff of their own service, and only theirs; every change is audited."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import func, select

from rj_scheduler.auth.models import Role, User
from rj_scheduler.auth.passwords import verify_password
from rj_scheduler.extensions import db
from tests.auth.auth_helpers import audit_actions, code_for, copy_cookie, post_password, replay
from tests.factories import make_service, make_user

T0 = dt.datetime(2026, 3, 2, 10, 0, 5, tzinfo=dt.UTC)
TEMPORARY = "harbour violet kettle 3"
OWN_CHOICE = "meadow copper lantern 9"


@pytest.fixture
def team():
    service = make_service()
    return {
        "manager": make_user(service, Role.MANAGER, full_name="Morgan Manager"),
        "facilitator": make_user(service, Role.FACILITATOR, full_name="Priya Facilitator"),
        "other": make_user(make_service(), Role.FACILITATOR, full_name="Alex Elsewhere"),
    }


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.SUPERVISOR])
@pytest.mark.parametrize("path", ["/staff", "/staff/new"])
def test_facilitators_and_supervisors_may_not_manage_staff(signed_in, role, path):
    response = signed_in(make_user(role=role)).get(path)
    assert response.status_code == 403


def test_staff_list_shows_own_service_only_with_role_status_and_two_factor(signed_in, team):
    response = signed_in(team["manager"]).get("/staff")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Priya Facilitator" in html
    assert "Alex Elsewhere" not in html
    assert "Facilitator" in html
    assert "Active" in html
    assert "Set up" in html
    assert "staff.listed" in audit_actions()


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("post", ""),
        ("get", "/deactivate"),
        ("post", "/deactivate"),
        ("post", "/reactivate"),
        ("post", "/reset-two-factor"),
    ],
)
def test_another_services_staff_answer_404(signed_in, team, method, suffix):
    client = signed_in(team["manager"])
    other = team["other"]
    response = getattr(client, method)(
        f"/staff/{other.public_id}{suffix}", data={"full_name": "Changed", "role": "manager"}
    )
    assert response.status_code == 404
    db.session.refresh(other)
    assert other.full_name == "Alex Elsewhere"
    assert other.is_active_account


def test_unknown_staff_member_answers_404(signed_in, team):
    assert signed_in(team["manager"]).get("/staff/" + "0" * 32).status_code == 404


def test_manager_adds_a_member_of_staff_with_a_temporary_password(signed_in, team):
    manager = team["manager"]
    response = signed_in(manager).post(
        "/staff/new",
        data={
            "full_name": "Jo Newstarter",
            "email": " Jo.Newstarter@Example.org ",
            "role": "supervisor",
            "trained_for_sensitive_cases": "y",
            "password": TEMPORARY,
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "jo.newstarter@example.org"))
    assert user.service_id == manager.service_id
    assert user.role == "supervisor"
    assert user.trained_for_sensitive_cases
    assert user.must_change_password
    assert not user.two_factor_enrolled
    assert verify_password(user.password_hash, TEMPORARY)
    assert "staff.created" in audit_actions(user.public_id)


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"email": "not-an-address"}, "Enter an email address in the correct format"),
        ({"email": ""}, "Enter their email address"),
        ({"full_name": ""}, "Enter their full name"),
        ({"role": "chief"}, "Not a valid choice"),
        ({"role": None}, "Select a role"),
        ({"password": "short"}, "Password must be 12 characters or more"),
        ({"password": "qwertyuiop123"}, "Password is too common"),
        ({"password": "newstarter rules ok"}, "must not contain your name"),
    ],
)
def test_bad_staff_details_get_a_message_and_nothing_is_saved(signed_in, team, changes, field_message):
    data = {
        "full_name": "Jo Newstarter",
        "email": "jo.newstarter@example.org",
        "role": "facilitator",
        "password": TEMPORARY,
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    count = db.session.scalar(select(func.count(User.id)))
    response = signed_in(team["manager"]).post("/staff/new", data=data)
    assert response.status_code == 400
    assert field_message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == count


def test_an_email_address_in_use_is_refused(signed_in, team):
    response = signed_in(team["manager"]).post(
        "/staff/new",
        data={
            "full_name": "Someone Else",
            "email": team["other"].email.upper(),
            "role": "facilitator",
            "password": TEMPORARY,
        },
    )
    assert response.status_code == 400
    assert "This email address is already in use" in response.get_data(as_text=True)


def test_new_member_replaces_the_temporary_password_at_first_sign_in(app, signed_in, team):
    signed_in(team["manager"]).post(
        "/staff/new",
        data={
            "full_name": "Jo Newstarter",
            "email": "jo@example.org",
            "role": "facilitator",
            "password": TEMPORARY,
        },
    )
    user = db.session.scalar(select(User).where(User.email == "jo@example.org"))
    client = app.test_client()
    with time_machine.travel(T0, tick=False):
        assert post_password(client, user.email, TEMPORARY).headers["Location"].endswith("/setup")
        client.get("/login/two-factor/setup")
        db.session.refresh(user)
        response = client.post("/login/two-factor/setup", data={"code": code_for(user)})
        assert response.headers["Location"] == "/login/new-password"
        assert client.get("/dashboard").status_code == 302  # not signed in yet
        same = client.post("/login/new-password", data={"new_password": TEMPORARY})
        assert same.status_code == 400
        assert "different from your current password" in same.get_data(as_text=True)
        done = client.post("/login/new-password", data={"new_password": OWN_CHOICE})
        assert done.headers["Location"] == "/dashboard"
        dashboard = client.get("/dashboard")
        assert dashboard.status_code == 200
        assert "Your new password is saved" in dashboard.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.must_change_password
    assert verify_password(user.password_hash, OWN_CHOICE)


def test_new_password_page_needs_the_code_first(client, team):
    user = team["facilitator"]
    user.must_change_password = True
    post_password(client, user.email)
    response = client.post("/login/new-password", data={"new_password": OWN_CHOICE})
    assert response.headers["Location"] == "/login/two-factor"
    db.session.refresh(user)
    assert user.must_change_password


def test_manager_edits_name_role_and_training(signed_in, team):
    member = team["facilitator"]
    response = signed_in(team["manager"]).post(
        f"/staff/{member.public_id}",
        data={"full_name": "Priya Supervisor", "role": "supervisor", "trained_for_sensitive_cases": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(member)
    assert (member.full_name, member.role, member.trained_for_sensitive_cases) == (
        "Priya Supervisor",
        "supervisor",
        True,
    )
    assert "staff.updated" in audit_actions(member.public_id)


def test_staff_page_read_is_audited(signed_in, team):
    member = team["facilitator"]
    response = signed_in(team["manager"]).get(f"/staff/{member.public_id}")
    assert response.status_code == 200
    assert "Priya Facilitator" in response.get_data(as_text=True)
    assert "staff.viewed" in audit_actions(member.public_id)


def test_manager_cannot_change_own_role(signed_in, team):
    manager = team["manager"]
    response = signed_in(manager).post(
        f"/staff/{manager.public_id}", data={"full_name": manager.full_name, "role": "facilitator"}
    )
    assert response.status_code == 400
    assert "You cannot change your own role" in response.get_data(as_text=True)
    db.session.refresh(manager)
    assert manager.role == "manager"


def test_deactivation_ends_their_sessions_and_stops_sign_in(app, signed_in, team):
    member = team["facilitator"]
    theirs = signed_in(member)
    assert theirs.get("/dashboard").status_code == 200
    copied = copy_cookie(theirs)
    manager_client = signed_in(team["manager"])
    confirm = manager_client.get(f"/staff/{member.public_id}/deactivate")
    assert confirm.status_code == 200
    assert "Deactivate account" in confirm.get_data(as_text=True)

    assert manager_client.post(f"/staff/{member.public_id}/deactivate").status_code == 302
    assert theirs.get("/dashboard").status_code == 302
    assert replay(app, copied).status_code == 302
    refused = post_password(app.test_client(), member.email)
    assert "Enter a correct email address and password" in refused.get_data(as_text=True)
    assert "staff.deactivated" in audit_actions(member.public_id)

    assert manager_client.post(f"/staff/{member.public_id}/reactivate").status_code == 302
    db.session.refresh(member)
    assert member.is_active_account
    assert "staff.reactivated" in audit_actions(member.public_id)
    assert post_password(app.test_client(), member.email).status_code == 302


def test_manager_cannot_deactivate_themselves(signed_in, team):
    manager = team["manager"]
    client = signed_in(manager)
    response = client.post(f"/staff/{manager.public_id}/deactivate")
    assert response.status_code == 400
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200


def test_two_factor_reset_ends_their_sessions_and_asks_them_to_enrol_again(app, signed_in, team):
    member = team["facilitator"]
    theirs = signed_in(member)
    copied = copy_cookie(theirs)
    response = signed_in(team["manager"]).post(f"/staff/{member.public_id}/reset-two-factor")
    assert response.status_code == 302
    assert replay(app, copied).status_code == 302
    db.session.refresh(member)
    assert member.totp_secret is None
    assert not member.two_factor_enrolled
    assert (
        post_password(app.test_client(), member.email).headers["Location"].endswith("/login/two-factor/setup")
    )
    assert "staff.two_factor_reset" in audit_actions(member.public_id)
