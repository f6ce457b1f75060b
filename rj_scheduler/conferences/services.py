"""The conference rules as plain functions: booking, changes, outcomes, venues and people's time.

Every function takes the acting user and the clock explicitly, flushes and
never commits (the edge commits once). Refusals are raised as the exceptions in
``rj_scheduler.conferences.exceptions`` with every reason.

No double booking (DOMAIN rule 8) is kept twice: ``booking_refusals`` checks
for overlapping bookings, and then the ``resource_bookings`` rows are written.
On PostgreSQL two requests that both passed the check cannot both write: the
exclusion constraint refuses the second (it waits for the first to commit),
and that refusal becomes a ``BookingRefused``. On SQLite every transaction
starts with BEGIN IMMEDIATE (``rj_scheduler.db``), so writers are serialised
and the check-then-insert cannot interleave with another booking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import User
from rj_scheduler.cases import events
from rj_scheduler.cases.exceptions import TransitionRefused
from rj_scheduler.cases.models import Case, CaseState, ClosureReason, Party
from rj_scheduler.cases.services import add_timeline_event, change_state
from rj_scheduler.conferences import events as meeting_events
from rj_scheduler.conferences import queries
from rj_scheduler.conferences.booking import (
    MeetingDraft,
    PartyPlan,
    booking_refusals,
    resource_holds,
    with_default_arrival_plan,
)
from rj_scheduler.conferences.exceptions import (
    AvailabilityInvalid,
    BookingRefused,
    ChangeRefused,
    OutcomeRefused,
    SettingsInvalid,
    VenueInvalid,
)
from rj_scheduler.conferences.models import (
    AgreementItem,
    AgreementItemKind,
    AttendeeRole,
    ConferenceOutcome,
    ConferenceSettings,
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingStatus,
    OpeningHours,
    PartyPreferredTime,
    PartySatisfaction,
    PartyUnavailability,
    ResourceBooking,
    Room,
    RoomKind,
    StaffLeave,
    Venue,
    VenueEntrance,
    VenueKind,
    WorkingHours,
)
from rj_scheduler.conferences.times import clock, day_text, london_day
from rj_scheduler.extensions import db

__all__ = ["MeetingDraft", "PartyPlan", "book_meeting", "booking_refusals"]

DOUBLE_BOOKED = (
    "Someone else has just booked one of these people or rooms for an overlapping time."
    " Nothing was saved: choose another time."
)


def _audit(action: str, meeting: Meeting, **details: object) -> None:
    audit.record(
        action,
        object_type="meeting",
        object_id=meeting.public_id,
        service_id=meeting.service_id,
        details={"case": meeting.case.reference, **details},
    )


def _when(meeting: Meeting) -> str:
    if meeting.starts_at is None:
        return f"due on {day_text(meeting.letter_due_on)}" if meeting.letter_due_on else "with no date"
    return f"on {day_text(london_day(meeting.starts_at))} from {clock(meeting.starts_at)} to {clock(meeting.ends_at)}"


def _write_attendees_and_holds(meeting: Meeting, draft: MeetingDraft, buffer_minutes: int) -> None:
    session = db.session
    meeting.attendees.clear()
    session.flush()
    service_id = meeting.service_id
    if draft.lead_facilitator is not None:
        meeting.attendees.append(
            MeetingAttendee(
                service_id=service_id,
                role=AttendeeRole.LEAD_FACILITATOR.value,
                user_id=draft.lead_facilitator.id,
            )
        )
    if draft.co_facilitator is not None:
        meeting.attendees.append(
            MeetingAttendee(
                service_id=service_id, role=AttendeeRole.CO_FACILITATOR.value, user_id=draft.co_facilitator.id
            )
        )
    for plan in draft.parties:
        meeting.attendees.append(
            MeetingAttendee(
                service_id=service_id,
                role=AttendeeRole.PARTY.value,
                party_id=plan.party.id,
                waiting_room_id=plan.waiting_room.id
                if plan.waiting_room and draft.needs_arrival_plan
                else None,
                arrives_at=plan.arrives_at if draft.needs_arrival_plan else None,
                departs_at=plan.departs_at if draft.needs_arrival_plan else None,
            )
        )
    for name in draft.observers:
        meeting.attendees.append(
            MeetingAttendee(service_id=service_id, role=AttendeeRole.OBSERVER.value, observer_name=name)
        )
    session.execute(delete(ResourceBooking).where(ResourceBooking.meeting_id == meeting.id))
    for hold in resource_holds(draft, buffer_minutes):
        session.add(
            ResourceBooking(
                service_id=service_id,
                meeting_id=meeting.id,
                resource_kind=hold.resource_kind,
                resource_id=hold.resource_id,
                starts_at=hold.starts_at,
                ends_at=hold.ends_at,
            )
        )


def _apply_draft(meeting: Meeting, draft: MeetingDraft) -> None:
    from rj_scheduler.conferences.models import MeetingFormat

    meeting.kind = draft.kind
    meeting.format = draft.format
    meeting.starts_at = draft.starts_at if draft.is_timed else None
    meeting.ends_at = draft.ends_at if draft.is_timed else None
    meeting.letter_due_on = draft.letter_due_on if not draft.is_timed else None
    in_person = draft.format not in (MeetingFormat.VIDEO, MeetingFormat.LETTER)
    meeting.venue_id = draft.venue.id if draft.venue is not None and in_person else None
    meeting.room_id = draft.room.id if draft.room is not None and in_person else None
    meeting.video_link = (
        (draft.video_link or "").strip() or None if draft.format == MeetingFormat.VIDEO else None
    )
    meeting.notes = draft.notes
    meeting.series_id = draft.series_id


def write_meeting(meeting: Meeting, draft: MeetingDraft, settings: ConferenceSettings) -> None:
    """Write the meeting, its attendees and its bookings inside a savepoint; a clash becomes a refusal.

    It checks no rule itself: ``book_meeting`` and ``reschedule_meeting`` call
    ``booking_refusals`` first (the demo uses it alone to write past meetings).
    """
    session = db.session
    savepoint = session.begin_nested()
    try:
        if meeting.id is None:
            session.add(meeting)
        _apply_draft(meeting, draft)
        session.flush()
        _write_attendees_and_holds(meeting, draft, settings.buffer_minutes)
        session.flush()
    except IntegrityError as error:
        savepoint.rollback()
        # The exclusion constraint (PostgreSQL) refused an overlapping booking made at the same moment.
        if "ex_resource_bookings_no_overlap" in str(error.orig) or "exclusion" in str(error.orig).lower():
            raise BookingRefused([DOUBLE_BOOKED]) from error
        raise
    else:
        savepoint.commit()


def _schedule_case(case: Case, *, actor: User | None, at: dt.datetime) -> None:
    """A booked conference moves a ready case to scheduled (through the cases state machine)."""
    if case.state == CaseState.READY:
        change_state(case, CaseState.SCHEDULED.value, actor=actor, at=at)


def _unschedule_case(case: Case, meeting: Meeting, *, actor: User | None, at: dt.datetime) -> None:
    """With no conference left booked, a scheduled case goes back to ready (or assessing if it no longer is)."""
    if case.state != CaseState.SCHEDULED:
        return
    others = [
        m
        for m in queries.meetings_for_case(db.session, case)
        if m.id != meeting.id and m.kind == MeetingKind.CONFERENCE and m.status == MeetingStatus.BOOKED
    ]
    if others:
        return
    for target in (CaseState.READY, CaseState.ASSESSING):
        try:
            change_state(case, target.value, actor=actor, at=at)
            return
        except TransitionRefused:
            continue


def book_meeting(
    draft: MeetingDraft, *, actor: User | None, at: dt.datetime, series_of: Meeting | None = None
) -> Meeting:
    """Book a meeting, or refuse with every reason (``BookingRefused``); never two bookings of one resource.

    ``series_of`` is a shuttle meeting this one continues (the next separate
    meeting of an indirect conference).

    Missing arrival times come from the service's defaults. A conference moves
    a ready case to scheduled. The case timeline and the audit log record it.
    """
    settings = queries.settings_for(db.session, draft.case.service_id)
    draft = with_default_arrival_plan(draft, settings)
    reasons = booking_refusals(draft, at)
    if series_of is not None and (
        series_of.case_id != draft.case.id or series_of.format != draft.format or draft.format != "shuttle"
    ):
        reasons.append("A shuttle meeting can only continue a shuttle series of the same case.")
    if reasons:
        audit.record(
            "meeting.booking_refused",
            object_type="case",
            object_id=draft.case.reference,
            service_id=draft.case.service_id,
            outcome="refused",
            details={"reasons": len(reasons)},
        )
        raise BookingRefused(reasons)
    meeting = Meeting(
        service_id=draft.case.service_id,
        case_id=draft.case.id,
        kind=draft.kind,
        format=draft.format,
        status=MeetingStatus.BOOKED.value,
        sequence=0,
        booked_by_id=actor.id if actor else None,
        booked_at=at,
        updated_at=at,
    )
    meeting.case = draft.case
    if series_of is not None:
        # Shuttle meetings of one indirect conference share the first meeting's public id as their series.
        series_of.series_id = series_of.series_id or series_of.public_id
        draft.series_id = series_of.series_id
    write_meeting(meeting, draft, settings)
    add_timeline_event(
        draft.case, "meeting_booked", f"{meeting.title} booked {_when(meeting)}.", actor=actor, at=at
    )
    _audit("meeting.booked", meeting, kind=meeting.kind, format=meeting.format)
    meeting_events.meeting_booked.send(meeting, meeting=meeting, at=at)
    if meeting.kind == MeetingKind.CONFERENCE:
        _schedule_case(draft.case, actor=actor, at=at)
    return meeting


def _required_reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ChangeRefused([f"Give the reason for {what} the meeting."])
    return text[:2000]


def _changeable(meeting: Meeting, at: dt.datetime, what: str, *, allow_postponed: bool = False) -> None:
    allowed = {MeetingStatus.BOOKED.value} | ({MeetingStatus.POSTPONED.value} if allow_postponed else set())
    if meeting.status not in allowed:
        raise ChangeRefused([f"This meeting is {meeting.status_label.lower()}: it cannot be {what}."])


def reschedule_meeting(
    meeting: Meeting, draft: MeetingDraft, *, reason: str | None, actor: User | None, at: dt.datetime
) -> Meeting:
    """Move a booked (or postponed) meeting: same ``public_id``, ``sequence`` + 1, every booking rule again."""
    why = _required_reason(reason, "moving")
    _changeable(meeting, at, "rescheduled", allow_postponed=True)
    if draft.kind != meeting.kind or draft.case.id != meeting.case_id:
        raise ChangeRefused(["A rescheduled meeting keeps its case and its kind."])
    settings = queries.settings_for(db.session, meeting.service_id)
    draft.replacing = meeting
    draft = with_default_arrival_plan(draft, settings)
    reasons = booking_refusals(draft, at)
    if reasons:
        _audit("meeting.reschedule_refused", meeting, reasons=len(reasons))
        raise BookingRefused(reasons)
    before = _when(meeting)
    write_meeting(meeting, draft, settings)
    meeting.status = MeetingStatus.BOOKED.value
    meeting.status_reason = why
    meeting.sequence += 1
    meeting.updated_at = at
    db.session.flush()
    add_timeline_event(
        meeting.case,
        "meeting_rescheduled",
        f"{meeting.title} moved from {before.removeprefix('on ')} to {_when(meeting).removeprefix('on ')}."
        f" Reason: {why}",
        actor=actor,
        at=at,
    )
    _audit("meeting.rescheduled", meeting, sequence=meeting.sequence)
    meeting_events.meeting_rescheduled.send(meeting, meeting=meeting, at=at)
    if meeting.kind == MeetingKind.CONFERENCE:
        _schedule_case(meeting.case, actor=actor, at=at)
    return meeting


def _release(
    meeting: Meeting, status: MeetingStatus, why: str, *, actor: User | None, at: dt.datetime
) -> None:
    db.session.execute(delete(ResourceBooking).where(ResourceBooking.meeting_id == meeting.id))
    meeting.status = status.value
    meeting.status_reason = why
    meeting.sequence += 1
    meeting.updated_at = at
    db.session.flush()


def cancel_meeting(meeting: Meeting, *, reason: str | None, actor: User | None, at: dt.datetime) -> None:
    """Cancel a booked or postponed meeting (reason required); its facilitators, rooms and parties are freed."""
    why = _required_reason(reason, "cancelling")
    _changeable(meeting, at, "cancelled", allow_postponed=True)
    when = _when(meeting)
    _release(meeting, MeetingStatus.CANCELLED, why, actor=actor, at=at)
    add_timeline_event(
        meeting.case,
        "meeting_cancelled",
        f"{meeting.title} {when} cancelled. Reason: {why}",
        actor=actor,
        at=at,
    )
    _audit("meeting.cancelled", meeting, sequence=meeting.sequence)
    meeting_events.meeting_cancelled.send(meeting, meeting=meeting, at=at)
    if meeting.kind == MeetingKind.CONFERENCE:
        _unschedule_case(meeting.case, meeting, actor=actor, at=at)


def postpone_meeting(meeting: Meeting, *, reason: str | None, actor: User | None, at: dt.datetime) -> None:
    """Postpone a booked meeting (reason required) until it is rescheduled; it holds nothing meanwhile."""
    why = _required_reason(reason, "postponing")
    _changeable(meeting, at, "postponed")
    when = _when(meeting)
    _release(meeting, MeetingStatus.POSTPONED, why, actor=actor, at=at)
    add_timeline_event(
        meeting.case,
        "meeting_postponed",
        f"{meeting.title} {when} postponed until a new time is found. Reason: {why}",
        actor=actor,
        at=at,
    )
    _audit("meeting.postponed", meeting, sequence=meeting.sequence)
    meeting_events.meeting_postponed.send(meeting, meeting=meeting, at=at)


def draft_from_meeting(meeting: Meeting) -> MeetingDraft:
    """The draft that would book ``meeting`` as it is (the start of a reschedule form)."""
    lead = next((a.user for a in meeting.attendees if a.role == AttendeeRole.LEAD_FACILITATOR), None)
    co = next((a.user for a in meeting.attendees if a.role == AttendeeRole.CO_FACILITATOR), None)
    return MeetingDraft(
        case=meeting.case,
        kind=meeting.kind,
        format=meeting.format,
        parties=[
            PartyPlan(a.party, a.waiting_room, a.arrives_at, a.departs_at)
            for a in meeting.attendees
            if a.party is not None
        ],
        lead_facilitator=lead,
        co_facilitator=co,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        venue=meeting.venue,
        room=meeting.room,
        video_link=meeting.video_link,
        letter_due_on=meeting.letter_due_on,
        observers=[a.observer_name for a in meeting.attendees if a.observer_name],
        notes=meeting.notes,
        series_id=meeting.series_id,
        replacing=meeting,
    )


# --- consent withdrawn: flag the party's future meetings -------------------------------------------


def flag_meetings_after_withdrawal(party: Party, at: dt.datetime) -> list[Meeting]:
    """A party withdrew consent to take part: each of their meetings still to come is flagged on the timeline.

    The meetings stay booked until the facilitator decides (cancel, or go
    ahead without them); ``meetings_needing_attention`` lists them meanwhile.
    """
    meetings = list(queries.future_meetings_of_party(db.session, party, at))
    for meeting in meetings:
        add_timeline_event(
            meeting.case,
            "meeting_needs_attention",
            f"{meeting.title} {_when(meeting)} needs attention: {party.display_name}"
            f" ({party.role_label.lower()}) withdrew consent to take part.",
            actor=None,
            at=at,
            party=party,
        )
        _audit("meeting.flagged", meeting, why="consent_withdrawn")
    return meetings


@events.consent_to_take_part_withdrawn.connect
def _on_consent_withdrawn(sender: object, party: Party, at: dt.datetime, **_: object) -> None:
    flag_meetings_after_withdrawal(party, at)


# --- outcomes ----------------------------------------------------------------------------------------


@dataclass
class AgreementInput:
    kind: str
    description: str
    party: Party | None = None
    due_on: dt.date | None = None
    follow_up_on: dt.date | None = None


def record_outcome(
    meeting: Meeting,
    *,
    held: bool,
    not_held_reason: str | None,
    attended_party_ids: set[int],
    notes: str | None,
    satisfaction: dict[int, tuple[int, str | None]],
    actor: User | None,
    at: dt.datetime,
) -> ConferenceOutcome:
    """Record whether a conference was held (and why not), who came, and each party's satisfaction.

    A held conference moves the case to "conference held"; one not held frees
    the case to be booked again (back to ready when it still is).
    """
    reasons: list[str] = []
    if meeting.kind != MeetingKind.CONFERENCE:
        reasons.append("Outcomes are recorded for conferences, not preparation meetings.")
    if meeting.status != MeetingStatus.BOOKED:
        reasons.append(f"This conference is {meeting.status_label.lower()}: its outcome cannot be recorded.")
    if meeting.outcome is not None:
        reasons.append("The outcome of this conference has already been recorded.")
    if meeting.starts_at is not None and meeting.starts_at > at:
        reasons.append("The conference has not started yet.")
    why = (not_held_reason or "").strip()
    if not held and not why:
        reasons.append("Say why the conference was not held.")
    party_ids = {a.party_id for a in meeting.attendees if a.party_id is not None}
    for party_id, (score, _comments) in satisfaction.items():
        if party_id not in party_ids:
            reasons.append("Satisfaction can only be recorded for people invited to the conference.")
        if not 1 <= score <= 5:
            reasons.append("A satisfaction score is from 1 to 5.")
    if reasons:
        raise OutcomeRefused(reasons)
    outcome = ConferenceOutcome(
        service_id=meeting.service_id,
        meeting=meeting,
        held=held,
        not_held_reason=None if held else why[:2000],
        notes=(notes or "").strip() or None,
        recorded_at=at,
        recorded_by_id=actor.id if actor else None,
    )
    db.session.add(outcome)
    for attendee in meeting.attendees:
        if attendee.party_id is not None:
            attendee.attended = held and attendee.party_id in attended_party_ids
    for party_id, (score, comments) in satisfaction.items():
        db.session.add(
            PartySatisfaction(
                service_id=meeting.service_id,
                outcome=outcome,
                party_id=party_id,
                score=score,
                comments=(comments or "").strip() or None,
            )
        )
    meeting.status = (MeetingStatus.HELD if held else MeetingStatus.NOT_HELD).value
    meeting.updated_at = at
    db.session.flush()
    summary = "Conference held." if held else f"Conference not held. Reason: {why}"
    add_timeline_event(meeting.case, "outcome_recorded", summary, actor=actor, at=at)
    _audit("meeting.outcome_recorded", meeting, held=held)
    if held:
        case = meeting.case
        if case.state == CaseState.READY:
            change_state(case, CaseState.SCHEDULED.value, actor=actor, at=at)
        if case.state == CaseState.SCHEDULED:
            change_state(case, CaseState.CONFERENCE_HELD.value, actor=actor, at=at)
    else:
        _unschedule_case(meeting.case, meeting, actor=actor, at=at)
    return outcome


def add_agreement_item(
    outcome: ConferenceOutcome, item: AgreementInput, *, actor: User | None, at: dt.datetime
) -> AgreementItem:
    """Add an action to the outcome agreement of a held conference; the case moves to follow-up."""
    reasons: list[str] = []
    if not outcome.held:
        reasons.append("An outcome agreement is only made at a conference that was held.")
    if item.kind not in {k.value for k in AgreementItemKind}:
        reasons.append("Choose what kind of action this is.")
    description = (item.description or "").strip()
    if not description:
        reasons.append("Describe what was agreed.")
    case = outcome.meeting.case
    if item.party is not None and item.party.case_id != case.id:
        reasons.append("Choose someone in this case.")
    if item.follow_up_on is not None and item.follow_up_on < london_day(at):
        reasons.append("The follow-up date must not be in the past.")
    if case.state == CaseState.CLOSED:
        reasons.append("The case is closed.")
    if reasons:
        raise OutcomeRefused(reasons)
    row = AgreementItem(
        service_id=outcome.service_id,
        case_id=case.id,
        outcome=outcome,
        kind=item.kind,
        description=description[:2000],
        party_id=item.party.id if item.party else None,
        due_on=item.due_on,
        follow_up_on=item.follow_up_on or item.due_on,
    )
    db.session.add(row)
    db.session.flush()
    add_timeline_event(
        case,
        "agreement_item_added",
        f"Outcome agreement: {AgreementItemKind.label_of(item.kind).lower()}"
        + (f", due by {day_text(item.due_on)}" if item.due_on else "")
        + ".",
        actor=actor,
        at=at,
    )
    _audit("meeting.agreement_item_added", outcome.meeting, kind=item.kind)
    if case.state == CaseState.CONFERENCE_HELD:
        change_state(case, CaseState.FOLLOW_UP.value, actor=actor, at=at)
    return row


def mark_agreement_item_done(item: AgreementItem, *, actor: User | None, at: dt.datetime) -> None:
    """Record that an agreed action was done (follow-up); the victim should then be told."""
    if item.done_at is not None:
        raise OutcomeRefused(["This action is already marked as done."])
    item.done_at = at
    item.done_recorded_by_id = actor.id if actor else None
    db.session.flush()
    add_timeline_event(
        item.case,
        "agreement_item_done",
        f"Outcome agreement: {item.kind_label.lower()} done.",
        actor=actor,
        at=at,
    )
    _audit("meeting.agreement_item_done", item.outcome.meeting, kind=item.kind)


def close_after_follow_up(case: Case, *, actor: User | None, at: dt.datetime) -> None:
    """Close a case as completed once its conference was held and every agreed action is done."""
    open_items = queries.open_agreement_items(db.session, case)
    if open_items:
        count = len(open_items)
        what = "1 agreed action is" if count == 1 else f"{count} agreed actions are"
        raise OutcomeRefused([f"{what} not done yet: follow them up before closing the case."])
    try:
        change_state(
            case, CaseState.CLOSED.value, actor=actor, at=at, closure_reason=ClosureReason.COMPLETED.value
        )
    except TransitionRefused as refused:
        raise OutcomeRefused(list(refused.reasons)) from refused


# --- venues --------------------------------------------------------------------------------------------


@dataclass
class VenueInput:
    name: str
    kind: str
    address: str
    accessibility: str | None = None
    booking_notes: str | None = None
    is_active: bool = True


def _venue_errors(data: VenueInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not (data.name or "").strip():
        errors["name"] = "Enter the venue's name"
    if data.kind not in {k.value for k in VenueKind}:
        errors["kind"] = "Choose what kind of venue this is"
    if not (data.address or "").strip():
        errors["address"] = "Enter the venue's address"
    return errors


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def save_venue(
    service_id: int, data: VenueInput, *, venue: Venue | None = None, actor: User | None, at: dt.datetime
) -> Venue:
    """Add a venue or change one (managers). Names are unique within the service."""
    errors = _venue_errors(data)
    name = (data.name or "").strip()
    if not errors:
        clash = next(
            (v for v in queries.venues(db.session, service_id) if v.name.casefold() == name.casefold()),
            None,
        )
        if clash is not None and clash is not venue:
            errors["name"] = "There is already a venue with this name"
    if errors:
        raise VenueInvalid(errors)
    if venue is None:
        venue = Venue(service_id=service_id, created_at=at)
        db.session.add(venue)
    venue.name = name[:200]
    venue.kind = data.kind
    venue.address = data.address.strip()
    venue.accessibility = _clean(data.accessibility)
    venue.booking_notes = _clean(data.booking_notes)
    venue.is_active = data.is_active
    db.session.flush()
    audit.record("venue.saved", object_type="venue", object_id=venue.public_id, service_id=service_id)
    return venue


def set_opening_hours(
    venue: Venue, hours: list[tuple[int, dt.time, dt.time]], *, actor: User | None, at: dt.datetime
) -> None:
    """Replace a venue's weekly opening hours (Europe/London times)."""
    errors = {}
    for weekday, opens, closes in hours:
        if not 0 <= weekday <= 6:
            errors["hours"] = "Choose a day of the week"
        elif opens >= closes:
            errors["hours"] = "Each day's opening time must be before its closing time"
    if errors:
        raise VenueInvalid(errors)
    venue.opening_hours.clear()
    db.session.flush()
    for weekday, opens, closes in sorted(hours):
        venue.opening_hours.append(OpeningHours(weekday=weekday, opens_at=opens, closes_at=closes))
    db.session.flush()
    audit.record(
        "venue.hours_set", object_type="venue", object_id=venue.public_id, service_id=venue.service_id
    )


