"""What one recipient of an invitation may see: the only source of every invitation's words.

Every SMS, email, calendar file, participant page and printable letter of an
invitation is rendered from the ``InvitationView`` built here, never from the
meeting itself, so separation (DOMAIN rule 4) is kept in one place: a party's
view carries their own arrival time, waiting room and entrance, the others
only by role (and by name only where that person agreed), and no contact
detail of anyone but the service. A facilitator's view carries the whole
arrival plan (names, rooms and times) and still no participant contact details.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from rj_scheduler.auth.models import Service
from rj_scheduler.cases.consent import has_consent
from rj_scheduler.cases.contact import uses_plain_wording
from rj_scheduler.cases.models import ConsentKind, Party, PartyRole
from rj_scheduler.conferences.booking import side_of
from rj_scheduler.conferences.models import (
    AttendeeRole,
    ConferenceOutcome,
    Meeting,
    MeetingAttendee,
    MeetingFormat,
    MeetingKind,
    PartySatisfaction,
)
from rj_scheduler.extensions import db
from rj_scheduler.i18n import _, in_language, local_date, local_time, ngettext
from rj_scheduler.invitations.ics import CalendarEvent
from rj_scheduler.invitations.models import Invitation
from rj_scheduler.invitations.queries import settings_for
from rj_scheduler.invitations.tokens import link_for
from rj_scheduler.notify.wording import discreet_terms_in


@dataclass(frozen=True)
class ArrivalLine:
    """One party's part of the arrival plan (facilitators' invitations only)."""

    who: str
    waiting_room: str
    entrance: str
    arrives: str
    departs: str


@dataclass(frozen=True)
class InvitationView:
    invitation_id: int
    language: str
    audience: str  # "party" or "facilitator"
    first_name: str
    service_name: str
    service_phone: str
    service_email: str
    title: str
    plain: bool
    meeting_kind: str
    meeting_format: str
    status: str
    arrives_at: dt.datetime
    departs_at: dt.datetime
    date_text: str
    arrival_time_text: str
    departure_time_text: str
    duration_text: str
    venue_name: str | None
    address: str | None
    entrance: str | None
    waiting_room: str | None
    directions: str | None
    parking: str | None
    accessibility: str | None
    video_link: str | None
    what_happens: str
    who_will_be_there: list[str] = field(default_factory=list)
    facilitators: list[str] = field(default_factory=list)
    link: str | None = None
    arrival_plan: list[ArrivalLine] = field(default_factory=list)
    is_past: bool = False
    satisfaction_given: bool = False

    @property
    def location(self) -> str:
        """Where to go, for a calendar's LOCATION: their entrance and the address, or the video call."""
        if self.video_link:
            return _("Video call")
        parts = [p for p in (self.entrance, self.address) if p]
        return ", ".join(" ".join(p.split()) for p in parts)


def sender_name(service, *, plain: bool = False) -> str:
    """How messages name the service: the manager's discreet name, else the service's own if discreet."""
    settings = settings_for(db.session, service.id)
    if settings.sender_name:
        return settings.sender_name
    if plain or not discreet_terms_in(service.name):
        return service.name
    return _("the appointments team")


def first_name(party: Party) -> str:
    """What messages call a party: their preferred name, else the first word of their name."""
    if party.preferred_name:
        return party.preferred_name
    return (party.full_name or "").split(" ", 1)[0]


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _(
            "%(hours)s and %(minutes)s",
            hours=ngettext("%(num)d hour", "%(num)d hours", hours),
            minutes=ngettext("%(num)d minute", "%(num)d minutes", rest),
        )
    if hours:
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    return ngettext("%(num)d minute", "%(num)d minutes", rest)


def _what_happens(meeting: Meeting) -> str:
    if meeting.kind == MeetingKind.PREPARATION:
        return _(
            "You will meet your facilitator on your own to talk about what happens next and to answer "
            "your questions. You can bring someone to support you."
        )
    if meeting.format == MeetingFormat.VIDEO:
        return _(
            "Join the video call a few minutes early using the link on this page. A facilitator leads "
            "the meeting and makes sure everyone is listened to. You can ask for a break at any time."
        )
    if meeting.format == MeetingFormat.PRISON:
        return _(
            "The meeting takes place inside the prison. Bring photo identification and arrive in good "
            "time for the security checks. A facilitator will meet you."
        )
    if meeting.format == MeetingFormat.SHUTTLE:
        return _(
            "A facilitator will meet you on your own and pass messages between you and the other "
            "person. You will not meet them."
        )
    return _(
        "When you arrive, a facilitator will meet you and take you to your own waiting room. "
        "Facilitators lead the meeting and make sure everyone is safe and listened to. "
        "You can ask for a break, or leave, at any time."
    )


def _name_if_shared(person: Party) -> str | None:
    return person.display_name if has_consent(person, ConsentKind.SHARE_NAME) else None


