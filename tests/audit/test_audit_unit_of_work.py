"""No page is served unlogged, and refusals are logged even though their data is not kept."""

from __future__ import annotations

import datetime as dt
import json

import time_machine
from sqlalchemy import select, text

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.auth.models import Role, StaffSession
from rj_scheduler.extensions import db
from tests.factories import make_service, make_user

SIGNED_IN_AT = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
LATER = SIGNED_IN_AT + dt.timedelta(minutes=5)


def _staff_session(user) -> StaffSession:
    db.session.expire_all()
    return db.session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)).one()


def _entries(service_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.chain_id == service_id).order_by(AuditEntry.seq)
        )
    )


def test_audit_write_failure_answers_503_and_saves_no_change(signed_in):
    manager = make_user(make_service(), Role.MANAGER)
    with time_machine.travel(SIGNED_IN_AT, tick=False):
        client = signed_in(manager)
    db.session.execute(text("ALTER TABLE audit_entries RENAME TO audit_entries_unavailable"))
    db.session.commit()  # the rename stays inside the test's transaction, rolled back afterwards

    with time_machine.travel(LATER, tick=False):
        response = client.get("/audit/")

    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "We could not record this action in the audit log" in body
    assert "Filter entries" not in body  # the audit page itself was withheld
    # Loading the signed-in user moved the session's last_seen_at: that change was not saved.
    assert _staff_session(manager).last_seen_at == SIGNED_IN_AT


def test_audit_write_failure_answers_problem_json_to_an_api_client(signed_in):
    manager = make_user(make_service(), Role.MANAGER)
    client = signed_in(manager)
    db.session.execute(text("ALTER TABLE audit_entries RENAME TO audit_entries_unavailable"))
    db.session.commit()
    response = client.get("/audit/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503


def test_audit_a_refused_page_is_recorded_though_its_data_is_rolled_back(signed_in):
    facilitator = make_user(make_service(), Role.FACILITATOR)
    with time_machine.travel(SIGNED_IN_AT, tick=False):
        client = signed_in(facilitator)
    db.session.commit()

    with time_machine.travel(LATER, tick=False):
        response = client.get("/audit/")

    assert response.status_code == 403
    refused = [e for e in _entries(facilitator.service_id) if e.action == "access.refused"]
    assert len(refused) == 1
    assert refused[0].outcome == "refused"
    assert refused[0].actor_user_id == facilitator.id
    assert refused[0].request_id == response.headers["X-Request-ID"]
    assert json.loads(refused[0].details) == {"method": "GET", "path": "/audit/", "status": 403}
    assert _staff_session(facilitator).last_seen_at == SIGNED_IN_AT


def test_audit_a_missing_object_is_recorded_as_a_refusal(signed_in):
    manager = make_user(make_service(), Role.MANAGER)
    client = signed_in(manager)
    db.session.commit()
    response = client.get("/audit/no-such-page")
    assert response.status_code == 404
    [refused] = [e for e in _entries(manager.service_id) if e.action == "access.refused"]
    assert json.loads(refused.details)["path"] == "/audit/no-such-page"


def test_audit_entries_a_view_recorded_are_kept_when_it_answers_with_an_error(signed_in):
    manager = make_user(make_service(), Role.MANAGER)
    with time_machine.travel(SIGNED_IN_AT, tick=False):
        client = signed_in(manager)
    db.session.commit()
    with time_machine.travel(LATER, tick=False):
        response = client.get("/audit/?date_from=40&date_from=13&date_from=2026")
    assert response.status_code == 400
    [viewed] = [e for e in _entries(manager.service_id) if e.action == "audit_log.viewed"]
    assert viewed.outcome == "invalid"
    assert _staff_session(manager).last_seen_at == SIGNED_IN_AT


def test_audit_anonymous_visitors_refused_a_page_are_not_logged_entry_by_entry(client):
    before = db.session.scalar(select(db.func.count()).select_from(AuditEntry))
    assert client.get("/no-such-page").status_code == 404
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == before
