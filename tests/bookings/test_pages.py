"""Resident and staff pages: find, book, see, cancel; create, schedule, publish; rosters, decisions, credit."""

from datetime import timedelta

import pytest

from activities.models import Activity, ActivityStatus
from bookings import services
from bookings.models import Booking, BookingStatus
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f


@pytest.fixture
def world(app):
    net = f.network()
    staff = f.staff(net["branch"], login="branch")
    room = f.room(net["branch"])
    course = af.activity(
        net["branch"],
        actor=staff,
        kind="course",
        title="少儿书法班",
        age_min=6,
        age_max=12,
        sessions=3,
        capacity=10,
        category="calligraphy",
    )
    event = af.activity(net["community"], actor=staff, title="露天电影放映", capacity=2, category="film")
    user = f.resident("13800000001", birth_year=1960)
    kid = af.member(user, name="王小明", birth_year=af.now().year - 8)
    f.commit()
    return {"net": net, "staff": staff, "course": course, "event": event, "user": user, "kid": kid, "room": room}


def test_the_list_filters_by_district_age_and_chinese_text(client, world):
    page = client.get("/activities?q=书法&age=8").get_data(as_text=True)
    assert "少儿书法班" in page and "露天电影放映" not in page
    page = client.get("/activities?age=40").get_data(as_text=True)
    assert "少儿书法班" not in page and "露天电影放映" in page
    page = client.get(f"/activities?venue={world['net']['station'].id}").get_data(as_text=True)
    assert "露天电影放映" in page and "少儿书法班" not in page


@pytest.mark.parametrize("query", ["age=abc", "from=2026-13-40", "venue=-1", "page=0", "kind=<script>", "q=%25%25"])
def test_bad_filters_are_ignored_never_a_500(client, world, query):
    assert client.get(f"/activities?{query}").status_code == 200


def test_resident_books_a_class_for_a_child_and_sees_it_in_my_bookings(client, world):
    client.login("13800000001")
    page = client.get(f"/activities/{world['course'].id}").get_data(as_text=True)
    assert "10 / 10" in page
    response = client.post(f"/activities/{world['course'].id}/book", data={"participant_ids": [str(world["kid"].id)]})
    assert response.status_code == 302
    mine = client.get("/my/bookings").get_data(as_text=True)
    assert "少儿书法班" in mine
    assert db.session.query(Booking).one().status == BookingStatus.confirmed


def test_an_ineligible_participant_gets_the_reason_on_the_page(client, world):
    client.login("13800000001")
    response = client.post(
        f"/activities/{world['course'].id}/book", data={"participant_ids": [str(world["user"].self_participant.id)]}
    )
    assert response.status_code == 422
    assert db.session.query(Booking).count() == 0


def test_booking_a_session_of_another_activity_is_refused(client, world):
    client.login("13800000001")
    other = af.first_session(world["event"]).id
    response = client.post(f"/activities/{world['course'].id}/book", data={"session_id": str(other)})
    assert response.status_code in (302, 422)
    response = client.post(f"/activities/{world['event'].id}/book", data={"session_id": "999999"})
    assert response.status_code == 422
    assert db.session.query(Booking).count() <= 1


def test_cancel_from_my_bookings(client, world):
    booking = af.book(world["user"], world["event"])
    f.commit()
    client.login("13800000001")
    client.post(f"/bookings/{booking.id}/cancel", data={})
    assert db.session.get(Booking, booking.id).status == BookingStatus.cancelled


def test_another_residents_booking_cannot_be_cancelled_from_the_page(client, world):
    booking = af.book(f.resident("13800000002"), world["event"])
    f.commit()
    client.login("13800000001")
    assert client.post(f"/bookings/{booking.id}/cancel", data={}).status_code == 404


def test_suspended_resident_sees_the_notice_with_strikes(client, world):
    user = world["user"]
    for _ in range(3):
        services.record_strike(af.book(user, af.activity()), af.now())
    f.commit()
    client.login("13800000001")
    page = client.get("/my/bookings").get_data(as_text=True)
    assert 'role="alert"' in page


