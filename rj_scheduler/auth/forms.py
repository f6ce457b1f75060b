"""Sign-in, two-factor, password and staff forms, with GOV.UK widgets.

Field checks only (present, format, length); the rules live in ``auth.services``.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from rj_scheduler.auth.models import Role

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in Role]


class LoginForm(FlaskForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter your email address"), Length(max=320)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your password"), Length(max=1024)],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    code = StringField(
        "Enter the 6-digit code from your authenticator app",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the code from your authenticator app"), Length(max=20)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password",
        description="Use 12 characters or more. Three random words make a good, memorable password.",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a new password"), Length(max=1024)],
    )
    submit = SubmitField("Save password and continue", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter your current password"), Length(max=1024)],
    )
    new_password = PasswordField(
        "New password",
        description="Use 12 characters or more. Three random words make a good, memorable password.",
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a new password"), Length(max=1024)],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class StaffForm(FlaskForm):
    """Name, role and training: the parts of a member of staff a manager can edit."""

    full_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[DataRequired(message="Enter their full name"), Length(max=200)],
    )
    role = RadioField(
        "Role",
        choices=ROLE_CHOICES,
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select a role")],
    )
    trained_for_sensitive_cases = BooleanField(
        "Trained for sensitive cases (domestic abuse, sexual offences, hate crime, under-18s)",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class NewStaffForm(StaffForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            DataRequired(message="Enter their email address"),
            Length(max=320),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=EMAIL_FORMAT),
        ],
    )
    password = PasswordField(
        "Temporary password",
        description=(
            "Use 12 characters or more. Give it to them in person or by phone; "
            "they choose their own password when they first sign in."
        ),
        widget=GovPasswordInput(),
        validators=[InputRequired(message="Enter a temporary password"), Length(max=1024)],
    )
    submit = SubmitField("Add member of staff", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A confirmation button for an action that is hard to undo."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


__all__ = [
    "ChangePasswordForm",
    "CodeForm",
    "ConfirmForm",
    "LoginForm",
    "NewPasswordForm",
    "NewStaffForm",
    "StaffForm",
]
