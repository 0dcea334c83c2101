"""Writes on accounts: registration and consent, passwords, family members, roles, data export and deletion
(signing in, resets and the lockout: accounts/signin.py).

Every function flushes and never commits; the caller (a view, the API, the CLI) commits once.
"""

import secrets
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete as sa_delete
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from accounts import codes, privacy, signin
from accounts.fields import validate_email, validate_name, validate_password, validate_phone
from accounts.models import (
    PHONE_RE,
    LoginThrottle,
    Participant,
    Relation,
    Role,
    RoleGrant,
    SmsCode,
    SmsPurpose,
    User,
    card_number_for,
    normalise_phone,
)
from accounts.passwords import check_password, hash_password
from accounts.signals import account_deleted, personal_data_requested
from accounts.signin import find_by_login
from core import audit, transaction
from core.db import utcnow
from core.errors import DomainError, Forbidden, Invalid
from core.extensions import db


class Duplicate(DomainError):
    code = "duplicate"
    status = 409


def registration_problems(
    *, name: str, phone: str, password: str, birth_year: int | None, email: str | None, now: datetime
) -> dict[str, list[str]]:
    """Every field error of a registration at once (a page shows them all, not one per attempt)."""
    fields: dict[str, list[str]] = {}
    checks = [
        lambda: validate_name(name),
        lambda: validate_phone(phone),
        lambda: validate_password(password),
        lambda: validate_birth_year(birth_year, now),
        lambda: validate_email(email),
    ]
    for check in checks:
        try:
            check()
        except Invalid as err:
            for field, messages in err.extra["fields"].items():
                fields.setdefault(field, []).extend(messages)
    return fields


def validate_consent(consent: bool) -> None:
    if consent is not True:
        raise Invalid(fields={"consent": [_("Please read and agree to the user agreement and the privacy policy.")]})


def validate_sms_code_given(sms_code: str | None, verify_phone: bool | None = None) -> None:
    if _verifies_phone(verify_phone) and not (sms_code or "").strip():
        raise Invalid(fields={"sms_code": [_("Enter the code we sent to your phone.")]})


def register_resident(
    *,
    name: str,
    phone: str,
    password: str,
    birth_year: int | None = None,
    email: str | None = None,
    locale: str = "zh_CN",
    now: datetime | None = None,
) -> User:
    """Create a resident with a one-card number and a `self` participant (also the counter and seed path:
    staff record the resident's consent to the current terms on paper, so it is stored as given).

    Raises `Invalid` with every field error at once, `Duplicate` when the phone or e-mail is taken.
    """
    now = now or utcnow()
    fields = registration_problems(
        name=name, phone=phone, password=password, birth_year=birth_year, email=email, now=now
    )
    if fields:
        raise Invalid(fields=fields)
    return _create_resident(
        name=name.strip(),
        phone=normalise_phone(phone),
        password=password,
        birth_year=birth_year,
        email=validate_email(email),
        locale=locale,
        now=now,
    )


@transaction.kept_when_refused(codes.CodeRefused)  # a wrong code's try counts; nothing else is written
def sign_up(
    *,
    name: str,
    phone: str,
    password: str,
    consent: bool,
    sms_code: str | None = None,
    birth_year: int | None = None,
    email: str | None = None,
    locale: str = "zh_CN",
    verify_phone: bool | None = None,
    now: datetime | None = None,
) -> User:
    """Self-service registration (page and API): `register_resident` plus consent to the 用户协议 and
    隐私政策, and, when REGISTRATION_SMS_VERIFY is on (`verify_phone`), the phone proven by a code.

    Raises `Invalid` (every field error at once, including `consent` and `sms_code`), `Duplicate`, or
    `codes.CodeRefused`; a refused code still counts its try, so the caller commits on that error too.
    """
    now = now or utcnow()
    verify = _verifies_phone(verify_phone)
    fields = sign_up_problems(
        name=name,
        phone=phone,
        password=password,
        consent=consent,
        sms_code=sms_code,
        birth_year=birth_year,
        email=email,
        verify_phone=verify,
        now=now,
    )
    if fields:
        raise Invalid(fields=fields)
    phone, email = normalise_phone(phone), validate_email(email)
    _refuse_taken(phone, email)
    if verify:
        codes.use_code(phone, SmsPurpose.register, sms_code, now=now)
    return _create_resident(
        name=name.strip(), phone=phone, password=password, birth_year=birth_year, email=email, locale=locale, now=now
    )


def _verifies_phone(verify_phone: bool | None) -> bool:
    return current_app.config.get("REGISTRATION_SMS_VERIFY", True) if verify_phone is None else verify_phone


def sign_up_problems(
    *,
    name: str,
    phone: str,
    password: str,
    consent: bool,
    sms_code: str | None = None,
    birth_year: int | None = None,
    email: str | None = None,
    verify_phone: bool | None = None,
    now: datetime | None = None,
) -> dict[str, list[str]]:
    """Every field error of a self-service registration at once (before any code is tried)."""
    fields = registration_problems(
        name=name, phone=phone, password=password, birth_year=birth_year, email=email, now=now or utcnow()
    )
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


