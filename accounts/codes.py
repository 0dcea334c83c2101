"""One-time SMS codes: ask for one (send limits per phone), check one (tries per code, used once).

Flush, never commit; the caller commits, and the SMS leaves after the commit (accounts/delivery.py).
"""

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from accounts.delivery import send_sms_after_commit
from accounts.fields import validate_phone
from accounts.models import SmsCode, SmsPurpose, User
from core.db import utcnow
from core.errors import DomainError, Invalid
from core.extensions import db

CODE_MINUTES = 5
RESEND_SECONDS = 60
DAILY_SENDS = 10


class TooSoon(DomainError):
    code = "sms_too_soon"
    status = 429
    message = _l("Please wait a minute before asking for another code.")


class DailyLimit(DomainError):
    code = "sms_daily_limit"
    status = 429
    message = _l("This phone has had too many codes today. Try again tomorrow, or ask at a culture centre.")


class CodeRefused(Invalid):
    """A code that is wrong, expired, used, or out of tries; a field error on `sms_code`."""

    code = "invalid_code"
    message = _l("The SMS code is not correct.")


def code_hash(phone: str, purpose: str, code: str) -> str:
    """A keyed hash (HMAC-SHA256 with SECRET_KEY): six digits are too few for a plain hash to hide them."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def sms_text(code: str) -> str:
    """The SMS: one 70-character segment, with the network's signature (tested in both languages)."""
    return _("[CultureNet] Your code: %(code)s, valid for %(n)s minutes. Do not share it.", code=code, n=CODE_MINUTES)


def _serialise_phone(phone: str) -> None:
    """Let one request at a time count and store codes for a phone (SQLite: the write lock already does)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"sms:{phone}"})


def request_code(phone: str, purpose: str, *, now: datetime | None = None) -> tuple[SmsCode, str]:
    """Store a new code for `phone` and `purpose` and send it after the commit; returns the row and the code.

    The answer is the same whether or not the phone has an account: a code for sign-in or reset goes out
    only to a registered phone, one for registration only to an unregistered one, yet a row is stored
    (and the limits count) either way. Raises `Invalid` (phone), `TooSoon` (one a minute), `DailyLimit`
    (ten in 24 hours).
    """
    now = now or utcnow()
    phone = validate_phone(phone)
    purpose = SmsPurpose(purpose)
    _serialise_phone(phone)
    count, last = db.session.execute(
        select(sa.func.count(SmsCode.id), sa.func.max(SmsCode.created_at)).where(
            SmsCode.phone == phone, SmsCode.created_at > now - timedelta(days=1)
        )
    ).one()
    if last is not None and (now - last).total_seconds() < RESEND_SECONDS:
        wait = max(1, math.ceil(RESEND_SECONDS - (now - last).total_seconds()))
        raise TooSoon(
            ngettext(
                "Please wait %(num)d second before asking for another code.",
                "Please wait %(num)d seconds before asking for another code.",
                wait,
            ),
            retry_after_seconds=wait,
        )
    if count >= DAILY_SENDS:
        raise DailyLimit()
    registered = (
        db.session.execute(select(User.id).where(User.phone == phone, User.is_active.is_(True))).first() is not None
    )
    send = registered != (purpose == SmsPurpose.register)
    code = f"{secrets.randbelow(10**6):06d}"
    row = SmsCode(
        phone=phone,
        purpose=purpose,
        code_hash=code_hash(phone, purpose, code),
        is_sent=send,
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    db.session.add(row)
    db.session.flush()
    if send:
        send_sms_after_commit(db.session, phone, sms_text(code), key=f"sms-code:{row.id}")
    return row, code


def use_code(phone: str, purpose: str, code: str | None, *, now: datetime | None = None) -> None:
    """Accept `code` for `phone` and `purpose` once, or raise `CodeRefused` (the try still counts).

    Only the newest code counts. A try is taken by one conditional UPDATE (`tries < 5`) before the code is
    compared, and the code is marked used by another (`used_at IS NULL`), so parallel tries cannot check
    more than five, nor use one code twice. The caller commits even when this raises, to keep the count.
    """
    now = now or utcnow()
    code = (code or "").strip()
    latest = db.session.scalar(
        select(SmsCode.id)
        .where(SmsCode.phone == phone, SmsCode.purpose == SmsPurpose(purpose))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    )
    if latest is None:
        raise _refused(_("Ask for a code first."))
    taken = db.session.execute(
        sa.update(SmsCode)
        .where(
            SmsCode.id == latest, SmsCode.used_at.is_(None), SmsCode.expires_at > now, SmsCode.tries < SmsCode.MAX_TRIES
        )
        .values(tries=SmsCode.tries + 1)
        .returning(SmsCode.tries, SmsCode.code_hash)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        raise _refused(_("This code has expired or has been used up. Ask for a new one."))
    if not (
        len(code) == 6 and code.isdigit() and hmac.compare_digest(taken.code_hash, code_hash(phone, purpose, code))
    ):
        left = SmsCode.MAX_TRIES - taken.tries
        if left == 0:
            raise _refused(_("The code is not correct, and it cannot be tried again. Ask for a new one."))
        raise _refused(
            ngettext(
                "The code is not correct. %(num)d more try.", "The code is not correct. %(num)d more tries.", left
            ),
            tries_left=left,
        )
    used = db.session.execute(
        sa.update(SmsCode)
        .where(SmsCode.id == latest, SmsCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise _refused(_("This code has expired or has been used up. Ask for a new one."))


def _refused(message: str, **extra) -> CodeRefused:
    return CodeRefused(message, fields={"sms_code": [message]}, **extra)
