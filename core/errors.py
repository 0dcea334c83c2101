"""Domain errors with stable codes, and their translation to HTTP for pages and the API.

Services raise a `DomainError` subclass; `core` turns it into JSON for `/api/` and into a friendly
page (or a flashed message) everywhere else. Nothing here reads the domain packages.
"""

import logging

from flask import Flask, Response, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal a user can understand: a stable `code`, an HTTP `status` and a translatable message."""

    code = "conflict"
    status = 409
    message = _l("This cannot be done.")

    def __init__(self, message=None, *, code: str | None = None, status: int | None = None, **extra):
        super().__init__(str(message or self.message))
        if message is not None:
            self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": str(self.message)}
        body.update({k: _jsonable(v) for k, v in self.extra.items()})
        return body


class Invalid(DomainError):
    """Input that fails validation; `fields` maps a field name to its messages."""

    code = "invalid"
    status = 422
    message = _l("Some fields are not valid.")

    def __init__(self, message=None, *, fields: dict | None = None, **extra):
        super().__init__(message, fields=fields or {}, **extra)


class BadRequest(DomainError):
    code = "bad_request"
    status = 400
    message = _l("The request could not be understood.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = _l("Not found.")


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    message = _l("You do not have permission to do this.")


class InvalidTransition(DomainError):
    """A step the object's current state does not allow; each domain raises it with its own message."""

    code = "invalid_transition"
    status = 409
    message = _l("This step is not possible in the current state.")


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    message = _l("Please sign in first.")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in {"/healthz"}


HTTP_CODES = {
    400: ("bad_request", _l("The request could not be understood.")),
    401: ("unauthenticated", _l("Please sign in first.")),
    403: ("forbidden", _l("You do not have permission to do this.")),
    404: ("not_found", _l("Not found.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    413: ("too_large", _l("The upload is too large.")),
    415: ("unsupported_media_type", _l("Send the body as JSON (Content-Type: application/json).")),
    429: ("rate_limited", _l("Too many requests. Please wait a moment and try again.")),
    500: ("server_error", _l("Something went wrong on our side. Please try again later.")),
    503: ("unavailable", _l("The service is temporarily unavailable.")),
}


def error_response(status: int, code: str, message, extra: dict | None = None) -> Response:
    """One error, as JSON for the API or as a friendly page for people."""
    if wants_json():
        body = {"code": code, "message": str(message)}
        body.update(extra or {})
        response = jsonify({"error": body})
    else:
        response = make_response(render_template("errors/error.html", status=status, code=code, message=message))
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Translate every failure to HTTP once: domain errors, HTTP errors, CSRF, and the unexpected."""

    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        from core.transaction import refused

        refused()
        if err.status == 401 and not wants_json():
            login_view = getattr(current_app, "login_manager", None) and current_app.login_manager.login_view
            if login_view:
                return redirect(url_for(login_view, next=request.full_path.rstrip("?")))
        body = err.to_dict()
        code, message = body.pop("code"), body.pop("message")
        response = error_response(err.status, code, message, body)
        if err.status == 429 and isinstance(body.get("retry_after"), int):
            response.headers["Retry-After"] = str(body["retry_after"])
        return response

    @app.errorhandler(CSRFError)
    def _csrf(err):
        return error_response(
            400, "csrf_failed", _l("The form expired or was sent from elsewhere. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        code, message = HTTP_CODES.get(status, ("http_error", _l("The request could not be completed.")))
        response = error_response(status, code, message)
        if status == 405 and err.valid_methods:
            response.headers["Allow"] = ", ".join(err.valid_methods)
        if status == 429:
            response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _bad_value(err):
        # A value the database cannot hold (a huge number, an impossible date) slipped past validation.
        log.warning("value refused by the database on %s: %s", request.path, err)
        from core.extensions import db

        db.session.rollback()
        return error_response(400, "bad_request", _l("A value in the request is out of range."))

    @app.errorhandler(OperationalError)
    def _db_down(err):
        log.exception("database error")
        from core.extensions import db

        db.session.rollback()
        return error_response(503, *HTTP_CODES[503])

    @app.errorhandler(Exception)
    def _unexpected(err):
        log.exception("unhandled error on %s %s", request.method, request.path)
        from core.extensions import db

        db.session.rollback()
        return error_response(500, *HTTP_CODES[500])
