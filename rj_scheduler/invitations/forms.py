"""Forms of the staff invitation pages: the manager's settings and the task button."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import IntegerField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional


class InvitationSettingsForm(FlaskForm):
    sender_name = StringField(
        "Sender name (optional)",
        description=(
            "How SMS, emails and calendar invites name the service, for example \u201cLLR Support Service\u201d. "
            "Someone else may read them: do not mention victims, offenders, crime or restorative justice. "
            "Leave it empty to use the service\u2019s own name where that is discreet."
        ),
        widget=GovTextInput(),
        validators=[Optional(), Length(max=100, message="The sender name must be 100 characters or fewer")],
    )
    reminders = StringField(
        "Reminders",
        description=(
            "Times before each person\u2019s arrival, with how to send each, separated by commas: d for days, "
            "h for hours, m for minutes, and email, sms or email+sms. For example: 3d:email+sms, 1d:email+sms, "
            "2h:sms. Reminders are sent earlier if that time is not safe for the person. Leave it empty for none."
        ),
        widget=GovTextInput(),
        validators=[Optional(), Length(max=200, message="The reminders must be 200 characters or fewer")],
    )
    link_valid_days = IntegerField(
        "Days a private link keeps working after the meeting",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter a number of days from 1 to 365")],
    )
    submit = SubmitField("Save invitation settings", widget=GovSubmitInput())


class TaskDoneForm(FlaskForm):
    """The "Mark as done" button of a task (CSRF-protected, no fields)."""

    submit = SubmitField("Mark as done", widget=GovSubmitInput())
