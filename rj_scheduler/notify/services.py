"""The rules of the messaging engine as plain functions: queue, word, cancel, record replies.

Messages are written to the outbox in the caller's transaction (these
functions flush, never commit): if the change that causes a message rolls
back, the message never existed; if it commits, a dispatcher will send it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rj_scheduler.audit.services import record as audit
from rj_scheduler.auth.models import Service, User
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.notify.backends import Attachment
from rj_scheduler.notify.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Channel,
    InboundCategory,
    InboundMessage,
    MessageStatus,
    MessageWording,
    OutboxAttachment,
    OutboxMessage,
    UnmatchedStatusCallback,
    WordingStyle,
)
from rj_scheduler.notify.wording import (
    MessageKind,
    Wording,
    check_discreet_text,
    check_never_mentioned,
    check_wording,
    message_kind,
    render,
    text_to_html,
)

log = logging.getLogger("rj_scheduler.notify")


# --- Queueing -------------------------------------------------------------------------------------


def queue_message(
    *,
    service_id: int,
    channel: str,
    kind: str,
    to_address: str,
    body_text: str,
    idempotency_key: str,
    subject: str | None = None,
    body_html: str | None = None,
    due_at: dt.datetime | None = None,
    case_id: int | None = None,
    party_id: int | None = None,
    user_id: int | None = None,
    meeting_id: int | None = None,
    attachments: Sequence[Attachment] = (),
) -> OutboxMessage:
    """Write one message to the outbox in the current transaction; the same key twice gives one message.

    If a message with ``idempotency_key`` exists it is returned unchanged.
    """
    existing = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing
    at = now()
    due = due_at or at
    message = OutboxMessage(
        service_id=service_id,
        channel=str(Channel(channel)),
        kind=kind,
        to_address=to_address or "",
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        idempotency_key=idempotency_key,
        status=MessageStatus.PENDING.value,
        due_at=due,
        available_at=due,
        case_id=case_id,
        party_id=party_id,
        user_id=user_id,
        meeting_id=meeting_id,
        created_at=at,
    )
    for attachment in attachments:
        message.attachments.append(
            OutboxAttachment(
                filename=attachment.filename, content_type=attachment.content_type, content=attachment.content
            )
        )
    db.session.add(message)
    db.session.flush()
    audit(
        "outbox_message.queued",
        object_type="outbox_message",
        object_id=message.public_id,
        service_id=service_id,
        details={"kind": kind, "channel": message.channel},
    )
    return message


def wording_for(
    service_id: int, kind: MessageKind, channel: str, style: str, language: str | None = None
) -> Wording:
    """The service's own wording of this kind, or the default; in another language, the default's translation.

    A service's own wording is written in English; a party who reads another
    language gets the default wording from that language's catalogue (English
    where it has no translation yet).
    """
    from rj_scheduler.i18n import FALLBACK_LANGUAGE, gettext, in_language, language_of

    if language_of(language) != FALLBACK_LANGUAGE:
        default = kind.default(channel, style)
        with in_language(language):
            return Wording(
                body=gettext(default.body), subject=gettext(default.subject) if default.subject else None
            )
    row = db.session.scalar(
        select(MessageWording).where(
            MessageWording.service_id == service_id,
            MessageWording.kind == kind.kind,
            MessageWording.channel == channel,
            MessageWording.style == style,
        )
    )
    if row is not None:
        return Wording(body=row.body, subject=row.subject)
    return kind.default(channel, style)


def queue_party_message(
    party,
    kind: str,
    channel: str,
    values: Mapping[str, object],
    *,
    idempotency_key: str,
    due_at: dt.datetime | None = None,
    meeting_id: int | None = None,
    attachments: Sequence[Attachment] = (),
    never_mention: Iterable[str] = (),
    language: str | None = None,
) -> OutboxMessage:
    """Queue a message to a party in their chosen wording (discreet unless they chose plain).

    In discreet wording the rendered text may not contain anything in
    ``never_mention`` (e.g. the other party's name, the offence): DOMAIN rules 4 and 6.
    Whether the party may be contacted is decided again just before sending.
    ``language`` picks the catalogue of the default wording (the party's language).
    """
    from rj_scheduler.cases.contact import uses_plain_wording
    from rj_scheduler.i18n import language_of

    message_type = message_kind(kind)
    style = WordingStyle.PLAIN if uses_plain_wording(party) else WordingStyle.DISCREET
    wording = wording_for(party.service_id, message_type, channel, style, language)
    body = render(wording.body, values)
    subject = render(wording.subject, values) if wording.subject else None
    if style == WordingStyle.DISCREET:
        # The filled-in values count too: a service called "Victim First" must not be named in discreet text.
        check_never_mentioned(" ".join(filter(None, [subject, body])), never_mention)
        check_discreet_text(subject, body)
    address = party.mobile_e164 if channel == Channel.SMS else party.email
    return queue_message(
        service_id=party.service_id,
        channel=channel,
        kind=kind,
        to_address=address or "",
        subject=subject,
        body_text=body,
        body_html=text_to_html(subject or "", body, language_of(language))
        if channel == Channel.EMAIL
        else None,
        idempotency_key=idempotency_key,
        due_at=due_at,
        case_id=party.case_id,
        party_id=party.id,
        meeting_id=meeting_id,
        attachments=attachments,
    )


def send_staff_email(
    user: User,
    kind: str,
    context: Mapping[str, object],
    *,
    idempotency_key: str | None = None,
    case_id: int | None = None,
    meeting_id: int | None = None,
    attachments: Sequence[Attachment] = (),
) -> OutboxMessage:
    """Queue an email to a member of staff through the outbox (e.g. a sign-off decision, a failed message).

    ``context`` fills the kind's placeholders; ``staff_name`` is filled in from the user.
    """
    message_type = message_kind(kind)
    values = {"staff_name": user.full_name, **context}
    wording = wording_for(user.service_id, message_type, Channel.EMAIL, WordingStyle.PLAIN)
    body = render(wording.body, values)
    subject = render(wording.subject or message_type.label, values)
    return queue_message(
        service_id=user.service_id,
        channel=Channel.EMAIL,
        kind=kind,
        to_address=user.email,
        subject=subject,
        body_text=body,
        body_html=text_to_html(subject, body),
        idempotency_key=idempotency_key or f"staff:{kind}:{user.id}:{secrets.token_hex(8)}",
        case_id=case_id,
        user_id=user.id,
        meeting_id=meeting_id,
        attachments=attachments,
    )


def cancel_open_messages(
    reason: str,
    *,
    party_id: int | None = None,
    meeting_id: int | None = None,
    kind: str | None = None,
    except_kinds: Iterable[str] = (),
) -> int:
    """Cancel the messages not yet sent to a party and/or about a meeting, with the reason. Returns how many.

    A message a dispatcher holds right now ("sending") may still go out: the
    pre-send checks catch the common cases (consent, the meeting being off).
    """
    if party_id is None and meeting_id is None:
        raise ValueError("Say whose messages, or which meeting's, to cancel.")
    stmt = update(OutboxMessage).where(OutboxMessage.status == MessageStatus.PENDING.value)
    if party_id is not None:
        stmt = stmt.where(OutboxMessage.party_id == party_id)
    if meeting_id is not None:
        stmt = stmt.where(OutboxMessage.meeting_id == meeting_id)
    if kind is not None:
        stmt = stmt.where(OutboxMessage.kind == kind)
    kept = tuple(except_kinds)
    if kept:
        stmt = stmt.where(OutboxMessage.kind.not_in(kept))
    at = now()
    ids = set(
        db.session.scalars(
            stmt.values(status=MessageStatus.CANCELLED.value, status_reason=reason[:500], finished_at=at)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    # Objects already loaded in this session are re-read on next use, so nobody acts on a stale status.
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, OutboxMessage) and loaded.id in ids:
            db.session.expire(loaded)
    return len(ids)


def acknowledge_failed_message(message: OutboxMessage, by: User) -> None:
    """A facilitator has dealt with a failed message: it leaves the dashboard (it stays on the case)."""
    message.acknowledged_at = now()
    audit(
        "outbox_message.acknowledged",
        object_type="outbox_message",
        object_id=message.public_id,
        service_id=message.service_id,
    )


# --- Wording --------------------------------------------------------------------------------------


def save_wording(
    service: Service, kind: str, channel: str, style: str, subject: str | None, body: str, by: User
) -> MessageWording:
    """Save a service's wording of a message, refusing unknown placeholders and indiscreet discreet wording."""
    message_type = message_kind(kind)
    if (channel, "discreet") not in message_type.defaults and (channel, style) not in message_type.defaults:
        raise ValueError(f"{message_type.label} is not sent by {channel}.")
    if style not in message_type.styles:
        raise ValueError(f"{message_type.label} has no {style} wording.")
    check_wording(message_type, channel, style, subject, body)
    row = db.session.scalar(
        select(MessageWording).where(
            MessageWording.service_id == service.id,
            MessageWording.kind == kind,
            MessageWording.channel == channel,
            MessageWording.style == style,
        )
    )
    if row is None:
        row = MessageWording(service_id=service.id, kind=kind, channel=channel, style=style, body=body)
        db.session.add(row)
    row.subject = subject if channel == Channel.EMAIL else None
    row.body = body
    row.updated_by_id = by.id
    row.updated_at = now()
    db.session.flush()
    audit(
        "message_wording.saved",
        object_type="message_wording",
        object_id=f"{kind}:{channel}:{style}",
        service_id=service.id,
    )
    return row


# --- Twilio status callbacks ----------------------------------------------------------------------

# Twilio's message statuses, mapped to ours. Ours only ever move forward.
_TWILIO_TO_STATUS = {
    "accepted": MessageStatus.SENT,
    "scheduled": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}
_RANK = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.CANCELLED: 3,
    MessageStatus.SUPPRESSED: 3,
    MessageStatus.KEPT: 3,
}


@dataclass(frozen=True)
class StatusCallbackResult:
    matched: int
    changed: int


def apply_status_callback(
    session: Session, message_sid: str, provider_status: str, error_code: str | None, at: dt.datetime
) -> StatusCallbackResult:
    """Apply a Twilio status report: idempotent per MessageSid, and never moving a message backwards.

    A report for a SID no message carries yet is kept, so the dispatcher can
    apply it when it records the SID; it is acknowledged either way.
    """
    provider_status = (provider_status or "").strip().lower()
    messages = list(session.scalars(select(OutboxMessage).where(OutboxMessage.provider_id == message_sid)))
    if not messages:
        _keep_unmatched(session, message_sid, provider_status, error_code, at)
        log.info("status callback for an unknown message", extra={"message_sid": message_sid})
        return StatusCallbackResult(matched=0, changed=0)
    changed = 0
    for message in messages:
        if apply_provider_status(message, provider_status, error_code, at):
            changed += 1
    session.flush()
    return StatusCallbackResult(matched=len(messages), changed=changed)


def apply_provider_status(
    message: OutboxMessage, provider_status: str, error_code: str | None, at: dt.datetime
) -> bool:
    """Move ``message`` forward to what Twilio reports; answers whether anything changed."""
    target = _TWILIO_TO_STATUS.get(provider_status)
    if target is None:
        return False
    current = MessageStatus(message.status)
    if current in FINAL_STATUSES or _RANK[target] <= _RANK[current]:
        return False
    message.status = target.value
    message.provider_status = provider_status
    if target == MessageStatus.DELIVERED:
        message.delivered_at = at
        message.finished_at = at
    elif target == MessageStatus.FAILED:
        meaning = f"Twilio could not deliver it ({provider_status}"
        meaning += f", error {error_code})." if error_code else ")."
        message.last_error = meaning
        message.failed_at = at
        message.finished_at = at
    audit(
        f"outbox_message.{target.value}",
        object_type="outbox_message",
        object_id=message.public_id,
        service_id=message.service_id,
        details={"provider_status": provider_status, "error_code": error_code},
    )
    if target == MessageStatus.FAILED:
        tell_staff_about_failure(message)
    return True


def _keep_unmatched(
    session: Session, message_sid: str, provider_status: str, error_code: str | None, at: dt.datetime
) -> None:
    row = session.scalar(
        select(UnmatchedStatusCallback).where(UnmatchedStatusCallback.message_sid == message_sid)
    )
    if row is None:
        session.add(
            UnmatchedStatusCallback(
                message_sid=message_sid,
                provider_status=provider_status,
                error_code=error_code,
                received_at=at,
            )
        )
    else:
        target = _TWILIO_TO_STATUS.get(provider_status)
        kept = _TWILIO_TO_STATUS.get(row.provider_status)
        if target is not None and (kept is None or _RANK[target] > _RANK[kept]):
            row.provider_status = provider_status
            row.error_code = error_code
            row.received_at = at
    session.flush()


def apply_early_status_callback(session: Session, message: OutboxMessage) -> None:
    """Apply a status report that arrived before the dispatcher recorded the message's SID."""
    if not message.provider_id:
        return
    row = session.scalar(
        select(UnmatchedStatusCallback).where(UnmatchedStatusCallback.message_sid == message.provider_id)
    )
    if row is not None:
        apply_provider_status(message, row.provider_status, row.error_code, row.received_at)
        session.delete(row)


def tell_staff_about_failure(message: OutboxMessage) -> None:
    """A party's message finally failed: email the case's lead facilitator (DOMAIN rule 10).

    The failure is also listed on the case page and the facilitator's dashboard.
    Failures of staff emails are not emailed on (they are on the Outbox page).
    """
    if message.party_id is None or message.case_id is None:
        return
    from rj_scheduler.cases.models import Case

    case = db.session.get(Case, message.case_id)
    if case is None or case.lead_facilitator_id is None:
        return
    lead = db.session.get(User, case.lead_facilitator_id)
    if lead is None or not lead.is_active_account:
        return
    try:
        kind_label = message_kind(message.kind).label
    except Exception:  # an unregistered kind still gets its raw name
        kind_label = message.kind
    base = current_app.config.get("RJ_PUBLIC_URL", "")
    send_staff_email(
        lead,
        "staff_message_failed",
        {
            "case_reference": case.reference,
            "message_kind": kind_label,
            "reason": message.last_error or message.status_reason or "It could not be sent.",
            "link": f"{base}/cases/{case.reference}",
        },
        idempotency_key=f"failed:{message.id}",
        case_id=case.id,
    )


# --- Inbound SMS ----------------------------------------------------------------------------------

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# English, and the Polish the Polish invitation asks for (TAK, NIE).
YES_WORDS = frozenset({"YES", "Y", "YEAH", "YEP", "OK", "OKAY", "CONFIRM", "ACCEPT", "TAK"})
NO_WORDS = frozenset({"NO", "N", "NOPE", "DECLINE", "NIE"})


def categorise(body: str) -> InboundCategory:
    """What a reply means, from its first word (as Twilio's own opt-out handling does)."""
    words = re.findall(r"[A-Za-z]+", body or "")
    if not words:
        return InboundCategory.OTHER
    first = words[0].upper()
    whole = "".join(words).upper()
    if first in OPT_OUT_WORDS or whole in OPT_OUT_WORDS:
        return InboundCategory.OPT_OUT
    if first in OPT_IN_WORDS or whole in OPT_IN_WORDS:
        return InboundCategory.OPT_IN
    if whole in HELP_WORDS:
        return InboundCategory.HELP
    if len(words) <= 3 and first in YES_WORDS:
        return InboundCategory.YES
    if len(words) <= 3 and first in NO_WORDS:
        return InboundCategory.NO
    return InboundCategory.OTHER


@dataclass(frozen=True)
class InboundResult:
    inbound: InboundMessage
    reply: str | None
    duplicate: bool


def receive_inbound_sms(
    session: Session, message_sid: str, from_number: str, body: str, at: dt.datetime
) -> InboundResult:
    """Process an SMS a party sent, once per MessageSid, and answer with the reply to send (or None).

    The sender is matched to the parties of the service that last messaged
    that number. STOP words record an SMS opt-out, START/UNSTOP opt back in
    (both on the timeline), HELP answers with the service's phone number, YES
    and NO are recorded on the timeline, anything else waits for the
    facilitator as an inbound message. YES, NO and other replies from a known
    party are also handed to ``notify.events.sms_reply_received`` (invitations
    act on them and may answer the sender).
    """
    existing = session.scalar(select(InboundMessage).where(InboundMessage.message_sid == message_sid))
    if existing is not None:
        return InboundResult(existing, None, duplicate=True)
    category = categorise(body)
    last = session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == Channel.SMS.value,
            OutboxMessage.to_address == from_number,
            OutboxMessage.status.not_in(OPEN_STATUSES),
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )
    service = session.get(Service, last.service_id) if last is not None else None
    parties = []
    if service is not None:
        from rj_scheduler.cases.contact import find_parties_by_mobile

        parties = find_parties_by_mobile(session, service.id, from_number)
    party = None
    if last is not None and last.party_id is not None:
        party = next((p for p in parties if p.id == last.party_id), None)
    if party is None and parties:
        party = parties[0]
    inbound = InboundMessage(
        message_sid=message_sid,
        service_id=service.id if service else None,
        case_id=party.case_id if party else None,
        party_id=party.id if party else None,
        from_number=from_number,
        body=body[:1600],
        category=category.value,
        received_at=at,
    )
    session.add(inbound)
    session.flush()
    if service is None:
        log.info("inbound SMS from a number we have not messaged", extra={"message_sid": message_sid})
        return InboundResult(inbound, None, duplicate=False)
    audit(
        "inbound_sms.received",
        object_type="inbound_message",
        object_id=inbound.public_id,
        service_id=service.id,
        details={"category": category.value},
    )
    reply = _act_on_reply(session, service, parties, party, inbound, category, at)
    return InboundResult(inbound, reply, duplicate=False)


