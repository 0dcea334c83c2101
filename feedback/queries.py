"""满意度 figures: ratings of attended sessions (feedback) and of delivered service orders (orders), by venue,
district, category and month, in the caller's scope; the comments behind them (names masked); the survey export.

An order's rating counts for the venue that provided the service; a session's for the venue that ran it.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from accounts.models import User, mask_name
from activities.models import CATEGORY_LABELS as ACTIVITY_CATEGORIES
from activities.models import Activity
from core.extensions import db
from core.i18n import local_datetime, to_local
from feedback.models import TAG_LABELS, Feedback
from orders.models import CATEGORY_LABELS as ORDER_CATEGORIES
from orders.models import MenuItem, ServiceOrder
from venues.models import District, Venue
from venues.queries import subtree_clause

GROUPS = ("venue", "district", "category", "month", "activity")


def period_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Local dates → [from, to) aware instants (the end day included)."""
    lo = local_datetime(start, time.min) if start else None
    hi = local_datetime(end + timedelta(days=1), time.min) if end else None
    return lo, hi


@dataclass
class Answer:
    source: str  # "activity" or "order"
    id: int
    venue_id: int
    venue: str
    district_code: str
    category: str
    activity_id: int | None
    activity: str
    rating: int
    tags: list
    comment: str
    at: datetime
    person: str


def answers(paths: list[str], start: date | None = None, end: date | None = None) -> list[Answer]:
    """Every rating at venues under `paths` in the period, oldest first."""
    lo, hi = period_bounds(start, end)
    found: list[Answer] = []
    q = (
        select(Feedback, Venue, Activity, User.name)
        .join(Venue, Venue.id == Feedback.venue_id)
        .join(Activity, Activity.id == Feedback.activity_id)
        .outerjoin(User, User.id == Feedback.user_id)
        .where(subtree_clause(paths))
    )
    if lo is not None:
        q = q.where(Feedback.created_at >= lo)
    if hi is not None:
        q = q.where(Feedback.created_at < hi)
    for fb, venue, activity, name in db.session.execute(q):
        found.append(
            Answer(
                "activity",
                fb.id,
                venue.id,
                venue.name,
                venue.district_code,
                f"activity:{activity.category.value}",
                activity.id,
                activity.title,
                fb.rating,
                list(fb.tags or []),
                fb.comment,
                fb.created_at,
                name or "",
            )
        )
    q = (
        select(ServiceOrder, Venue, MenuItem.title, User.name)
        .join(Venue, Venue.id == ServiceOrder.provider_venue_id)
        .outerjoin(MenuItem, MenuItem.id == ServiceOrder.menu_item_id)
        .outerjoin(User, User.id == ServiceOrder.ordered_by_id)
        .where(subtree_clause(paths), ServiceOrder.rating.is_not(None), ServiceOrder.rated_at.is_not(None))
    )
    if lo is not None:
        q = q.where(ServiceOrder.rated_at >= lo)
    if hi is not None:
        q = q.where(ServiceOrder.rated_at < hi)
    for order, venue, item_title, name in db.session.execute(q):
        category = order.category or (order.menu_item.category if order.menu_item else None)
        found.append(
            Answer(
                "order",
                order.id,
                venue.id,
                venue.name,
                venue.district_code,
                f"order:{category.value}" if category else "order:custom",
                order.activity_id,
                item_title or order.custom_title or "",
                order.rating,
                [],
                order.rating_comment or "",
                order.rated_at,
                name or "",
            )
        )
    return sorted(found, key=lambda a: a.at)


def category_label(key: str) -> str:
    kind, _sep, value = key.partition(":")
    labels = ACTIVITY_CATEGORIES if kind == "activity" else ORDER_CATEGORIES
    for k, label in labels.items():
        if k.value == value:
            return str(label)
    from flask_babel import gettext as _

    return _("Custom service")


def _mean(ratings: list[int]) -> float | None:
    return round(sum(ratings) / len(ratings), 2) if ratings else None


def summarise(found: list[Answer], group: str) -> dict:
    """{responses, mean, rows: [{key, label, responses, mean, low}]} grouped by `group`, lowest mean first."""
    districts = {d.code: d for d in db.session.execute(select(District)).scalars()}
    buckets: dict = defaultdict(list)
    labels: dict = {}
    for a in found:
        if group == "district":
            key = a.district_code
            d = districts.get(key)
            labels[key] = d.name if d else key
        elif group == "category":
            key = a.category
            labels[key] = category_label(key)
        elif group == "month":
            key = to_local(a.at).strftime("%Y-%m")
            labels[key] = key
        elif group == "activity":
            key = f"{a.source}:{a.activity_id or a.id}"
            labels[key] = f"{a.activity} · {a.venue}"
        else:
            key = a.venue_id
            labels[key] = a.venue
        buckets[key].append(a.rating)
    rows = [
        {
            "key": str(key),
            "label": labels[key],
            "responses": len(r),
            "mean": _mean(r),
            "low": sum(1 for x in r if x <= 2),
        }
        for key, r in buckets.items()
    ]
    if group == "month":
        rows.sort(key=lambda r: r["key"])
    else:
        rows.sort(key=lambda r: (r["mean"], -r["responses"], r["label"]))
    ratings = [a.rating for a in found]
    return {"responses": len(ratings), "mean": _mean(ratings), "rows": rows}


def comments(found: list[Answer], limit: int = 200) -> list[dict]:
    """The answers with a comment, newest first, names masked (张*兰)."""
    rows = [a for a in found if a.comment]
    rows.sort(key=lambda a: a.at, reverse=True)
    return [
        {
            "source": a.source,
            "venue_id": a.venue_id,
            "venue": a.venue,
            "activity": a.activity,
            "rating": a.rating,
            "tags": a.tags,
            "comment": a.comment,
            "at": a.at,
            "by": mask_name(a.person) if a.person else "",
        }
        for a in rows[:limit]
    ]


def lowest(found: list[Answer], group: str, n: int = 5, min_responses: int = 1) -> list[dict]:
    rows = [r for r in summarise(found, group)["rows"] if r["responses"] >= min_responses]
    return rows[:n]


SURVEY_HEADER = (
    "response",
    "source",
    "district",
    "venue",
    "category",
    "activity_or_service",
    "month",
    "rating",
    "tags",
    "comment",
)


def survey_rows(found: list[Answer]) -> list[list]:
    """Anonymised responses for a third-party survey: no names, no phones, no ids of people; a running number."""
    districts = {d.code: d.name for d in db.session.execute(select(District)).scalars()}
    tag_labels = {k.value: str(v) for k, v in TAG_LABELS.items()}
    return [
        [
            i,
            a.source,
            districts.get(a.district_code, a.district_code),
            a.venue,
            category_label(a.category),
            a.activity,
            to_local(a.at).strftime("%Y-%m"),
            a.rating,
            "、".join(tag_labels.get(t, t) for t in a.tags),
            a.comment,
        ]
        for i, a in enumerate(found, start=1)
    ]
