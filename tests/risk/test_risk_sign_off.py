"""Sign-off: four eyes (also in the database), the manager's approval, stale forms, returns and new versions."""

from __future__ import annotations

import pytest
from factories import (
    low_risk_answers,
    make_assessment,
    make_case,
    make_returned_assessment,
    make_signed_off_assessment,
    make_submitted_assessment,
    make_user,
)
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.audit.services import seal_pending
from rj_scheduler.auth.models import Role
from rj_scheduler.cases.models import TimelineEvent
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.risk import services
from rj_scheduler.risk.exceptions import AssessmentLocked, LevelInvalid, SignOffRefused, SubmissionRefused
from rj_scheduler.risk.models import AssessmentNotice


def _decide(assessment, decision, actor, comments=None, **seen):
    return services.decide(
        assessment,
        decision,
        actor=actor,
        at=now(),
        comments=comments,
        seen_content_hash=seen.get("content_hash", assessment.content_hash),
        seen_version_number=seen.get("version_number", assessment.version_number),
    )


@pytest.fixture
def team():
    facilitator = make_user(role=Role.FACILITATOR)
    facilitator.trained_for_sensitive_cases = True
    service = facilitator.service
    return {
        "facilitator": facilitator,
        "supervisor": make_user(service, Role.SUPERVISOR),
        "supervisor2": make_user(service, Role.SUPERVISOR),
        "manager": make_user(service, Role.MANAGER),
        "manager2": make_user(service, Role.MANAGER),
    }


def _victim(team, **case_options):
    case = make_case(team["facilitator"].service, lead=team["facilitator"], **case_options)
    return next(p for p in case.parties if p.role == "victim")


@pytest.mark.parametrize("author_role", ["supervisor", "manager"])
def test_author_cannot_sign_off_own_assessment(team, author_role):
    author = team[author_role]
    assessment = make_submitted_assessment(_victim(team), "risk", author=author)
    with pytest.raises(SignOffRefused, match="You wrote this assessment"):
        _decide(assessment, "approved", author)
    assert assessment.status == "submitted"
    assert assessment.sign_offs == []


def test_nobody_who_edited_an_assessment_can_sign_it_off(team):
    assessment = make_assessment(_victim(team), "risk", author=team["facilitator"])
    services.save_answers(
        assessment, {"safety_notes": "Spoke to the police."}, actor=team["supervisor"], at=now()
    )
    services.submit(assessment, actor=team["facilitator"], at=now())
    with pytest.raises(SignOffRefused, match="You wrote this assessment"):
        _decide(assessment, "approved", team["supervisor"])
    _decide(assessment, "approved", team["supervisor2"])
    assert assessment.status == "approved"


_INSERT_SIGN_OFF = text(
    "INSERT INTO assessment_sign_offs (service_id, assessment_id, author_id, signed_off_by_id, decision,"
    " role_at_time, decided_at, content_hash, assessment_version_number)"
    " VALUES (:service_id, :assessment_id, :author_id, :by, 'approved', 'supervisor', :at, :hash, 1)"
)


def test_the_database_refuses_a_sign_off_by_the_author(team):
    assessment = make_submitted_assessment(_victim(team), "risk", author=team["supervisor"])
    params = {
        "service_id": assessment.service_id,
        "assessment_id": assessment.id,
        "author_id": assessment.author_id,
        "by": assessment.author_id,
        "at": now().replace(tzinfo=None),
        "hash": assessment.content_hash,
    }
    with pytest.raises(IntegrityError, match="not_by_author"), db.session.begin_nested():
        db.session.execute(_INSERT_SIGN_OFF, params)
    # The same row by someone else is accepted: the check is what refused it.
    with db.session.begin_nested():
        db.session.execute(_INSERT_SIGN_OFF, {**params, "by": team["manager"].id})


def test_the_database_refuses_a_sign_off_that_names_someone_else_as_author(team):
    assessment = make_submitted_assessment(_victim(team), "risk", author=team["supervisor"])
    params = {
        "service_id": assessment.service_id,
        "assessment_id": assessment.id,
        "author_id": team["facilitator"].id,  # not the author: the composite key refuses it
        "by": assessment.author_id,
        "at": now().replace(tzinfo=None),
        "hash": assessment.content_hash,
    }
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(_INSERT_SIGN_OFF, params)


def test_a_facilitator_cannot_sign_off(team):
    assessment = make_submitted_assessment(_victim(team), "risk", author=team["supervisor"])
    other = make_user(team["facilitator"].service, Role.FACILITATOR)
    with pytest.raises(SignOffRefused, match="Only a supervisor or a manager"):
        _decide(assessment, "approved", other)


def test_a_supervisor_of_another_service_cannot_sign_off(team):
    assessment = make_submitted_assessment(_victim(team), "risk", author=team["facilitator"])
    with pytest.raises(SignOffRefused, match="of this service"):
        _decide(assessment, "approved", make_user(role=Role.SUPERVISOR))


