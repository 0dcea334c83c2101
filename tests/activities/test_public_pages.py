"""The public pages' fast paths (issue #19): cards read as plain rows with the same booking states as the ORM
objects, the list in one statement on PostgreSQL, and the activity page cached for visitors who are not signed
in — never a resident's own page, never to someone else."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from activities.booking_state import activity_state
from activities.models import Activity
from activities.queries import ActivityFilters, activity_select, card_page, cards
from core import cache
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f
from tests.dbs import recorded_statements


@pytest.fixture
def cached(app):
    app.config["PUBLIC_CACHE_SECONDS"] = 60
    cache.clear()
    yield app
    cache.clear()
    app.config["PUBLIC_CACHE_SECONDS"] = 0


def _variety(venue):
    """Activities in every state a card shows."""
    made = {
        "open": af.activity(venue, title="合唱团", capacity=30),
        "few": af.activity(venue, title="剪纸", capacity=3),
        "full": af.activity(venue, title="京剧", capacity=1, has_waiting_list=False),
        "waitlist": af.activity(venue, title="舞蹈", capacity=1),
        "course": af.activity(venue, title="书法班", kind="course", sessions=4, capacity=10),
        "lottery": af.activity(venue, title="音乐会", policy="lottery", capacity=50),
        "walk_in": af.activity(venue, title="露天电影", policy="walk_in", capacity=0),
        "opens_soon": af.activity(
            venue, title="摄影课", kind="course", sessions=2, signup_opens_at=af.now() + timedelta(days=2)
        ),
        "several": af.activity(venue, title="周末戏曲", sessions=5, capacity=2),
    }
    for key in ("few", "full", "waitlist"):
        af.book(f.resident(), made[key])
    for _ in range(2):  # the first of five sessions full: the card shows the next one with seats
        af.book(f.resident(), made["several"])
    return made


def test_cards_read_as_rows_show_the_same_booking_state_as_the_activities(app):
    made = _variety(f.venue())
    f.commit()
    now = af.now()
    db.session.expire_all()
    by_row = {c.id: (c, activity_state(c, now)) for c in cards(activity_select(ActivityFilters(), now), now, 50)}
    assert set(by_row) == {a.id for a in made.values()}
    for activity in db.session.execute(select(Activity)).scalars():
        card, state = by_row[activity.id]
        assert state == activity_state(activity, now), activity.title
        assert (card.title, card.venue.name, card.next_starts_at) == (
            activity.title,
            activity.venue.name,
            activity.next_starts_at,
        )
    codes = {a.title: by_row[a.id][1].code for a in made.values()}
    assert codes["剪纸"] == "few_left" and codes["京剧"] == "full" and codes["舞蹈"] == "waitlist"
    assert codes["摄影课"] == "opens_soon" and codes["周末戏曲"] == "few_left"  # the second session's 2 seats
    assert by_row[made["several"].id][1].seats == 2


def test_a_page_of_cards_costs_the_same_statements_however_many_sessions(app, backend):
    venue = f.venue()
    for i in range(25):
        af.activity(venue, title=f"活动{i}", sessions=1 + i % 4)
    f.commit()
    now = af.now()
    with recorded_statements(db) as seen:
        first = card_page(ActivityFilters(), now, 1)
    seen = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(first.items) == 20 and first.has_next and first.total == 25
    # PostgreSQL: one statement (rows, their sessions as JSON, the count); elsewhere the sessions are a second.
    assert len(seen) == (1 if db.engine.dialect.name == "postgresql" else 2)
    last = card_page(ActivityFilters(), now, 2)
    assert len(last.items) == 5 and not last.has_next and last.total == 25
    assert card_page(ActivityFilters(), now, 9).total == 25  # past the end: counted


def test_a_fresh_list_shows_a_changed_seat_count_at_once(cached, client):
    act = af.activity(f.venue(), title="合唱团", capacity=30)
    f.commit()
    assert "30" in client.get("/activities").get_data(as_text=True)
    af.book(f.resident(), act)
    f.commit()
    fresh = client.get("/activities", headers={"Cache-Control": "no-cache"}).get_data(as_text=True)
    assert "剩余 29 位" in fresh or "29 seats left" in fresh


def _page(client, act, **kwargs) -> str:
    activity_id = act if isinstance(act, int) else act.id
    return client.get(f"/activities/{activity_id}", **kwargs).get_data(as_text=True)


def test_a_second_anonymous_view_of_an_activity_page_reads_nothing(cached, client):
    act = af.activity(f.venue(), title="新春音乐会").id
    f.commit()
    with recorded_statements(db) as first:
        page = _page(client, act)
    with recorded_statements(db) as second:
        again = _page(client, act)
    assert "新春音乐会" in page and again == page
    assert len(first) > 0 and len(second) == 0
    assert "<title>新春音乐会" in again


def test_the_anonymous_activity_page_is_refreshed_by_no_cache_and_by_its_expiry(cached, client):
    act = af.activity(f.venue(), title="新春音乐会", capacity=30)
    f.commit()
    assert "剩余 30 位" in _page(client, act)
    af.book(f.resident(), act)
    f.commit()
    assert "剩余 30 位" in _page(client, act)  # within PUBLIC_CACHE_SECONDS: the stored page
    assert "剩余 29 位" in _page(client, act, headers={"Cache-Control": "no-cache"})
    assert "剩余 29 位" in _page(client, act)  # the fresh rendering was stored
    cache.clear()  # the entry expired
    af.book(f.resident(), act)
    f.commit()
    assert "剩余 28 位" in _page(client, act)


def test_a_residents_own_booking_is_never_served_to_anyone_else(cached, client):
    act = af.activity(f.venue(), title="新春音乐会", capacity=30, sessions=2)  # the second: the form, my family
    mine = f.resident("13800000011", name="李桂芬")
    f.resident("13800000012", name="王建国")
    f.commit()
    booking = af.book(mine, act)
    f.commit()
    act_id, ticket = act.id, f"/bookings/{booking.id}/done"
    before = _page(client, act_id)  # stores the anonymous page
    client.login("13800000011")
    own = _page(client, act_id)
    assert ticket in own and "李桂芬" in own  # live: my ticket, my family members
    with recorded_statements(db) as seen:
        again = _page(client, act_id)
    assert len(seen) > 0 and ticket in again  # a signed-in page is never from the cache
    client.post("/logout")
    client.login("13800000012")
    theirs = _page(client, act_id)
    assert ticket not in theirs and "李桂芬" not in theirs and "王建国" in theirs
    client.post("/logout")
    after = _page(client, act_id)
    body = after.split('<nav class="breadcrumb"', 1)[1].split("</main>")[0]  # after the page's flashes
    assert body == before.split('<nav class="breadcrumb"', 1)[1].split("</main>")[0]
    assert ticket not in after and "李桂芬" not in after and "王建国" not in after and "csrf_token" not in body


def test_a_draft_is_404_and_never_stored(cached, client):
    venue = f.venue()
    draft = af.activity(venue, title="还没发布", publish=False)
    f.staff(venue, login="hallstaff")
    f.commit()
    draft_id = draft.id
    assert client.get(f"/activities/{draft_id}").status_code == 404
    client.login("hallstaff")
    assert "还没发布" in _page(client, draft_id)  # its manager sees it, rendered for them
    client.post("/logout")
    assert client.get(f"/activities/{draft_id}").status_code == 404
    assert client.get("/activities/999999").status_code == 404


def test_languages_are_separate_entries_of_the_activity_page(cached, client):
    act = af.activity(f.venue(), title="新春音乐会", capacity=30)
    f.commit()
    assert "剩余 30 位" in _page(client, act)
    client.post("/lang", data={"lang": "en"})
    english = _page(client, act)
    assert "30 seats left" in english and "剩余" not in english
