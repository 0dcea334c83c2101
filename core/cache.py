"""A short-lived cache of rendered public fragments (the results of the activity list, the venue directory).

At 9:00 on the day spring classes open, most residents load the same first pages of the same lists; each
worker process renders a given list fragment once per `PUBLIC_CACHE_SECONDS` (15 s; 0 turns it off) instead
of once per visitor. Only public data goes in — nothing that depends on who is asking — and the key holds
everything the fragment depends on (the endpoint, its normalised arguments, the language). The page around
it (login state, CSRF token, large text) is rendered for each request as usual. A request that says
`Cache-Control: no-cache` gets a fresh rendering (and refreshes the entry).

With `REDIS_URL` set, an entry is also stored in Redis (key `culturenet:fragment:<sha1 of the key>`, expiring
after the same seconds), so the first worker to render a list fragment renders it for every worker and app
host; the in-process entry stays in front of it (no network round trip for a hit). Redis out of reach is not
an error: the fragment is rendered as without it.

What this means for staff: a published or edited activity shows up in the public list within 15 s. Seat
counts are never cached (they are not in these fragments), and nothing here is used for decisions.
"""

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request
from markupsafe import Markup

MAX_ENTRIES = 2048
REDIS_PREFIX = "culturenet:fragment:"
_lock = threading.Lock()
_entries: OrderedDict = OrderedDict()
_redis: dict = {}  # REDIS_URL -> client (one pool per process; redis-py reconnects after a fork)
log = logging.getLogger(__name__)


def _shared():
    """The Redis client of REDIS_URL, or None when it is not set."""
    url = current_app.config.get("REDIS_URL") or ""
    if not url:
        return None
    client = _redis.get(url)
    if client is None:
        import redis

        client = _redis[url] = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
    return client


def _redis_key(full_key: tuple) -> str:
    return REDIS_PREFIX + hashlib.sha1(repr(full_key).encode(), usedforsecurity=False).hexdigest()


def _shared_get(full_key: tuple) -> tuple[str, float] | None:
    """The shared entry and the seconds it has left (one round trip), or None."""
    client = _shared()
    if client is None:
        return None
    key = _redis_key(full_key)
    try:
        value, left_ms = client.pipeline(transaction=False).get(key).pttl(key).execute()
    except Exception:  # noqa: BLE001 - Redis down: render locally
        log.warning("fragment cache: Redis out of reach", exc_info=True)
        return None
    if value is None or left_ms is None or left_ms <= 0:
        return None
    return value.decode(), left_ms / 1000


def _shared_set(full_key: tuple, html: str, seconds: int) -> None:
    client = _shared()
    if client is None:
        return
    try:
        client.set(_redis_key(full_key), html.encode(), ex=max(1, int(seconds)))
    except Exception:  # noqa: BLE001 - Redis down: the local entry still serves this worker
        log.warning("fragment cache: Redis out of reach", exc_info=True)


def public_fragment(key: tuple, render: Callable[[], str]) -> Markup:
    """The cached rendering of `key`, or `render()` stored under it."""
    from flask_babel import get_locale

    seconds = current_app.config.get("PUBLIC_CACHE_SECONDS", 0)
    if seconds <= 0:
        return Markup(render())
    full_key = (current_app.name, str(get_locale()), *key)
    now = time.monotonic()
    fresh = "no-cache" not in (request.headers.get("Cache-Control") or "")
    with _lock:
        hit = _entries.get(full_key)
        if fresh and hit is not None and hit[0] > now:
            _entries.move_to_end(full_key)
            return hit[1]
    shared = _shared_get(full_key) if fresh else None
    if shared is not None:  # another worker rendered it: keep it here only as long as it lives there
        html, lives = Markup(shared[0]), min(seconds, shared[1])
    else:
        html, lives = Markup(render()), seconds
        _shared_set(full_key, html, seconds)
    with _lock:
        _entries[full_key] = (now + lives, html)
        _entries.move_to_end(full_key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return html


def clear() -> None:
    with _lock:
        _entries.clear()
