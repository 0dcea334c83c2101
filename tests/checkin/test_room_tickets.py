"""Room reservation tickets: the group's QR and code, checked in at the door once, by staff of the room's venue."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import Role, User
from checkin import services as checkin
from checkin.services import RoomAdmission
from core import tickets
from core.audit import AuditEntry
from core.db import utcnow
from core.errors import Forbidden
from core.extensions import db
from core.i18n import local_today
from core.tickets import InvalidTicket
from notify.models import Message
from rooms import services
from rooms.models import GroupKind, ReservationStatus, RoomGroup, RoomReservation
from tests import factories as f
from tests.concurrency import race
from tests.rooms.fixtures import DAY, NOW, at
from venues.models import OccupancySource
from venues.services import occupy_room

API = "/api/v1"


def approved(net, reserve, start=9, end=11) -> RoomReservation:
    r = reserve(at(DAY, start), at(DAY, end))
    services.approve_reservation(r, actor=net["staff"], now=NOW)
    return r


def door(net) -> User:
    return f.staff(net["branch"], Role.checkin)


def live_reservation(
    net, *, starts_in=timedelta(minutes=10), hours=2, status=ReservationStatus.approved
) -> RoomReservation:
    """A reservation around the real clock (the API reads it); built directly, since a request needs a day's notice."""
    starts_at = utcnow().replace(microsecond=0) + starts_in
    resident = net["resident"]
    group = db.session.execute(select(RoomGroup).where(RoomGroup.owner_id == resident.id)).scalar_one_or_none()
    group = group or RoomGroup(
        owner_id=resident.id,
        name="东风合唱团",
        kind=GroupKind.association,
        contact_name="王丽",
        contact_phone="13900000001",
    )
    occupancy = occupy_room(
        net["room"], starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours), source=OccupancySource.reservation
    )
    r = RoomReservation(
        room=net["room"],
        group=group,
        requested_by_id=resident.id,
        occupancy=occupancy,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        purpose="合唱排练",
        attendees=20,
        status=status,
        decided_at=utcnow(),
    )
    db.session.add(r)
    db.session.flush()
    occupancy.source_id = r.id
    f.commit()
    return r


# --- service --------------------------------------------------------------------------------------


def test_a_scanned_room_ticket_checks_the_group_in_once_and_a_second_scan_shows_the_first(net, reserve):
    r = approved(net, reserve)
    scanner = door(net)
    payload = tickets.payload_for(r.id, "R")
    admission = checkin.check_in_room(payload=payload, actor=scanner, now=at(DAY, 8, 45))
    assert isinstance(admission, RoomAdmission) and admission.created
    assert r.status == ReservationStatus.checked_in and r.checked_in_at == at(DAY, 8, 45)
    assert r.checked_in_by_id == scanner.id
    answer = checkin.room_admission_dict(admission)
    assert answer["holder"] == "东风合唱团" and answer["party_size"] == 20 and answer["room"] == "排练厅"
    with pytest.raises(services.AlreadyCheckedIn) as err:
        checkin.check_in_room(payload=payload, actor=door(net), now=at(DAY, 9, 5))
    assert err.value.code == "already_checked_in"
    assert err.value.extra["first_checked_in_at"] == at(DAY, 8, 45)
    assert err.value.extra["checked_in_by"] == scanner.name
    assert (
        db.session.execute(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "room_reservation.check_in")
        ).scalar_one()
        == 1
    )


def test_the_staff_button_and_a_scan_record_one_arrival_between_them(net, reserve):
    r = approved(net, reserve)
    services.check_in_reservation(r, actor=net["staff"], now=at(DAY, 8, 50))
    with pytest.raises(services.AlreadyCheckedIn) as err:
        checkin.check_in_room(payload=tickets.payload_for(r.id, "R"), actor=door(net), now=at(DAY, 9))
    assert err.value.extra["first_checked_in_at"] == at(DAY, 8, 50)
    assert err.value.extra["checked_in_by"] == net["staff"].name


def test_a_room_ticket_is_refused_before_and_after_its_window(net, reserve):
    r = approved(net, reserve)
    payload = tickets.payload_for(r.id, "R")
    with pytest.raises(checkin.TooEarly) as early:
        checkin.check_in_room(payload=payload, actor=door(net), now=at(DAY, 8, 29))
    assert early.value.extra["opens_at"] == at(DAY, 8, 30)
    with pytest.raises(checkin.TooLate) as late:
        checkin.check_in_room(payload=payload, actor=door(net), now=at(DAY, 11))
    assert late.value.extra["ended_at"] == at(DAY, 11)
    assert r.status == ReservationStatus.approved
    checkin.check_in_room(payload=payload, actor=door(net), now=at(DAY, 8, 30))
    assert r.status == ReservationStatus.checked_in


