"""The rules of room reservations, at the service level, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from accounts.models import Role
from core.errors import Forbidden, Invalid
from core.extensions import db
from rooms import services
from rooms.models import ReservationStatus, RoomGroup
from rooms.signals import reservation_cancelled, reservation_decided
from tests import factories as f
from tests.rooms.fixtures import DAY, NOW, at, payload, session_in
from venues.models import Closure, RoomOccupancy
from venues.services import RoomConflict


def test_a_request_waits_for_approval_and_holds_the_slot(net, reserve):
    r = reserve(at(DAY, 9), at(DAY, 11))
    assert r.status == ReservationStatus.pending
    assert r.occupancy.is_active and r.occupancy.source.value == "reservation" and r.occupancy.source_id == r.id
    with pytest.raises(RoomConflict) as err:
        reserve(at(DAY, 10), at(DAY, 12), actor=f.resident())
    assert err.value.extra["conflicts"][0]["source_id"] == r.id


def test_a_self_service_room_is_approved_at_once(net, reserve):
    net["room"].is_self_service = True
    assert reserve(at(DAY, 9), at(DAY, 11)).status == ReservationStatus.approved


def test_staff_approve_in_scope_and_the_group_is_told(net, reserve):
    r = reserve(at(DAY, 9), at(DAY, 11))
    sent = []
    with reservation_decided.connected_to(lambda s, **kw: sent.append((s, kw["approved"]))):
        services.approve_reservation(r, actor=net["staff"], now=NOW)
    assert r.status == ReservationStatus.approved and r.decided_by_id == net["staff"].id
    assert sent == [(r, True)]


def test_staff_out_of_scope_cannot_decide(net, reserve):
    r = reserve(at(DAY, 9), at(DAY, 11))
    with pytest.raises(Forbidden):
        services.approve_reservation(r, actor=net["outsider"], now=NOW)
    with pytest.raises(Forbidden):
        services.reject_reservation(r, reason="不行", actor=net["resident"], now=NOW)
    assert r.status == ReservationStatus.pending


def test_a_rejection_needs_a_reason_and_frees_the_room(net, reserve):
    r = reserve(at(DAY, 9), at(DAY, 11))
    with pytest.raises(Invalid):
        services.reject_reservation(r, reason="  ", actor=net["staff"], now=NOW)
    sent = []
    with reservation_decided.connected_to(lambda s, **kw: sent.append(kw["reason"])):
        services.reject_reservation(r, reason="当天有演出", actor=net["staff"], now=NOW)
    assert r.status == ReservationStatus.rejected and r.decision_reason == "当天有演出"
    assert sent == ["当天有演出"]
    assert not r.occupancy.is_active
    assert reserve(at(DAY, 9), at(DAY, 11), actor=f.resident()).status == ReservationStatus.pending


def test_a_decided_request_cannot_be_decided_again(net, reserve):
    r = reserve(at(DAY, 9), at(DAY, 11))
    services.approve_reservation(r, actor=net["staff"], now=NOW)
    with pytest.raises(services.InvalidTransition):
        services.reject_reservation(r, reason="改主意", actor=net["staff"], now=NOW)
    with pytest.raises(services.InvalidTransition):
        services.approve_reservation(r, actor=net["staff"], now=NOW)


def test_the_group_cancels_before_the_start_and_staff_cancel_with_a_reason(net, reserve):
    mine = reserve(at(DAY, 9), at(DAY, 11))
    services.cancel_reservation(mine, actor=net["resident"], now=NOW)
    assert mine.status == ReservationStatus.cancelled and not mine.occupancy.is_active
    theirs = reserve(at(DAY, 12), at(DAY, 14))
    services.approve_reservation(theirs, actor=net["staff"], now=NOW)
    with pytest.raises(Invalid):
        services.cancel_reservation(theirs, reason="", actor=net["staff"], now=NOW)
    told = []
    with reservation_cancelled.connected_to(lambda s, **kw: told.append((kw["by_staff"], kw["reason"]))):
        services.cancel_reservation(theirs, reason="场馆维修", actor=net["staff"], now=NOW)
    assert told == [(True, "场馆维修")] and theirs.status == ReservationStatus.cancelled


def test_the_group_cannot_cancel_once_started(net, reserve):
    r = reserve(at(DAY, 9), at(DAY, 11))
    with pytest.raises(services.InvalidTransition):
        services.cancel_reservation(r, actor=net["resident"], now=at(DAY, 9, 5))


@pytest.mark.parametrize(
    "start,end,field",
    [
        ((DAY, 12), (DAY, 11), "ends_at"),  # start after end
        ((DAY, 12), (DAY, 12), "ends_at"),  # zero length
        ((DAY, 9), (DAY, 14), "ends_at"),  # five hours in a four-hour room
    ],
)
def test_bad_times_are_invalid_and_nothing_is_reserved(net, reserve, start, end, field):
    with pytest.raises(Invalid) as err:
        reserve(at(*start), at(*end))
    assert field in err.value.extra["fields"]
    assert db.session.query(RoomOccupancy).count() == 0


def test_a_time_without_zone_is_invalid(net, reserve):
    with pytest.raises(Invalid):
        reserve(at(DAY, 9).replace(tzinfo=None), at(DAY, 11).replace(tzinfo=None))


def test_a_slot_in_the_past_is_invalid(net, reserve):
    with pytest.raises(Invalid) as err:
        reserve(at(DAY, 9), at(DAY, 11), now=at(DAY, 10))
    assert "starts_at" in err.value.extra["fields"]


def test_same_day_is_too_soon_and_beyond_30_days_too_far(net, reserve):
    with pytest.raises(services.TooSoon):
        reserve(at(DAY, 15), at(DAY, 16), now=at(DAY, 9))
    with pytest.raises(services.TooFarAhead):
        reserve(at(DAY + timedelta(days=31), 9), at(DAY + timedelta(days=31), 10), now=at(DAY, 9))
    assert (
        reserve(at(DAY + timedelta(days=30), 9), at(DAY + timedelta(days=30), 10), now=at(DAY, 19)).status
        == ReservationStatus.pending
    )


def test_outside_opening_hours_is_closed_hours(net, reserve):
    with pytest.raises(services.ClosedHours):
        reserve(at(DAY, 7), at(DAY, 9))
    with pytest.raises(services.ClosedHours):
        reserve(at(DAY, 19), at(DAY, 21))
    assert reserve(at(DAY, 8), at(DAY, 12)).status == ReservationStatus.pending
    assert reserve(at(DAY, 16), at(DAY, 20)).status == ReservationStatus.pending


def test_a_closure_day_is_closed(net, reserve):
    db.session.add(Closure(venue=net["branch"], starts_on=DAY, ends_on=DAY, reason="设备检修"))
    with pytest.raises(services.VenueClosed) as err:
        reserve(at(DAY, 9), at(DAY, 11))
    assert err.value.code == "closed" and err.value.extra["reason"] == "设备检修"


def test_more_people_than_the_room_holds_is_invalid(net, reserve):
    with pytest.raises(Invalid) as err:
        reserve(at(DAY, 9), at(DAY, 11), attendees=41)
    assert "attendees" in err.value.extra["fields"]


@pytest.mark.parametrize("change", [{"is_bookable": False}, {"is_active": False}])
def test_a_room_that_is_not_bookable_is_refused(net, reserve, change):
    for key, value in change.items():
        setattr(net["room"], key, value)
    with pytest.raises(Invalid) as err:
        reserve(at(DAY, 9), at(DAY, 11))
    assert "room_id" in err.value.extra["fields"]


def test_activity_sessions_and_the_15_minute_buffer_block_the_room(net, reserve):
    session_in(net["room"], at(DAY, 14), at(DAY, 16))
    with pytest.raises(RoomConflict) as err:
        reserve(at(DAY, 12), at(DAY, 13, 50))
    assert err.value.extra["conflicts"][0]["source"] == "session"
    with pytest.raises(RoomConflict):
        reserve(at(DAY, 16, 10), at(DAY, 18))
    assert reserve(at(DAY, 12), at(DAY, 13, 45)).status == ReservationStatus.pending
    assert reserve(at(DAY, 16, 15), at(DAY, 18), actor=f.resident()).status == ReservationStatus.pending


def test_the_group_is_remembered_for_next_time(net, reserve):
    first = reserve(at(DAY, 9), at(DAY, 10))
    second = services.request_reservation(
        net["room"], data={**payload(at(DAY, 12), at(DAY, 13)), "group": None}, actor=net["resident"], now=NOW
    )
    assert second.group_id == first.group_id
    assert db.session.query(RoomGroup).count() == 1
    other = f.resident()
    with pytest.raises(Invalid):
        services.request_reservation(
            net["room"],
            data={**payload(at(DAY, 15), at(DAY, 16)), "group": {"id": first.group_id}},
            actor=other,
            now=NOW,
        )
    with pytest.raises(Invalid):  # a first request must say which group
        services.request_reservation(
            net["room"], data={**payload(at(DAY, 15), at(DAY, 16)), "group": None}, actor=other, now=NOW
        )


def test_a_bad_contact_phone_is_invalid(net, reserve):
    with pytest.raises(Invalid) as err:
        reserve(at(DAY, 9), at(DAY, 10), group={"name": "舞蹈队", "contact_phone": "12345"})
    assert "group.contact_phone" in err.value.extra["fields"]


def test_a_weekly_rehearsal_for_ten_weeks_books_the_free_dates_and_names_the_clashes(net, reserve):
    week = timedelta(days=7)
    db.session.add(Closure(venue=net["branch"], starts_on=DAY + 2 * week, ends_on=DAY + 2 * week, reason="元旦"))
    session_in(net["room"], at(DAY + 4 * week, 18), at(DAY + 4 * week, 20))
    result = reserve(at(DAY, 18), at(DAY, 19, 50), repeat_weekly_until=DAY + 9 * week)
    assert len(result.booked) == 8
    assert {r.starts_at for r in result.booked} == {at(DAY + k * week, 18) for k in range(10) if k not in (2, 4)}
    assert [(s["date"], s["code"]) for s in result.skipped] == [
        (DAY + 2 * week, "closed"),
        (DAY + 4 * week, "conflict"),
    ]
    assert result.skipped[1]["conflicts"][0]["source"] == "session"
    assert len({r.series_id for r in result.booked}) == 1


def test_a_weekly_series_outside_opening_hours_reports_every_date_as_closed_hours(net, reserve):
    week = timedelta(days=7)
    result = reserve(at(DAY, 19), at(DAY, 21), repeat_weekly_until=DAY + 2 * week)
    assert result.booked == []
    assert [(s["date"], s["code"]) for s in result.skipped] == [(DAY + k * week, "closed_hours") for k in range(3)]


def test_a_weekly_series_cannot_end_before_it_starts_or_run_for_ever(net, reserve):
    with pytest.raises(Invalid):
        reserve(at(DAY, 18), at(DAY, 19), repeat_weekly_until=DAY - timedelta(days=1))
    with pytest.raises(Invalid):
        reserve(at(DAY, 18), at(DAY, 19), repeat_weekly_until=DAY + timedelta(weeks=30))


def test_check_in_from_half_an_hour_before_and_only_once(net, reserve):
    r = reserve(at(DAY, 9), at(DAY, 11))
    services.approve_reservation(r, actor=net["staff"], now=NOW)
    door = f.staff(net["station"].parent, Role.checkin)
    with pytest.raises(services.TooEarly):
        services.check_in_reservation(r, actor=door, now=at(DAY, 8, 20))
    services.check_in_reservation(r, actor=door, now=at(DAY, 8, 40))
    assert r.status == ReservationStatus.checked_in and r.checked_in_at == at(DAY, 8, 40)
    with pytest.raises(services.AlreadyCheckedIn) as err:
        services.check_in_reservation(r, actor=door, now=at(DAY, 9))
    assert err.value.extra["first_checked_in_at"] == at(DAY, 8, 40)


def test_a_pending_request_cannot_be_checked_in(net, reserve):
    r = reserve(at(DAY, 9), at(DAY, 11))
    with pytest.raises(services.InvalidTransition):
        services.check_in_reservation(r, actor=net["staff"], now=at(DAY, 9))
