"""The layout's remembered parts (core.cache.layout_part in templates/base.html): the header's links and the tab
bar are reused across requests, so what differs per visitor (the badge, the language, the CSRF token, the
address the preference buttons come back to) must still differ on every page."""

import re
from datetime import UTC, datetime

from flask import g

import notify
from notify.dispatcher import dispatch_due
from tests import factories as f
from tests.notify.samples import SAMPLES

NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def _tab_badge(html: str) -> str | None:
    found = re.search(r'<span class="tab-badge">(\d+)', html)
    return found.group(1) if found else None


def _signed_in_with_one_unread(client, phone: str) -> None:
    user = f.resident(phone)
    notify.enqueue(user, "lottery_won", SAMPLES["lottery_won"], dedupe_key="a", channels=["inbox"], now=NOON)
    f.commit()
    dispatch_due(NOON)
    client.login(phone)
    assert _tab_badge(client.get("/activities").get_data(as_text=True)) == "1"


def test_the_tab_badge_follows_the_unread_count_at_once(app, client):
    _signed_in_with_one_unread(client, "13800000031")
    assert 'class="badge-count">1' in client.get("/venues").get_data(as_text=True)
    client.get("/inbox")  # reading the inbox marks the message read
    after = client.get("/activities").get_data(as_text=True)
    assert _tab_badge(after) is None and "badge-count" not in after


def test_a_visitor_not_signed_in_sees_no_badge_after_a_resident_did(app, client):
    _signed_in_with_one_unread(client, "13800000032")
    page = app.test_client().get("/activities").get_data(as_text=True)
    assert _tab_badge(page) is None and "退出登录" not in page and "消息" not in page


def _page(client, path: str) -> str:
    g.pop("csrf_token", None)  # the tests' app context spans requests; in production each request has its own
    return client.get(path).get_data(as_text=True)


def test_every_request_gets_its_own_token_and_return_address(app):
    first, second = app.test_client(), app.test_client()
    one = _page(first, "/activities?kind=event")
    two = _page(second, "/venues")
    token_one = re.search(r'name="csrf-token" content="([^"]+)"', one).group(1)
    token_two = re.search(r'name="csrf-token" content="([^"]+)"', two).group(1)
    assert token_one != token_two
    assert f'name="csrf_token" value="{token_one}"' in one and token_two not in one
    assert 'name="next" value="/activities?kind=event"' in one and 'name="next" value="/venues"' in two
    # the tab bar marks the section of the page it is on
    assert re.search(r'class="tab is-current" href="/activities"', one)
    assert re.search(r'class="tab is-current" href="/venues"', two)
    # and the token of the remembered layout is the visitor's own: it switches the language
    switched = first.post("/lang", data={"csrf_token": token_one, "lang": "en", "next": "/activities"})
    assert switched.status_code == 302
    english = _page(first, "/activities")
    assert '<span class="tab-label">Activities</span>' in english and "Skip to content" in english
    chinese = _page(second, "/activities")
    assert '<span class="tab-label">活动</span>' in chinese and "跳到正文" in chinese
    refused = second.post("/lang", data={"csrf_token": token_one, "lang": "en", "next": "/activities"})
    assert refused.status_code == 400  # another visitor's token
