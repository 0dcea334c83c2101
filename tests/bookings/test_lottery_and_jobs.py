"""The lottery draw, offers that expire and pass on, no-show marking, strikes and suspensions."""

from datetime import timedelta

import pytest

from bookings import jobs, lottery, services, signals
from bookings.models import Booking, BookingStatus, LotteryDraw
from core.errors import Invalid
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f
from venues.models import VenueKind


def _lottery_course(capacity=3, entries=6, **fields):
    closes = af.now() + timedelta(days=2)
    course = af.activity(
        kind="course",
        policy="lottery",
        capacity=capacity,
        sessions=4,
        signup_closes_at=closes,
        starts_in=timedelta(days=10),
        **fields,
    )
    users = [f.resident() for _ in range(entries)]
    booked = [af.book(u, course) for u in users]
    return course, users, booked, closes


def test_lottery_sign_ups_are_entries_that_take_no_seat(app):
    course, _users, booked, _closes = _lottery_course()
    assert {b.status for b in booked} == {BookingStatus.entered}
    assert course.seats_taken == 0


def test_draw_order_is_reproducible_from_the_seed_alone():
    order = lottery.draw_order("abc", [5, 9, 12, 40])
    assert order == lottery.draw_order("abc", [40, 12, 9, 5])
    assert sorted(order) == [5, 9, 12, 40]
    import hashlib

    assert order == sorted([5, 9, 12, 40], key=lambda n: hashlib.sha256(f"abc:{n}".encode()).hexdigest())


def test_reserved_quota_seats_go_first_to_eligible_entries_in_draw_order():
    entries = [(n, 1, n in (7, 8)) for n in range(1, 11)]
    order = lottery.draw_order("seed", [n for n, _p, _e in entries])
    winners = lottery.pick_winners("seed", entries, seats=3, quota=2)
    assert set(winners[:2]) == {7, 8}
    assert winners[2] == next(n for n in order if n not in (7, 8))


def test_draw_runs_when_the_window_closes_and_only_once(app):
    course, _users, booked, closes = _lottery_course()
    db.session.commit()
    assert jobs.draw_due_lotteries(closes - timedelta(minutes=1)) == 0
    assert jobs.draw_due_lotteries(closes) == 1
    assert jobs.draw_due_lotteries(closes + timedelta(minutes=5)) == 0
    draw = db.session.query(LotteryDraw).one()
    statuses = [db.session.get(Booking, b.id).status for b in booked]
    assert statuses.count(BookingStatus.offered) == 3
    assert statuses.count(BookingStatus.waitlisted) == 3
    db.session.refresh(course)
    assert course.seats_taken == 3
    expected = lottery.pick_winners(draw.seed, [(b.id, 1, False) for b in booked], 3, 0)
    assert sorted(b.id for b in booked if db.session.get(Booking, b.id).status == BookingStatus.offered) == sorted(
        expected
    )


def test_winners_have_the_confirmation_deadline_and_losers_wait_in_draw_order(app):
    course, _users, booked, closes = _lottery_course(capacity=2, entries=4)
    db.session.commit()
    jobs.draw_due_lotteries(closes)
    rows = sorted((db.session.get(Booking, b.id) for b in booked), key=lambda b: b.draw_rank)
    assert [b.draw_rank for b in rows] == [1, 2, 3, 4]
    assert [b.status for b in rows] == [BookingStatus.offered] * 2 + [BookingStatus.waitlisted] * 2
    assert rows[0].hold_expires_at == closes + timedelta(hours=48)
    assert services.waitlist_position(rows[2]) == 1


def test_an_unconfirmed_win_expires_and_the_seat_passes_to_the_next_in_draw_order(app):
    course, users, booked, closes = _lottery_course(capacity=1, entries=3)
    db.session.commit()
    jobs.draw_due_lotteries(closes)
    rows = sorted((db.session.get(Booking, b.id) for b in booked), key=lambda b: b.draw_rank)
    expired_at = closes + timedelta(hours=48)
    assert jobs.expire_offers(expired_at - timedelta(minutes=1)) == 0
    assert jobs.expire_offers(expired_at) == 1
    assert jobs.expire_offers(expired_at) == 0
    for b in rows:
        db.session.refresh(b)
    assert [b.status for b in rows] == [BookingStatus.expired, BookingStatus.offered, BookingStatus.waitlisted]
    db.session.refresh(course)
    assert course.seats_taken == 1


def test_resident_enters_wins_confirms_and_sees_it(app):
    course, users, booked, closes = _lottery_course(capacity=6, entries=2)
    db.session.commit()
    jobs.draw_due_lotteries(closes)
    booking = db.session.get(Booking, booked[0].id)
    services.accept_offer(booking, actor=users[0], now=closes + timedelta(hours=1))
    assert booking.status == BookingStatus.confirmed


