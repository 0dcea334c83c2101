"""The bookings and activities API of docs/api.md: codes, shapes, scope, and bad input that is never a 500."""

from datetime import timedelta

import pytest

from bookings.models import Booking
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f


def _auth(client, login: str) -> dict:
    token = client.post("/api/v1/auth/token", json={"login": login, "password": f.PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _setup(**fields):
    venue = f.venue()
    staff = f.staff(venue, login="staffer")
    act = af.activity(venue, actor=staff, **fields)
    user = f.resident("13800000001")
    f.commit()
    return act, user


def test_booking_a_session_answers_201_with_status_and_code(client):
    act, _user = _setup(capacity=2)
    session_id = af.first_session(act).id
    response = client.post("/api/v1/bookings", json={"session_id": session_id}, headers=_auth(client, "13800000001"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "confirmed" and len(body["code"]) == 8
    detail = client.get(f"/api/v1/activities/{act.id}").get_json()
    assert detail["sessions"][0]["seats_left"] == 1


def test_domain_refusals_carry_their_codes_and_take_nothing(client):
    act, _user = _setup(capacity=2)
    session_id = af.first_session(act).id
    headers = _auth(client, "13800000001")
    client.post("/api/v1/bookings", json={"session_id": session_id}, headers=headers)
    again = client.post("/api/v1/bookings", json={"session_id": session_id}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "duplicate"
    assert db.session.query(Booking).count() == 1


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"session_id": 999999}, 404, "not_found"),
        ({"party_size": 1}, 422, "invalid"),
        ({"session_id": "x"}, 422, "invalid"),
        ({"session_id": 1, "party_size": 0}, 422, "invalid"),
        ({"session_id": 1, "party_size": -2}, 422, "invalid"),
        ({"session_id": 1, "party_size": 9}, 422, "invalid"),
        ({"session_id": 1, "participant_ids": [999999]}, 422, "invalid"),
        ({"session_id": 1, "bogus": True}, 422, "invalid"),
    ],
)
def test_bad_booking_input_is_a_clear_4xx(client, body, status, code):
    _setup()
    response = client.post("/api/v1/bookings", json=body, headers=_auth(client, "13800000001"))
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert db.session.query(Booking).count() == 0


def test_a_window_not_open_yet_is_not_open(client):
    act, _user = _setup(signup_opens_at=af.now() + timedelta(days=1))
    response = client.post(
        "/api/v1/bookings", json={"session_id": af.first_session(act).id}, headers=_auth(client, "13800000001")
    )
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_open"
    assert "opens_at" in response.get_json()["error"]


def test_a_full_session_without_waiting_list_is_full(client):
    act, _user = _setup(capacity=1, has_waiting_list=False)
    session_id = af.first_session(act).id
    af.book(f.resident(), act)
    f.commit()
    response = client.post("/api/v1/bookings", json={"session_id": session_id}, headers=_auth(client, "13800000001"))
    assert response.get_json()["error"]["code"] == "full"


def test_a_class_is_booked_by_activity_id(client):
    act, _user = _setup(kind="course", sessions=3)
    response = client.post("/api/v1/bookings", json={"activity_id": act.id}, headers=_auth(client, "13800000001"))
    assert response.status_code == 201 and response.get_json()["session_id"] is None


def test_someone_elses_booking_is_404_and_cannot_be_cancelled(client):
    act, _user = _setup()
    other = f.resident("13800000002")
    booking = af.book(other, act)
    f.commit()
    headers = _auth(client, "13800000001")
    assert client.get(f"/api/v1/bookings/{booking.id}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/bookings/{booking.id}/cancel", headers=headers).status_code == 404


def test_cancel_answers_with_the_no_show_flag(client):
    act, _user = _setup()
    headers = _auth(client, "13800000001")
    booking_id = client.post(
        "/api/v1/bookings", json={"session_id": af.first_session(act).id}, headers=headers
    ).get_json()["id"]
    response = client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=headers)
    assert response.get_json() == {"id": booking_id, "status": "cancelled", "counted_as_no_show": False}
    assert client.post(f"/api/v1/bookings/{booking_id}/cancel", headers=headers).status_code == 409


