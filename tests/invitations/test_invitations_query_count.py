"""The meeting page's invitations panel and the tasks lists cost the same however many people are invited."""

from __future__ import annotations

from sqlalchemy import event

from rj_scheduler.conferences.booking import PartyPlan
from rj_scheduler.extensions import db
from tests.factories import give_full_consent, make_party
from tests.invitations.inv_helpers import book, reachable_setting


def _statements(client, url: str) -> int:
    engine = db.session.get_bind().engine
    client.get(url)
    count = 0

    def count_statement(*args, **kwargs):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert response.status_code == 200
    return count


def _with_more_people(s, count: int):
    """``count`` interpreters more (no assessment needed); the first is reachable only by letter."""
    extra = []
    for n, reachable in ((n, n > 0) for n in range(count)):
        person = make_party(
            s.case,
            "interpreter",
            full_name=f"Ida Interpreter{n}",
            email=f"ida{n}@example.org" if reachable else None,
            allow_email=reachable,
        )
        give_full_consent(person)
        extra.append(PartyPlan(person, s.meeting_room))
    return extra


def test_the_meeting_page_case_page_and_dashboard_cost_the_same_for_three_or_six_invited_parties(signed_in):
    counts = []
    for more in (1, 1, 4):  # the first round warms up what a first request loads once
        s = reachable_setting()
        parties = [PartyPlan(s.victim, s.victim_room), PartyPlan(s.offender, s.offender_room)]
        booked = book(s, parties=parties + _with_more_people(s, more))
        client = signed_in(s.lead)
        counts.append(
            (
                _statements(client, f"/meetings/{booked.meeting.public_id}"),
                _statements(client, f"/cases/{s.case.reference}"),
                _statements(client, "/dashboard"),
            )
        )
    assert counts[1] == counts[2], counts
