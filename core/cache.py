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

What this means for staff: a published or edited activity shows up in the public list within 15 s. The
booking states on the cards (可预约（剩余 N 位）, 已约满) and on the activity page of a visitor who is not signed in
may be as old as that too; a signed-in resident's activity page is never cached (it reads the seats live), and
nothing here is used for decisions (the booking itself takes the seat in SQL).

`memoised` is another thing: the markup of a pure rendering (one card, the list's filter form) remembered on
*all* its inputs, so it is never stale and is used on fresh renderings too.
"""

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

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
    return _cached(key, render)


def public_parts(key: tuple, render: Callable[[], Sequence[str]]) -> tuple[Markup, ...]:
    """Like `public_fragment` for a page made of several rendered parts (the activity page's title and body):
    stored as one entry (a JSON list), so the parts always come from the same rendering."""
    return tuple(Markup(part) for part in json.loads(_cached(key, lambda: json.dumps(list(render())))))


def _cached(key: tuple, render: Callable[[], str]) -> Markup:
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
    with _memo_lock:
        _memo.clear()
    _values.clear()


# --- reference data read by public pages ------------------------------------------------------------------------

_values: dict = {}


def public_value(key: tuple, load: Callable[[], object]):
    """`load()` kept in this process for PUBLIC_CACHE_SECONDS (read every time when that is 0): reference data
    the public fragments show (the districts of a filter form), which changes far more rarely than that. The
    value must be plain and read only (it is shared by the threads)."""
    seconds = current_app.config.get("PUBLIC_CACHE_SECONDS", 0)
    if seconds <= 0:
        return load()
    full_key = (current_app.name, *key)
    now = time.monotonic()
    hit = _values.get(full_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    _values[full_key] = (now + seconds, value)
    return value


# --- renderings memoised on their inputs ----------------------------------------------------------------------

MEMO_ENTRIES = 8192
_memo_lock = threading.Lock()
_memo: OrderedDict = OrderedDict()


def memoised(key: tuple, render: Callable[[], str]) -> Markup:
    """`render()` remembered under `key`, which must hold *every* input of the rendering (the data shown, the
    language, the app): a pure function's result, never stale, so it is used even when the page is rendered
    afresh (`Cache-Control: no-cache`) and whatever PUBLIC_CACHE_SECONDS says. A card of the activity list
    is the same markup for every visitor until one of its values changes (then it is a new key); rendering 20
    cards through Jinja macros cost more than reading them (docs/performance.md). Per process, bounded."""
    full_key = (current_app.name, *key)
    with _memo_lock:
        hit = _memo.get(full_key)
        if hit is not None:
            _memo.move_to_end(full_key)
            return hit
    html = Markup(render())
    with _memo_lock:
        _memo[full_key] = html
        while len(_memo) > MEMO_ENTRIES:
            _memo.popitem(last=False)
    return html


def layout_part(*parts, caller) -> Markup:
    """A part of the page layout that is the same for every request with the same `parts` (the template's
    `{% call memo(...) %}`: the header's links, the footer and tab bar of templates/base.html): memoised on them,
    the language and the app's root. `parts` must name everything the part shows besides words and addresses;
    nothing per request (a CSRF token, the request's own address, flashed messages) may be inside one."""
    from flask_babel import get_locale

    return memoised(("layout", str(get_locale()), request.script_root, *parts), caller)
