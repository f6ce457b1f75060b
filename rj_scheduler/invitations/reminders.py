"""Reminders of an appointment: when each party gets them, on which channels, and when they stop.

A service sets its reminder offsets (``InvitationSettings.reminders``, e.g.
``3d:email+sms, 1d:email+sms, 2h:sms``): each is a time before the party's own
arrival and the channels to use. A reminder is due at ``arrival - offset``,
moved EARLIER (never later) into the party's safe-contact times and, for SMS,
out of the quiet hours (DOMAIN rule 7: "earlier rather than late"). A
reminder whose time has already passed is not sent; one that moving earlier
would put at or before a reminder planned for a longer offset on the same
channel is dropped (they would say the same thing twice). Facilitators get no
reminders. Declined, cancelled and withdrawn invitations get none, and a
channel the party refused gets none; a reminder already queued is cancelled
just before sending if its invitation was answered "no", ended, or the meeting
moved on (a newer version has its own reminders).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from rj_scheduler.audit import services as audit
from rj_scheduler.cases.contact import contact_decision
from rj_scheduler.cases.models import OffenceCategory, Party
from rj_scheduler.conferences.models import MeetingStatus
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.i18n import local_date, local_time
from rj_scheduler.invitations.content import InvitationView, message_values
from rj_scheduler.invitations.models import (
    CLOSED_STATUSES,
    Invitation,
    InvitationEvent,
    InvitationEventKind,
    InvitationSettings,
    InvitationStatus,
)
from rj_scheduler.notify.checks import register_still_relevant_check
from rj_scheduler.notify.config import parse_quiet_hours
from rj_scheduler.notify.exceptions import WordingRefused
from rj_scheduler.notify.models import OutboxMessage
from rj_scheduler.notify.services import cancel_open_messages, queue_party_message

log = logging.getLogger("rj_scheduler.invitations.reminders")
LONDON = ZoneInfo("Europe/London")
REMINDER_KIND = "appointment_reminder"
CHANNELS = ("email", "sms")
MAX_REMINDERS = 6
MAX_OFFSET = dt.timedelta(days=28)
MIN_OFFSET = dt.timedelta(minutes=30)
# A reminder moved to the end of a safe time is put this long before the end, so a dispatcher
# running a little late still finds the time safe (rather than waiting for the next safe time).
WINDOW_END_MARGIN = dt.timedelta(minutes=15)
# How far back from the wanted time we look for a safe time.
LOOK_BACK_DAYS = 8
# Invitations in these states get no reminders.
NO_REMINDER_STATUSES = CLOSED_STATUSES | {InvitationStatus.DECLINED.value}

_ENTRY = re.compile(r"^(\d{1,4})\s*([a-z]+)$")
_UNITS = {
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
}

Plan = list[tuple[dt.timedelta, tuple[str, ...]]]


class ReminderSettingsRefused(ValueError):
    """Reminder offsets that cannot be used, with plain-English reasons."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def parse_reminders(text: str | None) -> Plan:
    """Parse reminder offsets such as ``3d:email+sms, 1d:email+sms, 2h:sms``; longest offset first.

    Empty text means no reminders. Refuses (``ReminderSettingsRefused``) anything
    it cannot read, an offset under 30 minutes or over 28 days, the same offset
    twice, an unknown channel, or more than six reminders.
    """
    reasons: list[str] = []
    plan: Plan = []
    entries = [entry.strip() for entry in (text or "").split(",")]
    if all(not entry for entry in entries):
        return []
    for entry in entries:
        if not entry:
            reasons.append("Remove the empty reminder between two commas.")
            continue
        when, sep, how = entry.partition(":")
        if not sep or not how.strip():
            reasons.append(f"“{entry}”: say when and how, for example 1d:email+sms.")
            continue
        match = _ENTRY.match(when.strip().lower())
        if match is None or match.group(2) not in _UNITS:
            reasons.append(
                f"“{entry}”: give the time before the appointment as a number and d (days), "
                "h (hours) or m (minutes), for example 3d or 2h."
            )
            continue
        offset = dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        channels: list[str] = []
        bad = False
        for part in how.split("+"):
            channel = part.strip().lower()
            if channel == "text":
                channel = "sms"
            if channel not in CHANNELS:
                reasons.append(f"“{entry}”: the channel must be email, sms or email+sms.")
                bad = True
                break
            if channel not in channels:
                channels.append(channel)
        if bad:
            continue
        if offset < MIN_OFFSET:
            reasons.append(f"“{entry}”: a reminder must be at least 30 minutes before the appointment.")
            continue
        if offset > MAX_OFFSET:
            reasons.append(f"“{entry}”: a reminder must be at most 28 days before the appointment.")
            continue
        if any(existing == offset for existing, _ in plan):
            reasons.append(f"“{entry}”: there is already a reminder at that time; list it once.")
            continue
        plan.append((offset, tuple(c for c in CHANNELS if c in channels)))
    if len(plan) > MAX_REMINDERS:
        reasons.append(f"Give at most {MAX_REMINDERS} reminders.")
    if reasons:
        raise ReminderSettingsRefused(reasons)
    return sorted(plan, key=lambda item: item[0], reverse=True)


