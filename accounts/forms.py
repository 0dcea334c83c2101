"""Account forms: single-field validation only; rules across objects live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from accounts.models import RELATION_LABELS, Relation

REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    login = StringField(
        _l("Phone, card number or e-mail"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class SmsLoginForm(FlaskForm):
    phone = StringField(
        _l("Mobile phone"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    sms_code = StringField(
        _l("SMS code"),
        validators=[Optional(), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class PasswordResetForm(FlaskForm):
    phone = StringField(
        _l("Mobile phone"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    sms_code = StringField(
        _l("SMS code"),
        validators=[Optional(), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    new_password = PasswordField(
        _l("New password (at least 8 characters)"),
        validators=[Optional(), Length(max=128)],
        render_kw={"autocomplete": "new-password"},
    )


class EmailResetForm(FlaskForm):
    email = StringField(
        _l("E-mail"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password (at least 8 characters)"),
        validators=[DataRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "new-password"},
    )


class ConsentForm(FlaskForm):
    consent = BooleanField(_l("I have read and agree to the user agreement and the privacy policy"))


class RegisterForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(REQUIRED), Length(max=50)], render_kw={"autocomplete": "name"}
    )
    phone = StringField(
        _l("Mobile phone"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    birth_year = IntegerField(
        _l("Year of birth"), validators=[Optional(), NumberRange(1900, 2100)], render_kw={"inputmode": "numeric"}
    )
    password = PasswordField(
        _l("Password (at least 8 characters)"),
        validators=[DataRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "new-password"},
    )
    email = StringField(
        _l("E-mail (optional)"),
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    sms_code = StringField(
        _l("SMS code"),
        validators=[Optional(), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    consent = BooleanField(_l("I have read and agree to the user agreement and the privacy policy"))


class ParticipantForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=50)])
    birth_year = IntegerField(
        _l("Year of birth"),
        validators=[DataRequired(REQUIRED), NumberRange(1900, 2100)],
        render_kw={"inputmode": "numeric"},
    )
    relation = SelectField(
        _l("Relation"), choices=[(r.value, RELATION_LABELS[r]) for r in Relation if r != Relation.self]
    )
    gender = SelectField(
        _l("Gender"),
        choices=[("", _l("Not given")), ("female", _l("Female")), ("male", _l("Male"))],
        validators=[Optional()],
    )
    id_number = StringField(
        _l("Resident ID number (only for real-name activities)"), validators=[Optional(), Length(min=18, max=18)]
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(REQUIRED)], render_kw={"autocomplete": "current-password"}
    )
    new_password = PasswordField(
        _l("New password (at least 8 characters)"),
        validators=[DataRequired(REQUIRED), Length(min=8, max=128)],
        render_kw={"autocomplete": "new-password"},
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password, to confirm"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    venue_id = SelectField(_l("Venue"), coerce=int, choices=[])
