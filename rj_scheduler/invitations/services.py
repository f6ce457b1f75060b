"""The rules of invitations: invite every attendee, update, cancel, withdraw, and take their answers.

Everything here runs inside the unit of work of the change that causes it (the
conferences signals and the consent signal are sent there): messages are
outbox rows committed with the change, or never written if it rolls back.

- Booking invites each attendee on the channels they allow (email with a
  calendar invite, SMS with their private link); with neither, the facilitator
  gets a task to phone or write, with a printable letter.
- Rescheduling sends updates (same UID, higher SEQUENCE); cancelling or
  postponing sends cancellations (METHOD:CANCEL). Each recipient's calendar
  sequence only ever rises, and a message is keyed by invitation, sequence,
  kind and channel, so nothing is sent twice for the same change.
- A party's withdrawal of consent to take part cancels their invitations; if
  they are a victim or an offender, the others are told only that the meeting
  will not go ahead (DOMAIN rule 1).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import User
from rj_scheduler.cases import events as case_events
from rj_scheduler.cases.consent import has_consent
from rj_scheduler.cases.contact import contact_decision
from rj_scheduler.cases.models import ConsentKind, ConsentMethod, Party, PartyRole
from rj_scheduler.cases.services import add_timeline_event, record_consent
from rj_scheduler.conferences import events as meeting_events
from rj_scheduler.conferences.models import (
    AttendeeRole,
    ConferenceOutcome,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    PartySatisfaction,
)
from rj_scheduler.extensions import db
from rj_scheduler.invitations import messages as kinds
from rj_scheduler.invitations import queries
from rj_scheduler.invitations.content import calendar_event, message_values, view_for
from rj_scheduler.invitations.exceptions import ResponseRefused
from rj_scheduler.invitations.ics import invite_attachment
from rj_scheduler.invitations.models import (
    CLOSED_STATUSES,
    Invitation,
    InvitationEvent,
    InvitationEventKind,
    InvitationStatus,
    InvitationTask,
    TaskKind,
)
from rj_scheduler.invitations.tokens import give_link
from rj_scheduler.notify.checks import register_still_relevant_check
from rj_scheduler.notify.exceptions import WordingRefused
from rj_scheduler.notify.models import Channel, OutboxMessage
from rj_scheduler.notify.services import (
    WITHDRAWAL_NOTICE_KINDS,
    cancel_open_messages,
    queue_party_message,
    send_staff_email,
)

log = logging.getLogger("rj_scheduler.invitations")

REQUEST_KINDS = (kinds.INVITATION, kinds.INVITATION_UPDATE)
ACTIONS = ("confirm", "decline", "change", "withdraw")
NOTE_LIMIT = 1000
COMMENT_LIMIT = 2000


# --- who is invited, and how ------------------------------------------------------------------------


def _invitees(meeting: Meeting) -> list[tuple[Party | None, User | None]]:
    """Each attendee who can be invited: every party, and every member of staff (facilitators, observers)."""
    people: list[tuple[Party | None, User | None]] = []
    for attendee in meeting.attendees:
        if attendee.party is not None:
            people.append((attendee.party, None))
        elif attendee.user is not None:
            people.append((None, attendee.user))
    return people


def party_channels(party: Party, at: dt.datetime) -> list[str]:
    """The channels a party allows for their invitation (a safe-time wait still allows the channel)."""
    allowed = []
    for channel in (Channel.EMAIL.value, Channel.SMS.value):
        decision = contact_decision(party, channel, at)
        if decision.allowed or decision.next_allowed_at is not None:
            allowed.append(channel)
    return allowed


def _key(party: Party | None, user: User | None) -> tuple[str, int]:
    return ("party", party.id) if party is not None else ("user", user.id)  # type: ignore[union-attr]


def _invitation_key(invitation: Invitation) -> tuple[str, int]:
    if invitation.party_id is not None:
        return ("party", invitation.party_id)
    return ("user", invitation.user_id)  # type: ignore[return-value]


def _add_event(invitation: Invitation, kind: InvitationEventKind, at: dt.datetime, **fields) -> None:
    db.session.add(
        InvitationEvent(
            service_id=invitation.service_id, invitation=invitation, kind=kind.value, at=at, **fields
        )
    )


def _set_status(invitation: Invitation, status: InvitationStatus, at: dt.datetime) -> None:
    invitation.status = status.value
    invitation.status_changed_at = at


def _add_task(invitation: Invitation, kind: TaskKind, detail: str, at: dt.datetime) -> InvitationTask:
    task = InvitationTask(
        service_id=invitation.service_id,
        case_id=invitation.case_id,
        invitation=invitation,
        kind=kind.value,
        detail=detail,
        created_at=at,
    )
    db.session.add(task)
    return task


def _audit(action: str, invitation: Invitation, **details: object) -> None:
    audit.record(
        action,
        object_type="invitation",
        object_id=invitation.public_id,
        service_id=invitation.service_id,
        details=details or None,
    )


def _new_invitation(meeting: Meeting, party: Party | None, user: User | None, at: dt.datetime) -> Invitation:
    invitation = Invitation(
        service_id=meeting.service_id,
        case_id=meeting.case_id,
        meeting=meeting,
        party=party,
        user=user,
        language=(party.language or "en") if party is not None else "en",
        status=InvitationStatus.INVITED.value,
        status_changed_at=at,
        channels="email",
        created_at=at,
    )
    if party is not None:
        invitation.channels = "+".join(party_channels(party, at)) or "letter"
        give_link(invitation)
    db.session.add(invitation)
    db.session.flush()
    return invitation


# --- sending ---------------------------------------------------------------------------------------


def _next_sequence(invitation: Invitation) -> int:
    """The calendar SEQUENCE of the next version this recipient gets: never lower than before, nor the meeting's."""
    meeting_sequence = invitation.meeting.sequence
    if invitation.sent_sequence is None:
        return meeting_sequence
    return max(meeting_sequence, invitation.sent_sequence + 1)