def add_entrance(
    venue: Venue,
    *,
    name: str,
    directions: str | None,
    parking: str | None,
    actor: User | None,
    at: dt.datetime,
) -> VenueEntrance:
    """Add a separate entrance to a venue, with its own directions and parking notes."""
    if not (name or "").strip():
        raise VenueInvalid({"name": "Enter the entrance's name, like Side door on Mill Lane"})
    entrance = VenueEntrance(
        service_id=venue.service_id,
        name=name.strip()[:200],
        directions=_clean(directions),
        parking=_clean(parking),
    )
    venue.entrances.append(entrance)
    db.session.flush()
    audit.record(
        "venue.entrance_added", object_type="venue", object_id=venue.public_id, service_id=venue.service_id
    )
    return entrance


def add_room(
    venue: Venue,
    *,
    name: str,
    kind: str,
    capacity: int | None,
    entrance: VenueEntrance | None,
    actor: User | None,
    at: dt.datetime,
) -> Room:
    """Add a meeting room or a waiting room (with its capacity) to a venue."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Enter the room's name"
    elif any(r.name.casefold() == name.casefold() for r in venue.rooms):
        errors["name"] = "This venue already has a room with this name"
    if kind not in {k.value for k in RoomKind}:
        errors["kind"] = "Choose whether this is a meeting room or a waiting room"
    if capacity is None or not 1 <= capacity <= 500:
        errors["capacity"] = "Enter how many people the room holds, from 1 to 500"
    if entrance is not None and entrance.venue_id != venue.id:
        errors["entrance"] = "Choose an entrance of this venue"
    if errors:
        raise VenueInvalid(errors)
    room = Room(
        service_id=venue.service_id,
        venue_id=venue.id,
        name=name[:200],
        kind=kind,
        capacity=capacity,
        entrance_id=entrance.id if entrance else None,
    )
    db.session.add(room)
    db.session.flush()
    db.session.refresh(venue, ["rooms"])
    audit.record(
        "venue.room_added", object_type="venue", object_id=venue.public_id, service_id=venue.service_id
    )
    return room


def set_room_active(room: Room, active: bool, *, actor: User | None, at: dt.datetime) -> None:
    """Stop using a room for new meetings (or use it again); meetings already booked keep it."""
    room.is_active = active
    db.session.flush()
    audit.record(
        "venue.room_changed",
        object_type="room",
        object_id=room.public_id,
        service_id=room.service_id,
        details={"active": active},
    )


# --- people's time ---------------------------------------------------------------------------------------


def set_working_hours(
    user: User, hours: list[tuple[int, dt.time, dt.time]], *, actor: User | None, at: dt.datetime
) -> None:
    """Replace a staff member's weekly working pattern (Europe/London times)."""
    for weekday, starts, ends in hours:
        if not 0 <= weekday <= 6 or starts >= ends:
            raise AvailabilityInvalid({"hours": "Each day's start time must be before its finish time"})
    db.session.execute(delete(WorkingHours).where(WorkingHours.user_id == user.id))
    for weekday, starts, ends in sorted(hours):
        db.session.add(
            WorkingHours(
                service_id=user.service_id, user_id=user.id, weekday=weekday, starts_at=starts, ends_at=ends
            )
        )
    db.session.flush()
    audit.record(
        "staff.working_pattern_set", object_type="user", object_id=user.public_id, service_id=user.service_id
    )


