"""PIPL requests are complete (issue 18, finding 3).

The attack: `/account/data.json` held the account, family and room reservations but no bookings, orders
(with contact phone and address), messages, strikes, suspensions or check-ins; after `/account/delete`
service orders still held the phone and address, future bookings stayed confirmed (holding seats) and their
reminders stayed queued, while the page said the data was gone.

Here a resident has something in every package; the download must show each part, and after one delete
request no row of any table still holds their name, phone, address or family member's name.
"""

from datetime import time, timedelta

import sqlalchemy as sa

from accounts.models import LoginThrottle, Role, SmsCode, User
from bookings.models import Booking, BookingStatus, Suspension
from checkin import services as door
from checkin.models import CheckIn
from core import tickets
from core.extensions import db
from core.i18n import local_datetime, local_today
from notify.models import Message, State
from orders import services as orders
from orders.models import OrderStatus, ServiceOrder
from orders.services import loads
from rooms import services as rooms
from rooms.models import ReservationStatus, RoomReservation
from tests import activity_factories as af
from tests import factories as f
from tests.orders import factories as o

PHONE, NAME, CHILD, ADDRESS, CONTACT = "13800000061", "李桂芳", "王小明", "幸福小区广场三号楼", "13900000077"
SECRETS = (PHONE, NAME, CHILD, ADDRESS, CONTACT, "110101201601011234")


def _world():
    """A resident with a seat (someone waiting behind it), a waiting-list place, a lottery entry, an attended
    session with its check-in, a strike and a suspension, two orders, a room request, and queued reminders."""
    w = o.world()
    now = af.now()
    me = f.resident(PHONE, name=NAME)
    child = af.member(me, name=CHILD, id_number=SECRETS[-1])
    w["me"], w["child"] = me, child

    seat_act = af.activity(w["station"], capacity=2, title="书法讲座")
    w["seat"] = af.book(me, seat_act, party_size=2, participant_ids=[me.self_participant.id, child.id])
    w["behind"] = af.book(f.resident(), seat_act)  # waiting for the seats
    full = af.activity(w["station"], capacity=1, title="剪纸课")
    af.book(f.resident(), full)
    w["waiting"] = af.book(me, full)
    lottery = af.activity(w["station"], policy="lottery", capacity=2, signup_closes_at=now + timedelta(days=2))
    w["entry"] = af.book(me, lottery)

    door_act = af.activity(w["station"], starts_in=timedelta(minutes=30), title="戏曲欣赏")
    w["attended"] = af.book(me, door_act)
    scanner = f.staff(w["station"], Role.checkin)
    door.check_in(af.first_session(door_act), payload=tickets.payload_for(w["attended"].id), actor=scanner, now=now)
    missed = af.book(me, af.activity(w["station"], title="旧讲座"))
    missed.set_status(BookingStatus.no_show)
    missed.is_active, missed.counted_as_no_show, missed.no_show_at = False, True, now - timedelta(days=3)
    db.session.add(Suspension(user_id=me.id, starts_at=now - timedelta(days=40), ends_at=now - timedelta(days=10)))

    group = {"group_name": "幸福小区舞蹈队", "address": ADDRESS, "contact_phone": CONTACT}
    district = w["community"].district_code
    w["open_order"] = o.order(w["film"], me, None, district_code=district, **group)
    w["accepted_order"] = o.order(w["film"], me, None, district_code=district, dates=[o.day(14)], **group)

    room = f.room(w["branch"], name="排练厅")
    starts = local_datetime(local_today(now) + timedelta(days=3), time(10))
    group = {"name": "东风合唱团", "kind": "association", "contact_name": NAME, "contact_phone": CONTACT}
    data = {"starts_at": starts, "ends_at": starts + timedelta(hours=2), "purpose": "合唱排练", "attendees": 20}
    w["reservation"] = rooms.request_reservation(room, data=data | {"group": group}, actor=me, now=now)

    from tests.volunteers.world import task_data
    from volunteers import services as volunteering

    profile = {"venue": w["station"], "skills": ["guiding"], "availability": ["weekend"], "note": ADDRESS}
    volunteering.approve_volunteer(
        volunteering.register_volunteer(me, data=profile | {"real_name": NAME}), actor=w["station_staff"]
    )
    task = volunteering.create_task(data=task_data(w["station"]), actor=w["station_staff"])
    w["signup"] = volunteering.sign_up(task, user=me)
    f.commit()
    return w


