"""The sign-off queue and the dashboard notices cost the same number of statements however long they are."""

from __future__ import annotations

from factories import make_case, make_service, make_submitted_assessment, make_user

from rj_scheduler.auth.models import Role
from rj_scheduler.db import now
from rj_scheduler.risk import services
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.query_count import statements


def _build(n: int):
    service = make_service()
    facilitator = make_user(service)
    facilitator.trained_for_sensitive_cases = True
    supervisor = make_user(service, Role.SUPERVISOR)
    manager = make_user(service, Role.MANAGER)
    for i in range(n):
        case = make_case(service, lead=facilitator, offence_category="hate_crime" if i % 2 else "theft")
        for party in case.parties:
            assessment = make_submitted_assessment(party, "risk", author=facilitator)
            if i % 2:
                services.decide(
                    assessment,
                    "approved",
                    actor=supervisor,
                    at=now(),
                    comments=None,
                    seen_content_hash=assessment.content_hash,
                    seen_version_number=1,
                )
            elif party.role == "victim":
                services.decide(
                    assessment,
                    "returned",
                    actor=supervisor,
                    at=now(),
                    comments="More detail please.",
                    seen_content_hash=assessment.content_hash,
                    seen_version_number=1,
                )
    commit_unit_of_work()
    return facilitator, manager


def test_the_sign_off_queue_costs_the_same_for_two_or_eight_cases(signed_in):
    _, small_manager = _build(2)
    _, large_manager = _build(8)
    assert statements(signed_in(small_manager), "/sign-off") == statements(
        signed_in(large_manager), "/sign-off"
    )


def test_the_dashboard_notices_cost_the_same_for_one_or_four_returns(signed_in):
    small, _ = _build(2)
    large, _ = _build(8)
    assert statements(signed_in(small), "/dashboard") == statements(signed_in(large), "/dashboard")
