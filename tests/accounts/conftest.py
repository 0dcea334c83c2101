"""Fixtures for accounts: the fake Twilio and the real SMTP server of tests/notify, and code helpers."""

import re

import pytest

from tests.notify.conftest import fake_twilio, smtp_server  # noqa: F401 - fixtures used by these tests


@pytest.fixture
def sms_verify(app):
    """REGISTRATION_SMS_VERIFY on (its production default; the test app turns it off)."""
    app.config["REGISTRATION_SMS_VERIFY"] = True
    yield
    app.config["REGISTRATION_SMS_VERIFY"] = False


def last_code(fake, phone: str) -> str:
    """The code in the newest SMS the fake Twilio received for `phone`."""
    bodies = [m["body"] for m in fake.messages if m["to"] == "+86" + phone]
    assert bodies, f"no SMS to {phone}"
    return re.search(r"\d{6}", bodies[-1]).group(0)
