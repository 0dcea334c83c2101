"""Every endpoint × every kind of caller, with the status each must get (checked on the server).

The world is built once per backend and module: a network, people at each level, and objects owned by the
*station* (an activity with a live session and a resident's ticket, a future activity, an approval activity
with a pending sign-up, a room and a reservation, service orders from the station's village in each state,
a checklist with evidence, an export subscription, a failed message). Every request that may have changed
something (a write that was not refused) puts the saved rows back before the next test, so each test sees
the same world. `test_every_endpoint_is_in_the_matrix` fails when a route has no row.
"""

import io
import re
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import g

from accounts.models import Role
from bookings.models import BookingStatus, Suspension
from core import tickets
from core.extensions import db, limiter
from core.i18n import local_datetime
from notify.models import Channel, Message, State
from orders import services as orders
from reports import checklist as cl
from reports import services as report_services
from reports.workbench import archive as wb_archive
from reports.workbench import problems as wb_problems
from reports.workbench.catalogue import import_catalogue
from reports.workbench.models import ResponsibleUnit, UnitKind, UnitMember
from rooms import services as reservations
from tests import activity_factories as af
from tests import dbs
from tests import factories as f
from tests.conftest import CSRFClient
from tests.orders.factories import menu_item
from tests.resources import matrix_world

CALLERS = [
    "anonymous",
    "resident",
    "other_resident",
    "checkin_staff",
    "station_staff",
    "sibling_staff",
    "parent_staff",
    "manager",
    "admin",
]
MANAGERS = ["station_staff", "parent_staff", "manager", "admin"]  # reach the station with a manage role
NETWORK_TZ = ZoneInfo("Asia/Shanghai")  # the app's TIMEZONE


def local_today() -> date:
    return datetime.now(NETWORK_TZ).date()


YEAR = local_today().year

# Routes that need no row, each with the reason.
EXEMPT = {
    ("GET", "/static/<path:filename>"): "static files",
    ("GET", "/login"): "the public sign-in page",
    ("POST", "/login"): "signing in (tests/accounts)",
    ("GET", "/register"): "the public registration page",
    ("POST", "/register"): "registration (tests/accounts)",
    ("POST", "/api/v1/auth/token"): "exchanges a password for a token (tests/accounts)",
    ("POST", "/api/v1/residents"): "public registration (tests/accounts)",
    ("POST", "/login/sms"): "signing in by SMS code (tests/accounts/test_sms_codes.py)",
    ("POST", "/password-reset"): "password recovery by SMS code (tests/accounts/test_password_reset.py)",
    ("POST", "/password-reset/email"): "asks for an e-mailed reset link (tests/accounts/test_password_reset.py)",
    ("GET", "/password-reset/<token>"): "needs a signed reset link (tests/accounts/test_password_reset.py)",
    ("POST", "/password-reset/<token>"): "needs a signed reset link (tests/accounts/test_password_reset.py)",
    ("POST", "/api/v1/auth/sms-code"): "sends an SMS code, alike for any phone (tests/accounts/test_sms_codes.py)",
    ("POST", "/api/v1/auth/password-reset"): "password recovery by SMS code (tests/accounts/test_password_reset.py)",
    ("GET", "/healthz"): "health probe, no data",
    ("GET", "/api/v1/openapi.json"): "the public API description",
    ("POST", "/webhooks/twilio/inbound"): "authenticated by Twilio's signature (tests/notify/test_twilio.py)",
    ("POST", "/webhooks/twilio/status"): "authenticated by Twilio's signature (tests/notify/test_twilio.py)",
    ("GET", "/tickets/sw.js"): "a static service worker",
    ("GET", "/my/sw.js"): "a static service worker",
    ("GET", "/scan/sw.js"): "a static service worker",
}


def _later(days: int) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


def build_world() -> dict:
    """The objects and people; returns ids and names the rows use."""
    now = af.now()
    net = f.network()
    station = net["station"]
    people = {
        "resident": f.resident("13800000001"),
        "other_resident": f.resident("13800000002", name="李建国"),
        "applicant": f.resident("13800000003", name="赵敏"),
        "station_staff": f.staff(station, login="station"),
        "checkin_staff": f.staff(station, Role.checkin, login="door"),
        "village_staff": f.staff(net["community"], login="village"),
        "sibling_staff": f.staff(net["sibling"], login="sibling"),
        "parent_staff": f.staff(net["branch"], login="parent"),
        "manager": f.staff(net["hub"], Role.manager, login="manager"),
        "admin": f.staff(None, Role.admin, login="admin"),
    }
    station_staff = people["station_staff"]
    room = f.room(station, name="排练厅", capacity=40, max_hours=4)
    closure_room = f.room(station, name="小教室", capacity=20)
    # A live session (started half an hour ago) with the resident's confirmed ticket.
    yesterday = now - timedelta(days=1)
    live = af.activity(station, actor=station_staff, at=yesterday, starts_in=timedelta(days=1, minutes=-30))
    booking = af.book(people["resident"], live, at=yesterday)
    assert booking.status == BookingStatus.confirmed
    future = af.activity(station, actor=station_staff, title="书法课")
    approval = af.activity(station, actor=station_staff, policy="approval", title="合唱团招募")
    pending = af.book(people["applicant"], approval)
    assert pending.status == BookingStatus.pending
    draft = af.activity(station, actor=station_staff, title="草稿", publish=False)
    later = af.activity(station, actor=station_staff, title="讲座", starts_in=timedelta(days=9))
    later_booking = af.book(people["resident"], later)
    exhibition = af.activity(
        station,
        actor=station_staff,
        kind="exhibition",
        policy="walk_in",
        capacity=0,
        sessions=0,
        title="农民画展",
        starts_on=local_today() - timedelta(days=1),
        ends_on=local_today() + timedelta(days=30),
    )
    suspended = f.resident("13800000004", name="钱多多")
    db.session.add(Suspension(user_id=suspended.id, starts_at=now, ends_at=now + timedelta(days=30), reason="爽约"))
    suspended.suspended_until = now + timedelta(days=30)
    # A room reservation of the resident, waiting for a decision.
    day = local_today() + timedelta(days=3)
    reservation = reservations.request_reservation(
        room,
        data={
            "starts_at": local_datetime(day, time(14)),
            "ends_at": local_datetime(day, time(16)),
            "purpose": "合唱排练",
            "attendees": 20,
            "group": {
                "name": "东风合唱团",
                "kind": "association",
                "contact_name": "王丽",
                "contact_phone": "13900000001",
            },
        },
        actor=people["resident"],
    )
    # The same group's approved reservation (its ticket) two days later (clear of the rows that reserve), and a
    # lottery class with an entry.
    approved = reservations.request_reservation(
        room,
        data={
            "starts_at": local_datetime(day + timedelta(days=2), time(14)),
            "ends_at": local_datetime(day + timedelta(days=2), time(16)),
            "purpose": "合唱排练",
            "attendees": 20,
            "group": {
                "name": "东风合唱团",
                "kind": "association",
                "contact_name": "王丽",
                "contact_phone": "13900000001",
            },
        },
        actor=people["resident"],
    )
    reservations.approve_reservation(approved, actor=station_staff)
    lottery = af.activity(station, actor=station_staff, kind="course", policy="lottery", title="剪纸抽签班")
    af.book(people["resident"], lottery)
    # Service orders from the station's village, provided by the parent branch, in each state.
    item = menu_item(net["branch"], people["parent_staff"], lead_days=3, daily_capacity=5, yearly_quota=50)
    draft_item = menu_item(net["branch"], people["parent_staff"], publish=False, title="草稿菜单")

    def order(**extra):
        return orders.submit_order(
            data={
                "menu_item": item,
                "venue": net["community"],
                "preferred_dates": [local_today() + timedelta(days=10), local_today() + timedelta(days=12)],
                "audience_size": 80,
                "contact_phone": "13800000001",
                "notes": "村广场",
                **extra,
            },
            actor=station_staff,
        )

    submitted = order()
    countered = order()
    orders.counter_order(countered, actor=people["parent_staff"], counter_on=local_today() + timedelta(days=14))
    accepted = order()
    orders.accept_order(accepted, actor=people["parent_staff"])
    # Checklist evidence and a monthly export subscription at the station.
    manual_row = next(r.key for r in cl.load_rows() if not r.rule)
    evidence = cl.add_evidence(
        station, year=YEAR, row_key=manual_row, filename="plan.pdf", data=b"%PDF-1.4\n%test\n", actor=people["manager"]
    )
    sub = report_services.subscribe_monthly(station_staff, station, actor=people["manager"])
    wb = _workbench(net, people)
    closure = _closure(station)
    failed = Message(
        recipient=people["resident"],
        channel=Channel.sms,
        template="booking_confirmed",
        context={},
        dedupe_key=f"booking:{booking.id}:matrix-failed",
        state=State.failed,
        body="您的预约已确认",
        last_error="boom",
    )
    db.session.add(failed)
    digital = matrix_world.build(net, people, later)
    volunteering = _volunteering(net, people)
    f.commit()
    ids = {k: v.id for k, v in net.items()}
    ids.update(
        {
            "live": live.id,
            "live_session": live.sessions[0].id,
            "booking": booking.id,
            "future": future.id,
            "future_session": future.sessions[0].id,
            "approval": approval.id,
            "pending": pending.id,
            "draft": draft.id,
            "later_booking": later_booking.id,
            "exhibition": exhibition.id,
            "suspended_id": suspended.id,
            "room": room.id,
            "closure_room": closure_room.id,
            "reservation": reservation.id,
            "approved_reservation": approved.id,
            "lottery": lottery.id,
            "room_payload": tickets.payload_for(approved.id, "R"),
            "item": item.id,
            "draft_item": draft_item.id,
            "order": submitted.id,
            "countered": countered.id,
            "accepted": accepted.id,
            "row": manual_row,
            "evidence": evidence.id,
            "sub": sub.id,
            "closure": closure.id,
            "message": failed.id,
            "grant": station_staff.grants[0].id,
            "resident_id": people["resident"].id,
            "applicant_id": people["applicant"].id,
            "station_staff_id": station_staff.id,
            "payload": tickets.payload_for(booking.id),
            "code": tickets.code_for(booking.id),
            "photo": f"{accepted.id}-0123456789ab.jpg",
            "cover": f"{live.id}-0123456789ab.jpg",
            **wb,
            **digital,
            **volunteering,
        }
    )
    logins = {name: (user.phone or user.login) for name, user in people.items()}
    return {"ids": ids, "logins": logins}


