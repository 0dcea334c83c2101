"""The check-in API and pages: tickets, scans, offline sync, rosters, walk-ins; every bad input a clear 4xx."""

import re
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from bookings import services
from checkin.models import CheckIn, CheckInConflict, WalkIn
from core import tickets
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f


def door_now(starts_in: timedelta = timedelta(minutes=30), **fields) -> SimpleNamespace:
    """A session whose door is open now (it starts in 30 minutes), a booking, door staff; committed."""
    net = f.network()
    act = af.activity(net["station"], starts_in=starts_in, **fields)
    holder = f.resident(name="张秀兰")
    booking = af.book(holder, act, party_size=2)
    scanner = f.staff(net["station"], Role.checkin)
    ns = SimpleNamespace(
        net=net,
        act=act,
        session=af.first_session(act),
        holder=holder,
        booking=booking,
        scanner=scanner,
        payload=tickets.payload_for(booking.id),
    )
    f.commit()
    return ns


def count(model) -> int:
    return db.session.execute(select(func.count(model.id))).scalar_one()


def test_a_scan_admits_with_the_contracts_fields_and_a_second_scan_shows_the_first(client, app):
    d = door_now()
    client.login(d.scanner.login)
    response = client.post("/api/v1/checkins", json={"payload": d.payload, "session_id": d.session.id})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["booking_id"] == d.booking.id and body["session_id"] == d.session.id
    assert body["party_size"] == 2 and body["holder"] == "张*兰"
    assert datetime.fromisoformat(body["checked_in_at"]).utcoffset() == timedelta(0)
    again = client.post("/api/v1/checkins", json={"payload": d.payload, "session_id": d.session.id})
    assert again.status_code == 409
    error = again.json["error"]
    assert error["code"] == "already_checked_in"
    assert datetime.fromisoformat(error["first_checked_in_at"]) == datetime.fromisoformat(body["checked_in_at"])
    assert error["checked_in_by"] == d.scanner.name
    assert count(CheckIn) == 1


def test_a_retry_with_the_same_scan_id_gets_the_same_answer_and_counts_once(client, app):
    d = door_now()
    client.login(d.scanner.login)
    body = {"payload": d.payload, "scan_id": "c0ffee00-1111", "device_id": "door-1"}
    first = client.post("/api/v1/checkins", json=body)
    second = client.post("/api/v1/checkins", json=body)
    assert first.status_code == second.status_code == 201
    assert first.json["checked_in_at"] == second.json["checked_in_at"]
    assert second.json["replayed"] is True and first.json["replayed"] is False
    assert count(CheckIn) == 1


@pytest.mark.parametrize(
    "payload",
    [
        "garbage",
        "",
        "https://example.com/ticket?id=1",
        "CN1:B1:AAAAAAAAAAAAAAAA",
        "🎫" * 50,
        "x" * 200_000,
    ],
)
def test_bad_tickets_are_422_invalid_ticket_and_nothing_is_recorded(client, app, payload):
    d = door_now()
    client.login(d.scanner.login)
    response = client.post("/api/v1/checkins", json={"payload": payload, "session_id": d.session.id})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_ticket"
    assert response.json["error"]["message"]
    assert count(CheckIn) == 0


def test_a_tampered_ticket_is_refused(client, app):
    d = door_now()
    client.login(d.scanner.login)
    tampered = d.payload[:-1] + ("A" if d.payload[-1] != "A" else "B")
    response = client.post("/api/v1/checkins", json={"payload": tampered})
    assert response.json["error"]["code"] == "invalid_ticket"


@pytest.mark.parametrize(
    "body",
    [
        {"payload": 123},
        {"payload": ["CN1"]},
        {"code": {"x": 1}},
        {"session_id": "abc", "payload": "x"},
        {"payload": "x", "extra": 1},
        {"payload": "x", "scan_id": "short"},
        {"payload": "x", "scan_id": "bad id !!"},
    ],
)
def test_malformed_bodies_are_422_invalid_with_fields(client, app, body):
    d = door_now()
    client.login(d.scanner.login)
    response = client.post("/api/v1/checkins", json=body)
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid"
    assert response.json["error"]["fields"]