def test_a_pending_cancelled_or_released_reservation_is_refused_with_the_booking_codes(net, reserve):
    pending = reserve(at(DAY, 9), at(DAY, 10))
    with pytest.raises(checkin.NotConfirmed):
        checkin.check_in_room(payload=tickets.payload_for(pending.id, "R"), actor=door(net), now=at(DAY, 9))
    cancelled = approved(net, reserve, 12, 13)
    services.cancel_reservation(cancelled, actor=net["resident"], now=NOW)
    with pytest.raises(checkin.Cancelled):
        checkin.check_in_room(payload=tickets.payload_for(cancelled.id, "R"), actor=door(net), now=at(DAY, 12))
    released = approved(net, reserve, 15, 17)
    assert services.release_reservation(released, now=at(DAY, 15, 21))
    with pytest.raises(checkin.TooLate):
        checkin.check_in_room(payload=tickets.payload_for(released.id, "R"), actor=door(net), now=at(DAY, 15, 22))


def test_only_door_staff_of_the_rooms_venue_or_above_may_check_a_room_ticket_in(net, reserve):
    r = approved(net, reserve)
    payload = tickets.payload_for(r.id, "R")
    for outsider in (net["outsider"], f.staff(net["station"], Role.checkin)):  # another branch; a venue below
        with pytest.raises(Forbidden):
            checkin.check_in_room(payload=payload, actor=outsider, now=at(DAY, 9))
    assert r.status == ReservationStatus.approved
    checkin.check_in_room(payload=payload, actor=f.staff(net["hub"], Role.checkin), now=at(DAY, 9))
    assert r.status == ReservationStatus.checked_in


def test_a_booking_ticket_is_not_a_room_ticket_and_forgeries_stay_out(net, reserve):
    r = approved(net, reserve)
    genuine = tickets.payload_for(r.id, "R")
    forged = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    for payload in (tickets.payload_for(r.id, "B"), forged, "CN1:R999999:AAAAAAAAAAAAAAAA", "x" * 500, 42):
        with pytest.raises(InvalidTicket):
            checkin.check_in_room(payload=payload, actor=door(net), now=at(DAY, 9))
    with pytest.raises(InvalidTicket):  # the booking door does not take room tickets either
        checkin.check_in(None, payload=genuine, actor=door(net), now=at(DAY, 9))


def test_a_typed_code_finds_todays_reservation_in_scope(net, reserve):
    r = approved(net, reserve)
    code = tickets.format_code(tickets.code_for(r.id, "R"))
    with pytest.raises(InvalidTicket):  # the day before, it is not among today's reservations
        checkin.check_in_room(code=code, actor=door(net), now=at(DAY - timedelta(days=1), 9))
    with pytest.raises(InvalidTicket):  # out of scope, the code names nothing
        checkin.check_in_room(code=code, actor=net["outsider"], now=at(DAY, 9))
    admission = checkin.check_in_room(code=code.lower(), actor=door(net), now=at(DAY, 9))
    assert admission.reservation.id == r.id and r.status == ReservationStatus.checked_in


def test_a_retried_scan_id_is_answered_as_before(net, reserve):
    r = approved(net, reserve)
    payload = tickets.payload_for(r.id, "R")
    scanner = door(net)
    first = checkin.check_in_room(payload=payload, actor=scanner, now=at(DAY, 9), scan_id="scan-0001")
    again = checkin.check_in_room(payload=payload, actor=scanner, now=at(DAY, 9, 1), scan_id="scan-0001")
    assert first.created and not again.created and r.checked_in_at == at(DAY, 9)


def test_the_approval_message_carries_the_ticket_code(net, reserve):
    r = approved(net, reserve)  # staff approve: the group is told
    message = (
        db.session.execute(select(Message).where(Message.template == "room_reservation_approved")).scalars().first()
    )
    assert message is not None and message.context["code"] == tickets.code_for(r.id, "R")


def test_concurrent_scans_of_one_room_ticket_check_the_group_in_once(app, net, reserve):
    r = approved(net, reserve)
    reservation_id = r.id
    staff_ids = [door(net).id for _ in range(8)]
    f.commit()

    def attempt(i):
        checkin.check_in_room(
            payload=tickets.payload_for(reservation_id, "R"),
            actor=db.session.get(User, staff_ids[i]),
            now=at(DAY, 9) + timedelta(seconds=i),
        )

    outcomes = race(app, attempt, 8, threads=8)
    assert outcomes == {"ok": 1, "already_checked_in": 7}
    final = db.session.get(RoomReservation, reservation_id)
    db.session.refresh(final)
    assert final.status == ReservationStatus.checked_in and final.checked_in_by_id in staff_ids
    assert (
        db.session.execute(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "room_reservation.check_in")
        ).scalar_one()
        == 1
    )


# --- API --------------------------------------------------------------------------------------------