def _workbench(net, people) -> dict:
    """The demonstration-zone workbench: a city department and the station's township as responsible units
    (the station's staff work for the township), a two-standard catalogue, a problem and an archive record."""
    city = ResponsibleUnit(name="市文旅局", kind=UnitKind.department)
    township = ResponsibleUnit(name="东风镇", kind=UnitKind.township, venue_id=net["station"].id)
    db.session.add_all([city, township])
    db.session.flush()
    member = UnitMember(unit_id=township.id, user_id=people["station_staff"].id)
    db.session.add(member)
    import_catalogue(
        "standards.csv",
        (
            "task_no,task,indicator_no,indicator,standard_no,standard,evidence,responsible,deadline,rule\n"
            "1,设施网络,1.1,市级设施,1.1.1,市文化馆开放,公示,市文旅局,,1.1\n"
            "1,设施网络,1.1,市级设施,1.1.2,文化站达标,照片,东风镇,,\n"
        ).encode(),
        year=YEAR,
    )
    problem = wb_problems.save_problem(
        None,
        year=YEAR,
        data={
            "text": "文化站面积不足",
            "unit_id": township.id,
            "due_on": local_today() + timedelta(days=20),
            "standards": ["1.1.2"],
        },
        actor=people["manager"],
    )
    doc = wb_archive.add_document(
        year=YEAR,
        data={
            "category": "meeting",
            "held_on": date(YEAR, 1, 15),
            "unit_id": township.id,
            "title": "镇创建推进会",
            "standards": ["1.1.2"],
        },
        files=[("minutes.pdf", b"%PDF-1.4\n%x\n")],
        actor=people["manager"],
    )
    return {
        "unit": township.id,
        "member": member.id,
        "std": "1.1.2",
        "problem": problem.id,
        "archive_file": doc.files[0].id,
    }


def _volunteering(net, people) -> dict:
    """The resident is an approved volunteer of the station signed up for a task in three days; the applicant's
    registration waits for a decision."""
    from volunteers import services as volunteers

    def register(user):
        return volunteers.register_volunteer(
            user, data={"venue": net["station"], "skills": ["guiding"], "availability": ["weekend"]}
        )

    volunteer = register(people["resident"])
    volunteers.approve_volunteer(volunteer, actor=people["station_staff"])
    pending = register(people["applicant"])
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=3)
    task = volunteers.create_task(
        data={
            "venue": net["station"],
            "title": "展厅讲解",
            "starts_at": start,
            "ends_at": start + timedelta(hours=3),
            "places": 5,
        },
        actor=people["station_staff"],
    )
    signup = volunteers.sign_up(task, user=people["resident"])
    return {"pending_volunteer": pending.id, "vtask": task.id, "vsignup": signup.id}


def _closure(venue):
    from venues.models import Closure

    closure = Closure(
        venue=venue,
        starts_on=local_today() + timedelta(days=30),
        ends_on=local_today() + timedelta(days=31),
        reason="检修",
    )
    db.session.add(closure)
    db.session.flush()
    return closure


# --- saving and putting back the rows --------------------------------------------------------------------


def _snapshot() -> dict:
    db.session.remove()
    with db.engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in db.metadata.sorted_tables}


def _restore(saved: dict) -> None:
    db.session.remove()
    dbs.clear_tables(db)
    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if saved[table.name]:
                conn.execute(table.insert(), saved[table.name])
        if conn.dialect.name == "postgresql":
            for table in db.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement in (True, "auto") and saved[table.name]:
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"{max(r['id'] for r in saved[table.name])})"
                    )


class MatrixClient(CSRFClient):
    """One client per caller for the whole module: forget the CSRF token Flask-WTF cached in the shared `g`."""

    def open(self, *args, **kwargs):
        g.pop("csrf_token", None)
        return super().open(*args, **kwargs)


class World:
    def __init__(self, app, data):
        self.app = app
        self.ids = data["ids"]
        self.logins = data["logins"]
        self.saved = _snapshot()
        self.dirty = False
        self.clients = {}

    def client(self, caller: str):
        if caller not in self.clients:
            client = MatrixClient(self.app, self.app.response_class, use_cookies=True)
            if caller != "anonymous":
                limiter.reset()
                client.login(self.logins[caller])
            self.clients[caller] = client
        return self.clients[caller]

    def fresh(self):
        if self.dirty:
            _restore(self.saved)
            self.dirty = False
        db.session.remove()
        limiter.reset()