def test_non_json_and_empty_bodies_are_refused_cleanly(client, app):
    d = door_now()
    client.login(d.scanner.login)
    headers = {"X-CSRFToken": client.csrf_token()}
    assert (
        client.post("/api/v1/checkins", data="payload=x", content_type="text/plain", headers=headers).status_code == 415
    )
    assert (
        client.post("/api/v1/checkins", data="{", content_type="application/json", headers=headers).status_code == 400
    )
    empty = client.post("/api/v1/checkins", json={})
    assert empty.status_code == 422 and "payload" in empty.json["error"]["fields"]


def test_a_typed_code_with_the_session_admits(client, app):
    d = door_now()
    client.login(d.scanner.login)
    code = tickets.format_code(tickets.code_for(d.booking.id))
    response = client.post("/api/v1/checkins", json={"code": code, "session_id": d.session.id})
    assert response.status_code == 201
    unknown = client.post("/api/v1/checkins", json={"code": "ABCD-EFGH", "session_id": d.session.id})
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "invalid_ticket"
    missing = client.post("/api/v1/checkins", json={"code": code})
    assert missing.status_code == 422 and "session_id" in missing.json["error"]["fields"]


def test_rules_answer_with_their_codes(client, app):
    d = door_now()
    early = af.activity(d.net["station"], title="下周的讲座")
    early_booking = af.book(f.resident(), early)
    past = af.activity(
        d.net["station"], title="昨天的演出", at=af.now() - timedelta(days=3), starts_in=timedelta(days=1)
    )
    past_booking = af.book(f.resident(), past, at=af.now() - timedelta(days=3))
    cancelled = af.book(f.resident(), d.act)
    f.commit()
    services.cancel_booking(cancelled, actor=cancelled.user)
    f.commit()
    client.login(d.scanner.login)

    def scan(booking, session=None):
        body = {"payload": tickets.payload_for(booking.id)}
        if session is not None:
            body["session_id"] = session.id
        return client.post("/api/v1/checkins", json=body)

    too_early = scan(early_booking)
    assert too_early.status_code == 409 and too_early.json["error"]["code"] == "too_early"
    assert "opens_at" in too_early.json["error"]
    assert scan(past_booking).json["error"]["code"] == "too_late"
    assert scan(cancelled).json["error"]["code"] == "cancelled"
    wrong = scan(early_booking, d.session)
    assert wrong.status_code == 409 and wrong.json["error"]["code"] == "wrong_session"
    assert count(CheckIn) == 0


def test_out_of_scope_scanners_get_403_and_anonymous_401(client, app):
    d = door_now()
    outsider = f.staff(d.net["sibling"], Role.checkin)
    resident = f.resident()
    f.commit()
    assert client.post("/api/v1/checkins", json={"payload": d.payload}, csrf=False).status_code == 401
    client.login(outsider.login)
    response = client.post("/api/v1/checkins", json={"payload": d.payload})
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert client.post("/api/v1/checkins", json={"payload": d.payload, "session_id": d.session.id}).status_code == 403
    client.post("/logout")
    client.login(resident.phone)
    assert client.post("/api/v1/checkins", json={"payload": d.payload}).status_code == 403
    assert client.post("/api/v1/checkins", json={"payload": d.payload, "session_id": 999999}).status_code == 403
    assert count(CheckIn) == 0


def test_an_unknown_session_is_404(client, app):
    d = door_now()
    client.login(d.scanner.login)
    assert client.post("/api/v1/checkins", json={"payload": d.payload, "session_id": 999999}).status_code == 404
    assert client.get("/api/v1/sessions/999999/roster").status_code == 404


