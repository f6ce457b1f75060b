"""Pages of the slot finder and the calendars: "Find a slot" for a case, the week views, the calendar feed.

The slot finder's page is a GET form (nothing changes until the facilitator
books); each slot links to the booking form, pre-filled through its URL, where
every rule is checked again. The calendar feed is reached without signing in:
its secret token is the key, and it carries no participant's details.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovTextInput
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import IntegerField, RadioField, SelectField
from wtforms.validators import InputRequired, NumberRange

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import User
from rj_scheduler.auth.policy import Permission, public, requires
from rj_scheduler.cases import queries as case_queries
from rj_scheduler.cases.forms import GovDateField, as_choices
from rj_scheduler.cases.models import Case, PartyRole
from rj_scheduler.conferences import feeds
from rj_scheduler.conferences.models import AttendeeRole, Meeting, MeetingAttendee
from rj_scheduler.conferences.slots import (
    SlotRequest,
    attending_parties,
    find_slots,
    load_snapshot,
)
from rj_scheduler.conferences.times import clock
from rj_scheduler.db import now
from rj_scheduler.extensions import db, limiter
from rj_scheduler.templating import LONDON, add_nav_item

bp = Blueprint("calendar", __name__)

add_nav_item("Calendar", "calendar.week", Permission.VIEW_OWN_CALENDAR)


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"clock": clock}


DEFAULT_WINDOW = dt.timedelta(weeks=6)
FEED_RATE_LIMIT = "120 per hour"
MEETING_TYPES = [
    ("conference:face_to_face", "Conference: face to face"),
    ("conference:video", "Conference: video"),
    ("conference:prison", "Conference: in prison"),
    ("conference:shuttle", "Indirect: shuttle meeting"),
    ("preparation:face_to_face", "Preparation meeting: face to face"),
    ("preparation:video", "Preparation meeting: video"),
    ("preparation:prison", "Preparation meeting: in prison"),
]


class SlotSearchForm(FlaskForm):
    """What to look for: a GET form, so a search can be bookmarked and changes nothing."""

    class Meta:
        csrf = False

    meeting_type = RadioField(
        "What kind of meeting?",
        choices=as_choices(MEETING_TYPES),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose the kind of meeting")],
    )
    party = SelectField(
        "Who is it with?",
        choices=[],
        widget=GovSelect(),
        validate_choice=False,  # checked against the case's parties in ``validate``
        description="Only for a preparation meeting or a shuttle meeting, which are with one side.",
    )
    duration = IntegerField(
        "Length in minutes",
        widget=GovTextInput(),
        default=90,
        validators=[
            InputRequired(message="Enter the length of the meeting in minutes, like 90"),
            NumberRange(min=15, max=480, message="Enter a length from 15 to 480 minutes"),
        ],
        description="For example, 90",
    )
    first_day = GovDateField("From", description="Leave blank to start today.")
    last_day = GovDateField("Until", description="Leave blank to search six weeks.")

    def validate(self, extra_validators=None) -> bool:  # type: ignore[override]
        ok = super().validate(extra_validators)
        kind = (self.meeting_type.data or "").split(":")[0]
        one_side = kind == "preparation" or self.meeting_type.data == "conference:shuttle"
        known = {str(choice.value) for choice in self.party.choices if getattr(choice, "value", "")}
        if self.party.data and self.party.data not in known:
            self.party.errors = [*self.party.errors, "Choose a victim or an offender of this case"]
            ok = False
        elif one_side and not self.party.data:
            self.party.errors = [*self.party.errors, "Choose who the meeting is with"]
            ok = False
        if self.first_day.data and self.last_day.data and self.last_day.data < self.first_day.data:
            self.last_day.errors = [*self.last_day.errors, "The last day must be on or after the first day"]
            ok = False
        if (
            self.first_day.data
            and self.last_day.data
            and (self.last_day.data - self.first_day.data).days > 92
        ):
            self.last_day.errors = [*self.last_day.errors, "Search at most three months at a time"]
            ok = False
        return ok


def _today() -> dt.date:
    return now().astimezone(LONDON).date()


def _load_case(case_ref: str) -> Case:
    case = case_queries.case_by_reference(db.session, current_user.service_id, case_ref)
    if case is None:
        abort(404)
    return case


def _book_url(case: Case, request_: SlotRequest, slot, loaded, parties) -> str:
    """The booking form's address, pre-filled with the slot (``conferences.book`` reads these parameters)."""
    plans = {p.side: p for p in slot.parties}
    args: dict[str, object] = {
        "kind": request_.kind,
        "format": request_.format,
        "duration": int(request_.duration.total_seconds() // 60),
        "start": slot.starts_at.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M"),
        "lead_facilitator": loaded.user_public_ids[slot.lead_facilitator_id],
        "parties": [p.public_id for p in parties],
    }
    if slot.co_facilitator_id:
        args["co_facilitator"] = loaded.user_public_ids[slot.co_facilitator_id]
    if slot.venue_id:
        args["venue"] = loaded.venue_public_ids[slot.venue_id]
    if slot.room_id:
        args["room"] = loaded.room_public_ids[slot.room_id]
    for side in ("victim", "offender"):
        plan = plans.get(side)
        if plan is not None and plan.waiting_room_id:
            args[f"{side}_waiting_room"] = loaded.room_public_ids[plan.waiting_room_id]
    return url_for("conferences.book", case_ref=case.reference, **args)


@bp.get("/cases/<case_ref>/find-a-slot")
@requires(Permission.BOOK_MEETING)
def find_a_slot(case_ref: str):
    """Find the best few slots for a meeting of this case; each links to the pre-filled booking form."""
    case = _load_case(case_ref)
    form = SlotSearchForm(formdata=request.args if request.args else None)
    main_parties = [p for p in case.parties if p.role in (PartyRole.VICTIM, PartyRole.OFFENDER)]
    form.party.choices = as_choices(
        [("", "Choose a person")]
        + [(p.public_id, f"{p.display_name} ({p.role_label.lower()})") for p in main_parties]
    )
    audit.record(
        "case.slots_viewed", object_type="case", object_id=case.reference, service_id=case.service_id
    )
    context: dict[str, object] = {"case": case, "form": form, "searched": False}
    if not request.args:
        return render_template("conferences/slots_find.html", **context)
    if not form.validate():
        return render_template("conferences/slots_find.html", **context), 400
    kind, format_ = form.meeting_type.data.split(":")
    party = next((p for p in main_parties if p.public_id == form.party.data), None)
    at = now()
    first_day = form.first_day.data or _today()
    last_day = form.last_day.data or first_day + DEFAULT_WINDOW
    slot_request = SlotRequest(
        kind=kind,
        format=format_,
        duration=dt.timedelta(minutes=form.duration.data),
        first_day=first_day,
        last_day=last_day,
        not_before=at,
    )
    parties = attending_parties(
        case, kind, format_, party if kind == "preparation" or format_ == "shuttle" else None
    )
    loaded = load_snapshot(db.session, case, slot_request, at, parties)
    result = find_slots(slot_request, loaded.snapshot)
    audit.record(
        "case.slots_searched",
        object_type="case",
        object_id=case.reference,
        service_id=case.service_id,
        details={"meeting_type": form.meeting_type.data, "slots": len(result.slots)},
    )
    context.update(
        searched=True,
        result=result,
        first_day=first_day,
        last_day=last_day,
        type_label=dict(MEETING_TYPES)[form.meeting_type.data],
        book_urls=[_book_url(case, slot_request, slot, loaded, parties) for slot in result.slots],
    )
    return render_template("conferences/slots_find.html", **context)


# --- week views --------------------------------------------------------------------------------------


def _week_start() -> dt.date:
    """The Monday of the week asked for (``?week=2026-11-23``), or of this week."""
    today = _today()
    text = request.args.get("week", "")
    try:
        day = dt.date.fromisoformat(text) if text else today
    except ValueError:
        day = today
    return day - dt.timedelta(days=day.weekday())


def _week_bounds(monday: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=LONDON).astimezone(dt.UTC)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=LONDON).astimezone(dt.UTC)
    return start, end


