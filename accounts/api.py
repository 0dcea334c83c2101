"""JSON API for auth, residents, the current user and family members (docs/api.md)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import AfterValidator, ConfigDict, Field, model_validator

from accounts import codes, fields, services, signin
from accounts.auth import issue_token
from accounts.models import Relation
from core.api import ApiBlueprint, OutSchema, Schema
from core.db import utcnow
from core.errors import Invalid
from core.extensions import limiter

api = ApiBlueprint("accounts_api", __name__, tag="accounts")


class TokenIn(Schema):
    """Either `login` and `password`, or `phone` and `sms_code` (a code asked for with purpose `login`)."""

    login: str | None = Field(default=None, min_length=1, max_length=254)
    password: str | None = Field(default=None, min_length=1, max_length=128)
    phone: str | None = Field(default=None, min_length=1, max_length=20)
    sms_code: str | None = Field(default=None, min_length=1, max_length=10)

    @model_validator(mode="after")
    def _one_way(self):
        by_password = self.login is not None or self.password is not None
        by_code = self.phone is not None or self.sms_code is not None
        if by_password == by_code:
            raise ValueError(_("Send either login and password, or phone and sms_code."))
        for name in ("login", "password") if by_password else ("phone", "sms_code"):
            if getattr(self, name) is None:
                raise ValueError(_("%(field)s is required.", field=name))
        return self


class SmsCodeIn(Schema):
    phone: str = Field(min_length=1, max_length=20)
    purpose: Literal["register", "login", "reset"]


class AcceptedOut(OutSchema):
    status: Literal["accepted"]
    expires_in_seconds: int


class PasswordResetIn(Schema):
    phone: str = Field(min_length=1, max_length=20)
    sms_code: str = Field(min_length=1, max_length=10)
    new_password: str = Field(min_length=1, max_length=128)


class AccountDeletionIn(Schema):
    password: str = Field(min_length=1, max_length=128)


class DeletedOut(OutSchema):
    status: Literal["deleted"]


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
    consent_required: bool


class TokenOut(OutSchema):
    token: str
    expires_at: datetime
    user: UserOut


def _rule(check):
    """A pydantic validator that applies one of the services' field rules, so the API reports every field's
    problem at once (with unknown fields too) while the rule itself lives once, in accounts.services."""

    def run(value):
        try:
            check(value)
        except Invalid as err:
            raise ValueError(" ".join(m for ms in err.extra["fields"].values() for m in ms)) from None
        return value

    return AfterValidator(run)


class ResidentIn(Schema):
    """Every field is checked by its service rule; `sms_code` is required when REGISTRATION_SMS_VERIFY is on."""

    name: Annotated[str, Field(max_length=50), _rule(fields.validate_name)]
    phone: Annotated[str, Field(max_length=20), _rule(fields.validate_phone)]
    password: Annotated[str, Field(max_length=128), _rule(fields.validate_password)]
    birth_year: Annotated[
        int | None,
        Field(default=None, ge=1900, le=2100),
        _rule(lambda year: services.validate_birth_year(year, utcnow())),
    ]
    email: Annotated[str | None, Field(default=None, max_length=254), _rule(fields.validate_email)]
    consent: Annotated[bool, Field(default=False, validate_default=True), _rule(services.validate_consent)]
    sms_code: Annotated[
        str | None, Field(default=None, max_length=10, validate_default=True), _rule(services.validate_sms_code_given)
    ]


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
    return UserOut(
        id=user.id,
        name=user.name,
        card_number=user.card_number,
        phone=user.phone,
        email=user.email,
        birth_year=user.birth_year,
        locale=user.locale,
        suspended_until=user.suspended_until,
        roles=roles,
        consent_required=user.needs_consent(current_app.config["TERMS_VERSION"]),
    )


def _address_limit(name: str):
    return lambda: current_app.config[name]


@api.endpoint(
    "/auth/token",
    "POST",
    body=TokenIn,
    response=TokenOut,
    auth=False,
    errors=(401,),
    summary="A bearer token for a login (phone, card number or e-mail) and password, or a phone and SMS code",
)
@limiter.limit(_address_limit("AUTH_ADDRESS_LIMIT"))
def create_token(data: TokenIn):
    if data.sms_code is not None:
        user = signin.authenticate_by_code(data.phone, data.sms_code)
    else:
        user = signin.authenticate(data.login, data.password)
    token, expires = issue_token(user)
    return TokenOut(token=token, expires_at=expires, user=user_out(user))


@api.endpoint(
    "/auth/sms-code",
    "POST",
    body=SmsCodeIn,
    response=AcceptedOut,
    status=202,
    auth=False,
    summary="Send a one-time SMS code (register, login or reset); the same answer for any phone",
)
@limiter.limit(_address_limit("SMS_ADDRESS_LIMIT"))
def send_sms_code(data: SmsCodeIn):
    codes.request_code(data.phone, data.purpose)
    return AcceptedOut(status="accepted", expires_in_seconds=codes.CODE_MINUTES * 60)


@api.endpoint(
    "/auth/password-reset",
    "POST",
    body=PasswordResetIn,
    response=TokenOut,
    auth=False,
    summary="Set a new password with a reset code; every other session and token ends",
)
@limiter.limit(_address_limit("AUTH_ADDRESS_LIMIT"))
def reset_password(data: PasswordResetIn):
    user = signin.reset_password_by_code(data.phone, data.sms_code, data.new_password)
    token, expires = issue_token(user)
    return TokenOut(token=token, expires_at=expires, user=user_out(user))


@api.endpoint(
    "/residents",
    "POST",
    body=ResidentIn,
    response=ResidentOut,
    status=201,
    auth=False,
    errors=(409,),
    summary="Register a resident (consent required; an SMS code when REGISTRATION_SMS_VERIFY is on)",
)
@limiter.limit(_address_limit("REGISTER_ADDRESS_LIMIT"))
def register(data: ResidentIn):
    return services.sign_up(
        name=data.name,
        phone=data.phone,
        password=data.password,
        consent=data.consent,
        sms_code=data.sms_code,
        birth_year=data.birth_year,
        email=data.email,
    )


@api.endpoint("/me", response=UserOut, summary="The signed-in user, with suspension state")
def me():
    return user_out(current_user)


class PersonalDataOut(OutSchema):
    """Everything stored about the signed-in person (PIPL), as `/account/data.json` has it: the account, consents,
    family members and roles, and one section from each package (bookings, service_orders, room_reservations,
    checkins, notifications …)."""

    model_config = ConfigDict(from_attributes=True, extra="allow")

    account: dict[str, Any]
    consents: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    roles: list[dict[str, Any]]


@api.endpoint("/me/data", response=PersonalDataOut, summary="Everything stored about the signed-in person (PIPL)")
def my_personal_data():
    return services.export_personal_data(current_user)


@api.endpoint(
    "/me/delete",
    "POST",
    body=AccountDeletionIn,
    response=DeletedOut,
    errors=(422,),
    summary="Delete the signed-in account (PIPL), confirmed with its password; every token and session ends",
)
@limiter.limit(_address_limit("AUTH_ADDRESS_LIMIT"))
def delete_my_account(data: AccountDeletionIn):
    services.delete_account_confirmed(current_user._get_current_object(), data.password)
    return DeletedOut(status="deleted")


@api.endpoint("/me/participants", response=ParticipantList, summary="Family members the user can book for")
def list_participants():
    items = list(current_user.participants)
    return {"items": items, "total": len(items), "page": 1}


@api.endpoint(
    "/me/participants",
    "POST",
    body=ParticipantIn,
    response=ParticipantOut,
    status=201,
    summary="Register a family member",
)
def add_participant(data: ParticipantIn):
    participant = services.add_participant(current_user, **data.model_dump())
    return participant
