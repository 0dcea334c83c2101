"""Secrets that must not wait in the outbox (SMS codes, password-reset links), sent right after the commit.

accounts queues them on the database session (accounts.delivery); this sends them through the configured
channel backends once the transaction commits, and drops them when it rolls back. A failed send is logged;
the person asks again.
"""

import logging
from types import SimpleNamespace

import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy.orm import Session

from accounts.delivery import KEY
from core.db import utcnow
from notify.channels import backend_for
from notify.rendering import Rendered

log = logging.getLogger("culturenet.notify")


def _after_commit(session) -> None:
    outgoing = session.info.pop(KEY, None)
    if not outgoing or not has_app_context():
        return
    for channel, to, first, body, key in outgoing:
        recipient = SimpleNamespace(phone=to if channel == "sms" else None, email=to if channel == "email" else None)
        message = SimpleNamespace(id=None, recipient=recipient, channel=channel, dedupe_key=key, created_at=utcnow())
        rendered = (
            Rendered(sms=first, subject="", body="") if channel == "sms" else Rendered(sms="", subject=first, body=body)
        )
        try:
            backend_for(channel).send(message, rendered)
        except Exception:  # noqa: BLE001 - the commit happened; the person can ask again
            log.exception("direct: could not send %s %s", channel, key)


def _after_rollback(session) -> None:
    session.info.pop(KEY, None)


def register_direct_delivery() -> None:
    """Hook the senders onto every session once per process (idempotent)."""
    if not sa.event.contains(Session, "after_commit", _after_commit):
        sa.event.listen(Session, "after_commit", _after_commit)
        sa.event.listen(Session, "after_rollback", _after_rollback)