def test_a_supervisors_approval_of_a_high_risk_assessment_is_not_enough(team):
    assessment = make_submitted_assessment(
        _victim(team), "risk", author=team["facilitator"], final_level="high", rationale="Threats last week."
    )
    _decide(assessment, "approved", team["supervisor"])
    assert assessment.status == "awaiting_manager"
    assert assessment.approved_at is None
    with pytest.raises(SignOffRefused, match="needs a manager's approval"):
        _decide(assessment, "approved", team["supervisor2"])
    _decide(assessment, "approved", team["manager"])
    assert assessment.status == "approved"
    assert [s.role_at_time for s in assessment.sign_offs] == ["supervisor", "manager"]


def test_a_supervisors_approval_on_a_sensitive_case_is_not_enough(team):
    victim = _victim(team, offence_category="domestic_abuse_related")
    assert victim.case.is_sensitive
    assessment = make_submitted_assessment(victim, "risk", author=team["facilitator"])
    _decide(assessment, "approved", team["supervisor"])
    assert assessment.status == "awaiting_manager"
    _decide(assessment, "approved", team["manager"])
    assert assessment.status == "approved"


def test_a_managers_approval_alone_is_enough_for_a_low_risk_assessment(team):
    assessment = make_submitted_assessment(_victim(team), "risk", author=team["facilitator"])
    _decide(assessment, "approved", team["supervisor"])
    assert assessment.status == "approved"


def test_a_stale_approval_is_refused_and_changes_nothing(team):
    assessment = make_submitted_assessment(_victim(team), "risk", author=team["facilitator"])
    seen_hash = assessment.content_hash
    # Someone returns it, the author changes it and submits again while the reviewer's form is open.
    _decide(assessment, "returned", team["supervisor2"], comments="Add the safety notes.")
    services.save_answers(assessment, {"safety_notes": "Lives nearby."}, actor=team["facilitator"], at=now())
    services.submit(assessment, actor=team["facilitator"], at=now())
    with pytest.raises(SignOffRefused, match="changed after you opened it"):
        _decide(assessment, "approved", team["supervisor"], content_hash=seen_hash, version_number=1)
    assert assessment.status == "submitted"
    assert [s.decision for s in assessment.sign_offs] == ["returned"]


def test_an_approval_of_an_older_version_is_refused(team):
    assessment = make_submitted_assessment(_victim(team), "risk", author=team["facilitator"])
    with pytest.raises(SignOffRefused, match="changed after you opened it"):
        _decide(assessment, "approved", team["supervisor"], version_number=0)


def test_returning_needs_comments(team):
    assessment = make_submitted_assessment(_victim(team), "risk", author=team["facilitator"])
    with pytest.raises(SignOffRefused, match="Write comments"):
        _decide(assessment, "returned", team["supervisor"], comments="  ")
    assert assessment.status == "submitted"


def test_a_returned_assessment_goes_back_to_its_author_who_fixes_and_resubmits_it(team):
    victim = _victim(team)
    assessment = make_returned_assessment(
        victim, "risk", author=team["facilitator"], reviewer=team["supervisor"]
    )
    assert assessment.status == "returned"
    notice = db.session.scalar(
        select(AssessmentNotice).where(AssessmentNotice.assessment_id == assessment.id)
    )
    assert (notice.user_id, notice.kind) == (team["facilitator"].id, "returned")

    services.save_answers(
        assessment, {"safety_notes": "They live apart."}, actor=team["facilitator"], at=now()
    )
    assert assessment.status == "draft"
    services.submit(assessment, actor=team["facilitator"], at=now())
    assert assessment.status == "submitted"
    _decide(assessment, "approved", team["supervisor"])
    assert assessment.status == "approved"
    assert [s.decision for s in assessment.sign_offs] == ["returned", "approved"]
    kinds = set(db.session.scalars(select(TimelineEvent.kind).where(TimelineEvent.case_id == victim.case_id)))
    assert {
        "assessment_started",
        "assessment_submitted",
        "assessment_returned",
        "assessment_approved",
    } <= kinds


def test_submitting_lists_every_missing_required_answer(team):
    victim = _victim(team)
    answers = low_risk_answers("victim", "risk")
    for missing in ("relationship", "power_imbalance", "risk_to_staff"):
        answers.pop(missing)
    assessment = make_assessment(
        victim, "risk", author=team["facilitator"], answers=answers, final_level=None
    )
    with pytest.raises(SubmissionRefused) as refused:
        services.submit(assessment, actor=team["facilitator"], at=now())
    assert [key for key, _ in refused.value.missing] == [
        "relationship",
        "power_imbalance",
        "risk_to_staff",
        "final_level",
    ]
    assert "Answer “Is there any known risk to staff meeting them?”." in refused.value.reasons
    assert assessment.status == "draft"


