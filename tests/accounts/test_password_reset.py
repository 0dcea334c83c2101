"""Password recovery: by SMS code (API and the 忘记密码 pages) and by an e-mailed link (real SMTP server).
A reset sets the password and ends every other session and token."""

import re
import time
from email import message_from_bytes
from email.header import decode_header, make_header

from flask import g

from accounts import signin
from tests import factories as f
from tests.accounts.conftest import last_code


def _token(client, login="13800000001", password=f.PASSWORD):
    return client.post("/api/v1/auth/token", json={"login": login, "password": password}).get_json()["token"]


def test_a_reset_code_sets_the_password_and_ends_every_other_session_and_token(app, client, fake_twilio):
    f.resident("13800000001")
    f.commit()
    old_token = _token(client)
    browser = app.test_client()
    g.pop("csrf_token", None)  # the tests' shared app context would hand the first client's token on
    browser.login("13800000001")
    assert client.post("/api/v1/auth/sms-code", json={"phone": "13800000001", "purpose": "reset"}).status_code == 202
    response = client.post(
        "/api/v1/auth/password-reset",
        json={
            "phone": "13800000001",
            "sms_code": last_code(fake_twilio, "13800000001"),
            "new_password": "brand-new-pass",
        },
    )
    assert response.status_code == 200
    new_token = response.get_json()["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_token}"}).status_code == 401
    assert browser.get("/account").status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {new_token}"}).status_code == 200
    assert signin.authenticate("13800000001", "brand-new-pass")


def test_a_short_new_password_is_refused_before_the_code_is_tried(client, fake_twilio):
    f.resident("13800000001")
    f.commit()
    client.post("/api/v1/auth/sms-code", json={"phone": "13800000001", "purpose": "reset"})
    code = last_code(fake_twilio, "13800000001")
    short = client.post(
        "/api/v1/auth/password-reset", json={"phone": "13800000001", "sms_code": code, "new_password": "short"}
    )
    assert short.status_code == 422 and "new_password" in short.get_json()["error"]["fields"]
    ok = client.post(
        "/api/v1/auth/password-reset", json={"phone": "13800000001", "sms_code": code, "new_password": "long-enough"}
    )
    assert ok.status_code == 200  # the code was not spent by the refused attempt


def test_a_wrong_reset_code_changes_nothing(client, fake_twilio):
    f.resident("13800000001")
    f.commit()
    client.post("/api/v1/auth/sms-code", json={"phone": "13800000001", "purpose": "reset"})
    code = last_code(fake_twilio, "13800000001")
    response = client.post(
        "/api/v1/auth/password-reset",
        json={"phone": "13800000001", "sms_code": "000000" if code != "000000" else "111111", "new_password": "x" * 10},
    )
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_code"
    assert signin.authenticate("13800000001", f.PASSWORD)


def test_the_forgotten_password_pages_reset_by_sms(client, fake_twilio):
    f.resident("13800000001")
    f.commit()
    login_page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'href="/password-reset"' in login_page and "忘记密码" in login_page
    sent = client.post("/password-reset", data={"phone": "13800000001", "action": "send"})
    assert sent.status_code == 200 and 'value="13800000001"' in sent.get_data(as_text=True)
    done = client.post(
        "/password-reset",
        data={
            "phone": "13800000001",
            "action": "reset",
            "new_password": "brand-new-pass",
            "sms_code": last_code(fake_twilio, "13800000001"),
        },
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert client.post("/login", data={"login": "13800000001", "password": "brand-new-pass"}).status_code == 302


def test_the_reset_page_shows_every_problem_at_once(client):
    response = client.post(
        "/password-reset",
        data={"phone": "12", "action": "reset", "new_password": "short"},
        headers={"Accept-Language": "en"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "11-digit" in page and "At least 8 characters" in page and "Enter the code" in page


def _wait_for_mail(collector, n=1):
    for _ in range(50):
        if len(collector.envelopes) >= n:
            return
        time.sleep(0.05)


def _body(envelope) -> tuple[str, str]:
    mail = message_from_bytes(envelope.content)
    return str(make_header(decode_header(mail["Subject"]))), mail.get_payload(decode=True).decode()


def test_an_account_with_an_email_can_reset_by_an_emailed_link_once(client, smtp_server):
    f.resident("13800000001", email="li@example.com")
    f.commit()
    response = client.post("/password-reset/email", data={"email": "Li@Example.com"})
    assert response.status_code == 302
    _wait_for_mail(smtp_server)
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["li@example.com"]
    subject, body = _body(envelope)
    assert "密码" in subject
    link = re.search(r"http://localhost(/password-reset/\S+)", body).group(1)
    assert client.get(link).status_code == 200
    done = client.post(link, data={"new_password": "brand-new-pass"})
    assert done.status_code == 302
    assert signin.authenticate("li@example.com", "brand-new-pass")
    assert client.get(link).status_code == 400  # used: the session version moved on
    assert client.post(link, data={"new_password": "another-pass"}).status_code == 400


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, smtp_server):
    response = client.post("/password-reset/email", data={"email": "nobody@example.com"})
    assert response.status_code == 302
    time.sleep(0.2)
    assert smtp_server.envelopes == []


def test_a_forged_reset_link_is_a_400(client):
    assert client.get("/password-reset/not-a-token").status_code == 400


def test_reset_emails_to_one_account_go_out_at_most_once_a_minute(client, smtp_server):
    f.resident("13800000001", email="li@example.com")
    f.commit()
    for _ in range(3):
        assert client.post("/password-reset/email", data={"email": "li@example.com"}).status_code == 302
    _wait_for_mail(smtp_server)
    time.sleep(0.2)
    assert len(smtp_server.envelopes) == 1


def test_the_emailed_link_uses_the_public_base_url_whatever_the_host_header(app, smtp_server):
    from accounts.views import _reset_link
    from core.extensions import db

    f.resident("13800000001", email="li@example.com")
    f.commit()
    app.config["PUBLIC_BASE_URL"] = "https://culture.example.cn"
    try:
        with app.test_request_context("/password-reset/email", base_url="http://evil.test"):
            signin.request_password_reset_email("li@example.com", link_for=_reset_link)
            db.session.commit()
    finally:
        app.config["PUBLIC_BASE_URL"] = ""
    _wait_for_mail(smtp_server)
    _, body = _body(smtp_server.envelopes[0])
    assert "https://culture.example.cn/password-reset/" in body and "evil.test" not in body
