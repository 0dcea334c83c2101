"""Request plumbing every app shares: bounded integer ids in routes, and one structured log line per request."""

import logging
import time
from datetime import date

import sqlalchemy as sa
from flask import Flask, abort, g, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from core.api import caller_before_auth
from core.db import MAX_ID

request_log = logging.getLogger("culturenet.request")


class BoundedInt(IntegerConverter):
    """`<int:…>` in every route accepts 1 … 2³¹-1: ids that fit the database's INTEGER, else a 404.

    The pattern itself refuses 0, leading zeros and values past the maximum: when several rules share a path
    (one per method), a value the pattern matched but `min`/`max` refused made werkzeug answer 405 for the
    other methods instead of 404."""

    # 1 … 2147483647 spelled out digit by digit (MAX_ID = 2**31 - 1), so no value outside reaches a rule.
    regex = (
        r"(?:[1-9]\d{0,8}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}"
        r"|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7])"
    )

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def date_arg(name: str) -> date | None:
    """An optional ISO date in the query string (`?from=2026-05-01`): None when absent, 400 when it is not a date
    or lies outside 2000–2100 (the range every stored date keeps to)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        abort(400)
    if not 2000 <= value.year <= 2100:
        abort(400)
    return value


def configure_logging(app: Flask) -> None:
    """Our loggers write key=value lines to stderr (gunicorn collects them), at LOG_LEVEL (INFO)."""
    logger = logging.getLogger("culturenet")
    if logger.handlers or app.testing:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    logger.propagate = False


def _logged_user_id() -> str:
    """The caller's id for the log line, read from the ORM identity: after a commit has expired the user,
    `get_id()` would cost one more SELECT; or from the token, for a request answered before authentication."""
    early = caller_before_auth()
    if early is not None:
        return str(early.id)
    user = current_user._get_current_object() if current_user else None
    if user is None or not user.is_authenticated:
        return "-"
    state = sa.inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return str(state.identity[0])
    return (user.get_id() or "-").split(":")[0]


def register_request_log(app: Flask) -> None:
    """One structured line per request: method, path, status, duration, user id."""
    configure_logging(app)

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response):
        started = g.get("request_started")
        if started is not None and request.endpoint != "static":
            request_log.info(
                "method=%s path=%s status=%s ms=%.1f user=%s",
                request.method,
                request.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
                _logged_user_id(),
            )
        return response
