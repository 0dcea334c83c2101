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


@pytest.fixture
def shared_cache(cached):
    """The fragment cache with Redis behind it (db 13 of the local Redis), skipped when Redis is out of reach."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/13"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    for key in client.scan_iter(cache.REDIS_PREFIX + "*"):
        client.delete(key)
    cached.config["REDIS_URL"] = url
    yield client
    cached.config["REDIS_URL"] = ""
    for key in client.scan_iter(cache.REDIS_PREFIX + "*"):
        client.delete(key)


def test_with_redis_a_fragment_rendered_by_one_worker_serves_another(shared_cache, cached, client):
    venue = f.venue()
    af.activity(venue, title="周末合唱团")
    f.commit()
    first, first_queries = _queries(cached, lambda: client.get("/activities").get_data(as_text=True))
    stored = list(shared_cache.scan_iter(cache.REDIS_PREFIX + "*"))
    assert first_queries > 0 and len(stored) == 1 and 0 < shared_cache.ttl(stored[0]) <= 60
    cache.clear()  # another worker process: nothing in its own memory
    second, second_queries = _queries(cached, lambda: client.get("/activities").get_data(as_text=True))
    assert "周末合唱团" in second and second_queries == 0


def test_redis_out_of_reach_renders_as_without_it(cached, client):
    cached.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        venue = f.venue()
        af.activity(venue, title="周末合唱团")
        f.commit()
        response = client.get("/activities")
        assert response.status_code == 200 and "周末合唱团" in response.get_data(as_text=True)
    finally:
        cached.config["REDIS_URL"] = ""