def test_my_bookings_list_only_mine_and_staff_see_a_session_in_scope(client):
    act, user = _setup()
    session_id = af.first_session(act).id
    af.book(user, act)
    af.book(f.resident("13800000002"), act)
    outsider = f.staff(f.venue(), login="outsider")
    f.commit()
    mine = client.get("/api/v1/bookings", headers=_auth(client, "13800000001")).get_json()
    assert mine["total"] == 1
    staff = client.get(f"/api/v1/bookings?session={session_id}", headers=_auth(client, "staffer")).get_json()
    assert staff["total"] == 2
    assert outsider.id
    refused = client.get(f"/api/v1/bookings?session={session_id}", headers=_auth(client, "outsider"))
    assert refused.status_code == 403


def test_staff_can_book_for_a_caller_but_a_resident_cannot_book_for_someone_else(client):
    act, user = _setup()
    session_id = af.first_session(act).id
    caller = f.resident("13800000002")
    f.commit()
    ok = client.post(
        "/api/v1/bookings", json={"session_id": session_id, "user_id": caller.id}, headers=_auth(client, "staffer")
    )
    assert ok.status_code == 201
    refused = client.post(
        "/api/v1/bookings", json={"session_id": session_id, "user_id": caller.id}, headers=_auth(client, "13800000001")
    )
    assert refused.status_code == 403


def test_bulk_decisions_by_api(client):
    act, user = _setup(policy="approval", capacity=5)
    ids = [af.book(f.resident(), act).id for _ in range(2)]
    f.commit()
    response = client.post(
        "/api/v1/bookings/decisions",
        json={"booking_ids": ids, "approve": False, "reason": "需要面试"},
        headers=_auth(client, "staffer"),
    )
    assert response.status_code == 200
    assert set(response.get_json()["results"].values()) == {"rejected"}


def test_activity_listing_filters(client):
    net = f.network()
    staff = f.staff(net["hub"], login="hubstaff")
    af.activity(net["community"], actor=staff, title="村民广场舞", age_min=50, category="dance")
    af.activity(net["other_branch"], actor=staff, title="少儿书法班", kind="course", age_max=12, category="calligraphy")
    af.activity(net["hub"], actor=staff, title="草稿", publish=False)
    f.commit()

    def titles(query=""):
        return [a["title"] for a in client.get(f"/api/v1/activities?{query}").get_json()["items"]]

    assert sorted(titles()) == ["少儿书法班", "村民广场舞"]
    assert titles(f"venue={net['branch'].id}") == ["村民广场舞"]
    assert titles("district=211122") == ["少儿书法班"]
    assert titles("kind=course") == ["少儿书法班"]
    assert titles("category=dance") == ["村民广场舞"]
    assert titles("age=8") == ["少儿书法班"]
    assert titles("q=书法") == ["少儿书法班"]
    far = (af.now() + timedelta(days=60)).date().isoformat()
    assert titles(f"from={far}") == []
    assert client.get("/api/v1/activities?kind=nope").status_code == 422


def test_a_draft_is_404_to_the_public_and_visible_to_staff(client):
    act, _user = _setup(publish=False)
    assert client.get(f"/api/v1/activities/{act.id}").status_code == 404
    assert client.get(f"/api/v1/activities/{act.id}", headers=_auth(client, "staffer")).status_code == 200