@pytest.fixture(scope="module")
def world(session_app):
    folder = tempfile.mkdtemp(prefix="culturenet-authz-")
    old_upload = session_app.config["UPLOAD_DIR"]
    session_app.config["UPLOAD_DIR"] = folder
    with session_app.app_context():
        dbs.clear_tables(db)
        w = World(session_app, build_world())
        yield w
        dbs.clear_tables(db)
    session_app.config["UPLOAD_DIR"] = old_upload


# --- the matrix ------------------------------------------------------------------------------------------


def anyone(status=200):
    return {"*": status}


def signed_in(status=200, anon=302):
    return {"anonymous": anon, "*": status}


def staff_only(status=200, anon=302, deny=403):
    return {"anonymous": anon, "resident": deny, "other_resident": deny, "*": status}


def managers_only(status=200, anon=302, deny=403):
    """Staff, managers and admins anywhere (not check-in staff, not residents)."""
    return {"anonymous": anon, "resident": deny, "other_resident": deny, "checkin_staff": deny, "*": status}


def station(status=200, anon=302, deny=403, **extra):
    """Those who reach the station with a manage role."""
    return {"anonymous": anon, **{c: status for c in MANAGERS}, "*": deny, **extra}


def door(status=200, anon=302, deny=403, **extra):
    """Those who reach the station with a check-in role."""
    return {"anonymous": anon, "checkin_staff": status, **{c: status for c in MANAGERS}, "*": deny, **extra}


def admin_only(status=200, anon=302):
    return {"anonymous": anon, "admin": status, "*": 403}


def reporters(status=200, anon=302, deny=403, **extra):
    """Report roles reaching the station (staff, managers, admins above it)."""
    return station(status, anon, deny, **extra)


def township(status=302, anon=302, deny=403, **extra):
    """Those who work for the station's township unit: its member (the station's staff), managers, admins."""
    return {"anonymous": anon, "station_staff": status, "manager": status, "admin": status, "*": deny, **extra}


def target_setters(status=302, anon=302, deny=403):
    return {"anonymous": anon, "manager": status, "admin": status, "*": deny}


def own(status=200, anon=302, other=404, **extra):
    """The resident who owns it, and staff who reach the station; everyone else sees nothing."""
    return {"anonymous": anon, "resident": status, **{c: status for c in MANAGERS}, "*": other, **extra}


def provider(status=303, anon=302, other=404, orderer=403):
    """Order steps for the providing branch: its staff, the hub manager, the admin."""
    return {
        "anonymous": anon,
        "parent_staff": status,
        "manager": status,
        "admin": status,
        "station_staff": orderer,
        "*": other,
    }


def orderer(status=303, anon=302, other=404, provider_side=403):
    return {
        "anonymous": anon,
        "station_staff": status,
        "parent_staff": provider_side,
        "manager": provider_side,
        "admin": provider_side,
        "*": other,
    }


def _dt(days=0, hours=0, minutes=0) -> str:
    return (
        datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=days, hours=hours, minutes=minutes)
    ).isoformat()


def _in_days(days: int, hour: int) -> str:
    return datetime.combine(local_today() + timedelta(days=days), time(hour), NETWORK_TZ).isoformat()


def _pdf():
    return (io.BytesIO(b"%PDF-1.4\n%more\n"), "minutes.pdf")


def _jpeg():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG")
    out.seek(0)
    return out, "cover.jpg"


