"""Reads of the digital library: the public search, a course's recorded lessons, staff lists in scope,
and a brand's programme, past editions and figures."""

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, or_, select

from activities.models import Activity, ActivityStatus, Session, SessionStatus
from core.extensions import db
from core.i18n import to_local
from resources.models import Brand, Collection, Play, Resource, ResourceKind, ResourceStatus
from venues.models import Venue
from venues.queries import subtree_clause


@dataclass(frozen=True)
class ResourceFilters:
    q: str | None = None
    category: str | None = None
    venue_id: int | None = None
    kind: str | None = None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def resource_select(f: ResourceFilters, *, public: bool = True) -> Select:
    """Published resources matching the filters (title, description or heritage item; category; a venue's
    subtree; kind), newest first."""
    stmt = select(Resource)
    if public:
        stmt = stmt.where(Resource.status == ResourceStatus.ready)
    if f.q:
        pattern = _like(f.q)
        stmt = stmt.where(
            or_(
                Resource.title.ilike(pattern, escape="\\"),
                Resource.description.ilike(pattern, escape="\\"),
                Resource.heritage_item.ilike(pattern, escape="\\"),
            )
        )
    if f.category:
        stmt = stmt.where(Resource.category == f.category)
    if f.kind:
        stmt = stmt.where(Resource.kind == f.kind)
    if f.venue_id:
        venue = db.session.get(Venue, f.venue_id)
        path = venue.path if venue else "/nowhere/"
        stmt = stmt.join(Venue, Venue.id == Resource.venue_id).where(Venue.path.startswith(path))
    return stmt.order_by(Resource.created_at.desc(), Resource.id.desc())


def resources_of_activity(activity_id: int) -> list:
    """A course's (or event's) published recordings, oldest first: its recorded lessons, as rows of what the
    activity page shows (id, title, duration_seconds). Every fresh activity page runs it, most finding none:
    a Core statement built once, not ORM objects."""
    return db.session.execute(_lessons_statement(), {"activity_id": activity_id}).all()


@functools.cache
def _lessons_statement():
    return (
        select(Resource.id, Resource.title, Resource.duration_seconds)
        .where(Resource.activity_id == bindparam("activity_id"), Resource.status == ResourceStatus.ready)
        .order_by(Resource.created_at, Resource.id)
    )


def staff_resources(user, limit: int = 200) -> list[Resource]:
    """Every resource (in any state) at the venues the user manages, newest first."""
    stmt = (
        select(Resource)
        .join(Venue, Venue.id == Resource.venue_id)
        .where(subtree_clause(user.scope_paths()))
        .order_by(Resource.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def staff_brands(user) -> list[Brand]:
    stmt = (
        select(Brand)
        .join(Venue, Venue.id == Brand.venue_id)
        .where(subtree_clause(user.scope_paths()))
        .order_by(Brand.name)
    )
    return list(db.session.execute(stmt).scalars())


def staff_collections(user) -> list[Collection]:
    stmt = (
        select(Collection)
        .join(Venue, Venue.id == Collection.venue_id)
        .where(subtree_clause(user.scope_paths()))
        .order_by(Collection.title)
    )
    return list(db.session.execute(stmt).scalars())


def public_brands() -> list[Brand]:
    return list(db.session.execute(select(Brand).where(Brand.is_active.is_(True)).order_by(Brand.name)).scalars())


def public_collections() -> list[Collection]:
    stmt = select(Collection).where(Collection.is_published.is_(True)).order_by(Collection.title)
    return list(db.session.execute(stmt).scalars())


def brand_activities(brand_id: int) -> list[Activity]:
    """The brand's published, finished (and not cancelled) activities, soonest session first."""
    stmt = (
        select(Activity)
        .where(Activity.brand_id == brand_id, Activity.status.in_((ActivityStatus.published, ActivityStatus.finished)))
        .order_by(Activity.next_starts_at.is_(None), Activity.next_starts_at, Activity.id)
    )
    return list(db.session.execute(stmt).scalars())


def brand_programme(brand_id: int, now: datetime) -> tuple[list[Activity], dict[int, list[Activity]]]:
    """What's on (activities with a session to come) and past editions by year (local year of their last
    session), newest year first."""
    upcoming, past = [], defaultdict(list)
    for activity in brand_activities(brand_id):
        if activity.next_starts_at is not None and activity.status == ActivityStatus.published:
            upcoming.append(activity)
            continue
        last = activity.live_until or activity.created_at
        past[to_local(last).year].append(activity)
    return upcoming, dict(sorted(past.items(), reverse=True))


def brand_photos(brand_id: int, limit: int = 12) -> list[Resource]:
    """Published images of the brand or of its activities (the photos of past editions)."""
    activity_ids = select(Activity.id).where(Activity.brand_id == brand_id)
    stmt = (
        select(Resource)
        .where(
            Resource.status == ResourceStatus.ready,
            Resource.kind == ResourceKind.image,
            or_(Resource.brand_id == brand_id, Resource.activity_id.in_(activity_ids)),
        )
        .order_by(Resource.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def brand_figures(brand_id: int, now: datetime, *, first=None, last=None) -> dict:
    """A brand's own figures: sessions held (ended, not cancelled), attendances (check-ins and walk-ins),
    venues reached, and the online plays of its resources; optionally within [first, last) UTC."""
    from checkin.models import CheckIn, WalkIn

    held = (
        select(Session.id)
        .join(Activity, Activity.id == Session.activity_id)
        .where(Activity.brand_id == brand_id, Session.status == SessionStatus.scheduled, Session.ends_at <= now)
    )
    if first is not None:
        held = held.where(Session.starts_at >= first, Session.starts_at < last)
    sessions = db.session.execute(select(func.count()).select_from(held.subquery())).scalar_one()
    checked = db.session.execute(
        select(func.coalesce(func.sum(CheckIn.party_size), 0)).where(CheckIn.session_id.in_(held))
    ).scalar_one()
    walked = db.session.execute(
        select(func.coalesce(func.sum(WalkIn.count), 0)).where(WalkIn.session_id.in_(held))
    ).scalar_one()
    venues = db.session.execute(
        select(func.count(func.distinct(Activity.venue_id)))
        .join(Session, Session.activity_id == Activity.id)
        .where(Session.id.in_(held))
    ).scalar_one()
    activity_ids = select(Activity.id).where(Activity.brand_id == brand_id)
    plays_stmt = (
        select(func.count(Play.id))
        .join(Resource, Resource.id == Play.resource_id)
        .where(or_(Resource.brand_id == brand_id, Resource.activity_id.in_(activity_ids)))
    )
    if first is not None:
        plays_stmt = plays_stmt.where(Play.played_at >= first, Play.played_at < last)
    plays = db.session.execute(plays_stmt).scalar_one()
    return {
        "sessions_held": int(sessions),
        "attendances": int(checked) + int(walked),
        "venues_reached": int(venues),
        "online_plays": int(plays),
    }


def play_count(resource_id: int) -> int:
    return db.session.execute(select(func.count(Play.id)).where(Play.resource_id == resource_id)).scalar_one()
