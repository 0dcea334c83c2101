"""Volunteering through the API: registration and decisions, tasks, sign-ups and their refusals, the door
(check in, then out, hours), corrections (audited), the record and the staff figures; on SQLite and PostgreSQL."""

from datetime import timedelta

from sqlalchemy import func, select

from core.audit import AuditEntry
from core.extensions import db
from notify.models import Message
from tests import activity_factories as af
from tests import factories as f
from tests.volunteers import world
from volunteers import services
from volunteers.models import Volunteer, VolunteerSignup

A = "/api/v1"


def test_register_approve_and_decline(client):
    net = f.network()
    staff = f.staff(net["station"])
    sibling = f.staff(net["sibling"])
    f.resident("13770000011", name="李明")
    f.resident("13770000012", name="赵红")
    f.commit()
    client.login("13770000011")
    body = {"venue_id": net["station"].id, "skills": ["guiding", "writing"], "availability": ["weekend"]}
    r = client.post(f"{A}/volunteers", json=body)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "pending"
    vid = r.json["id"]
    assert client.post(f"{A}/volunteers", json=body).json["error"]["code"] == "duplicate"
    bad = client.post(f"{A}/volunteers", json={**body, "skills": ["juggling"]})
    assert bad.status_code == 422
    assert client.post(f"{A}/volunteers", json={**body, "skills": []}).status_code == 422
    assert client.post(f"{A}/volunteers", json={**body, "id_number": "110101199003071234"}).status_code == 422

    client.login(sibling.login)
    assert client.post(f"{A}/volunteers/{vid}/approve", json={}).status_code == 403
    client.login(staff.login)
    assert client.post(f"{A}/volunteers/{vid}/decline", json={"reason": ""}).status_code == 422
    listed = client.get(f"{A}/volunteers?status=pending").json["items"]
    assert [v["id"] for v in listed] == [vid] and "*" in listed[0]["phone"]
    r = client.post(f"{A}/volunteers/{vid}/approve", json={})
    assert r.status_code == 200 and r.json["status"] == "approved"
    assert client.post(f"{A}/volunteers/{vid}/approve", json={}).json["error"]["code"] == "invalid_transition"
    assert db.session.execute(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "volunteer.approved")
    ).scalar()

    client.login("13770000012")
    r = client.post(f"{A}/volunteers", json=body)
    client.login(staff.login)
    r = client.post(f"{A}/volunteers/{r.json['id']}/decline", json={"reason": "名额已满"})
    assert r.json["status"] == "declined" and r.json["decline_reason"] == "名额已满"
    assert db.session.execute(select(Message).where(Message.template == "volunteer_decided")).first()


def test_a_minor_needs_a_guardians_consent(client, app):
    net = f.network()
    year = af.now().year
    f.resident("13770000021", name="小明", birth_year=year - 15)
    f.commit()
    client.login("13770000021")
    body = {"venue_id": net["station"].id, "skills": ["performing"], "availability": ["weekend"]}
    r = client.post(f"{A}/volunteers", json=body)
    assert r.status_code == 422
    assert {"guardian_name", "guardian_phone", "guardian_consent"} <= set(r.json["error"]["fields"])
    r = client.post(
        f"{A}/volunteers",
        json={**body, "guardian_name": "王丽", "guardian_phone": "13900000001", "guardian_consent": True},
    )
    assert r.status_code == 201 and r.json["is_minor"] and r.json["guardian_consent_at"]


def test_tasks_are_published_in_scope_only(client):
    net = f.network()
    staff = f.staff(net["station"])
    act = af.activity(net["station"], actor=staff)
    other = af.activity(net["sibling"])
    f.commit()
    client.login(staff.login)
    start = af.now() + timedelta(days=3)
    body = {
        "venue_id": net["station"].id,
        "title": "演出引导",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "places": 3,
    }
    r = client.post(f"{A}/volunteer-tasks", json={**body, "activity_id": act.id})
    assert r.status_code == 201 and r.json["id"]
    assert client.post(f"{A}/volunteer-tasks", json={**body, "venue_id": net["sibling"].id}).status_code == 403
    assert client.post(f"{A}/volunteer-tasks", json={**body, "activity_id": other.id}).status_code == 422
    assert client.post(f"{A}/volunteer-tasks", json={**body, "places": 0}).status_code == 422
    late = {**body, "ends_at": (start - timedelta(hours=1)).isoformat()}
    assert client.post(f"{A}/volunteer-tasks", json=late).status_code == 422
    past = {**body, "starts_at": (af.now() - timedelta(hours=3)).isoformat(), "ends_at": af.now().isoformat()}
    assert client.post(f"{A}/volunteer-tasks", json=past).status_code == 422