def _send(invitation: Invitation, kind: str, at: dt.datetime, *, change: str) -> None:
    """Send one version of the invitation (invite, update or cancellation) on its channels, once."""
    sequence = _next_sequence(invitation)
    if invitation.party is not None:
        # A party's language may have been corrected since they were invited: each version follows it.
        invitation.language = invitation.party.language or "en"
    cancelling = kind in (kinds.INVITATION_CANCELLED, kinds.MEETING_NOT_GOING_AHEAD)
    method = "CANCEL" if cancelling else "REQUEST"
    view = view_for(invitation, at)
    meeting = invitation.meeting
    event_kind = {
        kinds.INVITATION: InvitationEventKind.SENT,
        kinds.INVITATION_UPDATE: InvitationEventKind.UPDATED,
    }.get(kind, InvitationEventKind.CANCELLED)
    if invitation.user is not None:
        user = invitation.user
        event = calendar_event(view, invitation, stamp=at, cancelled=cancelling, attendee_email=user.email)
        event = _with_sequence(event, sequence)
        send_staff_email(
            user,
            kinds.STAFF_INVITATION,
            {
                "case_reference": meeting.case.reference,
                "meeting_title": meeting.title,
                "meeting_date": view.date_text,
                "change": change,
                "arrival_plan": "\n".join(
                    f"- {line.who}: arrives {line.arrives}, leaves {line.departs}"
                    + (f", waits in {line.waiting_room}" if line.waiting_room else "")
                    + (f" (entrance: {line.entrance})" if line.entrance else "")
                    for line in view.arrival_plan
                )
                or "- (no arrival plan for this meeting)",
                "link": view.link or "",
            },
            idempotency_key=f"invitation:{invitation.id}:{sequence}:{kind}:email",
            case_id=meeting.case_id,
            meeting_id=meeting.id,
            attachments=[invite_attachment(event, method)],
        )
        channels_used = "email"
    else:
        party = invitation.party
        assert party is not None  # noqa: S101 (one_invitee constraint)
        channels = [c for c in invitation.channels.split("+") if c in ("email", "sms")]
        values = message_values(view)
        unsent: list[str] = []
        if cancelling:
            values.pop("link")
        for channel in channels:
            attachments = []
            if channel == Channel.EMAIL:
                event = calendar_event(
                    view, invitation, stamp=at, cancelled=cancelling, attendee_email=party.email
                )
                attachments = [invite_attachment(_with_sequence(event, sequence), method)]
            try:
                queue_party_message(
                    party,
                    kind,
                    channel,
                    values,
                    idempotency_key=f"invitation:{invitation.id}:{sequence}:{kind}:{channel}",
                    meeting_id=meeting.id,
                    attachments=attachments,
                    language=invitation.language,
                )
            except WordingRefused as refused:
                # Better no message than an indiscreet one (e.g. a name that says "Court"): a person calls.
                unsent.append(channel)
                log.warning("invitation not worded discreetly", extra={"invitation": invitation.public_id})
                _add_task(
                    invitation,
                    TaskKind.SEND_LETTER,
                    f"The {channel} to {party.display_name} ({party.role_label.lower()}) was not sent: "
                    f"{' '.join(refused.reasons)} Phone or write to them instead.",
                    at,
                )
        channels = [c for c in channels if c not in unsent]
        channels_used = "+".join(channels)
        if not channels and not unsent:
            what = {
                kinds.INVITATION: "Phone or write to invite them",
                kinds.INVITATION_UPDATE: "Phone or write to tell them the new time",
            }.get(kind, "Phone or write to tell them it will not go ahead")
            _add_task(
                invitation,
                TaskKind.SEND_LETTER,
                f"{party.display_name} ({party.role_label.lower()}) allows no SMS or email. "
                f"{what}: {meeting.title} on {view.date_text}. A printable letter is ready.",
                at,
            )
            channels_used = "letter"
            event_kind = InvitationEventKind.LETTER if not cancelling else event_kind
        elif not channels:
            channels_used = "letter"
    invitation.sent_sequence = sequence
    _add_event(invitation, event_kind, at, channel=channels_used, note=f"Version {sequence}")
    _audit(f"invitation.{event_kind.value}", invitation, sequence=sequence, kind=kind, channels=channels_used)