def reminder_plan(settings: InvitationSettings) -> Plan:
    """The service's reminders as (time before arrival, channels), longest first. Refuses bad text."""
    return parse_reminders(settings.reminders)


def format_offset(offset: dt.timedelta) -> str:
    """``3d``, ``2h`` or ``90m``: the shortest exact form (used in idempotency keys and on staff pages)."""
    minutes = int(offset.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def format_plan(plan: Plan) -> str:
    return ", ".join(f"{format_offset(offset)}:{'+'.join(channels)}" for offset, channels in plan)


# --- the latest safe time at or before a wanted time ---------------------------------------------

Interval = tuple[dt.datetime, dt.datetime]


def _local(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=LONDON).astimezone(dt.UTC)


def _day_bounds(day: dt.date) -> Interval:
    return _local(day, dt.time(0, 0)), _local(day + dt.timedelta(days=1), dt.time(0, 0))


def _party_intervals(party: Party, day: dt.date) -> list[Interval]:
    windows = list(party.contact_windows)
    if not windows:
        return [_day_bounds(day)]
    return [
        (_local(day, window.starts_at), _local(day, window.ends_at))
        for window in windows
        if window.weekday == day.weekday()
    ]


def _sms_intervals(day: dt.date, quiet_hours: str | None) -> list[Interval]:
    """The times of a day (Europe/London) outside SMS quiet hours."""
    parsed = parse_quiet_hours(quiet_hours)
    start_of_day, end_of_day = _day_bounds(day)
    if parsed is None:
        return [(start_of_day, end_of_day)]
    (sh, sm), (eh, em) = parsed
    quiet_start, quiet_end = dt.time(sh, sm), dt.time(eh, em)
    if quiet_start > quiet_end:  # overnight, e.g. 20:00-09:00: allowed 09:00-20:00
        return [(_local(day, quiet_end), _local(day, quiet_start))]
    return [(start_of_day, _local(day, quiet_start)), (_local(day, quiet_end), end_of_day)]


def _intersect(first: list[Interval], second: list[Interval]) -> list[Interval]:
    out = []
    for a_start, a_end in first:
        for b_start, b_end in second:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                out.append((start, end))
    return out


def latest_safe_time(
    party: Party, channel: str, wanted: dt.datetime, *, quiet_hours: str | None = None
) -> dt.datetime | None:
    """The latest instant at or before ``wanted`` (UTC) when ``party`` may be contacted on ``channel``.

    Safe means inside one of the party's weekly safe-contact windows (any time if
    they have none), not before their "do not contact before" date, and, for SMS,
    outside ``quiet_hours``. A time at the end of a safe window is put a quarter
    of an hour before the end (not earlier than its start), so a dispatcher
    running a little late still finds it safe. None when there is no such time
    in the week before ``wanted``. Consent and channel preferences are not
    considered here (``contact_decision`` answers those).
    """
    wanted = wanted.astimezone(dt.UTC)
    floor = None
    if party.do_not_contact_before is not None:
        floor = _local(party.do_not_contact_before, dt.time(0, 0))
        if wanted < floor:
            return None
    local_day = wanted.astimezone(LONDON).date()
    for back in range(LOOK_BACK_DAYS):
        day = local_day - dt.timedelta(days=back)
        intervals = _party_intervals(party, day)
        if channel == "sms":
            intervals = _intersect(intervals, _sms_intervals(day, quiet_hours))
        best: dt.datetime | None = None
        for start, end in intervals:
            if start > wanted:
                continue
            candidate = wanted if wanted < end - WINDOW_END_MARGIN else max(start, end - WINDOW_END_MARGIN)
            if floor is not None and candidate < floor:
                continue
            if best is None or candidate > best:
                best = candidate
        if best is not None:
            return best
    return None


# --- planning and cancelling ----------------------------------------------------------------------


def _finally_refused(party: Party, channel: str, at: dt.datetime) -> bool:
    """The party refused this channel (no consent, opted out, no number or address): a wait is not a refusal."""
    decision = contact_decision(party, channel, at)  # type: ignore[arg-type]
    return not decision.allowed and decision.next_allowed_at is None


def _values(invitation: Invitation, view: InvitationView) -> dict[str, object]:
    values = message_values(view)
    if view.plain:
        # Only plain wording may name the offence (DOMAIN rule 6); discreet wording cannot use it.
        values["offence"] = OffenceCategory.label_of(invitation.case.offence_category).lower()
    return values


def reminder_key(invitation: Invitation, sequence: int, offset: dt.timedelta, channel: str) -> str:
    return f"reminder:{invitation.id}:{sequence}:{format_offset(offset)}:{channel}"


def plan_reminders(invitation: Invitation, view: InvitationView, at: dt.datetime) -> int:
    """Queue this party's reminders for the meeting's current version; answers how many were queued.

    One outbox message per (offset, channel) the service sets and the party
    allows, due at their arrival minus the offset, moved earlier into a safe
    time (see ``latest_safe_time``); never due before ``at``. Facilitators and
    declined, cancelled or withdrawn invitations get none. Queuing twice for
    the same version gives the same messages (the idempotency key).
    """
    party = invitation.party
    meeting = invitation.meeting
    if party is None or invitation.status in NO_REMINDER_STATUSES:
        return 0
    if meeting.status != MeetingStatus.BOOKED or meeting.starts_at is None:
        return 0
    from rj_scheduler.invitations.queries import settings_for

    try:
        plan = reminder_plan(settings_for(db.session, invitation.service_id))
    except ReminderSettingsRefused:
        # Saved settings are validated; text that no longer parses must not stop an invitation.
        log.warning("reminder settings cannot be read", extra={"service_id": invitation.service_id})
        return 0
    quiet_hours = current_app.config.get("RJ_QUIET_HOURS")
    arrival = view.arrives_at
    values = _values(invitation, view)
    queued: list[tuple[dt.datetime, str]] = []
    last_due: dict[str, dt.datetime] = {}
    refused_channels: set[str] = set()
    for offset, channels in plan:
        for channel in channels:
            if channel in refused_channels or _finally_refused(party, channel, at):
                continue
            due = latest_safe_time(party, channel, arrival - offset, quiet_hours=quiet_hours)
            if due is None or due < at:
                continue
            if channel in last_due and due <= last_due[channel]:
                continue  # moved back onto an earlier reminder: it would say the same again
            try:
                queue_party_message(
                    party,
                    REMINDER_KIND,
                    channel,
                    values,
                    idempotency_key=reminder_key(invitation, meeting.sequence, offset, channel),
                    due_at=due,
                    meeting_id=meeting.id,
                    language=invitation.language,
                )
            except WordingRefused:
                # Better no reminder than an indiscreet one (e.g. a name that says "Court"); the
                # invitation itself was not sent either, so the facilitator already has a task.
                refused_channels.add(channel)
                log.warning("reminder not worded discreetly", extra={"invitation": invitation.public_id})
                continue
            last_due[channel] = due
            queued.append((due, channel))
    if queued:
        note = "; ".join(
            f"{local_date(due)} {local_time(due)} ({'SMS' if channel == 'sms' else 'email'})"
            for due, channel in sorted(queued)
        )
        db.session.add(
            InvitationEvent(
                service_id=invitation.service_id,
                invitation=invitation,
                kind=InvitationEventKind.REMINDERS_QUEUED.value,
                note=note,
                at=at,
            )
        )
        audit.record(
            "invitation.reminders_planned",
            object_type="invitation",
            object_id=invitation.public_id,
            service_id=invitation.service_id,
            details={"count": len(queued), "sequence": meeting.sequence},
        )
        db.session.flush()
    return len(queued)


def cancel_reminders(invitation: Invitation, reason: str) -> int:
    """Cancel the reminders of this invitation not yet sent, with the reason; answers how many."""
    if invitation.party_id is None:
        return 0
    return cancel_open_messages(
        reason, party_id=invitation.party_id, meeting_id=invitation.meeting_id, kind=REMINDER_KIND
    )


# --- just before sending ----------------------------------------------------------------------------


def _planned_sequence(message: OutboxMessage) -> int | None:
    parts = (message.idempotency_key or "").split(":")
    if len(parts) == 5 and parts[0] == "reminder" and parts[2].isdigit():
        return int(parts[2])
    return None


def reminder_still_relevant(message: OutboxMessage) -> str | None:
    """A reminder goes only while its invitation is open and not declined, and its meeting version stands."""
    if message.meeting_id is None or message.party_id is None:
        return None
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.meeting_id == message.meeting_id, Invitation.party_id == message.party_id
        )
    )
    planned = _planned_sequence(message)
    if invitation is None:
        # A reminder planned here always has its invitation; one queued by other means is not ours to judge.
        return "They are no longer invited to the appointment." if planned is not None else None
    if invitation.status == InvitationStatus.DECLINED:
        return "They said they cannot come."
    if invitation.is_closed:
        return "The invitation is no longer open."
    meeting = invitation.meeting
    if meeting.status != MeetingStatus.BOOKED:
        return "The meeting is no longer booked."
    if planned is not None and planned < meeting.sequence:
        return "The appointment changed: the new time has its own reminders."
    if meeting.starts_at is not None and now() >= meeting.starts_at:
        return "The appointment has already started."
    return None


register_still_relevant_check(REMINDER_KIND, reminder_still_relevant)