def _days(monday: dt.date, meetings) -> list[tuple[dt.date, list[Meeting]]]:
    by_day: dict[dt.date, list[Meeting]] = {monday + dt.timedelta(days=n): [] for n in range(7)}
    for meeting in meetings:
        day = meeting.starts_at.astimezone(LONDON).date()
        if day in by_day:
            by_day[day].append(meeting)
    return list(by_day.items())


def _week_links(endpoint: str, monday: dt.date, **args: str) -> dict[str, str]:
    return {
        "previous": url_for(endpoint, week=(monday - dt.timedelta(days=7)).isoformat(), **args),
        "next": url_for(endpoint, week=(monday + dt.timedelta(days=7)).isoformat(), **args),
        "this": url_for(endpoint, **args),
    }


@bp.get("/calendar")
@requires(Permission.VIEW_OWN_CALENDAR)
def week():
    """The signed-in staff member's meetings this week (or ``?week=``), one row per day."""
    monday = _week_start()
    start, end = _week_bounds(monday)
    meetings = feeds.facilitated_meetings(db.session, current_user, start, end)
    audit.record(
        "calendar.week_viewed",
        object_type="user",
        object_id=current_user.public_id,
        details={"week": monday.isoformat(), "meetings": len(meetings)},
    )
    return render_template(
        "conferences/calendar_week.html",
        monday=monday,
        days=_days(monday, meetings),
        links=_week_links("calendar.week", monday),
        today=_today(),
    )


