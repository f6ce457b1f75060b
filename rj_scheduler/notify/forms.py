"""Forms of the messaging pages: the wording editor and the small action buttons."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional


class WordingForm(FlaskForm):
    subject = StringField("Subject", widget=GovTextInput(), validators=[Optional(), Length(max=300)])
    body = TextAreaField(
        "Message",
        widget=GovTextArea(),
        validators=[InputRequired(message="Enter the wording of the message"), Length(max=5000)],
    )
    preview = SubmitField("Preview", widget=GovSubmitInput())
    save = SubmitField("Save wording", widget=GovSubmitInput())


class ActionForm(FlaskForm):
    """A button that posts (CSRF-protected) with no fields."""

    submit = SubmitField("Done", widget=GovSubmitInput())
