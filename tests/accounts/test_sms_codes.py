"""SMS codes: sent through the real twilio client (fake Twilio), the same answer for any phone, limits,
expiry, tries, and sign-in by code (API and page)."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from accounts import codes
from accounts.models import SmsCode
from core.extensions import db
from tests import factories as f
from tests.accounts.conftest import last_code

# 23:30 in Shanghai: inside the SMS quiet hours (21:00–08:00), which must not hold a code back.
LATE_EVENING = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)


def ask(client, phone, purpose="login", lang="zh_CN"):
    return client.post(
        "/api/v1/auth/sms-code",
        json={"phone": phone, "purpose": purpose},
        headers={"Accept-Language": lang.replace("_", "-")},
    )


def test_a_code_is_sent_to_a_known_phone_and_the_answer_is_the_same_for_an_unknown_one(client, fake_twilio):
    f.resident("13800000001")
    f.commit()
    known, unknown = ask(client, "13800000001"), ask(client, "13800000009")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json() == {"status": "accepted", "expires_in_seconds": 300}
    assert [m["to"] for m in fake_twilio.messages] == ["+8613800000001"]
    assert db.session.scalar(sa.select(sa.func.count(SmsCode.id))) == 2  # both count against the limits


def test_a_registration_code_goes_only_to_a_phone_without_an_account(client, fake_twilio):
    f.resident("13800000001")
    f.commit()
    assert ask(client, "13800000001", "register").status_code == ask(client, "13800000002", "register").status_code
    assert [m["to"] for m in fake_twilio.messages] == ["+8613800000002"]


@pytest.mark.parametrize(("lang", "signature"), [("zh_CN", "【文化云】"), ("en", "[CultureNet]")])
def test_the_sms_is_one_70_character_segment_with_the_signature_and_the_code_is_stored_hashed(
    client, fake_twilio, lang, signature
):
    f.resident("13800000001")
    f.commit()
    assert ask(client, "13800000001", lang=lang).status_code == 202
    body = fake_twilio.messages[0]["body"]
    code = last_code(fake_twilio, "13800000001")
    assert body.startswith(signature) and len(body) <= 70 and "5" in body
    row = db.session.scalars(sa.select(SmsCode)).one()
    assert code not in row.code_hash and row.code_hash == codes.code_hash("13800000001", "login", code)
    assert row.expires_at - row.created_at == timedelta(minutes=5)


def test_quiet_hours_do_not_hold_back_a_code(app, fake_twilio):
    f.resident("13800000001")
    codes.request_code("13800000001", "login", now=LATE_EVENING)
    f.commit()
    assert len(fake_twilio.messages) == 1  # sent at once, not deferred to 08:00


def test_nothing_is_sent_when_the_transaction_rolls_back(app, fake_twilio):
    f.resident("13800000001")
    f.commit()
    codes.request_code("13800000001", "login")
    db.session.rollback()
    f.commit()
    assert fake_twilio.messages == []


@pytest.mark.parametrize(("lang", "words"), [("zh_CN", "秒"), ("en", "seconds")])
def test_a_second_code_within_a_minute_is_refused_with_the_wait_in_the_users_language(client, fake_twilio, lang, words):
    f.resident("13800000001")
    f.commit()
    assert ask(client, "13800000001", lang=lang).status_code == 202
    again = ask(client, "13800000001", "reset", lang=lang)
    assert again.status_code == 429
    error = again.get_json()["error"]
    assert error["code"] == "sms_too_soon" and words in error["message"] and 0 < error["retry_after_seconds"] <= 60
    assert len(fake_twilio.messages) == 1


def test_one_code_a_minute_and_ten_a_day_per_phone(app):
    start = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    with pytest.raises(codes.TooSoon):
        codes.request_code("13800000001", "login", now=start)
        codes.request_code("13800000001", "login", now=start + timedelta(seconds=59))
    db.session.rollback()
    for i in range(10):
        codes.request_code("13800000001", "login", now=start + timedelta(minutes=i))
    with pytest.raises(codes.DailyLimit) as refused:
        codes.request_code("13800000001", "login", now=start + timedelta(minutes=30))
    assert refused.value.status == 429 and refused.value.code == "sms_daily_limit"
    db.session.rollback()
    codes.request_code("13800000001", "login", now=start + timedelta(days=1, minutes=1))  # a rolling 24 hours


def test_a_malformed_phone_is_a_422_on_the_phone_field(client):
    response = ask(client, "12345")
    assert response.status_code == 422 and "phone" in response.get_json()["error"]["fields"]
    assert ask(client, "13800000001", "unlock").status_code == 422


def test_a_code_expires_after_five_minutes(app):
    f.resident("13800000001")
    now = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    _, code = codes.request_code("13800000001", "login", now=now)
    with pytest.raises(codes.CodeRefused):
        codes.use_code("13800000001", "login", code, now=now + timedelta(minutes=5, seconds=1))
    codes.use_code("13800000001", "login", code, now=now + timedelta(minutes=4, seconds=59))


def test_a_code_has_five_tries_and_works_once(app):
    f.resident("13800000001")
    _, code = codes.request_code("13800000001", "login")
    wrong = "000000" if code != "000000" else "111111"
    left = []
    for _ in range(4):
        with pytest.raises(codes.CodeRefused) as refused:
            codes.use_code("13800000001", "login", wrong)
        left.append(refused.value.extra.get("tries_left"))
    assert left == [4, 3, 2, 1]
    codes.use_code("13800000001", "login", code)  # the fifth try, right
    with pytest.raises(codes.CodeRefused):
        codes.use_code("13800000001", "login", code)  # used


def test_after_five_wrong_tries_even_the_right_code_is_refused(app):
    f.resident("13800000001")
    _, code = codes.request_code("13800000001", "login")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(codes.CodeRefused):
            codes.use_code("13800000001", "login", wrong)
    with pytest.raises(codes.CodeRefused):
        codes.use_code("13800000001", "login", code)


def test_a_code_is_for_its_purpose_only(app):
    f.resident("13800000001")
    _, code = codes.request_code("13800000001", "login")
    with pytest.raises(codes.CodeRefused):
        codes.use_code("13800000001", "reset", code)


def test_a_code_gives_a_token_like_a_password_does(client, fake_twilio):
    user = f.resident("13800000001")
    f.commit()
    ask(client, "13800000001")
    response = client.post(
        "/api/v1/auth/token", json={"phone": "13800000001", "sms_code": last_code(fake_twilio, "13800000001")}
    )
    assert response.status_code == 200
    token = response.get_json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["id"] == user.id and me["consent_required"] is False


def test_a_wrong_code_is_a_422_with_a_stable_code_and_the_try_counts(client, fake_twilio):
    f.resident("13800000001")
    f.commit()
    ask(client, "13800000001")
    code = last_code(fake_twilio, "13800000001")
    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/api/v1/auth/token", json={"phone": "13800000001", "sms_code": wrong})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_code"
    assert response.get_json()["error"]["tries_left"] == 4
    db.session.expire_all()
    assert db.session.scalars(sa.select(SmsCode)).one().tries == 1


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "13800000001"},
        {"login": "13800000001", "sms_code": "123456"},
        {"login": "x", "password": "y", "phone": "13800000001", "sms_code": "123456"},
        {},
    ],
)
def test_a_token_request_is_either_a_password_or_a_code(client, body):
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid"


def test_the_sign_in_page_offers_sms_code_sign_in_and_it_works(client, fake_twilio):
    f.resident("13800000001")
    f.commit()
    page = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "短信验证码登录" in page and "忘记密码" in page
    sent = client.post("/login/sms", data={"phone": "13800000001", "action": "send"})
    assert sent.status_code == 200 and 'value="13800000001"' in sent.get_data(as_text=True)
    signed_in = client.post(
        "/login/sms",
        data={"phone": "13800000001", "action": "sign_in", "sms_code": last_code(fake_twilio, "13800000001")},
    )
    assert signed_in.status_code == 302
    assert client.get("/account").status_code == 200


def test_a_wrong_code_on_the_page_shows_the_error_on_the_code_field(client, fake_twilio):
    f.resident("13800000001")
    f.commit()
    client.post("/login/sms", data={"phone": "13800000001", "action": "send"})
    code = last_code(fake_twilio, "13800000001")
    response = client.post(
        "/login/sms",
        data={"phone": "13800000001", "action": "sign_in", "sms_code": "000000" if code != "000000" else "111111"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "4 more tries" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_one_code_signs_in_once_even_when_ten_requests_race_with_it(app):
    from accounts import signin
    from tests.concurrency import race

    f.resident("13800000001")
    _, code = codes.request_code("13800000001", "login")
    outcomes = race(app, lambda i: signin.authenticate_by_code("13800000001", code), 10, threads=10)
    assert outcomes == {"ok": 1, "invalid_code": 9}


def test_parallel_requests_for_one_phone_store_one_code(app):
    from tests.concurrency import race

    outcomes = race(app, lambda i: codes.request_code("13800000001", "register"), 10, threads=10)
    assert outcomes == {"ok": 1, "sms_too_soon": 9}
