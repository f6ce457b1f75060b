"""Demo data for invitations: a discreet sender name, and invitations of the upcoming meetings.

The conferences demo books its upcoming meetings (booking invites everyone);
a meeting it placed directly is invited here. The invitations wait in the
outbox until ``flask --app rj_scheduler rj dispatch --once`` sends (or, in the
default outbox mode, keeps) them.
"""

from __future__ import annotations

from sqlalchemy import select

from rj_scheduler.conferences.models import Meeting, MeetingStatus
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.invitations import queries
from rj_scheduler.invitations.models import InvitationSettings
from rj_scheduler.invitations.services import invite_attendees

# The demo services' names say "Victim": messages name them like this instead.
SENDER_NAMES = {"VF": "LLR Appointments", "WK": "Warwickshire Appointments"}


def load_settings_demo(context) -> None:
    """Give the demo services a discreet sender name (before any meeting is booked)."""
    for service in (context.service, context.other_service):
        if service is None or queries.settings_for(db.session, service.id).id is not None:
            continue
        db.session.add(
            InvitationSettings(
                service_id=service.id, sender_name=SENDER_NAMES.get(service.code, "Appointments")
            )
        )
    db.session.flush()


def load_demo(context) -> None:
    """Invite everyone at the demo's upcoming meetings that have no invitations yet."""
    at = now()
    meetings = db.session.scalars(
        select(Meeting).where(
            Meeting.service_id == context.service.id,
            Meeting.status == MeetingStatus.BOOKED.value,
            Meeting.starts_at > at,
        )
    ).all()
    invited = 0
    for meeting in meetings:
        if not queries.invitations_for_meeting(db.session, meeting):
            invite_attendees(meeting, at)
        invited += len(queries.invitations_for_meeting(db.session, meeting))
    db.session.flush()
    context.notes.append(
        f"Invitations: {invited} for {len(meetings)} upcoming meetings, waiting in the outbox"
        " (`flask --app rj_scheduler rj dispatch --once` sends them; the Outbox page shows them)."
    )
