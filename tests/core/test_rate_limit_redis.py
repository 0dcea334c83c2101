"""With REDIS_URL set, rate limits live in Redis, so every app process shares them."""

import uuid

import pytest
import redis

from core.extensions import db, limiter
from tests import dbs
from tests.conftest import make_app

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def test_a_second_app_process_sees_the_login_attempts_counted_by_the_first(backend, session_app):
    """The per-address limit on sign-in is lowered to 10 a minute here (its default is generous, see
    docs/accounts.md); each attempt names another login, so the account lockout plays no part."""
    if not _redis_up():
        if dbs.CI:
            pytest.fail("CI=true needs Redis on 127.0.0.1:6379")
        pytest.skip("Redis not reachable on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    caller = {"REMOTE_ADDR": f"127.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}
    statuses = []
    try:
        for worker in range(2):  # two app instances, as two gunicorn workers would be
            app = make_app(
                backend,
                RATELIMIT_STORAGE_URI=REDIS_URL,
                RATELIMIT_KEY_PREFIX=prefix,
                AUTH_ADDRESS_LIMIT="10 per minute",
            )
            with app.app_context():
                client = app.test_client()
                for i in range(6):
                    statuses.append(
                        client.post(
                            "/login", data={"login": f"1389999{worker}{i:03d}", "password": "x"}, environ_base=caller
                        ).status_code
                    )
                db.session.remove()
                db.engine.dispose()
            assert worker == 1 or 429 not in statuses
    finally:
        limiter.init_app(session_app)  # the limiter object is shared: give it back its test storage
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429], statuses
    assert redis.Redis.from_url(REDIS_URL).keys(f"*{caller['REMOTE_ADDR']}*")
