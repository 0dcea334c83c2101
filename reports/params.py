"""Reading report parameters from a query string (pages, files and the CLI share these)."""

from datetime import date

from flask_babel import gettext as _

from core.db import MAX_ID
from core.errors import Invalid


def parse_date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise Invalid(fields={name: [_("Must be a date such as 2026-05-01.")]}) from None


def parse_int(value: str | None, name: str, *, low: int = 1, high: int = MAX_ID) -> int | None:
    if value in (None, ""):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise Invalid(fields={name: [_("Must be a whole number.")]}) from None
    if not low <= n <= high:
        raise Invalid(fields={name: [_("Must be between %(a)s and %(b)s.", a=low, b=high)]})
    return n


def parse_year(value: str | None, default: int) -> int:
    return parse_int(value, "year", low=2000, high=2100) or default
