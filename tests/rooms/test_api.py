"""The room reservation API (docs/api.md): answers, error codes, scope, and no 500 for any bad input."""

from datetime import datetime, timedelta

import pytest

from core.db import utcnow
from core.extensions import db
from core.i18n import local_today
from rooms.models import RoomReservation
from tests import factories as f
from tests.rooms.fixtures import at, session_in
from venues.models import Closure

API = "/api/v1"


@pytest.fixture
def day(app):
    return local_today() + timedelta(days=3)


def body(room, day, start=9, end=11, **extra):
    data = {
        "room_id": room.id,
        "starts_at": at(day, start).isoformat(),
        "ends_at": at(day, end).isoformat(),
        "purpose": "舞蹈排练",
        "attendees": 12,
        "group": {"name": "红星舞蹈队", "kind": "team", "contact_name": "赵敏", "contact_phone": "13900000003"},
    }
    data.update(extra)
    return data


@pytest.fixture
def as_resident(client, net):
    client.login(net["resident"].phone)
    return client


def test_a_request_answers_201_with_id_and_pending(as_resident, net, day):
    response = as_resident.post(f"{API}/room-reservations", json=body(net["room"], day))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["status"] == "pending" and db.session.get(RoomReservation, data["id"]) is not None
    assert data["group"]["name"] == "红星舞蹈队"


def test_an_overlap_is_a_conflict_with_the_intervals(as_resident, net, day):
    session_in(net["room"], at(day, 10), at(day, 12))
    f.commit()
    response = as_resident.post(f"{API}/room-reservations", json=body(net["room"], day))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and error["conflicts"][0]["source"] == "session"
    assert db.session.query(RoomReservation).count() == 0


@pytest.mark.parametrize(
    "shift,start,end,code,status",
    [
        (3, 6, 8, "closed_hours", 409),
        (40, 9, 11, "too_far_ahead", 409),
        (-3, 9, 11, "invalid", 422),  # in the past
        (3, 11, 9, "invalid", 422),  # start after end
        (3, 9, 9, "invalid", 422),  # zero length
    ],
)
def test_rule_breaches_answer_with_their_code(as_resident, net, day, shift, start, end, code, status):
    target = local_today() + timedelta(days=shift)
    response = as_resident.post(f"{API}/room-reservations", json=body(net["room"], target, start, end))
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert db.session.query(RoomReservation).count() == 0


def test_tomorrow_within_hours_is_fine_but_today_is_too_soon(as_resident, net):
    today = local_today()
    if at(today, 19) > utcnow():
        response = as_resident.post(f"{API}/room-reservations", json=body(net["room"], today, 19, 20))
        assert response.get_json()["error"]["code"] == "too_soon"
    tomorrow = today + timedelta(days=1)
    assert as_resident.post(f"{API}/room-reservations", json=body(net["room"], tomorrow, 19, 20)).status_code == 201


def test_a_closure_is_closed(as_resident, net, day):
    db.session.add(Closure(venue=net["branch"], starts_on=day, ends_on=day, reason="春节"))
    f.commit()
    response = as_resident.post(f"{API}/room-reservations", json=body(net["room"], day))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "closed"


def test_a_time_without_zone_is_invalid(as_resident, net, day):
    data = body(net["room"], day, starts_at=f"{day}T09:00:00", ends_at=f"{day}T11:00:00")
    response = as_resident.post(f"{API}/room-reservations", json=data)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"starts_at", "ends_at"}


def test_unknown_room_is_404_and_a_room_not_bookable_is_invalid(as_resident, net, day):
    missing = body(net["room"], day, room_id=999999)
    assert as_resident.post(f"{API}/room-reservations", json=missing).status_code == 404
    net["room"].is_bookable = False
    f.commit()
    response = as_resident.post(f"{API}/room-reservations", json=body(net["room"], day))
    assert response.status_code == 422 and "room_id" in response.get_json()["error"]["fields"]


