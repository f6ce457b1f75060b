"""The audit log's filter form (sent by GET, so it carries no CSRF token)."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSelect, GovTextInput
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError


class DayField(DateField):
    """A GOV.UK date input (day, month, year), optional; a partial or unreal date is an error."""

    widget = GovDateInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            self.raw_data = None  # the widget then shows empty boxes
            return
        if len(valuelist) != 3:
            self.raw_data = ["", "", ""]
            raise ValueError(f"{self.label.text} must include a day, month and year")
        day, month, year = (v.strip() for v in valuelist)
        if not (day or month or year):
            self.data = None
            return
        if not (day and month and year):
            raise ValueError(f"{self.label.text} must include a day, month and year")
        try:
            self.data = dt.date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"{self.label.text} must be a real date") from None


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    action = StringField(
        "Action",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=80, message="Action must be 80 characters or fewer"),
            Regexp(
                r"^[a-z0-9_.]+$",
                message="Action can only include lower case letters, numbers, dots and underscores",
            ),
        ],
    )
    staff_member = SelectField("Staff member", widget=GovSelect(), choices=[], validate_choice=False)
    object_type = StringField(
        "Object type",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=80, message="Object type must be 80 characters or fewer")],
    )
    object_id = StringField(
        "Object identifier",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=80, message="Object identifier must be 80 characters or fewer")],
    )
    date_from = DayField("From")
    date_to = DayField("To")

    def validate_staff_member(self, field: SelectField) -> None:
        if field.data and field.data not in {value for value, _label in field.choices}:
            raise ValidationError("Select a member of your service's staff from the list")

    def validate_date_to(self, field: DayField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("To must be the same as or after From")