def _act_on_reply(session, service, parties, party, inbound, category, at) -> str | None:
    from rj_scheduler.cases.contact import record_channel_opt_in, record_channel_opt_out

    if category == InboundCategory.OPT_OUT:
        for each in parties:
            record_channel_opt_out(each, "sms", at, "sms_reply")
            cancel_open_messages("They replied STOP: no more SMS.", party_id=each.id, kind=None)
        inbound.handled_at = at
        # Twilio answers STOP itself on numbers with Advanced Opt-Out; a reply here would be a second one.
        return None
    if category == InboundCategory.OPT_IN:
        for each in parties:
            record_channel_opt_in(each, "sms", at, "sms_reply")
        inbound.handled_at = at
        return None
    if category == InboundCategory.HELP:
        inbound.handled_at = at
        phone = service.phone_number or "the number in our letter"
        return f"For help with your appointment, call us on {phone}."
    if party is not None and category in (InboundCategory.YES, InboundCategory.NO):
        from rj_scheduler.cases.models import Case
        from rj_scheduler.cases.services import add_timeline_event

        case = session.get(Case, party.case_id)
        answer = "yes" if category == InboundCategory.YES else "no"
        add_timeline_event(
            case,
            f"sms_reply_{answer}",
            f"{party.display_name} replied {answer.upper()} by SMS.",
            actor=None,
            at=at,
            party=party,
        )
    if party is not None and category in (InboundCategory.YES, InboundCategory.NO, InboundCategory.OTHER):
        from rj_scheduler.notify.events import sms_reply_received

        if not sms_reply_received.receivers and category != InboundCategory.OTHER:
            inbound.handled_at = at  # nobody acts on YES or NO: the timeline line is all there is
        # Receivers (invitations) apply the answer, mark the reply handled, and may answer the sender.
        answers = sms_reply_received.send(
            None, inbound=inbound, parties=parties, party=party, category=category, at=at
        )
        return next((answer for _, answer in answers if answer), None)
    return None


