"""`flask rj demo` shows every feature: cases in every state, and it is idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from rj_scheduler.audit.services import chain_ids, verify_chain
from rj_scheduler.auth.models import Service
from rj_scheduler.cases.models import Case, CaseState
from rj_scheduler.demo import DEMO_SERVICE_CODE


def _states(db_session) -> dict[str, int]:
    service = db_session.scalar(select(Service).where(Service.code == DEMO_SERVICE_CODE))
    rows = db_session.execute(
        select(Case.state, func.count()).where(Case.service_id == service.id).group_by(Case.state)
    ).all()
    return dict(rows)


def test_demo_has_cases_in_every_state_and_a_second_run_adds_nothing(app, db_session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["rj", "demo"])
    assert first.exit_code == 0, first.output
    states = _states(db_session)
    assert set(states) == {s.value for s in CaseState}, states
    assert "facilitator@example.org" in first.output

    second = runner.invoke(args=["rj", "demo"])
    assert second.exit_code == 0, second.output
    assert _states(db_session) == states
    for chain in chain_ids(db_session):
        assert list(verify_chain(db_session, chain)) == []
