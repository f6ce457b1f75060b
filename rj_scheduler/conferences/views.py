"""The conferences pages: venues, settings, people's time, booking, meeting page, changes and outcomes.

Everything is looked up within the signed-in user's service, so another
service's object answers 404. Every page that shows case data records an
audit entry. A refused form answers 400 with everything that was entered and
every reason, so nothing half-done is saved.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import User
from rj_scheduler.auth.policy import Permission, can, requires
from rj_scheduler.cases import queries as case_queries
from rj_scheduler.cases.models import Case, Party, PartyRole
from rj_scheduler.conferences import queries, services
from rj_scheduler.conferences.booking import MeetingDraft, PartyPlan, readiness_refusals_for_meeting, side_of
from rj_scheduler.conferences.exceptions import (
    AvailabilityInvalid,
    BookingRefused,
    ChangeRefused,
    LocalTimeInvalid,
    OutcomeRefused,
    SettingsInvalid,
    VenueInvalid,
)
from rj_scheduler.conferences.forms import (
    AgreementItemForm,
    BookingForm,
    ConfirmForm,
    DatesForm,
    EntranceForm,
    ReasonForm,
    RescheduleForm,
    RoomForm,
    SettingsForm,
    VenueForm,
    outcome_form,
    weekly_hours,
    weekly_hours_form,
)
from rj_scheduler.conferences.models import (
    Meeting,
    MeetingFormat,
    MeetingKind,
    MeetingStatus,
    Room,
    RoomKind,
)
from rj_scheduler.conferences.times import (
    WEEKDAY_NAMES,
    clock,
    clock_of,
    local_to_utc,
    london_day,
    parse_local_datetime,
    to_london,
)
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.templating import add_nav_item

bp = Blueprint("conferences", __name__)
# Dashboards check the readiness of this many of the soonest upcoming meetings (a bounded cost per page).
DASHBOARD_MEETINGS = 20

add_nav_item("Venues", "conferences.venues", Permission.MANAGE_VENUES)
add_nav_item("My availability", "conferences.my_availability", Permission.MANAGE_OWN_AVAILABILITY)


# --- template helpers (the case page and the dashboards include these) --------------------------


@bp.app_context_processor
def _helpers() -> dict[str, object]:
    def case_meetings(case: Case) -> list[Meeting]:
        return list(queries.meetings_for_case(db.session, case))

    def meetings_needing_attention(case: Case | None = None) -> list[tuple[Meeting, list[str]]]:
        if not current_user.is_authenticated:
            return []
        if case is not None:
            return queries.meetings_needing_attention(case.service_id, now(), case_id=case.id)
        facilitator_id = None if current_user.is_supervisor else current_user.id
        return queries.meetings_needing_attention(
            current_user.service_id, now(), facilitator_id=facilitator_id, limit=DASHBOARD_MEETINGS
        )

    def follow_ups_due() -> list[object]:
        # The facilitator's dashboard; supervisors and managers see the team's caseload instead.
        if not current_user.is_authenticated or current_user.is_supervisor:
            return []
        today = london_day(now())
        return list(
            queries.follow_ups(
                db.session, current_user.service_id, current_user.id, until=today + dt.timedelta(7)
            )
        )

    return {
        "conference_case_meetings": case_meetings,
        "conference_meetings_needing_attention": meetings_needing_attention,
        "conference_follow_ups_due": follow_ups_due,
        "conference_labels": {"clock": clock, "clock_of": clock_of, "weekday": lambda d: WEEKDAY_NAMES[d]},
    }


# --- lookups ---------------------------------------------------------------------------------------


def _load_case(case_ref: str) -> Case:
    case = case_queries.case_by_reference(db.session, current_user.service_id, case_ref)
    if case is None:
        abort(404)
    return case


def _load_meeting(meeting_public_id: str) -> Meeting:
    meeting = queries.meeting_by_public_id(db.session, current_user.service_id, meeting_public_id)
    if meeting is None:
        abort(404)
    return meeting


def _load_venue(venue_public_id: str):
    venue = queries.venue_by_public_id(db.session, current_user.service_id, venue_public_id)
    if venue is None:
        abort(404)
    return venue


def _apply_errors(form, errors: dict[str, str]) -> None:
    first = next(iter(form))
    for key, message in errors.items():
        field = form._fields.get(key) or first
        field.errors = [*field.errors, message]


def _case_viewed(case: Case, what: str) -> None:
    audit.record(
        "case.viewed",
        object_type="case",
        object_id=case.reference,
        service_id=case.service_id,
        details={"page": what},
    )


def _meeting_viewed(meeting: Meeting, page: str) -> None:
    audit.record(
        "meeting.viewed",
        object_type="meeting",
        object_id=meeting.public_id,
        service_id=meeting.service_id,
        details={"case": meeting.case.reference, "page": page},
    )


# --- the booking form --------------------------------------------------------------------------------


def _choices(form: BookingForm, case: Case) -> None:
    from rj_scheduler.cases.forms import as_choices

    staff = queries.staff(db.session, case.service_id)
    people = [(u.public_id, u.full_name) for u in staff]
    form.lead_facilitator.choices = as_choices(people)
    form.co_facilitator.choices = as_choices([("", "None"), *people])
    venues = queries.venues(db.session, case.service_id, active_only=True)
    form.venue.choices = as_choices(
        [("", "None (video or no venue)")] + [(v.public_id, v.name) for v in venues]
    )
    meeting_rooms = [
        (r.public_id, f"{v.name}: {r.name} (holds {r.capacity})")
        for v in venues
        for r in v.rooms
        if r.is_active and r.kind == RoomKind.MEETING
    ]
    waiting_rooms = [
        (r.public_id, f"{v.name}: {r.name}")
        for v in venues
        for r in v.rooms
        if r.is_active and r.kind == RoomKind.WAITING
    ]
    form.room.choices = as_choices([("", "None"), *meeting_rooms])
    form.victim_waiting_room.choices = as_choices([("", "None"), *waiting_rooms])
    form.offender_waiting_room.choices = as_choices([("", "None"), *waiting_rooms])
    form.parties.choices = as_choices(
        [(p.public_id, f"{p.display_name} ({p.role_label.lower()})") for p in case.parties]
    )


def _prefill(form: BookingForm, case: Case, args: MultiDict) -> list[str]:
    """Fill a new booking form from the case and from ``?start=&venue=&room=&co_facilitator=`` (the slot finder)."""
    problems: list[str] = []
    form.lead_facilitator.data = case.lead_facilitator.public_id if case.lead_facilitator else None
    form.kind.data = args.get("kind") or MeetingKind.CONFERENCE.value
    form.format.data = args.get("format") or MeetingFormat.FACE_TO_FACE.value
    form.parties.data = (
        [p.public_id for p in case.parties if p.role in (PartyRole.VICTIM, PartyRole.OFFENDER)]
        if form.kind.data == MeetingKind.CONFERENCE
        else []
    )
    form.duration_minutes.data = 90
    for name in ("duration", "duration_minutes"):
        if args.get(name, "").isdigit():
            form.duration_minutes.data = int(args[name])
    if args.get("start"):
        try:
            local = to_london(parse_local_datetime(args["start"]))
            form.day.data = local.date()
            form.start_time.data = local.strftime("%H:%M")
        except LocalTimeInvalid as error:
            problems.append(str(error))
    for name, field in (
        ("venue", form.venue),
        ("room", form.room),
        ("co_facilitator", form.co_facilitator),
        ("lead_facilitator", form.lead_facilitator),
        ("victim_waiting_room", form.victim_waiting_room),
        ("offender_waiting_room", form.offender_waiting_room),
    ):
        if args.get(name):
            field.data = args[name]
    if args.getlist("parties"):
        form.parties.data = args.getlist("parties")
    if args.get("series"):
        form.series.data = args["series"]
        form.format.data = MeetingFormat.SHUTTLE.value
    return problems


def _fill_from_meeting(form: BookingForm, meeting: Meeting) -> None:
    draft = services.draft_from_meeting(meeting)
    form.kind.data = draft.kind
    form.format.data = draft.format
    form.parties.data = [p.party.public_id for p in draft.parties]
    if draft.starts_at and draft.ends_at:
        form.day.data = london_day(draft.starts_at)
        form.start_time.data = to_london(draft.starts_at).strftime("%H:%M")
        form.duration_minutes.data = int((draft.ends_at - draft.starts_at).total_seconds() // 60)
    form.letter_due_on.data = draft.letter_due_on
    form.lead_facilitator.data = draft.lead_facilitator.public_id if draft.lead_facilitator else None
    form.co_facilitator.data = draft.co_facilitator.public_id if draft.co_facilitator else ""
    form.venue.data = draft.venue.public_id if draft.venue else ""
    form.room.data = draft.room.public_id if draft.room else ""
    for plan in draft.parties:
        if plan.party.role == PartyRole.VICTIM and plan.waiting_room:
            form.victim_waiting_room.data = plan.waiting_room.public_id
        if plan.party.role == PartyRole.OFFENDER and plan.waiting_room:
            form.offender_waiting_room.data = plan.waiting_room.public_id
    form.video_link.data = draft.video_link
    form.observers.data = "\n".join(draft.observers)
    form.notes.data = draft.notes


def _draft_from_form(form: BookingForm, case: Case) -> tuple[MeetingDraft | None, list[str]]:
    """The draft the form describes, or the problems that stop it being read (unknown choices, times)."""
    service_id = case.service_id
    problems: list[str] = []

    def user(public_id: str | None) -> User | None:
        if not public_id:
            return None
        found = queries.staff_member(db.session, service_id, public_id)
        if found is None:
            problems.append("Choose a facilitator from the list.")
        return found

    def room(public_id: str | None) -> Room | None:
        if not public_id:
            return None
        found = queries.room_by_public_id(db.session, service_id, public_id)
        if found is None:
            problems.append("Choose a room from the list.")
        return found

    venue = None
    if form.venue.data:
        venue = queries.venue_by_public_id(db.session, service_id, form.venue.data)
        if venue is None:
            problems.append("Choose a venue from the list.")
    parties_by_id = {p.public_id: p for p in case.parties}
    chosen = [parties_by_id[pid] for pid in (form.parties.data or []) if pid in parties_by_id]
    victim_room, offender_room = room(form.victim_waiting_room.data), room(form.offender_waiting_room.data)
    starts_at = ends_at = None
    arrival: dict[str, dt.datetime | None] = {}
    if form.format.data != MeetingFormat.LETTER:
        if form.day.data is None or form.start_time.time is None or form.duration_minutes.data is None:
            problems.append("Enter the date, start time and length of the meeting.")
        else:
            try:
                starts_at = local_to_utc(form.day.data, form.start_time.time)
                ends_at = starts_at + dt.timedelta(minutes=form.duration_minutes.data)
                for name in ("offender_arrives", "victim_arrives", "victim_leaves", "offender_leaves"):
                    value = form[name].time
                    arrival[name] = local_to_utc(form.day.data, value) if value else None
            except LocalTimeInvalid as error:
                form.start_time.errors = [*form.start_time.errors, str(error)]
                problems.append(str(error))
    plans = []
    for party in chosen:
        side = side_of(party)
        if side == PartyRole.VICTIM:
            plans.append(
                PartyPlan(party, victim_room, arrival.get("victim_arrives"), arrival.get("victim_leaves"))
            )
        elif side == PartyRole.OFFENDER:
            plans.append(
                PartyPlan(
                    party, offender_room, arrival.get("offender_arrives"), arrival.get("offender_leaves")
                )
            )
        else:
            plans.append(PartyPlan(party))
    lead, co = user(form.lead_facilitator.data), user(form.co_facilitator.data)
    if problems:
        return None, problems
    draft = MeetingDraft(
        case=case,
        kind=form.kind.data or "",
        format=form.format.data or "",
        parties=plans,
        lead_facilitator=lead,
        co_facilitator=co,
        starts_at=starts_at,
        ends_at=ends_at,
        venue=venue,
        room=room(form.room.data),
        video_link=form.video_link.data,
        letter_due_on=form.letter_due_on.data,
        observers=[line.strip()[:200] for line in (form.observers.data or "").splitlines() if line.strip()],
        notes=(form.notes.data or "").strip() or None,
    )
    return draft, []


_ANCHORS = (
    ("waiting room", "victim_waiting_room"),
    ("co-facilitator", "co_facilitator"),
    ("two facilitators", "co_facilitator"),
    ("joining link", "video_link"),
    ("letter", "letter_due_on"),
    ("meeting room", "room"),
    ("holds", "room"),
    ("venue", "venue"),
    ("prison", "venue"),
    ("arrive", "offender_arrives"),
    ("leave", "offender_leaves"),
    ("date, start time", "day"),
    ("bank holiday", "day"),
    ("start", "start_time"),
    ("end", "duration_minutes"),
    ("longer than zero", "duration_minutes"),
)


def _summary(refusals: list[str], form: BookingForm) -> list[dict[str, str]]:
    """Every refusal for the error summary, each linked to the field it is most about."""
    items = []
    for reason in refusals:
        lowered = reason.lower()
        name = next((field for word, field in _ANCHORS if word in lowered), "kind")
        items.append({"text": reason, "href": f"#{form[name].id}"})
    return items


def _render_booking(template: str, status: int, **context):
    form = context["form"]
    refusals = context.get("refusals") or []
    context["refusal_items"] = _summary(refusals, form)
    context["settings"] = queries.settings_for(db.session, context["case"].service_id)
    return render_template(template, **context), status


@bp.route("/cases/<case_ref>/meetings/new", methods=["GET", "POST"])
@requires(Permission.BOOK_MEETING)
def book(case_ref: str):
    """The booking form: a plain form the slot finder can pre-fill through the URL."""
    case = _load_case(case_ref)
    form = BookingForm()
    _choices(form, case)
    if request.method == "GET":
        problems = _prefill(form, case, request.args)
        _case_viewed(case, "book_meeting")
        return _render_booking("conferences/book.html", 200, case=case, form=form, refusals=problems)
    refusals: list[str] = []
    if form.validate_on_submit():
        draft, refusals = _draft_from_form(form, case)
        series_of = None
        if form.series.data:
            series_of = queries.meeting_by_public_id(db.session, case.service_id, form.series.data)
            if series_of is None or series_of.case_id != case.id:
                draft, refusals = (
                    None,
                    [*refusals, "The shuttle series was not found: book from its meeting page."],
                )
        if draft is not None:
            try:
                meeting = services.book_meeting(draft, actor=current_user, at=now(), series_of=series_of)
            except BookingRefused as refused:
                refusals = refused.reasons
            else:
                flash(f"{meeting.title} booked.", "success")
                return redirect(url_for("conferences.meeting", meeting_public_id=meeting.public_id))
    return _render_booking("conferences/book.html", 400, case=case, form=form, refusals=refusals)


# --- the meeting page and its changes ----------------------------------------------------------------


@bp.get("/meetings/<meeting_public_id>")
@requires(Permission.VIEW_CASE)
def meeting(meeting_public_id: str):
    meeting = _load_meeting(meeting_public_id)
    _meeting_viewed(meeting, "meeting")
    at = now()
    attention = (
        readiness_refusals_for_meeting(meeting, at)
        if meeting.status == MeetingStatus.BOOKED and (meeting.starts_at is None or meeting.starts_at > at)
        else []
    )
    outcome = meeting.outcome
    return render_template(
        "conferences/meeting.html",
        meeting=meeting,
        case=meeting.case,
        attention=attention,
        outcome=outcome,
        open_items=list(queries.open_agreement_items(db.session, meeting.case)),
        settings=queries.settings_for(db.session, meeting.service_id),
        can_record=can(current_user, Permission.RECORD_OUTCOME),
        can_book=can(current_user, Permission.BOOK_MEETING),
        started=meeting.starts_at is None or meeting.starts_at <= at,
        confirm_form=ConfirmForm(),
        series_meetings=[
            m
            for m in queries.meetings_for_case(db.session, meeting.case)
            if meeting.series_id and m.series_id == meeting.series_id
        ],
    )


@bp.route("/meetings/<meeting_public_id>/reschedule", methods=["GET", "POST"])
@requires(Permission.BOOK_MEETING)
def reschedule(meeting_public_id: str):
    """Move a meeting: same identity, a new sequence number, every booking rule checked again."""
    meeting = _load_meeting(meeting_public_id)
    case = meeting.case
    form = RescheduleForm()
    _choices(form, case)
    if request.method == "GET":
        _fill_from_meeting(form, meeting)
        _meeting_viewed(meeting, "reschedule")
        return _render_booking("conferences/reschedule.html", 200, case=case, meeting=meeting, form=form)
    refusals: list[str] = []
    if form.validate_on_submit():
        draft, refusals = _draft_from_form(form, case)
        if draft is not None:
            try:
                services.reschedule_meeting(
                    meeting, draft, reason=form.reason.data, actor=current_user, at=now()
                )
            except (BookingRefused, ChangeRefused) as refused:
                refusals = refused.reasons
            else:
                flash(f"{meeting.title} moved.", "success")
                return redirect(url_for("conferences.meeting", meeting_public_id=meeting.public_id))
    return _render_booking(
        "conferences/reschedule.html", 400, case=case, meeting=meeting, form=form, refusals=refusals
    )


_CHANGES = {
    "cancel": ("Cancel the meeting", "Why is it cancelled?", services.cancel_meeting, "cancelled"),
    "postpone": ("Postpone the meeting", "Why is it postponed?", services.postpone_meeting, "postponed"),
}


def _change(meeting_public_id: str, what: str):
    meeting = _load_meeting(meeting_public_id)
    title, label, action, done = _CHANGES[what]
    form = ReasonForm()
    form.reason.label.text = label
    form.submit.label.text = title
    if request.method == "GET":
        _meeting_viewed(meeting, what)
        return render_template(
            "conferences/change.html", meeting=meeting, case=meeting.case, form=form, title=title
        )
    if form.validate_on_submit():
        try:
            action(meeting, reason=form.reason.data, actor=current_user, at=now())
        except ChangeRefused as refused:
            form.reason.errors = [*form.reason.errors, *refused.reasons]
        else:
            flash(f"{meeting.title} {done}.", "success")
            return redirect(url_for("conferences.meeting", meeting_public_id=meeting.public_id))
    return render_template(
        "conferences/change.html", meeting=meeting, case=meeting.case, form=form, title=title
    ), 400


@bp.route("/meetings/<meeting_public_id>/cancel", methods=["GET", "POST"])
@requires(Permission.BOOK_MEETING)
def cancel(meeting_public_id: str):
    return _change(meeting_public_id, "cancel")


@bp.route("/meetings/<meeting_public_id>/postpone", methods=["GET", "POST"])
@requires(Permission.BOOK_MEETING)
def postpone(meeting_public_id: str):
    return _change(meeting_public_id, "postpone")


# --- outcome and agreement ---------------------------------------------------------------------------


def _party_choices(meeting: Meeting) -> list[tuple[str, str]]:
    return [
        (a.party.public_id, f"{a.party.display_name} ({a.party.role_label.lower()})")
        for a in meeting.attendees
        if a.party is not None
    ]


@bp.route("/meetings/<meeting_public_id>/outcome", methods=["GET", "POST"])
@requires(Permission.RECORD_OUTCOME)
def outcome(meeting_public_id: str):
    """Record whether the conference was held, who came, and each party's satisfaction."""
    meeting = _load_meeting(meeting_public_id)
    choices = _party_choices(meeting)
    form = outcome_form(choices, request.form if request.method == "POST" else None)
    if request.method == "GET":
        _meeting_viewed(meeting, "outcome")
        return render_template(
            "conferences/outcome.html", meeting=meeting, case=meeting.case, form=form, choices=choices
        )
    if form.validate_on_submit():
        parties = {a.party.public_id: a.party for a in meeting.attendees if a.party is not None}
        satisfaction = {}
        for public_id, _name in choices:
            score = form[f"score_{public_id}"].data
            if score:
                satisfaction[parties[public_id].id] = (int(score), form[f"comments_{public_id}"].data)
        try:
            services.record_outcome(
                meeting,
                held=form.held.data == "yes",
                not_held_reason=form.not_held_reason.data,
                attended_party_ids={parties[p].id for p in (form.attended.data or []) if p in parties},
                notes=form.notes.data,
                satisfaction=satisfaction,
                actor=current_user,
                at=now(),
            )
        except OutcomeRefused as refused:
            form.held.errors = [*form.held.errors, *refused.reasons]
        else:
            flash("Outcome saved.", "success")
            return redirect(url_for("conferences.meeting", meeting_public_id=meeting.public_id))
    return render_template(
        "conferences/outcome.html", meeting=meeting, case=meeting.case, form=form, choices=choices
    ), 400


