"""Forms of the assessment pages, with GOV.UK widgets. A questionnaire page's form is built from its data.

Field checks only: which answers a question accepts, whether a rationale is
needed, and every other rule live in ``rj_scheduler.risk.services``.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from rj_scheduler.risk.levels import RiskLevel
from rj_scheduler.risk.questionnaires import Page, Question

FIELD_PREFIX = "q_"


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


YES_NO_PAIRS = (("yes", "Yes"), ("no", "No"))


def field_name(question_id: str) -> str:
    return f"{FIELD_PREFIX}{question_id}"


def _question_field(question: Question):
    label = question.text if question.required else f"{question.text} (optional)"
    description = question.help or ""
    if question.type == "free_text":
        return TextAreaField(label, description=description, widget=GovTextArea(), validators=[Optional()])
    if question.type == "yes_no":
        choices = list(YES_NO_PAIRS)
    elif question.type == "choice":
        choices = list(question.choices)
    else:
        low, high = question.scale_min, question.scale_max
        choices = [(str(n), str(n)) for n in range(low, high + 1)]
        if question.scale_labels:
            choices[0] = (str(low), f"{low}: {question.scale_labels[0]}")
            choices[-1] = (str(high), f"{high}: {question.scale_labels[1]}")
    return RadioField(
        label,
        choices=_choices(choices),
        description=description,
        widget=GovRadioInput(),
        validators=[Optional()],
    )


def page_form(page: Page, answers: dict[str, str], formdata=None) -> FlaskForm:
    """The form of one questionnaire page, filled with the saved answers (none required: drafts save as you go)."""
    attrs = {field_name(q.id): _question_field(q) for q in page.questions}
    attrs["save"] = SubmitField("Save and continue", widget=GovSubmitInput())
    form_class = type("QuestionPageForm", (FlaskForm,), attrs)
    data = {field_name(q.id): answers.get(q.id) for q in page.questions}
    if formdata is None:
        return form_class(data=data)
    return form_class(formdata=formdata)


def inline_radios(question: Question) -> bool:
    return question.type in ("yes_no", "scale")


class LevelForm(FlaskForm):
    final_level = RadioField(
        "What is the final risk level?",
        choices=_choices((level.value, level.label) for level in RiskLevel),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select the final risk level")],
    )
    rationale = TextAreaField(
        "Rationale",
        description="Required when the final level differs from the indicative level.",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=5000, message="The rationale must be 5000 characters or fewer")],
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class SuitabilityLevelForm(LevelForm):
    suitable = RadioField(
        "Are they suitable for a restorative meeting?",
        description="A person who caused harm and does not acknowledge it is not ready for a meeting.",
        choices=_choices(YES_NO_PAIRS),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select whether they are suitable for a restorative meeting")],
    )


class MitigationForm(FlaskForm):
    description = TextAreaField(
        "What will be done",
        widget=GovTextArea(),
        validators=[InputRequired(message="Describe the mitigation"), Length(max=2000)],
    )
    owner = StringField(
        "Who will make sure it happens",
        description='A person or an organisation, for example "Lead facilitator" or "Probation officer".',
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter who will make sure it happens"), Length(max=200)],
    )
    before_conference = RadioField(
        "Must it be done before the conference?",
        choices=_choices(YES_NO_PAIRS),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select whether it must be done before the conference")],
    )
    submit = SubmitField("Add mitigation", widget=GovSubmitInput())


class ReviewForm(FlaskForm):
    decision = RadioField(
        "Your decision",
        choices=_choices([("approved", "Approve"), ("returned", "Return to the author with comments")]),
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select whether to approve or return the assessment")],
    )
    comments = TextAreaField(
        "Comments",
        description="Required when you return it: say what needs to change.",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=5000, message="Comments must be 5000 characters or fewer")],
    )
    content_hash = HiddenField()
    version_number = HiddenField()
    submit = SubmitField("Record decision", widget=GovSubmitInput())


class RiskSettingsForm(FlaskForm):
    approval_valid_days = StringField(
        "How many days does a sign-off stay valid?",
        description="After this many days the assessment must be reviewed and signed off again. The default is 90.",
        widget=GovTextInput(),
        validators=[InputRequired(message="Enter the number of days")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (start, submit, new version, mark done)."""

    submit = SubmitField("Continue", widget=GovSubmitInput())