def test_bearer_token_scanners_need_no_csrf(client, app):
    d = door_now()
    token = client.post("/api/v1/auth/token", json={"login": d.scanner.login, "password": f.PASSWORD}, csrf=False).json[
        "token"
    ]
    response = client.post(
        "/api/v1/checkins", json={"payload": d.payload}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201


# --- batch ----------------------------------------------------------------------------------------


def _batch_item(d, booking, scan_id, minutes=1, device="door-a"):
    at = (d.session.starts_at - timedelta(minutes=50) + timedelta(minutes=minutes)).isoformat()
    return {
        "payload": tickets.payload_for(booking.id),
        "session_id": d.session.id,
        "scanned_at": at,
        "device_id": device,
        "scan_id": scan_id,
    }


def test_a_batch_syncs_and_replaying_it_changes_nothing(client, app):
    d = door_now()
    other = af.book(f.resident(name="李四"), d.act)
    f.commit()
    client.login(d.scanner.login)
    batch = [
        _batch_item(d, d.booking, "scan-a-0001"),
        _batch_item(d, other, "scan-a-0002", 2),
        {**_batch_item(d, d.booking, "scan-a-0003"), "payload": "junk"},
    ]
    first = client.post("/api/v1/checkins/batch", json=batch)
    assert first.status_code == 200, first.json
    assert [r["status"] for r in first.json["results"]] == ["admitted", "admitted", "rejected"]
    assert first.json["results"][2]["code"] == "invalid_ticket"
    assert first.json["admitted"] == 2
    replay = client.post("/api/v1/checkins/batch", json=batch)
    assert [r["status"] for r in replay.json["results"]] == ["admitted", "admitted", "rejected"]
    assert replay.json["admitted"] == 0
    assert count(CheckIn) == 2


def test_two_offline_devices_admitting_one_ticket_count_once_and_flag(client, app):
    d = door_now()
    client.login(d.scanner.login)
    client.post("/api/v1/checkins/batch", json=[_batch_item(d, d.booking, "scan-a-0001", device="door-a")])
    second = client.post("/api/v1/checkins/batch", json=[_batch_item(d, d.booking, "scan-b-0001", 3, "door-b")])
    result = second.json["results"][0]
    assert result["code"] == "already_checked_in" and result["conflict"] is True
    assert second.json["conflicts"] == 1
    client.post("/api/v1/checkins/batch", json=[_batch_item(d, d.booking, "scan-b-0001", 3, "door-b")])
    assert count(CheckIn) == 1 and count(CheckInConflict) == 1
    roster = client.get(f"/api/v1/sessions/{d.session.id}/roster").json
    assert roster["conflicts"] == 1 and roster["checked_in"] == 2


@pytest.mark.parametrize(
    "batch",
    [
        {"payload": "x"},
        [{"payload": "x"}],
        [{"payload": "x", "scan_id": "scan-0001", "scanned_at": "yesterday"}],
        [{"payload": "x", "scan_id": "scan-0001", "scanned_at": "2026-05-01T09:00:00"}],  # no zone
        [{"payload": "x", "scan_id": "scan-0001", "scanned_at": "2026-05-01T09:00:00+08:00"}] * 501,
    ],
)
def test_malformed_batches_are_422(client, app, batch):
    d = door_now()
    client.login(d.scanner.login)
    response = client.post("/api/v1/checkins/batch", json=batch)
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid"


# --- roster and walk-ins --------------------------------------------------------------------------


def test_the_roster_holds_fingerprints_not_tickets(client, app):
    d = door_now()
    client.login(d.scanner.login)
    response = client.get(f"/api/v1/sessions/{d.session.id}/roster")
    assert response.status_code == 200
    roster = response.json
    assert roster["session"]["id"] == d.session.id and roster["session"]["opens_at"]
    [item] = roster["items"]
    assert item == {
        "booking_id": d.booking.id,
        "ticket": tickets.fingerprint(d.payload),
        "holder": "张*兰",
        "party_size": 2,
        "status": "confirmed",
        "checked_in_at": None,
        "checked_in_by": None,
    }
    assert d.payload not in response.get_data(as_text=True)
    assert tickets.code_for(d.booking.id) not in response.get_data(as_text=True)
    client.post("/api/v1/checkins", json={"payload": d.payload})
    after = client.get(f"/api/v1/sessions/{d.session.id}/roster").json
    assert after["items"][0]["checked_in_at"] and after["checked_in"] == 2


def test_the_roster_is_for_door_staff_in_scope_only(client, app):
    d = door_now()
    outsider = f.staff(d.net["sibling"], Role.staff)
    f.commit()
    client.login(outsider.login)
    assert client.get(f"/api/v1/sessions/{d.session.id}/roster").status_code == 403
    client.post("/logout")
    client.login(d.holder.phone)
    assert client.get(f"/api/v1/sessions/{d.session.id}/roster").status_code == 403


def test_walk_ins_are_counted_and_a_retry_adds_nothing(client, app):
    d = door_now()
    client.login(d.scanner.login)
    url = f"/api/v1/sessions/{d.session.id}/walk-ins"
    first = client.post(url, json={"count": 3, "scan_id": "walk-0000001"})
    assert first.status_code == 201 and first.json == {"session_id": d.session.id, "added": 3, "total": 3}
    assert client.post(url, json={"count": 3, "scan_id": "walk-0000001"}).json["total"] == 3
    assert client.post(url, json={"count": 2}).json["total"] == 5
    for bad in ({"count": 0}, {"count": -4}, {"count": 501}, {"count": "many"}, {}):
        response = client.post(url, json=bad)
        assert response.status_code == 422, bad
    assert count(WalkIn) == 2
    assert client.get(f"/api/v1/sessions/{d.session.id}/roster").json["walk_ins"] == 5


# --- tickets --------------------------------------------------------------------------------------


def test_the_owner_gets_the_ticket_payload_code_and_images(client, app):
    d = door_now()
    client.login(d.holder.phone)
    response = client.get(f"/api/v1/bookings/{d.booking.id}/ticket")
    assert response.status_code == 200
    assert response.json["payload"] == d.payload
    assert response.json["code"] == tickets.code_for(d.booking.id)
    svg = client.get(f"/api/v1/bookings/{d.booking.id}/ticket.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    png = client.get(f"/api/v1/bookings/{d.booking.id}/ticket.png?download=1")
    assert png.mimetype == "image/png" and png.data[:4] == b"\x89PNG"
    assert "attachment" in png.headers["Content-Disposition"]
    booking = client.get(f"/api/v1/bookings/{d.booking.id}").json
    assert booking["code"] == response.json["code"]  # the booking's code is the one the door accepts


def test_another_users_ticket_is_404_and_staff_in_scope_may_see_it(client, app):
    d = door_now()
    stranger = f.resident()
    manager = f.staff(d.net["branch"], Role.staff)
    f.commit()
    client.login(stranger.phone)
    for suffix in ("", ".svg", ".png"):
        assert client.get(f"/api/v1/bookings/{d.booking.id}/ticket{suffix}").status_code == 404
    assert client.get("/api/v1/bookings/999999/ticket").status_code == 404
    client.post("/logout")
    client.login(manager.login)
    assert client.get(f"/api/v1/bookings/{d.booking.id}/ticket").status_code == 200


def test_check_in_only_staff_can_scan_and_count_but_not_see_tickets_or_bookings(client, app):
    d = door_now()
    client.login(d.scanner.login)
    assert client.get(f"/api/v1/bookings/{d.booking.id}/ticket").status_code == 404
    assert client.get(f"/api/v1/bookings?session={d.session.id}").status_code == 403
    assert client.post("/api/v1/activities", json={"title": "x"}).status_code in (403, 422)
    assert client.post(f"/api/v1/sessions/{d.session.id}/walk-ins", json={"count": 1}).status_code == 201
    assert client.post("/api/v1/checkins", json={"payload": d.payload}).status_code == 201


def test_a_waitlisted_booking_has_no_ticket_yet(client, app):
    d = door_now(capacity=2)
    waiting = af.book(f.resident(), d.act)
    f.commit()
    client.login(waiting.user.phone)
    response = client.get(f"/api/v1/bookings/{waiting.id}/ticket")
    assert response.status_code == 409 and response.json["error"]["code"] == "not_confirmed"


# --- pages ----------------------------------------------------------------------------------------


def test_the_scanner_page_lists_todays_sessions_and_carries_its_urls(client, app):
    d = door_now()
    client.login(d.scanner.login)
    chooser = client.get("/scan")
    assert chooser.status_code == 200
    assert f'value="{d.session.id}"' in chooser.get_data(as_text=True)
    page = client.get(f"/scan?session={d.session.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-roster-url="/api/v1/sessions/{d.session.id}/roster"' in html
    assert "qr-scanner.umd.min.js" in html and "js/scanner.js" in html
    assert "worker-src 'self' blob:" in page.headers["Content-Security-Policy"]
    assert "<script>" not in html  # everything in files (CSP)
    assert client.get("/scan?session=999999").status_code == 404


def test_the_scanner_page_is_for_door_staff_in_scope(client, app):
    d = door_now()
    outsider = f.staff(d.net["sibling"], Role.checkin)
    f.commit()
    client.login(d.holder.phone)
    assert client.get("/scan").status_code == 403
    client.post("/logout")
    client.login(outsider.login)
    assert client.get(f"/scan?session={d.session.id}").status_code == 403
    assert f'value="{d.session.id}"' not in client.get("/scan").get_data(as_text=True)


def test_the_ticket_page_shows_the_qr_large_with_its_details(client, app):
    d = door_now()
    client.login(d.holder.phone)
    page = client.get(f"/tickets/{d.booking.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in html
    assert tickets.format_code(tickets.code_for(d.booking.id)) in html
    assert d.act.title in html and "张*兰" in html
    assert re.search(r"ticket-\d+\.png", html)
    worker = client.get("/tickets/sw.js")
    assert worker.status_code == 200 and worker.headers["Service-Worker-Allowed"] == "/tickets/"
    assert client.get("/scan/sw.js").headers["Service-Worker-Allowed"] == "/scan"


def test_someone_elses_ticket_page_is_404(client, app):
    d = door_now()
    stranger = f.resident()
    f.commit()
    client.login(stranger.phone)
    assert client.get(f"/tickets/{d.booking.id}").status_code == 404


def test_openapi_documents_the_check_in_endpoints(client, app):
    doc = client.get("/api/v1/openapi.json").json
    for path in (
        "/api/v1/checkins",
        "/api/v1/checkins/batch",
        "/api/v1/sessions/{session_id}/roster",
        "/api/v1/sessions/{session_id}/walk-ins",
        "/api/v1/bookings/{booking_id}/ticket",
    ):
        assert path in doc["paths"], path


def test_exhibition_day_walk_ins_through_the_api(client, app):
    from core.i18n import local_today

    net = f.network()
    today = local_today()
    show = af.activity(
        net["station"],
        kind="exhibition",
        sessions=0,
        policy="walk_in",
        title="非遗展",
        starts_on=today,
        ends_on=today + timedelta(days=5),
    )
    keeper = f.staff(net["station"], Role.checkin)
    f.commit()
    client.login(keeper.login)
    response = client.post(f"/api/v1/activities/{show.id}/walk-ins", json={"count": 7})
    assert response.status_code == 201
    assert response.json["total"] == 7 and response.json["counted_on"] == today.isoformat()
    assert client.post("/api/v1/activities/999999/walk-ins", json={"count": 1}).status_code == 404


def test_the_attendance_page_lists_check_ins_and_flags_second_devices(client, app):
    d = door_now()
    client.login(d.scanner.login)
    client.post("/api/v1/checkins/batch", json=[_batch_item(d, d.booking, "scan-a-0001", device="door-a")])
    client.post("/api/v1/checkins/batch", json=[_batch_item(d, d.booking, "scan-b-0001", 3, "door-b")])
    page = client.get(f"/scan/sessions/{d.session.id}/attendance")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "张*兰" in html and 'id="h-conflicts"' in html
    outsider = f.staff(d.net["sibling"], Role.checkin)
    f.commit()
    client.post("/logout")
    client.login(outsider.login)
    assert client.get(f"/scan/sessions/{d.session.id}/attendance").status_code == 403


def test_the_navigation_offers_the_scanner_to_door_staff_only(client, app):
    d = door_now()
    client.login(d.scanner.login)
    assert 'href="/scan"' in client.get("/").get_data(as_text=True)
    client.post("/logout")
    client.login(d.holder.phone)
    assert 'href="/scan"' not in client.get("/").get_data(as_text=True)


def test_a_cancelled_bookings_ticket_page_says_so_and_shows_no_code(client, app):
    d = door_now()
    services.cancel_booking(d.booking, actor=d.holder)
    f.commit()
    client.login(d.holder.phone)
    html = client.get(f"/tickets/{d.booking.id}").get_data(as_text=True)
    assert "ticket-qr" not in html and 'class="notice ticket-state"' in html
    assert tickets.format_code(tickets.code_for(d.booking.id)) not in html
    assert client.get(f"/api/v1/bookings/{d.booking.id}/ticket").json["error"]["code"] == "cancelled"
