"""One commit per request, pages and API alike.

Handlers call services (which flush, never commit) and return. After the answer is built, the request's work
is committed when it succeeded (status below 400) and rolled back when it was refused (a `DomainError`, shown
as a page, a flash or a JSON error) or failed; a request that only read ends the same way, with one COMMIT
where removing the session would have sent a ROLLBACK. CLI commands and background jobs are outside requests
and keep their own transactions.

A refused request that has only read (`core.db.only_read`: no flush, no Core write, no lock, no raw SQL,
nothing pending) ends with COMMIT too, which leaves the database exactly as a ROLLBACK would. The difference is
psycopg's: at every ROLLBACK it forgets the statements it had prepared on the connection (in case the
transaction dropped or altered what they name), so the refusals of a hot sign-up, one after another on the
same connections, would parse and plan their statements afresh every time.
"""

import functools

from flask import Flask, g, has_request_context

from core.db import only_read
from core.extensions import db


def refused() -> None:
    """This request was refused: whatever it flushed is rolled back, at once and at its end."""
    if has_request_context():
        g.culturenet_refused = True
        if g.get("culturenet_keep"):
            return
    end_refused(db.session())


def end_refused(session) -> None:
    """End a refused request's transaction: rolled back, or committed when it only read (the same for the
    data; psycopg keeps its prepared statements)."""
    if only_read(session):
        try:
            session.commit()
            return
        except Exception:  # noqa: BLE001 - a read-only COMMIT that fails ends as any refusal: rolled back
            pass
    session.rollback()


def keep_despite_refusal() -> None:
    """Commit what the request wrote even though it is refused (a failed sign-in still counts)."""
    if has_request_context():
        g.culturenet_keep = True


def kept_when_refused(*errors: type[Exception]):
    """For a service whose refusal must still be written (a failed sign-in's count, a wrong code's try): when
    it raises one of `errors` inside a request, what the request wrote is committed although it is refused.
    The rule lives on the service, so every page and endpoint that calls it keeps the count alike."""

    def wrap(fn):
        @functools.wraps(fn)
        def kept(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except errors:
                keep_despite_refusal()
                raise

        return kept

    return wrap


def finish(response):
    """Commit the request's work on success; roll it back after a refusal or an error."""
    session = db.session()  # the request's own session behind the scoped proxy
    refused_, keep = g.pop("culturenet_refused", False), g.pop("culturenet_keep", False)
    if not session.in_transaction():  # nothing was read or written: nothing to end
        return response
    if (refused_ or response.status_code >= 400) and not keep:
        end_refused(session)
    else:
        try:
            session.commit()
        except Exception:
            session.rollback()
            raise
    return response


def _start() -> None:
    # `g` outlives a request when an app context spans several (tests, CLI): start each one clean.
    g.pop("culturenet_refused", None)
    g.pop("culturenet_keep", None)


def register_transaction(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(finish)
