"""The case state machine: every allowed and every refused transition, derivation, and properties."""

from __future__ import annotations

import itertools

import pytest
from factories import give_full_consent, make_case, make_ready_case, make_user
from hypothesis import given
from hypothesis import strategies as st

from rj_scheduler.cases.exceptions import TransitionRefused
from rj_scheduler.cases.models import CaseState, ClosureReason
from rj_scheduler.cases.services import change_state, record_consent
from rj_scheduler.cases.states import ALLOWED, CaseFacts, derived_state, transition_refusals
from rj_scheduler.db import now

S = CaseState
EASY = CaseFacts(anyone_contacted=True, someone_contacted_and_consenting=True)
ALL_PAIRS = list(itertools.product(CaseState, CaseState))
REFUSED_PAIRS = [(a, b) for a, b in ALL_PAIRS if b not in ALLOWED[a]]


@pytest.mark.parametrize(("current", "target"), REFUSED_PAIRS, ids=lambda s: s.value)
def test_every_transition_outside_the_table_is_refused_with_a_reason(current, target):
    reasons = transition_refusals(current, target, EASY, "withdrawn" if target == S.CLOSED else None)
    assert reasons, f"{current} -> {target} should be refused"
    assert all(r.endswith(".") for r in reasons)


@pytest.mark.parametrize(
    ("current", "target"), [(a, b) for a, b in ALL_PAIRS if b in ALLOWED[a]], ids=lambda s: s.value
)
def test_every_transition_in_the_table_is_allowed_when_its_conditions_hold(current, target):
    reason = "completed" if target == S.CLOSED and current in (S.CONFERENCE_HELD, S.FOLLOW_UP) else None
    if target == S.CLOSED and reason is None:
        reason = "withdrawn"
    assert transition_refusals(current, target, EASY, reason) == []


def test_closing_needs_a_reason():
    assert transition_refusals(S.CONTACTING, S.CLOSED, EASY) == ["Choose why the case is closing."]


@pytest.mark.parametrize(
    "current", [s for s in CaseState if s not in (S.CONFERENCE_HELD, S.FOLLOW_UP, S.CLOSED)]
)
def test_a_case_closes_as_completed_only_after_a_conference(current):
    assert transition_refusals(current, S.CLOSED, EASY, "completed") == [
        "A case can only close as completed after a conference has been held."
    ]


def test_a_self_referral_waits_for_triage_and_a_lead_before_contacting():
    facts = CaseFacts(needs_triage=True, has_lead_facilitator=False)
    assert transition_refusals(S.REFERRED, S.CONTACTING, facts) == [
        "A supervisor must triage this self-referral first.",
        "Assign a lead facilitator first.",
    ]


def test_assessing_needs_a_contacted_party_who_agreed_to_take_part():
    assert transition_refusals(S.CONTACTING, S.ASSESSING, CaseFacts()) == [
        "No victim or offender has been contacted and agreed to take part yet."
    ]


def test_ready_is_refused_while_the_readiness_checklist_has_gaps():
    facts = CaseFacts(readiness_blockers=("Not yet met: Owen agrees to take part.",))
    assert transition_refusals(S.ASSESSING, S.READY, facts) == ["Not yet met: Owen agrees to take part."]


def test_a_completed_case_cannot_be_reopened():
    facts = CaseFacts(closure_reason="completed")
    assert transition_refusals(S.CLOSED, S.CONTACTING, facts) == [
        "A completed case cannot be reopened: take a new referral instead."
    ]


@given(
    current=st.sampled_from(list(CaseState)),
    target=st.sampled_from(list(CaseState)),
    reason=st.one_of(st.none(), st.sampled_from([r.value for r in ClosureReason])),
    needs_triage=st.booleans(),
    has_lead=st.booleans(),
    contacted=st.booleans(),
    consenting=st.booleans(),
    blockers=st.lists(st.sampled_from(["Not yet met: a.", "Not yet met: b."]), max_size=2),
    closed_as=st.one_of(st.none(), st.sampled_from([r.value for r in ClosureReason])),
)
def test_allowed_transitions_are_always_in_the_table_and_refusals_always_say_why(
    current, target, reason, needs_triage, has_lead, contacted, consenting, blockers, closed_as
):
    facts = CaseFacts(
        needs_triage=needs_triage,
        has_lead_facilitator=has_lead,
        anyone_contacted=contacted,
        someone_contacted_and_consenting=contacted and consenting,
        readiness_blockers=tuple(blockers),
        closure_reason=closed_as,
    )
    reasons = transition_refusals(current, target, facts, reason)
    if not reasons:
        assert target in ALLOWED[current]
        if target == S.CLOSED:
            assert reason is not None
            if reason == ClosureReason.COMPLETED:
                assert current in (S.CONFERENCE_HELD, S.FOLLOW_UP)
        if target == S.READY:
            assert not blockers
    else:
        assert all(isinstance(r, str) and r for r in reasons)


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(list(CaseState)),
            st.one_of(st.none(), st.sampled_from([r.value for r in ClosureReason])),
        ),
        max_size=30,
    )
)
def test_any_sequence_of_attempts_keeps_the_case_in_a_reachable_state(steps):
    state, closed_as = S.REFERRED, None
    for target, reason in steps:
        facts = CaseFacts(
            anyone_contacted=True, someone_contacted_and_consenting=True, closure_reason=closed_as
        )
        if transition_refusals(state, target, facts, reason):
            continue
        assert target in ALLOWED[state]
        closed_as = reason if target == S.CLOSED else None
        state = target
        # A closed case always has its reason; an open one never does.
        assert (state == S.CLOSED) == (closed_as is not None)


@given(
    current=st.sampled_from(list(CaseState)),
    contacted=st.booleans(),
    consenting=st.booleans(),
    triage=st.booleans(),
    blocked=st.booleans(),
)
def test_a_derived_state_is_always_one_the_table_allows(current, contacted, consenting, triage, blocked):
    facts = CaseFacts(
        needs_triage=triage,
        anyone_contacted=contacted,
        someone_contacted_and_consenting=contacted and consenting,
        readiness_blockers=("Not yet met: x.",) if blocked else (),
    )
    target = derived_state(current, facts)
    if target is not None:
        assert target in ALLOWED[current]
        assert transition_refusals(current, target, facts) == []


# --- through the service, on the database -----------------------------------------------------


def test_a_refused_transition_changes_nothing_and_gives_the_reason():
    lead = make_user()
    case = make_case(lead=lead)
    with pytest.raises(TransitionRefused) as refused:
        change_state(case, "scheduled", actor=lead, at=now())
    assert "cannot move to scheduled" in refused.value.reasons[0]
    assert case.state == "referred"


def test_contact_and_consent_move_the_case_on_by_themselves():
    lead = make_user()
    case = make_case(lead=lead)
    victim = case.parties[0]
    give_full_consent(victim)
    assert case.state == "assessing"


def test_withdrawing_consent_to_take_part_takes_a_ready_case_back_to_assessing():
    case = make_ready_case()
    assert case.state == "ready"
    offender = next(p for p in case.parties if p.role == "offender")
    record_consent(offender, "take_part", given=False, at=now(), method="phone", actor=None)
    assert case.state == "assessing"


def test_closing_and_reopening_a_case_keeps_the_reason_only_while_closed():
    lead = make_user()
    case = make_case(lead=lead)
    change_state(case, "closed", actor=lead, at=now(), closure_reason="victim_declined")
    assert (case.state, case.closure_reason) == ("closed", "victim_declined")
    change_state(case, "contacting", actor=lead, at=now())
    assert (case.state, case.closure_reason, case.closed_at) == ("contacting", None, None)