def test_staff_create_schedule_weekly_and_publish(client, world):
    client.login("branch")
    branch = world["net"]["branch"]
    response = client.post(
        "/staff/activities/new",
        data={
            "kind": "course",
            "venue_id": str(branch.id),
            "room_id": str(world["room"].id),
            "title": "二胡提高班",
            "category": "music",
            "policy": "approval",
            "capacity": "12",
            "max_party_size": "1",
            "cancel_hours": "2",
            "has_waiting_list": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    act = db.session.query(Activity).filter_by(title="二胡提高班").one()
    start = (af.now() + timedelta(days=5)).date()
    response = client.post(
        f"/staff/activities/{act.id}/weekly",
        data={
            "weekly-first_on": start.isoformat(),
            "weekly-until_on": (start + timedelta(days=20)).isoformat(),
            "weekly-weekdays": [str(start.weekday())],
            "weekly-starts": "14:00",
            "weekly-ends": "15:30",
            "weekly-except_on": (start + timedelta(days=7)).isoformat(),
        },
    )
    assert response.status_code == 302
    db.session.refresh(act)
    assert len(act.sessions) == 2
    client.post(f"/staff/activities/{act.id}/publish", data={})
    db.session.refresh(act)
    assert act.status == ActivityStatus.published


def test_quick_form_lists_a_village_film_night_in_one_step(client, world):
    client.login("branch")
    village = world["net"]["community"]
    day = (af.now() + timedelta(days=2)).date()
    response = client.post(
        "/staff/activities/quick",
        data={
            "title": "周末露天电影",
            "category": "film",
            "venue_id": str(village.id),
            "on": day.isoformat(),
            "starts": "19:00",
            "ends": "21:00",
        },
    )
    assert response.status_code == 302
    act = db.session.query(Activity).filter_by(title="周末露天电影").one()
    assert act.status == ActivityStatus.published and act.policy.value == "walk_in"


def test_staff_outside_scope_cannot_manage(client, world):
    f.staff(world["net"]["sibling"], login="sibling")
    f.commit()
    client.login("sibling")
    assert client.get(f"/staff/activities/{world['event'].id}").status_code == 403
    assert client.get(f"/staff/sessions/{af.first_session(world['event']).id}/roster").status_code == 403


def test_roster_shows_masked_phones_and_exports_csv(client, world):
    af.book(world["user"], world["event"])
    f.commit()
    client.login("branch")
    sid = af.first_session(world["event"]).id
    page = client.get(f"/staff/sessions/{sid}/roster").get_data(as_text=True)
    assert "138****0001" in page and "13800000001" not in page
    csv = client.get(f"/staff/sessions/{sid}/roster.csv").get_data(as_text=True)
    assert "138****0001" in csv and "13800000001" not in csv


def test_bulk_reject_with_reason_from_the_page(client, world):
    act = af.activity(world["net"]["branch"], actor=world["staff"], policy="approval")
    ids = [af.book(f.resident(), act).id for _ in range(2)]
    f.commit()
    client.login("branch")
    client.post(
        f"/staff/activities/{act.id}/signups",
        data={"booking_ids": [str(i) for i in ids], "decision": "reject", "reason": "需有基础"},
    )
    assert {db.session.get(Booking, i).status for i in ids} == {BookingStatus.rejected}


def test_staff_book_for_a_caller_and_lift_a_suspension(client, world):
    client.login("branch")
    sid = af.first_session(world["event"]).id
    response = client.post(
        "/staff/book",
        data={
            "caller": "13800000001",
            "session_id": str(sid),
            "participant_ids": [str(world["user"].self_participant.id)],
        },
    )
    assert response.status_code == 302
    assert db.session.query(Booking).one().booked_by_id == world["staff"].id
    user = world["user"]
    for _ in range(3):  # no-shows at the branch: its staff may lift the suspension
        services.record_strike(af.book(user, af.activity(world["net"]["branch"], actor=world["staff"])), af.now())
    f.commit()
    client.post("/staff/credit", data={"resident": "13800000001", "note": "已电话说明"})
    db.session.refresh(user)
    assert user.suspended_until is None


def test_calendar_feeds(client, world):
    venue_feed = client.get(f"/calendar/venues/{world['net']['hub'].id}.ics")
    assert venue_feed.status_code == 200 and venue_feed.mimetype == "text/calendar"
    body = venue_feed.get_data(as_text=True)
    assert body.count("BEGIN:VEVENT") == 4 and "露天电影放映" in body
    district = client.get("/calendar/districts/211104.ics").get_data(as_text=True)
    assert "少儿书法班" in district
    assert client.get("/calendar/districts/nowhere.ics").status_code == 404
    assert client.get("/calendar/venues/999999.ics").status_code == 404


def test_lottery_page_shows_seed_and_masked_entries_after_the_draw(client, world):
    from bookings import jobs

    closes = af.now() + timedelta(days=1)
    act = af.activity(
        world["net"]["branch"],
        actor=world["staff"],
        kind="course",
        policy="lottery",
        capacity=1,
        signup_closes_at=closes,
        sessions=2,
    )
    af.book(f.resident(name="张秀兰"), act)
    af.book(f.resident(name="李建国"), act)
    f.commit()
    jobs.draw_due_lotteries(closes)
    from bookings.models import LotteryDraw

    seed = db.session.query(LotteryDraw).one().seed
    page = client.get(f"/activities/{act.id}").get_data(as_text=True)
    entries_url = f"/activities/{act.id}/entries/c{act.id}"
    assert seed in page and entries_url in page and "张秀兰" not in page
    entries = client.get(entries_url).get_data(as_text=True)
    assert seed in entries and "张*兰" in entries and "李*国" in entries and "张秀兰" not in entries
    assert client.get("/lottery/how-to-verify").status_code == 200
    assert client.get(f"/activities/{act.id}/entries/s1").status_code == 404  # not a unit of this activity
    other = af.activity(world["net"]["branch"], actor=world["staff"])
    f.commit()
    assert client.get(f"/activities/{other.id}/entries/c{other.id}").status_code == 404  # not a lottery


def test_a_lottery_page_costs_the_same_queries_with_many_entries(client, world):
    from tests.dbs import recorded_statements

    act = af.activity(world["net"]["branch"], actor=world["staff"], kind="course", policy="lottery", capacity=2)
    af.book(f.resident(name="张秀兰"), act)
    f.commit()

    def queries(path):
        with recorded_statements(db) as seen:
            assert client.get(path).status_code == 200
        return len(seen)

    few = (queries(f"/activities/{act.id}"), queries(f"/activities/{act.id}/entries/c{act.id}"))
    for n in range(12):
        af.book(f.resident(name=f"王{n}明"), act)
    f.commit()
    many = (queries(f"/activities/{act.id}"), queries(f"/activities/{act.id}/entries/c{act.id}"))
    assert many == few


def test_a_draft_activity_page_is_404_to_residents(client, world):
    draft = af.activity(world["net"]["branch"], actor=world["staff"], publish=False)
    f.commit()
    assert client.get(f"/activities/{draft.id}").status_code == 404


def test_calendar_week_and_month_views(client, world):
    start = af.first_session(world["event"]).starts_at.date().isoformat()
    week = client.get(f"/activities/calendar?start={start}").get_data(as_text=True)
    assert "露天电影放映" in week
    month = client.get(f"/activities/calendar?view=month&start={start}&district=211122")
    assert month.status_code == 200 and "露天电影放映" not in month.get_data(as_text=True)
    assert client.get("/activities/calendar?start=garbage&view=x").status_code == 200


def _picture(fmt: str = "PNG", size=(3000, 2000)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def test_cover_picture_is_checked_shrunk_and_served(client, world, tmp_path, monkeypatch):
    import io

    from PIL import Image

    monkeypatch.setitem(client.application.config, "UPLOAD_DIR", str(tmp_path))
    client.login("branch")
    act = world["event"]
    fake = client.post(
        f"/staff/activities/{act.id}/cover",
        data={"cover": (io.BytesIO(b"<?php echo 1; ?>"), "cover.jpg")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422
    gif = client.post(
        f"/staff/activities/{act.id}/cover",
        data={"cover": (io.BytesIO(_picture("GIF")), "a.gif")},
        content_type="multipart/form-data",
    )
    assert gif.status_code == 422
    db.session.refresh(act)
    assert act.cover_image is None
    ok = client.post(
        f"/staff/activities/{act.id}/cover",
        data={"cover": (io.BytesIO(_picture()), "a.png")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    db.session.refresh(act)
    served = client.get(f"/media/activities/{act.cover_image}")
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.format == "JPEG" and image.size == (1200, 800)
    assert act.cover_image in client.get(f"/activities/{act.id}").get_data(as_text=True)
    assert client.get("/media/activities/..%2F..%2Fsecret.jpg").status_code == 404