BAD_BODIES = [
    {},
    {"room_id": "x"},
    {"room_id": -1},
    {"room_id": 2**40},
    {"starts_at": "tomorrow"},
    {"starts_at": None},
    {"attendees": 0},
    {"attendees": "many"},
    {"attendees": 10**12},
    {"purpose": ""},
    {"purpose": "x" * 201},
    {"group": "choir"},
    {"group": {"id": "x"}},
    {"group": {"id": 999999}},
    {"group": {"name": "新团", "contact_phone": "abc"}},
    {"group": {"name": "新团", "kind": "gang"}},
    {"repeat_weekly_until": "soon"},
    {"repeat_weekly_until": "1999-01-01"},
    {"extra": 1},
    {"ends_at": "2026-13-40T99:00:00+08:00"},
    {"starts_at": "9999-12-31T23:59:59+14:00"},
    {"starts_at": "9999-12-31T20:00:00-12:00", "ends_at": "9999-12-31T21:00:00-12:00"},
    {"starts_at": "0001-01-01T00:00:00+14:00"},
    {"repeat_weekly_until": "9999-12-31"},
    {"group": {"id": 2**40}},
    {"room_id": 2**31},
    {"attendees": -5},
    {"attendees": 1.5},
    {"purpose": None},
]


@pytest.mark.parametrize("change", BAD_BODIES)
def test_bad_input_is_a_clear_4xx_never_a_500(as_resident, net, day, change):
    data = {**body(net["room"], day), **change} if change else {}
    response = as_resident.post(f"{API}/room-reservations", json=data)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"]
    assert db.session.query(RoomReservation).count() == 0


@pytest.mark.parametrize(
    "raw,ctype",
    [("not json", "application/json"), ("[]", "application/json"), ("room_id=1", "application/x-www-form-urlencoded")],
)
def test_malformed_bodies_are_refused(as_resident, raw, ctype):
    response = as_resident.post(
        f"{API}/room-reservations", data=raw, content_type=ctype, headers={"X-CSRFToken": as_resident.csrf_token()}
    )
    assert response.status_code in (400, 415, 422)


def test_signing_in_is_required(client, net, day):
    assert client.post(f"{API}/room-reservations", json=body(net["room"], day)).status_code == 401


def test_a_weekly_repeat_answers_the_booked_and_the_skipped_dates(as_resident, net, day):
    db.session.add(Closure(venue=net["branch"], starts_on=day + timedelta(days=7), ends_on=day + timedelta(days=7)))
    f.commit()
    response = as_resident.post(
        f"{API}/room-reservations", json=body(net["room"], day, repeat_weekly_until=str(day + timedelta(days=21)))
    )
    assert response.status_code == 201
    data = response.get_json()
    assert len(data["reservations"]) == 3
    assert [(s["date"], s["code"]) for s in data["skipped"]] == [(str(day + timedelta(days=7)), "closed")]


def test_a_weekly_repeat_with_no_free_date_is_a_conflict(as_resident, net, day):
    response = as_resident.post(
        f"{API}/room-reservations",
        json=body(net["room"], day, 19, 21, repeat_weekly_until=str(day + timedelta(days=7))),
    )
    assert response.status_code == 409 and len(response.get_json()["error"]["skipped"]) == 2
    assert db.session.query(RoomReservation).count() == 0


