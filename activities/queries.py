"""Reads on activities: the public listing with its filters, one activity page, calendar feeds."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from markupsafe import Markup
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from activities.models import Activity, ActivityKind, ActivityStatus, Session, SessionStatus
from core.extensions import db
from core.i18n import local_datetime, to_local
from venues.models import Venue


@dataclass
class ActivityFilters:
    """The public filters; every field optional."""

    venue_id: int | None = None
    district: str | None = None
    kind: str | None = None
    category: str | None = None
    from_on: date | None = None
    to_on: date | None = None
    age: int | None = None
    q: str | None = None
    # Categories whose name the free text names (书法 → calligraphy): matched besides the LIKE on the text.
    q_categories: tuple = ()


def activity_select(filters: ActivityFilters, now: datetime):
    """Published activities matching `filters` with a session (or exhibition day) in the date range,
    soonest first. Free text is a LIKE on title, summary and series, which works for Chinese.

    Without dates (the usual list) it reads the stored schedule (activities/schedule.py): walks the index
    on `next_starts_at` and stops after a page. With a date range it computes each activity's first
    session in the range."""
    if filters.from_on is None and filters.to_on is None:
        return _filtered(_upcoming(now), filters)
    lower = local_datetime(filters.from_on, time.min) if filters.from_on else now
    upper = local_datetime(filters.to_on + timedelta(days=1), time.min) if filters.to_on else None
    in_range = [Session.activity_id == Activity.id, Session.status == SessionStatus.scheduled, Session.ends_at > lower]
    if upper is not None:
        in_range.append(Session.starts_at < upper)
    next_start = select(func.min(Session.starts_at)).where(*in_range).correlate(Activity).scalar_subquery()
    low_day = filters.from_on or lower.date()
    exhibition_days = and_(
        Activity.kind == ActivityKind.exhibition,
        Activity.ends_on >= low_day,
        Activity.starts_on <= (filters.to_on or date.max),
    )
    stmt = (
        select(Activity)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(
            Activity.status == ActivityStatus.published,
            or_(exists(select(Session.id).where(*in_range).correlate(Activity)), exhibition_days),
        )
        .order_by(next_start.is_(None), next_start, Activity.id)
    )
    return _filtered(stmt, filters)


def _upcoming(now: datetime):
    """Published activities with a live session ending after `now` (or an exhibition still open), by their
    stored next session, then exhibitions without sessions: an index walk, 20 rows a page."""
    exhibition_open = and_(Activity.kind == ActivityKind.exhibition, Activity.ends_on >= to_local(now).date())
    return (
        select(Activity)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(Activity.status == ActivityStatus.published, or_(Activity.live_until > now, exhibition_open))
        .order_by(Activity.next_starts_at.asc().nulls_last(), Activity.id)
    )


def _filtered(stmt, f: ActivityFilters):
    if f.venue_id:
        root = db.session.get(Venue, f.venue_id)
        stmt = stmt.where(Venue.path.startswith(root.path) if root else Venue.id.is_(None))
    if f.district:
        stmt = stmt.where(Venue.district_code == f.district)
    if f.kind:
        stmt = stmt.where(Activity.kind == f.kind)
    if f.category:
        stmt = stmt.where(Activity.category == f.category)
    if f.age is not None:
        stmt = stmt.where(
            or_(Activity.age_min.is_(None), Activity.age_min <= f.age),
            or_(Activity.age_max.is_(None), Activity.age_max >= f.age),
        )
    if f.q:
        like = "%" + f.q.replace("\\", "").replace("%", "").replace("_", "") + "%"
        matches = [Activity.title.ilike(like), Activity.summary.ilike(like), Activity.series.ilike(like)]
        if f.q_categories:
            matches.append(Activity.category.in_(f.q_categories))
        stmt = stmt.where(or_(*matches))
    return stmt


def with_sessions(stmt):
    """`stmt` with each activity's sessions loaded in one more query: what a card's booking state reads."""
    return stmt.options(selectinload(Activity.sessions))


def signup_opening_soon(now: datetime, limit: int = 6) -> list[Activity]:
    """Published classes whose sign-up opens after `now`, soonest opening first (the home page's 即将开放)."""
    stmt = (
        select(Activity)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(
            Activity.status == ActivityStatus.published,
            Activity.kind == ActivityKind.course,
            Activity.signup_opens_at > now,
        )
        .order_by(Activity.signup_opens_at, Activity.id)
        .limit(limit)
    )
    return list(db.session.execute(with_sessions(stmt)).scalars())


def activity_page(activity_id: int) -> Activity | None:
    """One activity with its venue and sessions (rooms loaded), in one round of queries."""
    stmt = (
        select(Activity)
        .where(Activity.id == activity_id)
        .options(selectinload(Activity.sessions).joinedload(Session.room), joinedload(Activity.room))
    )
    return db.session.execute(stmt).scalar_one_or_none()


def sessions_for_feed(
    *, venue: Venue | None = None, district: str | None = None, now: datetime, days_back: int = 30, limit: int = 2000
) -> list[Session]:
    """Live sessions of published activities under a venue (subtree) or in a district, for a feed."""
    stmt = (
        select(Session)
        .join(Activity, Activity.id == Session.activity_id)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(
            Activity.status == ActivityStatus.published,
            Session.status == SessionStatus.scheduled,
            Session.ends_at > now - timedelta(days=days_back),
        )
        .options(selectinload(Session.activity), selectinload(Session.room))
        .order_by(Session.starts_at)
        .limit(limit)
    )
    if venue is not None:
        stmt = stmt.where(Venue.path.startswith(venue.path))
    if district is not None:
        stmt = stmt.where(Venue.district_code == district)
    return list(db.session.execute(stmt).scalars())


def sessions_between(start: datetime, end: datetime, filters: ActivityFilters, limit: int = 500) -> list[Session]:
    """Live sessions of published activities in [start, end), with the listing's filters, for the calendar."""
    stmt = (
        select(Session)
        .join(Activity, Activity.id == Session.activity_id)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(
            Activity.status == ActivityStatus.published,
            Session.status == SessionStatus.scheduled,
            Session.starts_at >= start,
            Session.starts_at < end,
        )
        .options(selectinload(Session.activity), selectinload(Session.room))
        .order_by(Session.starts_at)
        .limit(limit)
    )
    return list(db.session.execute(_filtered(stmt, filters)).scalars())


def staff_activities(paths: list[str], *, status: str | None = None):
    """Activities at venues under the staff member's scope paths, newest first."""
    from venues.queries import subtree_clause

    stmt = (
        select(Activity)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(subtree_clause(paths))
        .order_by(Activity.created_at.desc(), Activity.id.desc())
    )
    if status:
        stmt = stmt.where(Activity.status == status)
    return stmt


def render_description(text: str) -> Markup:
    """Markdown (no raw HTML) rendered and sanitised: safe to show."""
    return Markup(_rendered(text or ""))


@lru_cache(maxsize=1024)
def _rendered(text: str) -> str:
    """Per process: building the parser and sanitising cost ~2 ms a page view (bench/RESULTS.md); a description
    changes rarely, and a changed one is a new key."""
    import nh3

    return nh3.clean(_markdown().render(text))


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})
