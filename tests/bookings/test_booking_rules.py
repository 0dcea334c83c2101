"""The booking rules of docs/product.md, through the services: windows, capacity, one per person, limits,
eligibility, waiting list, approval, cancellation."""

from datetime import timedelta

import pytest
from blinker import ANY

from accounts.models import Gender
from activities.models import Activity, Session
from bookings import services, signals
from bookings.models import Booking, BookingStatus
from core.errors import Invalid, NotFound
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f


def _count(status) -> int:
    return db.session.query(Booking).filter_by(status=status).count()


def test_first_come_booking_takes_seats_counting_the_party(app):
    act = af.activity(capacity=5)
    user = f.resident()
    kid = af.member(user)
    booking = af.book(user, act, participant_ids=[user.self_participant.id, kid.id])
    assert booking.status == BookingStatus.confirmed
    assert booking.party_size == 2
    assert af.first_session(act).seats_taken == 2


def test_a_full_session_puts_the_next_booking_on_the_waiting_list(app):
    act = af.activity(capacity=1)
    af.book(f.resident(), act)
    second = af.book(f.resident(), act)
    assert second.status == BookingStatus.waitlisted
    assert services.waitlist_position(second) == 1
    assert af.first_session(act).seats_taken == 1


def test_without_a_waiting_list_a_full_session_is_refused_and_nothing_is_kept(app):
    act = af.activity(capacity=1, has_waiting_list=False)
    af.book(f.resident(), act)
    with pytest.raises(services.Full):
        af.book(f.resident(), act)


def test_a_visibly_full_session_refuses_before_any_insert_or_seat_update(app):
    """Hot sign-up: most requests meet a full unit; they are answered from the counter, without a savepoint,
    an INSERT into bookings or a wait on the unit's row lock (bench/RESULTS.md)."""
    from tests.dbs import recorded_statements

    act = af.activity(capacity=1, has_waiting_list=False)
    holder = af.book(f.resident(), act).user
    late = f.resident()
    with recorded_statements(db) as sent, pytest.raises(services.Full):
        af.book(late, act)
    statements = [s.lstrip().upper() for s in sent]
    assert not [s for s in statements if s.startswith(("INSERT", "UPDATE", "SAVEPOINT"))], statements
    with pytest.raises(services.Duplicate):  # the holder still hears "already booked", not "full"
        af.book(holder, act)


def test_a_party_larger_than_the_seats_left_is_not_squeezed_in(app):
    act = af.activity(capacity=2)
    af.book(f.resident(), act)
    user = f.resident()
    booking = af.book(user, act, party_size=2)
    assert booking.status == BookingStatus.waitlisted
    assert af.first_session(act).seats_taken == 1


def test_a_second_booking_for_the_same_session_is_a_duplicate(app):
    act = af.activity()
    user = f.resident()
    first = af.book(user, act)
    with pytest.raises(services.Duplicate) as err:
        af.book(user, act)
    assert err.value.extra["booking_id"] == first.id
    assert af.first_session(act).seats_taken == 1


def test_after_cancelling_the_person_may_book_again(app):
    act = af.activity()
    user = f.resident()
    first = af.book(user, act)
    services.cancel_booking(first, actor=user, now=af.now())
    again = af.book(user, act)
    assert again.status == BookingStatus.confirmed
    assert af.first_session(act).seats_taken == 1


@pytest.mark.parametrize("party", [0, -1, 4])
def test_party_size_out_of_range_is_invalid(app, party):
    act = af.activity()
    with pytest.raises(Invalid) as err:
        af.book(f.resident(), act, party_size=party)
    assert "party_size" in err.value.extra["fields"]


def test_party_size_above_the_activity_limit_is_invalid(app):
    act = af.activity(max_party_size=1)
    with pytest.raises(Invalid):
        af.book(f.resident(), act, party_size=2)


def test_a_participant_who_is_not_yours_is_refused(app):
    act = af.activity()
    other = f.resident()
    with pytest.raises(Invalid) as err:
        af.book(f.resident(), act, participant_ids=[other.self_participant.id])
    assert "participant_ids" in err.value.extra["fields"]


def test_sign_ups_before_the_window_opens_are_refused_with_the_opening_time(app):
    opens = af.now() + timedelta(days=1)
    act = af.activity(signup_opens_at=opens)
    with pytest.raises(services.NotOpen) as err:
        af.book(f.resident(), act)
    assert err.value.extra["opens_at"] == opens


