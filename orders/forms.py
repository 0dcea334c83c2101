"""Menu and order forms (single-field validation only; the rules across objects are in services)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from orders.models import CATEGORY_LABELS, MenuCategory

REQUIRED = _l("This field is required.")


def category_choices(blank: str | None = None) -> list[tuple[str, str]]:
    choices = [(c.value, CATEGORY_LABELS[c]) for c in MenuCategory]
    return [("", blank), *choices] if blank is not None else choices


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MenuItemForm(FlaskForm):
    provider_venue_id = SelectField(_l("Provider"), coerce=int, choices=[])
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=100)])
    title_en = StringField(_l("English title"), validators=[Optional(), Length(max=150)])
    category = SelectField(_l("Category"), choices=category_choices())
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    district_codes = CheckboxesField(_l("Districts served"), choices=[])
    audience_min = IntegerField(
        _l("Smallest audience"), default=1, validators=[InputRequired(REQUIRED), NumberRange(1, 100_000)]
    )
    audience_max = IntegerField(
        _l("Largest audience"), default=300, validators=[InputRequired(REQUIRED), NumberRange(1, 100_000)]
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), default=120, validators=[InputRequired(REQUIRED), NumberRange(1, 1440)]
    )
    lead_days = IntegerField(
        _l("Notice needed (days)"), default=14, validators=[InputRequired(REQUIRED), NumberRange(0, 365)]
    )
    available_from = DateField(_l("Offered from"), validators=[Optional()])
    available_until = DateField(_l("Offered until"), validators=[Optional()])
    yearly_quota = IntegerField(_l("Yearly quota (empty: no limit)"), validators=[Optional(), NumberRange(0, 100_000)])
    daily_capacity = IntegerField(
        _l("How many can be delivered on one day"), default=1, validators=[InputRequired(REQUIRED), NumberRange(1, 100)]
    )
    host_requirements = StringField(
        _l("What the host must provide (power, space…)"), validators=[Optional(), Length(max=500)]
    )

    DATA_FIELDS = (
        "title",
        "title_en",
        "category",
        "description",
        "district_codes",
        "audience_min",
        "audience_max",
        "duration_minutes",
        "lead_days",
        "available_from",
        "available_until",
        "yearly_quota",
        "daily_capacity",
        "host_requirements",
    )

    def data_for_service(self) -> dict:
        return {name: getattr(self, name).data for name in self.DATA_FIELDS}


class OrderForm(FlaskForm):
    venue_id = SelectField(_l("For which centre"), coerce=int, choices=[])
    group_name = StringField(_l("Group name"), validators=[Optional(), Length(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    district_code = SelectField(_l("District"), choices=[], validate_choice=False)
    custom_title = StringField(_l("What do you need?"), validators=[Optional(), Length(max=100)])
    custom_description = TextAreaField(_l("Describe the need"), validators=[Optional(), Length(max=5000)])
    custom_category = SelectField(_l("Closest category"), choices=category_choices(blank=""), validate_choice=False)
    date_1 = DateField(_l("Preferred date"), validators=[Optional()])
    date_2 = DateField(_l("Second choice (optional)"), validators=[Optional()])
    date_3 = DateField(_l("Third choice (optional)"), validators=[Optional()])
    audience_size = IntegerField(_l("Expected audience"), validators=[InputRequired(REQUIRED), NumberRange(1, 100_000)])
    contact_phone = StringField(_l("Contact phone"), validators=[DataRequired(REQUIRED), Length(max=20)])
    notes = TextAreaField(_l("Notes for the provider"), validators=[Optional(), Length(max=1000)])

    def data_for_service(self, *, venue, item) -> dict:
        data = {
            "menu_item": item,
            "venue": venue,
            "audience_size": self.audience_size.data,
            "contact_phone": self.contact_phone.data,
            "notes": self.notes.data,
            "preferred_dates": [d for d in (self.date_1.data, self.date_2.data, self.date_3.data) if d],
        }
        if venue is None:
            data |= {
                "group_name": self.group_name.data,
                "address": self.address.data,
                "district_code": self.district_code.data,
            }
        if item is None:
            data["custom"] = {
                "title": self.custom_title.data,
                "description": self.custom_description.data,
                "category": self.custom_category.data or None,
            }
        return data


class AcceptForm(FlaskForm):
    chosen_on = SelectField(_l("Date"), choices=[])
    reply = TextAreaField(_l("Reply to the orderer"), validators=[Optional(), Length(max=1000)])


class CounterForm(FlaskForm):
    counter_on = DateField(_l("Date you can offer"), validators=[DataRequired(REQUIRED)])
    reply = TextAreaField(_l("Reply to the orderer"), validators=[Optional(), Length(max=1000)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the orderer reads it)"), validators=[DataRequired(REQUIRED), Length(max=1000)])


class BulkDeclineForm(DeclineForm):
    order_ids = SelectMultipleField(_l("Orders"), coerce=int, choices=[])


class ScheduleForm(FlaskForm):
    starts = TimeField(_l("Starts at"), validators=[DataRequired(REQUIRED)])
    ends = TimeField(_l("Ends at"), validators=[DataRequired(REQUIRED)])


class DeliverForm(FlaskForm):
    headcount = IntegerField(_l("Headcount"), validators=[InputRequired(REQUIRED), NumberRange(0, 100_000)])
    report = TextAreaField(_l("Short record (活动纪实)"), validators=[Optional(), Length(max=5000)])
    photos = MultipleFileField(_l("Photos (up to three, optional)"))


class RateForm(FlaskForm):
    rating = RadioField(
        _l("Rating"),
        coerce=int,
        choices=[(5, "5"), (4, "4"), (3, "3"), (2, "2"), (1, "1")],
        validators=[InputRequired(REQUIRED)],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=1000)])


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Why (optional)"), validators=[Optional(), Length(max=1000)])
