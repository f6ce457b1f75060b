"""RSVP by SMS: a YES or NO reply answers the sender's next upcoming invitation.

The messaging engine (``rj_scheduler.notify.services.receive_inbound_sms``)
records every reply and sends ``sms_reply_received`` for a YES, NO or other
reply from a known party. Here:

- YES confirms and NO declines the sender's next upcoming open invitation (the
  one whose meeting starts first, across every party holding that number), as
  if they had answered on their page; the sender gets a short thank-you in
  their language.
- A reply that is not a plain YES or NO, a YES or NO when two meetings of theirs
  fall on that same day (we cannot tell which they mean), or one we could not
  apply, gives the case's facilitator a "check an SMS reply" task, and the reply
  waits in the inbound list.
- A YES or NO with no upcoming invitation gives the facilitator the same task
  (it stays on the timeline, as before).

A reply from a number we never messaged never gets here: it is logged and ignored.
"""

from __future__ import annotations

import datetime as dt
import logging

from rj_scheduler.extensions import db
from rj_scheduler.i18n import _, in_language, local_date
from rj_scheduler.invitations import queries, services
from rj_scheduler.invitations.exceptions import ResponseRefused
from rj_scheduler.invitations.models import Invitation, InvitationTask, TaskKind
from rj_scheduler.notify.events import sms_reply_received
from rj_scheduler.notify.models import InboundCategory, InboundMessage

log = logging.getLogger("rj_scheduler.invitations.replies")

QUOTE_LIMIT = 200


def _upcoming(inbound: InboundMessage, at: dt.datetime) -> list[Invitation]:
    """The sender's open invitations to meetings that have not started yet, soonest first."""
    invitations = queries.upcoming_open_invitations_for_mobile(
        db.session, inbound.service_id, inbound.from_number, at
    )
    return [inv for inv in invitations if inv.meeting.starts_at is not None and inv.meeting.starts_at > at]


def _ambiguous(upcoming: list[Invitation]) -> bool:
    """Two meetings of theirs on the day of the next one: a bare YES or NO could mean either."""
    first = upcoming[0]
    day = local_date(first.meeting.starts_at)
    return any(
        other.meeting_id != first.meeting_id and local_date(other.meeting.starts_at) == day
        for other in upcoming[1:]
    )


def _check_reply_task(
    party, invitation: Invitation | None, inbound: InboundMessage, at: dt.datetime, why: str | None
) -> InvitationTask:
    quoted = " ".join((inbound.body or "").split())[:QUOTE_LIMIT]
    detail = f"{party.display_name} ({party.role_label.lower()}) replied by SMS: \u2018{quoted}\u2019"
    if why:
        detail += f" {why}"
    task = InvitationTask(
        service_id=party.service_id,
        case_id=invitation.case_id if invitation is not None else party.case_id,
        invitation=invitation,
        kind=TaskKind.CHECK_REPLY.value,
        detail=detail,
        created_at=at,
    )
    db.session.add(task)
    db.session.flush()
    return task


def _thank_you(invitation: Invitation, action: str) -> str:
    with in_language(invitation.language):
        if action == "confirm":
            # Translators: SMS answering a YES reply; the date is their appointment's day.
            return _("Thank you, see you on %(date)s.", date=local_date(invitation.meeting.starts_at))
        # Translators: SMS answering a NO reply.
        return _("Thank you for telling us. We will be in touch.")


def apply_sms_reply(inbound: InboundMessage, party, category: InboundCategory, at: dt.datetime) -> str | None:
    """Act on a party's SMS reply; answers the text to send back to them, or None."""
    upcoming = _upcoming(inbound, at)
    if category == InboundCategory.OTHER:
        if upcoming:
            _check_reply_task(party, upcoming[0], inbound, at, None)
        return None
    word = "YES" if category == InboundCategory.YES else "NO"
    if not upcoming:
        _check_reply_task(party, None, inbound, at, f"There is no upcoming appointment to apply {word} to.")
        inbound.handled_at = at  # the task carries it; the reply is on the timeline
        return None
    invitation = upcoming[0]
    if _ambiguous(upcoming):
        _check_reply_task(
            party,
            invitation,
            inbound,
            at,
            f"They have more than one appointment that day, so {word} was not applied: ask which they meant.",
        )
        return None
    action = "confirm" if category == InboundCategory.YES else "decline"
    try:
        services.respond(invitation, action, note=None, at=at, via="sms")
    except ResponseRefused as refused:
        _check_reply_task(
            party, invitation, inbound, at, f"{word} was not applied: {' '.join(refused.reasons)}"
        )
        return None
    inbound.handled_at = at
    return _thank_you(invitation, action)


@sms_reply_received.connect
def _on_sms_reply(
    sender: object,
    *,
    inbound: InboundMessage,
    party,
    category: InboundCategory,
    at: dt.datetime,
    **extra: object,
) -> str | None:
    return apply_sms_reply(inbound, party, category, at)
