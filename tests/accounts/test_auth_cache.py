"""The per-process copy of each caller's row (accounts/auth.py, AUTH_CACHE_SECONDS): a token checked without a
query, and every revocation seen at once in this process and within AUTH_CACHE_SECONDS from any other."""

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from accounts import auth, signin
from accounts.auth import issue_token
from accounts.models import Role, RoleGrant, User
from core.db import utcnow
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f
from tests.dbs import recorded_statements

TTL = 5


@pytest.fixture
def cached(app, monkeypatch, moved_clock):
    """The cache on (tests run with it off), with a clock the test moves: `cached.advance(seconds)`."""
    monkeypatch.setitem(app.config, "AUTH_CACHE_SECONDS", TTL)
    auth._users.clear()
    yield moved_clock.on(auth)
    auth._users.clear()


def _bearer(user: User) -> dict:
    return {"Authorization": f"Bearer {issue_token(user)[0]}"}


def _user_reads(statements: list[str]) -> int:
    return sum(1 for s in statements if "FROM users" in s and s.lstrip().upper().startswith("SELECT"))


def _selects(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))


def _elsewhere(app, sql: str, **params) -> None:
    """A change made by another process: its own connection, committed, unseen by this process's copies."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def test_a_token_is_checked_once_per_ttl_not_once_per_request(client, app, cached):
    user = f.resident()
    f.commit()
    headers = _bearer(user)
    db.session.remove()
    with recorded_statements(db) as first:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    with recorded_statements(db) as second:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _user_reads(first) == 1
    assert _user_reads(second) == 0, second
    cached.advance(TTL + 0.1)
    with recorded_statements(db) as third:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert _user_reads(third) == 1


def test_signing_out_in_this_process_ends_the_token_at_once(client, app, cached):
    user = f.resident()
    f.commit()
    headers = _bearer(user)
    db.session.remove()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    signin.sign_out_everywhere(db.session.get(User, user.id))
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_logout_page_ends_the_api_token_at_once(client, app, cached):
    staff = f.staff(f.network()["station"], Role.checkin)
    f.commit()
    headers = _bearer(staff)
    db.session.remove()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    client.login(staff.login)
    client.post("/logout")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_revocation_by_another_process_ends_the_token_within_the_ttl(client, app, cached):
    user = f.resident()
    f.commit()
    headers = _bearer(user)
    user_id = user.id
    db.session.remove()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    _elsewhere(app, "UPDATE users SET session_version = session_version + 1 WHERE id = :id", id=user_id)
    # inside the window this process still trusts its copy (the documented staleness) …
    cached.advance(TTL - 1)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    # … and not a moment after it
    cached.advance(1.1)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_deactivated_account_is_refused_within_the_ttl(client, app, cached):
    user = f.resident()
    f.commit()
    headers = _bearer(user)
    user_id = user.id
    db.session.remove()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    _elsewhere(app, "UPDATE users SET is_active = false WHERE id = :id", id=user_id)
    cached.advance(TTL + 0.1)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_deleting_the_account_in_this_process_ends_the_token_at_once(client, app, cached):
    from accounts import services as accounts

    user = f.resident()
    f.commit()
    headers = _bearer(user)
    db.session.remove()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    accounts.delete_account(db.session.get(User, user.id))
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_suspension_refuses_bookings_at_once_here_and_within_the_ttl_elsewhere(client, app, cached):
    act = af.activity(capacity=10)
    session_id = af.first_session(act).id
    here, there = f.resident(), f.resident()
    f.commit()
    tokens = {u.id: _bearer(u) for u in (here, there)}
    here_id, there_id = here.id, there.id
    db.session.remove()
    for uid in tokens:  # both callers' rows are now copied in this process
        assert client.get("/api/v1/me", headers=tokens[uid]).status_code == 200
    until = utcnow() + timedelta(days=30)
    user = db.session.get(User, here_id)
    user.suspended_until = until  # as bookings.services.record_strike does, in this process
    db.session.commit()
    refused = client.post("/api/v1/bookings", json={"session_id": session_id}, headers=tokens[here_id])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "suspended"
    _elsewhere(app, "UPDATE users SET suspended_until = :until WHERE id = :id", until=until, id=there_id)
    cached.advance(TTL + 0.1)
    refused = client.post("/api/v1/bookings", json={"session_id": session_id}, headers=tokens[there_id])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "suspended"


def test_a_withdrawn_grant_is_seen_at_once_here_and_within_the_ttl_elsewhere(client, app, cached):
    net = f.network()
    staff = f.staff(net["station"], Role.manager)
    f.commit()
    headers = _bearer(staff)
    staff_id = staff.id
    db.session.remove()
    assert client.get("/api/v1/me", headers=headers).json["roles"]
    _elsewhere(app, "DELETE FROM role_grants WHERE user_id = :id", id=staff_id)
    cached.advance(TTL + 0.1)
    assert client.get("/api/v1/me", headers=headers).json["roles"] == []
    # granted again here: seen at once
    db.session.add(RoleGrant(user_id=staff_id, role=Role.manager, venue_id=net["station"].id))
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).json["roles"]


@pytest.mark.parametrize("ttl", [0, TTL])
def test_the_caller_their_grants_and_the_grants_venues_come_from_one_statement(client, app, cached, ttl):
    """The caller's read is one Core statement (accounts/auth.py `_caller_read`), cache on or off; what it builds
    serves a scope check and the grants' venues with no statement more."""
    app.config["AUTH_CACHE_SECONDS"] = ttl
    net = f.network()
    resident = f.resident()
    staff = f.staff(net["station"], Role.manager)
    db.session.add(RoleGrant(user_id=staff.id, role=Role.checkin, venue_id=None))
    f.commit()
    resident_headers, staff_headers = _bearer(resident), _bearer(staff)
    station_id = net["station"].id
    db.session.remove()
    with recorded_statements(db) as seen:
        me = client.get("/api/v1/me", headers=resident_headers)
    assert me.status_code == 200 and me.json["roles"] == []
    assert _selects(seen) == 1 and _user_reads(seen) == 1, seen
    with recorded_statements(db) as seen:
        me = client.get("/api/v1/me", headers=staff_headers)
    assert sorted((r["role"], r["venue_id"]) for r in me.json["roles"]) == [
        ("checkin", None),
        ("manager", station_id),
    ]
    assert _selects(seen) == 1 and _user_reads(seen) == 1, seen
    with app.test_request_context(headers=staff_headers):
        user = auth.user_from_token(staff_headers["Authorization"][7:])
        with recorded_statements(db) as seen:
            assert user.scope_paths() == [db.session.get(type(user.grants[0].venue), station_id).path]
            assert user.has_role(Role.checkin) and not user.is_admin
        assert _selects(seen) == 0, seen
        assert user in db.session and not db.session.dirty and not db.session.new
    db.session.remove()
