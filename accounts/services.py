"""Writes on accounts: registration, login, passwords, family members, roles, data export and deletion.

Every function flushes and never commits; the caller (a view, the API, the CLI) commits once.
"""

import math
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from accounts import codes
from accounts.codes import validate_phone
from accounts.delivery import send_email_after_commit
from accounts.models import (
    PHONE_RE,
    LoginThrottle,
    Participant,
    Relation,
    Role,
    RoleGrant,
    SmsPurpose,
    User,
    card_number_for,
    is_valid_card_number,
    normalise_phone,
)
from accounts.signals import account_deleted, personal_data_requested
from core import audit
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid
from core.extensions import db

_hashers = {"default": PasswordHasher(), "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)}


def _hasher() -> PasswordHasher:
    """Argon2id; tests may choose a cheap profile (PASSWORD_HASH_PROFILE=fast) to stay quick."""
    return _hashers[current_app.config.get("PASSWORD_HASH_PROFILE", "default")]


_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    """A hash to check unknown logins against, so they cost what a real account costs (no timing oracle)."""
    hasher = _hasher()
    if id(hasher) not in _dummy_hashes:
        _dummy_hashes[id(hasher)] = hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[id(hasher)]


MIN_PASSWORD = 8
# A pragmatic address check: one @, a dotted domain, no spaces or line breaks (fullmatch: no trailing \n).
EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
RESET_SALT = "password-reset"


class LoginFailed(DomainError):
    code = "invalid_credentials"
    status = 401
    message = _l("The login or password is not correct.")


class AccountLocked(DomainError):
    code = "locked"
    status = 429


class Duplicate(DomainError):
    code = "duplicate"
    status = 409


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    return _verify(user.password_hash, password)


def validate_password(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(fields={field: [_("At least %(n)s characters.", n=MIN_PASSWORD)]})
    if len(password) > 128:
        raise Invalid(fields={field: [_("At most %(n)s characters.", n=128)]})


def registration_problems(*, name: str, phone: str, password: str, birth_year: int | None, email: str | None,
                          now: datetime) -> dict[str, list[str]]:
    """Every field error of a registration at once (a page shows them all, not one per attempt)."""
    fields: dict[str, list[str]] = {}
    checks = [lambda: validate_name(name), lambda: validate_phone(phone), lambda: validate_password(password),
              lambda: validate_birth_year(birth_year, now), lambda: validate_email(email)]
    for check in checks:
        try:
            check()
        except Invalid as err:
            for field, messages in err.extra["fields"].items():
                fields.setdefault(field, []).extend(messages)
    return fields


def validate_name(name: str, field: str = "name") -> str:
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise Invalid(fields={field: [_("Enter a name of 1 to 50 characters.")]})
    return name


def validate_consent(consent: bool) -> None:
    if consent is not True:
        raise Invalid(fields={"consent": [_("Please read and agree to the user agreement and the privacy policy.")]})


def validate_sms_code_given(sms_code: str | None, verify_phone: bool | None = None) -> None:
    if _verifies_phone(verify_phone) and not (sms_code or "").strip():
        raise Invalid(fields={"sms_code": [_("Enter the code we sent to your phone.")]})


def validate_email(email: str | None, field: str = "email") -> str | None:
    """The address in lower case, None when empty; raises `Invalid` for anything not shaped like one."""
    raw = email or ""
    email = raw.strip().lower()
    if not email:
        return None
    if len(email) > 254 or "\r" in raw or "\n" in raw or not EMAIL_RE.fullmatch(email):
        raise Invalid(fields={field: [_("Enter an e-mail address such as name@example.com, or leave it empty.")]})
    return email


def register_resident(*, name: str, phone: str, password: str, birth_year: int | None = None,
                      email: str | None = None, locale: str = "zh_CN", now: datetime | None = None) -> User:
    """Create a resident with a one-card number and a `self` participant (also the counter and seed path:
    staff record the resident's consent to the current terms on paper, so it is stored as given).

    Raises `Invalid` with every field error at once, `Duplicate` when the phone or e-mail is taken.
    """
    now = now or utcnow()
    fields = registration_problems(name=name, phone=phone, password=password, birth_year=birth_year,
                                   email=email, now=now)
    if fields:
        raise Invalid(fields=fields)
    return _create_resident(name=name.strip(), phone=normalise_phone(phone), password=password,
                            birth_year=birth_year, email=validate_email(email), locale=locale, now=now)


def sign_up(*, name: str, phone: str, password: str, consent: bool, sms_code: str | None = None,
            birth_year: int | None = None, email: str | None = None, locale: str = "zh_CN",
            verify_phone: bool | None = None, now: datetime | None = None) -> User:
    """Self-service registration (page and API): `register_resident` plus consent to the 用户协议 and
    隐私政策, and, when REGISTRATION_SMS_VERIFY is on (`verify_phone`), the phone proven by a code.

    Raises `Invalid` (every field error at once, including `consent` and `sms_code`), `Duplicate`, or
    `codes.CodeRefused`; a refused code still counts its try, so the caller commits on that error too.
    """
    now = now or utcnow()
    verify = _verifies_phone(verify_phone)
    fields = sign_up_problems(name=name, phone=phone, password=password, consent=consent, sms_code=sms_code,
                              birth_year=birth_year, email=email, verify_phone=verify, now=now)
    if fields:
        raise Invalid(fields=fields)
    phone, email = normalise_phone(phone), validate_email(email)
    _refuse_taken(phone, email)
    if verify:
        codes.use_code(phone, SmsPurpose.register, sms_code, now=now)
    return _create_resident(name=name.strip(), phone=phone, password=password, birth_year=birth_year,
                            email=email, locale=locale, now=now)


def _verifies_phone(verify_phone: bool | None) -> bool:
    return current_app.config.get("REGISTRATION_SMS_VERIFY", True) if verify_phone is None else verify_phone


def sign_up_problems(*, name: str, phone: str, password: str, consent: bool, sms_code: str | None = None,
                     birth_year: int | None = None, email: str | None = None, verify_phone: bool | None = None,
                     now: datetime | None = None) -> dict[str, list[str]]:
    """Every field error of a self-service registration at once (before any code is tried)."""
    fields = registration_problems(name=name, phone=phone, password=password, birth_year=birth_year,
                                   email=email, now=now or utcnow())
    for check in (lambda: validate_consent(consent), lambda: validate_sms_code_given(sms_code, verify_phone)):
        try:
            check()
        except Invalid as err:
            fields.update(err.extra["fields"])
    return fields


DUPLICATE = _l("This phone number or e-mail cannot be registered again. If it is yours, sign in.")


def _refuse_taken(phone: str, email: str | None) -> None:
    taken = select(User.id).where(or_(User.phone == phone, User.email == email) if email else User.phone == phone)
    if db.session.execute(taken).first():
        raise Duplicate(DUPLICATE)


def _create_resident(*, name: str, phone: str, password: str, birth_year: int | None, email: str | None,
                     locale: str, now: datetime) -> User:
    _refuse_taken(phone, email)
    user = User(name=name, phone=phone, email=email, password_hash=hash_password(password),
                birth_year=birth_year, locale=locale, created_at=now,
                terms_version=current_app.config["TERMS_VERSION"], terms_accepted_at=now)
    user.participants.append(Participant(name=name, birth_year=birth_year, relation=Relation.self))
    session = db.session
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Duplicate(DUPLICATE) from None
    user.card_number = card_number_for(user.id)
    session.flush()
    return user


def validate_birth_year(birth_year: int | None, now: datetime, field: str = "birth_year") -> None:
    if birth_year is not None and not (now.year - 120 <= birth_year <= now.year):
        raise Invalid(fields={field: [_("Enter a year between %(a)s and %(b)s.", a=now.year - 120, b=now.year)]})


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
        _verify(_dummy_hash(), password)
        raise _failed(failures)
    if not check_password(user, password):
        raise _failed(failures)
    _clear_attempts(key, now)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
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
    lock_until = sa.literal(now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
                            LoginThrottle.locked_until.type)
    failures = db.session.scalar(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key == key,
               or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now))
        .values(failures=count, locked_until=sa.case((count >= limit, lock_until), else_=sa.null()),
                updated_at=now)
        .returning(LoginThrottle.failures).execution_options(synchronize_session=False))
    if failures is None:
        row = db.session.get(LoginThrottle, key, populate_existing=True)
        raise _locked(row.locked_until, now)
    return failures


