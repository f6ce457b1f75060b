"""Readiness: may a meeting go ahead for these participants, and if not, why (DOMAIN rules 1-3).

``readiness_blockers_for_meeting`` is the one function the conferences
capability calls before booking and before each message; ``risk_checks`` adds
the same conditions to the case page's checklist
(``rj_scheduler.cases.readiness.READINESS_CHECKS``). Both use the clock they
are given, never the wall clock, so expiry can be tested.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from rj_scheduler.cases.consent import has_consent
from rj_scheduler.cases.models import Case, ConsentKind, Party, PartyRole
from rj_scheduler.cases.readiness import READINESS_CHECKS, ReadinessItem
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.risk import queries
from rj_scheduler.risk.levels import RiskLevel
from rj_scheduler.risk.models import Assessment, AssessmentKind, AssessmentStatus, Decision, SignOff
from rj_scheduler.risk.questionnaires import default_library
from rj_scheduler.templating import london

ASSESSED_ROLES = (PartyRole.VICTIM, PartyRole.OFFENDER, PartyRole.SUPPORTER)


def kinds_for(party: Party) -> list[str]:
    """The assessments a party needs: victims and offenders both kinds; supporters the short risk check."""
    if party.role not in {r.value for r in ASSESSED_ROLES}:
        return []
    return default_library().kinds_for(party.role)


def _who(party: Party) -> str:
    return f"{party.display_name} ({party.role_label.lower()})"


def _what(kind: str, party: Party) -> str:
    if party.role == PartyRole.SUPPORTER:
        return "supporter risk check"
    return AssessmentKind(kind).label.lower()


def needs_manager(assessment: Assessment, case: Case) -> bool:
    """A high final level or a sensitive case needs a manager's approval (DOMAIN rule 3)."""
    return assessment.final_level == RiskLevel.HIGH or bool(case.is_sensitive)


def current_approvals(assessment: Assessment) -> list[SignOff]:
    """The approvals of this version that approved exactly its present content, by someone who did not write it."""
    content = assessment.content_hash
    editors = assessment.editor_ids
    return [
        s
        for s in assessment.sign_offs
        if s.decision == Decision.APPROVED
        and s.assessment_version_number == assessment.version_number
        and s.content_hash == content
        and s.signed_off_by_id not in editors
    ]


def expires_at(assessment: Assessment, valid_days: int) -> dt.datetime | None:
    if assessment.approved_at is None:
        return None
    return assessment.approved_at + dt.timedelta(days=valid_days)


def assessment_problems(
    assessment: Assessment | None, party: Party, kind: str, *, at: dt.datetime, valid_days: int
) -> list[str]:
    """Why this assessment is not a current, signed-off assessment (empty when it is).

    Current means: approved, by someone who did not write it (and by a manager
    where one is needed), unchanged since, not replaced by a newer version, not
    expired, concluded suitable (suitability), and every mitigation marked
    "before the conference" done.
    """
    who, what = _who(party), _what(kind, party)
    if assessment is None:
        return [f"{who} has no {what} yet."]
    status = AssessmentStatus(assessment.status)
    if status == AssessmentStatus.AWAITING_MANAGER:
        return [f"The {what} of {who} is waiting for a manager's approval."]
    if status != AssessmentStatus.APPROVED:
        return [f"The {what} of {who} is not signed off: it is {status.label.lower()}."]
    approvals = current_approvals(assessment)
    if not approvals:
        return [f"The {what} of {who} changed after it was signed off: it needs sign-off again."]
    problems: list[str] = []
    if needs_manager(assessment, party.case) and not any(s.by_manager for s in approvals):
        problems.append(f"The {what} of {who} needs a manager's approval (high risk or a sensitive case).")
    ends = expires_at(assessment, valid_days)
    if ends is not None and at >= ends:
        problems.append(
            f"The sign-off of the {what} of {who} expired on {london(ends, '%-d %B %Y')}: reassess and sign off again."
        )
    if assessment.kind == AssessmentKind.SUITABILITY and assessment.suitable is not True:
        problems.append(f"{who} was assessed as not suitable for a meeting.")
    for mitigation in assessment.mitigations:
        if mitigation.before_conference and not mitigation.done:
            problems.append(
                f"A mitigation for {who} must be done before the conference: {mitigation.description}"
            )
    return problems


def _consent_problem(party: Party) -> str | None:
    if has_consent(party, ConsentKind.TAKE_PART):
        return None
    return f"{_who(party)} has not agreed to take part, or has withdrawn consent."


def _lead_problem(case: Case) -> str | None:
    lead = case.lead_facilitator
    if case.is_sensitive and (lead is None or not lead.trained_for_sensitive_cases):
        return (
            "This is a sensitive case: its lead facilitator must be trained for sensitive cases"
            " (reassign the case)."
        )
    return None


def readiness_blockers_for_meeting(case: Case, participants: Iterable[Party], at: dt.datetime) -> list[str]:
    """Everything that stops a meeting of ``case`` with these participants going ahead at ``at`` (empty: it may).

    For every attending victim, offender and supporter: current consent to
    take part; for victims and offenders a current signed-off suitability and
    risk assessment, for supporters a signed-off risk check; a manager's
    approval where one is needed; mitigations marked "before the conference"
    done; and for a sensitive case a lead facilitator trained for such cases.
    """
    session = db.session
    live = queries.live_assessments_for_case(session, case)
    valid_days = queries.approval_valid_days(session, case.service_id)
    blockers: list[str] = []
    lead = _lead_problem(case)
    if lead:
        blockers.append(lead)
    for party in participants:
        if party.case_id != case.id:
            blockers.append(f"{party.display_name} is not part of this case.")
            continue
        if party.role not in {r.value for r in ASSESSED_ROLES}:
            continue
        consent = _consent_problem(party)
        if consent:
            blockers.append(consent)
        for kind in kinds_for(party):
            blockers.extend(
                assessment_problems(live.get((party.id, kind)), party, kind, at=at, valid_days=valid_days)
            )
    return blockers


def risk_checks(case: Case, at: dt.datetime | None = None) -> list[ReadinessItem]:
    """The case page's checklist items for assessments and sign-off (every victim, offender and supporter)."""
    at = at or now()
    session = db.session
    live = queries.live_assessments_for_case(session, case)
    valid_days = queries.approval_valid_days(session, case.service_id)
    items: list[ReadinessItem] = []
    if case.is_sensitive:
        lead = _lead_problem(case)
        items.append(
            ReadinessItem(
                "Assessments and sign-off",
                lead or "The lead facilitator is trained for sensitive cases",
                lead is None,
            )
        )
    for party in case.parties:
        for kind in kinds_for(party):
            problems = assessment_problems(
                live.get((party.id, kind)), party, kind, at=at, valid_days=valid_days
            )
            label = (
                " ".join(problems)
                if problems
                else f"The {_what(kind, party)} of {_who(party)} is signed off and current"
            )
            items.append(ReadinessItem("Assessments and sign-off", label, not problems))
    return items


if risk_checks not in READINESS_CHECKS:
    READINESS_CHECKS.append(risk_checks)