def test_sign_ups_after_the_window_closes_are_refused(app):
    act = af.activity(signup_closes_at=af.now() + timedelta(days=1))
    with pytest.raises(services.Closed):
        af.book(f.resident(), act, at=af.now() + timedelta(days=2))


def test_a_started_session_cannot_be_booked(app):
    act = af.activity(starts_in=timedelta(hours=1))
    with pytest.raises(services.Closed):
        af.book(f.resident(), act, at=af.now() + timedelta(hours=1, minutes=5))


def test_a_cancelled_session_cannot_be_booked(app):
    from activities import services as activities

    venue = f.venue()
    staff = f.staff(venue)
    act = af.activity(venue, actor=staff, sessions=2)
    activities.cancel_session(act.sessions[0], reason="天气", actor=staff, now=af.now())
    with pytest.raises(services.Closed):
        af.book(f.resident(), act, act.sessions[0])
    assert af.book(f.resident(), act, act.sessions[1]).status == BookingStatus.confirmed


def test_a_draft_activity_cannot_be_booked(app):
    act = af.activity(publish=False)
    with pytest.raises(NotFound):
        af.book(f.resident(), act)


def test_a_walk_in_activity_takes_no_bookings(app):
    act = af.activity(policy="walk_in")
    with pytest.raises(services.NotBookable):
        af.book(f.resident(), act)


def test_eligibility_checks_age_on_the_first_lesson_date(app):
    year = af.now().year
    act = af.activity(age_min=6, age_max=12)
    user = f.resident(birth_year=1960)
    kid = af.member(user, birth_year=year - 8)
    with pytest.raises(services.Ineligible):
        af.book(user, act)
    assert af.book(user, act, participant_ids=[kid.id]).status == BookingStatus.confirmed


def test_eligibility_checks_gender_and_real_name(app):
    act = af.activity(gender="female", is_real_name_required=True)
    user = f.resident()
    no_id = af.member(user, name="李欣怡", gender=Gender.female)
    boy = af.member(user, name="王浩", gender=Gender.male, id_number="211100201601011234")
    girl = af.member(user, name="李雨桐", gender=Gender.female, id_number="211100201601011245")
    for p in (no_id, boy):
        with pytest.raises(services.Ineligible):
            af.book(user, act, participant_ids=[p.id])
    assert af.book(user, act, participant_ids=[girl.id]).status == BookingStatus.confirmed


def test_unnamed_companions_are_refused_when_the_activity_has_conditions(app):
    act = af.activity(age_min=60)
    user = f.resident(birth_year=1950)
    with pytest.raises(Invalid):
        af.book(user, act, party_size=2)


def test_a_resident_may_hold_at_most_three_class_enrolments(app):
    user = f.resident()
    venue = f.venue()
    staff = f.staff(venue)
    courses = [af.activity(venue, actor=staff, kind="course", sessions=3, title=f"班{i}") for i in range(4)]
    for course in courses[:3]:
        assert af.book(user, course).status == BookingStatus.confirmed
    with pytest.raises(services.LimitReached):
        af.book(user, courses[3])
    assert courses[3].seats_taken == 0


def test_a_course_enrolment_counts_on_the_course_not_on_its_lessons(app):
    course = af.activity(kind="course", sessions=4, capacity=2)
    af.book(f.resident(), course)
    af.book(f.resident(), course)
    third = af.book(f.resident(), course)
    assert course.seats_taken == 2
    assert third.status == BookingStatus.waitlisted
    assert all(s.seats_taken == 0 for s in course.sessions)


def test_a_suspended_resident_cannot_book(app):
    act = af.activity()
    user = f.resident()
    user.suspended_until = af.now() + timedelta(days=3)
    with pytest.raises(services.Suspended):
        af.book(user, act)


def test_cancelling_frees_the_seat_and_offers_it_to_the_first_waiting_at_once(app):
    act = af.activity(capacity=1, starts_in=timedelta(days=3))
    holder = f.resident()
    first = af.book(holder, act)
    waiting = [af.book(f.resident(), act) for _ in range(2)]
    received = []

    def listener(sender, **kw):
        received.append(kw)

    signals.offer_made.connect(listener, weak=False)
    try:
        services.cancel_booking(first, actor=holder, now=af.now())
    finally:
        signals.offer_made.disconnect(listener)  # only ours: clearing all dropped the outbox's receivers
    db.session.refresh(waiting[0])
    assert waiting[0].status == BookingStatus.offered
    assert waiting[0].hold_expires_at == af.now() + timedelta(hours=12)
    assert waiting[1].status == BookingStatus.waitlisted
    assert af.first_session(act).seats_taken == 1
    assert received[0]["booking_id"] == waiting[0].id and received[0]["user_id"] == waiting[0].user_id


