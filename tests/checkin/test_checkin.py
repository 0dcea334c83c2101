"""Check-in rules through the service: the window, scope, the ticket's session, once per person per session."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from activities import services as activities
from bookings.jobs import mark_no_shows
from bookings.models import BookingStatus
from checkin import services as checkin
from checkin.models import CheckIn, CheckInConflict, CheckInSource, WalkIn
from checkin.services import AlreadyCheckedIn, Cancelled, NotConfirmed, ScanItem, TooEarly, TooLate, WrongSession
from core import tickets
from core.errors import Forbidden, Invalid
from core.extensions import db
from core.tickets import InvalidTicket
from tests import activity_factories as af
from tests import factories as f


def door(kind: str = "event", sessions: int = 1, **fields) -> SimpleNamespace:
    """An activity at a township station with one booking, door staff there, and a time inside the window."""
    net = f.network()
    act = af.activity(net["station"], kind=kind, sessions=sessions, **fields)
    session = af.first_session(act)
    holder = f.resident(name="张秀兰")
    booking = af.book(holder, act, party_size=2)
    scanner = f.staff(net["station"], Role.checkin)
    return SimpleNamespace(
        net=net,
        act=act,
        session=session,
        holder=holder,
        booking=booking,
        scanner=scanner,
        at=session.starts_at - timedelta(minutes=30),
    )


def checkins() -> int:
    return db.session.execute(select(func.count(CheckIn.id))).scalar_one()


def test_a_confirmed_ticket_is_admitted_once_with_its_party_and_a_masked_name(app):
    d = door()
    admission = checkin.check_in(d.session, payload=tickets.payload_for(d.booking.id), actor=d.scanner, now=d.at)
    assert admission.created
    assert admission.holder == "张*兰"
    assert admission.checkin.party_size == 2 and admission.checkin.session_id == d.session.id
    assert admission.checkin.checked_in_at == d.at and admission.checkin.checked_in_by_id == d.scanner.id
    assert admission.checkin.source == CheckInSource.scan
    assert d.booking.checked_in_at == d.at and d.booking.checked_in_by_id == d.scanner.id
    assert checkins() == 1


def test_second_scan_of_a_ticket_is_refused_with_first_time_and_who(app):
    d = door()
    payload = tickets.payload_for(d.booking.id)
    checkin.check_in(d.session, payload=payload, actor=d.scanner, now=d.at)
    other = f.staff(d.net["branch"], Role.staff)
    with pytest.raises(AlreadyCheckedIn) as err:
        checkin.check_in(d.session, payload=payload, actor=other, now=d.at + timedelta(minutes=5))
    assert err.value.status == 409
    assert err.value.extra["first_checked_in_at"] == d.at
    assert err.value.extra["checked_in_by"] == d.scanner.name
    assert checkins() == 1


def test_a_retried_scan_with_the_same_scan_id_is_answered_as_before(app):
    d = door()
    payload = tickets.payload_for(d.booking.id)
    first = checkin.check_in(d.session, payload=payload, actor=d.scanner, now=d.at, scan_id="scan-0001")
    again = checkin.check_in(
        d.session, payload=payload, actor=d.scanner, now=d.session.ends_at + timedelta(hours=1), scan_id="scan-0001"
    )
    assert first.created and not again.created
    assert again.checkin.id == first.checkin.id
    assert checkins() == 1


def test_a_scan_id_reused_for_another_ticket_is_invalid(app):
    d = door()
    checkin.check_in(
        d.session, payload=tickets.payload_for(d.booking.id), actor=d.scanner, now=d.at, scan_id="scan-0001"
    )
    other = af.book(f.resident(), d.act)
    with pytest.raises(Invalid):
        checkin.check_in(
            d.session, payload=tickets.payload_for(other.id), actor=d.scanner, now=d.at, scan_id="scan-0001"
        )


@pytest.mark.parametrize(
    "offset, error",
    [
        (timedelta(minutes=-61), TooEarly),
        (timedelta(minutes=-60), None),
        (timedelta(0), None),
    ],
)
def test_the_door_opens_an_hour_before_the_start(app, offset, error):
    d = door()
    at = d.session.starts_at + offset
    payload = tickets.payload_for(d.booking.id)
    if error is None:
        assert checkin.check_in(d.session, payload=payload, actor=d.scanner, now=at).created
    else:
        with pytest.raises(error) as err:
            checkin.check_in(d.session, payload=payload, actor=d.scanner, now=at)
        assert err.value.extra["opens_at"] == d.session.starts_at - timedelta(minutes=60)
        assert checkins() == 0


def test_the_door_closes_when_the_session_ends(app):
    d = door()
    payload = tickets.payload_for(d.booking.id)
    with pytest.raises(TooLate):
        checkin.check_in(d.session, payload=payload, actor=d.scanner, now=d.session.ends_at + timedelta(seconds=1))
    assert checkin.check_in(d.session, payload=payload, actor=d.scanner, now=d.session.ends_at).created


def test_a_ticket_for_another_session_of_the_event_is_refused(app):
    d = door(sessions=2)
    second = d.act.sessions[1]
    later = af.book(f.resident(), d.act, second)
    with pytest.raises(WrongSession) as err:
        checkin.check_in(d.session, payload=tickets.payload_for(later.id), actor=d.scanner, now=d.at)
    assert err.value.extra["ticket_session_id"] == second.id
    assert checkins() == 0


@pytest.mark.parametrize("by", ["payload", "code"])
def test_typed_and_scanned_tickets_of_another_session_get_the_same_answer(app, by):
    d = door(sessions=2)
    second = d.act.sessions[1]
    later = af.book(f.resident(), d.act, second)
    ticket = {"payload": tickets.payload_for(later.id)} if by == "payload" else {"code": tickets.code_for(later.id)}
    with pytest.raises(WrongSession) as err:
        checkin.check_in(d.session, **ticket, actor=d.scanner, now=d.at)
    assert err.value.extra["ticket_session_id"] == second.id
    assert err.value.extra["ticket_starts_at"] == second.starts_at  # the page shows its date and its time
    assert checkins() == 0


def test_a_typed_code_of_another_activity_at_the_venue_that_day_is_wrong_session_and_garbage_is_invalid(app):
    d = door()
    other = af.activity(d.net["station"], kind="event", title="另一场演出")
    ticket = af.book(f.resident(), other)
    with pytest.raises(WrongSession) as err:
        checkin.check_in(d.session, code=tickets.code_for(ticket.id), actor=d.scanner, now=d.at)
    assert err.value.extra["ticket_activity"] == "另一场演出"
    unknown = tickets.code_for(99_999)  # well-formed, no such booking
    with pytest.raises(InvalidTicket):
        checkin.check_in(d.session, code=unknown, actor=d.scanner, now=d.at)
    assert checkins() == 0


def test_another_venues_ticket_is_wrong_session_at_this_door_and_forbidden_without_a_session(app):
    d = door()
    elsewhere = af.activity(d.net["other_branch"])
    theirs = af.book(f.resident(), elsewhere)
    payload = tickets.payload_for(theirs.id)
    with pytest.raises(WrongSession):
        checkin.check_in(d.session, payload=payload, actor=d.scanner, now=d.at)
    with pytest.raises(Forbidden):
        checkin.check_in(None, payload=payload, actor=d.scanner, now=d.at)
    assert checkins() == 0


def test_a_scanner_out_of_scope_is_forbidden(app):
    d = door()
    outsider = f.staff(d.net["sibling"], Role.checkin)
    with pytest.raises(Forbidden):
        checkin.check_in(d.session, payload=tickets.payload_for(d.booking.id), actor=outsider, now=d.at)
    resident = f.resident()
    with pytest.raises(Forbidden):
        checkin.check_in(d.session, payload=tickets.payload_for(d.booking.id), actor=resident, now=d.at)
    assert checkins() == 0


def test_staff_higher_up_the_tree_may_check_in(app):
    d = door()
    hub_manager = f.staff(d.net["hub"], Role.manager)
    assert checkin.check_in(None, payload=tickets.payload_for(d.booking.id), actor=hub_manager, now=d.at).created


def test_a_cancelled_booking_is_refused_as_cancelled(app):
    d = door()
    d.booking.set_status(BookingStatus.cancelled)
    db.session.flush()
    with pytest.raises(Cancelled) as err:
        checkin.check_in(d.session, payload=tickets.payload_for(d.booking.id), actor=d.scanner, now=d.at)
    assert err.value.code == "cancelled"
    assert checkins() == 0


def test_a_cancelled_session_refuses_its_tickets(app):
    d = door()
    staff = f.staff(d.net["station"])
    activities.cancel_session(d.session, reason="暴雨", actor=staff, now=af.now())
    with pytest.raises(Cancelled):
        checkin.check_in(d.session, payload=tickets.payload_for(d.booking.id), actor=d.scanner, now=d.at)


def test_a_waitlisted_booking_is_not_admitted(app):
    d = door(capacity=2)
    waiting = af.book(f.resident(), d.act)
    assert waiting.status == BookingStatus.waitlisted
    with pytest.raises(NotConfirmed):
        checkin.check_in(d.session, payload=tickets.payload_for(waiting.id), actor=d.scanner, now=d.at)


@pytest.mark.parametrize(
    "payload", ["garbage", "https://weixin.qq.com/x", "CN1:B999999:AAAAAAAAAAAAAAAA", "x" * 100_000, ""]
)
def test_bad_payloads_are_invalid_tickets_and_nothing_is_recorded(app, payload):
    d = door()
    with pytest.raises(InvalidTicket):
        checkin.check_in(d.session, payload=payload, actor=d.scanner, now=d.at)
    assert checkins() == 0


def test_a_genuine_ticket_of_a_booking_that_no_longer_exists_is_invalid(app):
    d = door()
    with pytest.raises(InvalidTicket):
        checkin.check_in(d.session, payload=tickets.payload_for(d.booking.id + 1000), actor=d.scanner, now=d.at)


def test_a_typed_code_checks_in_against_the_chosen_session(app):
    d = door()
    code = tickets.format_code(tickets.code_for(d.booking.id)).lower()
    admission = checkin.check_in(d.session, code=code, actor=d.scanner, now=d.at)
    assert admission.created and admission.checkin.source == CheckInSource.code
    with pytest.raises(AlreadyCheckedIn):
        checkin.check_in(d.session, payload=tickets.payload_for(d.booking.id), actor=d.scanner, now=d.at)


def test_an_unknown_code_or_a_code_without_session_is_refused(app):
    d = door()
    other = af.activity(d.net["sibling"], title="另一场")  # another venue's: not looked for at this door
    theirs = af.book(f.resident(), other)
    with pytest.raises(InvalidTicket):
        checkin.check_in(d.session, code=tickets.code_for(theirs.id), actor=d.scanner, now=d.at)
    with pytest.raises(InvalidTicket):
        checkin.check_in(d.session, code="ZZZZ-ZZZZ", actor=d.scanner, now=d.at)
    with pytest.raises(Invalid):
        checkin.check_in(None, code=tickets.code_for(d.booking.id), actor=d.scanner, now=d.at)
    with pytest.raises(Invalid):
        checkin.check_in(d.session, actor=d.scanner, now=d.at)
    assert checkins() == 0


def test_each_lesson_of_a_course_is_checked_in_once(app):
    d = door(kind="course", sessions=3)
    first, second = d.act.sessions[0], d.act.sessions[1]
    payload = tickets.payload_for(d.booking.id)
    checkin.check_in(first, payload=payload, actor=d.scanner, now=d.at)
    with pytest.raises(AlreadyCheckedIn):
        checkin.check_in(first, payload=payload, actor=d.scanner, now=d.at + timedelta(minutes=1))
    # Without a chosen session the lesson whose door is open is used.
    lesson_two = checkin.check_in(None, payload=payload, actor=d.scanner, now=second.starts_at)
    assert lesson_two.checkin.session_id == second.id
    assert checkins() == 2
    assert d.booking.checked_in_at == d.at  # the first attendance stays on the booking
    with pytest.raises(TooEarly):
        checkin.check_in(None, payload=payload, actor=d.scanner, now=second.ends_at + timedelta(days=1))


def test_a_course_ticket_at_another_activitys_lesson_is_wrong_session(app):
    d = door(kind="course", sessions=2)
    other = af.activity(d.net["station"], title="书法班", kind="course", sessions=1)
    with pytest.raises(WrongSession):
        checkin.check_in(
            other.sessions[0],
            payload=tickets.payload_for(d.booking.id),
            actor=d.scanner,
            now=other.sessions[0].starts_at,
        )


def test_no_show_marking_spares_who_checked_in(app):
    d = door()
    absent = af.book(f.resident(), d.act)
    checkin.check_in(d.session, payload=tickets.payload_for(d.booking.id), actor=d.scanner, now=d.at)
    db.session.commit()
    assert mark_no_shows(d.session.ends_at + timedelta(minutes=1)) == 1
    db.session.refresh(absent)
    db.session.refresh(d.booking)
    assert absent.status == BookingStatus.no_show
    assert d.booking.status == BookingStatus.confirmed


def test_a_scan_time_in_the_future_is_invalid(app):
    d = door()
    with pytest.raises(Invalid):
        checkin.check_in(
            d.session,
            payload=tickets.payload_for(d.booking.id),
            actor=d.scanner,
            now=d.at,
            scanned_at=d.at + timedelta(minutes=10),
        )


# --- offline sync ---------------------------------------------------------------------------------


def _item(d, booking, scan_id, *, minutes=0, device="phone-a"):
    return ScanItem(
        scan_id=scan_id,
        scanned_at=d.at + timedelta(minutes=minutes),
        device_id=device,
        payload=tickets.payload_for(booking.id),
        session=d.session,
        session_id=d.session.id,
    )


def test_offline_scans_sync_with_their_own_times_and_a_replay_changes_nothing(app):
    d = door()
    second = af.book(f.resident(name="李四"), d.act)
    batch = [_item(d, d.booking, "scan-a-0001", minutes=1), _item(d, second, "scan-a-0002", minutes=2)]
    now = d.at + timedelta(minutes=20)
    results = checkin.sync_scans(batch, actor=d.scanner, now=now)
    assert [r["status"] for r in results] == ["admitted", "admitted"]
    assert d.booking.checked_in_at == d.at + timedelta(minutes=1)
    stored = db.session.execute(select(CheckIn).order_by(CheckIn.id)).scalars().all()
    assert [c.source for c in stored] == [CheckInSource.sync, CheckInSource.sync]
    replay = checkin.sync_scans(batch, actor=d.scanner, now=now + timedelta(minutes=5))
    assert [r["status"] for r in replay] == ["admitted", "admitted"]
    assert all(r["replayed"] for r in replay)
    assert checkins() == 2


def test_a_ticket_admitted_on_two_offline_devices_is_counted_once_and_flagged(app):
    d = door()
    now = d.at + timedelta(minutes=20)
    first = checkin.sync_scans([_item(d, d.booking, "scan-a-0001", minutes=1)], actor=d.scanner, now=now)
    other_phone = f.staff(d.net["station"], Role.checkin)
    second = checkin.sync_scans(
        [_item(d, d.booking, "scan-b-0001", minutes=3, device="phone-b")], actor=other_phone, now=now
    )
    assert first[0]["status"] == "admitted"
    assert second[0]["status"] == "rejected" and second[0]["code"] == "already_checked_in"
    assert second[0]["conflict"] is True
    again = checkin.sync_scans(
        [_item(d, d.booking, "scan-b-0001", minutes=3, device="phone-b")], actor=other_phone, now=now
    )
    assert again[0]["conflict"] is True
    assert checkins() == 1
    conflicts = db.session.execute(select(CheckInConflict)).scalars().all()
    assert len(conflicts) == 1 and conflicts[0].device_id == "phone-b" and conflicts[0].scanned_by_id == other_phone.id


def test_a_bad_item_in_a_batch_does_not_stop_the_others(app):
    d = door()
    bad = ScanItem(
        scan_id="scan-x-0001", scanned_at=d.at, payload="nonsense", session=d.session, session_id=d.session.id
    )
    unknown_session = ScanItem(
        scan_id="scan-x-0002",
        scanned_at=d.at,
        payload=tickets.payload_for(d.booking.id),
        session=None,
        session_id=999999,
    )
    results = checkin.sync_scans(
        [bad, unknown_session, _item(d, d.booking, "scan-x-0003")], actor=d.scanner, now=d.at + timedelta(minutes=1)
    )
    assert [r.get("code") for r in results][:2] == ["invalid_ticket", "wrong_session"]
    assert results[2]["status"] == "admitted"
    assert checkins() == 1


def test_late_synced_scans_are_judged_at_their_scan_time(app):
    d = door()
    after_the_end = d.session.ends_at + timedelta(hours=3)
    results = checkin.sync_scans([_item(d, d.booking, "scan-a-0001", minutes=10)], actor=d.scanner, now=after_the_end)
    assert results[0]["status"] == "admitted"


# --- walk-ins -------------------------------------------------------------------------------------


def test_walk_ins_add_up_per_session_and_a_retry_adds_nothing(app):
    d = door()
    assert checkin.count_walk_ins(d.session, count=3, actor=d.scanner, now=d.at, scan_id="walk-0001") == 3
    assert checkin.count_walk_ins(d.session, count=3, actor=d.scanner, now=d.at, scan_id="walk-0001") == 3
    assert checkin.count_walk_ins(d.session, count=1, actor=d.scanner, now=d.at) == 4
    assert db.session.execute(select(func.count(WalkIn.id))).scalar_one() == 2
    day = d.session.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    assert checkin.walk_ins_on(d.act.id, day) == 4


@pytest.mark.parametrize("count", [0, -1, 501])
def test_walk_in_counts_out_of_range_are_invalid(app, count):
    d = door()
    with pytest.raises(Invalid):
        checkin.count_walk_ins(d.session, count=count, actor=d.scanner, now=d.at)


def test_walk_ins_need_scope_and_the_day_of_the_session(app):
    d = door()
    with pytest.raises(Forbidden):
        checkin.count_walk_ins(d.session, count=1, actor=f.staff(d.net["sibling"], Role.checkin), now=d.at)
    with pytest.raises(TooEarly):
        checkin.count_walk_ins(d.session, count=1, actor=d.scanner, now=d.session.starts_at - timedelta(days=1))
    with pytest.raises(TooLate):
        checkin.count_walk_ins(d.session, count=1, actor=d.scanner, now=d.session.ends_at + timedelta(days=1))


def _exhibition(net, days_from: int = -1, days_to: int = 3):
    from core.i18n import local_today

    today = local_today()
    return af.activity(
        net["station"],
        kind="exhibition",
        sessions=0,
        title="油城春潮摄影展",
        policy="walk_in",
        starts_on=today + timedelta(days=days_from),
        ends_on=today + timedelta(days=days_to),
    )


def test_an_exhibitions_walk_ins_are_counted_per_day(app):
    net = f.network()
    show = _exhibition(net)
    keeper = f.staff(net["station"], Role.checkin)
    day, total = checkin.count_day_walk_ins(show, count=12, actor=keeper, scan_id="day-walk-0001")
    assert total == 12
    assert checkin.count_day_walk_ins(show, count=12, actor=keeper, scan_id="day-walk-0001")[1] == 12
    assert checkin.count_day_walk_ins(show, count=3, actor=keeper)[1] == 15
    assert checkin.walk_ins_on(show.id, day) == 15
    assert checkin.walk_ins_on(show.id, day + timedelta(days=1)) == 0


def test_exhibition_walk_ins_need_its_dates_scope_and_an_exhibition(app):
    net = f.network()
    later = _exhibition(net, days_from=2, days_to=5)
    keeper = f.staff(net["station"], Role.checkin)
    with pytest.raises(TooEarly):
        checkin.count_day_walk_ins(later, count=1, actor=keeper)
    with pytest.raises(Forbidden):
        checkin.count_day_walk_ins(_exhibition(net), count=1, actor=f.staff(net["sibling"], Role.checkin))
    event = af.activity(net["station"])
    with pytest.raises(Invalid):
        checkin.count_day_walk_ins(event, count=1, actor=keeper)


def test_check_ins_walk_ins_and_conflicts_are_audited_once(app):
    from core.audit import AuditEntry

    d = door()
    payload = tickets.payload_for(d.booking.id)
    checkin.check_in(d.session, payload=payload, actor=d.scanner, now=d.at, scan_id="scan-0001")
    checkin.check_in(d.session, payload=payload, actor=d.scanner, now=d.at, scan_id="scan-0001")  # replay
    checkin.count_walk_ins(d.session, count=2, actor=d.scanner, now=d.at, scan_id="walk-0001")
    checkin.count_walk_ins(d.session, count=2, actor=d.scanner, now=d.at, scan_id="walk-0001")  # replay
    checkin.sync_scans([_item(d, d.booking, "scan-b-0001", device="phone-b")], actor=d.scanner, now=d.at)
    entries = (
        db.session.execute(
            select(AuditEntry)
            .where(AuditEntry.action.like("checkin.%") | AuditEntry.action.like("walk_ins.%"))
            .order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert [e.action for e in entries] == ["checkin.create", "walk_ins.count", "checkin.conflict"]
    assert entries[0].actor_id == d.scanner.id and entries[0].details["booking_id"] == d.booking.id