def _clear_attempts(key: str, now: datetime) -> None:
    db.session.execute(sa.update(LoginThrottle).where(LoginThrottle.key == key)
                       .values(failures=0, locked_until=None, updated_at=now)
                       .execution_options(synchronize_session=False))


def _failed(failures: int) -> "LoginFailed":
    limit = current_app.config["LOGIN_LOCKOUT_ATTEMPTS"]
    left = max(0, limit - failures)
    if left == 0:
        minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
        return LoginFailed(ngettext("The login or password is not correct. Sign-in is now locked for %(num)d "
                                    "minute; you can also sign in with an SMS code or reset the password.",
                                    "The login or password is not correct. Sign-in is now locked for %(num)d "
                                    "minutes; you can also sign in with an SMS code or reset the password.",
                                    minutes), tries_left=0)
    if failures >= limit - 1:  # the last tries before the lock say how many are left
        return LoginFailed(ngettext("The login or password is not correct. %(num)d more try before sign-in "
                                    "is locked.",
                                    "The login or password is not correct. %(num)d more tries before "
                                    "sign-in is locked.", left), tries_left=left)
    return LoginFailed()


def _locked(locked_until: datetime, now: datetime) -> AccountLocked:
    minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
    return AccountLocked(ngettext("Too many failed attempts. Try again in %(num)d minute.",
                                  "Too many failed attempts. Try again in %(num)d minutes.", minutes),
                         retry_after_minutes=minutes)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
    _set_password(user, new_password, now)
    return user


