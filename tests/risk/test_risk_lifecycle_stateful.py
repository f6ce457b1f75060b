"""Property-based test of the assessment lifecycle (hypothesis stateful testing).

Random sequences of edits, level changes, submissions, approvals and returns
by various users (the author included), new versions and jumps of the clock.
The invariant: readiness is never green unless every attending victim's and
offender's assessments carry a current approval by someone who did not write
them (and by a manager where one is needed), made within the validity period.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from factories import give_full_consent, low_risk_answers, make_case, make_user
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from rj_scheduler.auth.models import Role
from rj_scheduler.extensions import db
from rj_scheduler.risk import queries, services
from rj_scheduler.risk.exceptions import (
    AnswersInvalid,
    AssessmentLocked,
    LevelInvalid,
    SignOffRefused,
    SubmissionRefused,
)
from rj_scheduler.risk.readiness import readiness_blockers_for_meeting

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
SLOTS = [("victim", "suitability"), ("victim", "risk"), ("offender", "suitability"), ("offender", "risk")]
USERS = ["facilitator", "supervisor1", "supervisor2", "manager1", "manager2"]
VALID_DAYS = 90
GREEN_SEEN: list[bool] = []


class AssessmentLifecycle(RuleBasedStateMachine):
    @initialize(sensitive=st.booleans(), authors=st.lists(st.sampled_from(USERS), min_size=4, max_size=4))
    def set_up(self, sensitive, authors):
        self.savepoint = db.session.begin_nested()
        self.clock = START
        facilitator = make_user(role=Role.FACILITATOR)
        facilitator.trained_for_sensitive_cases = True
        service = facilitator.service
        self.users = {
            "facilitator": facilitator,
            "supervisor1": make_user(service, Role.SUPERVISOR),
            "supervisor2": make_user(service, Role.SUPERVISOR),
            "manager1": make_user(service, Role.MANAGER),
            "manager2": make_user(service, Role.MANAGER),
        }
        self.case = make_case(
            service, lead=facilitator, offence_category="hate_crime" if sensitive else "theft"
        )
        self.parties = {p.role: p for p in self.case.parties}
        for party in self.case.parties:
            give_full_consent(party)
        for (role, kind), author in zip(SLOTS, authors, strict=True):
            party = self.parties[role]
            user = self.users[author]
            assessment = services.start_assessment(party, kind, actor=user, at=self.clock)
            services.save_answers(assessment, low_risk_answers(role, kind), actor=user, at=self.clock)
            services.record_level(
                assessment,
                final_level="low",
                rationale=None,
                suitable=True if kind == "suitability" else None,
                actor=user,
                at=self.clock,
            )

    def live(self, slot: int):
        role, kind = SLOTS[slot]
        return queries.live_assessment(db.session, self.parties[role], kind)

    @rule(slot=st.integers(0, 3), user=st.sampled_from(USERS), data=st.data())
    def edit_an_answer(self, slot, user, data):
        assessment = self.live(slot)
        questionnaire = services.questionnaire_of(assessment)
        question = data.draw(st.sampled_from(questionnaire.questions))
        allowed = question.allowed_values()
        value = data.draw(st.sampled_from([*allowed, ""]) if allowed else st.sampled_from(["Changed.", ""]))
        try:
            services.save_answers(assessment, {question.id: value}, actor=self.users[user], at=self.clock)
        except (AssessmentLocked, AnswersInvalid):
            assert not assessment.editable

    @rule(
        slot=st.integers(0, 3),
        user=st.sampled_from(USERS),
        level=st.sampled_from(["low", "medium", "high"]),
        suitable=st.booleans(),
        explain=st.booleans(),
    )
    def record_the_level(self, slot, user, level, suitable, explain):
        assessment = self.live(slot)
        with contextlib.suppress(AssessmentLocked, LevelInvalid):
            services.record_level(
                assessment,
                final_level=level,
                rationale="Because of what they said." if explain else None,
                suitable=suitable,
                actor=self.users[user],
                at=self.clock,
            )

    @rule(slot=st.integers(0, 3), user=st.sampled_from(USERS))
    def submit(self, slot, user):
        with contextlib.suppress(SubmissionRefused):
            services.submit(self.live(slot), actor=self.users[user], at=self.clock)

    @rule(
        slot=st.integers(0, 3),
        user=st.sampled_from(USERS),
        decision=st.sampled_from(["approved", "returned"]),
        stale=st.booleans(),
    )
    def decide(self, slot, user, decision, stale):
        assessment = self.live(slot)
        before = (assessment.status, len(assessment.sign_offs))
        try:
            services.decide(
                assessment,
                decision,
                actor=self.users[user],
                at=self.clock,
                comments="Please look again." if decision == "returned" else None,
                seen_content_hash="0" * 64 if stale else assessment.content_hash,
                seen_version_number=assessment.version_number,
            )
        except SignOffRefused:
            assert (assessment.status, len(assessment.sign_offs)) == before
        else:
            assert not stale
            assert self.users[user].id not in assessment.editor_ids

    @rule(slot=st.integers(0, 3), user=st.sampled_from(USERS))
    def change_an_approved_assessment(self, slot, user):
        with contextlib.suppress(AssessmentLocked):
            services.start_new_version(self.live(slot), actor=self.users[user], at=self.clock)

    @rule(approver=st.sampled_from(["manager1", "manager2"]))
    def submit_and_approve_everything_possible(self, approver):
        """Drive every slot towards approval (so green states are reached, then broken by other rules)."""
        for slot in range(len(SLOTS)):
            assessment = self.live(slot)
            with contextlib.suppress(SubmissionRefused):
                services.submit(assessment, actor=assessment.author, at=self.clock)
            with contextlib.suppress(SignOffRefused):
                services.decide(
                    assessment,
                    "approved",
                    actor=self.users[approver],
                    at=self.clock,
                    comments=None,
                    seen_content_hash=assessment.content_hash,
                    seen_version_number=assessment.version_number,
                )

    @rule(days=st.integers(min_value=1, max_value=60))
    def time_passes(self, days):
        self.clock += dt.timedelta(days=days)

    @invariant()
    def readiness_is_never_green_without_a_current_independent_approval(self):
        if not hasattr(self, "case"):
            return
        blockers = readiness_blockers_for_meeting(self.case, list(self.parties.values()), self.clock)
        if blockers:
            return
        GREEN_SEEN.append(True)
        for slot in range(len(SLOTS)):
            assessment = self.live(slot)
            assert assessment.status == "approved"
            writers = {assessment.author_id} | {e.user_id for e in assessment.editors}
            approvals = [
                s
                for s in assessment.sign_offs
                if s.decision == "approved"
                and s.assessment_version_number == assessment.version_number
                and s.content_hash == assessment.content_hash
                and s.signed_off_by_id not in writers
            ]
            assert approvals, "green without an approval by someone other than the author"
            assert self.clock < assessment.approved_at + dt.timedelta(days=VALID_DAYS)
            if assessment.final_level == "high" or self.case.is_sensitive:
                managers = {u.id for u in self.users.values() if u.role == "manager"}
                assert any(s.signed_off_by_id in managers for s in approvals), "green without a manager"
            if assessment.kind == "suitability":
                assert assessment.suitable is True

    @invariant()
    def nobody_ever_approved_what_they_wrote(self):
        # A reviewer who returned an assessment may go on to edit it; they can never approve it after.
        if not hasattr(self, "case"):
            return
        for slot in range(len(SLOTS)):
            for version in queries.versions(db.session, self.live(slot)):
                writers = {version.author_id} | {e.user_id for e in version.editors}
                approvers = {s.signed_off_by_id for s in version.sign_offs if s.decision == "approved"}
                assert not approvers & writers

    def teardown(self):
        # Each example runs in its own savepoint, so one example's data never affects the next.
        if hasattr(self, "savepoint") and self.savepoint.is_active:
            self.savepoint.rollback()


def test_readiness_is_never_green_without_a_current_approval_by_someone_other_than_the_author():
    run_state_machine_as_test(
        AssessmentLifecycle,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert GREEN_SEEN, "the machine never reached a green state, so the invariant was never tested"
