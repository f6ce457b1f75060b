"""Two reviewers deciding on one assessment at the same moment make one decision, in real threads.

Each thread has its own session and connection and commits for real, as on a
real server. On PostgreSQL both threads read the assessment (still waiting for
sign-off) before either decides, so only the row lock taken by ``decide``
stops the second decision; on SQLite the write lock serialises the two
transactions. The test removes what it wrote.
"""

from __future__ import annotations

import secrets
import threading

import pytest
from sqlalchemy import delete, select

from rj_scheduler.auth.models import Role, Service, User
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.risk import services
from rj_scheduler.risk.exceptions import SignOffRefused
from rj_scheduler.risk.models import Assessment, AssessmentEditor, SignOff
from rj_scheduler.unit_of_work import commit_unit_of_work


@pytest.fixture
def submitted(app):
    from tests.factories import make_case, make_submitted_assessment, make_user

    with app.app_context():
        service = Service(name="Sign-off race area", code=f"S{secrets.token_hex(3)}")
        db.session.add(service)
        db.session.flush()
        facilitator = make_user(service, Role.FACILITATOR)
        reviewers = [make_user(service, Role.SUPERVISOR), make_user(service, Role.SUPERVISOR)]
        case = make_case(service, lead=facilitator)
        assessment = make_submitted_assessment(case.parties[0], "risk", author=facilitator)
        ids = (service.id, assessment.id, [r.id for r in reviewers])
        commit_unit_of_work()
        db.session.remove()
    yield ids
    with app.app_context():
        service_id = ids[0]
        assessment_ids = select(Assessment.id).where(Assessment.service_id == service_id)
        db.session.execute(delete(AssessmentEditor).where(AssessmentEditor.assessment_id.in_(assessment_ids)))
        db.session.execute(delete(SignOff).where(SignOff.service_id == service_id))
        from rj_scheduler.auth.models import StaffSession
        from rj_scheduler.cases.models import ContactWindow, Party

        party_ids = select(Party.id).where(Party.service_id == service_id)
        db.session.execute(delete(ContactWindow).where(ContactWindow.party_id.in_(party_ids)))
        user_ids = select(User.id).where(User.service_id == service_id)
        db.session.execute(delete(StaffSession).where(StaffSession.user_id.in_(user_ids)))
        for table in reversed(db.metadata.sorted_tables):
            if "service_id" in table.c and table.name != "users":
                db.session.execute(delete(table).where(table.c.service_id == service_id))
        db.session.execute(delete(User).where(User.service_id == service_id))
        db.session.execute(delete(Service).where(Service.id == service_id))
        db.session.commit()


@pytest.mark.no_db_isolation
def test_two_reviewers_deciding_at_once_make_exactly_one_decision(app, submitted):
    _service_id, assessment_id, reviewer_ids = submitted
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    both_read = threading.Barrier(2)
    outcomes: list[str] = []
    failures: list[BaseException] = []

    def decide(reviewer_id: int, decision: str) -> None:
        try:
            with app.app_context():
                reviewer = db.session.get(User, reviewer_id)
                assessment = db.session.get(Assessment, assessment_id)
                seen_hash, status = assessment.content_hash, assessment.status
                if postgres:
                    assert status == "submitted"
                    both_read.wait(timeout=30)
                try:
                    services.decide(
                        assessment,
                        decision,
                        actor=reviewer,
                        at=now(),
                        comments="Look again at the safety answers." if decision == "returned" else None,
                        seen_content_hash=seen_hash,
                        seen_version_number=1,
                    )
                except SignOffRefused as refused:
                    commit_unit_of_work(success=False)
                    outcomes.append("refused: " + " ".join(refused.reasons))
                else:
                    commit_unit_of_work()
                    outcomes.append(decision)
                finally:
                    db.session.remove()
        except BaseException as error:  # reported by the assertions below
            failures.append(error)

    threads = [
        threading.Thread(target=decide, args=(reviewer_ids[0], "approved")),
        threading.Thread(target=decide, args=(reviewer_ids[1], "returned")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    decided = [o for o in outcomes if not o.startswith("refused")]
    refused = [o for o in outcomes if o.startswith("refused")]
    assert len(decided) == 1, outcomes
    assert len(refused) == 1, outcomes
    assert "is not waiting for sign-off" in refused[0]
    with app.app_context():
        sign_offs = list(db.session.scalars(select(SignOff).where(SignOff.assessment_id == assessment_id)))
        assessment = db.session.get(Assessment, assessment_id)
        assert [s.decision for s in sign_offs] == decided
        assert assessment.status == decided[0]
