"""Forms of the conferences pages, with GOV.UK widgets. Field checks only; the rules live in ``booking``/``services``."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from rj_scheduler.cases.forms import GovDateField, as_choices
from rj_scheduler.conferences.models import AgreementItemKind, MeetingFormat, MeetingKind, RoomKind, VenueKind
from rj_scheduler.conferences.times import WEEKDAY_NAMES


def parse_time(text: str | None) -> dt.time | None:
    """A wall-clock time typed as 9:30, 09:30, 14:00 or 14 (None if blank or not a time)."""
    text = (text or "").strip().lower().replace(".", ":")
    if not text:
        return None
    for fmt in ("%H:%M", "%H", "%I:%M%p", "%I%p"):
        try:
            return dt.datetime.strptime(text, fmt).time()  # noqa: DTZ007  (a wall-clock time, no date)
        except ValueError:
            continue
    return None


def _time_check(message: str):
    def check(form, field) -> None:
        if (field.data or "").strip() and parse_time(field.data) is None:
            raise ValidationError(message)

    return check


class TimeField(StringField):
    """A 24-hour clock time typed as text (09:30)."""

    def __init__(
        self, label: str, *, required: str | None = None, hint: str = "For example, 09:30 or 14:00", **kwargs
    ):
        validators = [InputRequired(message=required)] if required else [Optional()]
        validators.append(_time_check(f"{label} must be a time, like 09:30 or 14:00"))
        kwargs.setdefault("description", hint)
        kwargs.setdefault("widget", GovTextInput())
        super().__init__(label, validators=validators, **kwargs)

    @property
    def time(self) -> dt.time | None:
        return parse_time(self.data)


class BookingForm(FlaskForm):
    """What the facilitator chooses to book a meeting (the slot finder pre-fills it through the URL)."""

    kind = RadioField(
        "What kind of meeting is it?",
        choices=as_choices(MeetingKind.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose whether this is a preparation meeting or a conference")],
    )
    format = RadioField(
        "How does it happen?",
        choices=as_choices(MeetingFormat.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose how the meeting happens")],
    )
    parties = SelectMultipleField(
        "Who from the case attends?",
        choices=[],
        widget=GovCheckboxesInput(),
        validators=[InputRequired(message="Choose who from the case attends")],
        description="A preparation meeting is with one person (and their supporter or interpreter).",
    )
    day = GovDateField("Date", description="For example, 27 3 2027")
    start_time = TimeField("Start time (UK time)")
    duration_minutes = IntegerField(
        "Length in minutes",
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=600, message="Enter a length from 0 to 600 minutes")],
        description="For example, 90",
    )
    letter_due_on = GovDateField(
        "Letter due by", description="Only for a letter of explanation. For example, 14 12 2026"
    )
    lead_facilitator = SelectField("Lead facilitator", choices=[], widget=GovSelect(), validate_choice=False)
    co_facilitator = SelectField(
        "Co-facilitator",
        choices=[],
        widget=GovSelect(),
        validate_choice=False,
        description="A face to face conference needs two.",
    )
    venue = SelectField(
        "Venue",
        choices=[],
        widget=GovSelect(),
        validate_choice=False,
        description="Not needed for video meetings.",
    )
    room = SelectField("Meeting room", choices=[], widget=GovSelect(), validate_choice=False)
    victim_waiting_room = SelectField(
        "Victim's waiting room",
        choices=[],
        widget=GovSelect(),
        validate_choice=False,
        description="Face to face conference only. Their supporters wait with them.",
    )
    offender_waiting_room = SelectField(
        "Offender's waiting room",
        choices=[],
        widget=GovSelect(),
        validate_choice=False,
        description="Must differ from the victim's.",
    )
    offender_arrives = TimeField("Offender arrives at", hint="Leave blank to use the service's usual times.")
    victim_arrives = TimeField("Victim arrives at", hint="Leave blank to use the service's usual times.")
    victim_leaves = TimeField("Victim leaves at", hint="Leave blank: the victim leaves first, at the end.")
    offender_leaves = TimeField("Offender leaves at", hint="Leave blank to use the service's usual times.")
    video_link = StringField(
        "Video joining link",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=500)],
        description="Video meetings only. It starts with https://",
    )
    observers = TextAreaField(
        "Observers (optional)",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=2000)],
        description="One name per line, for example a trainee facilitator.",
    )
    # The shuttle meeting this one continues (a series of separate meetings with each side).
    series = HiddenField()
    notes = TextAreaField(
        "Notes for staff (optional)", widget=GovTextArea(), validators=[Optional(), Length(max=4000)]
    )
    submit = SubmitField("Book the meeting", widget=GovSubmitInput())


class RescheduleForm(BookingForm):
    reason = TextAreaField(
        "Why is it moving?",
        widget=GovTextArea(),
        validators=[InputRequired(message="Give the reason for moving the meeting"), Length(max=2000)],
    )
    submit = SubmitField("Move the meeting", widget=GovSubmitInput())


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", widget=GovTextArea(), validators=[Length(max=2000)])
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class VenueForm(FlaskForm):
    name = StringField(
        "Name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the venue's name"), Length(max=200)],
    )
    kind = RadioField(
        "Kind of venue",
        choices=as_choices(VenueKind.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose what kind of venue this is")],
    )
    address = TextAreaField(
        "Address",
        widget=GovTextArea(),
        validators=[InputRequired(message="Enter the venue's address"), Length(max=1000)],
    )
    accessibility = TextAreaField(
        "Accessibility",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=2000)],
        description="Step-free access, hearing loop, accessible toilets.",
    )
    booking_notes = TextAreaField(
        "Booking notes",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=4000)],
        description="Prisons: how to book an official visit, security checks, what visitors may bring.",
    )
    is_active = BooleanField("Use this venue for new meetings", widget=GovCheckboxInput(), default=True)
    submit = SubmitField("Save venue", widget=GovSubmitInput())


def weekly_hours_form(
    prefix_label: str, rows: list[tuple[int, dt.time, dt.time]], formdata=None
) -> FlaskForm:
    """A form with a from/until pair for each weekday, filled with ``rows`` (one window per day)."""
    attrs: dict[str, object] = {}
    for index, name in enumerate(WEEKDAY_NAMES):
        attrs[f"from_{index}"] = TimeField(
            f"{name}: {prefix_label} from", hint="Leave both blank if not at all."
        )
        attrs[f"until_{index}"] = TimeField(f"{name}: until", hint="")
    attrs["submit"] = SubmitField("Save", widget=GovSubmitInput())
    form_class = type("WeeklyHoursForm", (FlaskForm,), attrs)
    data = {}
    for weekday, starts, ends in rows:
        data.setdefault(f"from_{weekday}", starts.strftime("%H:%M"))
        data.setdefault(f"until_{weekday}", ends.strftime("%H:%M"))
    return form_class(formdata=formdata, data=data) if formdata is not None else form_class(data=data)


def weekly_hours(form) -> tuple[list[tuple[int, dt.time, dt.time]], bool]:
    """The (weekday, from, until) rows of a weekly hours form; False when a day has only one of the pair."""
    rows, ok = [], True
    for index in range(7):
        starts, ends = form[f"from_{index}"], form[f"until_{index}"]
        if starts.time and ends.time:
            if starts.time >= ends.time:
                ends.errors = [*ends.errors, f"{WEEKDAY_NAMES[index]}: the finish must be after the start"]
                ok = False
            else:
                rows.append((index, starts.time, ends.time))
        elif starts.time or ends.time:
            ends.errors = [*ends.errors, f"{WEEKDAY_NAMES[index]}: enter both times, or neither"]
            ok = False
    return rows, ok


class RoomForm(FlaskForm):
    name = StringField(
        "Room name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the room's name"), Length(max=200)],
    )
    kind = RadioField(
        "Kind of room",
        choices=as_choices(RoomKind.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose whether this is a meeting room or a waiting room")],
    )
    capacity = IntegerField(
        "How many people it holds",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter how many people the room holds"),
            NumberRange(min=1, max=500, message="Enter a number from 1 to 500"),
        ],
    )
    entrance = SelectField("Nearest entrance", choices=[], widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Add room", widget=GovSubmitInput())


class EntranceForm(FlaskForm):
    name = StringField(
        "Entrance name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the entrance's name"), Length(max=200)],
        description="For example, Side door on Mill Lane.",
    )
    directions = TextAreaField("Directions", widget=GovTextArea(), validators=[Optional(), Length(max=2000)])
    parking = TextAreaField("Parking", widget=GovTextArea(), validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Add entrance", widget=GovSubmitInput())


class DatesForm(FlaskForm):
    starts_on = GovDateField("First day", required_message="Enter the first day")
    ends_on = GovDateField("Last day", description="Leave blank for a single day.")
    note = StringField("Note (optional)", widget=GovTextInput(), validators=[Optional(), Length(max=200)])
    submit = SubmitField("Add", widget=GovSubmitInput())


class SettingsForm(FlaskForm):
    victim_arrives_before_start_minutes = IntegerField(
        "Minutes the victim arrives before the start", widget=GovTextInput(), validators=[Optional()]
    )
    offender_arrives_before_victim_minutes = IntegerField(
        "Minutes the offender arrives before the victim", widget=GovTextInput(), validators=[Optional()]
    )
    victim_leaves_before_offender_minutes = IntegerField(
        "Minutes the victim leaves before the offender", widget=GovTextInput(), validators=[Optional()]
    )
    buffer_minutes = IntegerField(
        "Minutes between meetings for the same person or room", widget=GovTextInput(), validators=[Optional()]
    )
    submit = SubmitField("Save settings", widget=GovSubmitInput())


class OutcomeForm(FlaskForm):
    held = RadioField(
        "Was the conference held?",
        choices=as_choices([("yes", "Yes"), ("no", "No")]),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Say whether the conference was held")],
    )
    not_held_reason = TextAreaField(
        "If not, why not?", widget=GovTextArea(), validators=[Optional(), Length(max=2000)]
    )
    attended = SelectMultipleField("Who came?", choices=[], widget=GovCheckboxesInput())
    notes = TextAreaField("Notes (optional)", widget=GovTextArea(), validators=[Optional(), Length(max=4000)])
    submit = SubmitField("Save outcome", widget=GovSubmitInput())


def outcome_form(party_choices: list[tuple[str, str]], formdata=None) -> OutcomeForm:
    """The outcome form with a satisfaction score and comments field for each party."""
    attrs: dict[str, object] = {}
    for public_id, name in party_choices:
        attrs[f"score_{public_id}"] = RadioField(
            f"{name}: how satisfied were they? (optional)",
            choices=as_choices([(str(n), str(n)) for n in range(1, 6)]),
            widget=GovRadioInput(),
            validators=[Optional()],
            description="1 is very dissatisfied, 5 is very satisfied.",
        )
        attrs[f"comments_{public_id}"] = TextAreaField(
            f"{name}: their comments (optional)",
            widget=GovTextArea(),
            validators=[Optional(), Length(max=2000)],
        )
    form_class = type("PartyOutcomeForm", (OutcomeForm,), attrs)
    form = form_class(formdata=formdata) if formdata is not None else form_class()
    form.attended.choices = as_choices(party_choices)
    return form


class AgreementItemForm(FlaskForm):
    kind = RadioField(
        "What was agreed?",
        choices=as_choices(AgreementItemKind.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose what kind of action this is")],
    )
    description = TextAreaField(
        "Details",
        widget=GovTextArea(),
        validators=[InputRequired(message="Describe what was agreed"), Length(max=2000)],
    )
    party = SelectField("Who does it?", choices=[], widget=GovSelect(), validate_choice=False)
    due_on = GovDateField("By when", description="For example, 31 1 2027")
    follow_up_on = GovDateField(
        "Follow up on", description="Shows on your dashboard on this day. Leave blank to use the due date."
    )
    submit = SubmitField("Add to the agreement", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())
