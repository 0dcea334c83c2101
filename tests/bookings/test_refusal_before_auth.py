"""A hot sign-up's refusal answered before authentication (bookings/api.py `_refuse_hinted_full_before_auth`,
accounts/auth.py `token_caller`), on PostgreSQL: a session this process saw full is refused from the bearer token
alone, with no statement at all, and still in the caller's language, with their suspension and their own seat;
a token revoked, an account deactivated or suspended, or a language changed, here or in another process, is seen
as the caller's row would show it (at once here, within AUTH_CACHE_SECONDS elsewhere)."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from accounts import auth, signin
from accounts.auth import issue_token, token_caller
from accounts.models import User
from bookings import api
from core.db import utcnow
from core.extensions import db
from core.web import request_log
from tests import activity_factories as af
from tests import factories as f
from tests.dbs import recorded_statements

TTL = 5


@pytest.fixture
def hot(app, is_postgres, monkeypatch, moved_clock):
    """The caller's copies and the full hint on, with clocks the test moves: `hot.advance(seconds)`."""
    if not is_postgres:
        pytest.skip("the stamp of a changed account is a PostgreSQL trigger")
    monkeypatch.setitem(app.config, "AUTH_CACHE_SECONDS", TTL)
    monkeypatch.setitem(app.config, "FULL_HINT_SECONDS", TTL * 4)  # the hint outlives the tests' moves of the clock
    auth._users.clear()
    auth._changes.clear()
    api._full_units.clear()
    yield moved_clock.on(auth, api)
    auth._users.clear()
    auth._changes.clear()
    api._full_units.clear()


def _bearer(user: User) -> dict:
    return {"Authorization": f"Bearer {issue_token(user)[0]}"}


