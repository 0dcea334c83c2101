"""The dispatcher: claim due rows, send each through its channel, record the outcome.

Each step is its own short transaction, and no transaction stays open during a provider call:

1. claim: one UPDATE marks up to `limit` due rows `sending`, stamps them with this run's token, pushes
   `next_attempt_at` to the end of a lease and returns the rows; on PostgreSQL the rows are picked with
   `FOR UPDATE SKIP LOCKED` in the order of the partial index ix_messages_due, so concurrent dispatchers
   take disjoint rows; on SQLite the UPDATE runs under BEGIN IMMEDIATE, which serialises claims. Commit.
2. prepare (the batch): read the recipients and their preferences (one query), apply expiry, preferences
   and quiet hours, render each message once. End the transaction.
3. send: the provider calls, in NOTIFY_SENDER_THREADS sender threads (outside any transaction), while the
   next batch is claimed and prepared. A row whose claim is older than half its lease is not sent but given
   back (pending again, the attempt not counted).
4. record: per kind of outcome one conditional UPDATE (`WHERE id = … AND claimed_by = token AND state =
   'sending'`), executed for all its rows at once. Commit.

A crash between 3 and 4 leaves the batch's rows `sending`; once the lease ends another run claims them again.
A row claimed more than once goes through `process`, one by one: before re-sending, the channel is asked
whether the first send went through (Twilio: list messages to the number; found → adopt its sid instead of
sending again). See the README's "Notifications: what is guaranteed".
"""

import json
import logging
import os
import socket
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from time import monotonic

import sqlalchemy as sa
import sqlalchemy.orm
from flask import current_app

from accounts.models import User
from core.db import utcnow
from core.extensions import db
from core.i18n import local_datetime, to_local
from notify.channels import Inbox, PermanentFailure, TemporaryFailure, backend_for
from notify.models import Channel, Message, NotificationPreference, State
from notify.rendering import TemplateProblem, render
from notify.services import preferences_for

log = logging.getLogger("culturenet.notify")

QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(8, 0)


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"claimed={self.claimed} sent={self.sent} retried={self.retried} failed={self.failed} "
            f"skipped={self.skipped} deferred={self.deferred}"
        )


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def new_token() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def quiet_hours_end(now: datetime) -> datetime | None:
    """08:00 local after `now` when `now` falls in the SMS quiet hours (21:00–08:00), else None."""
    local = to_local(now)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return local_datetime(day, QUIET_UNTIL)


def claim_due(now: datetime, *, limit: int, token: str) -> list[int]:
    """Mark up to `limit` due rows `sending` for `token` and commit; returns their ids."""
    ids = [row.id for row in claim_rows(now, limit=limit, token=token)]
    return sorted(ids)


def claim_rows(now: datetime, *, limit: int, token: str) -> list:
    """`claim_due`, returning the claimed rows' columns (as they are after the claim) instead of ids."""
    lease = timedelta(seconds=_setting("NOTIFY_LEASE_SECONDS", 300))
    # The predicate of the partial index ix_messages_due, as literal SQL (a bound parameter would keep a
    # prepared statement's generic plan off the index): rows come in index order, no sort.
    still_to_send = sa.text("messages.state IN ('pending', 'sending')")
    due = (
        sa.select(Message.id)
        .where(still_to_send, Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        # A CTE runs once: a sub-select in `WHERE id IN (...)` may be re-run by the planner and claim more
        # than `limit` rows. FOR UPDATE SKIP LOCKED: concurrent dispatchers take disjoint rows.
        picked = due.with_for_update(skip_locked=True).cte("due")
        where = [Message.id == picked.c.id]
    else:  # SQLite: BEGIN IMMEDIATE already serialises this whole statement
        where = [
            Message.id.in_(due.scalar_subquery()),
            still_to_send,
            Message.next_attempt_at <= now,
        ]
    table = Message.__table__
    stmt = (
        sa.update(Message)
        .where(*where)
        .values(
            state=State.sending,
            claimed_by=token,
            claimed_at=now,
            attempts=Message.attempts + 1,
            next_attempt_at=now + lease,
        )
        .returning(*table.c)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(stmt).all()
    db.session.commit()
    return sorted(rows, key=lambda row: row.id)


def _finish(message_id: int, token: str, **values) -> bool:
    """Record an outcome, only if the row is still ours (a row whose lease ended may have a new owner)."""
    result = db.session.execute(
        sa.update(Message)
        .where(Message.id == message_id, Message.claimed_by == token, Message.state == State.sending)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _sid_taken(provider_id: str) -> bool:
    """Whether another row already records this provider id (so it is not the lost send of this row)."""
    taken = db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.provider_id == provider_id)) > 0
    db.session.commit()
    return taken


def _backoff(attempts: int) -> timedelta:
    base = _setting("NOTIFY_BACKOFF_SECONDS", 60)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), _setting("NOTIFY_BACKOFF_MAX_SECONDS", 6 * 3600)))


