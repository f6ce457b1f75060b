"""The permission policy: the one place that answers "may this user do this to this object".

Every view is decorated with ``requires(Permission.X)`` or ``public``; an
architecture test walks every registered route and fails if one has neither.
Objects of another service are answered with 404, never 403, so nobody can
learn that they exist.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user

from rj_scheduler.auth.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])


class Permission(enum.StrEnum):
    """What a staff member may do. Later capabilities add their own members."""

    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_OWN_ACCOUNT = "manage_own_account"
    MANAGE_STAFF = "manage_staff"
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_CASE = "view_case"
    EDIT_CASE = "edit_case"
    CREATE_REFERRAL = "create_referral"
    REASSIGN_CASE = "reassign_case"
    TRIAGE_REFERRAL = "triage_referral"
    VIEW_OUTBOX = "view_outbox"
    EDIT_MESSAGE_WORDING = "edit_message_wording"
    HANDLE_MESSAGES = "handle_messages"
    MANAGE_API_KEYS = "manage_api_keys"
    EDIT_ASSESSMENT = "edit_assessment"
    SIGN_OFF_ASSESSMENT = "sign_off_assessment"
    MANAGE_RISK_SETTINGS = "manage_risk_settings"
    MANAGE_VENUES = "manage_venues"
    MANAGE_CONFERENCE_SETTINGS = "manage_conference_settings"
    BOOK_MEETING = "book_meeting"
    RECORD_OUTCOME = "record_outcome"
    MANAGE_OWN_AVAILABILITY = "manage_own_availability"
    MANAGE_TEAM_AVAILABILITY = "manage_team_availability"
    VIEW_OWN_CALENDAR = "view_own_calendar"
    VIEW_TEAM_CALENDAR = "view_team_calendar"
    MANAGE_CALENDAR_FEED = "manage_calendar_feed"


# Which roles hold each permission. Manager includes every supervisor right.
_GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_DASHBOARD: frozenset(Role),
    Permission.MANAGE_OWN_ACCOUNT: frozenset(Role),
    Permission.MANAGE_STAFF: frozenset({Role.MANAGER}),
    Permission.VIEW_AUDIT_LOG: frozenset({Role.MANAGER}),
    # Small teams cover for each other: every staff member may open and work a case of their service.
    Permission.VIEW_CASE: frozenset(Role),
    Permission.EDIT_CASE: frozenset(Role),
    Permission.CREATE_REFERRAL: frozenset(Role),
    Permission.REASSIGN_CASE: frozenset({Role.SUPERVISOR, Role.MANAGER}),
    Permission.TRIAGE_REFERRAL: frozenset({Role.SUPERVISOR, Role.MANAGER}),
    Permission.VIEW_OUTBOX: frozenset({Role.MANAGER}),
    Permission.EDIT_MESSAGE_WORDING: frozenset({Role.MANAGER}),
    Permission.HANDLE_MESSAGES: frozenset(Role),
    Permission.MANAGE_API_KEYS: frozenset({Role.MANAGER}),
    # Four eyes is enforced on each assessment as well (rj_scheduler.risk.services.decide).
    Permission.EDIT_ASSESSMENT: frozenset(Role),
    Permission.SIGN_OFF_ASSESSMENT: frozenset({Role.SUPERVISOR, Role.MANAGER}),
    Permission.MANAGE_RISK_SETTINGS: frozenset({Role.MANAGER}),
    Permission.MANAGE_VENUES: frozenset({Role.MANAGER}),
    Permission.MANAGE_CONFERENCE_SETTINGS: frozenset({Role.MANAGER}),
    # Every rule of a booking is checked by rj_scheduler.conferences.booking.booking_refusals.
    Permission.BOOK_MEETING: frozenset(Role),
    Permission.RECORD_OUTCOME: frozenset(Role),
    # Each staff member keeps their own working pattern and leave; managers anyone's in their service.
    Permission.MANAGE_OWN_AVAILABILITY: frozenset(Role),
    Permission.MANAGE_TEAM_AVAILABILITY: frozenset({Role.MANAGER}),
    # The week view of one's own meetings and a personal calendar feed (which carries no participant details).
    Permission.VIEW_OWN_CALENDAR: frozenset(Role),
    Permission.MANAGE_CALENDAR_FEED: frozenset(Role),
    Permission.VIEW_TEAM_CALENDAR: frozenset({Role.SUPERVISOR, Role.MANAGER}),
}


def grant(permission: Permission, roles: frozenset[Role]) -> None:
    """Register the roles of a permission defined by a capability package."""
    _GRANTS[permission] = roles


def same_service(user: User, obj: Any) -> bool:
    """True when ``obj`` belongs to the user's service (objects without one belong to nobody)."""
    service_id = getattr(obj, "service_id", None)
    if service_id is None and obj.__class__.__name__ == "Service":
        service_id = obj.id
    return service_id is not None and service_id == user.service_id


def can(user: User | None, permission: Permission, obj: Any = None) -> bool:
    """May ``user`` do ``permission`` (to ``obj``, which must be of their own service)?"""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if obj is not None and not same_service(user, obj):
        return False
    roles = _GRANTS.get(permission)
    return roles is not None and Role(user.role) in roles


def authorize(user: User, permission: Permission, obj: Any = None) -> None:
    """Abort unless allowed: 404 for another service's object, 403 for a missing right."""
    if obj is not None and not same_service(user, obj):
        abort(404)
    if not can(user, permission, obj):
        abort(403)


def requires(permission: Permission) -> Callable[[F], F]:
    """Decorate a view: signed in with two-factor, and holding ``permission``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped._rj_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as reachable without signing in (sign-in pages, health checks, private links)."""
    view._rj_public = True  # type: ignore[attr-defined]
    return view


def is_guarded(view: Callable[..., Any]) -> bool:
    return hasattr(view, "_rj_permission") or getattr(view, "_rj_public", False)
