"""Run one action from many threads at once, each with its own app context, session and commit."""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from core.errors import DomainError
from core.extensions import db


def race(app, action: Callable[[int], object], n: int, *, threads: int | None = None) -> Counter:
    """Call `action(i)` for i in range(n) from up to `threads` threads started together.

    Each call commits on success and rolls back on a DomainError; the result counts outcomes:
    "ok" or the error's code. Any other exception fails the test (it is re-raised).
    """
    # End the test thread's own transaction first: on SQLite it would hold the write lock (every
    # transaction is BEGIN IMMEDIATE) and on PostgreSQL it could hold row locks the racers need.
    db.session.commit()
    outcomes: Counter = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    indexes = iter(range(n))
    workers = min(threads or n, n)
    barrier = threading.Barrier(workers)

    def worker():
        barrier.wait()
        while True:
            with lock:
                i = next(indexes, None)
            if i is None:
                return
            with app.app_context():
                try:
                    action(i)
                    db.session.commit()
                    outcome = "ok"
                except DomainError as err:
                    db.session.rollback()
                    outcome = err.code
                except BaseException as exc:  # noqa: BLE001 - surfaced to the test below
                    db.session.rollback()
                    errors.append(exc)
                    outcome = "error"
                finally:
                    db.session.remove()
            with lock:
                outcomes[outcome] += 1

    pool = [threading.Thread(target=worker) for _ in range(workers)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    return outcomes


@contextmanager
def worker_app_for(app, threads: int) -> Iterator:
    """A second app on `app`'s database whose pool lets each of `threads` racing threads hold its own connection."""
    from culturenet import create_app

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = {"pool_size": threads, "max_overflow": 10, "pool_timeout": 120} if url.startswith("postgresql") else {}
    other = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "PASSWORD_HASH_PROFILE": "fast",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()
