"""JSON API for the venue directory (docs/api.md)."""

from pydantic import Field

from core.api import ApiBlueprint, OutSchema, Page, Schema, paginate
from core.errors import NotFound
from venues.models import RoomKind, VenueKind
from venues.queries import venue_page, venue_select

api = ApiBlueprint("venues_api", __name__, tag="venues")


class VenueQuery(Schema):
    kind: VenueKind | None = None
    parent: int | None = Field(default=None, ge=1)
    district: str | None = Field(default=None, max_length=40)
    q: str | None = Field(default=None, max_length=100)
    page: int = Field(default=1, ge=1, le=10_000)


class VenueOut(OutSchema):
    id: int
    name: str
    name_en: str | None
    kind: VenueKind
    parent_id: int | None
    district: str = Field(validation_alias="district_code")
    address: str
    lat: float | None
    lon: float | None
    phone: str
    floor_area: int | None


class RoomOut(OutSchema):
    id: int
    name: str
    kind: RoomKind
    capacity: int
    floor_area: int | None
    bookable: bool = Field(validation_alias="is_bookable")
    self_service: bool = Field(validation_alias="is_self_service")


class HoursOut(OutSchema):
    weekday: int
    opens_at: str
    closes_at: str


class VenueDetail(VenueOut):
    rooms: list[RoomOut]
    opening_hours: list[HoursOut]
    weekly_hours: float


@api.endpoint(
    "/venues",
    query=VenueQuery,
    response=Page[VenueOut],
    auth=False,
    summary="Venues of the network by kind, parent and district",
)
def list_venues(params: VenueQuery):
    stmt = venue_select(kind=params.kind, parent_id=params.parent, district=params.district, q=params.q)
    return paginate(stmt, params.page, per_page=50)


@api.endpoint("/venues/<int:venue_id>", response=VenueDetail, auth=False, summary="One venue with its rooms")
def get_venue(venue_id: int):
    venue = venue_page(venue_id)
    if venue is None or not venue.is_active:
        raise NotFound()
    data = VenueOut.model_validate(venue).model_dump()
    data["rooms"] = [RoomOut.model_validate(r) for r in venue.rooms if r.is_active]
    data["opening_hours"] = [
        HoursOut(weekday=h.weekday, opens_at=h.opens_at.strftime("%H:%M"), closes_at=h.closes_at.strftime("%H:%M"))
        for h in venue.hours
    ]
    data["weekly_hours"] = venue.weekly_hours
    return VenueDetail(**data)
