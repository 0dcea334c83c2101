"""JSON API of the work catalogue: read a year's catalogue; fix lines and publish (staff in scope)."""

from datetime import datetime
from typing import Annotated

from flask_login import current_user
from pydantic import Field

from accounts.auth import require_venue_scope
from catalogue import queries, services
from catalogue.views import view_of
from core.api import ApiBlueprint, OutSchema, Schema
from core.errors import NotFound
from core.extensions import db
from venues.models import Venue

api = ApiBlueprint("catalogue_api", __name__, tag="catalogue")
ERRORS = (404, 405, 409)


class ScopeQuery(Schema):
    venue: int | None = Field(default=None, ge=1, le=2**31 - 1)


class LineOut(OutSchema):
    key: str
    section: str
    venue: str
    title: str
    detail: str
    is_fixed: bool
    change: str | None


class CatalogueOut(OutSchema):
    year: int
    venue_id: int
    status: str
    published_at: datetime | None
    lines: list[LineOut]


class FixIn(Schema):
    venue_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    keys: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=1000)
    fixed: bool = True


class PublishIn(Schema):
    venue_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


def _scope(venue_id: int | None) -> Venue:
    venue = db.session.get(Venue, venue_id) if venue_id else queries.root_venue()
    if venue is None:
        raise NotFound()
    return venue


def _out(scope: Venue, year: int) -> dict:
    view = view_of(scope, year, preview=scope.can_manage(current_user))
    edition = view["edition"]
    lines = [
        {**row, "is_fixed": row["key"] in view["fixed"], "change": row.get("change")}
        for section in view["sections"].values()
        for row in section
    ]
    return {
        "year": year,
        "venue_id": scope.id,
        "status": "published" if view["published"] else "draft",
        "published_at": edition.published_at if edition else None,
        "lines": lines,
    }


def _year(year: int) -> int:
    return services.check_year(year)


@api.endpoint(
    "/catalogue/<int:year>",
    query=ScopeQuery,
    response=CatalogueOut,
    auth=False,
    errors=ERRORS,
    summary="A year's public work catalogue (published lines, changes since marked)",
)
def get_catalogue(year: int, params: ScopeQuery):
    return _out(_scope(params.venue), _year(year))


@api.endpoint(
    "/catalogue/<int:year>/fixed",
    "POST",
    body=FixIn,
    response=CatalogueOut,
    errors=(*ERRORS, 403),
    summary="Mark lines of the year's catalogue fixed (固化), or not (staff, in scope)",
)
def fix_lines(year: int, data: FixIn):
    scope = _scope(data.venue_id)
    actor = require_venue_scope(scope)
    services.set_fixed(scope, year=_year(year), keys=data.keys, fixed=data.fixed, actor=actor)
    return _out(scope, year)


@api.endpoint(
    "/catalogue/<int:year>/publish",
    "POST",
    body=PublishIn,
    response=CatalogueOut,
    errors=(*ERRORS, 403),
    summary="Publish the year's catalogue as it is now (staff, in scope)",
)
def publish(year: int, data: PublishIn):
    scope = _scope(data.venue_id)
    actor = require_venue_scope(scope)
    services.publish(scope, year=_year(year), actor=actor)
    return _out(scope, year)
