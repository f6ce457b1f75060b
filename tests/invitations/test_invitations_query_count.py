"""The meeting page's invitations panel and the tasks lists cost the same however many people are invited."""

from __future__ import annotations

from rj_scheduler.conferences.booking import PartyPlan
from tests.factories import give_full_consent, make_party
from tests.invitations.inv_helpers import book, reachable_setting
from tests.query_count import statements


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
                statements(client, f"/meetings/{booked.meeting.public_id}"),
                statements(client, f"/cases/{s.case.reference}"),
                statements(client, "/dashboard"),
            )
        )
    assert counts[1] == counts[2], counts
