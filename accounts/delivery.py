"""One-time secrets (SMS codes, password-reset links) sent straight through notify's channel backends.

They do not go through the outbox: an outbox row keeps its context and body in clear, and a code must
never be stored in clear; a code is also useless if it waits for the quiet hours (21:00–08:00) or for the
next scheduler poll. So a service queues the text on the database session, and it leaves through the
configured SMS backend (the official twilio client when SMS_BACKEND=twilio) or e-mail backend right after
the transaction commits — never before, and never when it rolls back. A failed send is logged; the
person asks again (the row that counted against the send limits stays).
"""

import logging
from types import SimpleNamespace

import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy.orm import Session

from core.db import utcnow

log = logging.getLogger("culturenet.accounts")
KEY = "accounts.outgoing"


def send_sms_after_commit(session, phone: str, text: str, *, key: str) -> None:
    """Send `text` to `phone` once `session` commits."""
    session.info.setdefault(KEY, []).append(("sms", phone, text, "", key))


def send_email_after_commit(session, address: str, subject: str, body: str, *, key: str) -> None:
    """Send an e-mail to `address` once `session` commits."""
    session.info.setdefault(KEY, []).append(("email", address, subject, body, key))


def _after_commit(session) -> None:
    outgoing = session.info.pop(KEY, None)
    if not outgoing or not has_app_context():
        return
    from notify.channels import backend_for  # notify builds on accounts: import at call time
    from notify.rendering import Rendered

    for channel, to, first, body, key in outgoing:
        recipient = SimpleNamespace(phone=to if channel == "sms" else None, email=to if channel == "email" else None)
        message = SimpleNamespace(id=None, recipient=recipient, channel=channel, dedupe_key=key, created_at=utcnow())
        rendered = Rendered(sms=first, subject="", body="") if channel == "sms" else \
            Rendered(sms="", subject=first, body=body)
        try:
            backend_for(channel).send(message, rendered)
        except Exception:  # noqa: BLE001 - the commit happened; the person can ask again
            log.exception("accounts: could not send %s %s", channel, key)


def _after_rollback(session) -> None:
    session.info.pop(KEY, None)


def register_delivery() -> None:
    """Hook the senders onto every session once per process (idempotent)."""
    if not sa.event.contains(Session, "after_commit", _after_commit):
        sa.event.listen(Session, "after_commit", _after_commit)
        sa.event.listen(Session, "after_rollback", _after_rollback)
