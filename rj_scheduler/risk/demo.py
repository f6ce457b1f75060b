"""Demo assessments on the cases demo's cases, at every sign-off stage.

Draft, submitted, returned with comments, waiting for a manager, approved,
approved but expired, and approved then changed (a new version). Built on the
cases demo's cases, found by their crime references; idempotent: if the demo
service already has assessments, nothing is added.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from rj_scheduler.cases.models import Case
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.risk import services
from rj_scheduler.risk.models import Assessment
from rj_scheduler.risk.questionnaires import default_library

FACILITATOR = "facilitator@example.org"
FACILITATOR_2 = "facilitator2@example.org"
SUPERVISOR = "supervisor@example.org"
MANAGER = "manager@example.org"

# crime reference -> [(party role, kind, stage, author, days ago)]
PLAN: dict[str, list[tuple[str, str, str, str, int]]] = {
    "DEMO/005/26": [
        ("victim", "suitability", "draft", FACILITATOR_2, 2),
        ("victim", "risk", "submitted", FACILITATOR_2, 3),
    ],
    "DEMO/006/26": [
        ("victim", "suitability", "returned", FACILITATOR, 6),
        ("victim", "risk", "awaiting_manager", FACILITATOR, 5),
        ("offender", "risk", "submitted_high", FACILITATOR, 1),
    ],
    "DEMO/007/26": [
        ("victim", "suitability", "approved", FACILITATOR, 10),
        ("victim", "risk", "approved", FACILITATOR, 10),
        ("offender", "suitability", "approved", FACILITATOR, 9),
        ("offender", "risk", "approved", FACILITATOR, 9),
    ],
    "DEMO/008/26": [
        ("victim", "suitability", "approved", FACILITATOR_2, 100),
        ("victim", "risk", "approved", FACILITATOR_2, 100),
        ("offender", "suitability", "approved", FACILITATOR_2, 99),
        ("offender", "risk", "approved", FACILITATOR_2, 99),
    ],
    "DEMO/010/26": [
        ("victim", "suitability", "approved", FACILITATOR, 40),
        ("victim", "risk", "changed", FACILITATOR, 40),
        ("offender", "suitability", "approved", FACILITATOR, 39),
        ("offender", "risk", "approved", FACILITATOR, 39),
    ],
}


def _answers(role: str, kind: str, high: bool) -> dict[str, str]:
    """Invented answers: nothing of concern, or (``high``) threats of retaliation and a power imbalance."""
    answers: dict[str, str] = {}
    for question in default_library().newest(role, kind).questions:
        allowed = question.allowed_values()
        if allowed is None:
            answers[question.id] = "Talked this through at the home visit; nothing further of concern."
            continue
        raising = question.risk.raises_when if question.risk else frozenset()
        answers[question.id] = next(v for v in reversed(allowed) if v not in raising)
    if high and role == "offender" and kind == "risk":
        answers.update(retaliation_risk="yes", power_imbalance="yes", relationship="family_or_partner")
    return answers


def _decide(
    assessment: Assessment, decision: str, user, at: dt.datetime, comments: str | None = None
) -> None:
    services.decide(
        assessment,
        decision,
        actor=user,
        at=at,
        comments=comments,
        seen_content_hash=assessment.content_hash,
        seen_version_number=assessment.version_number,
    )


def _build(party, kind: str, stage: str, author, users, at: dt.datetime) -> None:
    high = stage == "submitted_high"
    assessment = services.start_assessment(party, kind, actor=author, at=at)
    services.save_answers(assessment, _answers(party.role, kind, high), actor=author, at=at)
    if stage == "draft":
        return
    level = assessment.indicative_level
    services.record_level(
        assessment,
        final_level=level,
        rationale=None,
        suitable=True if kind == "suitability" else None,
        actor=author,
        at=at,
    )
    if kind == "risk" and not high:
        services.add_mitigation(
            assessment,
            description="Separate waiting rooms and staggered arrival times",
            owner="Lead facilitator",
            before_conference=True,
            actor=author,
            at=at,
        )
    services.submit(assessment, actor=author, at=at + dt.timedelta(hours=1))
    decided = at + dt.timedelta(hours=3)
    supervisor, manager = users[SUPERVISOR], users[MANAGER]
    if stage in ("submitted", "submitted_high"):
        return
    if stage == "returned":
        _decide(
            assessment,
            "returned",
            supervisor,
            decided,
            "Please say more about how they feel about meeting him, and who will support them on the day.",
        )
        return
    approver = manager if assessment.needs_manager else supervisor
    _decide(assessment, "approved", supervisor if stage == "awaiting_manager" else approver, decided)
    if stage == "awaiting_manager":
        return
    for mitigation in assessment.mitigations:
        services.mark_mitigation_done(mitigation, done=True, actor=author, at=decided)
    if stage == "changed":
        services.start_new_version(assessment, actor=author, at=now() - dt.timedelta(days=1))


def load_demo(context) -> None:
    """Add demo assessments to the cases demo's cases once."""
    service = context.service
    if db.session.scalar(select(func.count(Assessment.id)).where(Assessment.service_id == service.id)):
        return
    at_now = now()
    added = 0
    for crime_reference, plan in PLAN.items():
        case = db.session.scalar(
            select(Case).where(Case.service_id == service.id, Case.crime_reference == crime_reference)
        )
        if case is None:
            continue
        parties = {p.role: p for p in case.parties}
        for role, kind, stage, author_email, days_ago in plan:
            party = parties.get(role)
            author = context.users.get(author_email)
            if party is None or author is None:
                continue
            _build(party, kind, stage, author, context.users, at_now - dt.timedelta(days=days_ago))
            added += 1
    db.session.flush()
    context.notes.append(
        f"Risk: {added} demo assessments (draft, submitted, returned, waiting for a manager, approved,"
        " expired, changed). Supervisors see them under Sign-off."
    )