def _accept_with_real_dates(w):
    """Accept the second order as the provider (for its only date, two weeks from the factories' day)."""
    order = w["accepted_order"]
    orders.accept_order(order, actor=w["branch_staff"], now=o.NOW)
    f.commit()


def test_the_download_holds_every_package_part(client, app):
    w = _world()
    _accept_with_real_dates(w)
    client.login(PHONE)
    page = client.get("/account/data.json").get_json()
    api = client.get("/api/v1/me/data").get_json()
    assert page == api  # one export, two doors
    b = page["bookings"]
    assert {x["activity"] for x in b["bookings"]} >= {"书法讲座", "戏曲欣赏", "旧讲座"}
    assert [x["activity"] for x in b["waiting_list"]] == ["剪纸课"] and b["waiting_list"][0]["position"] == 1
    assert b["lottery_entries"][0]["status"] == "entered"
    assert CHILD in next(x for x in b["bookings"] if x["activity"] == "书法讲座")["participants"]
    assert len(b["strikes"]) == 1 and len(b["suspensions"]) == 1
    assert [c["activity"] for c in page["checkins"]] == ["戏曲欣赏"]
    assert {x["status"] for x in page["service_orders"]} == {"submitted", "accepted"}
    assert {(x["contact_phone"], x["address"]) for x in page["service_orders"]} == {(CONTACT, ADDRESS)}
    assert page["room_reservations"]["reservations"][0]["status"] == "pending"
    assert any(m["template"].startswith("reminder") for m in page["notifications"]["messages"])
    assert page["consents"] and page["consents"][0]["terms_version"]
    assert page["participants"][1]["id_number"] == SECRETS[-1]
    assert page["volunteering"]["real_name"] == NAME and page["volunteering"]["signups"][0]["status"] == "confirmed"


def _rows_holding_secrets() -> list[tuple[str, str]]:
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).mappings():
            text = " ".join(str(v) for v in row.values())
            found.extend((table.name, s) for s in SECRETS if s in text)
    return found


def test_deleting_the_account_frees_what_it_held_and_erases_it_everywhere(client, app):
    w = _world()
    _accept_with_real_dates(w)
    ids = {k: w[k].id for k in ("seat", "behind", "waiting", "entry", "attended", "open_order", "accepted_order")}
    seat_session_id, me_id, film_id = w["seat"].session_id, w["me"].id, w["film"].id
    assert _rows_holding_secrets()  # the sweep sees them before
    client.login(PHONE)
    response = client.post("/account/delete", data={"password": f.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    db.session.expire_all()

    booking = lambda key: db.session.get(Booking, ids[key])  # noqa: E731
    for key in ("seat", "waiting", "entry"):
        assert booking(key).status == BookingStatus.cancelled and not booking(key).counted_as_no_show, key
    assert booking("behind").status in (BookingStatus.offered, BookingStatus.confirmed)  # the waiting list moved
    seat_session = booking("behind").session
    assert seat_session.id == seat_session_id and seat_session.seats_taken == 1
    assert booking("attended").status == BookingStatus.confirmed  # attended: kept for the figures
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 1

    mine = sa.select(Message).where(Message.recipient_id == me_id)
    messages = db.session.execute(mine).scalars().all()
    assert messages and all(m.state != State.pending for m in messages)
    assert all(m.body is None and not m.context for m in messages)

    for key in ("open_order", "accepted_order"):
        order = db.session.get(ServiceOrder, ids[key])
        assert order.status == OrderStatus.withdrawn and order.contact_phone == "" and order.address == ""
    assert loads.used(film_id, str(o.day(14).year)) == 0 and loads.used(film_id, o.day(14).isoformat()) == 0

    reservation = db.session.get(RoomReservation, w["reservation"].id)
    assert reservation.status == ReservationStatus.cancelled and not reservation.occupancy.is_active

    from volunteers.models import SignupStatus, VolunteerSignup

    signup = db.session.get(VolunteerSignup, w["signup"].id)
    assert signup.status == SignupStatus.cancelled and signup.task.places_taken == 0

    user = db.session.get(User, me_id)
    assert not user.is_active and user.phone is None and user.deleted_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsCode).where(SmsCode.phone == PHONE)) == 0
    assert _rows_holding_secrets() == []


