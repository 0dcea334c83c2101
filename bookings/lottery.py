"""The lottery (摇号): a draw anyone can re-run from the published seed and the public entry list.

Draw order: sort the entry numbers (booking ids) by SHA-256 of "<seed>:<entry number>" as a hex string,
ascending. Reserved-quota seats go first to quota-eligible entries in that order, then the remaining
seats to every entry left, in the same order; an entry whose party does not fit the seats left is
passed over (it joins the waiting list in draw order, like every entry not drawn).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from activities.models import Activity, Session
from bookings import signals
from bookings.models import Booking, BookingStatus, LotteryDraw, unit_key_for, unit_keys
from bookings.services import claim_booking, offer_deadline, signal_kwargs, take_seats
from core.errors import NotFound
from core.extensions import db


def draw_key(seed: str, entry_number: int) -> str:
    return hashlib.sha256(f"{seed}:{entry_number}".encode()).hexdigest()


def draw_order(seed: str, entry_numbers: list[int]) -> list[int]:
    """The entry numbers in draw order for `seed` (what the verification page tells people to compute)."""
    return sorted(entry_numbers, key=lambda n: draw_key(seed, n))


def pick_winners(seed: str, entries: list[tuple[int, int, bool]], seats: int, quota: int) -> list[int]:
    """Winning entry numbers from (number, party size, quota eligible) entries, in draw order."""
    by_number = {n: (party, eligible) for n, party, eligible in entries}
    order = draw_order(seed, list(by_number))
    winners: list[int] = []
    quota_left, seats_left = min(quota, seats), seats
    for n in order:
        party, eligible = by_number[n]
        if eligible and party <= quota_left and party <= seats_left:
            winners.append(n)
            quota_left -= party
            seats_left -= party
    for n in order:
        party, _eligible = by_number[n]
        if n not in winners and party <= seats_left:
            winners.append(n)
            seats_left -= party
    return winners


def draw_unit(
    activity: Activity, session: Session | None, now: datetime, seed: str | None = None
) -> LotteryDraw | None:
    """Draw one unit: claim it by inserting its `LotteryDraw` (unique per unit), then seat the winners.

    Returns None when another worker already drew it. Winners are offered their seats until the
    confirmation deadline; the others wait in draw order.
    """
    unit_key = unit_key_for(activity, session)
    draw = LotteryDraw(
        unit_key=unit_key,
        activity_id=activity.id,
        session_id=session.id if session else None,
        seed=seed or secrets.token_hex(16),
        drawn_at=now,
        reserved_quota=activity.reserved_quota,
    )
    try:
        with db.session.begin_nested():
            db.session.add(draw)
            db.session.flush()
    except IntegrityError:
        return None
    entries = (
        db.session.execute(select(Booking).where(Booking.unit_key == unit_key, Booking.status == BookingStatus.entered))
        .scalars()
        .all()
    )
    unit = activity if activity.is_course else session
    draw.seats = max(0, unit.capacity - unit.seats_taken)
    draw.entries = len(entries)
    winners = pick_winners(
        draw.seed, [(b.id, b.party_size, b.is_quota_eligible) for b in entries], draw.seats, activity.reserved_quota
    )
    rank = {n: i + 1 for i, n in enumerate(draw_order(draw.seed, [b.id for b in entries]))}
    for booking in sorted(entries, key=lambda b: rank[b.id]):
        if booking.id in winners and take_seats(activity, session, booking.party_size):
            _seat_winner(booking, rank[booking.id], now)
            draw.winners += 1
        elif claim_booking(booking, BookingStatus.entered, BookingStatus.waitlisted, draw_rank=rank[booking.id]):
            signals.lottery_lost.send(
                booking, draw_rank=rank[booking.id], waitlisted=True, **signal_kwargs(booking, now)
            )
    db.session.flush()
    return draw


def _seat_winner(booking: Booking, rank: int, now: datetime) -> None:
    hold = offer_deadline(booking, now, hours=booking.activity.confirm_hours)
    to = BookingStatus.offered if hold else BookingStatus.confirmed
    claim_booking(booking, BookingStatus.entered, to, draw_rank=rank, hold_expires_at=hold, updated_at=now)
    signals.lottery_won.send(booking, confirm_by=hold, draw_rank=rank, **signal_kwargs(booking, now))
    if hold is None:
        signals.booking_confirmed.send(booking, via="lottery", **signal_kwargs(booking, now))


def _entries_of(unit_keys):
    return (
        Booking.unit_key.in_(unit_keys),
        (Booking.draw_rank.isnot(None)) | (Booking.status == BookingStatus.entered),
    )


def entry_list(unit_key: str) -> list:
    """Every entry of a lottery unit (drawn or not) by entry number, with the entrant's name, in one query:
    rows of (id, name, party_size, is_quota_eligible, draw_rank) for the public list, shown masked."""
    stmt = (
        select(Booking.id, User.name, Booking.party_size, Booking.is_quota_eligible, Booking.draw_rank)
        .join(User, User.id == Booking.user_id)
        .where(*_entries_of([unit_key]))
        .order_by(Booking.id)
    )
    return list(db.session.execute(stmt))


def entry_counts(unit_keys: list[str]) -> dict[str, int]:
    """How many entries each lottery unit has (the activity page shows the count and links to the list)."""
    rows = db.session.execute(
        select(Booking.unit_key, func.count()).where(*_entries_of(unit_keys)).group_by(Booking.unit_key)
    )
    return {key: 0 for key in unit_keys} | dict(rows.all())


@dataclass
class PublicUnit:
    """What anyone may see of one lottery unit: the draw (seed, counts; None before it) and every entry."""

    activity: Activity
    unit: str
    session: Session | None
    draw: LotteryDraw | None
    rows: list


def public_unit(activity_id: int, unit: str) -> PublicUnit:
    """The public record of lottery unit `unit` of a published lottery activity, for the page and the API.
    With the seed and the entry list, anyone can re-run the draw. Raises NotFound for anything else."""
    activity = _public_lottery(activity_id)
    if unit not in unit_keys(activity):
        raise NotFound()
    return _unit_record(activity, unit)


def public_units(activity_id: int) -> list[PublicUnit]:
    """The public record of every unit of a published lottery activity (one per session, or the course)."""
    activity = _public_lottery(activity_id)
    return [_unit_record(activity, unit) for unit in unit_keys(activity)]


def _public_lottery(activity_id: int) -> Activity:
    from activities.models import ActivityStatus
    from activities.queries import activity_page

    activity = activity_page(activity_id)
    if activity is None or activity.status == ActivityStatus.draft or activity.policy.value != "lottery":
        raise NotFound()
    return activity


def _unit_record(activity: Activity, unit: str) -> PublicUnit:
    session = None if activity.is_course else next(s for s in activity.sessions if f"s{s.id}" == unit)
    draw = db.session.execute(select(LotteryDraw).where(LotteryDraw.unit_key == unit)).scalar_one_or_none()
    return PublicUnit(activity, unit, session, draw, entry_list(unit))