def _elsewhere(app, *statements: str, **params) -> None:
    """A change made by another process: its own connection, committed."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql), params)
    engine.dispose()


def _book(client, headers, session_id, **extra):
    db.session.remove()
    with recorded_statements(db) as sent:
        answer = client.post("/api/v1/bookings", json={"session_id": session_id, **extra}, headers=headers)
    return answer, sent


def _full_session(client, people: int):
    """A one-seat session without a waiting list, booked by its first resident and seen full by this process;
    returns the session id, the holder's booking id and the other residents' headers and ids."""
    act = af.activity(capacity=1, has_waiting_list=False)
    session_id = af.first_session(act).id
    residents = [f.resident() for _ in range(people)]
    f.commit()
    headers = [_bearer(u) for u in residents]
    ids = [u.id for u in residents]
    booked, _sent = _book(client, headers[0], session_id)
    assert booked.status_code == 201, booked.json
    refused, _sent = _book(client, headers[-1], session_id)  # seen full: the hint is set
    assert refused.json["error"]["code"] == "full"
    return session_id, booked.json["id"], headers, ids


def test_a_hinted_full_session_is_refused_with_no_statement_and_reads_no_caller(client, app, hot):
    session_id, booking_id, headers, ids = _full_session(client, 5)
    refused, sent = _book(client, headers[1], session_id)  # the first: the process reads the recent changes
    assert refused.status_code == 409 and refused.json["error"]["code"] == "full"
    assert len(sent) == 1 and "make_interval" in sent[0], sent
    for resident in headers[2:4]:  # never seen by this process: no statement, not even the caller's row
        refused, sent = _book(client, resident, session_id)
        assert refused.json["error"]["code"] == "full" and sent == []
    assert ids[2] not in auth._users and ids[3] not in auth._users
    again, sent = _book(client, headers[0], session_id)  # the holder still hears their own booking
    assert again.json["error"]["code"] == "duplicate" and again.json["error"]["booking_id"] == booking_id
    assert sent == []
    hot.advance(TTL + 0.1)  # the copy of the changes is read again once a TTL, whoever asks
    _refused, sent = _book(client, headers[2], session_id)
    assert len(sent) == 1


def test_the_refusal_is_in_the_callers_language_and_the_log_names_them(client, app, hot, monkeypatch):
    session_id, _booking_id, headers, ids = _full_session(client, 3)
    english = db.session.get(User, ids[1])
    english.locale = "en"
    db.session.commit()
    token = _bearer(english)  # issued after the change: the token carries "en"
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    monkeypatch.setattr(request_log, "disabled", False)  # alembic's fileConfig (tests/test_migrations) disables it
    level = request_log.level
    request_log.setLevel(logging.INFO)
    request_log.addHandler(handler)
    try:
        refused, sent = _book(client, token, session_id)
    finally:
        request_log.removeHandler(handler)
        request_log.setLevel(level)
    assert refused.json["error"]["code"] == "full" and len(sent) == 1  # the changes' read only
    assert "full" in refused.json["error"]["message"].lower() and not any(
        "\u4e00" <= ch <= "\u9fff" for ch in refused.json["error"]["message"]
    ), refused.json
    assert any(f"user={ids[1]}" in line and "status=409" in line for line in lines), lines
    chinese, _sent = _book(client, headers[2], session_id)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.json["error"]["message"]), chinese.json


def test_a_language_changed_elsewhere_after_the_token_is_read_within_the_ttl(client, app, hot):
    session_id, _booking_id, headers, ids = _full_session(client, 3)
    refused, _sent = _book(client, headers[1], session_id)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.json["error"]["message"])
    _elsewhere(app, "UPDATE users SET locale = 'en' WHERE id = :id", id=ids[1])
    hot.advance(TTL + 0.1)
    refused, sent = _book(client, headers[1], session_id)  # the token still says zh_CN; the account says en
    assert refused.json["error"]["code"] == "full" and len(sent) == 1
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in refused.json["error"]["message"]), refused.json


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE users SET session_version = session_version + 1 WHERE id = :id",  # signed out on another host
        "UPDATE users SET is_active = false WHERE id = :id",  # account closed there
    ],
)
def test_a_token_ended_elsewhere_hears_401_not_full_after_the_ttl(client, app, hot, change):
    session_id, _booking_id, headers, ids = _full_session(client, 3)
    assert _book(client, headers[1], session_id)[0].json["error"]["code"] == "full"
    _elsewhere(app, change, id=ids[1])
    hot.advance(TTL + 0.1)
    refused, _sent = _book(client, headers[1], session_id)
    assert refused.status_code == 401, refused.json


def test_signing_out_in_this_process_ends_the_token_at_once(client, app, hot):
    session_id, _booking_id, headers, ids = _full_session(client, 3)
    assert _book(client, headers[1], session_id)[0].json["error"]["code"] == "full"
    signin.sign_out_everywhere(db.session.get(User, ids[1]))  # what signing out does, in this process
    db.session.commit()
    refused, _sent = _book(client, headers[1], session_id)
    assert refused.status_code == 401, refused.json


def test_a_suspension_elsewhere_is_heard_and_one_set_long_ago_too(client, app, hot):
    session_id, _booking_id, headers, ids = _full_session(client, 4)
    until = utcnow() + timedelta(days=60)
    _elsewhere(app, "UPDATE users SET suspended_until = :until WHERE id = :id", until=until, id=ids[1])
    # a suspension stamped longer ago than a token lives is still found: it is in force now
    _elsewhere(
        app,
        "UPDATE users SET suspended_until = :until WHERE id = :id",
        "UPDATE users SET auth_changed_at = now() - interval '30 days' WHERE id = :id",
        until=until,
        id=ids[2],
    )
    hot.advance(TTL + 0.1)
    for who in (1, 2):
        refused, sent = _book(client, headers[who], session_id)
        assert refused.json["error"]["code"] == "suspended", refused.json
        assert all("FROM users" not in s or "make_interval" in s for s in sent), sent
    assert _book(client, headers[3], session_id)[0].json["error"]["code"] == "full"


def test_what_it_cannot_judge_goes_the_usual_way(client, app, hot, monkeypatch):
    session_id, _booking_id, headers, ids = _full_session(client, 4)
    user = db.session.get(User, ids[1])
    old_style = {"Authorization": f"Bearer {auth._serializer().dumps({'uid': user.id, 'v': user.session_version})}"}
    refused, sent = _book(client, old_style, session_id)  # a token from before tokens carried a language
    assert refused.json["error"]["code"] == "full"
    assert any("FROM users" in s and "make_interval" not in s for s in sent), sent  # the caller's row
    bad = {"Authorization": "Bearer not-a-token"}
    assert _book(client, bad, session_id)[0].status_code == 401
    # on someone's behalf: the usual path, where a resident may not book for another
    refused, _sent = _book(client, headers[2], session_id, user_id=ids[3])
    assert refused.status_code == 403, refused.json
    # more accounts changed within a token's lifetime than the process keeps: the row is read
    monkeypatch.setattr(auth, "AUTH_CHANGES_MAX", 1)
    _elsewhere(app, "UPDATE users SET locale = 'en' WHERE id IN (:a, :b)", a=ids[0], b=ids[1])
    hot.advance(TTL + 0.1)
    refused, sent = _book(client, headers[3], session_id)
    assert refused.json["error"]["code"] == "full"
    assert any("FROM users" in s and "make_interval" not in s for s in sent), sent


def test_the_database_stamps_a_change_of_what_a_token_is_judged_by(app, hot):
    user = f.resident()
    f.commit()
    user_id = user.id

    def stamp():
        return db.session.execute(text("SELECT auth_changed_at FROM users WHERE id = :id"), {"id": user_id}).scalar()

    assert stamp() is None
    _elsewhere(app, "UPDATE users SET name = '王秀英' WHERE id = :id", id=user_id)
    db.session.rollback()
    assert stamp() is None  # a name is not what a token is judged by
    for change in ("session_version = session_version + 1", "locale = 'en'", "is_active = false"):
        _elsewhere(
            app,
            "UPDATE users SET auth_changed_at = NULL WHERE id = :id",
            f"UPDATE users SET {change} WHERE id = :id",
            id=user_id,
        )
        db.session.rollback()
        assert stamp() is not None, change
    with app.test_request_context():
        assert token_caller(issue_token(db.session.get(User, user_id))[0]) is None  # closed: not judged here
