"""One commit per request: a request's writes are committed when it succeeds and rolled back when it is refused
(a domain error, on a page or in the API) or fails, even when a service had already flushed them."""

from datetime import timedelta

import pytest
from flask import Blueprint, redirect

from accounts.models import User
from core.errors import Invalid
from core.extensions import db
from core.forms import show_domain_error
from core.i18n import local_today
from rooms.models import RoomGroup, RoomReservation
from tests import dbs
from tests import factories as f
from tests.conftest import make_app
from tests.rooms.fixtures import at, session_in

probe = Blueprint("probe", __name__)


@probe.post("/probe/<outcome>")
def write_then(outcome: str):
    f.resident("13800009999")  # flushed: the row exists inside the transaction
    if outcome == "refused":
        raise Invalid()
    if outcome == "flashed":
        show_domain_error(None, Invalid())
        return redirect("/"), 303
    if outcome == "crashed":
        raise RuntimeError("boom")
    return "ok"


@probe.post("/probe/read/<outcome>")
def read_then(outcome: str):
    """A refusal after reads only, or after a change not yet flushed, a lock, or a secret queued to be sent."""
    from sqlalchemy import select

    from accounts.delivery import send_sms_after_commit

    db.session.execute(select(User.id)).all()
    if outcome == "pending":
        db.session.add(User(phone="13800008888", name="未写入"))  # not flushed: a COMMIT would write it
    elif outcome == "locked":
        db.session.execute(select(User.id).with_for_update()).all()
    elif outcome == "secret":
        send_sms_after_commit(db.session, "13800007777", "验证码 123456", key="probe")
    raise Invalid()


@pytest.fixture(scope="module")
def probe_app():
    app = make_app(dbs.sqlite_url("one-commit"))
    app.register_blueprint(probe)
    with app.app_context():
        db.create_all()
    return app


def _users(app) -> int:
    with app.app_context():
        count = db.session.query(User).count()
        db.session.query(User).delete()
        db.session.commit()
        return count


@pytest.mark.parametrize(
    "outcome,status,kept", [("ok", 200, 1), ("refused", 422, 0), ("flashed", 303, 0), ("crashed", 500, 0)]
)
def test_a_request_commits_its_writes_only_when_it_succeeds(probe_app, outcome, status, kept):
    client = probe_app.test_client()
    token = client.get("/login").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post(f"/probe/{outcome}", headers={"X-CSRFToken": token})
    assert response.status_code == status
    assert _users(probe_app) == kept


@pytest.mark.parametrize(
    "outcome,ends", [("only", "commit"), ("pending", "rollback"), ("locked", "rollback"), ("secret", "rollback")]
)
def test_a_refused_request_that_only_read_ends_with_commit_any_other_with_rollback(probe_app, outcome, ends):
    """Refused after plain reads only, the transaction ends with COMMIT (the data as after a ROLLBACK; psycopg keeps
    its prepared statements, which it drops at every ROLLBACK). A change waiting to be flushed, a lock or a queued
    secret is rolled back: nothing is written and nothing is sent."""
    import sqlalchemy as sa

    from accounts.delivery import KEY

    sent = []
    with probe_app.app_context():
        engine = db.engine
    listeners = {name: (lambda conn, name=name: sent.append(name)) for name in ("commit", "rollback")}
    for name, fn in listeners.items():
        sa.event.listen(engine, name, fn)
    try:
        client = probe_app.test_client()
        token = client.get("/login").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
        sent.clear()
        response = client.post(f"/probe/read/{outcome}", headers={"X-CSRFToken": token})
    finally:
        for name, fn in listeners.items():
            sa.event.remove(engine, name, fn)
    assert response.status_code == 422
    assert sent and set(sent) == {ends}, sent
    assert _users(probe_app) == 0
    with probe_app.app_context():
        assert not db.session().info.get(KEY)


@pytest.fixture
def day(app):
    return local_today() + timedelta(days=3)


def _reservation(room, day, start=9, end=11) -> dict:
    return {
        "room_id": room.id,
        "starts_at": at(day, start).isoformat(),
        "ends_at": at(day, end).isoformat(),
        "purpose": "舞蹈排练",
        "attendees": 12,
        "group": {"name": "红星舞蹈队", "kind": "team", "contact_name": "赵敏", "contact_phone": "13900000003"},
    }


def test_a_refused_api_reservation_leaves_no_group_behind(client, net, day):
    session_in(net["room"], at(day, 10), at(day, 12))
    f.commit()
    client.login(net["resident"].phone)
    response = client.post("/api/v1/room-reservations", json=_reservation(net["room"], day))
    assert response.status_code == 409
    assert db.session.query(RoomReservation).count() == 0 and db.session.query(RoomGroup).count() == 0


def test_a_refused_page_reservation_leaves_no_group_behind(client, net, day):
    session_in(net["room"], at(day, 10), at(day, 12))
    f.commit()
    client.login(net["resident"].phone)
    response = client.post(
        f"/rooms/{net['room'].id}/reserve",
        data={
            "day": str(day),
            "start": "09:00",
            "end": "11:00",
            "purpose": "书法练习",
            "attendees": "15",
            "group_id": "0",
            "group_name": "墨香书法社",
            "group_kind": "association",
            "contact_name": "孙伟",
            "contact_phone": "13900000004",
        },
    )
    assert response.status_code == 422
    assert db.session.query(RoomReservation).count() == 0 and db.session.query(RoomGroup).count() == 0


def test_an_accepted_api_reservation_is_committed(client, net, day):
    client.login(net["resident"].phone)
    response = client.post("/api/v1/room-reservations", json=_reservation(net["room"], day))
    assert response.status_code == 201
    db.session.rollback()  # what the request committed survives the test's own rollback
    assert db.session.query(RoomReservation).count() == 1 and db.session.query(RoomGroup).count() == 1