def test_a_failing_part_rolls_the_whole_deletion_back(client, app):
    from accounts import privacy

    w = _world()

    def broken(user, *, now):
        raise RuntimeError("an eraser failed")

    privacy.register("zz_broken", erase=broken, order=99)
    try:
        client.login(PHONE)
        response = client.post("/account/delete", data={"password": f.PASSWORD})
    finally:
        privacy._contributors.pop("zz_broken")
    assert response.status_code == 500
    db.session.expire_all()
    assert db.session.get(User, w["me"].id).phone == PHONE
    assert db.session.get(Booking, w["seat"].id).status == BookingStatus.confirmed
    assert db.session.get(ServiceOrder, w["open_order"].id).contact_phone == CONTACT


def test_the_download_shows_what_staff_did_with_the_persons_data(client, app):
    """PIPL: a staff member cancelling a booking on the person's behalf, and a provider seeing the full contact
    phone of the person's order, are in the download (by role, not by name); the person's own acts are not."""
    from bookings import services as bookings
    from orders.services.contact import contact_phone_for

    w = _world()
    _accept_with_real_dates(w)
    other = af.book(w["me"], af.activity(w["station"], title="剪纸展"))
    bookings.cancel_booking(other, actor=w["station_staff"], now=af.now())
    bookings.cancel_booking(w["waiting"], actor=w["me"], now=af.now())  # the person's own: not listed
    assert contact_phone_for(w["accepted_order"], w["branch_staff"], where="page") == CONTACT
    f.commit()
    client.login(PHONE)
    page = client.get("/api/v1/me/data").get_json()
    actions = page["bookings"]["staff_actions"]
    assert [(a["action"], a["target_id"], a["by"]) for a in actions] == [("booking.cancel", other.id, "staff")]
    views = {o["id"]: o["contact_phone_views"] for o in page["service_orders"]}
    assert len(views[w["accepted_order"].id]) == 1 and views[w["accepted_order"].id][0]["by"] == "staff"
    assert views[w["open_order"].id] == []
    assert w["branch_staff"].name not in str(actions) + str(views)


def test_the_api_deletes_the_account_once_the_password_confirms_it(client, app):
    """POST /api/v1/me/delete: a wrong password is 422 `wrong_password` and changes nothing; the right one
    deletes as the page does (the seat freed, the person erased), and the bearer token stops working."""
    w = _world()
    token = client.post("/api/v1/auth/token", json={"login": PHONE, "password": f.PASSWORD}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    wrong = client.post("/api/v1/me/delete", json={"password": "not-it-123"}, headers=auth)
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "wrong_password"
    assert db.session.get(User, w["me"].id).name == NAME
    done = client.post("/api/v1/me/delete", json={"password": f.PASSWORD}, headers=auth)
    assert done.status_code == 200 and done.get_json() == {"status": "deleted"}
    db.session.expire_all()
    me = db.session.get(User, w["me"].id)
    assert me.deleted_at is not None and me.phone is None and me.name != NAME
    assert db.session.get(Booking, w["seat"].id).status == BookingStatus.cancelled
    assert db.session.get(Booking, w["behind"].id).status in (BookingStatus.confirmed, BookingStatus.offered)
    assert client.get("/api/v1/me", headers=auth).status_code == 401