def add_leave(
    user: User,
    *,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    note: str | None,
    actor: User | None,
    at: dt.datetime,
) -> StaffLeave:
    """Record leave (whole days); meetings cannot be booked for the staff member on those days."""
    errors: dict[str, str] = {}
    if starts_on is None:
        errors["starts_on"] = "Enter the first day of leave"
    if ends_on is None:
        errors["ends_on"] = "Enter the last day of leave"
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "The last day of leave must be on or after the first"
    if errors:
        raise AvailabilityInvalid(errors)
    row = StaffLeave(
        service_id=user.service_id,
        user_id=user.id,
        starts_on=starts_on,
        ends_on=ends_on,
        note=_clean(note),
        created_at=at,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "staff.leave_added", object_type="user", object_id=user.public_id, service_id=user.service_id
    )
    return row


def remove_leave(row: StaffLeave, *, actor: User | None, at: dt.datetime) -> None:
    user = row.user
    db.session.delete(row)
    db.session.flush()
    audit.record(
        "staff.leave_removed", object_type="user", object_id=user.public_id, service_id=user.service_id
    )


def add_party_unavailability(
    party: Party,
    *,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    note: str | None,
    actor: User | None,
    at: dt.datetime,
) -> PartyUnavailability:
    """Record days a party cannot attend; meetings cannot be booked for them then."""
    errors: dict[str, str] = {}
    if starts_on is None:
        errors["starts_on"] = "Enter the first day they are not available"
    if ends_on is None:
        ends_on = starts_on
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "The last day must be on or after the first"
    if errors:
        raise AvailabilityInvalid(errors)
    row = PartyUnavailability(
        service_id=party.service_id,
        party_id=party.id,
        starts_on=starts_on,
        ends_on=ends_on,
        note=_clean(note),
        created_at=at,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "party.unavailability_added",
        object_type="party",
        object_id=party.public_id,
        service_id=party.service_id,
    )
    return row


