"""No oversell and no double booking under real concurrency: threads, each with its own app context,
session and connection, committing for real, on SQLite and PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from accounts import services as accounts
from activities.models import Session
from bookings import services
from bookings.models import SEAT_STATUSES, Booking, BookingStatus
from core.errors import DomainError
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f
from tests.concurrency import worker_app_for

THREADS = 40


@pytest.fixture
def worker_app(app):
    """A second app on the same database whose pool lets every worker thread hold its own connection."""
    with worker_app_for(app, THREADS) as other:
        yield other


def _residents(n: int) -> list[int]:
    hashed = accounts.hash_password(f.PASSWORD)
    ids = []
    for i in range(n):
        user = f.resident(f"1370000{i:04d}")
        user.password_hash = hashed
        ids.append(user.id)
    return ids


def _book_in_thread(worker_app, barrier, user_id: int, session_id: int) -> str:
    barrier.wait()
    with worker_app.app_context():
        from accounts.models import User

        try:
            user = db.session.get(User, user_id)
            session = db.session.get(Session, session_id)
            request = services.BookingRequest(activity=session.activity, session=session)
            booking = services.book(user, data=request, actor=user)
            db.session.commit()
            return booking.status.value
        except DomainError as err:
            db.session.rollback()
            return err.code
        finally:
            db.session.remove()


def _book_by_api(worker_app, barrier, user_id: int, session_id: int) -> str:
    """The same race through POST /api/v1/bookings (a request: no savepoint, the refusal rolls back)."""
    from accounts.auth import issue_token
    from accounts.models import User

    with worker_app.app_context():
        token = issue_token(db.session.get(User, user_id))[0]
        db.session.remove()
    client = worker_app.test_client()
    barrier.wait()
    answer = client.post(
        "/api/v1/bookings", json={"session_id": session_id}, headers={"Authorization": f"Bearer {token}"}
    )
    body = answer.get_json()
    return body["status"] if answer.status_code == 201 else body["error"]["code"]


def _cancel_in_thread(worker_app, barrier, booking_id: int) -> str:
    barrier.wait()
    with worker_app.app_context():
        try:
            booking = db.session.get(Booking, booking_id)
            services.cancel_booking(booking, actor=booking.user)
            db.session.commit()
            return "cancelled"
        except DomainError as err:
            db.session.rollback()
            return err.code
        finally:
            db.session.remove()


def _run(worker_app, calls: list[tuple]) -> list[str]:
    barrier = threading.Barrier(min(THREADS, len(calls)), timeout=60)
    # Every batch of THREADS calls starts together, so each one really races the others.
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(fn, worker_app, barrier, *args) for fn, *args in calls]
        return [fut.result(timeout=300) for fut in futures]


def _seat_holders(session_id: int) -> int:
    return db.session.execute(
        select(func.coalesce(func.sum(Booking.party_size), 0)).where(
            Booking.session_id == session_id, Booking.status.in_(SEAT_STATUSES)
        )
    ).scalar()


def test_200_concurrent_requests_for_30_seats_take_exactly_30_and_one_booking_per_person(app, worker_app):
    act = af.activity(capacity=30)
    session_id = af.first_session(act).id
    users = _residents(100)
    f.commit()
    calls = [(_book_in_thread, uid, session_id) for uid in users for _ in range(2)]
    results = _run(worker_app, calls)
    db.session.expire_all()
    session = db.session.get(Session, session_id)
    assert len(results) == 200
    assert session.seats_taken == 30
    assert _seat_holders(session_id) == 30
    assert results.count("confirmed") == 30
    assert results.count("waitlisted") == 70
    assert results.count("duplicate") == 100
    per_person = db.session.execute(
        select(Booking.user_id, func.count()).where(Booking.session_id == session_id).group_by(Booking.user_id)
    ).all()
    assert len(per_person) == 100 and all(n == 1 for _u, n in per_person)


@pytest.mark.parametrize("waiting_list", [True, False])
def test_the_same_race_through_the_api_takes_exactly_30_and_one_booking_per_person(app, worker_app, waiting_list):
    """Through the API a session booking takes no account lock and no savepoint: the conditional UPDATE and the
    unique index decide, and a refusal rolls the request back whole."""
    act = af.activity(capacity=30, has_waiting_list=waiting_list)
    session_id = af.first_session(act).id
    users = _residents(80)
    f.commit()
    results = _run(worker_app, [(_book_by_api, uid, session_id) for uid in users for _ in range(2)])
    db.session.expire_all()
    assert db.session.get(Session, session_id).seats_taken == 30
    assert _seat_holders(session_id) == 30
    assert results.count("confirmed") == 30, sorted(set(results))
    if waiting_list:  # everyone holds one booking; each second request is a duplicate
        assert results.count("waitlisted") == 50 and results.count("duplicate") == 80, sorted(set(results))
    else:  # a second request meets the unit full or the first booking, whichever comes first
        assert results.count("full") + results.count("duplicate") == 130
    per_person = db.session.execute(
        select(Booking.user_id, func.count()).where(Booking.session_id == session_id).group_by(Booking.user_id)
    ).all()
    assert len(per_person) == (80 if waiting_list else 30) and all(n == 1 for _u, n in per_person)


def test_200_concurrent_requests_without_a_waiting_list_never_oversell(app, worker_app):
    act = af.activity(capacity=30, has_waiting_list=False)
    session_id = af.first_session(act).id
    users = _residents(200)
    f.commit()
    results = _run(worker_app, [(_book_in_thread, uid, session_id) for uid in users])
    db.session.expire_all()
    assert db.session.get(Session, session_id).seats_taken == 30
    assert results.count("confirmed") == 30 and results.count("full") == 170
    assert db.session.query(Booking).count() == 30


def test_the_last_seat_freed_by_a_cancellation_racing_new_bookings_goes_to_exactly_one(app, worker_app):
    act = af.activity(capacity=30)
    session = af.first_session(act)
    session_id = session.id
    holders = _residents(30)
    from accounts.models import User

    bookings = [af.book(db.session.get(User, uid), act) for uid in holders]
    newcomers = [f.resident(f"1360000{i:04d}").id for i in range(39)]
    cancelled_id = bookings[0].id
    f.commit()  # from here the main thread touches nothing until the workers finish (SQLite locks on BEGIN)
    calls = [(_cancel_in_thread, cancelled_id)] + [(_book_in_thread, uid, session_id) for uid in newcomers]
    results = _run(worker_app, calls)
    db.session.expire_all()
    assert results[0] == "cancelled"
    assert db.session.get(Session, session_id).seats_taken == 30
    assert _seat_holders(session_id) == 30
    newcomer_seats = (
        db.session.query(Booking).filter(Booking.user_id.in_(newcomers), Booking.status.in_(SEAT_STATUSES)).count()
    )
    assert newcomer_seats == 1
    assert db.session.query(Booking).filter_by(status=BookingStatus.waitlisted).count() == 38


def test_concurrent_cancellations_offer_each_freed_seat_to_a_different_waiting_person(app, worker_app):
    act = af.activity(capacity=10)
    session_id = af.first_session(act).id
    from accounts.models import User

    users = _residents(25)
    booked = [af.book(db.session.get(User, uid), act) for uid in users]
    confirmed = [b.id for b in booked[:10]]
    f.commit()
    results = _run(worker_app, [(_cancel_in_thread, bid) for bid in confirmed])
    db.session.expire_all()
    assert results.count("cancelled") == 10
    assert db.session.get(Session, session_id).seats_taken == 10
    assert db.session.query(Booking).filter_by(status=BookingStatus.offered).count() == 10
    assert _seat_holders(session_id) == 10