def test_staff_create_add_sessions_and_publish_through_the_api(client):
    venue = f.venue()
    f.staff(venue, login="staffer")
    room = f.room(venue)
    f.commit()
    headers = _auth(client, "staffer")
    created = client.post(
        "/api/v1/activities",
        json={"venue_id": venue.id, "kind": "course", "title": "太极拳班", "capacity": 20, "room_id": room.id},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    activity_id = created.get_json()["id"]
    start = (af.now() + timedelta(days=3)).date()
    weekly = {
        "first_on": start.isoformat(),
        "until_on": (start + timedelta(days=27)).isoformat(),
        "weekdays": [start.weekday()],
        "starts": "09:00",
        "ends": "10:30",
        "except_on": [(start + timedelta(days=7)).isoformat()],
    }
    sessions = client.post(f"/api/v1/activities/{activity_id}/sessions", json={"weekly": weekly}, headers=headers)
    assert sessions.status_code == 201 and sessions.get_json()["total"] == 3
    clash = client.post(f"/api/v1/activities/{activity_id}/sessions", json={"weekly": weekly}, headers=headers)
    assert clash.status_code == 409 and clash.get_json()["error"]["code"] == "conflict"
    published = client.post(f"/api/v1/activities/{activity_id}/publish", headers=headers)
    assert published.get_json()["status"] == "published"
    again = client.post(f"/api/v1/activities/{activity_id}/publish", headers=headers)
    assert again.status_code == 409


def test_staff_out_of_scope_cannot_create_or_edit(client):
    net = f.network()
    f.staff(net["station"], login="station")
    act = af.activity(net["sibling"])
    f.commit()
    headers = _auth(client, "station")
    created = client.post(
        "/api/v1/activities", json={"venue_id": net["sibling"].id, "kind": "event", "title": "x"}, headers=headers
    )
    assert created.status_code == 403
    assert client.patch(f"/api/v1/activities/{act.id}", json={"title": "y"}, headers=headers).status_code == 403


def test_capacity_cannot_drop_below_seats_taken(client):
    act, user = _setup(capacity=3)
    af.book(user, act, party_size=3)
    f.commit()
    response = client.patch(f"/api/v1/activities/{act.id}", json={"capacity": 2}, headers=_auth(client, "staffer"))
    assert response.status_code == 422 and "capacity" in response.get_json()["error"]["fields"]


def test_booking_a_lesson_of_a_class_enrols_in_the_whole_class(client):
    act, _user = _setup(kind="course", sessions=3, capacity=5)
    lesson = act.sessions[1].id
    response = client.post("/api/v1/bookings", json={"session_id": lesson}, headers=_auth(client, "13800000001"))
    assert response.status_code == 201
    assert response.get_json()["session_id"] is None
    assert db.session.get(Booking, response.get_json()["id"]).unit_key == f"c{act.id}"


def test_the_lottery_api_tells_what_the_entry_list_page_shows(client):
    from bookings import jobs
    from bookings.models import LotteryDraw

    net = f.network()
    staff = f.staff(net["branch"], login="branch")
    closes = af.now() + timedelta(days=1)
    act = af.activity(
        net["branch"], actor=staff, kind="course", policy="lottery", capacity=1, signup_closes_at=closes, sessions=2
    )
    af.book(f.resident(name="张秀兰"), act)
    af.book(f.resident(name="李建国"), act)
    f.commit()
    before = client.get(f"/api/v1/activities/{act.id}/lottery").get_json()["units"][0]
    assert before["unit"] == f"c{act.id}" and before["drawn"] is False and before["seed"] is None
    assert len(before["entries"]) == 2
    jobs.draw_due_lotteries(closes)
    draw = db.session.query(LotteryDraw).one()
    body = client.get(f"/api/v1/activities/{act.id}/lottery").get_json()["units"][0]
    assert body["seed"] == draw.seed and body["winners"] == draw.winners and body["seats"] == draw.seats
    assert {e["name"] for e in body["entries"]} == {"张*兰", "李*国"}
    assert sorted(e["draw_rank"] for e in body["entries"]) == [1, 2]
    other = af.activity(net["branch"], actor=staff)
    f.commit()
    assert client.get(f"/api/v1/activities/{other.id}/lottery").status_code == 404  # not a lottery
