"""Never more volunteers than places, one sign-up per person, one check-in per ticket: threads, each with its own
app context, session and connection, committing for real (on PostgreSQL too when it is reachable)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import User
from core.extensions import db
from tests import factories as f
from tests.concurrency import race, worker_app_for
from tests.volunteers import world
from volunteers import services
from volunteers.models import SignupStatus, VolunteerSignup, VolunteerTask

THREADS = 20


@pytest.fixture
def worker_app(app):
    with worker_app_for(app, THREADS) as other:
        yield other


def _volunteers(w, n: int) -> list[int]:
    ids = []
    for i in range(n):
        user = f.resident(f"1376000{i:04d}", name="志愿者")
        v = services.register_volunteer(
            user, data={"venue": w.net["station"], "skills": ["guiding"], "availability": ["weekend"]}
        )
        services.approve_volunteer(v, actor=w.staff)
        ids.append(user.id)
    f.commit()
    return ids


def test_concurrent_signups_never_exceed_the_places_and_one_per_person(app, worker_app):
    w = world.build(places=5)
    users = _volunteers(w, 30)
    task_id = w.task.id

    def attempt(i):
        user = db.session.get(User, users[i % len(users)])
        services.sign_up(db.session.get(VolunteerTask, task_id), user=user)

    outcomes = race(worker_app, attempt, 40, threads=THREADS)
    assert outcomes["ok"] == 5, outcomes
    assert set(outcomes) <= {"ok", "full", "duplicate"}, outcomes
    db.session.expire_all()
    task = db.session.get(VolunteerTask, task_id)
    active = db.session.execute(
        select(func.count(VolunteerSignup.id)).where(
            VolunteerSignup.task_id == task_id, VolunteerSignup.status == SignupStatus.confirmed
        )
    ).scalar_one()
    assert task.places_taken == active == 5


def test_one_person_racing_themself_gets_one_signup(app, worker_app):
    w = world.build(places=10)
    task_id, user_id = w.task.id, w.resident.id

    def attempt(_i):
        services.sign_up(db.session.get(VolunteerTask, task_id), user=db.session.get(User, user_id))

    outcomes = race(worker_app, attempt, 12, threads=12)
    assert outcomes["ok"] == 1 and outcomes["duplicate"] == 11, outcomes
    db.session.expire_all()
    assert db.session.get(VolunteerTask, task_id).places_taken == 1


def test_a_ticket_scanned_at_two_doors_at_once_checks_in_once(app, worker_app):
    w = world.build(places=2, starts_in=timedelta(minutes=20))
    signup = services.sign_up(w.task, user=w.resident)
    f.commit()
    payload, door_id = services.ticket_payload(signup), w.door.id

    def attempt(_i):
        services.scan_ticket(payload, actor=db.session.get(User, door_id))

    outcomes = race(worker_app, attempt, 10, threads=10)
    assert outcomes["ok"] == 1 and outcomes["already_checked_in"] == 9, outcomes
