"""A service's invitation settings: how messages name the service, the reminders, how long links live.

Managers change them on the invitation settings page; every invitation sent
afterwards uses them (reminders already queued keep their times).
"""

from __future__ import annotations

import datetime as dt

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import User
from rj_scheduler.extensions import db
from rj_scheduler.invitations.models import InvitationSettings
from rj_scheduler.invitations.queries import settings_for
from rj_scheduler.invitations.reminders import ReminderSettingsRefused, format_plan, parse_reminders
from rj_scheduler.notify.wording import discreet_terms_in

SENDER_NAME_LIMIT = 100
LINK_DAYS = (1, 365)


class InvitationSettingsRefused(Exception):
    """Settings that cannot be saved: field name -> plain-English reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def save_settings(
    service_id: int,
    *,
    sender_name: str | None,
    reminders: str | None,
    link_valid_days: int | None,
    by: User,
    at: dt.datetime,
) -> InvitationSettings:
    """Save a service's invitation settings, or refuse them all with a reason per field.

    The sender name is what every discreet message calls the service, so it
    must be discreet itself (DOMAIN rule 6); empty means the service's own name
    where that is discreet, else "the appointments team". Reminders must parse
    (``reminders.parse_reminders``); links live 1 to 365 days after the meeting.
    """
    errors: dict[str, str] = {}
    name = " ".join((sender_name or "").split()) or None
    if name is not None:
        terms = discreet_terms_in(name)
        if terms:
            errors["sender_name"] = (
                f"The sender name must not say \u201c{terms[0]}\u201d: someone else may read the messages "
                "on a shared phone or inbox"
            )
        elif len(name) > SENDER_NAME_LIMIT:
            errors["sender_name"] = f"The sender name must be {SENDER_NAME_LIMIT} characters or fewer"
    plan_text = ""
    try:
        plan_text = format_plan(parse_reminders(reminders))
    except ReminderSettingsRefused as refused:
        errors["reminders"] = " ".join(refused.reasons)
    low, high = LINK_DAYS
    if link_valid_days is None or not low <= link_valid_days <= high:
        errors["link_valid_days"] = f"Enter a number of days from {low} to {high}"
    if errors:
        raise InvitationSettingsRefused(errors)
    row = settings_for(db.session, service_id)
    if row.id is None:
        db.session.add(row)
    row.sender_name = name
    row.reminders = plan_text
    row.link_valid_days = link_valid_days
    row.updated_at = at
    row.updated_by_id = by.id
    db.session.flush()
    audit.record(
        "invitation_settings.changed",
        object_type="service",
        object_id=str(service_id),
        service_id=service_id,
        details={"reminders": plan_text, "link_valid_days": link_valid_days},
    )
    return row