def mark_inbound_handled(inbound: InboundMessage, by: User) -> None:
    """A facilitator has dealt with an inbound SMS."""
    inbound.handled_at = now()
    inbound.handled_by_id = by.id
    audit(
        "inbound_sms.handled",
        object_type="inbound_message",
        object_id=inbound.public_id,
        service_id=inbound.service_id,
    )


# --- Consent -----------------------------------------------------------------------------------------


# Kinds that tell a party their appointment is off: they still go after a withdrawal (the
# invitations capability registers its cancellations), whatever order the receivers run in.
WITHDRAWAL_NOTICE_KINDS: set[str] = set()


def cancel_messages_of_withdrawn_party(sender: object, *, party, at: dt.datetime, **_: object) -> None:
    """A party withdrew consent to take part: cancel every message not yet sent to them (DOMAIN rule 1).

    Runs inside the withdrawal's unit of work (the signal is sent there), so the
    cancellation is committed or rolled back with it; it never commits. Notices
    that their appointment is cancelled (``WITHDRAWAL_NOTICE_KINDS``) still go.
    """
    cancelled = cancel_open_messages(
        "They withdrew consent to take part.", party_id=party.id, except_kinds=WITHDRAWAL_NOTICE_KINDS
    )
    if cancelled:
        audit(
            "outbox_message.cancelled_on_withdrawal",
            object_type="party",
            object_id=party.public_id,
            service_id=party.service_id,
            details={"cancelled": cancelled},
        )


def _connect_receivers() -> None:
    from rj_scheduler.cases.events import consent_to_take_part_withdrawn

    # A strong reference: the receiver is a module-level function, but say so rather than rely on it.
    consent_to_take_part_withdrawn.connect(cancel_messages_of_withdrawn_party, weak=False)


_connect_receivers()
