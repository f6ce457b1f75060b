"""The demo data has assessments at every sign-off stage, and loading it twice adds nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from rj_scheduler.cases.models import Case
from rj_scheduler.db import now
from rj_scheduler.demo import DEMO_LOADERS, load_core_demo
from rj_scheduler.extensions import db
from rj_scheduler.risk.models import Assessment
from rj_scheduler.risk.readiness import readiness_blockers_for_meeting


def _load() -> None:
    context = load_core_demo()
    for loader in DEMO_LOADERS:
        loader(context)


def test_the_demo_has_assessments_at_every_sign_off_stage_once():
    _load()
    statuses = dict(
        db.session.execute(select(Assessment.status, func.count()).group_by(Assessment.status)).all()
    )
    assert set(statuses) == {"draft", "submitted", "returned", "awaiting_manager", "approved", "superseded"}
    total = sum(statuses.values())
    _load()
    assert db.session.scalar(select(func.count(Assessment.id))) == total

    ready = db.session.scalar(select(Case).where(Case.crime_reference == "DEMO/007/26"))
    main = [p for p in ready.parties if p.role in ("victim", "offender")]
    assert readiness_blockers_for_meeting(ready, main, now()) == []
    expired = db.session.scalar(select(Case).where(Case.crime_reference == "DEMO/008/26"))
    blockers = readiness_blockers_for_meeting(expired, expired.parties, now() + dt.timedelta(minutes=1))
    assert blockers
    assert all("expired" in b for b in blockers)