def test_staff_approve_reject_and_bulk_in_scope(client, net, day):
    client.login(net["resident"].phone)
    ids = [
        client.post(f"{API}/room-reservations", json=body(net["room"], day, h, h + 1)).get_json()["id"]
        for h in (9, 11, 13, 15)
    ]
    client.post("/logout")
    client.login(net["outsider"].login)
    response = client.post(f"{API}/room-reservations/{ids[0]}/approve", json={})
    assert response.status_code == 404, response.get_json()
    client.post("/logout")
    client.login(net["staff"].login)
    assert client.post(f"{API}/room-reservations/{ids[0]}/approve", json={}).get_json()["status"] == "approved"
    again = client.post(f"{API}/room-reservations/{ids[0]}/approve", json={})
    assert again.status_code == 409, again.status  # the reservation's status once became the HTTP status
    assert again.get_json()["error"] == {
        "code": "invalid_transition",
        "current_status": "approved",
        "message": again.get_json()["error"]["message"],
    }
    assert client.post(f"{API}/room-reservations/{ids[1]}/reject", json={}).status_code == 422
    rejected = client.post(f"{API}/room-reservations/{ids[1]}/reject", json={"reason": "已有安排"}).get_json()
    assert rejected["status"] == "rejected" and rejected["decision_reason"] == "已有安排"
    results = client.post(
        f"{API}/room-reservations/bulk", json={"ids": [ids[2], ids[3], ids[0]], "action": "approve"}
    ).get_json()["results"]
    assert [r["status"] for r in results] == ["approved", "approved", "approved"]
    assert "error" in results[2] and "error" not in results[0]
    listed = client.get(f"{API}/room-reservations?status=approved").get_json()
    assert listed["total"] == 3


def test_the_group_lists_its_own_and_cannot_decide(as_resident, net, day):
    created = as_resident.post(f"{API}/room-reservations", json=body(net["room"], day)).get_json()
    assert as_resident.post(f"{API}/room-reservations/{created['id']}/approve", json={}).status_code == 403
    mine = as_resident.get(f"{API}/room-reservations").get_json()
    assert [r["id"] for r in mine["items"]] == [created["id"]]
    cancelled = as_resident.post(f"{API}/room-reservations/{created['id']}/cancel", json={})
    assert cancelled.get_json()["status"] == "cancelled"


def test_another_residents_reservation_is_404(client, net, day):
    client.login(net["resident"].phone)
    created = client.post(f"{API}/room-reservations", json=body(net["room"], day)).get_json()
    client.post("/logout")
    other = f.resident()
    f.commit()
    client.login(other.phone)
    assert client.get(f"{API}/room-reservations/{created['id']}").status_code == 404
    assert client.post(f"{API}/room-reservations/{created['id']}/cancel", json={}).status_code == 404


def test_availability_lists_free_and_taken_intervals(client, net, day):
    session_in(net["room"], at(day, 14), at(day, 16))
    f.commit()
    data = client.get(f"{API}/rooms/{net['room'].id}/availability?date={day}").get_json()
    assert data["closed"] is False and [t["source"] for t in data["taken"]] == ["session"]
    free = [(datetime.fromisoformat(i["starts_at"]), datetime.fromisoformat(i["ends_at"])) for i in data["free"]]
    assert free == [(at(day, 8), at(day, 13, 45)), (at(day, 16, 15), at(day, 20))]
    assert client.get(f"{API}/rooms/999999/availability?date={day}").status_code == 404
    assert client.get(f"{API}/rooms/{net['room'].id}/availability?date=monday").status_code == 422
    assert client.get(f"{API}/rooms/{net['room'].id}/availability").status_code == 422
    for extreme in ("9999-12-31", "0001-01-01"):
        assert client.get(f"{API}/rooms/{net['room'].id}/availability?date={extreme}").status_code == 422


def test_the_openapi_document_describes_the_reservation_endpoints(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    assert {
        "/api/v1/room-reservations",
        "/api/v1/rooms/{room_id}/availability",
        "/api/v1/room-reservations/{reservation_id}/reject",
    } <= set(paths)


def test_bulk_with_bad_ids_is_refused(client, net):
    client.login(net["staff"].login)
    for ids in ([], [0], [2**40], ["x"], list(range(1, 102))):
        response = client.post(f"{API}/room-reservations/bulk", json={"ids": ids, "action": "approve"})
        assert response.status_code == 422, ids
    assert client.post(f"{API}/room-reservations/bulk", json={"ids": [1], "action": "delete"}).status_code == 422
    assert client.post(f"{API}/room-reservations/bulk", json={"ids": [424242], "action": "approve"}).status_code == 404
