"""The booking rules: what a meeting needs, what it holds, and every reason it cannot be booked.

``booking_refusals(draft, at)`` is the one function that decides whether a
meeting may be booked (the booking form, rescheduling, and the slot finder all
call it). It only reads: it lists every rule the draft breaks, in plain
English, and never stops at the first. ``resource_holds`` says which
facilitators, rooms and parties the meeting holds and for how long (buffer
included); those become ``ResourceBooking`` rows that PostgreSQL's exclusion
constraint keeps from overlapping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from rj_scheduler.auth.models import User
from rj_scheduler.cases.consent import has_consent
from rj_scheduler.cases.models import Case, CaseState, ConsentKind, Party, PartyRole
from rj_scheduler.cases.working_days import bank_holidays
from rj_scheduler.conferences import queries
from rj_scheduler.conferences.models import (
    ConferenceSettings,
    Meeting,
    MeetingFormat,
    MeetingKind,
    ResourceKind,
    Room,
    RoomKind,
    Venue,
    VenueKind,
)
from rj_scheduler.conferences.times import WEEKDAY_NAMES, clock, clock_of, day_text, london_day, to_london
from rj_scheduler.extensions import db

CONFERENCE_FORMATS = (
    MeetingFormat.FACE_TO_FACE,
    MeetingFormat.VIDEO,
    MeetingFormat.PRISON,
    MeetingFormat.SHUTTLE,
    MeetingFormat.LETTER,
)
PREPARATION_FORMATS = (MeetingFormat.FACE_TO_FACE, MeetingFormat.VIDEO, MeetingFormat.PRISON)
# Formats where the victim and the offender meet (directly, in one room or on one call).
DIRECT_FORMATS = (MeetingFormat.FACE_TO_FACE, MeetingFormat.VIDEO, MeetingFormat.PRISON)
MAX_HOURS = 8


@dataclass
class PartyPlan:
    """A party at a meeting, and for a face to face conference their own arrival plan."""

    party: Party
    waiting_room: Room | None = None
    arrives_at: dt.datetime | None = None
    departs_at: dt.datetime | None = None


@dataclass
class MeetingDraft:
    """Everything a booking (or a rebooking) would write, before it is written.

    ``replacing`` is the meeting being rescheduled: its own bookings are not
    counted as conflicts.
    """

    case: Case
    kind: str
    format: str
    parties: list[PartyPlan]
    lead_facilitator: User | None
    co_facilitator: User | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    venue: Venue | None = None
    room: Room | None = None
    video_link: str | None = None
    letter_due_on: dt.date | None = None
    observers: list[str] = field(default_factory=list)
    notes: str | None = None
    series_id: str | None = None
    replacing: Meeting | None = None

    @property
    def facilitators(self) -> list[User]:
        return [u for u in (self.lead_facilitator, self.co_facilitator) if u is not None]

    @property
    def is_timed(self) -> bool:
        return self.format != MeetingFormat.LETTER

    @property
    def needs_arrival_plan(self) -> bool:
        return self.kind == MeetingKind.CONFERENCE and self.format == MeetingFormat.FACE_TO_FACE

    def stay(self) -> tuple[dt.datetime, dt.datetime] | None:
        """From the first arrival to the last departure (the meeting's time if nobody has a plan)."""
        if self.starts_at is None or self.ends_at is None:
            return None
        starts = [self.starts_at] + [p.arrives_at for p in self.parties if p.arrives_at is not None]
        ends = [self.ends_at] + [p.departs_at for p in self.parties if p.departs_at is not None]
        return min(starts), max(ends)


@dataclass(frozen=True)
class Hold:
    """A facilitator, room or party held by a meeting over [starts_at, ends_at), the buffer included."""

    resource_kind: str
    resource_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def side_of(party: Party) -> str | None:
    """Which side a party waits with: a victim's, an offender's (supporters follow the person they support)."""
    if party.role in (PartyRole.VICTIM, PartyRole.OFFENDER):
        return party.role
    if party.role == PartyRole.SUPPORTER and party.supports is not None:
        return side_of(party.supports)
    return None


def with_default_arrival_plan(draft: MeetingDraft, settings: ConferenceSettings) -> MeetingDraft:
    """Fill in missing arrival and departure times from the service's defaults (DOMAIN rule 5).

    The victim's side arrives ``victim_arrives_before_start_minutes`` before the
    start; the offender's side ``offender_arrives_before_victim_minutes`` before
    that; the victim's side leaves at the end and the offender's side
    ``victim_leaves_before_offender_minutes`` later. Others come for the meeting itself.
    """
    if not draft.needs_arrival_plan or draft.starts_at is None or draft.ends_at is None:
        return draft
    victim_arrives = draft.starts_at - dt.timedelta(minutes=settings.victim_arrives_before_start_minutes)
    offender_arrives = victim_arrives - dt.timedelta(minutes=settings.offender_arrives_before_victim_minutes)
    victim_leaves = draft.ends_at
    offender_leaves = draft.ends_at + dt.timedelta(minutes=settings.victim_leaves_before_offender_minutes)
    plans = []
    for plan in draft.parties:
        side = side_of(plan.party)
        arrives = {PartyRole.VICTIM: victim_arrives, PartyRole.OFFENDER: offender_arrives}.get(
            side, draft.starts_at
        )
        departs = {PartyRole.VICTIM: victim_leaves, PartyRole.OFFENDER: offender_leaves}.get(
            side, draft.ends_at
        )
        plans.append(
            replace(
                plan,
                arrives_at=plan.arrives_at or arrives,
                departs_at=plan.departs_at or departs,
            )
        )
    return replace(draft, parties=plans)


def _merge(holds: Iterable[Hold]) -> list[Hold]:
    """Join overlapping holds of the same resource (a victim and their supporter share a waiting room)."""
    merged: list[Hold] = []
    for hold in sorted(holds, key=lambda h: (h.resource_kind, h.resource_id, h.starts_at)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and (last.resource_kind, last.resource_id) == (hold.resource_kind, hold.resource_id)
            and hold.starts_at <= last.ends_at
        ):
            merged[-1] = replace(last, ends_at=max(last.ends_at, hold.ends_at))
        else:
            merged.append(hold)
    return merged


def resource_holds(draft: MeetingDraft, buffer_minutes: int) -> list[Hold]:
    """What the meeting holds: facilitators for everyone's whole stay, the meeting room for the meeting,
    each waiting room and each party for their stay; each hold ends ``buffer_minutes`` later.

    A letter of explanation holds nothing. Two holds of one resource conflict
    exactly when the gap between the meetings is shorter than the buffer.
    """
    stay = draft.stay()
    if not draft.is_timed or stay is None or draft.starts_at is None or draft.ends_at is None:
        return []
    buffer = dt.timedelta(minutes=buffer_minutes)
    holds: list[Hold] = []
    for user in draft.facilitators:
        if user.id is not None:
            holds.append(Hold(ResourceKind.FACILITATOR, user.id, stay[0], stay[1] + buffer))
    if draft.room is not None and draft.format != MeetingFormat.VIDEO:
        holds.append(Hold(ResourceKind.ROOM, draft.room.id, draft.starts_at, draft.ends_at + buffer))
    for plan in draft.parties:
        arrives = plan.arrives_at or draft.starts_at
        departs = plan.departs_at or draft.ends_at
        if arrives >= departs:
            continue
        holds.append(Hold(ResourceKind.PARTY, plan.party.id, arrives, departs + buffer))
        if plan.waiting_room is not None and draft.needs_arrival_plan:
            holds.append(Hold(ResourceKind.ROOM, plan.waiting_room.id, arrives, departs + buffer))
    return _merge(holds)


# --- the rules -----------------------------------------------------------------------------------


def _who(party: Party) -> str:
    return f"{party.display_name} ({party.role_label.lower()})"


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def _span(start: dt.datetime, end: dt.datetime) -> str:
    return f"{clock(start)} to {clock(end)} on {day_text(london_day(start))}"


def _shape_refusals(draft: MeetingDraft, at: dt.datetime) -> tuple[list[str], bool]:
    """Kind, format, people and times. Returns the reasons and whether the times can be checked further."""
    reasons: list[str] = []
    kind_ok = draft.kind in {k.value for k in MeetingKind}
    if not kind_ok:
        reasons.append("Choose whether this is a preparation meeting or a conference.")
    allowed = PREPARATION_FORMATS if draft.kind == MeetingKind.PREPARATION else CONFERENCE_FORMATS
    if draft.format not in {f.value for f in allowed}:
        reasons.append(
            "Choose how the meeting happens: a preparation meeting is face to face, by video or in prison."
            if draft.kind == MeetingKind.PREPARATION
            else "Choose how the conference happens."
        )
    case = draft.case
    if case.state == CaseState.CLOSED:
        reasons.append("The case is closed: reopen it before booking a meeting.")
    if (
        draft.kind == MeetingKind.CONFERENCE
        and case.state
        in (
            CaseState.CONFERENCE_HELD,
            CaseState.FOLLOW_UP,
        )
        and draft.replacing is None
    ):
        reasons.append("A conference has already been held for this case.")

    # People.
    if draft.lead_facilitator is None:
        reasons.append("Choose the lead facilitator.")
    if draft.co_facilitator is not None and draft.co_facilitator.id == getattr(
        draft.lead_facilitator, "id", None
    ):
        reasons.append("The co-facilitator must be someone other than the lead facilitator.")
    for user in draft.facilitators:
        if user.service_id != case.service_id or not user.is_active_account:
            reasons.append(f"{user.full_name} cannot facilitate: they are not active staff of this service.")
    face_to_face = draft.kind == MeetingKind.CONFERENCE and draft.format == MeetingFormat.FACE_TO_FACE
    if face_to_face and draft.co_facilitator is None:
        reasons.append("A face to face conference needs two facilitators: choose a co-facilitator.")
    ids = [p.party.id for p in draft.parties]
    if len(ids) != len(set(ids)):
        reasons.append("Each person can only be added to a meeting once.")
    for plan in draft.parties:
        if plan.party.case_id != case.id:
            reasons.append(f"{plan.party.display_name} is not part of this case.")
    sides = {side_of(p.party) for p in draft.parties} - {None}
    main = [p.party for p in draft.parties if p.party.role in (PartyRole.VICTIM, PartyRole.OFFENDER)]
    if draft.kind == MeetingKind.PREPARATION and len(main) != 1:
        reasons.append(
            "A preparation meeting is with one person: choose one victim or one offender"
            " (and, if they wish, their supporter or interpreter)."
        )
    if draft.kind == MeetingKind.CONFERENCE:
        if draft.format in DIRECT_FORMATS and sides != {PartyRole.VICTIM.value, PartyRole.OFFENDER.value}:
            reasons.append("A conference needs a victim and an offender.")
        if draft.format in (MeetingFormat.SHUTTLE, MeetingFormat.LETTER) and len(sides) != 1:
            reasons.append(
                "A shuttle meeting or a letter of explanation involves one side only:"
                " choose the victim's side or the offender's side."
            )

    # Place.
    if draft.format == MeetingFormat.VIDEO:
        link = (draft.video_link or "").strip()
        if not link.startswith("https://"):
            reasons.append("Enter the joining link of the video meeting (it starts with https://).")
    if draft.format == MeetingFormat.FACE_TO_FACE and draft.venue is None:
        reasons.append("Choose a venue.")
    if draft.format == MeetingFormat.PRISON and (draft.venue is None or draft.venue.kind != VenueKind.PRISON):
        reasons.append("Choose the prison where the meeting takes place.")
    if draft.venue is not None and draft.format not in (MeetingFormat.VIDEO, MeetingFormat.LETTER):
        venue = draft.venue
        if venue.service_id != case.service_id:
            reasons.append("Choose a venue of this service.")
        elif not venue.is_active:
            reasons.append(f"{venue.name} is no longer used for meetings.")
    if draft.format == MeetingFormat.FACE_TO_FACE and draft.room is None:
        reasons.append("Choose the meeting room.")
    if draft.room is not None and draft.format not in (MeetingFormat.VIDEO, MeetingFormat.LETTER):
        room = draft.room
        if draft.venue is not None and room.venue_id != draft.venue.id:
            reasons.append(f"{room.name} is not at {draft.venue.name}.")
        if room.kind != RoomKind.MEETING:
            reasons.append(f"{room.name} is a waiting room: choose a meeting room for the meeting.")
        if not room.is_active:
            reasons.append(f"{room.name} is no longer used for meetings.")
        people = len(draft.parties) + len(draft.facilitators) + len(draft.observers)
        if people > room.capacity:
            reasons.append(f"{room.name} holds {_people(room.capacity)}; this meeting has {people}.")

    # Time.
    times_ok = False
    if draft.format == MeetingFormat.LETTER:
        if draft.letter_due_on is None:
            reasons.append("Enter the date the letter of explanation is due.")
        elif draft.letter_due_on < london_day(at):
            reasons.append("The letter's due date must not be in the past.")
    elif draft.starts_at is None or draft.ends_at is None:
        reasons.append("Enter the date, start time and length of the meeting.")
    elif draft.ends_at < draft.starts_at:
        reasons.append("The meeting must end after it starts.")
    elif draft.ends_at == draft.starts_at:
        reasons.append("The meeting must last longer than zero minutes.")
    elif draft.ends_at - draft.starts_at > dt.timedelta(hours=MAX_HOURS):
        reasons.append(f"A meeting can last at most {MAX_HOURS} hours.")
    elif draft.starts_at <= at:
        reasons.append("The meeting must start in the future.")
    else:
        times_ok = True
    return reasons, times_ok


def _arrival_refusals(draft: MeetingDraft) -> list[str]:
    """Face to face conference: own waiting rooms, different rooms per side, staggered times (DOMAIN rule 5)."""
    if not draft.needs_arrival_plan or draft.starts_at is None or draft.ends_at is None:
        return []
    reasons: list[str] = []
    rooms_by_side: dict[str, set[int]] = {}
    arrivals: dict[str, set[dt.datetime]] = {}
    departures: dict[str, set[dt.datetime]] = {}
    for plan in draft.parties:
        side = side_of(plan.party)
        who = _who(plan.party)
        if plan.arrives_at is None or plan.departs_at is None:
            reasons.append(f"Enter when {who} arrives and leaves.")
            continue
        if plan.arrives_at > draft.starts_at:
            reasons.append(f"{who} must arrive by the start of the conference.")
        if plan.departs_at < draft.ends_at:
            reasons.append(f"{who} must not leave before the end of the conference.")
        if side is None:
            continue
        arrivals.setdefault(side, set()).add(plan.arrives_at)
        departures.setdefault(side, set()).add(plan.departs_at)
        room = plan.waiting_room
        if room is None:
            reasons.append(f"Choose a waiting room for {who}.")
            continue
        rooms_by_side.setdefault(side, set()).add(room.id)
        if room.kind != RoomKind.WAITING:
            reasons.append(f"{room.name} is not a waiting room: choose a waiting room for {who}.")
        if draft.venue is not None and room.venue_id != draft.venue.id:
            reasons.append(f"{room.name} is not at {draft.venue.name}.")
        if not room.is_active:
            reasons.append(f"{room.name} is no longer used for meetings.")
    waiting: dict[int, list[Room]] = {}
    for plan in draft.parties:
        if plan.waiting_room is not None and side_of(plan.party) is not None:
            waiting.setdefault(plan.waiting_room.id, []).append(plan.waiting_room)
    for rooms in waiting.values():
        if len(rooms) > rooms[0].capacity:
            reasons.append(
                f"{rooms[0].name} holds {_people(rooms[0].capacity)}; {len(rooms)} would wait there."
            )
    victim_rooms = rooms_by_side.get(PartyRole.VICTIM.value, set())
    offender_rooms = rooms_by_side.get(PartyRole.OFFENDER.value, set())
    if victim_rooms & offender_rooms:
        reasons.append("The victim and the offender must wait in different waiting rooms.")
    if arrivals.get(PartyRole.VICTIM.value, set()) & arrivals.get(PartyRole.OFFENDER.value, set()):
        reasons.append("The victim and the offender must arrive at different times.")
    if departures.get(PartyRole.VICTIM.value, set()) & departures.get(PartyRole.OFFENDER.value, set()):
        reasons.append("The victim and the offender must leave at different times.")
    return reasons


def readiness_refusals(case: Case, kind: str, parties: Iterable[Party], at: dt.datetime) -> list[str]:
    """Readiness for a meeting (DOMAIN rules 1-3).

    A conference needs everything the risk capability's readiness asks of its
    attending parties (current consent, current signed-off assessments, manager
    approval, mitigations done). A preparation meeting needs the current consent
    to take part of its victim or offender.
    """
    parties = list(parties)
    if kind == MeetingKind.CONFERENCE:
        from rj_scheduler.risk.readiness import readiness_blockers_for_meeting

        return readiness_blockers_for_meeting(case, parties, at)
    return [
        f"{_who(p)} has not agreed to take part, or has withdrawn consent."
        for p in parties
        if p.role in (PartyRole.VICTIM, PartyRole.OFFENDER) and not has_consent(p, ConsentKind.TAKE_PART)
    ]


def readiness_refusals_for_meeting(meeting: Meeting, at: dt.datetime) -> list[str]:
    """``readiness_refusals`` for a booked meeting's parties (what flags it on the case page and dashboard)."""
    parties = [a.party for a in meeting.attendees if a.party is not None]
    return readiness_refusals(meeting.case, meeting.kind, parties, at)


def _covers(windows: Iterable[tuple[int, dt.time, dt.time]], start: dt.datetime, end: dt.datetime) -> bool:
    """True when one window of the local weekday covers the whole of [start, end] (London time, same day)."""
    local_start, local_end = to_london(start), to_london(end)
    if local_start.date() != local_end.date():
        return False
    return any(
        weekday == local_start.weekday() and opens <= local_start.time() and local_end.time() <= closes
        for weekday, opens, closes in windows
    )


def _pattern_text(windows: Iterable[tuple[int, dt.time, dt.time]], weekday: int) -> str:
    parts = [f"{clock_of(a)} to {clock_of(b)}" for d, a, b in windows if d == weekday]
    return ", ".join(parts) if parts else "closed"


def _time_refusals(draft: MeetingDraft) -> list[str]:
    """Bank holidays, opening hours, working patterns, leave and unavailable dates."""
    stay = draft.stay()
    if stay is None or draft.starts_at is None:  # the caller checked the times already
        return []
    session = db.session
    reasons: list[str] = []
    first, last = london_day(stay[0]), london_day(stay[1])
    if first != last:
        reasons.append("The meeting, with arrivals and departures, must start and end on the same day.")
    day = london_day(draft.starts_at)
    weekday = WEEKDAY_NAMES[day.weekday()]
    if day in bank_holidays():
        reasons.append(f"{day_text(day)} is a bank holiday.")
    venue = draft.venue
    if venue is not None and draft.format in (
        MeetingFormat.FACE_TO_FACE,
        MeetingFormat.PRISON,
        MeetingFormat.SHUTTLE,
    ):
        hours = [(h.weekday, h.opens_at, h.closes_at) for h in venue.opening_hours]
        if not hours:
            reasons.append(f"{venue.name} has no opening hours recorded: a manager can add them.")
        elif not _covers(hours, stay[0], stay[1]):
            reasons.append(
                f"{venue.name} is not open from {clock(stay[0])} to {clock(stay[1])} on {weekday}s"
                f" (open: {_pattern_text(hours, day.weekday())})."
            )
    for user in draft.facilitators:
        if user.id is None:
            continue
        pattern = queries.working_hours_or_default(session, user.id)
        if not _covers(pattern, stay[0], stay[1]):
            reasons.append(
                f"{user.full_name} does not work from {clock(stay[0])} to {clock(stay[1])} on {weekday}s"
                f" (their working hours: {_pattern_text(pattern, day.weekday())})."
            )
        if queries.leave_on(session, user.id, first, last):
            reasons.append(f"{user.full_name} is on leave on {day_text(day)}.")
    for plan in draft.parties:
        if queries.party_unavailable_on(session, plan.party.id, first, last):
            reasons.append(f"{_who(plan.party)} is not available on {day_text(day)}.")
    return reasons


def _resource_name(kind: str, resource_id: int, draft: MeetingDraft) -> str:
    if kind == ResourceKind.FACILITATOR:
        user = next((u for u in draft.facilitators if u.id == resource_id), None)
        return user.full_name if user else "A facilitator"
    if kind == ResourceKind.PARTY:
        party = next((p.party for p in draft.parties if p.party.id == resource_id), None)
        return _who(party) if party else "A participant"
    rooms = [draft.room] + [p.waiting_room for p in draft.parties]
    room = next((r for r in rooms if r is not None and r.id == resource_id), None)
    if room is None:
        return "A room"
    return f"{room.name} at {room.venue.name}"


def conflict_refusals(draft: MeetingDraft, buffer_minutes: int) -> list[str]:
    """Facilitators, rooms and parties already booked at an overlapping time, buffer included (DOMAIN rule 8)."""
    session = db.session
    ignore = draft.replacing.id if draft.replacing is not None else None
    reasons: list[str] = []
    gap = f" (meetings need {buffer_minutes} minutes between them)" if buffer_minutes else ""
    for hold in resource_holds(draft, buffer_minutes):
        clashes = queries.overlapping_bookings(
            session,
            hold.resource_kind,
            hold.resource_id,
            hold.starts_at,
            hold.ends_at,
            ignore_meeting_id=ignore,
        )
        seen: set[int] = set()
        for clash in clashes:
            if clash.meeting_id in seen:
                continue
            seen.add(clash.meeting_id)
            name = _resource_name(hold.resource_kind, hold.resource_id, draft)
            other = clash.meeting
            when = _span(other.starts_at, other.ends_at) if other.starts_at and other.ends_at else "then"
            reasons.append(f"{name} is already booked from {when}{gap}.")
    return reasons


def booking_refusals(draft: MeetingDraft, at: dt.datetime) -> list[str]:
    """Every reason ``draft`` cannot be booked at the moment ``at`` (empty: it can). Reads only.

    Checks the kind, format and people; readiness (consent, signed-off
    assessments, approvals, mitigations); the venue, rooms and the arrival plan;
    bank holidays, opening hours, working patterns, leave and parties'
    unavailable dates; and facilitators, rooms and parties already booked
    (with the service's buffer). Missing arrival times are taken from the
    service's defaults first, as ``book_meeting`` does.
    """
    settings = queries.settings_for(db.session, draft.case.service_id)
    draft = with_default_arrival_plan(draft, settings)
    reasons, times_ok = _shape_refusals(draft, at)
    parties = [p.party for p in draft.parties if p.party.case_id == draft.case.id]
    reasons.extend(readiness_refusals(draft.case, draft.kind, parties, at))
    reasons.extend(_arrival_refusals(draft))
    if times_ok:
        reasons.extend(_time_refusals(draft))
        reasons.extend(conflict_refusals(draft, settings.buffer_minutes))
    unique: list[str] = []
    for reason in reasons:
        if reason not in unique:
            unique.append(reason)
    return unique
