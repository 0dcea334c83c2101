"""Feedback after attending: one answer per booking, only after a check-in, editable for 7 days; the ask in the
inbox; 满意度 figures with service-order ratings, scope checks, masked comments and the anonymised survey export."""

from datetime import timedelta

from sqlalchemy import select

from accounts.models import Role
from bookings.models import Booking
from core.extensions import db
from feedback import services
from notify.models import Message
from tests import activity_factories as af
from tests import factories as f

A = "/api/v1"


def _attended(net, *, phone="13778000001", name="张秀兰"):
    act = af.activity(net["station"], starts_in=timedelta(minutes=30), title="剪纸课")
    holder = f.resident(phone, name=name)
    booking = af.book(holder, act)
    booking.checked_in_at = af.now()
    f.commit()
    return act, holder, booking


def test_rate_once_after_attending_and_edit_for_a_week(client, travel):
    net = f.network()
    act, holder, booking = _attended(net)
    unattended = af.book(f.resident("13778000002"), act)
    f.commit()
    client.login("13778000002")
    r = client.post(f"{A}/bookings/{unattended.id}/feedback", json={"rating": 4})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_attended"
    assert client.post(f"{A}/bookings/{booking.id}/feedback", json={"rating": 4}).status_code == 404
    client.login("13778000001")
    assert client.post(f"{A}/bookings/{booking.id}/feedback", json={"rating": 6}).status_code == 422
    assert client.post(f"{A}/bookings/{booking.id}/feedback", json={"rating": 3, "tags": ["x"]}).status_code == 422
    r = client.post(
        f"{A}/bookings/{booking.id}/feedback", json={"rating": 2, "tags": ["venue", "timing"], "comment": "太冷了"}
    )
    assert r.status_code == 201, r.json
    dup = client.post(f"{A}/bookings/{booking.id}/feedback", json={"rating": 5})
    assert dup.status_code == 409 and dup.json["error"]["code"] == "duplicate"
    r = client.patch(f"{A}/bookings/{booking.id}/feedback", json={"rating": 3})
    assert r.status_code == 200 and r.json["rating"] == 3 and r.json["comment"] == "太冷了"
    travel(af.now() + timedelta(days=8))
    client.login("13778000001")
    late = client.put(f"{A}/bookings/{booking.id}/feedback", json={"rating": 5})
    assert late.status_code == 409 and late.json["error"]["code"] == "not_editable"


def test_the_job_asks_once_after_the_session(app, travel):
    net = f.network()
    act, holder, booking = _attended(net)
    assert services.ask_for_feedback(af.now()) == 0  # the session has not ended
    later = act.sessions[0].ends_at + timedelta(minutes=10)
    services.ask_for_feedback(later)
    services.ask_for_feedback(later + timedelta(minutes=10))
    asked = db.session.execute(select(Message).where(Message.template == "feedback_request")).scalars().all()
    assert len(asked) == 1 and asked[0].recipient_id == holder.id


def test_satisfaction_figures_scope_comments_and_survey(client):
    net = f.network()
    act, holder, booking = _attended(net)
    services.give_feedback(booking, data={"rating": 2, "comment": "音响不好"}, user=holder)
    _a2, h2, b2 = _attended(net, phone="13778000003", name="李建国")
    services.give_feedback(b2, data={"rating": 5}, user=h2)
    station_staff = f.staff(net["station"])
    sibling = f.staff(net["sibling"])
    manager = f.staff(net["hub"], Role.manager)
    f.commit()
    client.login(station_staff.login)
    r = client.get(f"{A}/reports/satisfaction?venue={net['station'].id}")
    assert r.status_code == 200, r.json
    assert r.json["responses"] == 2 and r.json["mean"] == 3.5 and r.json["rows"][0]["label"] == net["station"].name
    by_district = client.get(f"{A}/reports/satisfaction?group=district").json
    assert by_district["rows"][0]["key"] == net["station"].district_code
    comments = client.get(f"{A}/reports/satisfaction/comments").json["items"]
    assert comments[0]["comment"] == "音响不好" and comments[0]["by"] != "张秀兰" and "*" in comments[0]["by"]
    client.login(sibling.login)
    assert client.get(f"{A}/reports/satisfaction?venue={net['station'].id}").status_code == 403
    assert client.get(f"{A}/reports/satisfaction").json["responses"] == 0
    client.login(manager.login)
    survey = client.get(f"{A}/reports/satisfaction/survey?format=csv")
    text = survey.get_data(as_text=True)
    assert survey.status_code == 200 and "音响不好" in text and "张秀兰" not in text and "13778000001" not in text
    xlsx = client.get(f"{A}/reports/satisfaction/survey?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    page = client.get("/reports/satisfaction")
    assert page.status_code == 200 and "音响不好" in page.get_data(as_text=True)


def test_the_booking_page_offers_the_rating(client):
    net = f.network()
    act, holder, booking = _attended(net)
    client.login("13778000001")
    html = client.get("/my/bookings").get_data(as_text=True)
    assert f"/bookings/{booking.id}/feedback" in html
    form = client.get(f"/bookings/{booking.id}/feedback")
    assert form.status_code == 200
    r = client.post(f"/bookings/{booking.id}/feedback", data={"rating": "4", "tags": ["content"]})
    assert r.status_code == 302
    assert db.session.get(Booking, booking.id) is not None