def test_optional_questions_are_not_required_to_submit(team):
    answers = low_risk_answers("victim", "risk")
    answers.pop("safety_notes")
    assessment = make_assessment(_victim(team), "risk", author=team["facilitator"], answers=answers)
    services.submit(assessment, actor=team["facilitator"], at=now())
    assert assessment.status == "submitted"


def test_a_final_level_different_from_the_indicative_needs_a_rationale(team):
    assessment = make_assessment(_victim(team), "risk", author=team["facilitator"], final_level=None)
    assert assessment.indicative_level == "low"
    with pytest.raises(LevelInvalid) as refused:
        services.record_level(
            assessment,
            final_level="medium",
            rationale=" ",
            suitable=None,
            actor=team["facilitator"],
            at=now(),
        )
    assert "rationale" in refused.value.errors
    services.record_level(
        assessment, final_level="low", rationale=None, suitable=None, actor=team["facilitator"], at=now()
    )
    # The answers change the indicative level afterwards: submission asks for the rationale.
    services.save_answers(
        assessment,
        {"fear_of_retaliation": "yes", "power_imbalance": "yes"},
        actor=team["facilitator"],
        at=now(),
    )
    assert assessment.indicative_level == "medium"
    with pytest.raises(SubmissionRefused) as missing:
        services.submit(assessment, actor=team["facilitator"], at=now())
    assert [key for key, _ in missing.value.missing] == ["rationale"]


def test_a_suitability_assessment_needs_a_conclusion(team):
    assessment = make_assessment(_victim(team), "suitability", author=team["facilitator"], final_level=None)
    with pytest.raises(LevelInvalid) as refused:
        services.record_level(
            assessment, final_level="low", rationale=None, suitable=None, actor=team["facilitator"], at=now()
        )
    assert "suitable" in refused.value.errors


def test_an_approved_assessment_is_locked(team):
    assessment = make_signed_off_assessment(_victim(team), "risk", author=team["facilitator"])
    with pytest.raises(AssessmentLocked, match="Start a new version"):
        services.save_answers(assessment, {"safety_notes": "x"}, actor=team["facilitator"], at=now())
    with pytest.raises(AssessmentLocked):
        services.add_mitigation(
            assessment,
            description="x",
            owner="y",
            before_conference=False,
            actor=team["facilitator"],
            at=now(),
        )


def test_changing_an_approved_assessment_creates_a_new_version_and_keeps_the_old_approval(team):
    old = make_signed_off_assessment(
        _victim(team), "risk", author=team["facilitator"], approver=team["manager"]
    )
    new = services.start_new_version(old, actor=team["supervisor"], at=now())
    assert (old.status, new.status) == ("superseded", "draft")
    assert (new.version_number, new.previous_id, new.author_id) == (2, old.id, team["supervisor"].id)
    assert new.answers == old.answers
    assert [s.decision for s in old.sign_offs] == ["approved"]
    assert new.sign_offs == []
    with pytest.raises(AssessmentLocked):
        services.start_new_version(old, actor=team["supervisor"], at=now())


def test_every_change_submission_and_decision_is_audited(team):
    assessment = make_signed_off_assessment(_victim(team), "risk", author=team["facilitator"])
    with pytest.raises(SignOffRefused):
        _decide(assessment, "approved", team["supervisor"])
    seal_pending(db.session)
    actions = list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "assessment", AuditEntry.object_id == assessment.public_id)
            .order_by(AuditEntry.seq)
        )
    )
    assert actions == [
        "assessment.created",
        "assessment.answers_saved",
        "assessment.level_recorded",
        "assessment.submitted",
        "assessment.approved",
        "assessment.sign_off_refused",
    ]


def test_the_writer_of_an_earlier_version_cannot_sign_off_the_new_version(team):
    old = make_signed_off_assessment(
        _victim(team), "risk", author=team["supervisor"], approver=team["manager"]
    )
    new = services.start_new_version(old, actor=team["facilitator"], at=now())
    services.save_answers(new, {"safety_notes": "Moved house."}, actor=team["facilitator"], at=now())
    services.submit(new, actor=team["facilitator"], at=now())
    with pytest.raises(SignOffRefused, match="You wrote this assessment"):
        _decide(new, "approved", team["supervisor"])
    _decide(new, "approved", team["supervisor2"])
    assert new.status == "approved"


@pytest.mark.parametrize("decision", ["approved", "returned"])
def test_the_author_is_emailed_a_decision_without_the_partys_name(team, decision):
    from rj_scheduler.notify.models import OutboxMessage

    party = _victim(team)
    assessment = make_submitted_assessment(party, "risk", author=team["facilitator"])
    _decide(assessment, decision, team["manager"], comments="Please add the safety plan.")
    emails = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.user_id == team["facilitator"].id, OutboxMessage.kind == "staff_sign_off_decision"
        )
    ).all()
    assert len(emails) == 1
    email = emails[0]
    assert email.to_address == team["facilitator"].email
    assert assessment.case.reference in email.subject
    assert ("returned" in email.body_text) == (decision == "returned")
    assert party.full_name not in email.body_text + email.subject