def test_sign_up_refusals_full_duplicate_not_approved(client):
    w = world.build(places=1)
    f.resident("13770000031", name="周八")
    other = f.resident("13770000032", name="吴九")
    v2 = services.register_volunteer(
        other, data={"venue": w.net["station"], "skills": ["guiding"], "availability": ["weekend"]}
    )
    services.approve_volunteer(v2, actor=w.staff)
    f.commit()
    client.login("13770000031")
    assert client.post(f"{A}/volunteer-tasks/{w.task.id}/signups", json={}).json["error"]["code"] == "not_approved"
    client.login(w.resident.phone)
    tasks = client.get(f"{A}/volunteer-tasks").json["items"]
    assert tasks[0]["id"] == w.task.id and tasks[0]["matches"]
    r = client.post(f"{A}/volunteer-tasks/{w.task.id}/signups", json={})
    assert r.status_code == 201, r.json
    assert r.json["ticket"]["payload"].startswith("CN1:V") and len(r.json["ticket"]["code"]) == 8
    again = client.post(f"{A}/volunteer-tasks/{w.task.id}/signups", json={})
    assert again.status_code == 409 and again.json["error"]["code"] == "duplicate"
    client.login("13770000032")
    full = client.post(f"{A}/volunteer-tasks/{w.task.id}/signups", json={})
    assert full.status_code == 409 and full.json["error"]["code"] == "full"
    assert db.session.execute(select(func.count(VolunteerSignup.id))).scalar_one() == 1
    reminder = db.session.execute(select(Message).where(Message.template == "volunteer_reminder")).scalars().first()
    assert reminder is not None


def test_cancel_gives_the_place_back_and_a_new_signup_reuses_the_row(client):
    w = world.build(places=1)
    client.login(w.resident.phone)
    signup_id = client.post(f"{A}/volunteer-tasks/{w.task.id}/signups", json={}).json["id"]
    r = client.post(f"{A}/volunteer-signups/{signup_id}/cancel", json={})
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert (
        client.post(f"{A}/volunteer-signups/{signup_id}/cancel", json={}).json["error"]["code"] == "invalid_transition"
    )
    db.session.expire_all()
    assert w.task.places_taken == 0
    again = client.post(f"{A}/volunteer-tasks/{w.task.id}/signups", json={})
    assert again.status_code == 201 and again.json["id"] == signup_id


