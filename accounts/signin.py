"""Signing in and out: the lockout (known and unknown logins alike), sign-in by SMS code, password resets by
code or e-mailed link, and sign-out everywhere. Flush, never commit; the caller commits once.
"""

import math
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from accounts import codes, passwords
from accounts.delivery import send_email_after_commit
from accounts.fields import validate_email, validate_password, validate_phone
from accounts.models import PHONE_RE, LoginThrottle, SmsPurpose, User, is_valid_card_number, normalise_phone
from core import transaction
from core.db import utcnow
from core.errors import DomainError, Invalid
from core.extensions import db

RESET_SALT = "password-reset"


class LoginFailed(DomainError):
    code = "invalid_credentials"
    status = 401
    message = _l("The login or password is not correct.")


class AccountLocked(DomainError):
    code = "locked"
    status = 429


def find_by_login(login: str) -> User | None:
    """The account named by a phone, a one-card number, an e-mail or a staff login."""
    login = (login or "").strip()
    if not login or len(login) > 254:
        return None
    phone = normalise_phone(login)
    if PHONE_RE.match(phone):
        clause = User.phone == phone
    elif is_valid_card_number(login):
        clause = User.card_number == login
    elif "@" in login:
        clause = User.email == login.lower()
    else:
        clause = User.login == login
    return db.session.execute(select(User).where(clause)).scalar_one_or_none()


def _throttle_key(login: str, user: User | None) -> str:
    """One counter per account however it is named (phone, card, e-mail), and one per unknown login."""
    if user is not None:
        return f"user:{user.id}"
    login = (login or "").strip()
    phone = normalise_phone(login)
    return "login:" + (phone if PHONE_RE.match(phone) else login.lower())[:250]


@transaction.kept_when_refused(DomainError)  # the failed attempt or the code's try counts
def authenticate(login: str, password: str, *, now: datetime | None = None) -> User:
    """The user for these credentials, counting failures and locking after LOGIN_LOCKOUT_ATTEMPTS.

    An attempt is reserved before the password is checked (`_reserve_attempt`), so N parallel guesses
    check at most the limit. Unknown logins count, lock, hash and answer exactly like known ones. The
    last failures before the lock say how many tries are left. Raises `LoginFailed` or `AccountLocked`;
    the caller commits on either, to keep the count.
    """
    now = now or utcnow()
    user = find_by_login(login)
    if user is not None and not user.is_active:
        user = None
    key = _throttle_key(login, user)
    failures = _reserve_attempt(key, now)
    if user is None:
        passwords.verify_hash(passwords.dummy_hash(), password)
        raise _failed(failures)
    if not passwords.check_password(user, password):
        raise _failed(failures)
    _clear_attempts(key, now)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    db.session.flush()
    return user


def _reserve_attempt(key: str, now: datetime) -> int:
    """Count one attempt for `key` in one conditional UPDATE and return the count; raise `AccountLocked`
    while locked. The attempt that reaches the limit sets the lock at once (it is lifted on success)."""
    limit = current_app.config["LOGIN_LOCKOUT_ATTEMPTS"]
    table = LoginThrottle.__table__
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(table).values(key=key, failures=0, updated_at=now).on_conflict_do_nothing())
    lock_ended = LoginThrottle.locked_until.is_not(None)
    count = sa.case((lock_ended, 1), else_=LoginThrottle.failures + 1)
    lock_until = sa.literal(
        now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]), LoginThrottle.locked_until.type
    )
    failures = db.session.scalar(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key == key, or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now))
        .values(failures=count, locked_until=sa.case((count >= limit, lock_until), else_=sa.null()), updated_at=now)
        .returning(LoginThrottle.failures)
        .execution_options(synchronize_session=False)
    )
    if failures is None:
        row = db.session.get(LoginThrottle, key, populate_existing=True)
        raise _locked(row.locked_until, now)
    return failures


