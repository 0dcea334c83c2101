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


def test_one_batch_with_every_outcome_records_each_row_once(app, fake_twilio):
    """Sender threads send a batch at once; each outcome is written once, by kind, after the calls."""
    from notify import services

    users = [f.resident() for _ in range(6)]
    services.set_preferences(users[1], data={"sms": False})
    fake_twilio.invalid_numbers.add("+86" + users[2].phone)
    for i in range(60):
        notify.enqueue(
            users[i % 6],
            "reminder_24h",
            {**SAMPLES["reminder_24h"], "code": f"C{i:05d}"},
            dedupe_key=f"booking:{i}:reminder-24h",
            channels=["sms", "inbox"],
            due_at=NOON - timedelta(minutes=1),
            now=NOON,
        )
    f.commit()
    fake_twilio.fail_next(503, times=3)
    stats = dispatch_due(NOON, batch_size=200, max_batches=1, senders=8)
    assert stats.claimed == 120 and stats.lost == 0
    # the three 503s answer whichever three calls come first (an invalid number's among them is retried)
    assert (stats.skipped, stats.retried) == (10, 3) and 7 <= stats.failed <= 10
    assert stats.sent + stats.failed == 60 + 50 - 3  # every inbox row; the SMS of the five others, but 503s
    assert states() == {State.sent: stats.sent, State.skipped: 10, State.failed: stats.failed, State.pending: 3}
    assert len(fake_twilio.messages) == stats.sent - 60 == len(set(fake_twilio.bodies()))
    sids = db.session.scalars(sa.select(Message.provider_id).where(Message.channel == "sms", Message.state == "sent"))
    assert sorted(sids) == sorted(m["sid"] for m in fake_twilio.messages)
    db.session.commit()


def test_a_row_claimed_longer_ago_than_half_its_lease_is_given_back_not_sent(app, fake_twilio):
    enqueue_many(3, recipients=3)
    app.config["NOTIFY_LEASE_SECONDS"] = 0  # every claim is "half gone" by the time it would be sent
    try:
        stats = dispatch_due(NOON, max_batches=1, senders=2)
    finally:
        app.config.pop("NOTIFY_LEASE_SECONDS")
    assert stats.claimed == 3 and stats.sent == 0 and fake_twilio.messages == []
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Message)).all()
    assert {(r.state, r.attempts, r.claimed_by) for r in rows} == {(State.pending, 0, None)}
    db.session.commit()
    assert dispatch_due(NOON).sent == 3  # and the next run sends them
