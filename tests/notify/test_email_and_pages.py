"""E-mail to a real SMTP server on loopback (with the .ics), the inbox page, preferences, webhooks' CSRF."""

import email
import email.policy
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

import notify
from core.extensions import db
from notify import services
from notify.dispatcher import dispatch_due
from notify.models import Message, State
from notify.queries import unread_count
from tests import factories as f
from tests.notify.conftest import free_port
from tests.notify.samples import SAMPLES

NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def with_email(user, address="zhang@example.org"):
    user.email = address
    return user


def test_an_email_with_its_calendar_attachment_reaches_the_smtp_server(app, smtp_server):
    user = with_email(f.resident(locale="en"))
    notify.enqueue(
        user,
        "booking_confirmed",
        SAMPLES["booking_confirmed"],
        dedupe_key="booking:1:confirmed",
        channels=["email"],
        now=NOON,
    )
    f.commit()
    assert dispatch_due(NOON).sent == 1
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["zhang@example.org"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["Subject"] == "Booking confirmed: 京剧入门体验课"
    row = db.session.scalars(sa.select(Message)).one()
    assert mail["Message-ID"] == row.provider_id and f"notify-{row.id}-" in row.provider_id
    parts = {p.get_content_type(): p for p in mail.walk()}
    assert "Ticket code: K7P2QX" in parts["text/plain"].get_payload(decode=True).decode()
    ics = parts["text/calendar"].get_payload(decode=True).decode()
    assert "DTSTART:20261201T063000Z" in ics and "SUMMARY:京剧入门体验课" in ics


def test_an_smtp_server_that_is_down_is_retried_later(app, smtp_server):
    user = with_email(f.resident())
    notify.enqueue(user, "lottery_lost", SAMPLES["lottery_lost"], dedupe_key="k", channels=["email"], now=NOON)
    f.commit()
    port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = free_port()  # nothing listens there: connection refused
    app.extensions.pop("culturenet.notify_backends", None)
    assert dispatch_due(NOON).retried == 1
    row = db.session.scalars(sa.select(Message)).one()
    assert row.state == State.pending and "SMTP unavailable" in row.last_error
    app.config["SMTP_PORT"] = port
    app.extensions.pop("culturenet.notify_backends", None)
    assert dispatch_due(NOON + timedelta(minutes=1)).sent == 1
    assert len(smtp_server.envelopes) == 1


def test_no_email_address_is_a_permanent_failure(app, smtp_server):
    notify.enqueue(f.resident(), "lottery_lost", SAMPLES["lottery_lost"], dedupe_key="k", channels=["email"], now=NOON)
    f.commit()
    assert dispatch_due(NOON).failed == 1
    assert db.session.scalars(sa.select(Message)).one().last_error == "recipient has no e-mail address"


def test_the_inbox_shows_delivered_messages_with_an_unread_count(app, client):
    user = f.resident("13800000011")
    other = f.resident("13800000012")
    notify.enqueue(user, "lottery_won", SAMPLES["lottery_won"], dedupe_key="a", channels=["inbox"], now=NOON)
    notify.enqueue(other, "lottery_lost", SAMPLES["lottery_lost"], dedupe_key="b", channels=["inbox"], now=NOON)
    notify.enqueue(
        user,
        "lottery_lost",
        SAMPLES["lottery_lost"],
        dedupe_key="c",
        channels=["inbox"],
        due_at=NOON + timedelta(days=365),
        now=NOON,
    )
    f.commit()
    dispatch_due(NOON)
    assert unread_count(user) == 1
    client.login("13800000011")
    page = client.get("/inbox").get_data(as_text=True)
    assert "您已中签：京剧入门体验课" in page  # the subject, in the resident's language
    assert "1 条新消息" in page
    assert "未抽中" not in page  # another user's message, and one not yet due
    db.session.expire_all()
    assert unread_count(user) == 0
    assert "条新消息" not in client.get("/inbox").get_data(as_text=True)


def test_the_inbox_api_lists_what_the_inbox_page_shows(app, client):
    user = f.resident("13800000011")
    notify.enqueue(user, "lottery_won", SAMPLES["lottery_won"], dedupe_key="a", channels=["inbox"], now=NOON)
    notify.enqueue(
        f.resident("13800000012"), "lottery_lost", SAMPLES["lottery_lost"], dedupe_key="b", channels=["inbox"], now=NOON
    )
    f.commit()
    dispatch_due(NOON)
    client.login("13800000011")
    body = client.get("/api/v1/me/inbox").get_json()
    assert body["total"] == 1 and body["unread"] == 1
    assert body["items"][0]["subject"] == "您已中签：京剧入门体验课" and body["items"][0]["read_at"] is None
    client.get("/inbox")  # opening the page marks the messages read
    assert client.get("/api/v1/me/inbox").get_json()["unread"] == 0


def test_preferences_page_saves_the_channels(app, client):
    user = f.resident("13800000013")
    f.commit()
    client.login("13800000013")
    assert client.get("/account/notifications").status_code == 200
    response = client.post("/account/notifications", data={"email": "y", "inbox": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    pref = services.preferences_for(user)
    assert (pref.sms, pref.email, pref.inbox) == (False, True, True)
    assert client.get("/account/notifications").status_code == 200


def test_pages_need_a_login(client):
    assert client.get("/inbox").status_code == 302
    assert client.get("/account/notifications").status_code == 302


def test_webhooks_are_csrf_exempt_but_still_refuse_unsigned_calls(app, client):
    app.config["TWILIO_AUTH_TOKEN"] = "secret"
    try:
        response = client.post("/webhooks/twilio/inbound", data={"From": "+8613800000001", "Body": "STOP"}, csrf=False)
        assert response.status_code == 403  # not 400: the CSRF check does not apply, the signature does
    finally:
        app.config["TWILIO_AUTH_TOKEN"] = ""
