"""One-time secrets (SMS codes, password-reset links) sent straight through notify's channel backends.

They do not go through the outbox: an outbox row keeps its context and body in clear, and a code must
never be stored in clear; a code is also useless if it waits for the quiet hours (21:00–08:00) or for the
next scheduler poll. So a service queues the text on the database session, and it leaves through the
configured SMS backend (the official twilio client when SMS_BACKEND=twilio) or e-mail backend right after
the transaction commits — never before, and never when it rolls back (notify.direct does the sending).
A failed send is logged; the person asks again (the row that counted against the send limits stays).
"""

from core.db import note_write

KEY = "accounts.outgoing"  # where the queued secrets wait on the session; notify.direct sends them


def send_sms_after_commit(session, phone: str, text: str, *, key: str) -> None:
    """Send `text` to `phone` once `session` commits."""
    _queue(session, ("sms", phone, text, "", key))


def send_email_after_commit(session, address: str, subject: str, body: str, *, key: str) -> None:
    """Send an e-mail to `address` once `session` commits."""
    _queue(session, ("email", address, subject, body, key))


def _queue(session, item: tuple) -> None:
    session.info.setdefault(KEY, []).append(item)
    note_write(session)  # a refusal after this rolls back (and drops it), never commits it as a plain read
