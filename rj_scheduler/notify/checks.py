"""The checks made just before a message is sent, whatever was true when it was queued.

In order: the thing the message is about is still relevant (checks other
capabilities register, e.g. "the meeting is still on"); the party may still be
contacted on this channel now (``rj_scheduler.cases.contact.contact_decision``:
consent, opt-out, preferences, safe-contact windows); and an SMS is outside
quiet hours. The answer is send, defer to a later time, cancel (no longer
relevant) or suppress (the rules forbid it), with the reason recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from rj_scheduler.notify.config import parse_quiet_hours
from rj_scheduler.notify.models import Channel, OutboxMessage

log = logging.getLogger("rj_scheduler.notify.checks")
LONDON = ZoneInfo("Europe/London")

# kind -> functions answering None (still relevant) or the plain-English reason to cancel.
StillRelevantCheck = Callable[[OutboxMessage], str | None]
_STILL_RELEVANT: dict[str, list[StillRelevantCheck]] = {}
ANY_KIND = "*"


def register_still_relevant_check(kind: str, check: StillRelevantCheck) -> None:
    """Register a check run just before sending each message of ``kind`` (``"*"``: every kind).

    The check answers None while the message is still wanted, or the reason it
    is not (e.g. "The meeting was cancelled."): the message is then cancelled
    with that reason. The conferences issue registers "the meeting it is about
    is still on" for the kinds that carry a ``meeting_id``.
    """
    checks = _STILL_RELEVANT.setdefault(kind, [])
    if check not in checks:
        checks.append(check)


def unregister_still_relevant_check(kind: str, check: StillRelevantCheck) -> None:
    if check in _STILL_RELEVANT.get(kind, []):
        _STILL_RELEVANT[kind].remove(check)


@dataclass(frozen=True)
class SendDecision:
    action: Literal["send", "defer", "cancel", "suppress"]
    reason: str | None = None
    until: dt.datetime | None = None
    address: str | None = None
    name: str | None = None


def quiet_hours_end(at: dt.datetime, quiet_hours: str | None) -> dt.datetime | None:
    """When ``at`` falls in quiet hours (Europe/London), the UTC instant they end; else None."""
    parsed = parse_quiet_hours(quiet_hours)
    if parsed is None:
        return None
    (sh, sm), (eh, em) = parsed
    local = at.astimezone(LONDON)
    minute = local.hour * 60 + local.minute
    start, end = sh * 60 + sm, eh * 60 + em
    if start > end:  # overnight, e.g. 20:00-09:00
        if minute >= start:
            day = local.date() + dt.timedelta(days=1)
        elif minute < end:
            day = local.date()
        else:
            return None
    elif start <= minute < end:
        day = local.date()
    else:
        return None
    return dt.datetime.combine(day, dt.time(eh, em), tzinfo=LONDON).astimezone(dt.UTC)


def still_relevant_reason(message: OutboxMessage) -> str | None:
    for check in _STILL_RELEVANT.get(message.kind, []) + _STILL_RELEVANT.get(ANY_KIND, []):
        reason = check(message)
        if reason:
            return reason
    return None


def decide(session, message: OutboxMessage, at: dt.datetime, quiet_hours: str | None) -> SendDecision:
    """Decide, just before sending, whether ``message`` may go now, later, or never."""
    reason = still_relevant_reason(message)
    if reason:
        return SendDecision("cancel", reason=reason)
    address, name = message.to_address, None
    if message.party_id is not None:
        from rj_scheduler.cases.contact import contact_decision
        from rj_scheduler.cases.models import Party

        party = session.get(Party, message.party_id)
        if party is None:
            return SendDecision("cancel", reason="The person is no longer on the case.")
        decision = contact_decision(party, message.channel, at)
        if not decision.allowed:
            if decision.next_allowed_at is not None:
                return SendDecision("defer", reason=decision.reason, until=decision.next_allowed_at)
            return SendDecision("suppress", reason=decision.reason or "The person may not be contacted.")
        address = party.mobile_e164 if message.channel == Channel.SMS else party.email
        name = party.display_name
        if not address:
            return SendDecision("suppress", reason=f"The person has no {_address_word(message.channel)}.")
    elif message.user_id is not None:
        from rj_scheduler.auth.models import User

        user = session.get(User, message.user_id)
        if user is None or not user.is_active_account:
            return SendDecision("cancel", reason="The member of staff's account is closed.")
        address = user.email if message.channel == Channel.EMAIL else message.to_address
        name = user.full_name
    if message.channel == Channel.SMS:
        end = quiet_hours_end(at, quiet_hours)
        if end is not None:
            return SendDecision("defer", reason="Waiting for quiet hours to end.", until=end)
    return SendDecision("send", address=address, name=name)


def _address_word(channel: str) -> str:
    return "mobile number" if channel == Channel.SMS else "email address"