def _held_back(row: Message, token: str, now: datetime, stats: DispatchStats) -> bool:
    """Skip a row that is too late or whose channel the recipient turned off; defer an SMS in the quiet
    hours to 08:00 (not counted as an attempt). True when the row is not to be sent now. The rules are
    `_hold_back`'s, which the batch path uses too."""
    held = _hold_back(row, preferences_for(row.recipient), now)
    if held is None:
        return False
    kind, values = held
    _finish(row.id, token, **values)
    setattr(stats, kind, getattr(stats, kind) + 1)
    return True


def process(message_id: int, token: str, now: datetime, stats: DispatchStats) -> None:
    """Prepare, send and record one claimed row; never raises for a problem of the message itself."""
    row = db.session.get(
        Message,
        message_id,
        populate_existing=True,
        options=[sa.orm.joinedload(Message.recipient).lazyload(User.grants)],
    )
    if row is None or row.claimed_by != token or row.state != State.sending:
        db.session.rollback()
        stats.lost += 1
        return
    if _held_back(row, token, now, stats):
        return
    try:
        rendered = render(row.template, row.context, row.locale)
    except TemplateProblem as exc:
        _finish(row.id, token, state=State.failed, last_error=str(exc)[:500])
        stats.failed += 1
        stats.errors.append(str(exc))
        return
    subject, body = (None, rendered.sms) if row.channel == Channel.sms else (rendered.subject, rendered.body)
    attempts = row.attempts
    backend = backend_for(row.channel)
    db.session.expunge(row.recipient)
    db.session.expunge(row)
    db.session.commit()  # no transaction (and on SQLite no write lock) is held during the provider call
    try:
        provider_id = backend.find_previous(row, rendered, taken=_sid_taken) if attempts > 1 else None
        if provider_id is None:
            provider_id = backend.send(row, rendered)
    except TemporaryFailure as exc:
        if attempts >= int(_setting("NOTIFY_MAX_ATTEMPTS", 8)):
            _finish(row.id, token, state=State.failed, last_error=f"gave up after {attempts} attempts: {exc}"[:500])
            stats.failed += 1
        else:
            _finish(
                row.id,
                token,
                state=State.pending,
                next_attempt_at=now + _backoff(attempts),
                last_error=str(exc)[:500],
                claimed_by=None,
            )
            stats.retried += 1
        return
    except PermanentFailure as exc:
        _finish(row.id, token, state=State.failed, last_error=str(exc)[:500])
        stats.failed += 1
        return
    except Exception as exc:  # a bug in a backend must not stop the queue: retry, then fail visibly
        db.session.rollback()
        log.exception("notify: unexpected error sending message %s", message_id)
        _finish(
            row.id,
            token,
            state=State.pending,
            next_attempt_at=now + _backoff(attempts),
            last_error=f"unexpected: {exc!r}"[:500],
            claimed_by=None,
        )
        stats.retried += 1
        return
    if _finish(
        row.id,
        token,
        state=State.sent,
        sent_at=now,
        provider_id=provider_id,
        subject=subject,
        body=body,
        last_error=None,
    ):
        stats.sent += 1
    else:
        stats.lost += 1


@dataclass
class Recipient:
    id: int
    phone: str | None
    email: str | None


@dataclass
class Outgoing:
    """A claimed row as the backends read it (the same attributes as a Message), without the ORM."""

    id: int
    channel: Channel
    template: str
    context: dict
    locale: str
    dedupe_key: str
    is_urgent: bool
    expires_at: datetime | None
    attempts: int
    created_at: datetime | None
    recipient: Recipient


def _recipients(rows: list) -> dict[int, tuple[Recipient, NotificationPreference | None]]:
    """The recipients of claimed rows, with their channel preferences: one query."""
    users = {row.recipient_id for row in rows}
    if not users:
        return {}
    pref = NotificationPreference.__table__
    stmt = (
        sa.select(User.id, User.phone, User.email, pref.c.sms, pref.c.email.label("by_email"), pref.c.inbox)
        .outerjoin(pref, pref.c.user_id == User.id)
        .where(User.id.in_(users))
    )
    found = {}
    for r in db.session.execute(stmt):
        prefs = None if r.sms is None else NotificationPreference(sms=r.sms, email=r.by_email, inbox=r.inbox)
        found[r.id] = (Recipient(r.id, r.phone, r.email), prefs)
    return found