def test_the_api_gives_the_group_its_ticket_and_images(client, net):
    r = live_reservation(net)
    client.login(net["resident"].phone)
    response = client.get(f"{API}/room-reservations/{r.id}/ticket")
    assert response.status_code == 200, response.json
    assert response.json["payload"] == tickets.payload_for(r.id, "R")
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{8}", response.json["code"])
    svg = client.get(f"{API}/room-reservations/{r.id}/ticket.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    png = client.get(f"{API}/room-reservations/{r.id}/ticket.png?download=1")
    assert png.data.startswith(b"\x89PNG") and "room-ticket-" in png.headers["Content-Disposition"]
    client.post("/logout")
    client.login(f.resident().phone)
    assert client.get(f"{API}/room-reservations/{r.id}/ticket").status_code == 404


def test_the_api_refuses_a_ticket_for_a_pending_reservation(client, net):
    r = live_reservation(net, status=ReservationStatus.pending)
    client.login(net["resident"].phone)
    response = client.get(f"{API}/room-reservations/{r.id}/ticket")
    assert response.status_code == 409 and response.json["error"]["code"] == "not_confirmed"


def test_a_scan_through_the_api_checks_the_group_in_and_a_second_is_409_with_the_first_time(client, net):
    r = live_reservation(net)
    scanner = door(net)
    f.commit()
    client.login(scanner.login)
    payload = tickets.payload_for(r.id, "R")
    response = client.post(f"{API}/room-reservations/checkins", json={"payload": payload, "device_id": "door-1"})
    assert response.status_code == 201, response.json
    assert response.json["reservation_id"] == r.id and response.json["holder"] == "东风合唱团"
    assert response.json["checked_in_by"] == scanner.name and response.json["replayed"] is False
    again = client.post(f"{API}/room-reservations/checkins", json={"payload": payload})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_checked_in"
    first = datetime.fromisoformat(again.json["error"]["first_checked_in_at"])
    assert first == datetime.fromisoformat(response.json["checked_in_at"])
    db.session.expire_all()
    assert db.session.get(RoomReservation, r.id).status == ReservationStatus.checked_in


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"payload": "garbage"},
        {"payload": None, "code": "ZZZZ"},
        {"code": "K7MX-4Q2B"},
        {"payload": ["x"]},
        {"scan_id": "short"},
    ],
)
def test_bad_room_scans_are_4xx_with_a_code(client, net, body):
    live_reservation(net)
    scanner = door(net)
    f.commit()
    client.login(scanner.login)
    response = client.post(f"{API}/room-reservations/checkins", json=body)
    assert 400 <= response.status_code < 500 and response.json["error"]["code"]


def test_room_scans_are_for_door_staff_in_scope(client, net):
    r = live_reservation(net)
    payload = tickets.payload_for(r.id, "R")
    client.login(net["resident"].phone)
    assert client.post(f"{API}/room-reservations/checkins", json={"payload": payload}).status_code == 403
    client.post("/logout")
    client.login(net["outsider"].login)
    assert client.post(f"{API}/room-reservations/checkins", json={"payload": payload}).status_code == 403
    client.post("/logout")
    too_early = live_reservation(net, starts_in=timedelta(hours=3))
    scanner = door(net)
    f.commit()
    client.login(scanner.login)
    response = client.post(
        f"{API}/room-reservations/checkins", json={"payload": tickets.payload_for(too_early.id, "R")}
    )
    assert response.status_code == 409 and response.json["error"]["code"] == "too_early"
    assert "opens_at" in response.json["error"]


# --- pages --------------------------------------------------------------------------------------------


def test_the_group_sees_its_ticket_on_the_reservation_page(client, net, reserve):
    r = live_reservation(net)
    client.login(net["resident"].phone)
    html = client.get(f"/room-reservations/{r.id}").get_data(as_text=True)
    assert 'id="ticket"' in html and "data:image/svg+xml;base64," in html
    assert tickets.format_code(tickets.code_for(r.id, "R")) in html
    pending = live_reservation(net, starts_in=timedelta(hours=5), status=ReservationStatus.pending)
    html = client.get(f"/room-reservations/{pending.id}").get_data(as_text=True)
    assert 'id="ticket"' not in html


def test_the_scanner_has_a_room_mode_listing_todays_reservations(client, net):
    # Today's list is the network's local day: ten minutes from now may already be tomorrow (after 23:50 in
    # Shanghai), so the reservation then began ten minutes ago instead (and is still on).
    now = utcnow()
    soon = timedelta(minutes=10)
    r = live_reservation(net, starts_in=soon if local_today(now + soon) == local_today(now) else -soon)
    scanner = door(net)
    f.commit()
    client.login(scanner.login)
    page = client.get("/scan?rooms=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-mode="rooms"' in html
    assert 'data-room-checkin-url="/api/v1/room-reservations/checkins"' in html
    assert f'data-reservation-id="{r.id}"' in html and "东风合唱团" in html
    assert "worker-src 'self' blob:" in page.headers["Content-Security-Policy"]
    client.post("/logout")
    client.login(net["outsider"].login)
    assert f'data-reservation-id="{r.id}"' not in client.get("/scan?rooms=1").get_data(as_text=True)
