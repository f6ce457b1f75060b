"""Readiness: no meeting without current, signed-off assessments (DOMAIN rule 2), on the clock it is given."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from factories import (
    give_full_consent,
    make_assessment,
    make_case,
    make_party,
    make_signed_off_assessment,
    make_submitted_assessment,
    make_user,
    sign_off_all_assessments,
)

from rj_scheduler.auth.models import Role
from rj_scheduler.cases.readiness import readiness, readiness_blockers
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.risk import services
from rj_scheduler.risk.models import Assessment
from rj_scheduler.risk.readiness import readiness_blockers_for_meeting

START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def team():
    facilitator = make_user(role=Role.FACILITATOR)
    facilitator.trained_for_sensitive_cases = True
    return {
        "facilitator": facilitator,
        "supervisor": make_user(facilitator.service, Role.SUPERVISOR),
        "manager": make_user(facilitator.service, Role.MANAGER),
    }


def _consenting_case(team, **options):
    case = make_case(team["facilitator"].service, lead=team["facilitator"], **options)
    for party in case.parties:
        give_full_consent(party)
    return case


def _decide(assessment, actor, decision="approved", comments=None):
    services.decide(
        assessment,
        decision,
        actor=actor,
        at=now(),
        comments=comments,
        seen_content_hash=assessment.content_hash,
        seen_version_number=assessment.version_number,
    )


def _main(case):
    return [p for p in case.parties if p.role in ("victim", "offender")]


def test_a_case_with_every_assessment_signed_off_and_consent_has_no_blockers(team):
    case = _consenting_case(team)
    assert len(readiness_blockers_for_meeting(case, _main(case), now())) == 4
    sign_off_all_assessments(case, author=team["facilitator"], approver=team["supervisor"])
    assert readiness_blockers_for_meeting(case, _main(case), now()) == []
    assert readiness_blockers(case) == []
    assert case.state == "ready", "the last sign-off makes the case ready by itself"


def test_each_missing_or_unapproved_assessment_is_a_plain_english_blocker(team):
    case = _consenting_case(team)
    victim, offender = _main(case)
    make_signed_off_assessment(victim, "suitability", author=team["facilitator"])
    make_submitted_assessment(victim, "risk", author=team["facilitator"])
    make_assessment(offender, "suitability", author=team["facilitator"])
    blockers = readiness_blockers_for_meeting(case, [victim, offender], now())
    assert blockers == [
        "The risk assessment of Vera Victim (victim) is not signed off: it is waiting for sign-off.",
        "The suitability assessment of Owen Offender (offender) is not signed off: it is draft.",
        "Owen Offender (offender) has no risk assessment yet.",
    ]


def test_editing_an_approved_assessment_turns_readiness_red(team):
    case = _consenting_case(team)
    sign_off_all_assessments(case, author=team["facilitator"], approver=team["manager"])
    assert case.state == "ready"
    victim = _main(case)[0]
    approved = db.session.scalar(
        db.select(Assessment).where(Assessment.party_id == victim.id, Assessment.kind == "risk")
    )

    services.start_new_version(approved, actor=team["facilitator"], at=now())

    blockers = readiness_blockers_for_meeting(case, _main(case), now())
    assert blockers == ["The risk assessment of Vera Victim (victim) is not signed off: it is draft."]
    assert case.state == "assessing"  # the case left "ready" by itself
    assert any(not item.met for item in readiness(case))


def test_an_approved_assessment_changed_behind_the_services_back_no_longer_counts(team):
    case = _consenting_case(team)
    sign_off_all_assessments(case, author=team["facilitator"], approver=team["manager"])
    victim = _main(case)[0]
    approved = db.session.scalar(
        db.select(Assessment).where(Assessment.party_id == victim.id, Assessment.kind == "risk")
    )
    approved.answers_json = approved.answers_json.replace('"no"', '"yes"', 1)
    db.session.flush()
    assert readiness_blockers_for_meeting(case, [victim], now()) == [
        "The risk assessment of Vera Victim (victim) changed after it was signed off: it needs sign-off again."
    ]


def test_a_sign_off_expires_after_the_services_period(team):
    with time_machine.travel(START, tick=False):
        case = _consenting_case(team)
        sign_off_all_assessments(case, author=team["facilitator"], approver=team["manager"])
    day_89 = START + dt.timedelta(days=89, hours=23)
    day_90 = START + dt.timedelta(days=90)
    assert readiness_blockers_for_meeting(case, _main(case), day_89) == []
    blockers = readiness_blockers_for_meeting(case, _main(case), day_90)
    assert len(blockers) == 4
    assert blockers[0] == (
        "The sign-off of the suitability assessment of Vera Victim (victim) expired on 31 May 2026:"
        " reassess and sign off again."
    )
    with time_machine.travel(day_90, tick=False):
        assert readiness_blockers(case) != []


def test_the_expiry_period_is_set_per_service(team):
    with time_machine.travel(START, tick=False):
        case = _consenting_case(team)
        sign_off_all_assessments(case, author=team["facilitator"], approver=team["manager"])
        services.update_settings(
            team["manager"].service, approval_valid_days=30, actor=team["manager"], at=now()
        )
    assert readiness_blockers_for_meeting(case, _main(case), START + dt.timedelta(days=29)) == []
    assert len(readiness_blockers_for_meeting(case, _main(case), START + dt.timedelta(days=30))) == 4
    other_service_case = _consenting_case({"facilitator": make_user()})
    with time_machine.travel(START, tick=False):
        sign_off_all_assessments(other_service_case)
    assert (
        readiness_blockers_for_meeting(
            other_service_case, _main(other_service_case), START + dt.timedelta(days=30)
        )
        == []
    )


def test_a_sensitive_case_needs_a_managers_approval_even_if_it_became_sensitive_after_sign_off(team):
    case = _consenting_case(team)
    sign_off_all_assessments(case, author=team["facilitator"], approver=team["supervisor"])
    assert readiness_blockers_for_meeting(case, _main(case), now()) == []
    case.flag_hate_crime = True
    db.session.flush()
    blockers = readiness_blockers_for_meeting(case, _main(case), now())
    assert len(blockers) == 4
    assert all("needs a manager's approval" in b for b in blockers)


def test_a_sensitive_case_needs_a_lead_facilitator_trained_for_it(team):
    case = _consenting_case(team, offence_category="sexual_offences")
    sign_off_all_assessments(case, author=team["facilitator"], approver=team["manager"])
    assert readiness_blockers_for_meeting(case, _main(case), now()) == []
    team["facilitator"].trained_for_sensitive_cases = False
    db.session.flush()
    assert readiness_blockers_for_meeting(case, _main(case), now()) == [
        "This is a sensitive case: its lead facilitator must be trained for sensitive cases (reassign the case)."
    ]


def test_mitigations_marked_before_the_conference_must_be_done(team):
    case = _consenting_case(team)
    victim, _offender = _main(case)
    risk = make_assessment(victim, "risk", author=team["facilitator"])
    mitigation = services.add_mitigation(
        risk,
        description="Separate waiting rooms booked",
        owner="Lead facilitator",
        before_conference=True,
        actor=team["facilitator"],
        at=now(),
    )
    services.add_mitigation(
        risk,
        description="Follow-up call",
        owner="Facilitator",
        before_conference=False,
        actor=team["facilitator"],
        at=now(),
    )
    services.submit(risk, actor=team["facilitator"], at=now())
    _decide(risk, team["supervisor"])
    make_signed_off_assessment(victim, "suitability", author=team["facilitator"])
    assert readiness_blockers_for_meeting(case, [victim], now()) == [
        "A mitigation for Vera Victim (victim) must be done before the conference: Separate waiting rooms booked"
    ]
    services.mark_mitigation_done(mitigation, done=True, actor=team["facilitator"], at=now())
    assert readiness_blockers_for_meeting(case, [victim], now()) == []
    assert risk.status == "approved"  # marking done is progress, not a change


def test_a_party_assessed_as_not_suitable_blocks_the_meeting(team):
    case = _consenting_case(team)
    _victim, offender = _main(case)
    make_signed_off_assessment(offender, "suitability", author=team["facilitator"], suitable=False)
    make_signed_off_assessment(offender, "risk", author=team["facilitator"])
    assert readiness_blockers_for_meeting(case, [offender], now()) == [
        "Owen Offender (offender) was assessed as not suitable for a meeting."
    ]


def test_attending_supporters_need_their_risk_check_and_consent(team):
    case = _consenting_case(team)
    victim = _main(case)[0]
    supporter = make_party(case, "supporter", full_name="Sue Supporter", supports=victim)
    sign_off_all_assessments(case, author=team["facilitator"], approver=team["manager"])
    # A supporter who has not agreed to take part, and whose risk check was then reopened.
    blockers = readiness_blockers_for_meeting(case, [victim, supporter], now())
    assert blockers == ["Sue Supporter (supporter) has not agreed to take part, or has withdrawn consent."]
    give_full_consent(supporter)
    check = db.session.scalar(db.select(Assessment).where(Assessment.party_id == supporter.id))
    services.start_new_version(check, actor=team["facilitator"], at=now())
    assert readiness_blockers_for_meeting(case, [victim, supporter], now()) == [
        "The supporter risk check of Sue Supporter (supporter) is not signed off: it is draft."
    ]
    # The meeting without the supporter may go ahead.
    assert readiness_blockers_for_meeting(case, [victim], now()) == []


def test_withdrawn_consent_to_take_part_blocks_the_meeting(team):
    from rj_scheduler.cases.services import record_consent

    case = _consenting_case(team)
    sign_off_all_assessments(case, author=team["facilitator"], approver=team["manager"])
    victim = _main(case)[0]
    record_consent(victim, "take_part", given=False, at=now(), method="phone", actor=team["facilitator"])
    assert readiness_blockers_for_meeting(case, _main(case), now()) == [
        "Vera Victim (victim) has not agreed to take part, or has withdrawn consent."
    ]
