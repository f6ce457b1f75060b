"""The participant page's forms: field checks only (present, length); the rules are in invitations.services.

Labels and messages are lazy, so they are translated into the party's
language when the page is rendered (the view sets it first).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from rj_scheduler.i18n import _, lazy_gettext

NOTE_MAX = 1000
COMMENT_MAX = 2000


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class _TranslatedError:
    """GOV.UK's error message starts with a hidden "Error:" for screen readers: say it in their language."""

    def map_gov_params(self, field, **kwargs):  # type: ignore[no-untyped-def]
        params = super().map_gov_params(field, **kwargs)  # type: ignore[misc]
        if params.get("errorMessage"):
            params["errorMessage"]["visuallyHiddenText"] = _("Error")
        return params


class TextArea(_TranslatedError, GovTextArea):
    pass


class Radios(_TranslatedError, GovRadioInput):
    pass


class ChangeForm(FlaskForm):
    note = TextAreaField(
        lazy_gettext("Which days or times would suit you better?"),
        description=lazy_gettext("For example, weekday mornings, or any day next month."),
        widget=TextArea(),
        filters=[_strip],
        validators=[
            DataRequired(message=lazy_gettext("Tell us which days or times would suit you better")),
            Length(
                max=NOTE_MAX,
                message=lazy_gettext("Your message must be %(max)d characters or fewer", max=NOTE_MAX),
            ),
        ],
    )


SATISFACTION_CHOICES = [
    SelectChoice("5", lazy_gettext("Very satisfied")),
    SelectChoice("4", lazy_gettext("Satisfied")),
    SelectChoice("3", lazy_gettext("Neither satisfied nor dissatisfied")),
    SelectChoice("2", lazy_gettext("Dissatisfied")),
    SelectChoice("1", lazy_gettext("Very dissatisfied")),
]


class FeedbackForm(FlaskForm):
    score = RadioField(
        lazy_gettext("How satisfied were you with your appointment?"),
        choices=SATISFACTION_CHOICES,
        widget=Radios(),
        # WTForms' own choice check speaks English only: check the choice here instead.
        validate_choice=False,
        validators=[
            InputRequired(message=lazy_gettext("Choose how satisfied you were")),
            AnyOf(
                [choice.value for choice in SATISFACTION_CHOICES],
                message=lazy_gettext("Choose how satisfied you were"),
            ),
        ],
    )
    comment = TextAreaField(
        lazy_gettext("Is there anything else you want to tell us? (optional)"),
        widget=TextArea(),
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=COMMENT_MAX,
                message=lazy_gettext("Your comments must be %(max)d characters or fewer", max=COMMENT_MAX),
            ),
        ],
    )
