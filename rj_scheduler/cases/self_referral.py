"""The public self-referral page: a victim asks for restorative justice themselves.

No sign-in: the address names the service (``/self-referral/<service code>``).
Few questions, in plain English. The referral lands flagged for a
supervisor's triage (``create_referral`` does that for the self-referral
source). The form is rate-limited per address, and a honeypot field that
people never see discards a bot's submission while showing the same
thank-you page. The thank-you page never repeats what was typed.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput, GovSubmitInput, GovTextInput
from sqlalchemy import func, select
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import Service
from rj_scheduler.auth.policy import public
from rj_scheduler.cases.exceptions import ReferralInvalid
from rj_scheduler.cases.models import (
    Case,
    ConsentKind,
    ConsentMethod,
    JusticeStage,
    OffenceCategory,
    ReferralSource,
)
from rj_scheduler.cases.services import (
    PartyInput,
    create_referral,
    first_contact_target,
    record_consent,
    set_contact_preferences,
)
from rj_scheduler.db import now
from rj_scheduler.extensions import db, limiter

bp = Blueprint("self_referral", __name__, url_prefix="/self-referral")

DEFAULT_RATE_LIMIT = "5 per hour"
HONEYPOT_FIELD = "website"

# What happened, in the words a victim might use; "" is "I'd rather not say" (filed as "other").
WHAT_HAPPENED = [
    (OffenceCategory.VIOLENCE.value, "Someone attacked or assaulted me"),
    (OffenceCategory.HARASSMENT.value, "Someone harassed or stalked me"),
    (OffenceCategory.PUBLIC_ORDER.value, "Someone threatened or abused me in public"),
    (OffenceCategory.CRIMINAL_DAMAGE.value, "Someone damaged my property"),
    (OffenceCategory.BURGLARY.value, "Someone broke into my home or another building"),
    (OffenceCategory.ROBBERY.value, "Someone took something from me by force or threats"),
    (OffenceCategory.THEFT.value, "Someone stole from me"),
    (OffenceCategory.FRAUD.value, "Someone cheated me out of money or property (fraud)"),
    (OffenceCategory.SEXUAL.value, "A sexual offence"),
    (OffenceCategory.DOMESTIC_ABUSE.value, "Domestic abuse, by a partner, ex-partner or family member"),
    (OffenceCategory.HATE_CRIME.value, "A hate crime, because of who I am"),
    (OffenceCategory.OTHER.value, "Something else"),
    ("not_saying", "I'd rather not say"),
]

# When it is safe to contact them, as weekly windows in UK time (weekday 0 is Monday).
SAFE_TIMES: dict[str, tuple[str, list[tuple[int, dt.time, dt.time]]]] = {
    "weekday_mornings": (
        "Weekday mornings (9am to 12pm)",
        [(d, dt.time(9), dt.time(12)) for d in range(5)],
    ),
    "weekday_afternoons": (
        "Weekday afternoons (12pm to 5pm)",
        [(d, dt.time(12), dt.time(17)) for d in range(5)],
    ),
    "weekday_evenings": (
        "Weekday evenings (5pm to 8pm)",
        [(d, dt.time(17), dt.time(20)) for d in range(5)],
    ),
    "weekends": ("Weekends (10am to 4pm)", [(d, dt.time(10), dt.time(16)) for d in (5, 6)]),
}


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class SelfReferralForm(FlaskForm):
    full_name = StringField(
        "Your name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter your name"),
            Length(max=200, message="Your name must be 200 characters or fewer"),
        ],
    )
    contact_methods = SelectMultipleField(
        "How can we contact you?",
        description="Select all that are safe for you.",
        choices=_choices([("phone", "Phone call"), ("sms", "Text message"), ("email", "Email")]),
        widget=GovCheckboxesInput(),
        validators=[InputRequired(message="Select at least one way we can contact you")],
    )
    mobile = StringField(
        "Mobile phone number",
        description="If you chose phone call or text message. For example, 07700 900 982.",
        widget=GovTextInput(),
        validators=[Length(max=40, message="Enter a mobile phone number, like 07700 900 982")],
    )
    email = StringField(
        "Email address",
        description="If you chose email.",
        widget=GovTextInput(),
        validators=[Length(max=320, message="Enter an email address, like name@example.org")],
    )
    safe_times = SelectMultipleField(
        "When is it safe to contact you?",
        description="Select all that apply. Leave them all empty if any time is safe.",
        choices=_choices([(value, label) for value, (label, _windows) in SAFE_TIMES.items()]),
        widget=GovCheckboxesInput(),
        validators=[Optional()],
    )
    voicemail = RadioField(
        "Can we leave you a voicemail?",
        choices=_choices([("yes", "Yes"), ("no", "No")]),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select yes if we can leave you a voicemail")],
    )
    wording = RadioField(
        "Could someone else see your messages?",
        choices=_choices(
            [
                (
                    "discreet",
                    "Yes, or I'm not sure: only say the messages are from us, not what they are about",
                ),
                ("plain", "No: you can say what the messages are about"),
            ]
        ),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select whether someone else could see your messages")],
    )
    what_happened = RadioField(
        "What happened? (optional)",
        description="You do not have to tell us now.",
        choices=_choices(WHAT_HAPPENED),
        widget=GovRadioInput(),
        validators=[Optional()],
    )
    crime_reference = StringField(
        "Crime reference number (optional)",
        description="If you reported what happened to the police, they may have given you one.",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=60, message="Crime reference must be 60 characters or fewer")],
    )
    # The honeypot: hidden from people by CSS, never focused, not read out. Only a bot fills it in.
    website = StringField("Leave this empty", validators=[Optional()])
    submit = SubmitField("Send", widget=GovSubmitInput())

    def validate_mobile(self, field: StringField) -> None:
        methods = set(self.contact_methods.data or [])
        if methods & {"phone", "sms"} and not (field.data or "").strip():
            raise ValidationError(
                "Enter your mobile phone number, because you chose phone call or text message"
            )

    def validate_email(self, field: StringField) -> None:
        if "email" in (self.contact_methods.data or []) and not (field.data or "").strip():
            raise ValidationError("Enter your email address, because you chose email")


def _service(service_code: str) -> Service:
    service = db.session.scalar(select(Service).where(func.upper(Service.code) == service_code.upper()[:10]))
    if service is None:
        abort(404)
    return service


def submit_self_referral(service: Service, form: SelfReferralForm, *, at: dt.datetime) -> Case:
    """File a victim's own request as a self-referral awaiting triage, with the contact they said is safe.

    Asking us to contact them is their consent to be contacted, by the
    channels they chose (recorded as given online). The justice stage is not
    asked; it is filed as pre-charge and the summary tells the supervisor to
    check it at triage.
    """
    methods = set(form.contact_methods.data or [])
    what = form.what_happened.data or ""
    offence = what if what in {o.value for o in OffenceCategory} else OffenceCategory.OTHER.value
    victim = PartyInput(
        role="victim",
        full_name=form.full_name.data or "",
        mobile=(form.mobile.data or "").strip() or None if methods & {"phone", "sms"} else None,
        email=(form.email.data or "").strip() or None if "email" in methods else None,
        allow_sms="sms" in methods,
        allow_email="email" in methods,
        allow_voicemail=form.voicemail.data == "yes",
        wording=form.wording.data or "discreet",
    )
    case = create_referral(
        service,
        source=ReferralSource.SELF_REFERRAL.value,
        offence_category=offence,
        offence_date=None,
        crime_reference=form.crime_reference.data,
        justice_stage=JusticeStage.PRE_CHARGE.value,
        received_at=at,
        summary=(
            "Sent by the victim through the public self-referral page. The justice stage was not asked: "
            "check it at triage."
            + (" They chose not to say what happened." if what == "not_saying" or not what else "")
        ),
        parties=[victim],
        actor=None,
    )
    party = case.parties[0]
    record_consent(
        party, ConsentKind.CONTACT.value, given=True, at=at, method=ConsentMethod.ONLINE.value, actor=None
    )
    for method, kind in (("sms", ConsentKind.SMS), ("email", ConsentKind.EMAIL)):
        if method in methods:
            record_consent(
                party, kind.value, given=True, at=at, method=ConsentMethod.ONLINE.value, actor=None
            )
    windows = [window for choice in form.safe_times.data or [] for window in SAFE_TIMES[choice][1]]
    if windows:
        set_contact_preferences(
            party,
            allow_sms=victim.allow_sms,
            allow_email=victim.allow_email,
            allow_voicemail=victim.allow_voicemail,
            wording=victim.wording,
            windows=windows,
            do_not_contact_before=None,
            actor=None,
            at=at,
        )
    return case


_FIELD_OF = {
    "parties[0].full_name": "full_name",
    "parties[0].mobile": "mobile",
    "parties[0].email": "email",
    "crime_reference": "crime_reference",
}


@bp.route("/<service_code>", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config.get("RJ_SELF_REFERRAL_RATE_LIMIT", DEFAULT_RATE_LIMIT),
    methods=["POST"],
    scope="self-referral",
)
@public
def start(service_code: str):
    """Ask for restorative justice: a few questions, then the referral waits for a supervisor's triage."""
    service = _service(service_code)
    form = SelfReferralForm()
    if form.is_submitted() and (form.website.data or "").strip():
        # A person never sees the honeypot: discard quietly and answer as if it worked.
        audit.record(
            "self_referral.discarded",
            object_type="service",
            service_id=service.id,
            outcome="refused",
            details={"reason": "honeypot filled in"},
        )
        return redirect(url_for("self_referral.sent", service_code=service.code))
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("self_referral/start.html", service=service, form=form), status
    try:
        submit_self_referral(service, form, at=now())
    except ReferralInvalid as refused:
        for name, message in refused.errors.items():
            field = form[_FIELD_OF.get(name, "full_name")]
            field.errors = [*field.errors, message]
        return render_template("self_referral/start.html", service=service, form=form), 400
    return redirect(url_for("self_referral.sent", service_code=service.code))


@bp.get("/<service_code>/sent")
@public
def sent(service_code: str):
    """What happens next. The same page whatever was sent, so it repeats nothing that was typed."""
    service = _service(service_code)
    return render_template(
        "self_referral/sent.html",
        service=service,
        working_days=first_contact_target(False),
        working_days_enhanced=first_contact_target(True),
    )
