"""Activity and session forms (single-field validation; rules across objects live in the services)."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from activities.models import CATEGORY_LABELS, KIND_LABELS, POLICY_LABELS, QUOTA_LABELS
from core.i18n import network_tz

REQUIRED = _l("This field is required.")
WEEKDAY_CHOICES = [
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
]


def aware(value: datetime | None) -> datetime | None:
    """A local wall-clock value from a form, as an aware datetime in the network's zone."""
    return None if value is None else value.replace(tzinfo=network_tz())


class ActivityForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[(k.value, v) for k, v in KIND_LABELS.items()])
    venue_id = SelectField(_l("Venue"), coerce=int, choices=[])
    room_id = SelectField(_l("Room"), coerce=int, choices=[])
    place = StringField(_l("Place (if not a room)"), validators=[Optional(), Length(max=100)])
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=100)])
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Optional(), Length(max=20_000)])
    category = SelectField(_l("Category"), choices=[(k.value, v) for k, v in CATEGORY_LABELS.items()])
    series = StringField(_l("Series or brand"), validators=[Optional(), Length(max=50)])
    policy = SelectField(_l("Booking policy"), choices=[(k.value, v) for k, v in POLICY_LABELS.items()])
    has_waiting_list = BooleanField(_l("Keep a waiting list when full"), default=True)
    capacity = IntegerField(_l("Capacity (seats)"), validators=[Optional(), NumberRange(0, 100_000)])
    max_party_size = IntegerField(_l("Most seats per booking"), default=1, validators=[NumberRange(1, 3)])
    age_min = IntegerField(_l("Minimum age"), validators=[Optional(), NumberRange(0, 120)])
    age_max = IntegerField(_l("Maximum age"), validators=[Optional(), NumberRange(0, 120)])
    gender = SelectField(
        _l("Only for"),
        choices=[("", _l("Everyone")), ("female", _l("Women and girls")), ("male", _l("Men and boys"))],
        default="",
    )
    is_real_name_required = BooleanField(_l("Real-name booking (ID number needed)"))
    signup_opens_at = DateTimeLocalField(_l("Sign-ups open"), validators=[Optional()])
    signup_closes_at = DateTimeLocalField(_l("Sign-ups close"), validators=[Optional()])
    cancel_hours = IntegerField(
        _l("Free cancellation until (hours before start)"), default=2, validators=[NumberRange(0, 720)]
    )
    reserved_quota = IntegerField(
        _l("Reserved lottery seats"), default=0, validators=[Optional(), NumberRange(0, 100_000)]
    )
    quota_rule = SelectField(
        _l("Reserved for"), choices=[("", _l("Nobody"))] + [(k.value, v) for k, v in QUOTA_LABELS.items()], default=""
    )
    starts_on = DateField(_l("Exhibition opens"), validators=[Optional()])
    ends_on = DateField(_l("Exhibition closes"), validators=[Optional()])

    FIELDS = (
        "kind",
        "place",
        "title",
        "summary",
        "description",
        "category",
        "series",
        "policy",
        "has_waiting_list",
        "capacity",
        "max_party_size",
        "age_min",
        "age_max",
        "gender",
        "is_real_name_required",
        "signup_opens_at",
        "signup_closes_at",
        "cancel_hours",
        "reserved_quota",
        "quota_rule",
        "starts_on",
        "ends_on",
    )

    def data_for_service(self) -> dict:
        data = {name: getattr(self, name).data for name in self.FIELDS}
        data["signup_opens_at"] = aware(data["signup_opens_at"])
        data["signup_closes_at"] = aware(data["signup_closes_at"])
        data["capacity"] = data["capacity"] or 0
        data["reserved_quota"] = data["reserved_quota"] or 0
        data["room_id"] = self.room_id.data or None
        return data


class QuickEventForm(FlaskForm):
    """A local event in under a minute: title, when, where; free, first come, no booking limits."""

    title = StringField(_l("What is on"), validators=[DataRequired(REQUIRED), Length(max=100)])
    category = SelectField(_l("Category"), choices=[(k.value, v) for k, v in CATEGORY_LABELS.items()], default="film")
    venue_id = SelectField(_l("Venue"), coerce=int, choices=[])
    on = DateField(_l("Date"), validators=[DataRequired(REQUIRED)])
    starts = TimeField(_l("Starts"), validators=[DataRequired(REQUIRED)])
    ends = TimeField(_l("Ends"), validators=[DataRequired(REQUIRED)])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=100)])
    capacity = IntegerField(
        _l("Seats (leave empty: just come along)"), validators=[Optional(), NumberRange(1, 100_000)]
    )


class SessionForm(FlaskForm):
    on = DateField(_l("Date"), validators=[DataRequired(REQUIRED)])
    starts = TimeField(_l("Starts"), validators=[DataRequired(REQUIRED)])
    ends = TimeField(_l("Ends"), validators=[DataRequired(REQUIRED)])


def parse_dates(text: str) -> list[date]:
    """'2026-05-01, 2026-05-08' → dates (commas, spaces or Chinese commas between)."""
    out = []
    for part in (text or "").replace("，", ",").replace(" ", ",").split(","):
        if part.strip():
            out.append(date.fromisoformat(part.strip()))
    return out


def validate_dates(_form, field):
    try:
        parse_dates(field.data)
    except ValueError:
        raise ValidationError(_l("Write dates like 2026-05-01, 2026-05-08.")) from None


class WeeklyForm(FlaskForm):
    first_on = DateField(_l("From"), validators=[DataRequired(REQUIRED)])
    until_on = DateField(_l("Until"), validators=[DataRequired(REQUIRED)])
    weekdays = SelectMultipleField(
        _l("Weekdays"), coerce=int, choices=WEEKDAY_CHOICES, validators=[DataRequired(REQUIRED)]
    )
    starts = TimeField(_l("Starts"), validators=[DataRequired(REQUIRED)])
    ends = TimeField(_l("Ends"), validators=[DataRequired(REQUIRED)])
    except_on = StringField(_l("Except on (dates)"), validators=[Optional(), Length(max=1000), validate_dates])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