def _with_sequence(event, sequence: int):
    from dataclasses import replace

    return replace(event, sequence=sequence)


def _plan_reminders(invitation: Invitation, at: dt.datetime) -> None:
    if invitation.party is None:
        return
    from rj_scheduler.invitations import reminders

    reminders.plan_reminders(invitation, view_for(invitation, at), at)


def _cancel_reminders(invitation: Invitation, reason: str) -> None:
    if invitation.party is None:
        return
    from rj_scheduler.invitations import reminders

    reminders.cancel_reminders(invitation, reason)


def _cancel_unsent_requests(meeting: Meeting, reason: str) -> None:
    for kind in REQUEST_KINDS:
        cancel_open_messages(reason, meeting_id=meeting.id, kind=kind)


def invite_attendees(meeting: Meeting, at: dt.datetime) -> list[Invitation]:
    """A meeting was booked: invite everyone at it (DOMAIN rules 4 and 5: each sees only their own plan)."""
    if meeting.format == MeetingFormat.LETTER or meeting.starts_at is None:
        return []
    return sync_invitations(meeting, at)


def sync_invitations(meeting: Meeting, at: dt.datetime) -> list[Invitation]:
    """Bring every attendee's invitation up to the meeting's current version, once.

    New attendees are invited; attendees whose last version is older get an
    update (their answer is asked for again); attendees no longer at the
    meeting get a cancellation. Someone who withdrew is not invited again.
    """
    if meeting.format == MeetingFormat.LETTER or meeting.starts_at is None:
        return []
    _cancel_unsent_requests(meeting, "A newer version of the invitation replaces it.")
    existing = {_invitation_key(inv): inv for inv in queries.invitations_for_meeting(db.session, meeting)}
    wanted = _invitees(meeting)
    touched: list[Invitation] = []
    for party, user in wanted:
        invitation = existing.pop(_key(party, user), None)
        if invitation is None:
            invitation = _new_invitation(meeting, party, user, at)
            _send(invitation, kinds.INVITATION, at, change="booked")
        elif invitation.status == InvitationStatus.WITHDRAWN:
            continue
        elif (
            invitation.sent_sequence is None
            or invitation.sent_sequence < meeting.sequence
            or (invitation.status == InvitationStatus.CANCELLED)
        ):
            if invitation.party is not None:
                invitation.channels = "+".join(party_channels(invitation.party, at)) or "letter"
            _cancel_reminders(invitation, "The appointment changed.")
            _set_status(invitation, InvitationStatus.INVITED, at)
            _send(invitation, kinds.INVITATION_UPDATE, at, change="changed")
        else:
            continue
        _plan_reminders(invitation, at)
        touched.append(invitation)
    for invitation in existing.values():
        if not invitation.is_closed:
            _cancel_reminders(invitation, "They are no longer at the meeting.")
            _set_status(invitation, InvitationStatus.CANCELLED, at)
            _send(invitation, kinds.INVITATION_CANCELLED, at, change="cancelled for them")
            touched.append(invitation)
    db.session.flush()
    return touched