def _clear_attempts(key: str, now: datetime) -> None:
    db.session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(failures=0, locked_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def _failed(failures: int) -> "LoginFailed":
    limit = current_app.config["LOGIN_LOCKOUT_ATTEMPTS"]
    left = max(0, limit - failures)
    if left == 0:
        minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
        return LoginFailed(
            ngettext(
                "The login or password is not correct. Sign-in is now locked for %(num)d "
                "minute; you can also sign in with an SMS code or reset the password.",
                "The login or password is not correct. Sign-in is now locked for %(num)d "
                "minutes; you can also sign in with an SMS code or reset the password.",
                minutes,
            ),
            tries_left=0,
        )
    if failures >= limit - 1:  # the last tries before the lock say how many are left
        return LoginFailed(
            ngettext(
                "The login or password is not correct. %(num)d more try before sign-in is locked.",
                "The login or password is not correct. %(num)d more tries before sign-in is locked.",
                left,
            ),
            tries_left=left,
        )
    return LoginFailed()


def _locked(locked_until: datetime, now: datetime) -> AccountLocked:
    minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
    return AccountLocked(
        ngettext(
            "Too many failed attempts. Try again in %(num)d minute.",
            "Too many failed attempts. Try again in %(num)d minutes.",
            minutes,
        ),
        retry_after_minutes=minutes,
    )


@transaction.kept_when_refused(DomainError)  # the failed attempt or the code's try counts
def authenticate_by_code(phone: str, sms_code: str, *, now: datetime | None = None) -> User:
    """The account of `phone`, signed in by a sign-in code (it works while password sign-in is locked).

    Raises `Invalid` (phone) or `codes.CodeRefused`; the caller commits on that error too (tries count).
    """
    now = now or utcnow()
    phone = validate_phone(phone)
    codes.use_code(phone, SmsPurpose.login, sms_code, now=now)
    user = db.session.execute(select(User).where(User.phone == phone)).scalar_one_or_none()
    if user is None or not user.is_active:  # no code goes to such a phone, so this is not reached in practice
        raise codes.CodeRefused(fields={"sms_code": [str(codes.CodeRefused.message)]})
    return user


@transaction.kept_when_refused(DomainError)  # the failed attempt or the code's try counts
def reset_password_by_code(phone: str, sms_code: str, new_password: str, *, now: datetime | None = None) -> User:
    """Set a new password for the account of `phone`, proven by a reset code; every session and token of
    the account ends (the session version moves on) and a password lock is lifted.

    Raises `Invalid` (phone, password: checked before the code, so a typo does not spend a try) or
    `codes.CodeRefused`.
    """
    now = now or utcnow()
    fields = {}
    for check in (lambda: validate_phone(phone), lambda: validate_password(new_password, "new_password")):
        try:
            check()
        except Invalid as err:
            fields.update(err.extra["fields"])
    if not (sms_code or "").strip():
        fields["sms_code"] = [_("Enter the code we sent to your phone.")]
    if fields:
        raise Invalid(fields=fields)
    phone = normalise_phone(phone)
    codes.use_code(phone, SmsPurpose.reset, sms_code, now=now)
    user = db.session.execute(select(User).where(User.phone == phone)).scalar_one_or_none()
    if user is None or not user.is_active:
        raise codes.CodeRefused(fields={"sms_code": [str(codes.CodeRefused.message)]})
    set_password(user, new_password, now)
    return user


def set_password(user: User, new_password: str, now: datetime) -> None:
    user.password_hash = passwords.hash_password(new_password)
    user.session_version = User.session_version + 1  # in SQL: exact even from a stale copy (accounts.auth)
    _clear_attempts(f"user:{user.id}", now)
    db.session.flush()


def _mail_slot(key: str, now: datetime) -> bool:
    """Take the once-a-minute slot of `key` (a `login_throttles` row whose `updated_at` is the last send)."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    db.session.execute(
        insert(LoginThrottle.__table__)
        .values(key=key, failures=0, updated_at=now - timedelta(days=1))
        .on_conflict_do_nothing()
    )
    taken = db.session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key == key, LoginThrottle.updated_at <= now - timedelta(minutes=1))
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def request_password_reset_email(email: str, *, link_for: Callable[[str], str], now: datetime | None = None) -> None:
    """E-mail a reset link to the account with this address, if there is one (the answer is the same when
    there is none). The link carries the session version, so it works once, and for
    PASSWORD_RESET_LINK_MINUTES; at most one such e-mail a minute per account (more are dropped quietly).
    `link_for(token)` builds the absolute URL (the caller knows the host)."""
    address = validate_email(email)
    if address is None:
        raise Invalid(fields={"email": [_("This field is required.")]})
    user = db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    if user is None or not user.is_active or not _mail_slot(f"reset-mail:{user.id}", now or utcnow()):
        return
    token = _reset_serializer().dumps({"uid": user.id, "v": user.session_version})
    minutes = current_app.config["PASSWORD_RESET_LINK_MINUTES"]
    body = "\n\n".join(
        [
            _("Someone (we hope you) asked to set a new password for your CultureNet account."),
            _("Open this link within %(n)s minutes to choose a new password:", n=minutes),
            link_for(token),
            _("If it was not you, ignore this e-mail: your password stays as it is."),
        ]
    )
    send_email_after_commit(
        db.session,
        address,
        _("Set a new CultureNet password"),
        body,
        key=f"password-reset:{user.id}:{user.session_version}",
    )


class ResetLinkInvalid(DomainError):
    code = "invalid_reset_link"
    status = 400
    message = _l("This link has expired or has already been used. Ask for a new one.")


def user_for_reset_token(token: str) -> User:
    """The account a reset link is for; raises `ResetLinkInvalid` when expired, used or forged."""
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_LINK_MINUTES"] * 60)
    except BadSignature:
        raise ResetLinkInvalid() from None
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.is_active or user.session_version != data.get("v"):
        raise ResetLinkInvalid()
    return user


def reset_password_by_token(token: str, new_password: str, *, now: datetime | None = None) -> User:
    """Set a new password from an e-mailed link; every session and token of the account ends."""
    user = user_for_reset_token(token)
    validate_password(new_password, "new_password")
    set_password(user, new_password, now or utcnow())
    return user


def sign_out_everywhere(user: User) -> None:
    """End every session, remember-me cookie and API token of `user` (sign-out is server-side)."""
    user.session_version = User.session_version + 1  # in SQL: exact even from a stale copy (accounts.auth)
    db.session.flush()
