"""Registration: consent to the 用户协议 and 隐私政策 (stored, asked again for a new version), the phone
verified by code when REGISTRATION_SMS_VERIFY is on, e-mail format, every field error at once."""

import pytest
import sqlalchemy as sa

from accounts import services
from accounts.models import User
from core.errors import Invalid
from core.extensions import db
from tests import factories as f
from tests.accounts.conftest import last_code

GOOD = {"name": "王丽", "phone": "13800000003", "password": "secret123", "consent": True}


def users() -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)))


def test_registration_without_consent_is_refused_and_stores_nothing(client):
    response = client.post("/api/v1/residents", json={**GOOD, "consent": False})
    assert response.status_code == 422 and "consent" in response.get_json()["error"]["fields"]
    assert users() == 0


def test_consent_version_and_time_are_stored_on_the_account(client, app):
    assert client.post("/api/v1/residents", json=GOOD).status_code == 201
    user = db.session.scalars(sa.select(User)).one()
    assert user.terms_version == app.config["TERMS_VERSION"] and user.terms_accepted_at is not None


def test_every_field_error_comes_at_once(client):
    response = client.post(
        "/api/v1/residents",
        json={"name": "", "phone": "12", "password": "short", "email": "not-an-email"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"name", "phone", "password", "email", "consent"}
    assert users() == 0


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "li@example.com\r\nBcc: x@evil.test",
        "li@example.com\n",
        "li@@example.com",
        "li @example.com",
        "li@example",
    ],
)
def test_a_malformed_email_is_refused(app, email):
    with pytest.raises(Invalid) as refused:
        services.sign_up(**{**GOOD, "email": email})
    assert "email" in refused.value.extra["fields"]
    assert users() == 0


def test_a_good_email_is_stored_in_lower_case(app):
    assert services.sign_up(**{**GOOD, "email": " Li.Wang+x@Example.COM "}).email == "li.wang+x@example.com"


def test_with_verification_on_a_code_is_required(client, sms_verify):
    response = client.post("/api/v1/residents", json=GOOD)
    assert response.status_code == 422 and "sms_code" in response.get_json()["error"]["fields"]


def test_with_verification_on_the_code_from_the_sms_registers(client, sms_verify, fake_twilio):
    assert client.post("/api/v1/auth/sms-code", json={"phone": "13800000003", "purpose": "register"}).status_code == 202
    code = last_code(fake_twilio, "13800000003")
    assert client.post("/api/v1/residents", json={**GOOD, "sms_code": code}).status_code == 201
    assert users() == 1


def test_a_code_for_another_phone_or_purpose_does_not_register(client, sms_verify, fake_twilio):
    f.resident("13800000001")
    f.commit()
    client.post("/api/v1/auth/sms-code", json={"phone": "13800000004", "purpose": "register"})
    other = last_code(fake_twilio, "13800000004")
    response = client.post("/api/v1/residents", json={**GOOD, "sms_code": other})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_code"
    assert users() == 1


def test_the_page_shows_every_error_at_once_and_keeps_what_was_typed_but_the_password(client):
    response = client.post(
        "/register",
        data={"name": "王丽", "phone": "12", "password": "short", "email": "not-an-email", "birth_year": "1996"},
        headers={"Accept-Language": "en"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ["11-digit", "At least 8 characters", "e-mail address such as", "agree to the user agreement"]:
        assert message in page, message
    assert 'value="王丽"' in page and 'value="not-an-email"' in page and 'value="1996"' in page
    assert 'value="short"' not in page
    assert users() == 0


def test_the_page_links_the_agreement_and_the_policy_and_they_show_their_version(client, app):
    page = client.get("/register", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'href="/terms"' in page and 'href="/privacy"' in page and "用户协议" in page and "隐私政策" in page
    for path in ("/terms", "/privacy"):
        assert app.config["TERMS_VERSION"] in client.get(path).get_data(as_text=True)


def test_the_page_registers_with_a_code_when_verification_is_on(client, sms_verify, fake_twilio):
    sent = client.post("/register", data={"name": "王丽", "phone": "13800000003", "action": "send"})
    assert sent.status_code == 200 and 'value="13800000003"' in sent.get_data(as_text=True)
    done = client.post(
        "/register",
        data={
            "name": "王丽",
            "phone": "13800000003",
            "password": "secret123",
            "consent": "y",
            "sms_code": last_code(fake_twilio, "13800000003"),
        },
    )
    assert done.status_code == 302
    assert users() == 1


def test_a_new_terms_version_asks_again_at_the_next_sign_in(client, app):
    user = f.resident("13800000001")
    f.commit()
    old = app.config["TERMS_VERSION"]
    app.config["TERMS_VERSION"] = "2099-01-01"
    try:
        response = client.post("/login", data={"login": "13800000001", "password": f.PASSWORD})
        assert "/consent" in response.headers["Location"]
        assert "/consent" in client.get("/account").headers["Location"]  # every page asks first
        assert client.post("/consent", data={}).status_code == 422
        assert client.post("/consent", data={"consent": "y"}).status_code == 302
        assert client.get("/account").status_code == 200
        db.session.refresh(user)
        assert user.terms_version == "2099-01-01"
    finally:
        app.config["TERMS_VERSION"] = old


def test_the_api_says_when_consent_is_needed(client, app):
    f.resident("13800000001")
    f.commit()
    old = app.config["TERMS_VERSION"]
    app.config["TERMS_VERSION"] = "2099-01-01"
    try:
        token = client.post("/api/v1/auth/token", json={"login": "13800000001", "password": f.PASSWORD}).get_json()
        assert token["user"]["consent_required"] is True
    finally:
        app.config["TERMS_VERSION"] = old
