"""Two dispatchers over the same queue, and a dispatcher killed mid-batch: each message goes out exactly once."""

import collections
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

import notify
from core.extensions import db
from notify.dispatcher import dispatch_due
from notify.models import Message, State
from tests import factories as f
from tests.notify import procs
from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN
from tests.notify.samples import SAMPLES

NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def enqueue_many(n: int, recipients: int) -> None:
    users = [f.resident() for _ in range(recipients)]
    for i in range(n):
        context = {**SAMPLES["reminder_24h"], "code": f"C{i:05d}"}
        notify.enqueue(
            users[i % recipients],
            "reminder_24h",
            context,
            dedupe_key=f"booking:{i}:reminder-24h",
            channels=["sms"],
            due_at=NOON - timedelta(minutes=1),
            now=NOON,
        )
    f.commit()


def states() -> collections.Counter:
    db.session.expire_all()
    counts = collections.Counter(db.session.scalars(sa.select(Message.state)))
    db.session.commit()
    return counts


def test_two_dispatchers_racing_over_1000_due_messages_send_each_exactly_once(app, fake_twilio, is_postgres):
    enqueue_many(1000, recipients=10)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def dispatcher(name: str):
        with app.app_context():
            try:
                barrier.wait()
                results.append(dispatch_due(NOON, batch_size=25, token=name))
            except BaseException as exc:  # noqa: BLE001 - surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=dispatcher, args=(f"dispatcher-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    bodies = collections.Counter(fake_twilio.bodies())
    assert len(bodies) == 1000 and set(bodies.values()) == {1}
    assert sum(r.sent for r in results) == 1000 and sum(r.lost for r in results) == 0
    if is_postgres:  # SKIP LOCKED: both really worked, on disjoint rows
        assert all(r.sent > 0 for r in results), [str(r) for r in results]
    assert states() == {State.sent: 1000}


def test_killing_the_dispatcher_mid_batch_loses_none_and_doubles_none(app, fake_twilio):
    enqueue_many(300, recipients=30)
    fake_twilio.delay = 0.01
    env = procs.env_for(
        app,
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM="+15005550006",
        TWILIO_API_BASE=fake_twilio.base_url,
    )
    first = procs.start(["jobs", "run", "dispatch", "--now", NOON.isoformat()], env)
    deadline = time.monotonic() + 120
    while len(fake_twilio.messages) < 120 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait()
    sent_before_crash = len(fake_twilio.messages)
    assert 120 <= sent_before_crash < 300, "the dispatcher must die mid-way"
    stuck = states()[State.sending]
    assert stuck > 0  # claimed by the dead process: its lease must run out first
    within_lease = procs.start(["jobs", "run", "dispatch", "--now", (NOON + timedelta(minutes=4)).isoformat()], env)
    assert within_lease.wait(timeout=120) == 0, within_lease.stdout.read()
    after_lease = procs.start(["jobs", "run", "dispatch", "--now", (NOON + timedelta(minutes=5)).isoformat()], env)
    output = after_lease.stdout.read()
    assert after_lease.wait(timeout=300) == 0, output
    bodies = collections.Counter(fake_twilio.bodies())
    assert len(bodies) == 300, "none lost"
    assert set(bodies.values()) == {1}, "none doubled"
    assert states() == {State.sent: 300}