def _record(outcomes: list[tuple[str, int, dict]], token: str) -> Counter:
    """Write many outcomes, each (what it counts as, message id, columns): one conditional UPDATE per kind and
    set of columns, executed for all its rows at once (`WHERE id = … AND claimed_by = token AND state =
    'sending'`, as `_finish`); commit. The rows recorded, by kind."""
    groups: dict[tuple, list[dict]] = {}
    for kind, message_id, values in outcomes:
        groups.setdefault((kind, tuple(sorted(values))), []).append({"b_id": message_id, **values})
    table = Message.__table__
    recorded: Counter = Counter()
    for (kind, columns), params in groups.items():
        stmt = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"), table.c.claimed_by == token, table.c.state == State.sending.name)
            .values({c: sa.bindparam(c, type_=table.c[c].type) for c in columns})
        )
        recorded[kind] += db.session.execute(stmt, params).rowcount
    db.session.commit()
    return recorded


def _hold_back(row: "Outgoing", pref: NotificationPreference | None, now: datetime) -> tuple[str, dict] | None:
    """`_held_back` for the batch path, without writing: (what it counts as, the outcome) or None to send."""
    if row.expires_at is not None and now >= row.expires_at:
        return "skipped", {"state": State.skipped.name, "last_error": "too late: expired before it could be sent"}
    if pref is not None and not pref.allows(row.channel):
        return "skipped", {"state": State.skipped.name, "last_error": f"recipient turned {row.channel} off"}
    later = quiet_hours_end(now) if row.channel == Channel.sms and not row.is_urgent else None
    if later is None:
        return None
    if row.expires_at is not None and later >= row.expires_at:
        return "skipped", {"state": State.skipped.name, "last_error": "too late: quiet hours until expiry"}
    deferred = {"state": State.pending.name, "next_attempt_at": later, "attempts": row.attempts - 1, "claimed_by": None}
    return "deferred", deferred


def _send_one(app, row: "Outgoing", rendered, backend, deadline: float, now: datetime) -> tuple[str, dict]:
    """The provider call for one row of a batch (in a sender thread): what it counts as, and the outcome."""
    if monotonic() > deadline:  # the lease is half gone: do not send, give the row back
        return "released", {"state": State.pending.name, "attempts": row.attempts - 1, "claimed_by": None}
    try:
        with app.app_context():
            provider_id = backend.send(row, rendered)
    except TemporaryFailure as exc:
        if row.attempts >= int(app.config.get("NOTIFY_MAX_ATTEMPTS", 8)):
            return "failed", {
                "state": State.failed.name,
                "last_error": f"gave up after {row.attempts} attempts: {exc}"[:500],
            }
        return "retried", {
            "state": State.pending.name,
            "next_attempt_at": now + _backoff_in(app, row.attempts),
            "last_error": str(exc)[:500],
            "claimed_by": None,
        }
    except PermanentFailure as exc:
        return "failed", {"state": State.failed.name, "last_error": str(exc)[:500]}
    except Exception as exc:  # a bug in a backend must not stop the queue: retry, then fail visibly
        log.exception("notify: unexpected error sending message %s", row.id)
        return "retried", {
            "state": State.pending.name,
            "next_attempt_at": now + _backoff_in(app, row.attempts),
            "last_error": f"unexpected: {exc!r}"[:500],
            "claimed_by": None,
        }
    subject, body = (None, rendered.sms) if row.channel == Channel.sms else (rendered.subject, rendered.body)
    sent = {"state": State.sent.name, "sent_at": now, "provider_id": provider_id, "subject": subject, "body": body}
    return "sent", {**sent, "last_error": None}


def _backoff_in(app, attempts: int) -> timedelta:
    """`_backoff` from a sender thread, which has no application context of its own."""
    with app.app_context():
        return _backoff(attempts)


@dataclass
class _Batch:
    """A claimed batch between its preparation and its record: the outcomes known before sending, the
    provider calls in flight, the inbox rows (sending them is the record) and the rows to send one by one."""

    outcomes: list = field(default_factory=list)
    counted: list = field(default_factory=list)
    remote: list = field(default_factory=list)
    calls: object = None
    inbox: list = field(default_factory=list)
    again: list = field(default_factory=list)


