"""SMS through the real twilio client against a fake Twilio on loopback; retries, failures, webhooks."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

import notify
from accounts.models import Role
from core.extensions import db
from notify import services
from notify.channels import backend_for
from notify.dispatcher import claim_due, dispatch_due
from notify.models import Message, State
from notify.rendering import render
from tests import factories as f
from tests.notify.fake_twilio import AUTH_TOKEN
from tests.notify.samples import SAMPLES

NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def sms_row() -> Message:
    db.session.expire_all()
    return db.session.scalars(sa.select(Message).where(Message.channel == "sms")).one()


def enqueue_reminder(user, key="booking:1:reminder-24h"):
    notify.enqueue(user, "reminder_24h", SAMPLES["reminder_24h"], dedupe_key=key, channels=["sms"], now=NOON)
    f.commit()


def test_a_reminder_goes_out_through_the_real_twilio_client_in_the_residents_language(app, fake_twilio):
    zh, en = f.resident("13800000001"), f.resident("13800000002", locale="en")
    enqueue_reminder(zh, "booking:1:reminder-24h")
    enqueue_reminder(en, "booking:2:reminder-24h")
    assert dispatch_due(NOON).sent == 2
    by_number = {m["to"]: m for m in fake_twilio.messages}
    assert by_number["+8613800000001"]["body"].startswith("【文化云】明天14:30")
    assert by_number["+8613800000002"]["body"].startswith("[CultureNet] Tomorrow 14:30")
    assert by_number["+8613800000001"]["from"] == "+15005550006"
    rows = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
    assert [r.provider_id for r in rows] == [by_number["+8613800000001"]["sid"], by_number["+8613800000002"]["sid"]]
    assert dispatch_due(NOON + timedelta(hours=1)).claimed == 0
    assert len(fake_twilio.messages) == 2


def test_temporary_failures_retry_with_exponential_back_off_then_fail_visibly(app, fake_twilio, client):
    enqueue_reminder(f.resident())
    fake_twilio.fail_next(503, times=20)
    now, delays = NOON, []
    for _ in range(7):
        assert dispatch_due(now).retried == 1
        row = sms_row()
        assert row.state == State.pending and "503" in row.last_error
        delays.append((row.next_attempt_at - now).total_seconds())
        now = row.next_attempt_at
    assert delays == [60, 120, 240, 480, 960, 1920, 3840]
    assert dispatch_due(now).failed == 1  # the eighth attempt gives up
    row = sms_row()
    assert row.state == State.failed and row.attempts == 8 and "gave up after 8 attempts" in row.last_error
    f.staff(None, login="boss")
    f.commit()
    client.login("boss")
    page = client.get("/staff/notifications/failed").get_data(as_text=True)
    assert "reminder_24h" in page and "gave up after 8 attempts" in page


def test_429_and_5xx_are_retried_and_then_sent_once(app, fake_twilio):
    enqueue_reminder(f.resident())
    fake_twilio.fail_next(429)
    assert dispatch_due(NOON).retried == 1
    assert dispatch_due(NOON + timedelta(seconds=59)).claimed == 0
    assert dispatch_due(NOON + timedelta(seconds=60)).sent == 1
    assert len(fake_twilio.messages) == 1 and sms_row().state == State.sent


def test_an_invalid_number_fails_at_once_with_twilios_reason_and_staff_can_resend(app, fake_twilio, client, travel):
    travel(NOON)  # the resend page stamps the real clock: the whole request path runs at NOON
    user = f.resident("13000000000")
    fake_twilio.invalid_numbers.add("+8613000000000")
    enqueue_reminder(user)
    stats = dispatch_due(NOON)
    assert stats.failed == 1 and stats.retried == 0
    row = sms_row()
    assert row.state == State.failed and "21211" in row.last_error and row.attempts == 1
    f.resident("13900000009")
    f.staff(None, Role.admin, login="desk")  # the key names no real booking: only an admin sees it
    f.commit()
    client.login("13900000009")
    assert client.get("/staff/notifications/failed").status_code == 403
    assert client.post(f"/staff/notifications/{row.id}/resend").status_code == 403
    client.post("/logout")
    client.login("desk")
    assert "21211" in client.get("/staff/notifications/failed").get_data(as_text=True)
    fake_twilio.invalid_numbers.clear()  # staff corrected the number
    response = client.post(f"/staff/notifications/{row.id}/resend")
    assert response.status_code == 303
    assert sms_row().state == State.pending
    assert client.post(f"/staff/notifications/{row.id}/resend").status_code == 303  # not failed: refused, no 500
    f.commit()
    assert dispatch_due(NOON + timedelta(minutes=1)).sent == 1
    assert sms_row().state == State.sent


def test_a_crash_after_twilio_accepted_the_message_does_not_send_it_twice(app, fake_twilio):
    enqueue_reminder(f.resident())
    [message_id] = claim_due(NOON, limit=10, token="crashed-run")
    row = db.session.get(Message, message_id)
    backend_for("sms").send(row, render(row.template, row.context, row.locale))  # then the process died
    db.session.rollback()
    assert len(fake_twilio.messages) == 1 and sms_row().state == State.sending
    assert dispatch_due(NOON + timedelta(minutes=4)).claimed == 0  # the lease (5 minutes) still holds
    stats = dispatch_due(NOON + timedelta(minutes=5))
    assert stats.sent == 1
    row = sms_row()
    assert row.state == State.sent and row.attempts == 2 and row.provider_id == fake_twilio.messages[0]["sid"]
    assert len(fake_twilio.messages) == 1


def signed(url: str, params: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, params)}


def test_stop_and_start_replies_switch_sms_off_and_on(app, fake_twilio, client):
    user = f.resident("13800000077")
    f.commit()
    url = "http://localhost/webhooks/twilio/inbound"
    stop = {"From": "+8613800000077", "To": "+15005550006", "Body": "STOP", "MessageSid": "SMin1"}
    response = client.post(url, data=stop, headers=signed(url, stop), csrf=False)
    assert response.status_code == 200 and "<Response>" in response.get_data(as_text=True)
    assert services.preferences_for(user).sms is False
    assert [m.channel for m in notify.enqueue(user, "suspension_lifted", {}, dedupe_key="k", now=NOON)] == ["inbox"]
    start = {**stop, "Body": " start "}
    forged = client.post(url, data=start, headers={"X-Twilio-Signature": "forged"}, csrf=False)
    assert forged.status_code == 403
    assert client.post(url, data=start, csrf=False).status_code == 403  # no signature at all
    tampered = client.post(url, data={**start, "From": "+8613800000078"}, headers=signed(url, start), csrf=False)
    assert tampered.status_code == 403
    db.session.expire_all()
    assert services.preferences_for(user).sms is False
    assert client.post(url, data=start, headers=signed(url, start), csrf=False).status_code == 200
    db.session.expire_all()
    assert services.preferences_for(user).sms is True


def test_status_callbacks_update_the_row_by_its_provider_id(app, fake_twilio, client):
    enqueue_reminder(f.resident())
    dispatch_due(NOON)
    sid = sms_row().provider_id
    url = "http://localhost/webhooks/twilio/status"
    delivered = {"MessageSid": sid, "MessageStatus": "delivered"}
    assert client.post(url, data=delivered, headers={"X-Twilio-Signature": "x"}, csrf=False).status_code == 403
    assert sms_row().delivery_status is None
    assert client.post(url, data=delivered, headers=signed(url, delivered), csrf=False).status_code == 204
    assert sms_row().delivery_status == "delivered" and sms_row().state == State.sent
    late = {"MessageSid": sid, "MessageStatus": "sent"}
    client.post(url, data=late, headers=signed(url, late), csrf=False)
    assert sms_row().delivery_status == "delivered"  # a late report never moves the status back


def test_an_undelivered_report_makes_the_row_failed_for_staff(app, fake_twilio, client):
    enqueue_reminder(f.resident())
    dispatch_due(NOON)
    url = "http://localhost/webhooks/twilio/status"
    report = {"MessageSid": sms_row().provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert client.post(url, data=report, headers=signed(url, report), csrf=False).status_code == 204
    row = sms_row()
    assert row.state == State.failed and "30003" in row.last_error
    unknown = {"MessageSid": "SMnothing", "MessageStatus": "delivered"}
    assert client.post(url, data=unknown, headers=signed(url, unknown), csrf=False).status_code == 204


def test_recovery_does_not_mistake_another_rows_identical_sms_for_its_own(app, fake_twilio):
    user = f.resident()
    notify.enqueue(user, "suspension_lifted", {}, dedupe_key="user:1:lifted:1", channels=["sms"], now=NOON)
    f.commit()
    assert dispatch_due(NOON).sent == 1
    notify.enqueue(user, "suspension_lifted", {}, dedupe_key="user:1:lifted:2", channels=["sms"], now=NOON)
    f.commit()
    assert claim_due(NOON, limit=10, token="died-before-sending") != []  # crashed before calling Twilio
    assert dispatch_due(NOON + timedelta(minutes=5)).sent == 1
    assert len(fake_twilio.messages) == 2  # same text, but the first sid belongs to the first row
    sids = {m.provider_id for m in db.session.scalars(sa.select(Message))}
    assert sids == {m["sid"] for m in fake_twilio.messages}


def test_a_booking_today_for_tomorrow_gets_exactly_one_24h_and_one_2h_reminder(app, fake_twilio):
    """What the bookings wiring does, then a day of scheduler ticks, run twice over (a restart, a second
    scheduler) and with the reminder sweeper enqueuing again: two SMS, in the resident's language."""
    user = f.resident("13800000055", locale="en")
    booked_at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 today, network time
    starts = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 15:00 tomorrow
    context = {**SAMPLES["reminder_24h"], "session_starts_at": starts}

    def sweep(now):
        for kind, before in (("reminder-24h", timedelta(hours=24)), ("reminder-2h", timedelta(hours=2))):
            notify.enqueue(
                user,
                kind.replace("-", "_"),
                context,
                dedupe_key=f"booking:9:{kind}",
                due_at=starts - before,
                expires_at=starts,
                skip_if_late=True,
                now=now,
            )
        f.commit()

    sweep(booked_at)
    now = booked_at
    while now < starts + timedelta(hours=1):
        for _ in range(2):
            dispatch_due(now)
        sweep(now)
        now += timedelta(minutes=30)
    bodies = [m["body"] for m in fake_twilio.messages]
    assert bodies == [
        "[CultureNet] Tomorrow 15:00: 京剧入门体验课 at 东风镇文化站. Code K7P2QX.",
        "[CultureNet] Today 15:00: 京剧入门体验课 at 东风镇文化站. Code K7P2QX.",
    ]