def test_draw_result_signals_winners_and_losers(app):
    _course, _users, booked, closes = _lottery_course(capacity=1, entries=2)
    db.session.commit()
    won, lost = [], []

    def on_won(sender, **kw):
        won.append(kw["booking_id"])

    def on_lost(sender, **kw):
        lost.append(kw["booking_id"])

    signals.lottery_won.connect(on_won, weak=False)
    signals.lottery_lost.connect(on_lost, weak=False)
    try:
        jobs.draw_due_lotteries(closes)
    finally:
        signals.lottery_won.disconnect(on_won)  # only ours: the outbox's receivers stay connected
        signals.lottery_lost.disconnect(on_lost)
    assert sorted(won + lost) == sorted(b.id for b in booked) and len(won) == 1


def test_event_lottery_is_drawn_per_session(app):
    closes = af.now() + timedelta(days=1)
    act = af.activity(policy="lottery", capacity=1, sessions=2, signup_closes_at=closes)
    for session in act.sessions:
        af.book(f.resident(), act, session)
        af.book(f.resident(), act, session)
    db.session.commit()
    assert jobs.draw_due_lotteries(closes) == 2
    assert {d.unit_key for d in db.session.query(LotteryDraw)} == {f"s{s.id}" for s in act.sessions}


def _event_booking(user, hours_ahead=4):
    act = af.activity(starts_in=timedelta(hours=hours_ahead))
    return af.book(user, act)


def test_no_shows_are_marked_after_the_session_ends_and_only_once(app):
    user = f.resident()
    booking = _event_booking(user)
    came = _event_booking(f.resident())
    came.checked_in_at = af.now() + timedelta(hours=4)
    db.session.commit()
    end = booking.session.ends_at
    assert jobs.mark_no_shows(end - timedelta(minutes=1)) == 0
    assert jobs.mark_no_shows(end) == 1
    assert jobs.mark_no_shows(end + timedelta(hours=1)) == 0
    db.session.refresh(booking)
    assert booking.status == BookingStatus.no_show and booking.counted_as_no_show
    assert db.session.get(Booking, came.id).status == BookingStatus.confirmed


def test_first_no_show_is_a_warning_and_three_in_90_days_suspend_for_30_days(app):
    user = f.resident()
    warnings, suspended = [], []

    def on_warning(sender, **kw):
        warnings.append(kw)

    def on_suspended(sender, **kw):
        suspended.append(kw)

    signals.no_show_recorded.connect(on_warning, weak=False)
    signals.user_suspended.connect(on_suspended, weak=False)
    try:
        bookings = [_event_booking(user, hours_ahead=4 + i) for i in range(3)]
        db.session.commit()
        end = max(b.session.ends_at for b in bookings)
        jobs.mark_no_shows(end)
    finally:
        signals.no_show_recorded.disconnect(on_warning)  # only ours: the outbox's receivers stay connected
        signals.user_suspended.disconnect(on_suspended)
    assert [w["strikes_left"] for w in warnings] == [2, 1]
    assert len(suspended) == 1
    db.session.refresh(user)
    assert user.suspended_until == end + timedelta(days=30)
    credit = services.credit_of(user, end)
    assert credit.suspended_until == end + timedelta(days=30)
    with pytest.raises(services.Suspended):
        af.book(user, af.activity(), at=end + timedelta(minutes=1))


def test_strikes_older_than_90_days_do_not_count(app):
    user = f.resident()
    old = _event_booking(user)
    services.record_strike(old, af.now() - timedelta(days=91))
    recent = _event_booking(user)
    services.record_strike(recent, af.now())
    credit = services.credit_of(user, af.now())
    assert (credit.strikes_used, credit.strikes_left) == (1, 2)


def test_staff_lift_a_suspension_with_a_note_and_the_resident_can_book_again(app):
    user = f.resident()
    hub = f.venue()
    for _ in range(3):
        services.record_strike(af.book(user, af.activity(hub, starts_in=timedelta(hours=4))), af.now())
    assert user.is_suspended(af.now())
    staff = f.staff(hub)
    with pytest.raises(Invalid):
        services.lift_suspension(user, note="", actor=staff, now=af.now())
    services.lift_suspension(user, note="家中有事，已说明", actor=staff, now=af.now())
    assert not user.is_suspended(af.now())
    assert services.credit_of(user, af.now()).strikes_used == 0
    assert af.book(user, af.activity()).status == BookingStatus.confirmed


def test_a_resident_cannot_lift_a_suspension(app):
    from core.errors import Forbidden

    user = f.resident()
    with pytest.raises(Forbidden):
        services.lift_suspension(user, note="x", actor=f.resident(), now=af.now())


def test_only_staff_whose_scope_covers_where_the_no_shows_happened_lift_the_suspension(app):
    from accounts.models import Role
    from core.errors import Forbidden

    hub = f.venue()
    village = f.venue(VenueKind.community, parent=f.venue(VenueKind.station, parent=hub))
    elsewhere = f.venue(VenueKind.community)
    user = f.resident()
    for _ in range(3):
        services.record_strike(af.book(user, af.activity(hub, starts_in=timedelta(hours=4))), af.now())
    for outsider in (f.staff(village), f.staff(elsewhere, Role.manager)):
        with pytest.raises(Forbidden):
            services.lift_suspension(user, note="误判", actor=outsider, now=af.now())
    assert user.is_suspended(af.now())
    services.lift_suspension(user, note="误判", actor=f.staff(hub), now=af.now())
    assert not user.is_suspended(af.now())