def _with_name(label: str, person: Party) -> str:
    name = _name_if_shared(person)
    return _("%(who)s (%(name)s)", who=label, name=name) if name else label


def _role_seen_by(viewer: Party, other: Party) -> str:
    """How ``viewer`` may know ``other``: by role only (the other side is never named as such)."""
    if other.role == PartyRole.SUPPORTER and other.supports_party_id == viewer.id:
        return _("your supporter")
    if viewer.role == PartyRole.SUPPORTER and viewer.supports_party_id == other.id:
        return _("the person you are supporting")
    if other.role == PartyRole.INTERPRETER:
        return _("an interpreter")
    if other.role == PartyRole.PROFESSIONAL:
        return _("another professional")
    same_side = side_of(other) is not None and side_of(other) == side_of(viewer)
    if other.role == PartyRole.SUPPORTER:
        return _("a supporter") if same_side else _("a supporter of the other person taking part")
    return _("another person taking part") if same_side else _("the other person taking part")


def _who_will_be_there(meeting: Meeting, viewer: Party) -> list[str]:
    people = [_("you")]
    for attendee in meeting.attendees:
        if attendee.party is not None and attendee.party_id != viewer.id:
            people.append(_with_name(_role_seen_by(viewer, attendee.party), attendee.party))
        elif attendee.role == AttendeeRole.OBSERVER:
            people.append(_("an observer"))
    return people


def _facilitator_names(meeting: Meeting) -> list[str]:
    return [
        a.user.full_name
        for a in meeting.attendees
        if a.role in (AttendeeRole.LEAD_FACILITATOR, AttendeeRole.CO_FACILITATOR) and a.user is not None
    ]


def _shown_room_name(room) -> str | None:
    """Their own waiting room's name, unless a manager named it in a way that gives the case away."""
    if room is None or discreet_terms_in(room.name):
        return None
    return room.name


def _own_attendance(meeting: Meeting, party: Party) -> MeetingAttendee | None:
    return next((a for a in meeting.attendees if a.party_id == party.id), None)


def _satisfaction_given(meeting: Meeting, party: Party) -> bool:
    return (
        db.session.scalar(
            select(PartySatisfaction.id)
            .join(ConferenceOutcome, ConferenceOutcome.id == PartySatisfaction.outcome_id)
            .where(ConferenceOutcome.meeting_id == meeting.id, PartySatisfaction.party_id == party.id)
        )
        is not None
    )


def _times(meeting: Meeting, attendance: MeetingAttendee | None) -> tuple[dt.datetime, dt.datetime]:
    if meeting.starts_at is None or meeting.ends_at is None:
        raise ValueError("Only a meeting with a time has invitations.")
    arrives = attendance.arrives_at if attendance is not None and attendance.arrives_at else meeting.starts_at
    departs = attendance.departs_at if attendance is not None and attendance.departs_at else meeting.ends_at
    return arrives, departs


def _arrival_plan(meeting: Meeting) -> list[ArrivalLine]:
    lines = []
    for attendee in meeting.attendees:
        if attendee.party is None:
            continue
        arrives, departs = _times(meeting, attendee)
        room = attendee.waiting_room
        entrance = room.entrance.name if room is not None and room.entrance is not None else ""
        lines.append(
            ArrivalLine(
                who=f"{attendee.party.role_label}: {attendee.party.display_name}",
                waiting_room=room.name if room is not None else "",
                entrance=entrance,
                arrives=local_time(arrives),
                departs=local_time(departs),
            )
        )
    return lines


def view_for(invitation: Invitation, at: dt.datetime) -> InvitationView:
    """What this invitation's recipient may see, in their language (English for staff)."""
    with in_language(invitation.language):
        return _view(invitation, at)


