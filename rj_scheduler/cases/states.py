"""The case state machine, in one place: the allowed transitions, their conditions and derivation.

This module is pure (no database): ``transition_refusals`` says why a move is
not allowed, given the facts of the case; ``derived_state`` says which state
the facts call for. ``rj_scheduler.cases.services.change_state`` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rj_scheduler.cases.models import CaseState, ClosureReason

S = CaseState

ALLOWED: dict[CaseState, frozenset[CaseState]] = {
    S.REFERRED: frozenset({S.CONTACTING, S.CLOSED}),
    S.CONTACTING: frozenset({S.ASSESSING, S.CLOSED}),
    S.ASSESSING: frozenset({S.CONTACTING, S.READY, S.CLOSED}),
    S.READY: frozenset({S.ASSESSING, S.SCHEDULED, S.CLOSED}),
    S.SCHEDULED: frozenset({S.READY, S.ASSESSING, S.CONFERENCE_HELD, S.CLOSED}),
    S.CONFERENCE_HELD: frozenset({S.FOLLOW_UP, S.CLOSED}),
    S.FOLLOW_UP: frozenset({S.CLOSED}),
    # Reopened when a party who said "not now" is offered restorative justice again.
    S.CLOSED: frozenset({S.CONTACTING}),
}

# A case closes as "completed" only after its conference.
COMPLETED_FROM = frozenset({S.CONFERENCE_HELD, S.FOLLOW_UP})


@dataclass(frozen=True)
class CaseFacts:
    """What the state machine needs to know about a case."""

    needs_triage: bool = False
    has_lead_facilitator: bool = True
    # Some victim or offender has been contacted.
    anyone_contacted: bool = False
    # Some victim or offender has been contacted and currently consents to take part.
    someone_contacted_and_consenting: bool = False
    # What stops the case being ready (empty when ready).
    readiness_blockers: tuple[str, ...] = field(default_factory=tuple)
    closure_reason: str | None = None


def transition_refusals(
    current: CaseState, target: CaseState, facts: CaseFacts, closure_reason: str | None = None
) -> list[str]:
    """Why a case in ``current`` may not move to ``target`` (empty list: allowed)."""
    current, target = CaseState(current), CaseState(target)
    if current == target:
        return [f"The case is already {current.label.lower()}."]
    if target not in ALLOWED[current]:
        options = ", ".join(sorted(s.label.lower() for s in ALLOWED[current]))
        return [
            f"A case that is {current.label.lower()} cannot move to {target.label.lower()}; it can move to: {options}."
        ]
    reasons: list[str] = []
    if target == S.CLOSED:
        if closure_reason is None:
            return ["Choose why the case is closing."]
        try:
            reason = ClosureReason(closure_reason)
        except ValueError:
            return ["Choose why the case is closing from the list."]
        if reason == ClosureReason.COMPLETED and current not in COMPLETED_FROM:
            reasons.append("A case can only close as completed after a conference has been held.")
        return reasons
    if closure_reason is not None:
        reasons.append("A closure reason is only given when closing a case.")
    if current == S.CLOSED:
        if facts.closure_reason == ClosureReason.COMPLETED:
            reasons.append("A completed case cannot be reopened: take a new referral instead.")
        if not facts.has_lead_facilitator:
            reasons.append("Assign a lead facilitator before reopening the case.")
        return reasons
    if target == S.CONTACTING and current == S.REFERRED:
        if facts.needs_triage:
            reasons.append("A supervisor must triage this self-referral first.")
        if not facts.has_lead_facilitator:
            reasons.append("Assign a lead facilitator first.")
    if target == S.ASSESSING and current == S.CONTACTING and not facts.someone_contacted_and_consenting:
        reasons.append("No victim or offender has been contacted and agreed to take part yet.")
    if target in (S.READY, S.SCHEDULED):
        reasons.extend(facts.readiness_blockers)
    return reasons


def derived_state(current: CaseState, facts: CaseFacts) -> CaseState | None:
    """The state the facts call for, or None to stay.

    A referred case moves to contacting once anyone has been contacted (after
    triage, with a lead facilitator); a contacting case moves to assessing once a contacted victim or
    offender agrees to take part; an assessing case is ready once its readiness
    checklist has no blocker (consent, signed-off assessments); a ready case goes
    back to assessing when it is no longer ready (for example, consent to take
    part was withdrawn, or an approval expired).
    """
    current = CaseState(current)
    if (
        current == S.REFERRED
        and facts.anyone_contacted
        and not facts.needs_triage
        and facts.has_lead_facilitator
    ):
        return S.CONTACTING
    if current == S.CONTACTING and facts.someone_contacted_and_consenting:
        return S.ASSESSING
    if current == S.ASSESSING and not facts.readiness_blockers:
        return S.READY
    if current == S.READY and facts.readiness_blockers:
        return S.ASSESSING
    return None
