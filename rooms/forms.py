"""Room reservation forms (single-field validation; the rules live in services)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from rooms.models import GROUP_KIND_LABELS, GroupKind

REQUIRED = _l("This field is required.")


class ReservationForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired(REQUIRED)])
    start = TimeField(_l("From"), validators=[DataRequired(REQUIRED)])
    end = TimeField(_l("Until"), validators=[DataRequired(REQUIRED)])
    purpose = StringField(_l("Purpose (what the room is for)"), validators=[DataRequired(REQUIRED), Length(max=200)])
    attendees = IntegerField(
        _l("Expected number of people"),
        validators=[DataRequired(REQUIRED), NumberRange(1, 100_000)],
        render_kw={"inputmode": "numeric"},
    )
    group_id = SelectField(_l("Group"), coerce=int, choices=[], validate_choice=False)
    group_name = StringField(_l("Name of a new group"), validators=[Length(max=100)])  # checked in validate_group_name
    group_kind = SelectField(_l("Kind of group"), choices=[(k.value, GROUP_KIND_LABELS[k]) for k in GroupKind])
    contact_name = StringField(
        _l("Contact person"), validators=[Optional(), Length(max=50)], render_kw={"autocomplete": "name"}
    )
    contact_phone = StringField(
        _l("Contact phone"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    repeat_weekly_until = DateField(_l("Repeat every week until (optional)"), validators=[Optional()])

    def validate_group_name(self, field) -> None:
        if not self.group_id.data and not (field.data or "").strip():
            raise ValidationError(_l("Give the new group's name, or choose one of your groups."))

    def validate_day(self, field) -> None:
        _plausible(field)

    def validate_repeat_weekly_until(self, field) -> None:
        _plausible(field)

    def group_data(self) -> dict:
        if self.group_id.data:
            return {"id": self.group_id.data}
        return {
            "name": self.group_name.data or "",
            "kind": self.group_kind.data,
            "contact_name": self.contact_name.data or "",
            "contact_phone": self.contact_phone.data or "",
        }


def _plausible(field) -> None:
    if field.data is not None and not 2000 <= field.data.year <= 2100:
        raise ValidationError(_l("Enter a date such as 2026-05-01."))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the group will read it)"), validators=[DataRequired(REQUIRED), Length(max=300)])


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=300)])


class BulkForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for rejecting (the group will read it)"), validators=[Optional(), Length(max=300)]
    )
