"""Reads on activities: the public listing with its filters, one activity page, calendar feeds."""

from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from markupsafe import Markup
from sqlalchemy import Date, and_, bindparam, case, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from activities.models import Activity, ActivityKind, ActivityStatus, Session, SessionStatus
from core.db import UTCDateTime
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
    # Named parameters: a statement built once can be run again for another moment (`card_page`).
    now_p = bindparam("list_now", now, type_=UTCDateTime())
    today_p = bindparam("list_today", to_local(now).date(), type_=Date())
    exhibition_open = and_(Activity.kind == ActivityKind.exhibition, Activity.ends_on >= today_p)
    return (
        select(Activity)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(Activity.status == ActivityStatus.published, or_(Activity.live_until > now_p, exhibition_open))
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


def signup_opening_select(now: datetime):
    """Published classes whose sign-up opens after `now`, soonest opening first (the home page's 即将开放),
    for `cards`."""
    return (
        select(Activity)
        .join(Venue, Venue.id == Activity.venue_id)
        .where(
            Activity.status == ActivityStatus.published,
            Activity.kind == ActivityKind.course,
            Activity.signup_opens_at > now,
        )
        .order_by(Activity.signup_opens_at, Activity.id)
    )


# --- cards: the list, the home page, the venue page and search read plain rows, not ORM objects ---------------

# A card shows the best of an activity's next sessions (activities/booking_state.py looks at 60 at most).
CARD_SESSIONS = 60


class CardVenue:
    """What a card shows of the venue (`|localized` reads `name` and `name_en`)."""

    __slots__ = ("id", "name", "name_en")

    def __init__(self, id: int, name: str, name_en: str | None) -> None:  # noqa: A002 - the column's name
        self.id, self.name, self.name_en = id, name, name_en


class CardSlot:
    """An upcoming live session as the booking-state rule reads it (a `Session`'s attributes)."""

    __slots__ = ("id", "starts_at", "capacity", "seats_taken")
    is_live = True
    status = SessionStatus.scheduled

    def __init__(self, id: int, starts_at: datetime, capacity: int, seats_taken: int) -> None:  # noqa: A002
        self.id, self.starts_at, self.capacity, self.seats_taken = id, starts_at, capacity, seats_taken


class Card:
    """An activity as a card reads it, from one row: the attributes of `Activity` that the card and the
    booking-state rule (activities/booking_state.py: `activity_state`) read, with the same properties and
    `window_for` borrowed from `Activity`, so the rule stays written once. `live_sessions` holds only the
    upcoming ones (at most CARD_SESSIONS; the rule looks at no others), and `first_start` is read in SQL."""

    COLUMNS = (
        "id",
        "kind",
        "status",
        "policy",
        "category",
        "title",
        "cover_image",
        "next_starts_at",
        "starts_on",
        "ends_on",
        "capacity",
        "seats_taken",
        "has_waiting_list",
        "signup_opens_at",
        "signup_closes_at",
    )
    __slots__ = (*COLUMNS, "first_start", "venue", "live_sessions")
    is_course = Activity.is_course
    seats_left = Activity.seats_left
    window_for = Activity.window_for

    @property
    def sessions(self) -> list:
        return self.live_sessions


_CARD_COLUMNS = [getattr(Activity, c) for c in Card.COLUMNS]


def _first_start():
    """A course's first live lesson (`Activity.first_start`), the only cards that read it."""
    first = (
        select(func.min(Session.starts_at))
        .where(Session.activity_id == Activity.id, Session.status == SessionStatus.scheduled)
        .correlate(Activity)
        .scalar_subquery()
    )
    return case((Activity.kind == ActivityKind.course, first), else_=None)


def _card_statement(stmt, now: datetime, extra: list | None = None):
    """`stmt` (an `activity_select`) reading a card's columns instead of ORM objects. On PostgreSQL each row
    also carries its upcoming live sessions (at most CARD_SESSIONS, as a JSON array), so a page of cards is
    one statement; elsewhere (SQLite in tests) `_cards_from` reads them with a second one."""
    columns = [*_CARD_COLUMNS, _first_start(), Venue.id, Venue.name, Venue.name_en]
    if _one_statement():
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        upcoming = (
            select(Session.id, Session.starts_at, Session.capacity, Session.seats_taken)
            .where(
                Session.activity_id == Activity.id,
                Session.status == SessionStatus.scheduled,
                Session.starts_at > bindparam("card_now", now, type_=UTCDateTime()),
                Activity.kind != ActivityKind.course,
            )
            .order_by(Session.starts_at, Session.id)
            .limit(CARD_SESSIONS)
            .correlate(Activity)
            .subquery()
        )
        u = upcoming.c
        slots = func.json_agg(
            aggregate_order_by(func.json_build_array(u.id, u.starts_at, u.capacity, u.seats_taken), u.starts_at, u.id)
        )
        columns.append(select(slots).select_from(upcoming).scalar_subquery())
    return stmt.with_only_columns(*columns, *(extra or []), maintain_column_froms=True)


def _one_statement() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _slot(item: list) -> CardSlot:
    starts_at = datetime.fromisoformat(item[1])
    starts_at = starts_at.replace(tzinfo=UTC) if starts_at.tzinfo is None else starts_at.astimezone(UTC)
    return CardSlot(item[0], starts_at, item[2], item[3])


def _cards_from(rows, now: datetime) -> list[Card]:
    """Cards of the rows (of `_card_statement`), with the upcoming live sessions of those that are not courses:
    from the row's JSON on PostgreSQL, else from one more query."""
    cards, by_id = [], {}
    n = len(Card.COLUMNS) + 1  # the columns, then first_start
    names = (*Card.COLUMNS, "first_start")
    in_row = _one_statement()
    for row in rows:
        card = Card()
        for name, value in zip(names, row[:n], strict=True):
            setattr(card, name, value)
        card.venue = CardVenue(row[n], row[n + 1], row[n + 2])
        card.live_sessions = [_slot(item) for item in row[n + 3] or ()] if in_row else []
        cards.append(card)
        if not in_row and card.kind != ActivityKind.course and card.status == ActivityStatus.published:
            by_id[card.id] = card
    if by_id:
        ranked = (
            select(
                Session.activity_id,
                Session.id,
                Session.starts_at,
                Session.capacity,
                Session.seats_taken,
                func.row_number()
                .over(partition_by=Session.activity_id, order_by=(Session.starts_at, Session.id))
                .label("n"),
            )
            .where(
                Session.activity_id.in_(list(by_id)),
                Session.status == SessionStatus.scheduled,
                Session.starts_at > now,
            )
            .subquery()
        )
        slots = select(ranked.c.activity_id, ranked.c.id, ranked.c.starts_at, ranked.c.capacity, ranked.c.seats_taken)
        for activity_id, *slot in db.session.execute(
            slots.where(ranked.c.n <= CARD_SESSIONS).order_by(ranked.c.activity_id, ranked.c.n)
        ):
            by_id[activity_id].live_sessions.append(CardSlot(*slot))
    return cards


def cards(stmt, now: datetime, limit: int) -> list[Card]:
    """The first `limit` activities of `stmt` (an `activity_select`) as cards (one statement on PostgreSQL)."""
    return _cards_from(db.session.execute(_card_statement(stmt, now).limit(limit)), now)


# Statements of `card_page` built once per process for each set of filters without dates or a venue (building
# one through the ORM cost about as much as running it); run with the moment as parameters.
_PAGE_STATEMENTS: dict = {}


def _page_statement(filters: ActivityFilters, now: datetime, cap: int):
    """The card statement of `filters` with the count of matches up to `cap` as its last column."""
    key = (astuple(filters), cap, db.session.get_bind().dialect.name)
    reusable = filters.from_on is None and filters.to_on is None and filters.venue_id is None
    found = _PAGE_STATEMENTS.get(key) if reusable else None
    if found is None:
        stmt = activity_select(filters, now)
        ids = stmt.order_by(None).with_only_columns(Activity.id, maintain_column_froms=True).limit(cap + 1)
        counted = select(func.count()).select_from(ids.subquery()).scalar_subquery()
        paged = _card_statement(stmt, now, [counted]).limit(bindparam("page_rows")).offset(bindparam("page_skip"))
        found = (paged, counted)
        if reusable:
            if len(_PAGE_STATEMENTS) > 512:
                _PAGE_STATEMENTS.clear()
            _PAGE_STATEMENTS[key] = found
    return found


def card_page(filters: ActivityFilters, now: datetime, page: int, *, per_page: int = 20, cap: int = 200):
    """Page `page` of the activities matching `filters` as cards (a `core.pagination.Window`), in one statement
    on PostgreSQL: the page's rows carry their sessions and the count of matches up to `cap` (an uncorrelated
    subquery, evaluated once)."""
    from core.pagination import Window

    paged, counted = _page_statement(filters, now, cap)
    params = {"list_now": now, "list_today": to_local(now).date(), "card_now": now}
    rows = db.session.execute(paged, {**params, "page_rows": per_page + 1, "page_skip": (page - 1) * per_page}).all()
    has_next = len(rows) > per_page
    items = _cards_from(rows[:per_page], now)
    seen = (page - 1) * per_page + len(items)
    if not has_next:  # as core.pagination.window: this page ends the list
        total = seen if items or page == 1 else db.session.execute(select(counted), params).scalar_one()
        return Window(items, page, per_page, total, False, False)
    total = max(rows[0][-1], seen + 1)
    return Window(items, page, per_page, min(total, cap), total > cap, True)


def activity_page(activity_id: int) -> Activity | None:
    """One activity with its venue and sessions (rooms loaded), in one statement (a row per session)."""
    stmt = (
        select(Activity)
        .where(Activity.id == activity_id)
        .options(joinedload(Activity.sessions).joinedload(Session.room), joinedload(Activity.room))
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


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
