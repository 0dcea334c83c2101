"""Single-field rules of accounts (phone, e-mail, name, password), shared by every service that takes them.

Each raises `Invalid` with the field's message in the user's language, or returns the normalised value.
"""

import re

from flask_babel import gettext as _

from accounts.models import PHONE_RE, normalise_phone
from core.errors import Invalid

MIN_PASSWORD = 8
# A pragmatic address check: one @, a dotted domain, no spaces or line breaks (fullmatch: no trailing \n).
EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def validate_phone(phone: str) -> str:
    phone = normalise_phone(phone)
    if not PHONE_RE.match(phone):
        raise Invalid(fields={"phone": [_("Enter an 11-digit mainland mobile number, such as 13800000001.")]})
    return phone


def validate_email(email: str | None, field: str = "email") -> str | None:
    """The address in lower case, None when empty; raises `Invalid` for anything not shaped like one."""
    raw = email or ""
    email = raw.strip().lower()
    if not email:
        return None
    if len(email) > 254 or "\r" in raw or "\n" in raw or not EMAIL_RE.fullmatch(email):
        raise Invalid(fields={field: [_("Enter an e-mail address such as name@example.com, or leave it empty.")]})
    return email


def validate_name(name: str, field: str = "name") -> str:
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise Invalid(fields={field: [_("Enter a name of 1 to 50 characters.")]})
    return name


def validate_password(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(fields={field: [_("At least %(n)s characters.", n=MIN_PASSWORD)]})
    if len(password) > 128:
        raise Invalid(fields={field: [_("At most %(n)s characters.", n=128)]})
