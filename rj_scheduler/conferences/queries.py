"""Named reads of the conferences capability, always scoped to one service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from rj_scheduler.auth.models import User
from rj_scheduler.cases.models import Case, Party
from rj_scheduler.conferences.models import (
    AgreementItem,
    AttendeeRole,
    ConferenceOutcome,
    ConferenceSettings,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    PartyPreferredTime,
    PartyUnavailability,
    ResourceBooking,
    Room,
    StaffLeave,
    Venue,
    WorkingHours,
)

# Used when a facilitator has not recorded a working pattern: Monday to Friday, 9am to 5pm.
DEFAULT_WORKING_HOURS = tuple((weekday, dt.time(9, 0), dt.time(17, 0)) for weekday in range(5))


def settings_for(session: Session, service_id: int) -> ConferenceSettings:
    """The service's conference settings, or the defaults (not saved) if a manager never changed them."""
    row = session.scalar(select(ConferenceSettings).where(ConferenceSettings.service_id == service_id))
    if row is not None:
        return row
    return ConferenceSettings(
        service_id=service_id,
        victim_arrives_before_start_minutes=15,
        offender_arrives_before_victim_minutes=15,
        victim_leaves_before_offender_minutes=15,
        buffer_minutes=15,
    )


def venues(session: Session, service_id: int, *, active_only: bool = False) -> Sequence[Venue]:
    query = select(Venue).where(Venue.service_id == service_id).order_by(Venue.name)
    if active_only:
        query = query.where(Venue.is_active.is_(True))
    return session.scalars(query.options(selectinload(Venue.rooms), selectinload(Venue.opening_hours))).all()


def venue_by_public_id(session: Session, service_id: int, public_id: str) -> Venue | None:
    return session.scalar(select(Venue).where(Venue.service_id == service_id, Venue.public_id == public_id))


def room_by_public_id(session: Session, service_id: int, public_id: str) -> Room | None:
    return session.scalar(select(Room).where(Room.service_id == service_id, Room.public_id == public_id))


def staff(session: Session, service_id: int) -> Sequence[User]:
    """Active staff of the service (anyone may facilitate a meeting), by name."""
    return session.scalars(
        select(User)
        .where(User.service_id == service_id, User.is_active_account.is_(True))
        .order_by(User.full_name)
    ).all()


def staff_member(session: Session, service_id: int, public_id: str) -> User | None:
    return session.scalar(select(User).where(User.service_id == service_id, User.public_id == public_id))


def working_hours(session: Session, user_id: int) -> Sequence[WorkingHours]:
    return session.scalars(
        select(WorkingHours)
        .where(WorkingHours.user_id == user_id)
        .order_by(WorkingHours.weekday, WorkingHours.starts_at)
    ).all()


def working_hours_or_default(session: Session, user_id: int) -> list[tuple[int, dt.time, dt.time]]:
    """A facilitator's working pattern as (weekday, from, until); the default pattern if none is recorded."""
    rows = working_hours(session, user_id)
    if not rows:
        return list(DEFAULT_WORKING_HOURS)
    return [(r.weekday, r.starts_at, r.ends_at) for r in rows]


def leave(session: Session, user_id: int, *, from_day: dt.date | None = None) -> Sequence[StaffLeave]:
    query = select(StaffLeave).where(StaffLeave.user_id == user_id).order_by(StaffLeave.starts_on)
    if from_day is not None:
        query = query.where(StaffLeave.ends_on >= from_day)
    return session.scalars(query).all()


def leave_by_public_id(session: Session, service_id: int, public_id: str) -> StaffLeave | None:
    return session.scalar(
        select(StaffLeave).where(StaffLeave.service_id == service_id, StaffLeave.public_id == public_id)
    )


def leave_on(session: Session, user_id: int, first: dt.date, last: dt.date) -> Sequence[StaffLeave]:
    """The user's leave touching any day from ``first`` to ``last``."""
    return session.scalars(
        select(StaffLeave).where(
            StaffLeave.user_id == user_id, StaffLeave.starts_on <= last, StaffLeave.ends_on >= first
        )
    ).all()


