"""The short-lived cache of public list fragments (core/cache.py): reused, keyed, bypassable, never personal."""

import pytest

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


def _queries(app, func):
    with recorded_statements(db) as seen:
        result = func()
    return result, len(seen)


def test_a_second_view_of_the_same_list_reads_nothing_from_the_database(cached, client):
    venue = f.venue()
    af.activity(venue, title="周末合唱团")
    f.commit()
    first, first_queries = _queries(cached, lambda: client.get("/activities").get_data(as_text=True))
    second, second_queries = _queries(cached, lambda: client.get("/activities").get_data(as_text=True))
    assert "周末合唱团" in first and "周末合唱团" in second
    assert first_queries > 0 and second_queries == 0


def test_new_activities_show_after_the_entry_expires_or_on_a_no_cache_request(cached, client):
    venue = f.venue()
    af.activity(venue, title="周末合唱团")
    f.commit()
    client.get("/activities")
    af.activity(venue, title="新开的剪纸课")
    f.commit()
    assert "新开的剪纸课" not in client.get("/activities").get_data(as_text=True)
    assert "新开的剪纸课" in client.get("/activities", headers={"Cache-Control": "no-cache"}).get_data(as_text=True)
    assert "新开的剪纸课" in client.get("/activities").get_data(as_text=True)  # the fresh rendering was stored


def test_filters_pages_and_languages_are_separate_entries(cached, client):
    net = f.network()
    af.activity(net["station"], title="大洼的讲座")
    af.activity(net["other_branch"], title="盘山的音乐会")
    f.commit()
    assert "盘山的音乐会" not in client.get("/activities?district=211104").get_data(as_text=True)
    assert "大洼的讲座" not in client.get("/activities?district=211122").get_data(as_text=True)
    client.post("/lang", data={"lang": "en"})
    english = client.get("/activities?district=211104").get_data(as_text=True)
    assert '<label for="f-q">Search</label>' in english and "大洼的讲座" in english


def test_the_page_around_a_cached_fragment_is_still_personal(cached, client):
    venue = f.venue()
    af.activity(venue, title="周末合唱团")
    f.staff(venue, login="hallstaff")
    f.commit()
    anonymous = client.get("/venues").get_data(as_text=True)
    client.login("hallstaff")  # with the CSRF token of this visitor's own page
    staff = client.get("/venues").get_data(as_text=True)
    assert 'href="/staff"' not in anonymous and 'href="/staff"' in staff
    assert client.post("/lang", data={"lang": "en"}).status_code == 302  # the token in the cached page works
