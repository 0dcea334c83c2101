"""A room reservation's ticket shown to the door scanner's fake camera checks the group in once."""

from datetime import timedelta

import pytest

from accounts.models import Role
from core import tickets
from core.db import utcnow
from core.extensions import db
from rooms.models import GroupKind, ReservationStatus, RoomGroup, RoomReservation
from tests import factories as f
from tests.browser.test_checkin_scanner import (  # noqa: F401  (door_server is a fixture)
    PHONE,
    _browser,
    _messages,
    _sign_in,
    _ticket_video,
    door_server,
)
from venues.models import OccupancySource
from venues.services import occupy_room

pytestmark = pytest.mark.browser


def _room_door() -> dict:
    """An approved reservation of a branch's room starting in 10 minutes, and a check-in keeper of that branch."""
    net = f.network()
    room = f.room(net["branch"], name="排练厅")
    resident = f.resident(name="李桂芳")
    group = RoomGroup(
        owner_id=resident.id,
        name="东风合唱团",
        kind=GroupKind.association,
        contact_name="王丽",
        contact_phone="13900000001",
    )
    starts_at = utcnow().replace(microsecond=0) + timedelta(minutes=10)
    occupancy = occupy_room(
        room, starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), source=OccupancySource.reservation
    )
    reservation = RoomReservation(
        room=room,
        group=group,
        requested_by_id=resident.id,
        occupancy=occupancy,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        purpose="合唱排练",
        attendees=20,
        status=ReservationStatus.approved,
        decided_at=utcnow(),
    )
    db.session.add(reservation)
    db.session.flush()
    keeper = f.staff(net["branch"], Role.checkin, login="room-keeper")
    info = {"id": reservation.id, "login": keeper.login, "payload": tickets.payload_for(reservation.id, "R")}
    f.commit()
    return info


def test_a_room_ticket_shown_to_the_camera_checks_the_group_in_once(app, door_server, tmp_path):  # noqa: F811
    info = _room_door()
    video = _ticket_video(info["payload"], tmp_path)
    pw, browser = _browser(
        [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
    )
    try:
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
        context.grant_permissions(["camera"], origin=door_server)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _sign_in(page, door_server, info["login"])
        page.goto(f"{door_server}/scan")
        page.click("#rooms-link")
        page.wait_for_selector("#scanner[data-camera=on]", timeout=15_000)
        page.wait_for_selector("#scan-result[data-state=ok]", timeout=15_000)
        assert page.inner_text("#scan-headline") == _messages(app)["admitted"]
        assert "东风合唱团" in page.inner_text("#scan-detail")
        # The camera keeps seeing the ticket: the next read is refused as already used.
        page.wait_for_selector("#scan-result[data-state=warn]", timeout=15_000)
        assert page.inner_text("#scan-headline") == _messages(app)["already_checked_in"]
        assert not errors, errors
    finally:
        browser.close()
        pw.stop()
    reservation = db.session.get(RoomReservation, info["id"])
    db.session.refresh(reservation)
    assert reservation.status == ReservationStatus.checked_in and reservation.checked_in_by.login == "room-keeper"
    db.session.rollback()
