"""The lifecycle table: which events each status allows, and why the others are refused."""

from __future__ import annotations

import pytest
from factories import make_case, make_party, make_user

from rj_scheduler.db import now
from rj_scheduler.risk import services
from rj_scheduler.risk.exceptions import AssessmentStartRefused
from rj_scheduler.risk.lifecycle import TRANSITIONS, Event, approval_event, next_status, refusal
from rj_scheduler.risk.models import AssessmentStatus as S


def test_the_allowed_transitions_are_exactly_these():
    allowed = {
        (status.value, event.value, target.value)
        for status, moves in TRANSITIONS.items()
        for event, target in moves.items()
    }
    assert allowed == {
        ("draft", "edit", "draft"),
        ("draft", "submit", "submitted"),
        ("returned", "edit", "draft"),
        ("returned", "submit", "submitted"),
        ("submitted", "approve", "approved"),
        ("submitted", "approve_pending_manager", "awaiting_manager"),
        ("submitted", "return", "returned"),
        ("awaiting_manager", "approve", "approved"),
        ("awaiting_manager", "return", "returned"),
        ("approved", "supersede", "superseded"),
    }


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("event", list(Event))
def test_every_refused_event_has_a_plain_english_reason(status, event):
    if next_status(status, event) is None:
        reason = refusal(status, event)
        assert reason is not None
        assert reason.endswith(f"this one is {status.label.lower()}.")
    else:
        assert refusal(status, event) is None


def test_a_superseded_assessment_is_final():
    assert TRANSITIONS[S.SUPERSEDED] == {}


@pytest.mark.parametrize(
    ("needs_manager", "by_manager", "expected"),
    [
        (False, False, Event.APPROVE),
        (False, True, Event.APPROVE),
        (True, False, Event.APPROVE_PENDING_MANAGER),
        (True, True, Event.APPROVE),
    ],
)
def test_only_a_manager_completes_an_approval_that_needs_one(needs_manager, by_manager, expected):
    assert approval_event(S.SUBMITTED, needs_manager, by_manager) == expected


def test_interpreters_are_not_assessed_and_supporters_only_have_a_risk_check():
    lead = make_user()
    case = make_case(lead.service, lead=lead)
    victim = case.parties[0]
    interpreter = make_party(case, "interpreter", organisation="Language Line")
    supporter = make_party(case, "supporter", supports=victim)
    with pytest.raises(AssessmentStartRefused, match="interpreter does not have a risk assessment"):
        services.start_assessment(interpreter, "risk", actor=lead, at=now())
    with pytest.raises(AssessmentStartRefused, match="supporter does not have a suitability"):
        services.start_assessment(supporter, "suitability", actor=lead, at=now())
    check = services.start_assessment(supporter, "risk", actor=lead, at=now())
    assert check.questionnaire_id == "supporter-risk"
    assert services.start_assessment(supporter, "risk", actor=lead, at=now()) is check