@bp.route("/meetings/<meeting_public_id>/agreement/new", methods=["GET", "POST"])
@requires(Permission.RECORD_OUTCOME)
def add_agreement_item(meeting_public_id: str):
    """Add an action to the outcome agreement: what, who, by when, when to follow it up."""
    from rj_scheduler.cases.forms import as_choices

    meeting = _load_meeting(meeting_public_id)
    if meeting.outcome is None:
        abort(404)
    form = AgreementItemForm()
    form.party.choices = as_choices([("", "Someone else (say who in the details)"), *_party_choices(meeting)])
    if request.method == "GET":
        _meeting_viewed(meeting, "agreement")
        return render_template(
            "conferences/agreement_item.html", meeting=meeting, case=meeting.case, form=form
        )
    if form.validate_on_submit():
        party = next(
            (a.party for a in meeting.attendees if a.party and a.party.public_id == form.party.data), None
        )
        try:
            services.add_agreement_item(
                meeting.outcome,
                services.AgreementInput(
                    kind=form.kind.data,
                    description=form.description.data,
                    party=party,
                    due_on=form.due_on.data,
                    follow_up_on=form.follow_up_on.data,
                ),
                actor=current_user,
                at=now(),
            )
        except OutcomeRefused as refused:
            form.kind.errors = [*form.kind.errors, *refused.reasons]
        else:
            flash("Added to the outcome agreement.", "success")
            return redirect(url_for("conferences.meeting", meeting_public_id=meeting.public_id))
    return render_template(
        "conferences/agreement_item.html", meeting=meeting, case=meeting.case, form=form
    ), 400