def _create_resident(
    *, name: str, phone: str, password: str, birth_year: int | None, email: str | None, locale: str, now: datetime
) -> User:
    _refuse_taken(phone, email)
    user = User(
        name=name,
        phone=phone,
        email=email,
        password_hash=hash_password(password),
        birth_year=birth_year,
        locale=locale,
        created_at=now,
        terms_version=current_app.config["TERMS_VERSION"],
        terms_accepted_at=now,
    )
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


def look_up_resident(login: str, *, actor: User, purpose: str) -> User | None:
    """A resident found by staff (phone, card or e-mail) for a counter task; every look-up is recorded with
    who asked, for what and whether someone was found, because it reaches the whole network's residents."""
    if not actor.is_staff:
        raise Forbidden()
    user = find_by_login(login)
    resident = user if user is not None and user.is_resident and user.is_active else None
    audit.record(
        actor,
        "resident.lookup",
        ("users", resident.id if resident else None),
        {"purpose": purpose, "found": resident is not None},
    )
    return resident


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
    signin.set_password(user, new, now or utcnow())


def add_participant(
    user: User,
    *,
    name: str,
    birth_year: int | None,
    relation: str,
    gender: str | None = None,
    id_number: str | None = None,
    now: datetime | None = None,
) -> Participant:
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
    participant = Participant(
        user=user,
        name=name,
        birth_year=birth_year,
        relation=Relation(relation),
        gender=gender or None,
        id_number=(id_number or "").upper() or None,
    )
    db.session.add(participant)
    db.session.flush()
    return participant


def _valid_id_number(value: str) -> bool:
    value = value.strip().upper()
    return len(value) == 18 and value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")


def create_user(
    *, login: str, password: str, name: str | None = None, role: str = "resident", venue=None, actor: User | None = None
) -> User:
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
        kwargs = (
            {"phone": phone}
            if PHONE_RE.match(phone)
            else ({"email": login.lower()} if "@" in login else {"login": login})
        )
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
    """Everything we hold about `user` (PIPL): the account here, and each package's section through the
    registry in `accounts.privacy` (bookings, waiting lists, lotteries, strikes and suspensions, check-ins,
    orders, room reservations, messages …)."""
    data = {
        "account": {
            "name": user.name,
            "phone": user.phone,
            "email": user.email,
            "login": user.login,
            "card_number": user.card_number,
            "birth_year": user.birth_year,
            "locale": user.locale,
            "created_at": user.created_at.isoformat(),
            "suspended_until": user.suspended_until.isoformat() if user.suspended_until else None,
            "suspension_reason": user.suspension_reason,
        },
        "consents": (
            [{"terms_version": user.terms_version, "accepted_at": user.terms_accepted_at.isoformat()}]
            if user.terms_version and user.terms_accepted_at
            else []
        ),
        "participants": [
            {
                "name": p.name,
                "birth_year": p.birth_year,
                "relation": p.relation.value,
                "gender": p.gender.value if p.gender else None,
                "id_number": p.id_number,
            }
            for p in user.participants
        ],
        "roles": [{"role": g.role.value, "venue_id": g.venue_id} for g in user.grants],
    }
    data.update(privacy.export_sections(user))
    for _receiver, result in personal_data_requested.send(user):
        if result:
            key, value = result
            data.setdefault(key, value)
    return data


def delete_account_confirmed(user: User, password: str, *, now: datetime | None = None) -> None:
    """Delete the account once the person has confirmed with their password (the page and the API alike);
    a wrong password changes nothing and is refused `wrong_password`."""
    if not check_password(user, password or ""):
        raise Invalid(_("The password is not correct."), code="wrong_password")
    delete_account(user, now=now)


def delete_account(user: User, *, now: datetime | None = None) -> None:
    """Delete the account (PIPL): future bookings cancelled (seats freed, waiting lists offered, reminders
    cancelled), open orders and pending room requests withdrawn, personal fields erased in every package
    (the registry in `accounts.privacy`); what statistics count stays, without a name. One transaction:
    flushed here, committed by the request (or rolled back whole)."""
    now = now or utcnow()
    privacy.erase_everywhere(user, now=now)
    account_deleted.send(user, now=now)
    _forget_sign_in(user)
    user.name = _("Deleted user")
    user.phone = user.email = user.login = None
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    user.is_active = False
    user.deleted_at = now
    user.session_version = User.session_version + 1  # in SQL: exact even from a stale copy (accounts.auth)
    user.suspension_reason = None
    for participant in user.participants:
        participant.name = _("Deleted user")
        participant.id_number = None
    db.session.flush()


def _forget_sign_in(user: User) -> None:
    """The sign-in counters and one-time codes that name the account's phone, e-mail or login."""
    keys = [f"user:{user.id}"] + [f"login:{v.lower()}"[:256] for v in (user.phone, user.email, user.login) if v]
    db.session.execute(sa_delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    if user.phone:
        db.session.execute(sa_delete(SmsCode).where(SmsCode.phone == user.phone))