def cancel_invitations(meeting: Meeting, at: dt.datetime, *, why: str = "cancelled") -> list[Invitation]:
    """A meeting was cancelled or postponed: every open invitation gets a cancellation, once."""
    _cancel_unsent_requests(meeting, "The meeting was cancelled.")
    cancelled = []
    for invitation in queries.invitations_for_meeting(db.session, meeting):
        if invitation.is_closed:
            continue
        _cancel_reminders(invitation, "The meeting was cancelled.")
        _set_status(invitation, InvitationStatus.CANCELLED, at)
        _send(invitation, kinds.INVITATION_CANCELLED, at, change=why)
        cancelled.append(invitation)
    db.session.flush()
    return cancelled


def withdraw_party(party: Party, at: dt.datetime) -> list[Invitation]:
    """A party withdrew consent to take part: their invitations end; others hear only "it will not go ahead".

    Only a victim's or an offender's withdrawal stops a meeting for everyone; a
    supporter's or an interpreter's ends only their own invitation. The
    facilitators are told by email, and the meeting stays flagged for them.
    """
    changed: list[Invitation] = []
    for invitation in queries.future_invitations_of_party(db.session, party, at):
        if invitation.is_closed:
            continue
        meeting = invitation.meeting
        _cancel_reminders(invitation, "They withdrew consent to take part.")
        _set_status(invitation, InvitationStatus.WITHDRAWN, at)
        _add_event(invitation, InvitationEventKind.WITHDRAWN, at)
        _audit("invitation.withdrawn", invitation)
        changed.append(invitation)
        if meeting.status != MeetingStatus.BOOKED:
            continue
        _send(invitation, kinds.INVITATION_CANCELLED, at, change="cancelled for them")
        stops_meeting = party.role in (PartyRole.VICTIM, PartyRole.OFFENDER)
        for other in queries.invitations_for_meeting(db.session, meeting):
            if other.id == invitation.id or other.is_closed:
                continue
            if other.party is not None and stops_meeting:
                _cancel_reminders(other, "The meeting will not go ahead.")
                _set_status(other, InvitationStatus.CANCELLED, at)
                _send(other, kinds.MEETING_NOT_GOING_AHEAD, at, change="stopped")
                changed.append(other)
            elif other.user is not None:
                _send(
                    other,
                    kinds.INVITATION_UPDATE,
                    at,
                    change=(
                        "put on hold: a participant no longer wants to take part (see the case)"
                        if stops_meeting
                        else "changed: a participant no longer wants to take part (see the case)"
                    ),
                )
    db.session.flush()
    return changed


# --- answers ---------------------------------------------------------------------------------------


def _check_open(invitation: Invitation, at: dt.datetime) -> None:
    meeting = invitation.meeting
    if invitation.status in CLOSED_STATUSES or meeting.status != MeetingStatus.BOOKED:
        raise ResponseRefused(["This appointment is no longer going ahead."])
    if meeting.starts_at is None or at >= meeting.starts_at:
        raise ResponseRefused(["This appointment has already started."])