def _set_password(user: User, new_password: str, now: datetime) -> None:
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    _clear_attempts(f"user:{user.id}", now)
    db.session.flush()


def _mail_slot(key: str, now: datetime) -> bool:
    """Take the once-a-minute slot of `key` (a `login_throttles` row whose `updated_at` is the last send)."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(LoginThrottle.__table__)
                       .values(key=key, failures=0, updated_at=now - timedelta(days=1)).on_conflict_do_nothing())
    taken = db.session.execute(
        sa.update(LoginThrottle).where(LoginThrottle.key == key, LoginThrottle.updated_at <= now - timedelta(minutes=1))
        .values(updated_at=now).execution_options(synchronize_session=False))
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
    body = "\n\n".join([
        _("Someone (we hope you) asked to set a new password for your CultureNet account."),
        _("Open this link within %(n)s minutes to choose a new password:", n=minutes), link_for(token),
        _("If it was not you, ignore this e-mail: your password stays as it is."),
    ])
    send_email_after_commit(db.session, address, _("Set a new CultureNet password"), body,
                            key=f"password-reset:{user.id}:{user.session_version}")


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
    _set_password(user, new_password, now or utcnow())
    return user


def sign_out_everywhere(user: User) -> None:
    """End every session, remember-me cookie and API token of `user` (sign-out is server-side)."""
    user.session_version += 1
    db.session.flush()


def accept_terms(user: User, *, consent: bool, now: datetime | None = None) -> None:
    """Record that `user` agreed to the current 用户协议 and 隐私政策 (TERMS_VERSION)."""
    validate_consent(consent)
    user.terms_version = current_app.config["TERMS_VERSION"]
    user.terms_accepted_at = now or utcnow()
    db.session.flush()


def change_password(user: User, *, current: str, new: str, now: datetime | None = None) -> None:
    """Set a new password and sign out every other session (the session version moves on)."""
    if not check_password(user, current):
        raise Invalid(fields={"current_password": [_("The current password is not correct.")]})
    validate_password(new, "new_password")
    _set_password(user, new, now or utcnow())


def add_participant(user: User, *, name: str, birth_year: int | None, relation: str,
                    gender: str | None = None, id_number: str | None = None,
                    now: datetime | None = None) -> Participant:
    """Register a family member under `user`; at most 10, and `self` exists once already."""
    name = (name or "").strip()
    fields = {}
    if not name or len(name) > 50:
        fields["name"] = [_("Enter a name of 1 to 50 characters.")]
    if relation == Relation.self or relation not in Relation.__members__:
        fields["relation"] = [_("Choose how this person is related to you.")]
    if id_number and not _valid_id_number(id_number):
        fields["id_number"] = [_("Enter an 18-character resident ID number.")]
    if fields:
        raise Invalid(fields=fields)
    validate_birth_year(birth_year, now or utcnow())
    if len(user.participants) >= 10:
        raise DomainError(_("You can register at most 10 family members."), code="limit_reached")
    participant = Participant(user=user, name=name, birth_year=birth_year, relation=Relation(relation),
                              gender=gender or None, id_number=(id_number or "").upper() or None)
    db.session.add(participant)
    db.session.flush()
    return participant


def _valid_id_number(value: str) -> bool:
    value = value.strip().upper()
    return len(value) == 18 and value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")


def create_user(*, login: str, password: str, name: str | None = None, role: str = "resident",
                venue=None, actor: User | None = None) -> User:
    """An account from the CLI or an admin: a resident (login is a phone) or a scoped staff account."""
    if role == "resident":
        return register_resident(name=name or login, phone=login, password=password)
    if role not in Role.__members__:
        raise Invalid(fields={"role": [_("Unknown role.")]})
    if role != Role.admin and venue is None:
        raise Invalid(fields={"venue": [_("Staff and managers need a venue.")]})
    validate_password(password)
    user = find_by_login(login)
    if user is None:
        phone = normalise_phone(login)
        kwargs = {"phone": phone} if PHONE_RE.match(phone) else (
            {"email": login.lower()} if "@" in login else {"login": login})
        user = User(name=name or login, password_hash=hash_password(password), **kwargs)
        db.session.add(user)
    else:
        user.password_hash = hash_password(password)
    db.session.flush()
    grant_role(user, role=Role(role), venue=venue, actor=actor)
    return user


def grant_role(user: User, *, role: Role, venue, actor: User | None = None) -> RoleGrant:
    """Grant `role` at `venue` (None: the whole network, admins only); granting twice is a no-op."""
    if actor is not None and not actor.is_admin:
        raise Forbidden()
    for grant in user.grants:
        if grant.role == role and grant.venue_id == (venue.id if venue else None):
            return grant
    grant = RoleGrant(user=user, role=role, venue=venue, granted_by_id=actor.id if actor else None)
    user.grants.append(grant)
    db.session.flush()
    audit.record(actor, "role.grant", user, {"role": role.value, "venue_id": venue.id if venue else None})
    return grant


def revoke_role(grant: RoleGrant, *, actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden()
    audit.record(actor, "role.revoke", grant.user, {"role": grant.role.value, "venue_id": grant.venue_id})
    db.session.delete(grant)
    db.session.flush()


def export_personal_data(user: User) -> dict:
    """Everything we hold about `user` (PIPL), including what other packages contribute by signal."""
    data = {
        "account": {
            "name": user.name, "phone": user.phone, "email": user.email, "card_number": user.card_number,
            "birth_year": user.birth_year, "locale": user.locale, "created_at": user.created_at.isoformat(),
            "suspended_until": user.suspended_until.isoformat() if user.suspended_until else None,
        },
        "participants": [
            {"name": p.name, "birth_year": p.birth_year, "relation": p.relation.value,
             "gender": p.gender.value if p.gender else None, "id_number": p.id_number}
            for p in user.participants
        ],
        "roles": [{"role": g.role.value, "venue_id": g.venue_id} for g in user.grants],
    }
    for _receiver, result in personal_data_requested.send(user):
        if result:
            key, value = result
            data[key] = value
    return data


def delete_account(user: User, *, now: datetime | None = None) -> None:
    """Anonymise the account: personal data goes, bookings stay countable in statistics."""
    now = now or utcnow()
    user.name = _("Deleted user")
    user.phone = user.email = user.login = None
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    user.is_active = False
    user.deleted_at = now
    user.session_version += 1
    for participant in user.participants:
        participant.name = _("Deleted user")
        participant.id_number = None
    db.session.flush()
    account_deleted.send(user, now=now)
