"""Notification preference form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class PreferencesForm(FlaskForm):
    sms = BooleanField(_l("Text messages (SMS)"))
    email = BooleanField(_l("E-mail"))
    inbox = BooleanField(_l("Messages on this site (inbox)"))