def test_the_offer_goes_to_the_first_waiting_party_that_fits(app):
    act = af.activity(capacity=2)
    a, b = f.resident(), f.resident()
    first = af.book(a, act)
    af.book(b, act)
    big = af.book(f.resident(), act, party_size=2)
    small = af.book(f.resident(), act)
    services.cancel_booking(first, actor=a, now=af.now())
    assert big.status == BookingStatus.waitlisted
    assert small.status == BookingStatus.offered


def test_an_offer_close_to_the_start_is_confirmed_at_once(app):
    act = af.activity(capacity=1, starts_in=timedelta(hours=2, minutes=30))
    holder = f.resident()
    first = af.book(holder, act)
    waiting = af.book(f.resident(), act)
    services.cancel_booking(first, actor=holder, now=af.now())
    assert waiting.status == BookingStatus.confirmed
    assert waiting.hold_expires_at is None


def test_an_offer_never_lasts_past_the_cancellation_deadline(app):
    act = af.activity(capacity=1, starts_in=timedelta(hours=8))
    holder = f.resident()
    first = af.book(holder, act)
    waiting = af.book(f.resident(), act)
    services.cancel_booking(first, actor=holder, now=af.now())
    assert waiting.hold_expires_at == af.first_session(act).starts_at - timedelta(hours=2)


def test_accepting_an_offer_confirms_it_and_a_late_answer_is_refused(app):
    act = af.activity(capacity=1)
    holder, late = f.resident(), f.resident()
    first = af.book(holder, act)
    offered = af.book(late, act)
    services.cancel_booking(first, actor=holder, now=af.now())
    with pytest.raises(services.Closed):
        services.accept_offer(offered, actor=late, now=af.now() + timedelta(hours=13))
    services.accept_offer(offered, actor=late, now=af.now() + timedelta(hours=1))
    assert offered.status == BookingStatus.confirmed


def test_cancelling_late_counts_as_a_no_show(app):
    act = af.activity(starts_in=timedelta(hours=3))
    user = f.resident()
    booking = af.book(user, act)
    services.cancel_booking(booking, actor=user, now=af.now() + timedelta(hours=1, minutes=30))
    assert booking.status == BookingStatus.cancelled
    assert booking.counted_as_no_show is True
    assert services.credit_of(user, af.now() + timedelta(hours=2)).strikes_used == 1


def test_cancelling_in_time_is_free(app):
    act = af.activity(starts_in=timedelta(hours=3))
    user = f.resident()
    booking = af.book(user, act)
    services.cancel_booking(booking, actor=user, now=af.now() + timedelta(minutes=30))
    assert booking.counted_as_no_show is False
    assert af.first_session(act).seats_taken == 0


def test_someone_elses_booking_cannot_be_cancelled(app):
    act = af.activity()
    booking = af.book(f.resident(), act)
    with pytest.raises(NotFound):
        services.cancel_booking(booking, actor=f.resident(), now=af.now())


def test_a_cancelled_booking_cannot_be_cancelled_twice(app):
    act = af.activity()
    user = f.resident()
    booking = af.book(user, act)
    services.cancel_booking(booking, actor=user, now=af.now())
    with pytest.raises(services.InvalidTransition):
        services.cancel_booking(booking, actor=user, now=af.now())
    assert af.first_session(act).seats_taken == 0


def test_approval_policy_holds_sign_ups_until_staff_decide_in_bulk(app):
    venue = f.venue()
    staff = f.staff(venue)
    act = af.activity(venue, actor=staff, policy="approval", capacity=2)
    pending = [af.book(f.resident(), act) for _ in range(4)]
    assert {b.status for b in pending} == {BookingStatus.pending}
    assert af.first_session(act).seats_taken == 0
    results = services.decide_bookings(pending[:3], approve=True, reason="", actor=staff, now=af.now())
    assert list(results.values()) == ["confirmed", "confirmed", "full"]
    rejected = services.decide_bookings(pending[2:], approve=False, reason="名额已满", actor=staff, now=af.now())
    assert set(rejected.values()) == {"rejected"}
    assert pending[3].decision_reason == "名额已满"
    assert af.first_session(act).seats_taken == 2