def leave_on_day(session: Session, service_id: int, day: dt.date) -> Sequence[StaffLeave]:
    """Everyone in the service on leave on ``day``."""
    return session.scalars(
        select(StaffLeave).where(
            StaffLeave.service_id == service_id, StaffLeave.starts_on <= day, StaffLeave.ends_on >= day
        )
    ).all()


def party_unavailability(session: Session, party_id: int) -> Sequence[PartyUnavailability]:
    return session.scalars(
        select(PartyUnavailability)
        .where(PartyUnavailability.party_id == party_id)
        .order_by(PartyUnavailability.starts_on)
    ).all()


def party_unavailable_on(
    session: Session, party_id: int, first: dt.date, last: dt.date
) -> Sequence[PartyUnavailability]:
    return session.scalars(
        select(PartyUnavailability).where(
            PartyUnavailability.party_id == party_id,
            PartyUnavailability.starts_on <= last,
            PartyUnavailability.ends_on >= first,
        )
    ).all()


def unavailability_by_public_id(
    session: Session, service_id: int, public_id: str
) -> PartyUnavailability | None:
    return session.scalar(
        select(PartyUnavailability).where(
            PartyUnavailability.service_id == service_id, PartyUnavailability.public_id == public_id
        )
    )


def preferred_times(session: Session, party_id: int) -> Sequence[PartyPreferredTime]:
    return session.scalars(
        select(PartyPreferredTime)
        .where(PartyPreferredTime.party_id == party_id)
        .order_by(PartyPreferredTime.weekday, PartyPreferredTime.starts_at)
    ).all()


def overlapping_bookings(
    session: Session,
    resource_kind: str,
    resource_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    ignore_meeting_id: int | None = None,
) -> Sequence[ResourceBooking]:
    """Bookings of this resource that overlap [starts_at, ends_at) (each row already carries its buffer)."""
    query = select(ResourceBooking).where(
        ResourceBooking.resource_kind == resource_kind,
        ResourceBooking.resource_id == resource_id,
        ResourceBooking.starts_at < ends_at,
        ResourceBooking.ends_at > starts_at,
    )
    if ignore_meeting_id is not None:
        query = query.where(ResourceBooking.meeting_id != ignore_meeting_id)
    return session.scalars(query.order_by(ResourceBooking.starts_at)).all()


def bookings_between(
    session: Session, service_id: int, starts_at: dt.datetime, ends_at: dt.datetime
) -> Sequence[ResourceBooking]:
    """Every booking of the service overlapping the window (the slot finder reads these in one query)."""
    return session.scalars(
        select(ResourceBooking).where(
            ResourceBooking.service_id == service_id,
            ResourceBooking.starts_at < ends_at,
            ResourceBooking.ends_at > starts_at,
        )
    ).all()


def meeting_by_public_id(session: Session, service_id: int, public_id: str) -> Meeting | None:
    return session.scalar(
        select(Meeting).where(Meeting.service_id == service_id, Meeting.public_id == public_id)
    )


def meetings_for_case(session: Session, case: Case) -> Sequence[Meeting]:
    return session.scalars(
        select(Meeting)
        .where(Meeting.case_id == case.id)
        .options(selectinload(Meeting.attendees))
        .order_by(Meeting.starts_at.is_(None), Meeting.starts_at, Meeting.letter_due_on, Meeting.id)
    ).all()


def _upcoming(at: dt.datetime):
    today = at.date()
    return or_(Meeting.starts_at > at, and_(Meeting.starts_at.is_(None), Meeting.letter_due_on >= today))


def future_meetings_of_party(session: Session, party: Party, at: dt.datetime) -> Sequence[Meeting]:
    """Booked meetings still to come that this party attends."""
    return session.scalars(
        select(Meeting)
        .join(MeetingAttendee, MeetingAttendee.meeting_id == Meeting.id)
        .where(
            MeetingAttendee.party_id == party.id,
            Meeting.status == MeetingStatus.BOOKED.value,
            _upcoming(at),
        )
        .order_by(Meeting.starts_at)
    ).all()


