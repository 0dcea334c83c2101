"""Accounts: users with scoped role grants, and the family members they book for."""

import enum
import re
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.extensions import db


class Role(enum.StrEnum):
    """What a grant lets its holder do within the granted venue's subtree."""

    staff = "staff"
    checkin = "checkin"
    manager = "manager"
    admin = "admin"


ROLE_LABELS = {
    Role.staff: _l("Venue staff"),
    Role.checkin: _l("Check-in staff"),
    Role.manager: _l("Manager"),
    Role.admin: _l("Administrator"),
}

# Which roles may do what. Check-in-only staff can scan and count, nothing else.
MANAGE_ROLES = (Role.staff, Role.manager, Role.admin)
CHECKIN_ROLES = (Role.staff, Role.checkin, Role.manager, Role.admin)
REPORT_ROLES = (Role.staff, Role.manager, Role.admin)


class Gender(enum.StrEnum):
    female = "female"
    male = "male"


class Relation(enum.StrEnum):
    self = "self"
    child = "child"
    spouse = "spouse"
    parent = "parent"
    grandchild = "grandchild"
    other = "other"


RELATION_LABELS = {
    Relation.self: _l("Myself"),
    Relation.child: _l("Child"),
    Relation.spouse: _l("Spouse"),
    Relation.parent: _l("Parent"),
    Relation.grandchild: _l("Grandchild"),
    Relation.other: _l("Other"),
}


class User(db.Model):
    """A person with one account across the whole network (一卡通): a resident, staff, or both."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    login: Mapped[str | None] = mapped_column(sa.String(50), unique=True)
    card_number: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    birth_year: Mapped[int | None]
    locale: Mapped[str] = mapped_column(sa.String(10), default="zh_CN")
    is_active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    # The version of the 用户协议 / 隐私政策 the person agreed to, and when (PIPL consent).
    terms_version: Mapped[str | None] = mapped_column(sa.String(20))
    terms_accepted_at: Mapped[datetime | None]
    suspended_until: Mapped[datetime | None] = mapped_column(index=True)
    suspension_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    # When the columns a bearer token's holder is judged by last changed (session_version, is_active,
    # suspended_until, locale): set by the database itself on PostgreSQL (AUTH_CHANGED_DDL), so that no writer,
    # ORM or SQL, can forget it. accounts.auth keeps the recently changed accounts per process.
    auth_changed_at: Mapped[datetime | None] = mapped_column(index=True)

    grants: Mapped[list["RoleGrant"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin", foreign_keys="RoleGrant.user_id"
    )
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Participant.id"
    )

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """Session id `id:version:issued` (epoch seconds): a password change, a reset or a sign-out moves the
        version on and so ends every session and remember-me cookie; `issued` bounds their age on the server."""
        return f"{self.id}:{self.session_version}:{int(utcnow().timestamp())}"

    @property
    def is_resident(self) -> bool:
        return self.card_number is not None

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def has_role(self, *roles: Role) -> bool:
        return any(g.role in roles for g in self.grants)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.admin)

    @property
    def is_staff(self) -> bool:
        return bool(self.grants)

    def scope_paths(self, roles=MANAGE_ROLES) -> list[str]:
        """Tree-path prefixes this user reaches with any of `roles`; an admin reaches the root ("/")."""
        paths = []
        for grant in self.grants:
            if grant.role not in roles:
                continue
            paths.append(grant.venue.path if grant.venue is not None else "/")
        return paths

    def reaches(self, venue, roles=MANAGE_ROLES) -> bool:
        """Whether `venue` lies in the subtree of one of this user's grants with one of `roles`."""
        if venue is None:
            return False
        return any(venue.path.startswith(prefix) for prefix in self.scope_paths(roles))

    def is_suspended(self, now: datetime) -> bool:
        return self.suspended_until is not None and self.suspended_until > now

    def needs_consent(self, version: str) -> bool:
        """Whether a resident has yet to agree to the terms `version` (a new version asks again)."""
        return self.is_resident and self.terms_version != version

    @property
    def self_participant(self) -> "Participant | None":
        return next((p for p in self.participants if p.relation == Relation.self), None)