def remove_party_unavailability(
    row: PartyUnavailability, party: Party, *, actor: User | None, at: dt.datetime
) -> None:
    db.session.delete(row)
    db.session.flush()
    audit.record(
        "party.unavailability_removed",
        object_type="party",
        object_id=party.public_id,
        service_id=party.service_id,
    )


def set_preferred_times(
    party: Party, times: list[tuple[int, dt.time, dt.time]], *, actor: User | None, at: dt.datetime
) -> None:
    """Replace the weekly times a party prefers for meetings (a preference the slot finder ranks by)."""
    for weekday, starts, ends in times:
        if not 0 <= weekday <= 6 or starts >= ends:
            raise AvailabilityInvalid({"times": "Each preferred time must start before it ends"})
    db.session.execute(delete(PartyPreferredTime).where(PartyPreferredTime.party_id == party.id))
    for weekday, starts, ends in sorted(times):
        db.session.add(
            PartyPreferredTime(
                service_id=party.service_id,
                party_id=party.id,
                weekday=weekday,
                starts_at=starts,
                ends_at=ends,
            )
        )
    db.session.flush()
    audit.record(
        "party.preferred_times_set",
        object_type="party",
        object_id=party.public_id,
        service_id=party.service_id,
    )


def update_settings(
    service_id: int,
    *,
    victim_arrives_before_start_minutes: int | None,
    offender_arrives_before_victim_minutes: int | None,
    victim_leaves_before_offender_minutes: int | None,
    buffer_minutes: int | None,
    actor: User | None,
    at: dt.datetime,
) -> ConferenceSettings:
    """Change the service's arrival plan defaults and booking buffer (managers).

    They apply to meetings booked or moved from then on: each booking keeps the
    buffer it was made with (its rows end that much later).
    """
    values = {
        "victim_arrives_before_start_minutes": (victim_arrives_before_start_minutes, 0, 120),
        "offender_arrives_before_victim_minutes": (offender_arrives_before_victim_minutes, 5, 120),
        "victim_leaves_before_offender_minutes": (victim_leaves_before_offender_minutes, 5, 120),
        "buffer_minutes": (buffer_minutes, 0, 240),
    }
    errors = {
        name: f"Enter a number of minutes from {low} to {high}"
        for name, (value, low, high) in values.items()
        if value is None or not low <= value <= high
    }
    if errors:
        raise SettingsInvalid(errors)
    row = queries.settings_for(db.session, service_id)
    if row.id is None:
        db.session.add(row)
    for name, (value, _low, _high) in values.items():
        setattr(row, name, value)
    row.updated_at = at
    row.updated_by_id = actor.id if actor else None
    db.session.flush()
    audit.record(
        "conference_settings.changed", object_type="service", object_id=service_id, service_id=service_id
    )
    return row
