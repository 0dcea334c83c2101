"""API plumbing: blueprints whose endpoints validate with pydantic and describe themselves in OpenAPI.

An endpoint declares its body, query and response models once; the same models validate the
request, shape the answer and generate `/api/v1/openapi.json`, so the document cannot drift.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from typing import Any, Generic, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import ValidationError as CSRFValidationError
from flask_wtf.csrf import validate_csrf
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticError
from pydantic.json_schema import models_json_schema

from core.errors import BadRequest, DomainError, Forbidden, Invalid, Unauthenticated

API_PREFIX = "/api/v1"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
T = TypeVar("T")


class Schema(BaseModel):
    """Base of API models: unknown fields refused, attributes read from ORM objects."""

    model_config = ConfigDict(extra="forbid", from_attributes=True, str_strip_whitespace=True)


class OutSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


class Page(OutSchema, Generic[T]):
    items: list[T]
    total: int
    page: int


class ErrorBody(OutSchema):
    code: str
    message: str


class ErrorOut(OutSchema):
    error: ErrorBody


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    auth: bool
    errors: tuple[int, ...] = field(default_factory=tuple)


class ApiBlueprint(Blueprint):
    """A blueprint under /api/v1 whose endpoints are declared with `.endpoint(...)`."""

    def __init__(self, name: str, import_name: str, tag: str):
        super().__init__(name, import_name, url_prefix=API_PREFIX)
        self.tag = tag
        self.operations: list[Operation] = []
        self.answers_before_auth: dict[str, Callable[[], None]] = {}
        self.before_request(self._answer_before_auth)
        self.before_request(_api_guard)

    def _answer_before_auth(self) -> None:
        """Run the endpoint's `before_auth` hook, if it has one, before anything reads the caller."""
        hook = self.answers_before_auth.get(request.endpoint)
        if hook is not None:
            hook()

    def endpoint(
        self,
        rule: str,
        method: str = "GET",
        *,
        body=None,
        query=None,
        response=None,
        status: int = 200,
        auth: bool = True,
        summary: str = "",
        errors: tuple[int, ...] = (),
        before_auth: Callable[[], None] | None = None,
    ):
        """Declare one operation: validate input with `body`/`query`, shape output with `response`.

        `before_auth`, if given, runs before the caller is authenticated (and before the CSRF check): it may raise a
        refusal that needs no caller's row (bookings' hinted-full sign-ups), or return and let the request go on."""

        def decorator(fn: Callable):
            @wraps(fn)
            def view(**kwargs):
                if auth and not current_user.is_authenticated:
                    raise Unauthenticated()
                if body is not None:
                    kwargs["data"] = parse_body(body)
                if query is not None:
                    kwargs["params"] = parse_model(query, request.args.to_dict())
                return render_result(fn(**kwargs), response, status)

            self.add_url_rule(rule, fn.__name__, view, methods=[method])
            if before_auth is not None:
                self.answers_before_auth[f"{self.name}.{fn.__name__}"] = before_auth
            self.operations.append(
                Operation(
                    rule,
                    method,
                    f"{self.name}.{fn.__name__}",
                    summary or (fn.__doc__ or "").strip(),
                    self.tag,
                    body,
                    query,
                    response,
                    status,
                    auth,
                    errors,
                )
            )
            return fn

        return decorator


def answer_for(caller) -> None:
    """Name the caller a `before_auth` hook judged from its token (`id`, `locale`): the request's language and
    its log line are theirs, and nothing reads their row."""
    g.caller_before_auth = caller


def caller_before_auth():
    """The caller named by `answer_for` in this request, if the usual authentication has not run."""
    return g.get("caller_before_auth") if "_login_user" not in g else None


def _api_guard():
    """Cookie-authenticated writes need the CSRF token header; calls that a bearer token authenticated do not
    (any other Authorization header, or a bearer token that did not authenticate, exempts nothing)."""
    if request.method not in WRITE_METHODS or not current_user.is_authenticated:
        return None
    if g.get("authenticated_by") == "bearer" or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except CSRFValidationError:
        raise Forbidden(
            _("The CSRF token is missing or invalid. Reload the page and try again."), code="csrf_failed"
        ) from None
    return None


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The JSON body validated by `model`; wrong content type is 415, malformed JSON 400."""
    if request.mimetype != "application/json":
        raise DomainError(
            _("Send the body as JSON (Content-Type: application/json)."), code="unsupported_media_type", status=415
        )
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: as malformed as any other bad JSON
        payload = None
    if payload is None:
        raise BadRequest(_("The body is not valid JSON."))
    return parse_model(model, payload)


def parse_model(model: type[BaseModel], payload: Any) -> BaseModel:
    """Validate `payload`, raising `Invalid` with a message per field in the user's language."""
    try:
        parsed = model.model_validate(payload)
    except PydanticError as exc:
        raise Invalid(fields=field_errors(exc)) from None
    if wrong := _out_of_range_dates(parsed):
        raise Invalid(
            fields={
                name: [_("Must be between the years %(a)s and %(b)s.", a=FIRST_YEAR, b=LAST_YEAR)] for name in wrong
            }
        )
    return parsed


FIRST_YEAR, LAST_YEAR = 2000, 2100  # what a culture network schedules or reports on; 9999-12-31-12:00 overflows


def _out_of_range_dates(model: BaseModel, prefix: str = "") -> list[str]:
    """Names of the date and datetime fields (nested models and lists too) outside FIRST_YEAR..LAST_YEAR."""
    wrong = []
    for name, value in model:
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            where = f"{prefix}{name}" + (f".{i}" if isinstance(value, list) else "")
            if isinstance(item, date) and not FIRST_YEAR <= item.year <= LAST_YEAR:
                wrong.append(where)
            elif isinstance(item, BaseModel):
                wrong += _out_of_range_dates(item, f"{where}.")
    return wrong