def test_rejecting_needs_a_reason_and_staff_in_scope(app):
    net = f.network()
    act = af.activity(net["station"], policy="approval")
    booking = af.book(f.resident(), act)
    with pytest.raises(Invalid):
        services.decide_bookings([booking], approve=False, reason="", actor=f.staff(net["station"]), now=af.now())
    from core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.decide_bookings([booking], approve=True, reason="", actor=f.staff(net["sibling"]), now=af.now())


def test_staff_can_book_on_behalf_of_a_caller(app):
    venue = f.venue()
    staff = f.staff(venue)
    act = af.activity(venue, actor=staff)
    caller = f.resident()
    request = services.BookingRequest(activity=act, session=af.first_session(act))
    booking = services.book(caller, data=request, actor=staff, now=af.now())
    assert booking.user_id == caller.id and booking.booked_by_id == staff.id


def test_cancelling_a_session_cancels_its_bookings_and_tells_each_holder(app):
    from activities import services as activities

    venue = f.venue()
    staff = f.staff(venue)
    act = af.activity(venue, actor=staff, capacity=1)
    confirmed = af.book(f.resident(), act)
    waiting = af.book(f.resident(), act)
    told = []

    def listener(sender, **kw):
        told.append(kw["booking_id"])

    signals.booking_cancelled_by_organiser.connect(listener, weak=False)
    try:
        activities.cancel_session(af.first_session(act), reason="停电", actor=staff, now=af.now())
    finally:
        signals.booking_cancelled_by_organiser.disconnect(
            listener
        )  # only ours: clearing all dropped the outbox's receivers
    assert sorted(told) == sorted([confirmed.id, waiting.id])
    assert confirmed.status == waiting.status == BookingStatus.cancelled
    assert af.first_session(act).seats_taken == 0


def test_moving_a_session_tells_everyone_booked(app):
    from activities import services as activities

    venue = f.venue()
    staff = f.staff(venue)
    act = af.activity(venue, actor=staff)
    booking = af.book(f.resident(), act)
    told = []

    def listener(sender, **kw):
        told.append(kw)

    signals.booking_session_moved.connect(listener, weak=False)
    session = af.first_session(act)
    new_start = session.starts_at + timedelta(days=1)
    try:
        activities.move_session(
            session, starts_at=new_start, ends_at=new_start + timedelta(hours=2), actor=staff, now=af.now()
        )
    finally:
        signals.booking_session_moved.disconnect(listener)  # only ours: clearing all dropped the outbox's receivers
    assert told[0]["booking_id"] == booking.id and told[0]["starts_at"] == new_start
    assert booking.status == BookingStatus.confirmed


def test_booking_signals_carry_plain_ids(app):
    act = af.activity(capacity=1)
    got = []

    def listener(sender, **kw):
        got.append(kw)

    signals.booking_confirmed.connect(listener, sender=ANY, weak=False)
    try:
        booking = af.book(f.resident(), act)
    finally:
        signals.booking_confirmed.disconnect(listener)  # only ours: clearing all dropped the outbox's receivers
    assert got[0]["booking_id"] == booking.id
    assert got[0]["session_id"] == af.first_session(act).id
    assert got[0]["via"] == "booking"


def test_seat_counters_cannot_exceed_capacity_even_by_direct_sql(app):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    act = af.activity(capacity=2)
    with pytest.raises(IntegrityError):
        db.session.execute(update(Session).where(Session.id == af.first_session(act).id).values(seats_taken=3))
        db.session.flush()
    db.session.rollback()
    act2 = af.activity(kind="course", capacity=2)
    with pytest.raises(IntegrityError):
        db.session.execute(update(Activity).where(Activity.id == act2.id).values(seats_taken=3))
        db.session.flush()
    db.session.rollback()


def test_staff_writes_leave_an_audit_trail(app):
    from core.audit import AuditEntry

    venue = f.venue()
    staff = f.staff(venue)
    act = af.activity(venue, actor=staff, policy="approval")
    booking = services.book(
        f.resident(),
        data=services.BookingRequest(activity=act, session=af.first_session(act)),
        actor=staff,
        now=af.now(),
    )
    services.decide_bookings([booking], approve=True, reason="", actor=staff, now=af.now())
    mine = db.session.query(AuditEntry).filter(AuditEntry.action != "role.grant").order_by(AuditEntry.id)
    actions = [e.action for e in mine]
    assert actions == [
        "activity.create",
        "session.create",
        "activity.publish",
        "booking.create_for_caller",
        "booking.approve",
    ]
    assert {e.actor_id for e in mine} == {staff.id}