def respond(invitation: Invitation, action: str, *, note: str | None, at: dt.datetime, via: str) -> None:
    """Take a party's answer: confirm, cannot come, ask for a different time, or no longer take part.

    Confirming needs the party's current consent to take part (DOMAIN rule 1).
    "Cannot come" and "a different time" give the facilitator a task; "no
    longer take part" records the withdrawal of consent (which cancels their
    invitations and tells the others neutrally) and asks the facilitator to call.
    """
    if action not in ACTIONS:
        raise ResponseRefused(["Choose an answer."])
    if invitation.party is None:
        raise ResponseRefused(["Only a participant can answer an invitation."])
    _check_open(invitation, at)
    party = invitation.party
    meeting = invitation.meeting
    text = (note or "").strip()
    if action == "change":
        if not text:
            raise ResponseRefused(["Tell us which days or times would suit you better."])
        if len(text) > NOTE_LIMIT:
            raise ResponseRefused([f"Your message must be {NOTE_LIMIT} characters or fewer."])
    how = "on their page" if via == "page" else "by SMS reply"
    when = view_for(invitation, at).date_text
    invitation.responded_at = at
    if action == "confirm":
        if not has_consent(party, ConsentKind.TAKE_PART):
            raise ResponseRefused(["Please call us: we need to talk with you before this appointment."])
        _set_status(invitation, InvitationStatus.CONFIRMED, at)
        _add_event(invitation, InvitationEventKind.CONFIRMED, at, channel=via)
        summary = f"{party.display_name} confirmed the {meeting.title.lower()} on {when} ({how})."
    elif action == "decline":
        _set_status(invitation, InvitationStatus.DECLINED, at)
        _add_event(invitation, InvitationEventKind.DECLINED, at, channel=via)
        _cancel_reminders(invitation, "They said they cannot come.")
        _add_task(
            invitation,
            TaskKind.DECLINED,
            f"{party.display_name} ({party.role_label.lower()}) cannot come to the {meeting.title.lower()} "
            f"on {when} ({how}). Call them to find another time.",
            at,
        )
        summary = (
            f"{party.display_name} said they cannot come to the {meeting.title.lower()} on {when} ({how})."
        )
    elif action == "change":
        invitation.response_note = text
        _set_status(invitation, InvitationStatus.CHANGE_REQUESTED, at)
        _add_event(invitation, InvitationEventKind.CHANGE_REQUESTED, at, channel=via, note=text)
        _add_task(
            invitation,
            TaskKind.CHANGE_REQUESTED,
            f"{party.display_name} ({party.role_label.lower()}) asked for a different time for the "
            f"{meeting.title.lower()} on {when}: \u201c{text}\u201d",
            at,
        )
        summary = f"{party.display_name} asked for a different time for the {meeting.title.lower()} on {when} ({how})."
    else:
        _add_task(
            invitation,
            TaskKind.CALL_AFTER_WITHDRAWAL,
            f"{party.display_name} ({party.role_label.lower()}) said {how} that they no longer want to take "
            "part. Their invitations are cancelled. Call them.",
            at,
        )
        record_consent(
            party,
            ConsentKind.TAKE_PART.value,
            given=False,
            at=at,
            method=ConsentMethod.ONLINE.value if via == "page" else ConsentMethod.SMS_REPLY.value,
            actor=None,
        )
        if invitation.status not in CLOSED_STATUSES:  # consent was not current: end this one anyway
            withdraw_party(party, at)
        _audit("invitation.answered", invitation, answer=action, via=via)
        return
    add_timeline_event(invitation.case, f"invitation_{action}", summary, actor=None, at=at, party=party)
    _audit("invitation.answered", invitation, answer=action, via=via)
    db.session.flush()


def record_opened(invitation: Invitation, at: dt.datetime) -> None:
    """The private page was opened (email scanners open links too: a facilitator sees it as a hint only)."""
    first_today = invitation.last_opened_at is None or invitation.last_opened_at.date() != at.date()
    if invitation.opened_at is None:
        invitation.opened_at = at
    invitation.last_opened_at = at
    if first_today:
        _add_event(invitation, InvitationEventKind.OPENED, at)
    _audit("invitation.page_viewed", invitation)
    db.session.flush()


def outcome_for(meeting: Meeting) -> ConferenceOutcome | None:
    return db.session.scalar(select(ConferenceOutcome).where(ConferenceOutcome.meeting_id == meeting.id))


def feedback_open(invitation: Invitation, at: dt.datetime) -> bool:
    """A party may give feedback once the conference is over and recorded as held."""
    meeting = invitation.meeting
    if invitation.party is None or meeting.ends_at is None or at < meeting.ends_at:
        return False
    outcome = outcome_for(meeting)
    return outcome is not None and outcome.held