@bp.post("/agreement-items/<item_public_id>/done")
@requires(Permission.RECORD_OUTCOME)
def agreement_item_done(item_public_id: str):
    item = queries.agreement_item_by_public_id(db.session, current_user.service_id, item_public_id)
    if item is None:
        abort(404)
    form = ConfirmForm()
    meeting = item.outcome.meeting
    if not form.validate_on_submit():
        abort(400)
    try:
        services.mark_agreement_item_done(item, actor=current_user, at=now())
    except OutcomeRefused as refused:
        flash(" ".join(refused.reasons), "error")
        return redirect(url_for("conferences.meeting", meeting_public_id=meeting.public_id)), 303
    flash(f"{item.kind_label} marked as done.", "success")
    return redirect(url_for("conferences.meeting", meeting_public_id=meeting.public_id))


@bp.route("/cases/<case_ref>/close-after-follow-up", methods=["GET", "POST"])
@requires(Permission.RECORD_OUTCOME)
def close_after_follow_up(case_ref: str):
    """Close the case as completed once every agreed action is done."""
    case = _load_case(case_ref)
    form = ConfirmForm()
    form.submit.label.text = "Close the case as completed"
    reasons: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.close_after_follow_up(case, actor=current_user, at=now())
        except OutcomeRefused as refused:
            reasons = refused.reasons
        else:
            flash("Case closed as completed.", "success")
            return redirect(url_for("cases.case_page", case_ref=case.reference))
    else:
        _case_viewed(case, "close_after_follow_up")
    items = list(queries.open_agreement_items(db.session, case))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "conferences/close.html", case=case, form=form, reasons=reasons, open_items=items
    ), status


