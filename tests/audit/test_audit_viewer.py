"""Managers read their own service's audit log; nobody else reads it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from sqlalchemy import event, select

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.auth.models import Role, User
from rj_scheduler.extensions import db
from tests.audit.audit_helpers import write_entries
from tests.factories import make_service, make_user


@pytest.fixture
def manager():
    return make_user(make_service(), Role.MANAGER, full_name="Morgan Manager")


def _committed(*objects):
    db.session.commit()
    return objects


def test_audit_manager_sees_only_their_own_services_entries(signed_in, manager):
    other = make_service()
    write_entries(manager.service, 2, object_prefix="OURS-")
    write_entries(other, 2, object_prefix="THEIRS-")
    response = signed_in(manager).get("/audit/")
    assert response.status_code == 200
    assert b"OURS-1" in response.data
    assert b"OURS-2" in response.data
    assert b"THEIRS-" not in response.data


def test_audit_facilitator_and_supervisor_are_refused_the_audit_log(signed_in):
    service = make_service()
    for role in (Role.FACILITATOR, Role.SUPERVISOR):
        user = make_user(service, role)
        db.session.commit()
        assert signed_in(user).get("/audit/").status_code == 403


def test_audit_viewing_the_log_is_itself_recorded(signed_in, manager):
    db.session.commit()
    response = signed_in(manager).get("/audit/?action=case")
    assert response.status_code == 200
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.chain_id == manager.service_id).order_by(AuditEntry.seq.desc())
    ).first()
    assert entry.action == "audit_log.viewed"
    assert entry.actor_user_id == manager.id
    assert entry.service_id == manager.service_id
    assert entry.request_id == response.headers["X-Request-ID"]
    assert '"action":"case"' in entry.details


def test_audit_entries_are_shown_newest_first_in_london_time_with_the_actors_name(signed_in, manager):
    with time_machine.travel(dt.datetime(2026, 7, 1, 11, 5, 9, tzinfo=dt.UTC), tick=False):
        write_entries(manager.service, 1, actor=manager, object_prefix="SUMMER-")
    with time_machine.travel(dt.datetime(2026, 7, 2, 8, 0, tzinfo=dt.UTC), tick=False):
        write_entries(manager.service, 1, action="case.changed", object_prefix="LATER-")
    body = signed_in(manager).get("/audit/").get_data(as_text=True)
    assert "1 Jul 2026, 12:05:09" in body  # British Summer Time
    assert body.index("LATER-1") < body.index("SUMMER-1")
    summer_row = body[body.index("1 Jul 2026") :]
    assert "Morgan Manager" in summer_row[: summer_row.index("SUMMER-1")]


def test_audit_filters_by_action_staff_member_object_and_dates(signed_in, manager):
    colleague = make_user(manager.service, Role.FACILITATOR, full_name="Casey Colleague")
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False):
        write_entries(manager.service, 1, actor=colleague, action="case.viewed", object_prefix="MARCH-")
    with time_machine.travel(dt.datetime(2026, 4, 2, 10, 0, tzinfo=dt.UTC), tick=False):
        write_entries(
            manager.service,
            1,
            actor=manager,
            action="user.changed",
            object_type="user",
            object_prefix="APRIL-",
        )
    client = signed_in(manager)

    def shown(query: str) -> set[str]:
        response = client.get("/audit/" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_data(as_text=True)
        return {name for name in ("MARCH-1", "APRIL-1") if name in body}

    assert shown("") == {"MARCH-1", "APRIL-1"}
    assert shown("?action=case") == {"MARCH-1"}
    assert shown("?action=user.changed") == {"APRIL-1"}
    assert shown("?action=cas") == set()
    assert shown(f"?staff_member={colleague.public_id}") == {"MARCH-1"}
    assert shown("?object_type=user") == {"APRIL-1"}
    assert shown("?object_id=MARCH-1") == {"MARCH-1"}
    assert shown("?date_from=1&date_from=4&date_from=2026") == {"APRIL-1"}
    assert shown("?date_to=31&date_to=3&date_to=2026") == {"MARCH-1"}
    assert shown("?date_from=2&date_from=3&date_from=2026&date_to=2&date_to=3&date_to=2026") == {"MARCH-1"}


def test_audit_filter_refuses_another_services_staff_member_and_unreal_dates(signed_in, manager):
    stranger = make_user(make_service(), Role.FACILITATOR)
    db.session.commit()
    client = signed_in(manager)
    response = client.get(f"/audit/?staff_member={stranger.public_id}")
    assert response.status_code == 400
    assert "Select a member of your service&#39;s staff from the list" in response.get_data(as_text=True)
    response = client.get("/audit/?date_from=31&date_from=2&date_from=2026")
    assert response.status_code == 400
    assert "From must be a real date" in response.get_data(as_text=True)
    response = client.get("/audit/?date_from=31")
    assert response.status_code == 400
    assert "From must include a day, month and year" in response.get_data(as_text=True)


def _entry_numbers(body: str) -> list[int]:
    return [int(n) for n in re.findall(r"<code>E(\d+)</code>", body)]


def _link(body: str, rel: str) -> str | None:
    match = re.search(r'href="([^"]+)" rel="' + rel + '"', body)
    return match.group(1).replace("&amp;", "&") if match else None


def test_audit_pages_hold_fifty_entries_and_link_older_and_newer(signed_in, manager):
    write_entries(manager.service, 120, object_prefix="E")
    client = signed_in(manager)
    first = client.get("/audit/?object_type=case").get_data(as_text=True)
    assert _entry_numbers(first) == list(range(120, 70, -1))
    assert _link(first, "prev") is None
    second = client.get(_link(first, "next")).get_data(as_text=True)
    assert _entry_numbers(second) == list(range(70, 20, -1))
    third = client.get(_link(second, "next")).get_data(as_text=True)
    assert _entry_numbers(third) == list(range(20, 0, -1))
    assert _link(third, "next") is None
    back = client.get(_link(third, "prev")).get_data(as_text=True)
    assert _entry_numbers(back) == list(range(70, 20, -1))
    assert "object_type=case" in _link(back, "prev")  # the filters travel with the page links
    assert _entry_numbers(client.get(_link(back, "prev")).get_data(as_text=True)) == list(range(120, 70, -1))


def test_audit_list_page_query_count_does_not_grow_with_entries_or_actors(app, signed_in, manager):
    def statements_for_page(entries: int) -> int:
        service = make_service()
        viewer = make_user(service, Role.MANAGER)
        # Actors without a real password hash: hashing sixty passwords would only slow the test.
        actors = [
            User(
                service=service,
                email=f"actor{n}-{service.code.lower()}@example.org",
                full_name=f"Actor {n}",
                role=Role.FACILITATOR.value,
                password_hash="unusable",
            )
            for n in range(entries)
        ]
        db.session.add_all(actors)
        db.session.flush()
        for actor in actors:
            write_entries(service, 1, actor=actor)
        client = signed_in(viewer)
        db.session.commit()
        client.get("/audit/")  # warm up: the first request loads more (session row, templates)
        count = 0

        def count_statement(*args, **kwargs):
            nonlocal count
            count += 1

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count_statement)
        try:
            response = client.get("/audit/")
        finally:
            event.remove(engine, "before_cursor_execute", count_statement)
        assert response.status_code == 200
        return count

    few = statements_for_page(2)
    many = statements_for_page(60)
    assert few == many
    assert many <= 15
