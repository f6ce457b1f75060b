"""Forms of the cases pages, with GOV.UK widgets. Field checks only; the rules live in ``services``."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from rj_scheduler.cases.models import (
    AgeBand,
    ClosureReason,
    ConsentKind,
    ConsentMethod,
    ContactMethod,
    JusticeStage,
    OffenceCategory,
    PartyRole,
    ReferralSource,
    Wording,
)
from rj_scheduler.cases.services import EQUALITY_OPTIONS

LANGUAGES = [
    ("en", "English"),
    ("cy", "Welsh"),
    ("ar", "Arabic"),
    ("bn", "Bengali"),
    ("bfi", "British Sign Language"),
    ("bg", "Bulgarian"),
    ("zh", "Chinese"),
    ("fa", "Persian (Farsi)"),
    ("fr", "French"),
    ("gu", "Gujarati"),
    ("hi", "Hindi"),
    ("it", "Italian"),
    ("ku", "Kurdish"),
    ("lt", "Lithuanian"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("pa", "Punjabi"),
    ("ro", "Romanian"),
    ("so", "Somali"),
    ("es", "Spanish"),
    ("ta", "Tamil"),
    ("ti", "Tigrinya"),
    ("tr", "Turkish"),
    ("uk", "Ukrainian"),
    ("ur", "Urdu"),
]
LANGUAGE_NAMES = dict(LANGUAGES)
WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]


class GovDateField(DateField):
    """A GOV.UK date input (day, month, year) whose error says which date is wrong."""

    def __init__(self, label: str, *, required_message: str | None = None, **kwargs) -> None:
        validators = [InputRequired(message=required_message)] if required_message else [Optional()]
        super().__init__(label, format="%d %m %Y", widget=GovDateInput(), validators=validators, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        if self.raw_data is not None and len(self.raw_data) != 3:
            # The widget shows day, month and year: keep three boxes whatever was posted.
            self.raw_data = [*list(self.raw_data)[:3], "", "", ""][:3]
        if len(valuelist) != 3 or not any(v.strip() for v in valuelist):
            self.data = None
            return
        parts = [v.strip() for v in valuelist]
        try:
            day, month, year = (int(p) for p in parts)
            if year < 1000:
                raise ValueError
            self.data = dt.date(year, month, day)
        except ValueError as error:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date, like 27 3 2026") from error


def _time(text: str | None) -> dt.time | None:
    text = (text or "").strip().replace(".", ":")
    if not text:
        return None
    for fmt in ("%H:%M", "%H"):
        try:
            return dt.datetime.strptime(text, fmt).time()  # noqa: DTZ007  (a wall-clock time, no date)
        except ValueError:
            continue
    return None


def as_choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def _blank(choices: list[tuple[str, str]], text: str = "Select") -> list[tuple[str, str]]:
    return [("", text), *choices]


class ReferralForm(FlaskForm):
    received_on = GovDateField(
        "Date the referral was received", required_message="Enter the date the referral was received"
    )
    source = SelectField(
        "Who referred the case?",
        choices=as_choices(_blank(ReferralSource.choices())),
        widget=GovSelect(),
        validators=[InputRequired(message="Select who referred the case")],
    )
    referrer_name = StringField(
        "Referrer's name (optional)", widget=GovTextInput(), validators=[Length(max=200)]
    )
    referrer_organisation = StringField(
        "Referrer's organisation (optional)", widget=GovTextInput(), validators=[Length(max=200)]
    )
    offence_category = SelectField(
        "Offence category",
        choices=as_choices(_blank(OffenceCategory.choices())),
        widget=GovSelect(),
        validators=[InputRequired(message="Select the offence category")],
    )
    offence_date = GovDateField("Date of the offence (optional)", description="For example, 27 3 2026")
    crime_reference = StringField(
        "Crime reference (optional)", widget=GovTextInput(), validators=[Length(max=60)]
    )
    flags = SelectMultipleField(
        "Does any of this apply?",
        description="Any of these makes the case sensitive: first contact is due within 1 working day.",
        choices=as_choices(
            [
                ("domestic_abuse", "Domestic abuse"),
                ("sexual_offence", "Sexual offence"),
                ("hate_crime", "Hate crime"),
            ]
        ),
        widget=GovCheckboxesInput(),
        validators=[Optional()],
    )
    justice_stage = RadioField(
        "Justice stage",
        choices=as_choices(JusticeStage.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select the justice stage")],
    )
    lead_facilitator = SelectField(
        "Lead facilitator", choices=[], widget=GovSelect(), validators=[Optional()]
    )
    summary = TextAreaField("What happened (optional)", widget=GovTextArea(), validators=[Length(max=5000)])
    victim_name = StringField(
        "Victim's full name",
        description="You can add their contact details and preferences after saving the referral.",
        widget=GovTextInput(),
        validators=[Length(max=200)],
    )
    offender_name = StringField(
        "Offender's full name (optional)", widget=GovTextInput(), validators=[Length(max=200)]
    )
    submit = SubmitField("Save referral", widget=GovSubmitInput())


class PartyForm(FlaskForm):
    role = RadioField(
        "Their role in the case",
        choices=as_choices(PartyRole.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select their role in the case")],
    )
    supports = SelectField(
        "Who do they support? (supporters only)", choices=[], widget=GovSelect(), validators=[Optional()]
    )
    organisation = StringField(
        "Organisation (interpreters and professionals)", widget=GovTextInput(), validators=[Length(max=200)]
    )
    full_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter their full name"), Length(max=200)],
    )
    preferred_name = StringField(
        "Preferred name (optional)", widget=GovTextInput(), validators=[Length(max=200)]
    )
    pronouns = StringField(
        "Pronouns (optional)",
        description="For example, she/her",
        widget=GovTextInput(),
        validators=[Length(max=60)],
    )
    date_of_birth = GovDateField("Date of birth (optional)", description="For example, 27 3 1985")
    age_band = SelectField(
        "Age band, if you do not know their date of birth",
        choices=as_choices(_blank(AgeBand.choices(), "Not known")),
        widget=GovSelect(),
        validators=[Optional()],
    )
    mobile = StringField(
        "Mobile phone number (optional)",
        description="For example, 07700 900 982",
        widget=GovTextInput(),
        validators=[Length(max=40)],
    )
    email = StringField("Email address (optional)", widget=GovTextInput(), validators=[Length(max=320)])
    address = TextAreaField("Postal address (optional)", widget=GovTextArea(), validators=[Length(max=1000)])
    guardian_name = StringField(
        "Parent or guardian's name",
        description="Needed when the person is under 18.",
        widget=GovTextInput(),
        validators=[Length(max=200)],
    )
    guardian_mobile = StringField(
        "Parent or guardian's mobile phone number", widget=GovTextInput(), validators=[Length(max=40)]
    )
    guardian_email = StringField(
        "Parent or guardian's email address", widget=GovTextInput(), validators=[Length(max=320)]
    )
    language = SelectField("Language", choices=as_choices(LANGUAGES), default="en", widget=GovSelect())
    interpreter_needed = BooleanField("They need an interpreter", widget=GovCheckboxInput())
    accessibility_needs = TextAreaField(
        "Accessibility needs (optional)", widget=GovTextArea(), validators=[Length(max=2000)]
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class ContactPreferencesForm(FlaskForm):
    channels = SelectMultipleField(
        "How may we contact them?",
        choices=as_choices([("sms", "SMS"), ("email", "Email"), ("voicemail", "Leave a voicemail")]),
        widget=GovCheckboxesInput(),
        validators=[Optional()],
    )
    wording = RadioField(
        "Wording of messages",
        choices=as_choices(Wording.choices()),
        default=Wording.DISCREET.value,
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select plain or discreet wording")],
    )
    days = SelectMultipleField(
        "Days when contact is safe",
        description="Leave all unticked if any time is safe.",
        choices=as_choices(WEEKDAYS),
        widget=GovCheckboxesInput(),
        validators=[Optional()],
    )
    safe_from = StringField(
        "Safe from",
        description="24-hour clock, for example 09:00",
        widget=GovTextInput(),
        validators=[Length(max=5)],
    )
    safe_until = StringField(
        "Safe until",
        description="24-hour clock, for example 12:00",
        widget=GovTextInput(),
        validators=[Length(max=5)],
    )
    do_not_contact_before = GovDateField(
        "Do not contact before (optional)", description="For example, 27 3 2026"
    )
    submit = SubmitField("Save preferences", widget=GovSubmitInput())

    def validate_safe_from(self, field: StringField) -> None:
        if self.days.data and _time(field.data) is None:
            raise ValidationError("Enter the time contact is safe from, like 09:00")

    def validate_safe_until(self, field: StringField) -> None:
        if self.days.data and _time(field.data) is None:
            raise ValidationError("Enter the time contact is safe until, like 12:00")

    def windows(self) -> list[tuple[int, dt.time, dt.time]]:
        starts, ends = _time(self.safe_from.data), _time(self.safe_until.data)
        if not self.days.data or starts is None or ends is None:
            return []
        return [(int(day), starts, ends) for day in self.days.data]


class ConsentForm(FlaskForm):
    kind = RadioField(
        "What is the consent for?",
        choices=as_choices(ConsentKind.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select what the consent is for")],
    )
    partner = StringField(
        "Partner the information may be shared with (sharing only)",
        widget=GovTextInput(),
        validators=[Length(max=200)],
    )
    decision = RadioField(
        "Decision",
        choices=as_choices([("given", "Consent given"), ("withdrawn", "Consent withdrawn")]),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select whether consent was given or withdrawn")],
    )
    decided_on = GovDateField("Date of the decision", required_message="Enter the date of the decision")
    method = RadioField(
        "How did they tell us?",
        choices=as_choices(
            [c for c in ConsentMethod.choices() if c[0] in {"phone", "in_person", "letter", "online"}]
        ),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select how they told us")],
    )
    submit = SubmitField("Record consent", widget=GovSubmitInput())


class FirstContactForm(FlaskForm):
    contacted_on = GovDateField("Date of first contact", required_message="Enter the date you made contact")
    method = RadioField(
        "How did you make contact?",
        choices=as_choices(ContactMethod.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select how you made contact")],
    )
    submit = SubmitField("Record first contact", widget=GovSubmitInput())


class ReofferForm(FlaskForm):
    reoffer_on = GovDateField(
        "Offer again on", required_message="Enter the date to offer restorative justice again"
    )
    reoffer_justice_stage = RadioField(
        "At which justice stage?",
        choices=as_choices(JusticeStage.choices()),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select the justice stage at which to offer again")],
    )
    submit = SubmitField("Save re-offer point", widget=GovSubmitInput())


class EqualityForm(FlaskForm):
    ethnicity = RadioField(
        "Ethnic group",
        choices=as_choices(EQUALITY_OPTIONS["ethnicity"]),
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    gender = RadioField(
        "Gender",
        choices=as_choices(EQUALITY_OPTIONS["gender"]),
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    age_band = RadioField(
        "Age band",
        choices=as_choices(EQUALITY_OPTIONS["age_band"]),
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    disability = RadioField(
        "Do they consider themselves disabled?",
        choices=as_choices(EQUALITY_OPTIONS["disability"]),
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    religion = RadioField(
        "Religion",
        choices=as_choices(EQUALITY_OPTIONS["religion"]),
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class StateForm(FlaskForm):
    target = RadioField(
        "Move the case to",
        choices=[],
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select where the case moves to")],
    )
    closure_reason = RadioField(
        "Reason for closing (only when closing the case)",
        choices=as_choices(ClosureReason.choices()),
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    submit = SubmitField("Move case", widget=GovSubmitInput())


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Add a note",
        widget=GovTextArea(),
        validators=[InputRequired(message="Enter the note"), Length(max=5000)],
    )
    submit = SubmitField("Add note", widget=GovSubmitInput())


class ReassignForm(FlaskForm):
    lead_facilitator = SelectField(
        "New lead facilitator",
        choices=[],
        widget=GovSelect(),
        validators=[InputRequired(message="Select the new lead facilitator")],
    )
    submit = SubmitField("Reassign case", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())
