"""A resident on a phone signs in with an SMS code (短信验证码登录) and recovers a forgotten password (忘记密码),
the codes arriving through the real twilio client at a fake Twilio; the pages pass axe-core."""

import re

import pytest

from core.extensions import db
from tests import factories as f
from tests.browser.conftest import assert_accessible, click_and_wait, sign_in
from tests.notify.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

pytestmark = pytest.mark.browser


@pytest.fixture
def sms(live_server):
    """The live server's SMS channel pointed at a fake Twilio for this test."""
    fake = FakeTwilio().start()
    app = live_server.app
    values = {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM": "+15005550006",
        "TWILIO_API_BASE": fake.base_url,
    }
    old = {k: app.config.get(k) for k in values}
    app.config.update(values)
    app.extensions.pop("culturenet.notify_backends", None)
    yield fake
    app.config.update(old)
    app.extensions.pop("culturenet.notify_backends", None)
    fake.stop()


def _resident(live_server, phone: str) -> str:
    with live_server.app.app_context():
        f.resident(phone, name="孙凤英", birth_year=1952)
        db.session.commit()
        db.session.remove()
    return phone


def _code(fake, phone: str) -> str:
    bodies = [m["body"] for m in fake.messages if m["to"] == "+86" + phone]
    assert bodies and bodies[-1].startswith("【文化云】"), bodies
    return re.search(r"\d{6}", bodies[-1]).group(0)


def test_a_resident_signs_in_with_an_sms_code(phone, live_server, sms):
    number = _resident(live_server, "13700000071")
    page = phone
    page.goto("/login")
    click_and_wait(page.get_by_role("link", name="短信验证码登录"))
    assert page.locator("h1").inner_text() == "短信验证码登录"
    assert_accessible(page, "sign in by SMS code")
    page.fill("#phone", number)
    click_and_wait(page.get_by_role("button", name="获取验证码"))
    assert "验证码已发送" in page.locator(".flashes").inner_text()
    assert page.input_value("#phone") == number  # kept
    assert_accessible(page, "sign in by SMS code, code sent")
    page.fill("#sms_code", _code(sms, number))
    click_and_wait(page.get_by_role("button", name="登录", exact=True))
    assert "/login" not in page.url
    assert page.locator("form[action='/logout']").count() == 1


def test_a_wrong_code_is_explained_next_to_the_field(phone, live_server, sms):
    number = _resident(live_server, "13700000072")
    page = phone
    page.goto("/login/sms")
    page.fill("#phone", number)
    click_and_wait(page.get_by_role("button", name="获取验证码"))
    right = _code(sms, number)
    page.fill("#sms_code", "000000" if right != "000000" else "111111")
    click_and_wait(page.get_by_role("button", name="登录", exact=True))
    assert "还可尝试4次" in page.locator("#sms_code-error").inner_text()
    assert page.get_attribute("#sms_code", "aria-invalid") == "true"
    assert_accessible(page, "sign in by SMS code, wrong code")


def test_a_resident_who_forgot_her_password_sets_a_new_one_by_sms(phone, live_server, sms):
    number = _resident(live_server, "13700000073")
    page = phone
    page.goto("/login")
    click_and_wait(page.get_by_role("link", name="忘记密码？"))
    assert "/password-reset" in page.url
    assert_accessible(page, "password reset")
    page.fill("#phone", number)
    click_and_wait(page.get_by_role("button", name="获取验证码"))
    page.fill("#sms_code", _code(sms, number))
    page.fill("#new_password", "peony-garden-7")
    click_and_wait(page.get_by_role("button", name="设置新密码"))
    assert page.url.endswith("/login")
    assert "新密码已设置" in page.locator(".flashes").inner_text()
    sign_in(page, number, "peony-garden-7")


@pytest.mark.parametrize("path", ["/password-reset/email", "/terms", "/privacy"])
def test_the_other_recovery_and_consent_pages_are_accessible(phone, path):
    response = phone.goto(path)
    assert response.status == 200
    assert_accessible(phone, path)