def upcoming_meetings(
    session: Session,
    service_id: int,
    at: dt.datetime,
    *,
    facilitator_id: int | None = None,
    case_id: int | None = None,
    limit: int | None = None,
) -> Sequence[Meeting]:
    """Booked meetings still to come in the service (optionally one facilitator's, or one case's), soonest first.

    Loads what readiness reads (the case and its lead, each party and their consent records) up front.
    """
    query = (
        select(Meeting)
        .where(Meeting.service_id == service_id, Meeting.status == MeetingStatus.BOOKED.value, _upcoming(at))
        .options(
            selectinload(Meeting.case).selectinload(Case.lead_facilitator),
            selectinload(Meeting.attendees)
            .selectinload(MeetingAttendee.party)
            .selectinload(Party.consent_records),
        )
        .order_by(Meeting.starts_at.is_(None), Meeting.starts_at, Meeting.letter_due_on, Meeting.id)
    )
    if limit is not None:
        query = query.limit(limit)
    if case_id is not None:
        query = query.where(Meeting.case_id == case_id)
    if facilitator_id is not None:
        query = query.where(
            Meeting.id.in_(
                select(MeetingAttendee.meeting_id).where(
                    MeetingAttendee.user_id == facilitator_id,
                    MeetingAttendee.role.in_(
                        [AttendeeRole.LEAD_FACILITATOR.value, AttendeeRole.CO_FACILITATOR.value]
                    ),
                )
            )
        )
    return session.scalars(query).all()


def meetings_needing_attention(
    service_id: int,
    at: dt.datetime,
    *,
    facilitator_id: int | None = None,
    case_id: int | None = None,
    limit: int | None = None,
) -> list[tuple[Meeting, list[str]]]:
    """Booked meetings still to come that could no longer be booked as they are, with the reasons.

    A party withdrew consent to take part, an approval expired or was
    superseded, a mitigation is outstanding: whatever ``readiness_refusals``
    (the booking's own readiness rule) now says about the meeting's parties.
    Readiness costs a few statements per meeting, so dashboards pass ``limit``
    to look at the soonest meetings only; the case page looks at all of its own.
    """
    from rj_scheduler.conferences.booking import readiness_refusals_for_meeting
    from rj_scheduler.extensions import db

    flagged = []
    meetings = upcoming_meetings(
        db.session, service_id, at, facilitator_id=facilitator_id, case_id=case_id, limit=limit
    )
    for meeting in meetings:
        reasons = readiness_refusals_for_meeting(meeting, at)
        if reasons:
            flagged.append((meeting, reasons))
    return flagged


def outcome_for(session: Session, meeting: Meeting) -> ConferenceOutcome | None:
    return session.scalar(select(ConferenceOutcome).where(ConferenceOutcome.meeting_id == meeting.id))


def agreement_item_by_public_id(session: Session, service_id: int, public_id: str) -> AgreementItem | None:
    return session.scalar(
        select(AgreementItem).where(
            AgreementItem.service_id == service_id, AgreementItem.public_id == public_id
        )
    )


def open_agreement_items(session: Session, case: Case) -> Sequence[AgreementItem]:
    return session.scalars(
        select(AgreementItem).where(AgreementItem.case_id == case.id, AgreementItem.done_at.is_(None))
    ).all()


def follow_ups(session: Session, service_id: int, user_id: int, *, until: dt.date) -> Sequence[AgreementItem]:
    """Agreement items not yet done on the user's cases whose follow-up date is on or before ``until``."""
    return session.scalars(
        select(AgreementItem)
        .join(Case, Case.id == AgreementItem.case_id)
        .where(
            AgreementItem.service_id == service_id,
            Case.lead_facilitator_id == user_id,
            AgreementItem.done_at.is_(None),
            AgreementItem.follow_up_on.is_not(None),
            AgreementItem.follow_up_on <= until,
        )
        .options(selectinload(AgreementItem.case))
        .order_by(AgreementItem.follow_up_on)
    ).all()