def record_satisfaction(invitation: Invitation, score: int, comment: str | None, at: dt.datetime) -> None:
    """A party's satisfaction (1 to 5, and a comment) lands in the conference's outcome (their own answer wins)."""
    if not feedback_open(invitation, at):
        raise ResponseRefused(["We are not asking for feedback on this appointment yet."])
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ResponseRefused(["Choose how satisfied you were, from 1 to 5."])
    text = (comment or "").strip() or None
    if text is not None and len(text) > COMMENT_LIMIT:
        raise ResponseRefused([f"Your comments must be {COMMENT_LIMIT} characters or fewer."])
    outcome = outcome_for(invitation.meeting)
    assert outcome is not None  # noqa: S101 (feedback_open checked it)
    row = db.session.scalar(
        select(PartySatisfaction).where(
            PartySatisfaction.outcome_id == outcome.id, PartySatisfaction.party_id == invitation.party_id
        )
    )
    if row is None:
        row = PartySatisfaction(
            service_id=invitation.service_id, outcome_id=outcome.id, party_id=invitation.party_id, score=score
        )
        db.session.add(row)
    row.score = score
    row.comments = text
    _add_event(invitation, InvitationEventKind.SATISFACTION, at, note=f"{score} out of 5")
    party = invitation.party
    add_timeline_event(
        invitation.case,
        "satisfaction_given",
        f"{party.display_name} gave feedback on their page: {score} out of 5.",  # type: ignore[union-attr]
        actor=None,
        at=at,
        party=party,
    )
    _audit("invitation.satisfaction", invitation, score=score)
    db.session.flush()


def mark_task_done(task: InvitationTask, by: User, at: dt.datetime) -> None:
    """A facilitator has done a task (it leaves the lists; it stays in the audit log)."""
    if task.done_at is None:
        task.done_at = at
        task.done_by_id = by.id
    audit.record(
        "invitation_task.done",
        object_type="invitation_task",
        object_id=task.public_id,
        service_id=task.service_id,
    )
    db.session.flush()


# --- "still relevant" checks just before sending -----------------------------------------------------


def _invitation_of_message(message: OutboxMessage) -> Invitation | None:
    if message.meeting_id is None:
        return None
    who = (
        Invitation.party_id == message.party_id
        if message.party_id is not None
        else Invitation.user_id == message.user_id
    )
    return db.session.scalar(select(Invitation).where(Invitation.meeting_id == message.meeting_id, who))


def invite_still_relevant(message: OutboxMessage) -> str | None:
    """An invite or update goes only while the invitation is open and the meeting still booked."""
    invitation = _invitation_of_message(message)
    if invitation is None:
        return None
    if invitation.is_closed or invitation.meeting.status != MeetingStatus.BOOKED:
        return "The invitation is no longer open."
    return None


for _kind in REQUEST_KINDS:
    register_still_relevant_check(_kind, invite_still_relevant)
WITHDRAWAL_NOTICE_KINDS.update({kinds.INVITATION_CANCELLED, kinds.MEETING_NOT_GOING_AHEAD})


# --- signals ---------------------------------------------------------------------------------------


@meeting_events.meeting_booked.connect
def _on_booked(sender: object, *, meeting: Meeting, at: dt.datetime, **_: object) -> None:
    invite_attendees(meeting, at)


@meeting_events.meeting_rescheduled.connect
def _on_rescheduled(sender: object, *, meeting: Meeting, at: dt.datetime, **_: object) -> None:
    sync_invitations(meeting, at)


@meeting_events.meeting_cancelled.connect
def _on_cancelled(sender: object, *, meeting: Meeting, at: dt.datetime, **_: object) -> None:
    cancel_invitations(meeting, at, why="cancelled")


@meeting_events.meeting_postponed.connect
def _on_postponed(sender: object, *, meeting: Meeting, at: dt.datetime, **_: object) -> None:
    cancel_invitations(meeting, at, why="postponed until a new time is found")


@case_events.consent_to_take_part_withdrawn.connect
def _on_withdrawn(sender: object, *, party: Party, at: dt.datetime, **_: object) -> None:
    withdraw_party(party, at)


__all__ = [
    "ACTIONS",
    "AttendeeRole",
    "cancel_invitations",
    "feedback_open",
    "invite_attendees",
    "mark_task_done",
    "record_opened",
    "record_satisfaction",
    "respond",
    "sync_invitations",
    "withdraw_party",
]
