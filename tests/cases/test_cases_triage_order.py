"""The triage list shows the oldest self-referral first: the Victims' Code clock is running."""

from __future__ import annotations

import datetime as dt

from rj_scheduler.cases.queries import CaseFilters, team_cases
from rj_scheduler.db import now
from tests.factories import make_case, make_service


def test_triage_list_is_oldest_first_and_team_list_newest_first(db_session):
    service = make_service()
    older = make_case(service)
    newer = make_case(service)
    older.needs_triage = newer.needs_triage = True
    older.received_at = now() - dt.timedelta(days=3)
    newer.received_at = now() - dt.timedelta(days=1)
    db_session.flush()
    today = now().date()
    triage = team_cases(db_session, service.id, CaseFilters(needs_triage=True), today)
    assert [c.id for c in triage.items] == [older.id, newer.id]
    team = team_cases(db_session, service.id, CaseFilters(), today)
    assert [c.id for c in team.items] == [newer.id, older.id]