# The trigger that stamps users.auth_changed_at (PostgreSQL; the migration of the column creates the same).
AUTH_CHANGED_DDL = (
    """CREATE OR REPLACE FUNCTION users_auth_changed() RETURNS trigger AS $$
BEGIN
  IF NEW.session_version IS DISTINCT FROM OLD.session_version OR NEW.is_active IS DISTINCT FROM OLD.is_active
     OR NEW.suspended_until IS DISTINCT FROM OLD.suspended_until OR NEW.locale IS DISTINCT FROM OLD.locale THEN
    NEW.auth_changed_at := clock_timestamp();
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql""",
    "CREATE TRIGGER users_auth_changed BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_auth_changed()",
)
for _statement in AUTH_CHANGED_DDL:
    sa.event.listen(User.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))


class RoleGrant(db.Model):
    """A role at a venue; the holder reaches that venue and everything below it."""

    __tablename__ = "role_grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "venue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(sa.Enum(Role, native_enum=False, length=20))
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venues.id"), index=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    venue = relationship("Venue", lazy="joined")


class Participant(db.Model):
    """Someone a resident books for: themselves (relation `self`) or a registered family member."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    birth_year: Mapped[int | None]
    gender: Mapped[Gender | None] = mapped_column(sa.Enum(Gender, native_enum=False, length=10))
    relation: Mapped[Relation] = mapped_column(sa.Enum(Relation, native_enum=False, length=20))
    id_number: Mapped[str | None] = mapped_column(sa.String(18))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="participants")

    def age_on(self, year: int) -> int | None:
        """Age in whole years reached during `year` (birth year is all we keep)."""
        return None if self.birth_year is None else year - self.birth_year

    @property
    def has_real_name(self) -> bool:
        return bool(self.id_number)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class SmsPurpose(enum.StrEnum):
    register = "register"
    login = "login"
    reset = "reset"


class SmsCode(db.Model):
    """A one-time SMS code for a phone and a purpose: stored as a keyed hash, never in clear.

    A code is good for `expires_at`, for `MAX_TRIES` checks, and once (`used_at`). A row is stored for every
    accepted request, also for a phone with no account (nothing is sent then), so the send limits and the
    answer are the same whether or not the phone is registered.
    """

    __tablename__ = "sms_codes"
    __table_args__ = (sa.Index("ix_sms_codes_phone_created_at", "phone", "created_at"),)

    MAX_TRIES = 5

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[SmsPurpose] = mapped_column(sa.Enum(SmsPurpose, native_enum=False, length=10))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    tries: Mapped[int] = mapped_column(default=0)
    is_sent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginThrottle(db.Model):
    """Failed sign-ins of one account (`user:<id>`) or of one unknown login (`login:<text>`).

    Both kinds count and lock alike, so a locked answer says nothing about whether an account exists. An
    attempt is reserved by one conditional UPDATE before the password is checked, so parallel guesses
    cannot check more than the limit (see services.authenticate).
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits (accepts spaces, dashes and a +86 prefix)."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def mask_phone(phone: str | None) -> str:
    """138****0001: what staff see of a resident's phone."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


def mask_id_number(id_number: str | None) -> str:
    if not id_number:
        return ""
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def mask_name(name: str | None) -> str:
    """张*明: a name as shown on public lists and to the door."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for `digits`."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def card_number_for(user_id: int) -> str:
    """The one-card number (一卡通号) of an account: '8', ten digits of the id, a Luhn check digit."""
    body = f"8{user_id:010d}"
    return body + luhn_digit(body)


def is_valid_card_number(value: str) -> bool:
    return len(value) == 12 and value.isdigit() and luhn_digit(value[:-1]) == value[-1]
