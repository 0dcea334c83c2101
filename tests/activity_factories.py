"""Factories for activities, sessions and bookings, built through the real services (flush, no commit)."""

from datetime import UTC, datetime, timedelta

from accounts.models import Gender, Participant, Relation, User
from activities import services as activities
from activities.models import Activity, Session
from bookings import services as bookings
from bookings.models import Booking
from core.extensions import db
from tests import factories as f


def now() -> datetime:
    """A fixed 'now' rounded to the minute, well before the factories' sessions."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def activity(
    venue=None,
    *,
    kind: str = "event",
    policy: str = "first_come",
    capacity: int = 30,
    sessions: int = 1,
    starts_in: timedelta = timedelta(days=7),
    hours: int = 2,
    publish: bool = True,
    actor: User | None = None,
    room=None,
    at: datetime | None = None,
    **fields,
) -> Activity:
    """A published activity with `sessions` sessions a week apart, the first `starts_in` from now."""
    at = at or now()
    venue = venue or f.venue()
    actor = actor or f.staff(venue)
    data = {
        "kind": kind,
        "title": fields.pop("title", "春节联欢晚会"),
        "policy": policy,
        "capacity": capacity,
        "max_party_size": fields.pop("max_party_size", 3),
        **fields,
    }
    if room is not None:
        data["room_id"] = room.id
    act = activities.create_activity(venue, data=data, actor=actor, now=at)
    for i in range(sessions):
        start = at + starts_in + timedelta(days=7 * i)
        activities.add_session(act, starts_at=start, ends_at=start + timedelta(hours=hours), actor=actor, now=at)
    if publish:
        activities.publish_activity(act, actor=actor, now=at)
    return act


def first_session(act: Activity) -> Session:
    return act.sessions[0]


def member(
    user: User, name: str = "王小明", birth_year: int = 2016, gender: Gender | None = None, id_number: str | None = None
) -> Participant:
    p = Participant(
        user=user, name=name, birth_year=birth_year, relation=Relation.child, gender=gender, id_number=id_number
    )
    db.session.add(p)
    db.session.flush()
    return p


def book(
    user: User,
    act: Activity,
    session: Session | None = None,
    *,
    at: datetime | None = None,
    party_size: int | None = None,
    participant_ids: list[int] | None = None,
) -> Booking:
    if session is None and not act.is_course:
        session = first_session(act)
    request = bookings.BookingRequest(
        activity=act, session=None if act.is_course else session, party_size=party_size, participant_ids=participant_ids
    )
    return bookings.book(user, data=request, actor=user, now=at or now())