@bp.get("/calendar/team")
@requires(Permission.VIEW_TEAM_CALENDAR)
def team():
    """Every meeting of the service this week (or ``?week=``), one row per day; ``?facilitator=`` narrows it."""
    monday = _week_start()
    start, end = _week_bounds(monday)
    staff = db.session.scalars(
        select(User)
        .where(User.service_id == current_user.service_id, User.is_active_account.is_(True))
        .order_by(User.full_name)
    ).all()
    chosen = next((u for u in staff if u.public_id == request.args.get("facilitator")), None)
    query = (
        select(Meeting)
        .where(
            Meeting.service_id == current_user.service_id, Meeting.starts_at >= start, Meeting.starts_at < end
        )
        .options(
            selectinload(Meeting.case),
            selectinload(Meeting.venue),
            selectinload(Meeting.room),
            selectinload(Meeting.attendees).selectinload(MeetingAttendee.user),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if chosen is not None:
        query = query.where(
            Meeting.id.in_(
                select(MeetingAttendee.meeting_id).where(
                    MeetingAttendee.user_id == chosen.id,
                    MeetingAttendee.role.in_(
                        [AttendeeRole.LEAD_FACILITATOR.value, AttendeeRole.CO_FACILITATOR.value]
                    ),
                )
            )
        )
    meetings = db.session.scalars(query).all()
    audit.record(
        "calendar.team_viewed",
        object_type="service",
        object_id=current_user.service_id,
        details={"week": monday.isoformat(), "meetings": len(meetings)},
    )
    facilitator_args = {"facilitator": chosen.public_id} if chosen else {}
    return render_template(
        "conferences/calendar_team.html",
        monday=monday,
        days=_days(monday, meetings),
        links=_week_links("calendar.team", monday, **facilitator_args),
        staff=staff,
        chosen=chosen,
        today=_today(),
        facilitator_roles=(AttendeeRole.LEAD_FACILITATOR.value, AttendeeRole.CO_FACILITATOR.value),
    )


# --- the personal calendar feed --------------------------------------------------------------------------


def _subscription_page(token: str | None = None, status: int = 200):
    feed = feeds.active_feed(db.session, current_user)
    feed_url = url_for("calendar.feed", token=token, _external=True) if token else None
    return render_template("conferences/feed_subscription.html", feed=feed, feed_url=feed_url), status


@bp.get("/calendar/subscription")
@requires(Permission.MANAGE_CALENDAR_FEED)
def subscription():
    """Whether the staff member has a calendar subscription address, with buttons to create or stop one."""
    return _subscription_page()


@bp.post("/calendar/subscription/new")
@requires(Permission.MANAGE_CALENDAR_FEED)
def create_subscription():
    """A new secret address, shown once on this page (the old one stops working)."""
    _feed, token = feeds.create_feed(current_user, at=now())
    audit.record("calendar_feed.created", object_type="user", object_id=current_user.public_id)
    return _subscription_page(token)


@bp.post("/calendar/subscription/revoke")
@requires(Permission.MANAGE_CALENDAR_FEED)
def revoke_subscription():
    """Stop the subscription address: calendars that use it get nothing more."""
    revoked = feeds.revoke_feed(current_user, at=now())
    audit.record(
        "calendar_feed.revoked",
        object_type="user",
        object_id=current_user.public_id,
        outcome="ok" if revoked else "refused",
    )
    return _subscription_page()


@bp.get("/calendar/feed/<token>.ics")
@limiter.limit(
    lambda: current_app.config.get("RJ_CALENDAR_FEED_RATE_LIMIT", FEED_RATE_LIMIT), scope="calendar-feed"
)
@public
def feed(token: str):
    """The staff member's meetings as ``text/calendar``; a wrong or revoked token answers 404."""
    subscription = feeds.feed_for_token(db.session, token)
    if subscription is None:
        audit.record("calendar_feed.refused", object_type="calendar_feed", outcome="refused")
        abort(404)
    at = now()
    user = subscription.user
    meetings = feeds.feed_meetings(db.session, user, at)
    subscription.last_used_at = at
    audit.record(
        "calendar_feed.read",
        object_type="user",
        object_id=user.public_id,
        service_id=user.service_id,
        actor_user_id=user.id,
        details={"meetings": len(meetings)},
    )
    body = feeds.build_feed(user, meetings, at, request.host.split(":")[0])
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="rj-meetings.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
