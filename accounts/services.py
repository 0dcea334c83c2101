"""Writes on accounts: registration, login, passwords, family members, roles, data export and deletion.

Every function flushes and never commits; the caller (a view, the API, the CLI) commits once.
"""

import math
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from accounts.models import (
    PHONE_RE,
    Participant,
    Relation,
    Role,
    RoleGrant,
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
MIN_PASSWORD = 8


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
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def validate_password(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(fields={field: [_("At least %(n)s characters.", n=MIN_PASSWORD)]})
    if len(password) > 128:
        raise Invalid(fields={field: [_("At most %(n)s characters.", n=128)]})


def validate_phone(phone: str) -> str:
    phone = normalise_phone(phone)
    if not PHONE_RE.match(phone):
        raise Invalid(fields={"phone": [_("Enter an 11-digit mainland mobile number, such as 13800000001.")]})
    return phone


def register_resident(*, name: str, phone: str, password: str, birth_year: int | None = None,
                      email: str | None = None, locale: str = "zh_CN", now: datetime | None = None) -> User:
    """Create a resident with a one-card number and a `self` participant.

    Raises `Invalid` for a bad phone, name or password, `Duplicate` when the phone or e-mail is taken.
    """
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise Invalid(fields={"name": [_("Enter a name of 1 to 50 characters.")]})
    phone = validate_phone(phone)
    validate_password(password)
    validate_birth_year(birth_year, now or utcnow())
    email = (email or "").strip().lower() or None
    taken = select(User.id).where(or_(User.phone == phone, User.email == email) if email else User.phone == phone)
    if db.session.execute(taken).first():
        raise Duplicate(_("This phone number or e-mail cannot be registered again. If it is yours, sign in."))
    user = User(name=name, phone=phone, email=email, password_hash=hash_password(password),
                birth_year=birth_year, locale=locale, created_at=now or utcnow())
    user.participants.append(Participant(name=name, birth_year=birth_year, relation=Relation.self))
    session = db.session
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Duplicate(_("This phone number or e-mail cannot be registered again. If it is yours, sign in.")) from None
    user.card_number = card_number_for(user.id)
    session.flush()
    return user


def validate_birth_year(birth_year: int | None, now: datetime, field: str = "birth_year") -> None:
    if birth_year is not None and not (now.year - 120 <= birth_year <= now.year):
        raise Invalid(fields={field: [_("Enter a year between %(a)s and %(b)s.", a=now.year - 120, b=now.year)]})


def look_up_resident(login: str, *, actor: User, purpose: str) -> User | None:
    """A resident found by staff (phone, card or e-mail) for a counter task; every look-up is recorded with
    who asked, for what and whether someone was found, because it reaches the whole network's residents."""
    if not actor.is_staff:
        raise Forbidden()
    user = find_by_login(login)
    resident = user if user is not None and user.is_resident and user.is_active else None
    audit.record(actor, "resident.lookup", ("users", resident.id if resident else None),
                 {"purpose": purpose, "found": resident is not None})
    return resident


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


def authenticate(login: str, password: str, *, now: datetime | None = None) -> User:
    """The user for these credentials, counting failures and locking the account after too many.

    Raises `LoginFailed` (the same message whether or not the login exists) or `AccountLocked`.
    """
    now = now or utcnow()
    user = find_by_login(login)
    if user is None or not user.is_active:
        _hasher().hash("timing-equaliser")  # answer as slowly as for a real account
        raise LoginFailed()
    if user.is_locked(now):
        raise _locked(user, now)
    if not check_password(user, password):
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_LOCKOUT_ATTEMPTS"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
            user.failed_logins = 0
        db.session.flush()
        raise LoginFailed()
    user.failed_logins = 0
    user.locked_until = None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.flush()
    return user


def _locked(user: User, now: datetime) -> AccountLocked:
    minutes = max(1, math.ceil((user.locked_until - now).total_seconds() / 60))
    return AccountLocked(_("Too many failed attempts. Try again in %(n)s minutes.", n=minutes),
                         retry_after_minutes=minutes)


def change_password(user: User, *, current: str, new: str) -> None:
    """Set a new password and sign out every other session (the session version moves on)."""
    if not check_password(user, current):
        raise Invalid(fields={"current_password": [_("The current password is not correct.")]})
    validate_password(new, "new_password")
    user.password_hash = hash_password(new)
    user.session_version += 1
    db.session.flush()


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