def _prepare(rows: list, token: str, now: datetime, stats: DispatchStats, pool, claimed_at: float) -> _Batch:
    """Read the claimed rows' recipients (one query), hold back what is not to be sent now, render each
    message once (the SMS and inbox rows of one reminder share a rendering), end the transaction and start
    the provider calls in the sender threads (they run while the next batch is claimed and prepared)."""
    app = current_app._get_current_object()
    recipients = _recipients(rows)
    batch = _Batch()
    renderings: dict[tuple, object] = {}
    to_send = []
    for claimed in rows:
        if claimed.attempts > 1:
            batch.again.append(claimed.id)
            continue
        if claimed.recipient_id not in recipients:  # the account is gone (its rows go with it)
            stats.lost += 1
            continue
        recipient, pref = recipients[claimed.recipient_id]
        row = Outgoing(
            id=claimed.id,
            channel=Channel(claimed.channel),
            template=claimed.template,
            context=claimed.context,
            locale=claimed.locale,
            dedupe_key=claimed.dedupe_key,
            is_urgent=claimed.is_urgent,
            expires_at=claimed.expires_at,
            attempts=claimed.attempts,
            created_at=claimed.created_at,
            recipient=recipient,
        )
        held = _hold_back(row, pref, now)
        if held is not None:
            batch.counted.append(held[0])
            batch.outcomes.append((row.id, held[1]))
            continue
        key = (row.template, row.locale, json.dumps(row.context, sort_keys=True))
        try:
            if key not in renderings:
                renderings[key] = render(row.template, row.context, row.locale)
            rendered = renderings[key]
        except TemplateProblem as exc:
            batch.counted.append("failed")
            batch.outcomes.append((row.id, {"state": State.failed.name, "last_error": str(exc)[:500]}))
            stats.errors.append(str(exc))
            continue
        to_send.append((row, rendered, backend_for(row.channel)))
    db.session.commit()  # no transaction (and on SQLite no write lock) is held during the provider calls
    deadline = claimed_at + _setting("NOTIFY_LEASE_SECONDS", 300) / 2
    batch.inbox = [item for item in to_send if isinstance(item[2], Inbox)]  # sending is the record itself
    batch.remote = [item for item in to_send if not isinstance(item[2], Inbox)]

    def call(item):
        return _send_one(app, *item, deadline, now)

    batch.calls = map(call, batch.remote) if pool is None else pool.map(call, batch.remote)
    return batch


def _complete(batch: _Batch, token: str, now: datetime, stats: DispatchStats) -> None:
    """Wait for a batch's provider calls and record every outcome (one UPDATE per kind); then the rows
    sent before go through `process` one by one, which asks the provider first (find_previous)."""
    outcomes, counted = batch.outcomes, batch.counted
    for (row, _rendered, _backend), (kind, values) in zip(batch.remote, batch.calls, strict=True):
        counted.append(kind)
        outcomes.append((row.id, values))
    for row, rendered, backend in batch.inbox:
        counted.append("sent")
        sent = {"state": State.sent.name, "sent_at": now, "provider_id": backend.send(row, rendered)}
        outcomes.append((row.id, {**sent, "subject": rendered.subject, "body": rendered.body, "last_error": None}))
    recorded = _record([(k, i, v) for k, (i, v) in zip(counted, outcomes, strict=True)], token) if outcomes else {}
    for kind, n in Counter(counted).items():
        done = recorded.get(kind, 0)
        if kind != "released":  # given back unsent: counted nowhere
            setattr(stats, kind, getattr(stats, kind) + done)
        stats.lost += n - done  # an outcome not recorded: the row had a new owner (its lease ended)
    for message_id in batch.again:
        process(message_id, token, now, stats)


def process_batch(rows: list, token: str, now: datetime, stats: DispatchStats, pool, claimed_at: float) -> None:
    """Prepare, send and record one batch claimed by `claim_rows`."""
    _complete(_prepare(rows, token, now, stats, pool, claimed_at), token, now, stats)


def dispatch_due(
    now: datetime | None = None,
    *,
    batch_size: int = 100,
    max_batches: int | None = None,
    token: str | None = None,
    senders: int | None = None,
) -> DispatchStats:
    """Send every message due at `now`, batch by batch, until none is left (the `dispatch` job).

    `senders` (default NOTIFY_SENDER_THREADS, 8) provider calls of a batch run at once."""
    now = now or utcnow()
    token = token or new_token()
    senders = int(senders or _setting("NOTIFY_SENDER_THREADS", 8))
    stats = DispatchStats()
    batches = 0
    pool = ThreadPoolExecutor(senders, thread_name_prefix="notify-send") if senders > 1 else None
    in_flight = None  # the batch being sent while the next one is claimed and prepared
    try:
        while max_batches is None or batches < max_batches:
            claimed_at = monotonic()
            rows = claim_rows(now, limit=batch_size, token=token)
            if not rows:
                break
            batches += 1
            stats.claimed += len(rows)
            prepared = _prepare(rows, token, now, stats, pool, claimed_at)
            if in_flight is not None:
                _complete(in_flight, token, now, stats)
            in_flight = prepared
        if in_flight is not None:
            _complete(in_flight, token, now, stats)
    finally:
        if pool is not None:
            pool.shutdown()
    if stats.claimed:
        log.info("notify dispatch: %s", stats)
    return stats
