"""Venue, hours, closure and room forms (single-field validation only)."""

import re
from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from venues.models import KIND_LABELS, ROOM_KIND_LABELS, RoomKind, VenueKind

REQUIRED = _l("This field is required.")
DAY_LABELS = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday")]
INTERVAL_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})\s*$")


class VenueForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=150)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    floor_area = IntegerField(_l("Floor area (m²)"), validators=[Optional(), NumberRange(0, 1_000_000)])
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class NewVenueForm(VenueForm):
    kind = SelectField(_l("Kind"), choices=[(k.value, KIND_LABELS[k]) for k in VenueKind])
    parent_id = SelectField(_l("Parent venue"), coerce=int, choices=[])
    district_code = SelectField(_l("District"), choices=[])


def parse_intervals(text: str) -> list[tuple[time, time]]:
    """'09:00-12:00, 14:00-17:30' → [(09:00, 12:00), (14:00, 17:30)]; empty means closed."""
    intervals = []
    for part in re.split(r"[,，;；]", text or ""):
        if not part.strip():
            continue
        m = INTERVAL_RE.match(part)
        if not m:
            raise ValueError(part)
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(part)
        closes = time(23, 59) if h2 == 24 else time(h2, m2)
        intervals.append((time(h1, m1), closes))
    return intervals


def validate_intervals(_form, field):
    try:
        parse_intervals(field.data)
    except ValueError:
        raise ValidationError(_l("Write times like 09:00-12:00, 14:00-17:00 (leave empty when closed).")) from None


class HoursForm(FlaskForm):
    mon = StringField(DAY_LABELS[0], validators=[Optional(), Length(max=100), validate_intervals])
    tue = StringField(DAY_LABELS[1], validators=[Optional(), Length(max=100), validate_intervals])
    wed = StringField(DAY_LABELS[2], validators=[Optional(), Length(max=100), validate_intervals])
    thu = StringField(DAY_LABELS[3], validators=[Optional(), Length(max=100), validate_intervals])
    fri = StringField(DAY_LABELS[4], validators=[Optional(), Length(max=100), validate_intervals])
    sat = StringField(DAY_LABELS[5], validators=[Optional(), Length(max=100), validate_intervals])
    sun = StringField(DAY_LABELS[6], validators=[Optional(), Length(max=100), validate_intervals])

    DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def intervals(self) -> list[tuple[int, time, time]]:
        return [(i, o, c) for i, day in enumerate(self.DAYS) for o, c in parse_intervals(getattr(self, day).data)]


class ClosureForm(FlaskForm):
    starts_on = DateField(_l("First day closed"), validators=[DataRequired(REQUIRED)])
    ends_on = DateField(_l("Last day closed"), validators=[DataRequired(REQUIRED)])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class RoomForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=150)])
    kind = SelectField(_l("Kind"), choices=[(k.value, ROOM_KIND_LABELS[k]) for k in RoomKind])
    capacity = IntegerField(_l("Capacity (people)"), validators=[DataRequired(REQUIRED), NumberRange(0, 100_000)])
    floor_area = IntegerField(_l("Floor area (m²)"), validators=[Optional(), NumberRange(0, 100_000)])
    equipment = StringField(_l("Equipment (comma separated)"), validators=[Optional(), Length(max=300)])
    max_hours = IntegerField(_l("Longest reservation (hours)"), default=4, validators=[NumberRange(1, 24)])
    is_bookable = BooleanField(_l("Groups can reserve it"), default=True)
    is_self_service = BooleanField(_l("Self-service (no staff approval)"))