def _view(invitation: Invitation, at: dt.datetime) -> InvitationView:
    meeting = invitation.meeting
    service = db.session.get(Service, invitation.service_id)
    party = invitation.party
    plain = party is not None and uses_plain_wording(party)
    venue = meeting.venue
    common = {
        "invitation_id": invitation.id,
        "language": invitation.language,
        "service_phone": service.phone_number or "",
        "service_email": service.email or current_app.config.get("MAIL_DEFAULT_SENDER", ""),
        "meeting_kind": meeting.kind,
        "meeting_format": meeting.format,
        "status": invitation.status,
        "venue_name": venue.name if venue is not None and not discreet_terms_in(venue.name) else None,
        "address": venue.address if venue is not None else None,
        "accessibility": venue.accessibility if venue is not None else None,
        "video_link": meeting.video_link if meeting.format == MeetingFormat.VIDEO else None,
        "duration_text": _duration(int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)),
        "is_past": meeting.ends_at is not None and at >= meeting.ends_at,
        "facilitators": _facilitator_names(meeting),
    }
    if party is None:
        stay_starts = min([meeting.starts_at] + [a.arrives_at for a in meeting.attendees if a.arrives_at])
        stay_ends = max([meeting.ends_at] + [a.departs_at for a in meeting.attendees if a.departs_at])
        return InvitationView(
            **common,
            audience="facilitator",
            first_name=invitation.user.full_name if invitation.user else "",
            service_name=service.name,
            title=f"{meeting.case.reference}: {meeting.title}",
            plain=True,
            arrives_at=stay_starts,
            departs_at=stay_ends,
            date_text=local_date(meeting.starts_at),
            arrival_time_text=local_time(stay_starts),
            departure_time_text=local_time(stay_ends),
            entrance=None,
            waiting_room=None,
            directions=None,
            parking=None,
            what_happens=f"{meeting.title}, {meeting.format_label.lower()}",
            who_will_be_there=[
                f"{a.role_label}: {a.name}" for a in meeting.attendees if a.role != AttendeeRole.PARTY
            ],
            link=f"{current_app.config['RJ_PUBLIC_URL']}/meetings/{meeting.public_id}",
            arrival_plan=_arrival_plan(meeting),
        )
    attendance = _own_attendance(meeting, party)
    arrives, departs = _times(meeting, attendance)
    room = attendance.waiting_room if attendance is not None else None
    entrance = room.entrance if room is not None else None
    if plain:
        title = (
            _("Preparation meeting for restorative justice")
            if meeting.kind == MeetingKind.PREPARATION
            else _("Restorative justice meeting")
        )
    else:
        title = _("Your appointment")
    return InvitationView(
        **common,
        audience="party",
        first_name=first_name(party),
        service_name=sender_name(service, plain=plain),
        title=title,
        plain=plain,
        arrives_at=arrives,
        departs_at=departs,
        date_text=local_date(arrives),
        arrival_time_text=local_time(arrives),
        departure_time_text=local_time(departs),
        entrance=entrance.name if entrance is not None else None,
        waiting_room=_shown_room_name(room),
        directions=entrance.directions if entrance is not None else None,
        parking=entrance.parking if entrance is not None else None,
        what_happens=_what_happens(meeting),
        who_will_be_there=_who_will_be_there(meeting, party),
        link=link_for(invitation) if invitation.token_nonce else None,
        satisfaction_given=_satisfaction_given(meeting, party),
    )


def message_values(view: InvitationView) -> dict[str, object]:
    """The placeholders of a party's invitation messages, from their own view only."""
    return {
        "first_name": view.first_name,
        "service_name": view.service_name,
        "service_phone": view.service_phone or "-",
        "appointment_date": view.date_text,
        "appointment_time": view.arrival_time_text,
        "link": view.link or "",
    }


def calendar_host() -> str:
    return urlsplit(current_app.config["RJ_PUBLIC_URL"]).hostname or "localhost"


def calendar_description(view: InvitationView) -> str:
    """The calendar entry's text: their own times and place, their private link, the service's number."""
    with in_language(view.language):
        if view.audience == "facilitator":
            lines = [view.what_happens, ""]
            lines += [
                f"{line.who}: arrives {line.arrives}, leaves {line.departs}"
                + (f", waits in {line.waiting_room}" if line.waiting_room else "")
                + (f" (entrance: {line.entrance})" if line.entrance else "")
                for line in view.arrival_plan
            ]
            lines += ["", f"Meeting page: {view.link}"]
            return "\n".join(lines)
        lines = [
            _("Please arrive at %(time)s.", time=view.arrival_time_text),
            _("It lasts about %(duration)s.", duration=view.duration_text),
        ]
        if view.entrance:
            lines.append(_("Use the entrance: %(entrance)s.", entrance=view.entrance))
        if view.waiting_room:
            lines.append(_("You will wait in your own room: %(room)s.", room=view.waiting_room))
        if view.directions:
            lines.append(view.directions)
        if view.video_link:
            lines.append(_("Video call: %(link)s", link=view.video_link))
        if view.link:
            lines += ["", _("See the details, or tell us if you cannot come: %(link)s", link=view.link)]
        if view.service_phone:
            lines.append(_("Questions? Call us on %(phone)s.", phone=view.service_phone))
        return "\n".join(lines)


def calendar_event(
    view: InvitationView,
    invitation: Invitation,
    *,
    stamp: dt.datetime,
    cancelled: bool = False,
    attendee_email: str | None = None,
) -> CalendarEvent:
    """The recipient's calendar event (same UID for every version, the meeting's sequence)."""
    meeting = invitation.meeting
    return CalendarEvent(
        uid=f"{meeting.public_id}@{calendar_host()}",
        sequence=meeting.sequence,
        stamp=stamp,
        starts_at=view.arrives_at,
        ends_at=view.departs_at,
        summary=view.title,
        description=calendar_description(view),
        location=view.location or None,
        url=view.link,
        organizer_email=view.service_email,
        organizer_name=view.service_name,
        attendee_email=attendee_email,
        attendee_name=view.first_name if attendee_email else None,
        cancelled=cancelled,
    )
