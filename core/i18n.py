"""Languages and time zones: pick the user's language, show times in the network's zone."""

from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import dates
from flask import current_app, has_request_context, request
from flask_babel import get_locale, get_timezone
from flask_login import current_user

from core.api import caller_before_auth
from core.cache import layout_part

LANG_COOKIE = "lang"


def select_locale() -> str:
    """The explicit choice (cookie or account), else the browser's Accept-Language, else the default."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in languages:
        return chosen
    caller = caller_before_auth() or current_user  # the token's caller, when nothing has read their row
    user_locale = getattr(caller, "locale", None) if caller else None
    if user_locale in languages:
        return user_locale
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    if best in {"zh", "zh_CN"}:
        return "zh_CN"
    return best or current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def network_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(value: datetime) -> datetime:
    """An aware datetime in the network's zone."""
    return value.astimezone(network_tz())


def local_datetime(day: date, at: time) -> datetime:
    """A wall-clock date and time in the network's zone, as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=network_tz()).astimezone(UTC)


def local_today(now: datetime | None = None) -> date:
    return to_local(now or datetime.now(UTC)).date()


# The packages that own a translation catalogue (`<pkg>/translations`), in the order they are merged.
PACKAGES = [
    "core",
    "accounts",
    "venues",
    "activities",
    "bookings",
    "rooms",
    "checkin",
    "orders",
    "notify",
    "reports",
    "resources",
    "catalogue",
    "volunteers",
    "feedback",
]


def translation_directories(root) -> str:
    """The root catalogue first, then each package's own, so packages can grow their catalogues apart."""
    dirs = ["translations"] + [f"{p}/translations" for p in PACKAGES]
    return ";".join(d for d in dirs if (root / d).is_dir())


@lru_cache(maxsize=8192)
def _formatted(kind: str, value, fmt: str, locale, tz) -> str:
    """Babel's formatting (as flask_babel calls it), remembered: a page shows the same session times to
    every visitor, and formatting one costs ~40 µs (bench/RESULTS.md)."""
    if kind == "date":
        return dates.format_date(value, fmt, locale=locale)
    formatter = dates.format_datetime if kind == "datetime" else dates.format_time
    return formatter(value, fmt, locale=locale, tzinfo=tz)


def _filter(kind: str, default: str):
    def apply(value, fmt: str = default) -> str:
        if not value:
            return ""
        if kind == "date" and isinstance(value, datetime):
            value = to_local(value).date()  # a moment's date is the network's date, never UTC's
        return _formatted(kind, value, fmt, get_locale(), None if kind == "date" else get_timezone())

    return apply


def format_moment(value: datetime | None, fmt: str = "short") -> str:
    """A moment as the pages show it (`|dt('short')`), in the network's zone, for text built in Python."""
    return _filter("datetime", fmt)(value)


def register_template_helpers(app) -> None:
    app.jinja_env.filters["dt"] = _filter("datetime", "medium")
    app.jinja_env.filters["d"] = _filter("date", "medium")
    app.jinja_env.filters["t"] = _filter("time", "short")
    app.jinja_env.filters["localized"] = localized
    app.jinja_env.globals["now_utc"] = lambda: datetime.now(UTC)
    app.jinja_env.globals["memo"] = layout_part

    @app.context_processor
    def _page_context():
        from flask_babel import get_locale

        locale = str(get_locale() or app.config["DEFAULT_LOCALE"])
        return {
            "current_locale": locale,
            "html_lang": "zh-CN" if locale.startswith("zh") else "en",
            "large_text": request.cookies.get("large_text") == "1",
            "network_name": app.config.get("NETWORK_NAME"),
        }


def resolved_labels(labels: dict) -> dict:
    """Lazy labels translated once for a page (a lazy string is translated again at every use)."""
    return {key: str(label) for key, label in labels.items()}


def localized(obj, attr: str = "name") -> str:
    """The English variant of a stored name (`name_en`) when the page is in English and one exists."""
    from flask_babel import get_locale

    if str(get_locale()).startswith("en"):
        value = getattr(obj, f"{attr}_en", None)
        if value:
            return value
    return getattr(obj, attr)
