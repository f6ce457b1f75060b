"""Venues, rooms, people's time, meetings with their attendees and arrival plans, bookings and outcomes.

Times of day (opening hours, working patterns, preferred times) are Europe/London
wall-clock times; instants (meeting start and end, arrivals) are UTC.
``ResourceBooking`` is the one table that stops double booking in the database:
on PostgreSQL an exclusion constraint refuses two overlapping rows for the same
facilitator, room or party (migration 0006); on SQLite the service checks under
the write lock that ``BEGIN IMMEDIATE`` takes (``rj_scheduler.db``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj_scheduler.auth.models import User
from rj_scheduler.cases.models import Case, LabelledEnum, Party
from rj_scheduler.db import Base, now, public_id


def _values(enum_cls) -> str:
    return "(" + ", ".join(f"'{m.value}'" for m in enum_cls) + ")"


class VenueKind(LabelledEnum):
    OFFICE = "office", "Service office"
    COMMUNITY = "community", "Community venue"
    PRISON = "prison", "Prison"


class RoomKind(LabelledEnum):
    MEETING = "meeting", "Meeting room"
    WAITING = "waiting", "Waiting room"


class MeetingKind(LabelledEnum):
    PREPARATION = "preparation", "Preparation meeting"
    CONFERENCE = "conference", "Conference"


class MeetingFormat(LabelledEnum):
    FACE_TO_FACE = "face_to_face", "Face to face"
    VIDEO = "video", "Video"
    PRISON = "prison", "In prison"
    SHUTTLE = "shuttle", "Indirect: shuttle meeting"
    LETTER = "letter", "Indirect: letter of explanation"


class MeetingStatus(LabelledEnum):
    BOOKED = "booked", "Booked"
    POSTPONED = "postponed", "Postponed"
    CANCELLED = "cancelled", "Cancelled"
    HELD = "held", "Held"
    NOT_HELD = "not_held", "Not held"


class AttendeeRole(LabelledEnum):
    PARTY = "party", "Party"
    LEAD_FACILITATOR = "lead_facilitator", "Lead facilitator"
    CO_FACILITATOR = "co_facilitator", "Co-facilitator"
    OBSERVER = "observer", "Observer"


class ResourceKind(LabelledEnum):
    FACILITATOR = "facilitator", "Facilitator"
    ROOM = "room", "Room"
    PARTY = "party", "Party"


class AgreementItemKind(LabelledEnum):
    APOLOGY = "apology", "Apology"
    REPARATION = "reparation", "Reparation"
    UNPAID_WORK = "unpaid_work", "Unpaid work"
    OTHER = "other", "Other"


class ConferenceSettings(Base):
    """A service's arrival plan defaults and booking buffer (a row only once a manager changes them)."""

    __tablename__ = "conference_settings"
    __table_args__ = (
        CheckConstraint(
            "victim_arrives_before_start_minutes BETWEEN 0 AND 120", name="victim_arrival_in_range"
        ),
        CheckConstraint("offender_arrives_before_victim_minutes BETWEEN 0 AND 120", name="stagger_in_range"),
        CheckConstraint("victim_leaves_before_offender_minutes BETWEEN 0 AND 120", name="departure_in_range"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 240", name="buffer_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), unique=True)
    victim_arrives_before_start_minutes: Mapped[int] = mapped_column(default=15)
    offender_arrives_before_victim_minutes: Mapped[int] = mapped_column(default=15)
    victim_leaves_before_offender_minutes: Mapped[int] = mapped_column(default=15)
    buffer_minutes: Mapped[int] = mapped_column(default=15)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Venue(Base):
    """A place meetings happen: an office, a community venue or a prison (with its booking notes)."""

    __tablename__ = "venues"
    __table_args__ = (
        CheckConstraint(f"kind IN {_values(VenueKind)}", name="kind_known"),
        UniqueConstraint("service_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=VenueKind.OFFICE.value)
    address: Mapped[str] = mapped_column(Text)
    accessibility: Mapped[str | None] = mapped_column(Text)
    # Prisons: how to book a legal or official visit, security checks, what visitors may bring.
    booking_notes: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    entrances: Mapped[list[VenueEntrance]] = relationship(
        back_populates="venue", order_by="VenueEntrance.id", cascade="all, delete-orphan"
    )
    rooms: Mapped[list[Room]] = relationship(back_populates="venue", order_by="[Room.kind, Room.name]")
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="venue",
        order_by="[OpeningHours.weekday, OpeningHours.opens_at]",
        cascade="all, delete-orphan",
    )

    @property
    def kind_label(self) -> str:
        return VenueKind.label_of(self.kind)


class VenueEntrance(Base):
    """A separate way into a venue, with its own directions and parking (parties may use different ones)."""

    __tablename__ = "venue_entrances"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    directions: Mapped[str | None] = mapped_column(Text)
    parking: Mapped[str | None] = mapped_column(Text)

    venue: Mapped[Venue] = relationship(back_populates="entrances")


class OpeningHours(Base):
    """When a venue is open on a weekday, in Europe/London time (several rows make a split day)."""

    __tablename__ = "venue_opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_in_week"),
        CheckConstraint("opens_at < closes_at", name="opens_before_it_closes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]  # Monday is 0
    opens_at: Mapped[dt.time] = mapped_column(Time)
    closes_at: Mapped[dt.time] = mapped_column(Time)

    venue: Mapped[Venue] = relationship(back_populates="opening_hours")


class Room(Base):
    """A meeting room or a waiting room of a venue, with how many people it holds."""

    __tablename__ = "rooms"
    __table_args__ = (
        CheckConstraint(f"kind IN {_values(RoomKind)}", name="kind_known"),
        CheckConstraint("capacity BETWEEN 1 AND 500", name="capacity_in_range"),
        UniqueConstraint("venue_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[int]
    # The entrance nearest the room; a waiting room's entrance is the one its party uses.
    entrance_id: Mapped[int | None] = mapped_column(ForeignKey("venue_entrances.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True)

    venue: Mapped[Venue] = relationship(back_populates="rooms")
    entrance: Mapped[VenueEntrance | None] = relationship()

    @property
    def kind_label(self) -> str:
        return RoomKind.label_of(self.kind)


class WorkingHours(Base):
    """A facilitator's usual working time on a weekday, in Europe/London time (their working pattern)."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_in_week"),
        CheckConstraint("starts_at < ends_at", name="starts_before_it_ends"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    weekday: Mapped[int]
    starts_at: Mapped[dt.time] = mapped_column(Time)
    ends_at: Mapped[dt.time] = mapped_column(Time)


class StaffLeave(Base):
    """Days a staff member is away (whole days, first and last included)."""

    __tablename__ = "staff_leave"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="starts_before_it_ends"),
        Index("ix_staff_leave_user_dates", "user_id", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    user: Mapped[User] = relationship()


class PartyUnavailability(Base):
    """Days a party cannot attend (whole days, first and last included)."""

    __tablename__ = "party_unavailability"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="starts_before_it_ends"),
        Index("ix_party_unavailability_party_dates", "party_id", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class PartyPreferredTime(Base):
    """A weekly time a party prefers for meetings, in Europe/London time (a preference, not a rule)."""

    __tablename__ = "party_preferred_times"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_in_week"),
        CheckConstraint("starts_at < ends_at", name="starts_before_it_ends"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]
    starts_at: Mapped[dt.time] = mapped_column(Time)
    ends_at: Mapped[dt.time] = mapped_column(Time)


class Meeting(Base):
    """A preparation meeting or a conference of a case.

    ``public_id`` never changes, even when the meeting is rescheduled, and
    ``sequence`` goes up with every change: invitations use them as the
    calendar UID and SEQUENCE so a change updates instead of duplicating.
    A letter of explanation has a due date instead of a time.
    """

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(f"kind IN {_values(MeetingKind)}", name="kind_known"),
        CheckConstraint(f"format IN {_values(MeetingFormat)}", name="format_known"),
        CheckConstraint(f"status IN {_values(MeetingStatus)}", name="status_known"),
        CheckConstraint(
            "(format = 'letter' AND letter_due_on IS NOT NULL)"
            " OR (format <> 'letter' AND starts_at IS NOT NULL AND ends_at IS NOT NULL AND starts_at < ends_at)",
            name="timed_or_letter",
        ),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        Index("ix_meetings_service_starts", "service_id", "starts_at"),
        Index("ix_meetings_case", "case_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.BOOKED.value)
    starts_at: Mapped[dt.datetime | None]
    ends_at: Mapped[dt.datetime | None]
    letter_due_on: Mapped[dt.date | None] = mapped_column(Date)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    video_link: Mapped[str | None] = mapped_column(String(500))
    # Shuttle meetings of one indirect conference share a series id.
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    sequence: Mapped[int] = mapped_column(default=0)
    status_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    booked_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now)

    case: Mapped[Case] = relationship()
    venue: Mapped[Venue | None] = relationship()
    room: Mapped[Room | None] = relationship()
    attendees: Mapped[list[MeetingAttendee]] = relationship(
        back_populates="meeting", order_by="MeetingAttendee.id", cascade="all, delete-orphan"
    )
    outcome: Mapped[ConferenceOutcome | None] = relationship(back_populates="meeting", uselist=False)

    @property
    def kind_label(self) -> str:
        return MeetingKind.label_of(self.kind)

    @property
    def format_label(self) -> str:
        return MeetingFormat.label_of(self.format)

    @property
    def status_label(self) -> str:
        return MeetingStatus.label_of(self.status)

    @property
    def title(self) -> str:
        if self.kind == MeetingKind.PREPARATION:
            return "Preparation meeting"
        return f"Conference ({self.format_label.lower()})"


class MeetingAttendee(Base):
    """Someone at a meeting: a party (victim, offender, supporter, interpreter), a facilitator or an observer.

    A party at a face to face conference has an arrival plan: their own waiting
    room, arrival time and departure time, shown only to them (DOMAIN rule 4).
    """

    __tablename__ = "meeting_attendees"
    __table_args__ = (
        CheckConstraint(f"role IN {_values(AttendeeRole)}", name="role_known"),
        CheckConstraint(
            "(role = 'party' AND party_id IS NOT NULL AND user_id IS NULL)"
            " OR (role IN ('lead_facilitator', 'co_facilitator') AND user_id IS NOT NULL AND party_id IS NULL)"
            " OR (role = 'observer' AND party_id IS NULL AND (user_id IS NOT NULL OR observer_name IS NOT NULL))",
            name="who_matches_role",
        ),
        CheckConstraint(
            "arrives_at IS NULL OR departs_at IS NULL OR arrives_at < departs_at",
            name="arrives_before_leaving",
        ),
        UniqueConstraint("meeting_id", "party_id"),
        UniqueConstraint("meeting_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    observer_name: Mapped[str | None] = mapped_column(String(200))
    waiting_room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    arrives_at: Mapped[dt.datetime | None]
    departs_at: Mapped[dt.datetime | None]
    # Filled in with the outcome: did they come?
    attended: Mapped[bool | None]

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")
    party: Mapped[Party | None] = relationship()
    user: Mapped[User | None] = relationship()
    waiting_room: Mapped[Room | None] = relationship()

    @property
    def role_label(self) -> str:
        return AttendeeRole.label_of(self.role)

    @property
    def name(self) -> str:
        if self.party is not None:
            return self.party.display_name
        if self.user is not None:
            return self.user.full_name
        return self.observer_name or ""


class ResourceBooking(Base):
    """A facilitator, room or party held by a meeting from ``starts_at`` to ``ends_at`` (buffer included).

    Two rows for the same resource never overlap: PostgreSQL refuses them with
    the exclusion constraint below (created by migration 0006, which also
    creates the ``btree_gist`` extension it needs); on SQLite the booking
    service checks under the write lock. Cancelling or postponing a meeting
    deletes its rows; rescheduling replaces them.
    """

    __tablename__ = "resource_bookings"
    __table_args__ = (
        CheckConstraint(f"resource_kind IN {_values(ResourceKind)}", name="resource_kind_known"),
        CheckConstraint("starts_at < ends_at", name="starts_before_it_ends"),
        Index("ix_resource_bookings_resource_time", "resource_kind", "resource_id", "starts_at"),
        Index("ix_resource_bookings_service_time", "service_id", "starts_at"),
        ExcludeConstraint(
            (literal_column("resource_kind"), "="),
            (literal_column("resource_id"), "="),
            (func.tstzrange(literal_column("starts_at"), literal_column("ends_at"), "[)"), "&&"),
            name="ex_resource_bookings_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    resource_kind: Mapped[str] = mapped_column(String(20))
    resource_id: Mapped[int]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]

    meeting: Mapped[Meeting] = relationship()


class ConferenceOutcome(Base):
    """What happened at a conference: held or not (and why), notes, when it was recorded and by whom."""

    __tablename__ = "conference_outcomes"
    __table_args__ = (CheckConstraint("held OR not_held_reason IS NOT NULL", name="not_held_has_reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), unique=True)
    held: Mapped[bool]
    not_held_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    meeting: Mapped[Meeting] = relationship(back_populates="outcome")
    agreement_items: Mapped[list[AgreementItem]] = relationship(
        back_populates="outcome", order_by="AgreementItem.id"
    )
    satisfaction: Mapped[list[PartySatisfaction]] = relationship(
        back_populates="outcome", order_by="PartySatisfaction.id"
    )


class AgreementItem(Base):
    """One action of an outcome agreement: what, who does it, by when, followed up when, done or not."""

    __tablename__ = "agreement_items"
    __table_args__ = (
        CheckConstraint(f"kind IN {_values(AgreementItemKind)}", name="kind_known"),
        Index("ix_agreement_items_service_follow_up", "service_id", "follow_up_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("conference_outcomes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    # Who does it: usually a party of the case.
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    follow_up_on: Mapped[dt.date | None] = mapped_column(Date)
    done_at: Mapped[dt.datetime | None]
    done_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    outcome: Mapped[ConferenceOutcome] = relationship(back_populates="agreement_items")
    party: Mapped[Party | None] = relationship()
    case: Mapped[Case] = relationship()

    @property
    def kind_label(self) -> str:
        return AgreementItemKind.label_of(self.kind)

    @property
    def done(self) -> bool:
        return self.done_at is not None


class PartySatisfaction(Base):
    """A party's satisfaction with a conference: a score from 1 to 5 and their comments."""

    __tablename__ = "party_satisfaction"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_in_range"),
        UniqueConstraint("outcome_id", "party_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("conference_outcomes.id"))
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    score: Mapped[int]
    comments: Mapped[str | None] = mapped_column(Text)

    outcome: Mapped[ConferenceOutcome] = relationship(back_populates="satisfaction")
    party: Mapped[Party] = relationship()
