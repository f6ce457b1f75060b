"""Forms of the managers' API key pages. Field checks only; the rules live in ``services``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from rj_scheduler.api.models import API_SOURCES
from rj_scheduler.cases.models import ReferralSource


class ApiKeyForm(FlaskForm):
    partner_name = StringField(
        "Partner organisation",
        description="For example, Leicestershire Police Witness Care Unit. Staff see this name on the referrals it sends.",
        widget=GovTextInput(),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(message="Enter the name of the partner organisation"),
            Length(max=200, message="Partner name must be 200 characters or fewer"),
        ],
    )
    source = RadioField(
        "Who is the partner?",
        description="Every referral sent with this key is recorded as coming from them.",
        choices=[SelectChoice(value, ReferralSource.label_of(value)) for value in API_SOURCES],
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select who the partner is")],
    )
    submit = SubmitField("Create API key", widget=GovSubmitInput())


class RevokeForm(FlaskForm):
    submit = SubmitField("Revoke API key", widget=GovSubmitInput())
