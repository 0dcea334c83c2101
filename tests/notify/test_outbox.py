"""The outbox: enqueue once per key, cancel, reschedule, expiry, preferences, quiet hours, time travel."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

import notify
from core.extensions import db
from notify import services
from notify.dispatcher import dispatch_due, quiet_hours_end
from notify.models import Message, State
from tests import factories as f
from tests.notify.samples import SAMPLES

NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
NIGHT = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 22:00 in Asia/Shanghai


def rows(**where) -> list[Message]:
    return list(db.session.scalars(sa.select(Message).filter_by(**where).order_by(Message.id)))


def reminder(user, key="booking:1:reminder-24h", **kwargs):
    return notify.enqueue(user, "reminder_24h", SAMPLES["reminder_24h"], dedupe_key=key, **kwargs)


def test_enqueuing_the_same_key_twice_stores_one_row_per_channel(app):
    user = f.resident()
    first = reminder(user, due_at=NOON, now=NOON)
    second = reminder(user, due_at=NOON + timedelta(hours=1), now=NOON)
    assert [m.channel for m in first] == ["sms", "inbox"]  # no e-mail address, so no e-mail
    assert [m.id for m in first] == [m.id for m in second]
    assert len(rows()) == 2
    assert all(m.due_at == NOON for m in rows())


def test_explicit_channels_and_email_when_the_user_has_an_address(app):
    user = f.resident()
    user.email = "zhang@example.org"
    assert [m.channel for m in reminder(user, now=NOON)] == ["sms", "email", "inbox"]
    assert [m.channel for m in reminder(user, key="k2", channels=["email"], now=NOON)] == ["email"]


def test_preferences_choose_the_default_channels_and_stop_later_sends(app):
    user = f.resident()
    services.set_preferences(user, data={"sms": False})
    assert [m.channel for m in reminder(user, now=NOON)] == ["inbox"]
    services.set_preferences(user, data={"sms": True})
    reminder(user, key="k2", now=NOON)
    services.set_preferences(user, data={"sms": False})  # turned off after enqueue: skipped at send time
    f.commit()
    dispatch_due(NOON)
    sms = rows(dedupe_key="k2", channel="sms")[0]
    assert sms.state == State.skipped and "turned sms off" in sms.last_error


def test_cancel_by_prefix_cancels_the_pending_rows_below_that_key_only(app):
    user = f.resident()
    reminder(user, key="booking:1:reminder-24h", due_at=NOON, now=NOON)
    reminder(user, key="booking:1:reminder-2h", due_at=NOON + timedelta(hours=22), now=NOON)
    reminder(user, key="booking:10:reminder-24h", due_at=NOON + timedelta(hours=22), now=NOON)
    f.commit()
    dispatch_due(NOON)  # the first is sent
    assert notify.cancel("booking:1") == 2  # the sent one stays sent; booking:10 is another booking
    f.commit()
    states = {(m.dedupe_key, m.channel): m.state for m in rows()}
    assert states[("booking:1:reminder-24h", "sms")] == State.sent
    assert states[("booking:1:reminder-2h", "sms")] == State.cancelled
    assert states[("booking:10:reminder-24h", "sms")] == State.pending
    assert notify.cancel("booking:") == 2


def test_cancel_treats_like_wildcards_literally(app):
    user = f.resident()
    reminder(user, key="booking:1:reminder", now=NOON)
    assert notify.cancel("booking%") == 0
    assert notify.cancel("booking:_") == 0
    assert notify.cancel("booking:1:reminder") == 2


def test_reschedule_moves_pending_rows_and_updates_the_context(app):
    user = f.resident()
    reminder(user, due_at=NOON, now=NOON)
    new_start = SAMPLES["reminder_24h"]["session_starts_at"] + timedelta(days=2)
    moved = notify.reschedule(
        "booking:1:reminder-24h", NOON + timedelta(days=2), context={"session_starts_at": new_start}
    )
    f.commit()
    assert moved == 2
    assert dispatch_due(NOON).claimed == 0
    dispatch_due(NOON + timedelta(days=2))
    sms = rows(channel="sms")[0]
    assert sms.state == State.sent and "12月3日" not in sms.body and "14:30" in sms.body


def test_a_reminder_already_too_late_is_skipped_not_sent_late(app):
    user = f.resident()
    late = reminder(user, due_at=NOON - timedelta(hours=3), expires_at=NOON - timedelta(hours=1), now=NOON)
    assert {m.state for m in late} == {State.skipped}
    reminder(user, key="k2", due_at=NOON, expires_at=NOON + timedelta(hours=1), now=NOON)
    f.commit()
    dispatch_due(NOON + timedelta(hours=2))  # the dispatcher was down until after the session began
    assert {m.state for m in rows(dedupe_key="k2")} == {State.skipped}


def test_quiet_hours_defer_sms_to_eight_but_not_urgent_sms_or_the_inbox(app):
    user = f.resident()
    reminder(user, key="normal", due_at=NIGHT, now=NIGHT)
    notify.enqueue(
        user,
        "session_cancelled",
        SAMPLES["session_cancelled"],
        dedupe_key="urgent",
        due_at=NIGHT,
        urgent=True,
        now=NIGHT,
    )
    f.commit()
    dispatch_due(NIGHT)
    state = {(m.dedupe_key, m.channel): m for m in rows()}
    assert state[("urgent", "sms")].state == State.sent
    assert state[("normal", "inbox")].state == State.sent
    deferred = state[("normal", "sms")]
    assert deferred.state == State.pending and deferred.attempts == 0
    eight = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 next morning in Asia/Shanghai
    assert deferred.next_attempt_at == eight
    assert dispatch_due(eight - timedelta(minutes=1)).sent == 0
    assert dispatch_due(eight).sent == 1


def test_quiet_hours_boundaries(app):
    local = lambda h, m=0: datetime(2026, 11, 30, h, m, tzinfo=UTC) - timedelta(hours=8)  # noqa: E731
    assert quiet_hours_end(local(20, 59)) is None
    assert quiet_hours_end(local(21, 0)) == local(8) + timedelta(days=1)
    assert quiet_hours_end(local(7, 59)) == local(8)
    assert quiet_hours_end(local(8, 0)) is None


def test_a_template_missing_a_variable_fails_visibly_and_the_queue_goes_on(app):
    user = f.resident()
    notify.enqueue(user, "reminder_24h", {"activity_title": "x"}, dedupe_key="broken", channels=["sms"], now=NOON)
    reminder(user, key="fine", channels=["sms"], now=NOON)
    f.commit()
    stats = dispatch_due(NOON)
    assert (stats.failed, stats.sent) == (1, 1)
    broken = rows(dedupe_key="broken")[0]
    assert broken.state == State.failed and "session_starts_at" in broken.last_error


def test_a_user_without_a_phone_is_a_permanent_failure_with_the_reason(app):
    user = f.resident()
    user.phone = None
    reminder(user, channels=["sms"], now=NOON)
    f.commit()
    dispatch_due(NOON)
    row = rows()[0]
    assert row.state == State.failed and row.last_error == "recipient has no phone number"


def test_time_travel_with_jobs_run_dispatch_now(app):
    user = f.resident()
    reminder(user, due_at=NOON + timedelta(days=1), now=NOON)
    f.commit()
    runner = app.test_cli_runner()
    early = runner.invoke(args=["jobs", "run", "dispatch", "--now", "2026-11-30T12:00:00+08:00"])
    assert early.exit_code == 0, early.output
    assert "claimed=0" in early.output
    later = runner.invoke(args=["jobs", "run", "dispatch", "--now", "2026-12-01T12:00"])  # network time
    assert "sent=2" in later.output, later.output
    db.session.expire_all()
    assert {m.state for m in rows()} == {State.sent}
    db.session.commit()  # end the read: on SQLite every transaction holds the write lock
    again = runner.invoke(args=["jobs", "run", "dispatch", "--now", "2026-12-01T12:00"])
    assert "claimed=0" in again.output  # idempotent


def test_jobs_list_and_bad_job_names(app):
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["jobs", "list"])
    assert "dispatch" in listed.output and "seconds=30" in listed.output
    assert runner.invoke(args=["jobs", "run", "nope"]).exit_code != 0
    assert runner.invoke(args=["jobs", "run", "dispatch", "--now", "tomorrow"]).exit_code != 0


def test_enqueue_many_stores_one_row_per_key_and_channel_and_honours_preferences(app):
    alice, bob = f.resident(), f.resident()
    services.set_preferences(bob, data={"sms": False})
    reminder(alice, key="booking:1:reminder-24h", now=NOON)
    items = [
        {
            "recipient": user,
            "template": "reminder_24h",
            "context": SAMPLES["reminder_24h"],
            "dedupe_key": f"booking:{i}:reminder-24h",
            "due_at": NOON + timedelta(hours=i),
        }
        for i, user in enumerate([alice, alice, bob], start=1)
    ]
    assert notify.enqueue_many(items, now=NOON) == 5
    assert notify.enqueue_many(items, now=NOON) == 5
    keys = sorted((m.dedupe_key, m.channel) for m in rows())
    assert keys == [
        ("booking:1:reminder-24h", "inbox"),
        ("booking:1:reminder-24h", "sms"),
        ("booking:2:reminder-24h", "inbox"),
        ("booking:2:reminder-24h", "sms"),
        ("booking:3:reminder-24h", "inbox"),
    ]
    assert rows(dedupe_key="booking:1:reminder-24h")[0].due_at == NOON  # the first enqueue won


def test_a_reminder_whose_time_passed_when_the_booking_is_made_is_skipped(app):
    user = f.resident()
    starts = NOON + timedelta(hours=20)  # booked 20 hours ahead: the 24 h reminder's time has passed
    late = reminder(
        user,
        key="booking:1:reminder-24h",
        due_at=starts - timedelta(hours=24),
        expires_at=starts,
        skip_if_late=True,
        now=NOON,
    )
    on_time = reminder(
        user,
        key="booking:1:reminder-2h",
        due_at=starts - timedelta(hours=2),
        expires_at=starts,
        skip_if_late=True,
        now=NOON,
    )
    assert {m.state for m in late} == {State.skipped}
    assert {m.state for m in on_time} == {State.pending}


def test_a_claim_takes_at_most_its_limit(app):
    user = f.resident()
    for i in range(30):
        reminder(user, key=f"booking:{i}:reminder-24h", channels=["inbox"], due_at=NOON, now=NOON)
    f.commit()
    from notify.dispatcher import claim_due

    assert len(claim_due(NOON, limit=10, token="a")) == 10
    assert len(claim_due(NOON, limit=50, token="b")) == 20
    assert claim_due(NOON, limit=50, token="c") == []
