"""Periodic work as idempotent sweepers: claim, re-check, act, mark; running one twice does nothing more.

The scheduler (notify/) calls these with the current time; each commits per item so
a failure leaves what was done done and the rest for the next run. Each returns how many items it
handled.
"""

import logging
from datetime import datetime

from sqlalchemy import select

from activities.models import Activity, ActivityStatus, Policy, Session, SessionStatus
from bookings import signals
from bookings.lottery import draw_unit
from bookings.models import Booking, BookingStatus, LotteryDraw
from bookings.services import claim_booking, offer_freed_seats, record_strike, release_seats, signal_kwargs
from core.extensions import db

log = logging.getLogger(__name__)


def draw_due_lotteries(now: datetime) -> int:
    """Draw every lottery unit whose sign-up window has closed and that has no draw yet."""
    drawn = select(LotteryDraw.unit_key)
    candidates = db.session.execute(
        select(Booking.activity_id, Booking.session_id)
        .join(Activity, Activity.id == Booking.activity_id)
        .where(
            Booking.status == BookingStatus.entered,
            Booking.unit_key.not_in(drawn),
            Activity.policy == Policy.lottery,
            Activity.status == ActivityStatus.published,
        )
        .distinct()
    ).all()
    done = 0
    for activity_id, session_id in candidates:
        activity = db.session.get(Activity, activity_id)
        session = db.session.get(Session, session_id) if session_id else None
        closes = activity.window_for(session)[1]
        if closes is None or closes > now or (session is not None and session.status != SessionStatus.scheduled):
            continue
        if draw_unit(activity, session, now) is not None:
            done += 1
        db.session.commit()
    return done


def expire_offers(now: datetime) -> int:
    """Held seats whose answer deadline passed: expire them and offer the seats to the next in line."""
    due = (
        db.session.execute(
            select(Booking.id)
            .where(Booking.status == BookingStatus.offered, Booking.hold_expires_at <= now)
            .order_by(Booking.hold_expires_at)
        )
        .scalars()
        .all()
    )
    done = 0
    for booking_id in due:
        booking = db.session.get(Booking, booking_id)
        if booking is None or booking.hold_expires_at is None or booking.hold_expires_at > now:
            continue
        if claim_booking(booking, BookingStatus.offered, BookingStatus.expired, updated_at=now):
            release_seats(booking.activity, booking.session, booking.party_size)
            signals.offer_expired.send(booking, **signal_kwargs(booking, now))
            offer_freed_seats(booking.activity, booking.session, now)
            done += 1
        db.session.commit()
    return done


def mark_no_shows(now: datetime) -> int:
    """Confirmed session bookings with no check-in by the session's end become no-shows (a strike).

    Course enrolments are left alone until per-lesson attendance exists (see bookings.models).
    """
    due = (
        db.session.execute(
            select(Booking.id)
            .join(Session, Session.id == Booking.session_id)
            .where(
                Booking.status == BookingStatus.confirmed,
                Booking.checked_in_at.is_(None),
                Session.ends_at <= now,
                Session.status == SessionStatus.scheduled,
            )
            .order_by(Booking.id)
        )
        .scalars()
        .all()
    )
    done = 0
    for booking_id in due:
        booking = db.session.get(Booking, booking_id)
        if booking.checked_in_at is None and claim_booking(
            booking, BookingStatus.confirmed, BookingStatus.no_show, updated_at=now
        ):
            record_strike(booking, now)
            done += 1
        db.session.commit()
    return done


# What the scheduler (notify/) runs, and how often: name → (job, seconds between runs).
# `flask jobs run NAME --now ISO` calls the same functions.
JOBS = {
    "draw_due_lotteries": (draw_due_lotteries, 60),
    "expire_offers": (expire_offers, 60),
    "mark_no_shows": (mark_no_shows, 300),
}