def field_errors(exc: PydanticError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "body"
        fields.setdefault(name, []).append(error_message(err))
    return fields


def error_message(err: dict) -> str:
    """A translated message for one pydantic error."""
    kind, ctx = err["type"], err.get("ctx") or {}
    messages = {
        "missing": lambda: _("This field is required."),
        "extra_forbidden": lambda: _("Unknown field."),
        "string_too_long": lambda: _("At most %(n)s characters.", n=ctx.get("max_length")),
        "string_too_short": lambda: _("At least %(n)s characters.", n=ctx.get("min_length")),
        "string_pattern_mismatch": lambda: _("The format is not valid."),
        "string_type": lambda: _("Must be text."),
        "int_parsing": lambda: _("Must be a whole number."),
        "int_type": lambda: _("Must be a whole number."),
        "int_from_float": lambda: _("Must be a whole number."),
        "bool_parsing": lambda: _("Must be true or false."),
        "greater_than_equal": lambda: _("Must be at least %(n)s.", n=ctx.get("ge")),
        "greater_than": lambda: _("Must be more than %(n)s.", n=ctx.get("gt")),
        "less_than_equal": lambda: _("Must be at most %(n)s.", n=ctx.get("le")),
        "less_than": lambda: _("Must be less than %(n)s.", n=ctx.get("lt")),
        "datetime_parsing": lambda: _("Must be a date and time such as 2026-05-01T09:00:00+08:00."),
        "datetime_from_date_parsing": lambda: _("Must be a date and time such as 2026-05-01T09:00:00+08:00."),
        "timezone_aware": lambda: _("The time needs a zone offset, such as +08:00."),
        "date_parsing": lambda: _("Must be a date such as 2026-05-01."),
        "date_from_datetime_parsing": lambda: _("Must be a date such as 2026-05-01."),
        "enum": lambda: _("Must be one of: %(values)s.", values=ctx.get("expected")),
        "literal_error": lambda: _("Must be one of: %(values)s.", values=ctx.get("expected")),
        "list_type": lambda: _("Must be a list."),
        "too_long": lambda: _("Too many items (at most %(n)s).", n=ctx.get("max_length")),
        "too_short": lambda: _("Too few items (at least %(n)s).", n=ctx.get("min_length")),
        "model_type": lambda: _("Must be an object."),
        "dict_type": lambda: _("Must be an object."),
        "value_error": lambda: str(ctx.get("error") or _("The value is not valid.")),
    }
    return messages.get(kind, lambda: _("The value is not valid."))()


def render_result(result: Any, response: Any, status: int) -> Response:
    """Shape a handler's result with its response model (an ORM object, a dict, or a model)."""
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    if response is not None and not isinstance(result, BaseModel):
        adapter = response if isinstance(response, type) and issubclass(response, BaseModel) else None
        result = adapter.model_validate(result) if adapter else result
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    resp = jsonify(result)
    resp.status_code = status
    return resp


def paginate(select, page: int, per_page: int = 20) -> dict:
    """A page of a SELECT as `{items, total, page}`."""
    from core.extensions import db

    result = db.paginate(select, page=page, per_page=per_page, error_out=False, count=True)
    return {"items": list(result.items), "total": result.total or 0, "page": page}


# --- OpenAPI --------------------------------------------------------------------------------

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def openapi_document() -> dict:
    """The OpenAPI 3.1 document of every ApiBlueprint registered on the current app."""
    operations = [op for bp in current_app.blueprints.values() if isinstance(bp, ApiBlueprint) for op in bp.operations]
    models = {(op.body, "validation") for op in operations if op.body}
    models |= {(op.response, "serialization") for op in operations if _is_model(op.response)}
    models.add((ErrorOut, "serialization"))
    refs, defs = models_json_schema(
        sorted(models, key=lambda m: (m[0].__name__, m[1])), ref_template="#/components/schemas/{model}"
    )
    schemas = dict(defs.get("$defs", {}))
    paths: dict[str, dict] = {}
    for op in operations:
        path = API_PREFIX + _CONVERTER.sub(r"{\2}", op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation_doc(op, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "CultureNet API", "version": "1"},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


def _is_model(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _operation_doc(op: Operation, refs: dict, schemas: dict) -> dict:
    """One operation; the enums and models its query parameters refer to are added to `schemas`."""
    doc: dict[str, Any] = {"operationId": op.endpoint, "summary": op.summary.split("\n")[0], "tags": [op.tag]}
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1} if conv == "int" else {"type": "string"},
        }
        for conv, name in _CONVERTER.findall(op.rule)
    ]
    if op.query:
        schema = op.query.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop})
    if params:
        doc["parameters"] = params
    if op.body:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    ok: dict[str, Any] = {"description": "OK"}
    if _is_model(op.response):
        ok["content"] = {"application/json": {"schema": refs[(op.response, "serialization")]}}
    error = {"description": "Error", "content": {"application/json": {"schema": refs[(ErrorOut, "serialization")]}}}
    responses = {str(op.status): ok}
    statuses = set(op.errors) | {400, 404, 429} | ({401, 403} if op.auth else set())
    if op.body or op.query:
        statuses |= {422}
    if op.body:
        statuses |= {415}
    for status in sorted(statuses):
        responses[str(status)] = error
    doc["responses"] = responses
    if op.auth:
        doc["security"] = [{"bearer": []}, {"cookie": []}]
    return doc