def test_a_volunteer_cannot_cancel_two_hours_before(client):
    w = world.build(starts_in=timedelta(hours=1))
    client.login(w.resident.phone)
    signup_id = client.post(f"{A}/volunteer-tasks/{w.task.id}/signups", json={}).json["id"]
    r = client.post(f"{A}/volunteer-signups/{signup_id}/cancel", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "too_late"
    client.login(w.staff.login)
    assert client.post(f"{A}/volunteer-signups/{signup_id}/cancel", json={}).status_code == 200


def test_the_door_checks_in_then_out_and_credits_hours(client, travel):
    w = world.build(starts_in=timedelta(minutes=30), hours=3)
    signup = services.sign_up(w.task, user=w.resident)
    f.commit()
    payload = services.ticket_payload(signup)
    start = w.task.starts_at
    client.login(w.sibling.login)
    assert client.post(f"{A}/checkins", json={"payload": payload}).status_code == 403
    client.login(w.door.login)
    r = client.post(f"{A}/checkins", json={"payload": payload, "scan_id": "scan-in-0001"})
    assert r.status_code == 201, r.json
    assert r.json["kind"] == "volunteer" and r.json["direction"] == "in" and "*" in r.json["holder"]
    replay = client.post(f"{A}/checkins", json={"payload": payload, "scan_id": "scan-in-0001"})
    assert replay.status_code == 201 and replay.json["replayed"]
    double = client.post(f"{A}/checkins", json={"payload": payload})
    assert double.status_code == 409 and double.json["error"]["code"] == "already_checked_in"
    travel(start + timedelta(hours=2, minutes=30))
    client.login(w.door.login)
    out = client.post(f"{A}/checkins", json={"payload": payload, "scan_id": "scan-out-001"})
    assert out.status_code == 201, out.json
    assert out.json["direction"] == "out" and 2.9 <= out.json["hours"] <= 3.1
    third = client.post(f"{A}/checkins", json={"payload": payload})
    assert third.status_code == 409 and third.json["error"]["code"] == "already_checked_in"
    client.login(w.resident.phone)
    mine = client.get(f"{A}/me/volunteering").json
    assert 2.9 <= mine["hours"] <= 3.1 and mine["tasks"][0]["state"] == "served"
    # a forged volunteer ticket is refused before the database
    client.login(w.door.login)
    forged = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    assert client.post(f"{A}/checkins", json={"payload": forged}).json["error"]["code"] == "invalid_ticket"


def test_the_door_refuses_too_early_and_cancelled(client):
    w = world.build(starts_in=timedelta(days=2))
    signup = services.sign_up(w.task, user=w.resident)
    f.commit()
    client.login(w.door.login)
    payload = services.ticket_payload(signup)
    assert client.post(f"{A}/checkins", json={"payload": payload}).json["error"]["code"] == "too_early"
    services.cancel_signup(signup, actor=w.resident)
    f.commit()
    assert client.post(f"{A}/checkins", json={"payload": payload}).json["error"]["code"] == "cancelled"


def test_staff_correct_hours_with_a_note_audited(client, travel):
    w = world.build(starts_in=timedelta(minutes=30), hours=2)
    signup = services.sign_up(w.task, user=w.resident)
    f.commit()
    client.login(w.staff.login)
    body = {"minutes": 120, "note": "忘记签退"}
    assert client.patch(f"{A}/volunteer-signups/{signup.id}/service", json=body).json["error"]["code"] == "too_early"
    travel(w.task.ends_at + timedelta(hours=1))
    client.login(w.sibling.login)
    assert client.patch(f"{A}/volunteer-signups/{signup.id}/service", json=body).status_code == 403
    client.login(w.staff.login)
    assert client.patch(f"{A}/volunteer-signups/{signup.id}/service", json={"minutes": 60}).status_code == 422
    r = client.patch(f"{A}/volunteer-signups/{signup.id}/service", json=body)
    assert r.status_code == 200 and r.json["hours"] == 2
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "volunteer_signup.correct")).scalar_one()
    assert entry.details["after"] == 120 and entry.details["note"] == "忘记签退"
    roster = client.get(f"{A}/volunteer-tasks/{w.task.id}/roster").json
    assert roster["items"][0]["state"] == "served"
    hours = client.get(f"{A}/volunteer-hours?by=team").json
    assert hours["rows"][0]["hours"] == 2
    commended = client.get(f"{A}/volunteer-commendations?hours=1").json
    assert [r["label"] for r in commended["rows"]] == ["王志愿"]
    figures = client.get(f"{A}/reports/volunteering").json["rows"]
    assert figures[0]["registered"] == 1 and figures[0]["active"] == 1 and figures[0]["hours"] == 2.0
    assert figures[0]["district_code"] == w.net["station"].district_code


def test_no_shows_are_listed(client, travel):
    w = world.build(starts_in=timedelta(minutes=30), hours=1)
    services.sign_up(w.task, user=w.resident)
    f.commit()
    travel(w.task.ends_at + timedelta(minutes=5))
    client.login(w.staff.login)
    roster = client.get(f"{A}/volunteer-tasks/{w.task.id}/roster").json
    assert roster["items"][0]["state"] == "no_show"
    page = client.get("/staff/volunteers")
    assert page.status_code == 200 and "王志愿" in page.get_data(as_text=True)


def test_the_certificate_lists_served_hours(client, travel):
    w = world.build(starts_in=timedelta(minutes=30), hours=2)
    signup = services.sign_up(w.task, user=w.resident)
    f.commit()
    travel(w.task.ends_at + timedelta(hours=1))
    services.correct_service(signup, minutes=90, note="补录", actor=w.staff)
    f.commit()
    client.login(w.resident.phone)
    page = client.get("/volunteering/certificate")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "展厅讲解" in html and "1.5" in html
    assert client.get("/volunteering/certificate?from=nonsense").status_code == 400
    assert db.session.get(Volunteer, w.volunteer.id).is_approved
