"""The release sweeper, no-show suspension, availability, closure clashes and utilisation figures."""

from datetime import timedelta

import pytest

from accounts.models import MANAGE_ROLES
from core.extensions import db
from core.i18n import to_local
from rooms import services
from rooms.jobs import release_unused
from rooms.models import ReservationStatus
from rooms.queries import availability, closure_clashes, room_utilisation
from rooms.signals import reservation_released
from tests import factories as f
from tests.rooms.fixtures import DAY, NOW, at, session_in
from venues.models import Closure


def _approved(net, reserve, day=DAY, hour=9, hours=2):
    r = reserve(at(day, hour), at(day, hour + hours))
    services.approve_reservation(r, actor=net["staff"], now=NOW)
    f.commit()
    return r


def test_an_approved_reservation_with_no_check_in_is_released_20_minutes_after_its_start(net, reserve):
    r = _approved(net, reserve)
    assert release_unused(at(DAY, 9, 19)) == 0
    released = []
    with reservation_released.connected_to(lambda s, **kw: released.append(s.id)):
        assert release_unused(at(DAY, 9, 20)) == 1
        assert release_unused(at(DAY, 9, 30)) == 0  # idempotent
    db.session.refresh(r)
    assert r.status == ReservationStatus.released and r.released_at == at(DAY, 9, 20)
    assert not r.occupancy.is_active and released == [r.id]
    assert services.no_shows(r.group, at(DAY, 10)) == 1


def test_a_checked_in_or_pending_reservation_is_not_released(net, reserve):
    r = _approved(net, reserve)
    services.check_in_reservation(r, actor=net["staff"], now=at(DAY, 9, 5))
    pending = reserve(at(DAY, 14), at(DAY, 15))
    f.commit()
    assert release_unused(at(DAY, 18)) == 0
    assert r.status == ReservationStatus.checked_in and pending.status == ReservationStatus.pending


def test_a_check_in_after_release_is_refused(net, reserve):
    r = _approved(net, reserve)
    release_unused(at(DAY, 9, 25))
    db.session.refresh(r)
    with pytest.raises(services.InvalidTransition):
        services.check_in_reservation(r, actor=net["staff"], now=at(DAY, 9, 26))


def test_three_no_shows_in_90_days_suspend_the_group_for_30_days(net, reserve):
    week = timedelta(days=7)
    for k in range(3):
        r = _approved(net, reserve, day=DAY + k * week)
        later = at(DAY + k * week, 10)
        assert release_unused(later) == 1
        db.session.refresh(r)
        suspended = r.group.suspended_until
        assert (suspended is not None) == (k == 2)
    assert suspended == at(DAY + 2 * week, 10) + timedelta(days=30)
    with pytest.raises(services.GroupSuspended) as err:
        reserve(at(DAY + 3 * week, 9), at(DAY + 3 * week, 10), now=at(DAY + 2 * week, 11))
    assert err.value.code == "suspended"
    # Thirty days later the group may reserve again.
    again = suspended + timedelta(minutes=1)
    later_day = to_local(again).date() + timedelta(days=2)
    assert reserve(at(later_day, 9), at(later_day, 10), now=again).status == ReservationStatus.pending


def test_availability_reads_sessions_and_reservations_with_the_buffer(net, reserve):
    session_in(net["room"], at(DAY, 14), at(DAY, 16))
    reserve(at(DAY, 9), at(DAY, 11))
    day = availability(net["room"], DAY)[0]
    assert day.opening == [(at(DAY, 8), at(DAY, 20))]
    assert sorted(o.source.value for o in day.taken) == ["reservation", "session"]
    assert day.free == [
        (at(DAY, 8), at(DAY, 8, 45)),
        (at(DAY, 11, 15), at(DAY, 13, 45)),
        (at(DAY, 16, 15), at(DAY, 20)),
    ]


def test_availability_of_a_closure_day_is_closed(net):
    db.session.add(Closure(venue=net["branch"], starts_on=DAY, ends_on=DAY, reason="检修"))
    db.session.flush()
    db.session.refresh(net["branch"])
    days = availability(net["room"], DAY - timedelta(days=1), 3)
    assert [bool(d.free) for d in days] == [True, False, True]
    assert days[1].closure.reason == "检修"


def test_a_new_closure_lists_the_reservations_it_clashes_with(net, reserve):
    hit = reserve(at(DAY, 9), at(DAY, 11))
    reserve(at(DAY + timedelta(days=1), 9), at(DAY + timedelta(days=1), 11))
    closure = Closure(venue=net["branch"], starts_on=DAY, ends_on=DAY, reason="停电")
    db.session.add(closure)
    db.session.flush()
    assert [(c.id, [r.id for r in rs]) for c, rs in closure_clashes(net["staff"], MANAGE_ROLES, NOW)] == [
        (closure.id, [hit.id])
    ]
    assert closure_clashes(net["outsider"], MANAGE_ROLES, NOW) == []


def test_utilisation_counts_open_reserved_and_used_hours_per_venue(net, reserve):
    used = _approved(net, reserve, hour=9, hours=2)
    services.check_in_reservation(used, actor=net["staff"], now=at(DAY, 9))
    _approved(net, reserve, hour=14, hours=3)
    reserve(at(DAY, 18), at(DAY, 19))  # pending: not counted
    rows = {u.venue.id: u for u in room_utilisation(DAY, DAY, paths=[net["branch"].path])}
    branch = rows[net["branch"].id]
    assert (branch.hours_open, branch.hours_reserved, branch.hours_used) == (12.0, 5.0, 2.0)
    assert rows[net["station"].id].hours_open == 0  # no bookable rooms there


def test_a_request_nobody_decided_expires_at_its_start_and_frees_the_room(net, reserve):
    from rooms.jobs import expire_undecided

    r = reserve(at(DAY, 9), at(DAY, 11))
    decided = _approved(net, reserve, hour=14)
    assert expire_undecided(at(DAY, 8, 59)) == 0
    told = []
    with reservation_decided_spy(told):
        assert expire_undecided(at(DAY, 9)) == 1
        assert expire_undecided(at(DAY, 16)) == 0
    db.session.refresh(r)
    assert r.status == ReservationStatus.rejected and r.decided_by_id is None and not r.occupancy.is_active
    assert told == [(r.id, False)] and decided.status == ReservationStatus.approved


def reservation_decided_spy(told):
    from rooms.signals import reservation_decided

    return reservation_decided.connected_to(lambda s, **kw: told.append((s.id, kw["approved"])))
