"""Managers create API keys (shown once, stored hashed) and revoke them, for their own service only."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from rj_scheduler.api.models import ApiKey
from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.auth.models import Role
from rj_scheduler.extensions import db
from tests.api.api_helpers import make_api_key, post_referral, referral_body
from tests.factories import make_service, make_user

KEY_PATTERN = re.compile(r"rjk_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


def test_a_manager_creates_a_key_that_is_shown_once_and_stored_hashed(signed_in, client):
    service = make_service()
    manager = make_user(service, Role.MANAGER)
    browser = signed_in(manager)

    response = browser.post("/api-keys/new", data={"partner_name": "Midshire Police", "source": "police"})

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    [full_key] = KEY_PATTERN.findall(html)
    assert "only time it is shown" in html
    key = db.session.scalar(select(ApiKey).where(ApiKey.service_id == service.id))
    _scheme, prefix, secret = full_key.split("_", 2)
    assert key.prefix == prefix
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in key.secret_hash
    assert key.created_by_id == manager.id
    # Never again: the list shows only the prefix.
    listing = browser.get("/api-keys").get_data(as_text=True)
    assert prefix in listing
    assert secret not in listing
    # Nothing the audit log holds can give the key back.
    details = " ".join(e.details or "" for e in db.session.scalars(select(AuditEntry)))
    assert secret not in details
    # And it works.
    assert post_referral(client, full_key, referral_body()).status_code == 201


def test_a_new_key_needs_a_partner_name_and_a_source(signed_in):
    manager = make_user(role=Role.MANAGER)

    response = signed_in(manager).post("/api-keys/new", data={"partner_name": " ", "source": "self_referral"})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter the name of the partner organisation" in html
    assert db.session.scalar(select(ApiKey).where(ApiKey.service_id == manager.service_id)) is None


def test_a_manager_revokes_a_key_after_confirming_and_the_partner_is_refused(signed_in, client):
    service = make_service()
    manager = make_user(service, Role.MANAGER)
    key, full_key = make_api_key(service, partner_name="Midshire Probation", source="probation")
    browser = signed_in(manager)

    confirm = browser.get(f"/api-keys/{key.public_id}/revoke")
    assert confirm.status_code == 200
    assert "Revoke the API key for Midshire Probation?" in confirm.get_data(as_text=True)
    assert db.session.get(ApiKey, key.id).revoked_at is None

    done = browser.post(f"/api-keys/{key.public_id}/revoke")

    assert done.status_code == 302
    revoked = db.session.get(ApiKey, key.id)
    assert revoked.revoked_at is not None
    assert revoked.revoked_by_id == manager.id
    assert post_referral(client, full_key, referral_body()).status_code == 401
    assert "Revoked" in browser.get("/api-keys").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.SUPERVISOR])
@pytest.mark.parametrize("path", ["/api-keys", "/api-keys/new"])
def test_only_managers_manage_api_keys(signed_in, role, path):
    assert signed_in(make_user(role=role)).get(path).status_code == 403


def test_a_manager_sees_and_revokes_only_their_own_services_keys(signed_in):
    ours, theirs = make_service(), make_service()
    manager = make_user(ours, Role.MANAGER)
    their_key, _ = make_api_key(theirs, partner_name="Elsewhere Police")
    db.session.commit()
    browser = signed_in(manager)

    assert "Elsewhere Police" not in browser.get("/api-keys").get_data(as_text=True)
    assert browser.get(f"/api-keys/{their_key.public_id}/revoke").status_code == 404
    assert browser.post(f"/api-keys/{their_key.public_id}/revoke").status_code == 404
    assert db.session.get(ApiKey, their_key.id).revoked_at is None


def test_the_api_keys_page_is_in_a_managers_menu_only(signed_in):
    service = make_service()
    manager_page = signed_in(make_user(service, Role.MANAGER)).get("/dashboard").get_data(as_text=True)
    facilitator_page = (
        signed_in(make_user(service, Role.FACILITATOR)).get("/dashboard").get_data(as_text=True)
    )

    assert 'href="/api-keys"' in manager_page
    assert 'href="/api-keys"' not in facilitator_page


def test_the_demo_loader_makes_one_key_and_prints_the_same_working_key_each_time(client):
    from rj_scheduler.api.demo import load_demo
    from rj_scheduler.demo import DemoContext

    service = make_service()
    manager = make_user(service, Role.MANAGER, email="demo-manager@example.org")
    runs = []
    for _ in range(2):
        context = DemoContext(
            service=service, users={"manager@example.org": manager}, other_service=make_service()
        )
        load_demo(context)
        runs.append("\n".join(context.notes))

    assert runs[0] == runs[1]
    [full_key] = set(KEY_PATTERN.findall(runs[0]))
    assert len(db.session.scalars(select(ApiKey).where(ApiKey.service_id == service.id)).all()) == 1
    assert post_referral(client, full_key, referral_body()).status_code == 201
