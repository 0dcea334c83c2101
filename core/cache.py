"""A short-lived cache of rendered public fragments (the results of the activity list, the venue directory).

At 9:00 on the day spring classes open, most residents load the same first pages of the same lists; each
worker process renders a given list fragment once per `PUBLIC_CACHE_SECONDS` (15 s; 0 turns it off) instead
of once per visitor. Only public data goes in — nothing that depends on who is asking — and the key holds
everything the fragment depends on (the endpoint, its normalised arguments, the language). The page around
it (login state, CSRF token, large text) is rendered for each request as usual. A request that says
`Cache-Control: no-cache` gets a fresh rendering (and refreshes the entry).

What this means for staff: a published or edited activity shows up in the public list within 15 s. Seat
counts are never cached (they are not in these fragments), and nothing here is used for decisions.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request
from markupsafe import Markup

MAX_ENTRIES = 2048
_lock = threading.Lock()
_entries: OrderedDict = OrderedDict()


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
    html = Markup(render())
    with _lock:
        _entries[full_key] = (now + seconds, html)
        _entries.move_to_end(full_key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return html


def clear() -> None:
    with _lock:
        _entries.clear()
