"""The one place the rest of the system asks about contacting a party.

Safe contact (DOMAIN rule 7): a party must currently consent to be contacted
and to the channel, their preferences must allow it, we must hold a number or
address, and the time must fall inside one of their weekly safe-contact
windows (Europe/London) and not before their "do not contact before" date.
A party with no windows has not limited the times.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from rj_scheduler.cases.consent import current_consent
from rj_scheduler.cases.models import ConsentKind, ConsentMethod, Party, Wording

Channel = Literal["sms", "email"]
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class ContactDecision:
    allowed: bool  # True: may send on this channel now
    reason: str | None  # plain English when not allowed
    # Set when only the time is wrong: the next UTC instant that is allowed; None when refusal is final.
    next_allowed_at: dt.datetime | None


def _refuse(reason: str) -> ContactDecision:
    return ContactDecision(False, reason, None)


def _final_refusal(party: Party, channel: Channel) -> str | None:
    contact = current_consent(party, ConsentKind.CONTACT)
    if contact is None:
        return "They have not agreed to be contacted"
    if not contact.given:
        return "They have withdrawn consent to be contacted"
    name = "SMS" if channel == "sms" else "email"
    record = current_consent(party, ConsentKind.SMS if channel == "sms" else ConsentKind.EMAIL)
    if record is None:
        return f"They have not agreed to {name}"
    if not record.given:
        return f"They have withdrawn consent to {name}"
    if channel == "sms" and not party.allow_sms:
        return "Their contact preferences say no SMS"
    if channel == "email" and not party.allow_email:
        return "Their contact preferences say no email"
    if channel == "sms" and not party.mobile_e164:
        return "There is no mobile number for them"
    if channel == "email" and not party.email:
        return "There is no email address for them"
    return None


def next_safe_time(party: Party, at: dt.datetime) -> dt.datetime:
    """The first instant at or after ``at`` (UTC) inside the party's safe-contact times."""
    at = at.astimezone(dt.UTC)
    candidate = at
    if party.do_not_contact_before is not None:
        start_of_day = dt.datetime.combine(party.do_not_contact_before, dt.time(0, 0), tzinfo=LONDON)
        candidate = max(candidate, start_of_day.astimezone(dt.UTC))
    windows = list(party.contact_windows)
    if not windows:
        return candidate
    local_day = candidate.astimezone(LONDON).date()
    for offset in range(8):
        day = local_day + dt.timedelta(days=offset)
        best: dt.datetime | None = None
        for window in windows:
            if window.weekday != day.weekday():
                continue
            start = dt.datetime.combine(day, window.starts_at, tzinfo=LONDON).astimezone(dt.UTC)
            end = dt.datetime.combine(day, window.ends_at, tzinfo=LONDON).astimezone(dt.UTC)
            if candidate >= end:
                continue
            option = max(start, candidate)
            if best is None or option < best:
                best = option
        if best is not None:
            return best
    raise AssertionError("a party with windows always has one within a week")  # pragma: no cover


def contact_decision(party: Party, channel: Channel, at: dt.datetime) -> ContactDecision:
    """May we contact ``party`` on ``channel`` at ``at``? If only the time is wrong, say when we may."""
    if channel not in ("sms", "email"):
        raise ValueError(f"unknown channel {channel!r}")
    reason = _final_refusal(party, channel)
    if reason:
        return _refuse(reason)
    when = next_safe_time(party, at)
    if when <= at.astimezone(dt.UTC):
        return ContactDecision(True, None, None)
    if party.do_not_contact_before is not None and at.astimezone(LONDON).date() < party.do_not_contact_before:
        why = f"They asked not to be contacted before {party.do_not_contact_before:%-d %B %Y}"
    else:
        why = "It is outside the times they said contact is safe"
    return ContactDecision(False, why, when)


def uses_plain_wording(party: Party) -> bool:
    """True only if the party chose plain wording; everyone else gets discreet messages (DOMAIN rule 6)."""
    return party.wording == Wording.PLAIN


def find_parties_by_mobile(session: Session, service_id: int, mobile_e164: str) -> list[Party]:
    """The parties of one service holding this mobile number (for replies such as STOP)."""
    return list(
        session.scalars(
            select(Party)
            .where(Party.service_id == service_id, Party.mobile_e164 == mobile_e164)
            .order_by(Party.id)
        )
    )


def _method(method: str) -> str:
    wanted = method.strip().casefold()
    for member in ConsentMethod:
        if wanted in (member.value, member.label.casefold()):  # type: ignore[attr-defined]
            return member.value
    raise ValueError(f"unknown consent method {method!r}")


def _channel_consent(party: Party, channel: Channel, at: dt.datetime, method: str, given: bool) -> None:
    from rj_scheduler.cases.services import record_consent

    kind = ConsentKind.SMS if channel == "sms" else ConsentKind.EMAIL
    record_consent(party, kind, given=given, at=at, method=_method(method), actor=None)


def record_channel_opt_out(party: Party, channel: Channel, at: dt.datetime, method: str) -> None:
    """Record that the party withdrew consent to this channel (e.g. "STOP" by SMS), with a timeline and audit entry."""
    _channel_consent(party, channel, at, method, given=False)


def record_channel_opt_in(party: Party, channel: Channel, at: dt.datetime, method: str) -> None:
    """Record that the party gave consent to this channel again (e.g. "START" by SMS)."""
    _channel_consent(party, channel, at, method, given=True)
