"""The assessment lifecycle as one explicit state machine (pure: no database).

    draft ──submit──▶ submitted ──approve──▶ approved ──change──▶ superseded
      ▲                  │  │                   ▲        (a new draft version is created)
      │                  │  └─approve, a manager is needed─▶ awaiting manager ──manager approves──┘
      └──edit── returned ◀─return (with comments)─┘ ◀──────────────return──────────────┘

A returned assessment goes back to draft when its author edits it, and can be
submitted again. An approved assessment is locked: changing it supersedes it
and starts the next version as a draft, so the old approval stays in history
but no longer counts.
"""

from __future__ import annotations

import enum

from rj_scheduler.risk.models import AssessmentStatus as S


class Event(enum.StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"  # the approval that completes sign-off
    APPROVE_PENDING_MANAGER = "approve_pending_manager"  # a supervisor's approval when a manager is needed
    RETURN = "return"
    SUPERSEDE = "supersede"


TRANSITIONS: dict[S, dict[Event, S]] = {
    S.DRAFT: {Event.EDIT: S.DRAFT, Event.SUBMIT: S.SUBMITTED},
    S.RETURNED: {Event.EDIT: S.DRAFT, Event.SUBMIT: S.SUBMITTED},
    S.SUBMITTED: {
        Event.APPROVE: S.APPROVED,
        Event.APPROVE_PENDING_MANAGER: S.AWAITING_MANAGER,
        Event.RETURN: S.RETURNED,
    },
    S.AWAITING_MANAGER: {Event.APPROVE: S.APPROVED, Event.RETURN: S.RETURNED},
    S.APPROVED: {Event.SUPERSEDE: S.SUPERSEDED},
    S.SUPERSEDED: {},
}

_WHY_NOT: dict[Event, str] = {
    Event.EDIT: "Only a draft or returned assessment can be changed",
    Event.SUBMIT: "Only a draft or returned assessment can be submitted for sign-off",
    Event.APPROVE: "Only an assessment waiting for sign-off can be approved",
    Event.APPROVE_PENDING_MANAGER: "Only an assessment waiting for sign-off can be approved",
    Event.RETURN: "Only an assessment waiting for sign-off can be returned",
    Event.SUPERSEDE: "Only an approved assessment can be changed by starting a new version",
}


def next_status(current: S | str, event: Event) -> S | None:
    """The status ``event`` leads to from ``current``, or None if the event is not allowed there."""
    return TRANSITIONS[S(current)].get(event)


def refusal(current: S | str, event: Event) -> str | None:
    """Why ``event`` is not allowed from ``current`` (plain English), or None if it is."""
    if next_status(current, event) is not None:
        return None
    return f"{_WHY_NOT[event]}: this one is {S(current).label.lower()}."


def approval_event(current: S | str, needs_manager: bool, by_manager: bool) -> Event:
    """Which approval an approval by this person is: complete, or pending a manager's.

    A high final level or a sensitive case needs a manager's approval; a
    supervisor's approval then leaves it waiting for a manager. A manager's
    approval completes it (a manager holds every supervisor right).
    """
    if needs_manager and not by_manager:
        return Event.APPROVE_PENDING_MANAGER
    return Event.APPROVE
