"""JSON API of feedback: a resident's answer on an attended booking; 满意度 figures and comments for staff."""

import csv
import io
from datetime import date, datetime

from flask import Response
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import ConfigDict, Field

from accounts.auth import require_roles
from accounts.models import REPORT_ROLES
from core.api import ApiBlueprint, OutSchema, Schema
from core.db import MAX_ID
from core.errors import Forbidden, Invalid, NotFound
from core.extensions import db
from core.spreadsheets import append_row, csv_row
from feedback import queries, services
from feedback.models import Tag
from venues.models import Venue

api = ApiBlueprint("feedback_api", __name__, tag="feedback")
ERRORS = (403, 404, 409, 422)


class FeedbackIn(Schema):
    rating: int = Field(ge=1, le=5)
    tags: list[Tag] = Field(default_factory=list, max_length=len(Tag))
    comment: str = Field(default="", max_length=500)


class FeedbackPatch(Schema):
    rating: int | None = Field(default=None, ge=1, le=5)
    tags: list[Tag] | None = Field(default=None, max_length=len(Tag))
    comment: str | None = Field(default=None, max_length=500)


class FeedbackOut(OutSchema):
    id: int
    booking_id: int
    rating: int
    tags: list[str]
    comment: str
    created_at: datetime
    updated_at: datetime
    editable_until: datetime


class SatisfactionQuery(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    venue: int | None = Field(default=None, ge=1, le=MAX_ID)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    group: str = Field(default="venue", pattern="^(venue|district|category|month|activity)$")


class SatisfactionRow(OutSchema):
    key: str
    label: str
    responses: int
    mean: float | None
    low: int = Field(description="answers of 1 or 2")


class SatisfactionOut(OutSchema):
    responses: int
    mean: float | None
    group: str
    rows: list[SatisfactionRow]


class CommentOut(OutSchema):
    source: str
    venue_id: int
    venue: str
    activity: str
    rating: int
    tags: list[str]
    comment: str
    at: datetime
    by: str = Field(description="the resident's name, masked")


class CommentList(OutSchema):
    items: list[CommentOut]


class ExportQuery(SatisfactionQuery):
    format: str = Field(default="csv", pattern="^(csv|xlsx)$")


def _out(feedback) -> FeedbackOut:
    return FeedbackOut(
        id=feedback.id,
        booking_id=feedback.booking_id,
        rating=feedback.rating,
        tags=list(feedback.tags or []),
        comment=feedback.comment,
        created_at=feedback.created_at,
        updated_at=feedback.updated_at,
        editable_until=feedback.created_at + services.EDITABLE_FOR,
    )


@api.endpoint(
    "/bookings/<int:booking_id>/feedback",
    "POST",
    body=FeedbackIn,
    response=FeedbackOut,
    status=201,
    errors=ERRORS,
    summary="The holder rates an attended booking 1–5 (tags content/teacher/venue/timing, a comment); "
    "409 not_attended, 409 duplicate",
)
def create_feedback(booking_id: int, data: FeedbackIn):
    user = current_user._get_current_object()
    booking = services.own_booking(booking_id, user)
    return _out(services.give_feedback(booking, data=data.model_dump(), user=user))


@api.endpoint(
    "/bookings/<int:booking_id>/feedback",
    response=FeedbackOut,
    errors=(404,),
    summary="The holder's answer on a booking",
)
def get_feedback(booking_id: int):
    booking = services.own_booking(booking_id, current_user)
    feedback = services.feedback_of(booking)
    if feedback is None:
        raise NotFound()
    return _out(feedback)


def _edit(booking_id: int, data):
    user = current_user._get_current_object()
    booking = services.own_booking(booking_id, user)
    return _out(services.edit_feedback(booking, data=data.model_dump(), user=user))


@api.endpoint(
    "/bookings/<int:booking_id>/feedback",
    "PUT",
    body=FeedbackIn,
    response=FeedbackOut,
    errors=ERRORS,
    summary="Change the answer (for 7 days); 409 not_editable after",
)
def replace_feedback(booking_id: int, data: FeedbackIn):
    return _edit(booking_id, data)


@api.endpoint(
    "/bookings/<int:booking_id>/feedback",
    "PATCH",
    body=FeedbackPatch,
    response=FeedbackOut,
    errors=ERRORS,
    summary="Change part of the answer (for 7 days)",
)
def update_feedback(booking_id: int, data: FeedbackPatch):
    return _edit(booking_id, data)


def scoped(params) -> tuple[list[str], date | None, date | None]:
    """The tree paths the caller may see (narrowed to `venue`), and the period; 403 for a venue out of scope."""
    actor = require_roles(*REPORT_ROLES)
    paths = actor.scope_paths(REPORT_ROLES)
    if params.venue is not None:
        venue = db.session.get(Venue, params.venue)
        if venue is None:
            raise NotFound()
        if not actor.reaches(venue, REPORT_ROLES):
            raise Forbidden()
        paths = [venue.path]
    if params.from_ and params.to and params.from_ > params.to:
        raise Invalid(fields={"to": [_l("The end must not be before the start.")]})
    return paths, params.from_, params.to


@api.endpoint(
    "/reports/satisfaction",
    query=SatisfactionQuery,
    response=SatisfactionOut,
    errors=(403, 404, 422),
    summary="满意度: responses and mean rating of sessions and service orders in scope, per venue, district, "
    "category, month or activity (lowest first)",
)
def get_satisfaction(params: SatisfactionQuery):
    paths, start, end = scoped(params)
    summary = queries.summarise(queries.answers(paths, start, end), params.group)
    return SatisfactionOut(group=params.group, **summary)


@api.endpoint(
    "/reports/satisfaction/comments",
    query=SatisfactionQuery,
    response=CommentList,
    errors=(403, 404, 422),
    summary="Staff of the venue: the comments behind the ratings, newest first, names masked",
)
def get_satisfaction_comments(params: SatisfactionQuery):
    paths, start, end = scoped(params)
    return CommentList(items=[CommentOut(**c) for c in queries.comments(queries.answers(paths, start, end))])


def survey_file(params) -> Response:
    paths, start, end = scoped(params)
    rows = queries.survey_rows(queries.answers(paths, start, end))
    if params.format == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "survey"
        append_row(ws, queries.SURVEY_HEADER)
        for row in rows:
            append_row(ws, row)
        out = io.BytesIO()
        wb.save(out)
        response = Response(
            out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(queries.SURVEY_HEADER)
        for row in rows:
            writer.writerow(csv_row(row))
        response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="satisfaction-survey.{params.format}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@api.endpoint(
    "/reports/satisfaction/survey",
    query=ExportQuery,
    errors=(403, 404, 422),
    summary="The survey export (format=csv|xlsx): anonymised responses with venue, activity, month, rating",
)
def get_satisfaction_survey(params: ExportQuery):
    return survey_file(params)
