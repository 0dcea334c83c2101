"""The booking-state rule (activities/booking_state.py), written once and read by cards, pages and the API;
and the resident pages that show it: home, search (书法 finds calligraphy), venue page, the confirmation."""

from datetime import timedelta

import pytest

from activities.booking_state import Mine, activity_state, unit_state
from bookings.models import Booking, BookingStatus
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f


@pytest.fixture
def net(app):
    net = f.network()
    f.commit()
    return net


def _state(act, session=None, **kw):
    if session is None and not act.is_course:
        session = act.sessions[0]
    return unit_state(act, session, af.now(), **kw)


def test_seats_left_then_few_then_full_or_waiting_list(net):
    act = af.activity(net["branch"], capacity=40)
    assert _state(act).code == "available" and _state(act).seats == 40 and _state(act).action == "book"
    act.sessions[0].seats_taken = 37
    assert _state(act).code == "few_left" and _state(act).seats == 3
    act.sessions[0].seats_taken = 40
    assert _state(act).code == "waitlist" and _state(act).action == "waitlist"
    assert _state(act, waiting=4).position == 5
    act.has_waiting_list = False
    assert _state(act).code == "full" and _state(act).action is None


def test_lottery_opens_soon_closed_walk_in_ended(net):
    lottery = af.activity(net["branch"], policy="lottery", capacity=5)
    assert _state(lottery).code == "lottery_open" and _state(lottery).at is not None
    assert _state(lottery).action == "lottery"
    later = af.activity(net["branch"], signup_opens_at=af.now() + timedelta(days=1))
    assert _state(later).code == "opens_soon" and _state(later).action is None
    closed = af.activity(net["branch"], signup_closes_at=af.now() - timedelta(hours=1))
    assert _state(closed).code == "closed"
    walk_in = af.activity(net["branch"], policy="walk_in")
    assert _state(walk_in).code == "no_booking" and _state(walk_in).action is None
    past = af.activity(net["branch"], at=af.now() - timedelta(days=10), starts_in=timedelta(days=2))
    assert _state(past).code == "ended" and activity_state(past, af.now()).code == "ended"


def test_the_residents_own_booking_wins_and_carries_its_numbers(net):
    act = af.activity(net["branch"], capacity=1)
    assert _state(act, mine=Mine("waitlisted", position=2)).code == "waiting"
    assert _state(act, mine=Mine("waitlisted", position=2)).position == 2
    assert _state(act, mine=Mine("entered", draw_at=af.now())).code == "entered"
    assert _state(act, mine=Mine("confirmed")).code == "booked"
    assert _state(act, mine=Mine("cancelled")).code == "few_left"  # a cancelled booking is no longer mine


def test_english_labels_use_plurals(app, net):
    from flask_babel import force_locale

    act = af.activity(net["branch"], capacity=1)
    with app.test_request_context(), force_locale("en"):
        assert _state(act).label == "Only 1 seat left"
        act.sessions[0].capacity = 30
        assert _state(act).label == "Available (30 seats left)"


def test_search_finds_activities_by_category_name_and_venues(client, net):
    af.activity(net["branch"], title="少儿启蒙班", category="calligraphy", kind="course", sessions=2)
    af.activity(net["branch"], title="露天电影", category="film")
    f.commit()
    page = client.get("/search?q=书法").get_data(as_text=True)
    assert "少儿启蒙班" in page and "露天电影" not in page
    page = client.get(f"/search?q={net['branch'].name[:3]}").get_data(as_text=True)
    assert net["branch"].name in page


def test_home_and_venue_pages_show_cards_with_the_state(client, net):
    af.activity(net["branch"], title="周末合唱会", starts_in=timedelta(days=1), capacity=30)
    f.commit()
    home = client.get("/").get_data(as_text=True)
    assert "周末合唱会" in home and 'data-state="available"' in home
    venue = client.get(f"/venues/{net['branch'].id}").get_data(as_text=True)
    assert "周末合唱会" in venue
    listing = client.get("/activities").get_data(as_text=True)
    assert 'data-state="available"' in listing
    assert "Asia/Shanghai" not in home  # the footer says 北京时间, never the raw zone id


def test_booking_ends_on_the_confirmation_page_with_the_ticket(client, net):
    act = af.activity(net["branch"], title="新春音乐会", capacity=10)
    user = f.resident("13800000009")
    f.commit()
    client.login("13800000009")
    response = client.post(f"/activities/{act.id}/book", data={"session_id": str(act.sessions[0].id)})
    booking = db.session.query(Booking).filter_by(user_id=user.id).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/bookings/{booking.id}/done")
    page = client.get(f"/bookings/{booking.id}/done").get_data(as_text=True)
    assert 'id="ticket-qr"' in page and user.name in page and "新春音乐会" in page
    ics = client.get(f"/bookings/{booking.id}.ics")
    assert ics.status_code == 200 and b"BEGIN:VEVENT" in ics.data
    other = f.resident("13800000010")
    f.commit()
    client.login("13800000010")
    assert client.get(f"/bookings/{booking.id}/done").status_code == 404
    assert other.id != user.id


def test_a_waitlisted_resident_sees_the_position_not_a_form(client, net):
    act = af.activity(net["branch"], capacity=1)
    af.book(f.resident("13800000011"), act)
    user = f.resident("13800000012")
    booking = af.book(user, act)
    f.commit()
    assert booking.status == BookingStatus.waitlisted
    client.login("13800000012")
    page = client.get(f"/activities/{act.id}").get_data(as_text=True)
    assert 'data-state="waiting"' in page and 'id="book-form"' not in page


def test_the_api_detail_carries_the_booking_state(client, net):
    act = af.activity(net["branch"], capacity=40)
    f.commit()
    body = client.get(f"/api/v1/activities/{act.id}").get_json()
    assert body["booking_state"]["code"] == "available" and body["booking_state"]["seats_left"] == 40
    assert body["sessions"][0]["booking_state"]["action"] == "book"
