"""Inbox messages link to what they are about: the booking and its ticket, a room reservation, an order."""

from datetime import UTC, datetime

import notify
from notify.dispatcher import dispatch_due
from tests import factories as f
from tests.notify.samples import SAMPLES

NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def test_a_booking_message_links_to_the_booking_and_ticket(app, client):
    user = f.resident("13800000021")
    inbox = {"channels": ["inbox"], "now": NOON}
    notify.enqueue(user, "lottery_won", SAMPLES["lottery_won"], dedupe_key="booking:42:won", **inbox)
    notify.enqueue(user, "lottery_lost", SAMPLES["lottery_lost"], dedupe_key="user:1:other", **inbox)
    f.commit()
    dispatch_due(NOON)
    client.login("13800000021")
    page = client.get("/inbox").get_data(as_text=True)
    assert 'href="/bookings/42/done"' in page and "查看预约和票券" in page
    assert page.count('class="button block"') == 1  # a message about nothing in particular has no link