# --- venues (managers) ----------------------------------------------------------------------------


@bp.get("/venues")
@requires(Permission.MANAGE_VENUES)
def venues():
    return render_template(
        "conferences/venues.html", venues=queries.venues(db.session, current_user.service_id)
    )


def _venue_input(form: VenueForm) -> services.VenueInput:
    return services.VenueInput(
        name=form.name.data or "",
        kind=form.kind.data or "",
        address=form.address.data or "",
        accessibility=form.accessibility.data,
        booking_notes=form.booking_notes.data,
        is_active=bool(form.is_active.data),
    )


@bp.route("/venues/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_VENUES)
def new_venue():
    form = VenueForm()
    if request.method == "GET":
        form.is_active.data = True
        return render_template("conferences/venue_form.html", form=form, venue=None)
    if form.validate_on_submit():
        try:
            venue = services.save_venue(
                current_user.service_id, _venue_input(form), actor=current_user, at=now()
            )
            services.set_opening_hours(
                venue, [(d, dt.time(9), dt.time(17)) for d in range(5)], actor=current_user, at=now()
            )
        except VenueInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash(
                "Venue added, open Monday to Friday 9am to 5pm: change the opening hours if needed.",
                "success",
            )
            return redirect(url_for("conferences.venue", venue_public_id=venue.public_id))
    return render_template("conferences/venue_form.html", form=form, venue=None), 400


@bp.get("/venues/<venue_public_id>")
@requires(Permission.MANAGE_VENUES)
def venue(venue_public_id: str):
    venue = _load_venue(venue_public_id)
    return render_template("conferences/venue.html", venue=venue, confirm_form=ConfirmForm())


@bp.route("/venues/<venue_public_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_VENUES)
def edit_venue(venue_public_id: str):
    venue = _load_venue(venue_public_id)
    form = VenueForm(obj=venue) if request.method == "GET" else VenueForm()
    if request.method == "GET":
        return render_template("conferences/venue_form.html", form=form, venue=venue)
    if form.validate_on_submit():
        try:
            services.save_venue(
                venue.service_id, _venue_input(form), venue=venue, actor=current_user, at=now()
            )
        except VenueInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Venue saved.", "success")
            return redirect(url_for("conferences.venue", venue_public_id=venue.public_id))
    return render_template("conferences/venue_form.html", form=form, venue=venue), 400


@bp.route("/venues/<venue_public_id>/hours", methods=["GET", "POST"])
@requires(Permission.MANAGE_VENUES)
def venue_hours(venue_public_id: str):
    venue = _load_venue(venue_public_id)
    rows = [(h.weekday, h.opens_at, h.closes_at) for h in venue.opening_hours]
    form = weekly_hours_form("open", rows, request.form if request.method == "POST" else None)
    if request.method == "GET":
        return render_template(
            "conferences/weekly_hours.html",
            form=form,
            title=f"Opening hours of {venue.name}",
            back=url_for("conferences.venue", venue_public_id=venue.public_id),
        )
    if form.validate_on_submit():
        hours, ok = weekly_hours(form)
        if ok:
            services.set_opening_hours(venue, hours, actor=current_user, at=now())
            flash("Opening hours saved.", "success")
            return redirect(url_for("conferences.venue", venue_public_id=venue.public_id))
    return render_template(
        "conferences/weekly_hours.html",
        form=form,
        title=f"Opening hours of {venue.name}",
        back=url_for("conferences.venue", venue_public_id=venue.public_id),
    ), 400


@bp.route("/venues/<venue_public_id>/rooms/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_VENUES)
def new_room(venue_public_id: str):
    from rj_scheduler.cases.forms import as_choices

    venue = _load_venue(venue_public_id)
    form = RoomForm()
    form.entrance.choices = as_choices([("", "Not given")] + [(e.public_id, e.name) for e in venue.entrances])
    if request.method == "GET":
        return render_template("conferences/room_form.html", form=form, venue=venue)
    if form.validate_on_submit():
        entrance = next((e for e in venue.entrances if e.public_id == form.entrance.data), None)
        try:
            services.add_room(
                venue,
                name=form.name.data,
                kind=form.kind.data,
                capacity=form.capacity.data,
                entrance=entrance,
                actor=current_user,
                at=now(),
            )
        except VenueInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Room added.", "success")
            return redirect(url_for("conferences.venue", venue_public_id=venue.public_id))
    return render_template("conferences/room_form.html", form=form, venue=venue), 400


@bp.post("/venues/<venue_public_id>/rooms/<room_public_id>/in-use")
@requires(Permission.MANAGE_VENUES)
def room_in_use(venue_public_id: str, room_public_id: str):
    """Stop using a room for new meetings, or use it again (meetings already booked keep it)."""
    venue = _load_venue(venue_public_id)
    room = queries.room_by_public_id(db.session, current_user.service_id, room_public_id)
    if room is None or room.venue_id != venue.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.set_room_active(room, not room.is_active, actor=current_user, at=now())
    flash(
        f"{room.name} is {'in use again' if room.is_active else 'no longer offered for new meetings'}.",
        "success",
    )
    return redirect(url_for("conferences.venue", venue_public_id=venue.public_id))


@bp.route("/venues/<venue_public_id>/entrances/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_VENUES)
def new_entrance(venue_public_id: str):
    venue = _load_venue(venue_public_id)
    form = EntranceForm()
    if request.method == "GET":
        return render_template("conferences/entrance_form.html", form=form, venue=venue)
    if form.validate_on_submit():
        try:
            services.add_entrance(
                venue,
                name=form.name.data,
                directions=form.directions.data,
                parking=form.parking.data,
                actor=current_user,
                at=now(),
            )
        except VenueInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Entrance added.", "success")
            return redirect(url_for("conferences.venue", venue_public_id=venue.public_id))
    return render_template("conferences/entrance_form.html", form=form, venue=venue), 400


@bp.route("/conference-settings", methods=["GET", "POST"])
@requires(Permission.MANAGE_CONFERENCE_SETTINGS)
def settings():
    current = queries.settings_for(db.session, current_user.service_id)
    form = SettingsForm(obj=current) if request.method == "GET" else SettingsForm()
    if request.method == "GET":
        return render_template("conferences/settings.html", form=form)
    if form.validate_on_submit():
        try:
            services.update_settings(
                current_user.service_id,
                victim_arrives_before_start_minutes=form.victim_arrives_before_start_minutes.data,
                offender_arrives_before_victim_minutes=form.offender_arrives_before_victim_minutes.data,
                victim_leaves_before_offender_minutes=form.victim_leaves_before_offender_minutes.data,
                buffer_minutes=form.buffer_minutes.data,
                actor=current_user,
                at=now(),
            )
        except SettingsInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Conference settings saved.", "success")
            return redirect(url_for("conferences.venues"))
    return render_template("conferences/settings.html", form=form), 400


# --- staff availability (own, or anyone's for managers) ---------------------------------------------


def _availability_urls(user: User) -> dict[str, str]:
    if user.id == current_user.id:
        return {
            "page": url_for("conferences.my_availability"),
            "hours": url_for("conferences.my_working_hours"),
            "leave": url_for("conferences.my_leave"),
        }
    return {
        "page": url_for("conferences.staff_availability", user_public_id=user.public_id),
        "hours": url_for("conferences.staff_working_hours", user_public_id=user.public_id),
        "leave": url_for("conferences.staff_leave", user_public_id=user.public_id),
    }


def _staff(user_public_id: str) -> User:
    user = queries.staff_member(db.session, current_user.service_id, user_public_id)
    if user is None:
        abort(404)
    return user


def _availability_page(user: User):
    today = london_day(now())
    return render_template(
        "conferences/availability.html",
        person=user,
        pattern=queries.working_hours_or_default(db.session, user.id),
        recorded=bool(queries.working_hours(db.session, user.id)),
        leave=queries.leave(db.session, user.id, from_day=today),
        urls=_availability_urls(user),
        remove_form=ConfirmForm(),
        can_manage_team=can(current_user, Permission.MANAGE_TEAM_AVAILABILITY),
    )


def _working_hours_page(user: User):
    rows = queries.working_hours_or_default(db.session, user.id)
    form = weekly_hours_form("working", rows, request.form if request.method == "POST" else None)
    urls = _availability_urls(user)
    title = f"Working hours of {user.full_name}" if user.id != current_user.id else "Your working hours"
    if request.method == "POST" and form.validate_on_submit():
        hours, ok = weekly_hours(form)
        if ok:
            try:
                services.set_working_hours(user, hours, actor=current_user, at=now())
            except AvailabilityInvalid as refused:
                _apply_errors(form, refused.errors)
            else:
                flash("Working hours saved.", "success")
                return redirect(urls["page"])
    status = 400 if request.method == "POST" else 200
    return render_template("conferences/weekly_hours.html", form=form, title=title, back=urls["page"]), status


def _leave_page(user: User):
    form = DatesForm()
    urls = _availability_urls(user)
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.add_leave(
                user,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data or form.starts_on.data,
                note=form.note.data,
                actor=current_user,
                at=now(),
            )
        except AvailabilityInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Leave added.", "success")
            return redirect(urls["page"])
    status = 400 if request.method == "POST" else 200
    title = "Add leave" + (f" for {user.full_name}" if user.id != current_user.id else "")
    return render_template(
        "conferences/dates_form.html", form=form, title=title, back=urls["page"], case=None
    ), status


@bp.get("/availability")
@requires(Permission.MANAGE_OWN_AVAILABILITY)
def my_availability():
    return _availability_page(current_user)


@bp.route("/availability/hours", methods=["GET", "POST"])
@requires(Permission.MANAGE_OWN_AVAILABILITY)
def my_working_hours():
    return _working_hours_page(current_user)


@bp.route("/availability/leave", methods=["GET", "POST"])
@requires(Permission.MANAGE_OWN_AVAILABILITY)
def my_leave():
    return _leave_page(current_user)


@bp.get("/availability/team")
@requires(Permission.MANAGE_TEAM_AVAILABILITY)
def team_availability():
    """Managers: everyone in the service, with a link to each person's working hours and leave."""
    today = london_day(now())
    staff = list(queries.staff(db.session, current_user.service_id))
    on_leave = {row.user_id for row in queries.leave_on_day(db.session, current_user.service_id, today)}
    return render_template("conferences/team_availability.html", staff=staff, on_leave=on_leave)


@bp.get("/staff/<user_public_id>/availability")
@requires(Permission.MANAGE_TEAM_AVAILABILITY)
def staff_availability(user_public_id: str):
    return _availability_page(_staff(user_public_id))


@bp.route("/staff/<user_public_id>/availability/hours", methods=["GET", "POST"])
@requires(Permission.MANAGE_TEAM_AVAILABILITY)
def staff_working_hours(user_public_id: str):
    return _working_hours_page(_staff(user_public_id))


@bp.route("/staff/<user_public_id>/availability/leave", methods=["GET", "POST"])
@requires(Permission.MANAGE_TEAM_AVAILABILITY)
def staff_leave(user_public_id: str):
    return _leave_page(_staff(user_public_id))


@bp.post("/leave/<leave_public_id>/remove")
@requires(Permission.MANAGE_OWN_AVAILABILITY)
def remove_leave(leave_public_id: str):
    row = queries.leave_by_public_id(db.session, current_user.service_id, leave_public_id)
    if row is None:
        abort(404)
    if row.user_id != current_user.id and not can(current_user, Permission.MANAGE_TEAM_AVAILABILITY):
        abort(403)
    user = row.user
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_leave(row, actor=current_user, at=now())
    flash("Leave removed.", "success")
    return redirect(_availability_urls(user)["page"])


# --- a party's unavailable dates -------------------------------------------------------------------


def _load_party(case_ref: str, party_public_id: str) -> tuple[Case, Party]:
    case = _load_case(case_ref)
    party = case_queries.party_in_case(case, party_public_id)
    if party is None:
        abort(404)
    return case, party


@bp.route("/cases/<case_ref>/parties/<party_public_id>/availability", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def party_availability(case_ref: str, party_public_id: str):
    """The days a party cannot attend (no meeting is booked for them then)."""
    case, party = _load_party(case_ref, party_public_id)
    form = DatesForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.add_party_unavailability(
                party,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                note=form.note.data,
                actor=current_user,
                at=now(),
            )
        except AvailabilityInvalid as refused:
            _apply_errors(form, refused.errors)
        else:
            flash("Dates added.", "success")
            return redirect(request.path)
    elif request.method == "GET":
        audit.record(
            "party.viewed",
            object_type="party",
            object_id=party.public_id,
            service_id=party.service_id,
            details={"case": case.reference, "page": "availability"},
        )
    status = 400 if request.method == "POST" else 200
    return render_template(
        "conferences/party_availability.html",
        case=case,
        party=party,
        form=form,
        dates=queries.party_unavailability(db.session, party.id),
        preferred=queries.preferred_times(db.session, party.id),
        remove_form=ConfirmForm(),
    ), status


@bp.post("/cases/<case_ref>/parties/<party_public_id>/availability/<unavailability_public_id>/remove")
@requires(Permission.EDIT_CASE)
def remove_party_unavailability(case_ref: str, party_public_id: str, unavailability_public_id: str):
    case, party = _load_party(case_ref, party_public_id)
    row = queries.unavailability_by_public_id(db.session, current_user.service_id, unavailability_public_id)
    if row is None or row.party_id != party.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_party_unavailability(row, party, actor=current_user, at=now())
    flash("Dates removed.", "success")
    return redirect(
        url_for("conferences.party_availability", case_ref=case.reference, party_public_id=party.public_id)
    )


@bp.route("/cases/<case_ref>/parties/<party_public_id>/preferred-times", methods=["GET", "POST"])
@requires(Permission.EDIT_CASE)
def party_preferred_times(case_ref: str, party_public_id: str):
    """The weekly times a party prefers for meetings (a preference, not a rule)."""
    case, party = _load_party(case_ref, party_public_id)
    rows = [(t.weekday, t.starts_at, t.ends_at) for t in queries.preferred_times(db.session, party.id)]
    form = weekly_hours_form("preferred", rows, request.form if request.method == "POST" else None)
    back = url_for("conferences.party_availability", case_ref=case.reference, party_public_id=party.public_id)
    if request.method == "POST" and form.validate_on_submit():
        times, ok = weekly_hours(form)
        if ok:
            services.set_preferred_times(party, times, actor=current_user, at=now())
            flash("Preferred times saved.", "success")
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    title = f"Times {party.display_name} prefers"
    return render_template("conferences/weekly_hours.html", form=form, title=title, back=back), status
