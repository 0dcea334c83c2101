"""JSON API for auth, residents, the current user and family members (docs/api.md)."""

from datetime import datetime
from typing import Literal

from flask_login import current_user
from pydantic import Field

from accounts import services
from accounts.auth import issue_token
from accounts.models import Relation
from core import transaction
from core.api import ApiBlueprint, OutSchema, Schema
from core.errors import DomainError
from core.extensions import limiter

api = ApiBlueprint("accounts_api", __name__, tag="accounts")


class TokenIn(Schema):
    login: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class UserOut(OutSchema):
    id: int
    name: str
    card_number: str | None
    phone: str | None
    email: str | None
    birth_year: int | None
    locale: str
    suspended_until: datetime | None
    roles: list[dict]


class TokenOut(OutSchema):
    token: str
    expires_at: datetime
    user: UserOut


class ResidentIn(Schema):
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=1, max_length=20)
    password: str = Field(min_length=8, max_length=128)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    email: str | None = Field(default=None, max_length=254)


class ResidentOut(OutSchema):
    id: int
    card_number: str


class ParticipantIn(Schema):
    name: str = Field(min_length=1, max_length=50)
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    relation: Literal["child", "spouse", "parent", "grandchild", "other"]
    gender: Literal["female", "male"] | None = None
    id_number: str | None = Field(default=None, max_length=18)


class ParticipantOut(OutSchema):
    id: int
    name: str
    birth_year: int | None
    relation: Relation
    gender: str | None
    has_real_name: bool


class ParticipantList(OutSchema):
    items: list[ParticipantOut]
    total: int
    page: int


def user_out(user) -> UserOut:
    roles = [{"role": g.role.value, "venue_id": g.venue_id} for g in user.grants]
    return UserOut(id=user.id, name=user.name, card_number=user.card_number, phone=user.phone, email=user.email,
                   birth_year=user.birth_year, locale=user.locale, suspended_until=user.suspended_until, roles=roles)


@api.endpoint("/auth/token", "POST", body=TokenIn, response=TokenOut, auth=False, errors=(401,),
              summary="Exchange a login (phone, card number or e-mail) and password for a bearer token")
@limiter.limit("10 per minute")
def create_token(data: TokenIn):
    try:
        user = services.authenticate(data.login, data.password)
    except DomainError:
        transaction.keep_despite_refusal()  # failed attempts count even when the login is refused
        raise
    token, expires = issue_token(user)
    return TokenOut(token=token, expires_at=expires, user=user_out(user))


@api.endpoint("/residents", "POST", body=ResidentIn, response=ResidentOut, status=201, auth=False, errors=(409,),
              summary="Register a resident; the answer carries the one-card number")
@limiter.limit("20 per hour")
def register(data: ResidentIn):
    user = services.register_resident(name=data.name, phone=data.phone, password=data.password,
                                      birth_year=data.birth_year, email=data.email)
    return user


@api.endpoint("/me", response=UserOut, summary="The signed-in user, with suspension state")
def me():
    return user_out(current_user)


@api.endpoint("/me/participants", response=ParticipantList, summary="Family members the user can book for")
def list_participants():
    items = list(current_user.participants)
    return {"items": items, "total": len(items), "page": 1}


@api.endpoint("/me/participants", "POST", body=ParticipantIn, response=ParticipantOut, status=201,
              summary="Register a family member")
def add_participant(data: ParticipantIn):
    participant = services.add_participant(current_user, **data.model_dump())
    return participant