A = "/api/v1"
# (method, path, body or callable(ids) → body, {caller: status}); "*" is everyone else.
ROWS = [
    # --- core and accounts
    ("GET", "/", None, anyone()),
    ("POST", "/lang", {"locale": "en"}, anyone(302)),
    ("POST", "/large-text", None, anyone(302)),
    ("GET", "/account", None, signed_in()),
    ("POST", "/account/participants", {"name": "王小明", "birth_year": "2016", "relation": "child"}, signed_in(302)),
    (
        "POST",
        "/account/password",
        {"current_password": "secret123", "new_password": "secret456", "confirm": "secret456"},
        signed_in(302),
    ),
    ("GET", "/account/data.json", None, signed_in()),
    ("POST", "/account/delete", {"password": "secret123", "confirm": "y"}, signed_in(302)),
    ("POST", "/logout", None, anyone(302)),
    ("GET", "/login/sms", None, anyone()),
    ("GET", "/password-reset", None, anyone()),
    ("GET", "/password-reset/email", None, anyone()),
    ("GET", "/terms", None, anyone()),
    ("GET", "/privacy", None, anyone()),
    ("GET", "/consent", None, signed_in()),
    ("POST", "/consent", {"consent": "y"}, signed_in(302)),
    ("GET", f"{A}/me", None, signed_in(anon=401)),
    ("GET", f"{A}/me/data", None, signed_in(anon=401)),
    ("POST", f"{A}/me/delete", {"password": "secret123"}, signed_in(anon=401)),
    ("GET", f"{A}/me/participants", None, signed_in(anon=401)),
    (
        "POST",
        f"{A}/me/participants",
        {"name": "王小明", "birth_year": 2016, "relation": "child"},
        signed_in(201, anon=401),
    ),
    ("GET", "/account/notifications", None, signed_in()),
    ("POST", "/account/notifications", {"sms": "y", "inbox": "y"}, signed_in(302)),
    ("GET", "/inbox", None, signed_in()),
    ("GET", f"{A}/me/inbox", None, signed_in(anon=401)),
    # --- venues and admin
    ("GET", "/venues", None, anyone()),
    ("GET", "/venues/{station}", None, anyone()),
    ("GET", "/staff", None, staff_only()),
    ("GET", "/venues/{station}/edit", None, station()),
    ("POST", "/venues/{station}/edit", {"name": "改名"}, station(302)),
    ("POST", "/venues/{station}/hours", {"hours-0-opens_at": "09:00", "hours-0-closes_at": "17:00"}, station(302)),
    (
        "POST",
        "/venues/{station}/closures",
        {"closure-starts_on": _later(40), "closure-ends_on": _later(41)},
        station(302),
    ),
    ("POST", "/closures/{closure}/delete", None, station(302)),
    ("GET", "/venues/{station}/rooms/new", None, station()),
    ("POST", "/venues/{station}/rooms/new", {"name": "新教室", "kind": "classroom", "capacity": "30"}, station(302)),
    ("GET", "/venues/{station}/rooms/{room}", None, station()),
    (
        "POST",
        "/venues/{station}/rooms/{room}",
        {"name": "大排练厅", "kind": "rehearsal", "capacity": "40"},
        station(302),
    ),
    ("GET", "/admin/users", None, admin_only()),
    ("GET", "/admin/users/{resident_id}", None, admin_only()),
    (
        "POST",
        "/admin/users/{station_staff_id}",
        lambda i: {"role": "staff", "venue_id": str(i["sibling"])},
        admin_only(302),
    ),
    ("POST", "/admin/grants/{grant}/revoke", None, admin_only(302)),
    ("GET", "/admin/venues/new", None, admin_only()),
    (
        "POST",
        "/admin/venues/new",
        lambda i: {
            "name": "新村文化中心",
            "kind": "community",
            "parent_id": str(i["station"]),
            "district_code": "211104",
            "address": "新村",
        },
        admin_only(302),
    ),
    ("GET", f"{A}/venues", None, anyone()),
    ("GET", f"{A}/venues/{{station}}", None, anyone()),
    # --- activities: public
    ("GET", "/activities", None, anyone()),
    ("GET", "/activities/calendar", None, anyone()),
    ("GET", "/search", None, anyone()),
    ("GET", "/activities/{live}", None, anyone()),
    ("GET", "/activities/{draft}", None, station(anon=404, deny=404)),
    ("GET", "/activities/{live}.ics", None, anyone()),
    ("GET", "/calendar/venues/{station}.ics", None, anyone()),
    ("GET", "/calendar/districts/211104.ics", None, anyone()),
    ("GET", "/lottery/how-to-verify", None, anyone()),
    ("GET", "/media/activities/{cover}", None, anyone(404)),
    ("GET", f"{A}/activities", None, anyone()),
    ("GET", f"{A}/activities/{{live}}", None, anyone()),
    ("GET", f"{A}/activities/{{draft}}", None, station(anon=404, deny=404)),
    # --- activities: staff pages
    ("GET", "/staff/activities", None, managers_only()),
    ("GET", "/staff/activities/new", None, managers_only()),
    (
        "POST",
        "/staff/activities/new",
        lambda i: {
            "kind": "event",
            "venue_id": str(i["station"]),
            "room_id": "0",
            "title": "新活动",
            "category": "music",
            "gender": "",
            "quota_rule": "",
            "policy": "first_come",
            "capacity": "30",
            "max_party_size": "2",
            "cancel_hours": "2",
            "reserved_quota": "0",
        },
        station(302, deny=422, resident=403, other_resident=403, checkin_staff=403),
    ),
    ("GET", "/staff/activities/quick", None, managers_only()),
    (
        "POST",
        "/staff/activities/quick",
        lambda i: {
            "title": "露天电影",
            "category": "film",
            "venue_id": str(i["station"]),
            "on": _later(5),
            "starts": "19:00",
            "ends": "21:00",
        },
        station(302, deny=422, resident=403, other_resident=403, checkin_staff=403),
    ),
    ("GET", "/staff/activities/{live}", None, station()),
    ("GET", "/staff/activities/{live}/edit", None, station()),
    (
        "POST",
        "/staff/activities/{future}/edit",
        lambda i: {
            "kind": "event",
            "venue_id": str(i["station"]),
            "room_id": "0",
            "title": "书法课（改）",
            "category": "music",
            "gender": "",
            "quota_rule": "",
            "policy": "first_come",
            "capacity": "30",
            "max_party_size": "2",
            "cancel_hours": "2",
            "reserved_quota": "0",
        },
        station(302),
    ),
    (
        "POST",
        "/staff/activities/{future}/sessions",
        {"one-on": _later(20), "one-starts": "09:00", "one-ends": "11:00"},
        station(302),
    ),
    (
        "POST",
        "/staff/activities/{future}/weekly",
        {
            "weekly-first_on": _later(21),
            "weekly-until_on": _later(35),
            "weekly-weekdays": "2",
            "weekly-starts": "09:00",
            "weekly-ends": "10:00",
        },
        station(302),
    ),
    ("POST", "/staff/activities/{draft}/publish", None, station(302)),
    ("POST", "/staff/activities/{future}/cancel", {"cancel-reason": "下雨"}, station(302)),
    ("POST", "/staff/activities/{future}/cover", {"cover": _jpeg}, station(302)),
    ("POST", "/staff/sessions/{future_session}/cancel", {"reason": "下雨"}, station(302)),
    (
        "POST",
        "/staff/sessions/{future_session}/move",
        lambda i: {
            f"move{i['future_session']}-on": _later(9),
            f"move{i['future_session']}-starts": "14:00",
            f"move{i['future_session']}-ends": "16:00",
        },
        station(302),
    ),
    # --- activities: API
    (
        "POST",
        f"{A}/activities",
        lambda i: {
            "venue_id": i["station"],
            "kind": "event",
            "title": "新活动",
            "policy": "first_come",
            "capacity": 30,
        },
        station(201, anon=401, deny=403),
    ),
    ("PATCH", f"{A}/activities/{{future}}", {"title": "书法课（改）"}, station(anon=401)),
    (
        "POST",
        f"{A}/activities/{{future}}/sessions",
        {"starts_at": _in_days(20, 9), "ends_at": _in_days(20, 11)},
        station(201, anon=401),
    ),
    ("POST", f"{A}/activities/{{draft}}/publish", None, station(anon=401, deny=404)),  # drafts are hidden
    ("POST", f"{A}/activities/{{future}}/cancel", {"reason": "下雨"}, station(anon=401)),
    (
        "POST",
        f"{A}/sessions/{{future_session}}/move",
        {"starts_at": _in_days(9, 14), "ends_at": _in_days(9, 16)},
        station(anon=401),
    ),
    ("POST", f"{A}/sessions/{{future_session}}/cancel", {"reason": "下雨"}, station(anon=401)),
    # --- bookings: pages
    (
        "POST",
        "/activities/{future}/book",
        lambda i: {"session_id": str(i["future_session"]), "party_size": "1"},
        {"anonymous": 302, "resident": 302, "other_resident": 302, "*": 422},
    ),  # staff accounts have no card
    ("GET", "/my/bookings", None, signed_in()),
    ("GET", "/me", None, anyone()),
    ("GET", "/bookings/{booking}/done", None, {"anonymous": 302, "resident": 200, "*": 404}),
    ("GET", "/bookings/{booking}.ics", None, {"anonymous": 302, "resident": 200, "*": 404}),
    ("POST", "/bookings/{later_booking}/cancel", None, {"anonymous": 302, "resident": 302, "*": 404}),
    ("POST", "/bookings/{booking}/accept", None, {"anonymous": 302, "resident": 302, "*": 404}),
    ("GET", "/staff/sessions/{live_session}/roster", None, station()),
    ("GET", "/staff/sessions/{live_session}/roster.csv", None, station()),
    ("GET", "/staff/activities/{approval}/signups", None, station()),
    (
        "POST",
        "/staff/activities/{approval}/signups",
        lambda i: {"booking_ids": str(i["pending"]), "decision": "approve"},
        station(302),
    ),
    ("GET", "/staff/book", None, managers_only()),
    (
        "POST",
        "/staff/book",
        lambda i: {"caller": "13800000002", "session_id": str(i["future_session"]), "party_size": "1"},
        station(302),
    ),
    ("GET", "/staff/credit", None, managers_only()),
    ("POST", "/staff/credit", {"resident": "13800000004", "note": "误判"}, managers_only(302)),
    # --- bookings: API
    (
        "POST",
        f"{A}/bookings",
        lambda i: {"session_id": i["future_session"], "party_size": 1},
        {"anonymous": 401, "resident": 201, "other_resident": 201, "*": 422},
    ),  # staff accounts have no card
    (
        "POST",
        f"{A}/bookings#on-behalf",
        lambda i: {"session_id": i["future_session"], "party_size": 1, "user_id": i["applicant_id"]},
        station(201, anon=401),
    ),
    ("GET", f"{A}/bookings", None, signed_in(anon=401)),
    ("GET", f"{A}/bookings?session={{live_session}}", None, station(anon=401)),
    ("GET", f"{A}/bookings/{{booking}}", None, own(anon=401)),
    ("POST", f"{A}/bookings/{{later_booking}}/cancel", None, own(anon=401)),
    ("POST", f"{A}/bookings/{{booking}}/accept", None, {"anonymous": 401, "resident": 409, "*": 404}),
    ("POST", f"{A}/bookings/decisions", lambda i: {"booking_ids": [i["pending"]], "approve": True}, station(anon=401)),
    ("GET", f"{A}/me/credit", None, signed_in(anon=401)),
    ("POST", f"{A}/residents/{{suspended_id}}/lift-suspension", {"note": "误判"}, managers_only(anon=401)),
    # --- tickets and check-in
    ("GET", "/tickets/{booking}", None, own()),
    ("GET", f"{A}/bookings/{{booking}}/ticket", None, own(anon=401)),
    ("GET", f"{A}/bookings/{{booking}}/ticket.svg", None, own(anon=401)),
    ("GET", f"{A}/bookings/{{booking}}/ticket.png", None, own(anon=401)),
    ("GET", "/scan", None, staff_only()),
    ("GET", "/scan/sessions/{live_session}/attendance", None, door()),
    (
        "POST",
        f"{A}/checkins",
        lambda i: {"payload": i["payload"], "session_id": i["live_session"]},
        door(201, anon=401),
    ),
    (
        "POST",
        f"{A}/checkins/batch",
        lambda i: [
            {
                "payload": i["payload"],
                "session_id": i["live_session"],
                "scanned_at": _dt(minutes=-5),
                "device_id": "phone-1",
                "scan_id": "scan-0001",
            }
        ],
        door(anon=401, sibling_staff=200),
    ),  # a batch answers per item: the sibling's item is "forbidden"
    ("GET", f"{A}/sessions/{{live_session}}/roster", None, door(anon=401)),
    ("POST", f"{A}/sessions/{{live_session}}/walk-ins", {"count": 3, "scan_id": "walk-0001"}, door(201, anon=401)),
    ("POST", f"{A}/activities/{{exhibition}}/walk-ins", {"count": 3, "scan_id": "walk-0002"}, door(201, anon=401)),
    ("GET", "/activities/{lottery}/entries/c{lottery}", None, anyone()),
    ("GET", f"{A}/activities/{{lottery}}/lottery", None, anyone()),
    # --- room reservations
    ("GET", f"{A}/room-reservations/{{approved_reservation}}/ticket", None, own(anon=401, checkin_staff=200)),
    ("GET", f"{A}/room-reservations/{{approved_reservation}}/ticket.svg", None, own(anon=401, checkin_staff=200)),
    ("GET", f"{A}/room-reservations/{{approved_reservation}}/ticket.png", None, own(anon=401, checkin_staff=200)),
    (
        "POST",
        f"{A}/room-reservations/checkins",
        lambda i: {"payload": i["room_payload"], "scan_id": "room-0001"},
        door(409, anon=401),
    ),  # tomorrow's reservation: "too early" for the door, refused for everyone else
    ("GET", "/rooms", None, anyone()),
    ("GET", "/rooms/{room}", None, anyone()),
    ("GET", "/rooms/{room}/reserve", None, signed_in()),
    (
        "POST",
        "/rooms/{room}/reserve",
        {
            "day": _later(4),
            "start": "09:00",
            "end": "11:00",
            "purpose": "排练",
            "attendees": "10",
            "group_id": "0",
            "group_name": "新合唱团",
            "group_kind": "association",
            "contact_name": "王丽",
            "contact_phone": "13900000002",
        },
        signed_in(302),
    ),
    ("GET", "/my/room-reservations", None, signed_in()),
    ("GET", "/room-reservations/{reservation}", None, own(checkin_staff=200)),
    ("GET", "/staff/room-reservations", None, staff_only()),
    ("POST", "/room-reservations/{reservation}/approve", None, own(302, resident=403, checkin_staff=403)),
    ("POST", "/room-reservations/{reservation}/reject", {"reason": "维修"}, own(302, resident=403, checkin_staff=403)),
    ("POST", "/room-reservations/{reservation}/cancel", {"reason": "不用了"}, own(302, checkin_staff=403)),
    ("POST", "/room-reservations/{reservation}/check-in", None, own(302, resident=403, checkin_staff=302)),
    (
        "POST",
        "/staff/room-reservations/bulk",
        lambda i: {"ids": str(i["reservation"]), "action": "approve"},
        managers_only(302),
    ),
    ("GET", f"{A}/rooms/{{room}}/availability?date={_later(3)}", None, anyone()),
    (
        "POST",
        f"{A}/room-reservations",
        lambda i: {
            "room_id": i["room"],
            "starts_at": _in_days(4, 9),
            "ends_at": _in_days(4, 11),
            "purpose": "排练",
            "attendees": 10,
            "group": {
                "name": "新合唱团",
                "kind": "association",
                "contact_name": "王丽",
                "contact_phone": "13900000002",
            },
        },
        signed_in(201, anon=401),
    ),
    ("GET", f"{A}/room-reservations", None, signed_in(anon=401)),
    ("GET", f"{A}/room-reservations/{{reservation}}", None, own(anon=401, checkin_staff=200)),
    ("POST", f"{A}/room-reservations/{{reservation}}/approve", None, own(anon=401, resident=403, checkin_staff=403)),
    (
        "POST",
        f"{A}/room-reservations/{{reservation}}/reject",
        {"reason": "维修"},
        own(anon=401, resident=403, checkin_staff=403),
    ),
    ("POST", f"{A}/room-reservations/{{reservation}}/cancel", {"reason": "不用了"}, own(anon=401, checkin_staff=403)),
    (
        "POST",
        f"{A}/room-reservations/{{reservation}}/check-in",
        None,
        own(409, anon=401, resident=403, checkin_staff=409),
    ),
    (
        "POST",
        f"{A}/room-reservations/bulk",
        lambda i: {"ids": [i["reservation"]], "action": "approve"},
        managers_only(anon=401) | {"sibling_staff": 404},
    ),  # a resident's call was a 200 of per-item refusals
    # --- orders: menu
    ("GET", "/menu", None, anyone()),
    ("GET", "/menu/{item}", None, anyone()),
    ("GET", "/menu/{draft_item}", None, {"parent_staff": 200, "manager": 200, "admin": 200, "*": 404}),
    ("GET", "/menu/manage", None, managers_only()),
    ("GET", "/menu/new", None, managers_only()),
    (
        "POST",
        "/menu/new",
        lambda i: {
            "provider_venue_id": str(i["branch"]),
            "title": "戏曲进村",
            "category": "performance",
            "district_codes": "211104",
            "audience_min": "20",
            "audience_max": "300",
            "duration_minutes": "120",
            "lead_days": "7",
            "daily_capacity": "1",
        },
        {
            "anonymous": 302,
            "resident": 403,
            "other_resident": 403,
            "checkin_staff": 403,
            "parent_staff": 303,
            "manager": 303,
            "admin": 303,
            "*": 422,
        },
    ),
    (
        "GET",
        "/menu/{item}/edit",
        None,
        provider(200, orderer=404) | {"resident": 403, "other_resident": 403, "checkin_staff": 403},
    ),
    (
        "POST",
        "/menu/{item}/edit",
        lambda i: {
            "provider_venue_id": str(i["branch"]),
            "title": "公益电影放映（新）",
            "category": "film",
            "district_codes": "211104",
            "audience_min": "20",
            "audience_max": "300",
            "duration_minutes": "120",
            "lead_days": "3",
            "daily_capacity": "5",
            "yearly_quota": "50",
        },
        provider(303, orderer=404, other=404) | {"resident": 403, "other_resident": 403, "checkin_staff": 403},
    ),
    ("POST", "/menu/{draft_item}/publish", None, provider(303, orderer=404)),
    ("POST", "/menu/{item}/withdraw", None, provider(303, orderer=404)),
    ("GET", f"{A}/service-menu", None, anyone()),
    ("GET", f"{A}/service-menu/{{item}}", None, anyone()),
    (
        "POST",
        f"{A}/service-menu",
        lambda i: {
            "provider_venue_id": i["branch"],
            "title": "戏曲进村",
            "category": "performance",
            "district_codes": ["211104"],
        },
        {"anonymous": 401, "parent_staff": 201, "manager": 201, "admin": 201, "*": 403},
    ),
    (
        "PATCH",
        f"{A}/service-menu/{{item}}",
        lambda i: {
            "provider_venue_id": i["branch"],
            "title": "公益电影放映",
            "category": "film",
            "district_codes": ["211104"],
        },
        provider(200, anon=401, orderer=403, other=403),
    ),
    ("POST", f"{A}/service-menu/{{draft_item}}/publish", None, provider(200, anon=401, orderer=403, other=403)),
    ("POST", f"{A}/service-menu/{{item}}/withdraw", None, provider(200, anon=401, orderer=403, other=403)),
    # --- orders: ordering and steps
    ("GET", "/menu/{item}/order", None, signed_in()),
    (
        "POST",
        "/menu/{item}/order",
        lambda i: {
            "venue_id": str(i["community"]),
            "date_1": _later(15),
            "audience_size": "60",
            "contact_phone": "13800000009",
        },
        {"anonymous": 302, "station_staff": 302, "parent_staff": 302, "manager": 302, "admin": 302, "*": 422},
    ),
    ("GET", "/orders/new", None, signed_in()),
    (
        "POST",
        "/orders/new",
        lambda i: {
            "venue_id": str(i["community"]),
            "custom_title": "广场舞培训",
            "custom_description": "想请老师来教",
            "custom_category": "training",
            "date_1": _later(20),
            "audience_size": "30",
            "contact_phone": "13800000009",
        },
        {"anonymous": 302, "station_staff": 302, "parent_staff": 302, "manager": 302, "admin": 302, "*": 422},
    ),
    ("GET", "/orders", None, signed_in()),
    (
        "GET",
        "/orders/{order}",
        None,
        {"anonymous": 302, "station_staff": 200, "parent_staff": 200, "manager": 200, "admin": 200, "*": 404},
    ),
    ("POST", "/orders/{order}/accept", lambda i: {"accept-chosen_on": _later(10)}, provider()),
    ("POST", "/orders/{order}/counter", {"counter-counter_on": _later(16)}, provider()),
    ("POST", "/orders/{order}/decline", {"decline-reason": "档期已满"}, provider()),
    ("POST", "/orders/{accepted}/schedule", {"schedule-starts": "19:00", "schedule-ends": "21:00"}, provider()),
    (
        "POST",
        "/orders/{accepted}/deliver",
        {"deliver-headcount": "80"},
        provider(422, orderer=422),
    ),  # not yet held: refused (422 on the page)
    ("POST", "/orders/{accepted}/rate", {"rate-rating": "5"}, orderer(422)),  # not yet delivered
    ("POST", "/orders/{order}/withdraw", {"withdraw-reason": "不需要了"}, orderer()),
    ("POST", "/orders/{countered}/accept-counter", None, orderer()),
    ("GET", "/media/orders/{photo}", None, {"anonymous": 302, "*": 404}),
    ("GET", "/orders/queue", None, managers_only()),
    (
        "POST",
        "/orders/queue",
        lambda i: {"bulk-order_ids": str(i["order"]), "bulk-reason": "档期已满"},
        {
            "anonymous": 302,
            "resident": 403,
            "other_resident": 403,
            "checkin_staff": 403,
            "parent_staff": 303,
            "manager": 303,
            "admin": 303,
            "*": 422,
        },
    ),
    ("GET", "/orders/calendar", None, managers_only()),
    ("GET", "/orders/demand", None, managers_only()),
    (
        "POST",
        f"{A}/service-orders",
        lambda i: {
            "menu_item_id": i["item"],
            "venue_id": i["community"],
            "preferred_dates": [_later(15)],
            "audience_size": 60,
            "contact_phone": "13800000009",
        },
        {"anonymous": 401, "station_staff": 201, "parent_staff": 201, "manager": 201, "admin": 201, "*": 403},
    ),
    ("GET", f"{A}/service-orders", None, signed_in(anon=401)),
    (
        "GET",
        f"{A}/service-orders/{{order}}",
        None,
        {"anonymous": 401, "station_staff": 200, "parent_staff": 200, "manager": 200, "admin": 200, "*": 404},
    ),
    ("POST", f"{A}/service-orders/{{order}}/accept", {"chosen_on": _later(10)}, provider(200, anon=401)),
    ("POST", f"{A}/service-orders/{{order}}/counter", {"counter_on": _later(16)}, provider(200, anon=401)),
    ("POST", f"{A}/service-orders/{{order}}/decline", {"reason": "档期已满"}, provider(200, anon=401)),
    (
        "POST",
        f"{A}/service-orders/{{accepted}}/schedule",
        {"starts_at": _in_days(10, 19), "ends_at": _in_days(10, 21)},
        provider(200, anon=401),
    ),
    ("POST", f"{A}/service-orders/{{accepted}}/deliver", {"headcount": 80}, provider(409, anon=401, orderer=409)),
    ("POST", f"{A}/service-orders/{{accepted}}/rate", {"rating": 5}, orderer(409, anon=401)),
    ("POST", f"{A}/service-orders/{{order}}/withdraw", None, orderer(200, anon=401)),
    ("POST", f"{A}/service-orders/{{countered}}/accept-counter", None, orderer(200, anon=401)),
    # --- reports
    ("GET", "/reports/?venue={station}", None, reporters()),
    ("GET", "/reports/attendance?venue={station}", None, reporters()),
    ("GET", "/reports/attendance.csv?venue={station}", None, reporters()),
    ("GET", "/reports/sessions?venue={station}", None, reporters()),
    ("GET", "/reports/sessions/{live_session}/checkins", None, reporters()),
    ("GET", "/reports/targets?venue={station}", None, reporters()),
    ("POST", f"/reports/targets?venue={{station}}&year={YEAR}", {"attendances": "5000"}, target_setters()),
    ("GET", "/reports/registry?venue={station}", None, reporters()),
    ("GET", "/reports/coverage?venue={station}", None, reporters()),
    ("GET", "/reports/checklist?venue={station}", None, reporters()),
    (
        "POST",
        f"/reports/checklist/{{row}}/mark?venue={{station}}&year={YEAR}",
        {"status": "met", "note": "已完成"},
        target_setters(),
    ),
    ("POST", f"/reports/checklist/{{row}}/evidence?venue={{station}}&year={YEAR}", {"file": _pdf}, target_setters()),
    ("GET", "/reports/evidence/{evidence}", None, reporters()),
    ("GET", "/reports/workbook.xlsx?venue={station}", None, reporters()),
    ("GET", "/reports/print?venue={station}", None, reporters()),
    ("GET", "/reports/exports", None, managers_only()),
    ("POST", "/reports/exports", lambda i: {"venue": str(i["station"])}, target_setters()),  # was a 302 + flash
    (
        "POST",
        "/reports/exports/subscriptions/{sub}/delete",
        None,
        {"anonymous": 302, "station_staff": 302, "manager": 302, "admin": 302, "*": 403},
    ),
    ("GET", f"{A}/reports/attendance?venue={{station}}", None, reporters(anon=401)),
    ("GET", f"{A}/reports/indicators?venue={{station}}", None, reporters(anon=401)),
    ("GET", f"{A}/reports/coverage?venue={{station}}", None, reporters(anon=401)),
    ("GET", f"{A}/reports/checklist?venue={{station}}", None, reporters(anon=401)),
    # --- reports: the demonstration-zone workbench (report staff and the people of responsible units)
    ("GET", f"/reports/workbench/?year={YEAR}", None, managers_only()),
    ("GET", f"/reports/workbench/standards?year={YEAR}", None, managers_only()),
    ("GET", f"/reports/workbench/standards/{{std}}?year={YEAR}", None, managers_only()),
    (
        "POST",
        f"/reports/workbench/standards/{{std}}/status?year={YEAR}",
        {"status": "on_track", "note": "推进中"},
        township(),
    ),
    ("GET", "/reports/workbench/units", None, managers_only()),
    ("POST", "/reports/workbench/units", {"name": "市财政局", "kind": "department"}, target_setters()),
    (
        "POST",
        "/reports/workbench/units/{unit}",
        lambda i: {"name": "东风镇", "kind": "township", "venue_id": str(i["station"])},
        target_setters(),
    ),
    ("POST", "/reports/workbench/units/{unit}/members", {"login": "sibling"}, target_setters()),
    ("POST", "/reports/workbench/units/members/{member}/delete", None, target_setters()),
    ("GET", f"/reports/workbench/problems?year={YEAR}", None, managers_only()),
    (
        "POST",
        f"/reports/workbench/problems?year={YEAR}",
        lambda i: {"text": "缺少器材", "unit_id": str(i["unit"]), "due_on": _later(20)},
        township(),
    ),
    (
        "POST",
        "/reports/workbench/problems/{problem}",
        lambda i: {"text": "文化站面积不足", "unit_id": str(i["unit"]), "due_on": _later(25), "status": "in_progress"},
        township(sibling_staff=404),
    ),  # the sibling station does not see the township's ledger
    ("GET", f"/reports/workbench/archive?year={YEAR}", None, managers_only()),
    (
        "POST",
        f"/reports/workbench/archive?year={YEAR}",
        lambda i: {"category": "training", "held_on": f"{YEAR}-01-20", "unit_id": str(i["unit"]), "title": "培训"},
        township(),
    ),
    ("GET", "/reports/workbench/archive/files/{archive_file}", None, reporters(sibling_staff=404)),
    ("GET", f"/reports/workbench/archive.zip?year={YEAR}", None, managers_only()),
    ("GET", f"/reports/workbench/selfcheck.docx?year={YEAR}", None, managers_only()),
    ("GET", f"{A}/reports/standards?year={YEAR}", None, managers_only(anon=401)),
    (
        "POST",
        f"{A}/reports/standards/{{std}}/status?year={YEAR}",
        {"status": "on_track", "note": "推进中"},
        township(200, anon=401),
    ),
    # --- digital library, collections, brands (resources/) and the work catalogue (catalogue/)
    ("GET", "/resources", None, anyone()),
    ("GET", "/resources/{resource}", None, anyone()),
    ("GET", "/resources/{pending_resource}", None, station(anon=404, deny=404)),
    ("GET", "/resources/{resource}/media", None, anyone()),
    ("GET", "/resources/{resource}/poster.jpg", None, anyone()),
    ("GET", "/collections", None, anyone()),
    ("GET", "/collections/{collection}", None, anyone()),
    ("GET", "/brands", None, anyone()),
    ("GET", "/brands/{brand}", None, anyone()),
    ("GET", "/catalogue/{year}", None, anyone()),
    ("GET", "/catalogue/{year}.docx?venue={station}", None, station(anon=404, deny=404)),
    ("GET", "/staff/resources", None, managers_only()),
    (
        "POST",
        "/staff/resources",
        lambda i: {"file": _jpeg, "title": "剪纸", "category": "heritage", "venue_id": str(i["station"])},
        station(302),
    ),
    ("POST", "/staff/resources/{resource}/withdraw", None, station(302)),
    ("POST", "/staff/brands", lambda i: {"name": "新品牌", "venue_id": str(i["station"])}, station(302)),
    ("POST", "/staff/brands/{brand}/activities", lambda i: {"activity_id": str(i["future"])}, station(302)),
    ("POST", "/staff/collections", lambda i: {"title": "新专题", "venue_id": str(i["station"])}, station(302)),
    ("GET", "/staff/catalogue/{year}?venue={station}", None, station()),
    (
        "POST",
        "/staff/catalogue/{year}/fixed?venue={station}",
        lambda i: {"keys": f"venue:{i['station']}"},
        station(302),
    ),
    ("POST", "/staff/catalogue/{year}/publish?venue={station}", None, station(302)),
    ("GET", f"{A}/resources", None, anyone()),
    (
        "POST",
        f"{A}/resources",
        lambda i: {"file": _pdf, "title": "讲义", "venue_id": str(i["station"])},
        station(201, anon=401),
    ),
    ("GET", f"{A}/resources/{{resource}}", None, anyone()),
    ("GET", f"{A}/resources/{{pending_resource}}", None, station(anon=404, deny=404)),
    ("PATCH", f"{A}/resources/{{resource}}", {"licence": "CC BY"}, station(anon=401)),
    ("POST", f"{A}/resources/{{resource}}/plays", {"device_id": "matrix-device-01"}, anyone(201)),
    ("GET", f"{A}/collections", None, anyone()),
    ("POST", f"{A}/collections", lambda i: {"title": "新专题", "venue_id": i["station"]}, station(201, anon=401)),
    ("GET", f"{A}/collections/{{collection}}", None, anyone()),
    ("PATCH", f"{A}/collections/{{collection}}", {"subject": "剪纸"}, station(anon=401)),
    ("GET", f"{A}/brands", None, anyone()),
    ("POST", f"{A}/brands", lambda i: {"name": "新品牌", "venue_id": i["station"]}, station(201, anon=401)),
    ("GET", f"{A}/brands/{{brand}}", None, anyone()),
    ("PATCH", f"{A}/brands/{{brand}}", {"summary": "一镇一品"}, station(anon=401)),
    ("POST", f"{A}/brands/{{brand}}/activities", lambda i: {"activity_id": i["future"]}, station(anon=401)),
    ("DELETE", f"{A}/brands/{{brand}}/activities/{{branded}}", None, station(anon=401)),
    ("GET", f"{A}/catalogue/{{year}}", None, anyone()),
    (
        "POST",
        f"{A}/catalogue/{{year}}/fixed",
        lambda i: {"venue_id": i["station"], "keys": [f"venue:{i['station']}"]},
        station(anon=401),
    ),
    ("POST", f"{A}/catalogue/{{year}}/publish", lambda i: {"venue_id": i["station"]}, station(anon=401)),
    # --- volunteers
    (
        "POST",
        f"{A}/volunteers",
        lambda i: {"venue_id": i["station"], "skills": ["guiding"], "availability": ["weekend"]},
        {"anonymous": 401, "resident": 409, "*": 201},
    ),
    ("GET", f"{A}/volunteers", None, managers_only(anon=401)),
    ("POST", f"{A}/volunteers/{{pending_volunteer}}/approve", None, station(anon=401)),
    ("POST", f"{A}/volunteers/{{pending_volunteer}}/decline", {"reason": "名额已满"}, station(anon=401)),
    ("GET", f"{A}/volunteer-tasks", None, signed_in(anon=401)),
    (
        "POST",
        f"{A}/volunteer-tasks",
        lambda i: {
            "venue_id": i["station"],
            "title": "演出引导",
            "starts_at": _dt(days=4),
            "ends_at": _dt(days=4, hours=2),
            "places": 3,
        },
        station(201, anon=401),
    ),
    ("GET", f"{A}/volunteer-tasks/{{vtask}}", None, signed_in(anon=401)),
    ("POST", f"{A}/volunteer-tasks/{{vtask}}/cancel", None, station(anon=401)),
    ("GET", f"{A}/volunteer-tasks/{{vtask}}/roster", None, station(anon=401)),
    ("POST", f"{A}/volunteer-tasks/{{vtask}}/signups", None, {"anonymous": 401, "*": 409}),
    ("POST", f"{A}/volunteer-signups/{{vsignup}}/cancel", None, own(anon=401)),
    ("GET", f"{A}/volunteer-signups/{{vsignup}}/ticket", None, own(anon=401)),
    (
        "PATCH",
        f"{A}/volunteer-signups/{{vsignup}}/service",
        {"minutes": 60, "note": "补录"},
        station(409, anon=401),  # the task has not started: too_early
    ),
    ("GET", f"{A}/me/volunteering", None, signed_in(anon=401)),
    ("GET", f"{A}/volunteer-hours", None, managers_only(anon=401)),
    ("GET", f"{A}/volunteer-commendations", None, managers_only(anon=401)),
    ("GET", f"{A}/reports/volunteering", None, managers_only(anon=401)),
    ("GET", "/volunteering", None, signed_in()),
    ("GET", "/volunteering/register", None, signed_in()),
    (
        "POST",
        "/volunteering/register",
        lambda i: {"venue_id": str(i["station"]), "skills": "guiding", "availability": "weekend"},
        {"anonymous": 302, "resident": 422, "*": 302},
    ),
    ("GET", "/volunteering/tasks", None, signed_in()),
    ("POST", "/volunteering/tasks/{vtask}/signup", None, signed_in(302)),
    ("GET", "/volunteering/signups/{vsignup}", None, own()),
    ("POST", "/volunteering/signups/{vsignup}/cancel", None, own(302)),
    ("GET", "/volunteering/certificate", None, {"anonymous": 302, "resident": 200, "*": 404}),
    ("GET", "/staff/volunteers", None, managers_only()),
    ("POST", "/staff/volunteers/{pending_volunteer}/approve", None, station(302)),
    ("POST", "/staff/volunteers/{pending_volunteer}/decline", {"reason": "名额已满"}, station(302)),
    (
        "POST",
        "/staff/volunteer-tasks",
        lambda i: {
            "venue_id": str(i["station"]),
            "title": "演出引导",
            "day": _later(4),
            "starts": "09:00",
            "ends": "11:00",
            "places": "3",
        },
        station(302),
    ),
    ("GET", "/staff/volunteer-tasks/{vtask}", None, station()),
    ("POST", "/staff/volunteer-tasks/{vtask}/cancel", None, station(302)),
    ("POST", "/staff/volunteer-signups/{vsignup}/correct", {"hours": "1", "note": "补录"}, station(302)),
    ("GET", "/staff/volunteers/door", None, staff_only()),
    # --- feedback and satisfaction
    ("POST", f"{A}/bookings/{{booking}}/feedback", {"rating": 4}, {"anonymous": 401, "resident": 409, "*": 404}),
    ("GET", f"{A}/bookings/{{booking}}/feedback", None, {"anonymous": 401, "*": 404}),
    ("PUT", f"{A}/bookings/{{booking}}/feedback", {"rating": 4}, {"anonymous": 401, "*": 404}),
    ("PATCH", f"{A}/bookings/{{booking}}/feedback", {"rating": 4}, {"anonymous": 401, "*": 404}),
    ("GET", f"{A}/reports/satisfaction?venue={{station}}", None, reporters(anon=401)),
    ("GET", f"{A}/reports/satisfaction/comments?venue={{station}}", None, reporters(anon=401)),
    ("GET", f"{A}/reports/satisfaction/survey?venue={{station}}", None, reporters(anon=401)),
    ("GET", "/bookings/{booking}/feedback", None, {"anonymous": 302, "resident": 200, "*": 404}),
    ("POST", "/bookings/{booking}/feedback", {"rating": "4"}, {"anonymous": 302, "resident": 409, "*": 404}),
    ("GET", "/reports/satisfaction?venue={station}", None, reporters()),
    ("GET", "/reports/satisfaction/survey.csv?venue={station}", None, reporters()),
    # --- notify: failed messages (staff)
    ("GET", "/staff/notifications/failed", None, managers_only()),
    ("POST", "/staff/notifications/{message}/resend", None, station(303)),  # a sibling's was a 303 (resent)
]


