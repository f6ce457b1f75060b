"""List pages cost the same number of statements whatever the number of cases (no N+1)."""

from __future__ import annotations

import datetime as dt

import pytest
from factories import make_case, make_service, make_user

from rj_scheduler.auth.models import Role
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.query_count import statements


def _build(n: int):
    service = make_service()
    lead = make_user(service, full_name="Lead Facilitator")
    lead.trained_for_sensitive_cases = True
    other = make_user(service, full_name="Other Facilitator")
    other.trained_for_sensitive_cases = True
    supervisor = make_user(service, Role.SUPERVISOR)
    states = ["referred", "contacting", "assessing", "ready", "closed"]
    for i in range(n):
        case = make_case(
            service,
            lead=lead if i % 2 == 0 else other,
            state=states[i % len(states)],
            offence_category="hate_crime" if i % 3 == 0 else "theft",
            received_at=now() - dt.timedelta(days=i),
        )
        if i % 4 == 0:
            case.parties[0].reoffer_on = now().date() - dt.timedelta(days=1)
            case.parties[0].reoffer_justice_stage = "custody"
    db.session.flush()
    commit_unit_of_work()
    return lead, supervisor


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("lead", "/dashboard"),
        ("supervisor", "/dashboard"),
        ("supervisor", "/cases"),
        ("supervisor", "/cases?q=victim&sensitive=yes"),
        ("supervisor", "/cases?overdue=yes&page=2"),
    ],
)
def test_list_pages_cost_the_same_for_5_and_40_cases(signed_in, role, url):
    counts = []
    for n in (5, 40):
        lead, supervisor = _build(n)
        counts.append(statements(signed_in(lead if role == "lead" else supervisor), url))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 20
