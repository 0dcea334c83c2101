"""The lockout holds: parallel guesses check at most five passwords; unknown logins lock and answer (and
cost) exactly like accounts; the last failures say how many tries are left."""

import threading
from datetime import timedelta

import pytest

from accounts import passwords, signin
from core.db import utcnow
from tests import factories as f
from tests.concurrency import race


@pytest.fixture
def checked(monkeypatch):
    """How many passwords were really checked (argon2 verifications), from any thread."""
    count = {"n": 0}
    lock = threading.Lock()
    real = passwords.verify_hash

    def counting(password_hash, password):
        with lock:
            count["n"] += 1
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_hash", counting)
    return count


@pytest.mark.parametrize("login", ["13800000001", "13899999999"], ids=["account", "unknown"])
def test_twenty_parallel_wrong_passwords_check_at_most_five_before_the_lock(app, checked, login):
    f.resident("13800000001")
    statuses = []

    def guess(i):
        response = app.test_client().post("/api/v1/auth/token", json={"login": login, "password": f"guess-{i}"})
        statuses.append(response.status_code)

    race(app, guess, 20, threads=20)
    assert checked["n"] <= 5
    assert sorted(statuses) == [401] * checked["n"] + [429] * (20 - checked["n"])
    assert 429 in statuses
    assert (
        app.test_client().post("/api/v1/auth/token", json={"login": login, "password": f.PASSWORD}).status_code == 429
    )  # locked, even with the right password


def _answers(client, login, n=6, lang="en"):
    out = []
    for _ in range(n):
        response = client.post(
            "/api/v1/auth/token", json={"login": login, "password": "wrong-password"}, headers={"Accept-Language": lang}
        )
        out.append((response.status_code, response.get_json()["error"]))
    return out


def test_an_unknown_login_locks_and_answers_exactly_like_an_account(client, checked):
    f.resident("13800000001")
    f.commit()
    known = _answers(client, "13800000001")
    checks_for_known = checked["n"]
    unknown = _answers(client, "13811111111")
    assert known == unknown
    assert checked["n"] == 2 * checks_for_known == 10  # an unknown login costs one hash check too
    assert [status for status, _ in known] == [401] * 5 + [429]


@pytest.mark.parametrize(
    ("lang", "one_left", "locked"), [("en", "1 more try", "locked for 15 minutes"), ("zh_CN", "再错1次", "锁定15分钟")]
)
def test_the_fourth_and_fifth_failures_say_how_many_tries_are_left(client, lang, one_left, locked):
    f.resident("13800000001")
    f.commit()
    answers = _answers(client, "13800000001", n=5, lang=lang.replace("_", "-"))
    assert [e.get("tries_left") for _, e in answers] == [None, None, None, 1, 0]
    assert one_left in answers[3][1]["message"] and locked in answers[4][1]["message"]
    assert answers[0][1]["code"] == answers[4][1]["code"] == "invalid_credentials"


def test_the_sign_in_page_warns_before_the_lock(client):
    f.resident("13800000001")
    f.commit()
    pages = [
        client.post(
            "/login", data={"login": "13800000001", "password": "wrong-password"}, headers={"Accept-Language": "en"}
        )
        for _ in range(4)
    ]
    assert "1 more try" in pages[3].get_data(as_text=True) and "more try" not in pages[2].get_data(as_text=True)


def test_the_lock_ends_after_fifteen_minutes_and_a_success_clears_the_count(app):
    user = f.resident("13800000001")
    now = utcnow()
    for _ in range(4):
        with pytest.raises(signin.LoginFailed):
            signin.authenticate("13800000001", "bad-password", now=now)
    assert signin.authenticate("13800000001", f.PASSWORD, now=now).id == user.id
    for _ in range(5):  # the count started again from zero
        with pytest.raises(signin.LoginFailed):
            signin.authenticate("13800000001", "bad-password", now=now)
    with pytest.raises(signin.AccountLocked):
        signin.authenticate("13800000001", f.PASSWORD, now=now + timedelta(minutes=14))
    assert signin.authenticate("13800000001", f.PASSWORD, now=now + timedelta(minutes=15, seconds=1)).id == user.id


def test_phone_card_and_email_share_one_counter(app):
    user = f.resident("13800000001", email="li@example.com")
    now = utcnow()
    for login in ["13800000001", user.card_number, "li@example.com", "+86 138 0000 0001", "LI@example.com"]:
        with pytest.raises(signin.LoginFailed):
            signin.authenticate(login, "bad-password", now=now)
    with pytest.raises(signin.AccountLocked):
        signin.authenticate(user.card_number, f.PASSWORD, now=now)


def test_a_reset_lifts_the_password_lock(app):
    from accounts import codes

    user = f.resident("13800000001")
    now = utcnow()
    for _ in range(5):
        with pytest.raises(signin.LoginFailed):
            signin.authenticate("13800000001", "bad-password", now=now)
    _, code = codes.request_code("13800000001", "reset", now=now)
    signin.reset_password_by_code("13800000001", code, "brand-new-pass", now=now)
    assert signin.authenticate("13800000001", "brand-new-pass", now=now).id == user.id