def _why(response) -> str:
    text = response.get_data(as_text=True)
    errors = re.findall(r'class="(?:error|flash[^"]*)"[^>]*>(.*?)</', text, re.S)
    return " | ".join(e.strip() for e in errors)[:400] if errors else text[:300]


SIGNS_OUT = {"/logout", "/account/password", "/account/delete", "/api/v1/me/delete"}


def _send(client, method: str, path: str, body):
    path = path.split("#")[0]
    if method == "GET":
        return client.get(path)
    files = isinstance(body, dict) and any(callable(v) for v in body.values())
    if path.startswith("/api/") and not files:
        return client.open(path, method=method, json=body if body is not None else {})
    if path.startswith("/api/"):  # a multipart upload (a file part given as a callable)
        data = {k: (v() if callable(v) else v) for k, v in body.items()}
        return client.open(path, method=method, data=data, headers={"X-CSRFToken": client.csrf_token()})
    if body is not None:
        body = {k: (v() if callable(v) else v) for k, v in body.items()}
    return client.open(path, method=method, data=body or {})


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "template", "body", "expected"), ROWS, ids=[f"{m} {p}" for m, p, _b, _e in ROWS])
def test_authorization_matrix(world, caller, method, template, body, expected):
    world.fresh()
    client = world.client(caller)
    path = template.format(**world.ids)
    if callable(body):
        body = body(world.ids)
    response = _send(client, method, path, body)
    status = response.status_code
    if status >= 500 or method != "GET" and status < 400 and caller != "anonymous":
        world.dirty = True  # a write went through: put the rows back before the next test (refusals commit nothing)
    if path in SIGNS_OUT:
        world.clients.pop(caller, None)  # this client's session changed: sign in afresh next time
    want = expected.get(caller, expected["*"])
    detail = _why(response) if status != want else ""
    assert status == want, f"{caller} {method} {path}: {status}, expected {want} {detail}"
    if status == 302 and caller == "anonymous" and want == 302 and method == "GET":
        assert "/login" in response.headers["Location"]


def _rules_of_rows(app) -> set[tuple[str, str]]:
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, template, _body, _expected in ROWS:
        path = template.split("#")[0].split("?")[0]
        path = path.format(**{k: "1" for k in _placeholders()})
        rule, _args = adapter.match(path, method=method, return_rule=True)
        covered.add((method, rule.rule))
    return covered


def _placeholders():
    import string

    names = set()
    for _m, template, _b, _e in ROWS:
        names.update(name for _t, name, _s, _c in string.Formatter().parse(template) if name)
    return names


def test_every_endpoint_is_in_the_matrix(session_app):
    app = session_app
    covered = _rules_of_rows(app)
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/_bench"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            key = (method, rule.rule)
            if key not in covered and key not in EXEMPT:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without a row in the authorization matrix:\n" + "\n".join(missing)


def test_the_exempt_list_names_only_real_routes(session_app):
    app = session_app
    real = {(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods}
    assert set(EXEMPT) <= real, set(EXEMPT) - real
