"""From the menu to the report: a village orders a film screening, the branch accepts and schedules it,
residents book the event, it is delivered and rated, and it counts as outreach."""

from datetime import time, timedelta

import pytest

from activities.models import ActivityKind, ActivityStatus
from core.errors import Forbidden, Invalid
from core.extensions import db
from core.i18n import local_datetime
from orders import queries, services
from orders.models import OrderStatus
from tests import activity_factories as af
from tests import factories as f
from tests.orders import factories as o
from tests.orders.factories import NOW, day

EVENING = time(19, 0)


def _accepted(w):
    order = o.order(w["film"], w["village_staff"], w["community"])
    services.accept_order(order, actor=w["branch_staff"], chosen_on=day(10), reply="按时到", now=NOW)
    return order


def _schedule(order, actor, on=None):
    starts = local_datetime(on or order.chosen_on, EVENING)
    return services.schedule_order(order, actor=actor, starts_at=starts, ends_at=starts + timedelta(hours=2), now=NOW)


def test_a_village_film_screening_goes_from_the_menu_to_the_outreach_figures(app):
    w = o.world()
    order = _accepted(w)
    _schedule(order, w["branch_staff"])
    activity = order.activity
    assert order.status == OrderStatus.scheduled and order.is_outreach
    assert (activity.kind, activity.status, activity.venue_id) == (
        ActivityKind.event,
        ActivityStatus.published,
        w["community"].id,
    )
    assert activity.is_outreach and activity.capacity == order.audience_size and activity.title == "公益电影放映"
    session = activity.sessions[0]
    assert order.session_id == session.id and session.starts_at == local_datetime(day(10), EVENING)

    resident = f.resident()
    booking = af.book(resident, activity, session, at=NOW, party_size=2)
    assert booking.status.value == "confirmed"

    with pytest.raises(services.InvalidTransition):  # not before the session starts
        services.deliver_order(order, actor=w["village_staff"], headcount=120, now=NOW)
    held = session.starts_at + timedelta(hours=2)
    services.deliver_order(
        order, actor=w["village_staff"], headcount=120, report="放映《长津湖》，村民反响热烈", now=held
    )
    services.rate_order(order, actor=w["village_staff"], rating=5, comment="很好", now=held)
    with pytest.raises(services.InvalidTransition):  # rate twice
        services.rate_order(order, actor=w["village_staff"], rating=1, now=held)
    assert order.status == OrderStatus.rated and order.rating == 5
    assert [e.status.value for e in order.events] == ["submitted", "accepted", "scheduled", "delivered", "rated"]

    figures = queries.figures(["/"], 2026)
    assert figures | {"outreach": None} == {
        "ordered": 1,
        "accepted": 1,
        "declined": 0,
        "delivered": 1,
        "withdrawn": 0,
        "waiting": 0,
        "median_days_to_answer": 0.0,
        "mean_rating": 5.0,
        "outreach": None,
    }
    assert figures["outreach"] == [
        {"district": "211104", "month": "2026-12", "scheduled": 1, "delivered": 1, "headcount": 120}
    ]
    record = queries.item_records([w["film"].id], 2026)[w["film"].id]
    assert record == {"delivered_this_year": 1, "mean_rating": 5.0, "ratings": 1}


def test_a_scheduled_order_cannot_be_withdrawn_and_must_be_on_the_agreed_date(app):
    w = o.world()
    order = _accepted(w)
    with pytest.raises(Invalid) as err:
        _schedule(order, w["branch_staff"], on=day(11))
    assert day(10).isoformat() in err.value.extra["fields"]["starts_at"][0]
    assert order.status == OrderStatus.accepted and order.activity_id is None
    _schedule(order, w["branch_staff"])
    with pytest.raises(services.InvalidTransition):
        services.withdraw_order(order, actor=w["village_staff"], now=NOW)
    with pytest.raises(services.InvalidTransition):
        _schedule(order, w["branch_staff"])  # twice


def test_a_group_order_is_held_at_the_provider_with_the_address_and_is_not_outreach(app):
    w = o.world()
    order = o.order(
        w["film"], f.resident(), None, group_name="幸福小区", address="幸福小区广场", district_code="211104"
    )
    services.accept_order(order, actor=w["branch_staff"], now=NOW)
    _schedule(order, w["branch_staff"])
    assert order.activity.venue_id == w["branch"].id and order.activity.place == "幸福小区广场"
    assert not order.is_outreach and not order.activity.is_outreach


def test_scheduling_outside_your_scope_or_in_the_past_changes_nothing(app):
    w = o.world()
    order = _accepted(w)
    with pytest.raises(Forbidden):
        _schedule(order, w["other_branch_staff"])
    with pytest.raises(Invalid):  # the activity's own rule: a session starts in the future
        services.schedule_order(
            order,
            actor=w["branch_staff"],
            starts_at=local_datetime(day(10), EVENING),
            ends_at=local_datetime(day(10), EVENING) + timedelta(hours=2),
            now=local_datetime(day(11), EVENING),
        )
    assert order.status == OrderStatus.accepted and order.activity_id is None


def test_a_cancelled_event_sends_the_order_back_to_accepted_for_rescheduling(app):
    from activities import services as activities

    w = o.world()
    order = _accepted(w)
    _schedule(order, w["branch_staff"])
    activity = order.activity
    activities.cancel_activity(activity, reason="暴雨", actor=w["branch_staff"], now=NOW)
    assert order.status == OrderStatus.accepted and order.activity_id is None and order.starts_at is None
    assert order.events[-1].status == OrderStatus.accepted and "暴雨" in order.events[-1].note
    _schedule(order, w["branch_staff"])
    assert order.status == OrderStatus.scheduled and order.activity_id != activity.id


def test_moving_the_session_moves_the_order_and_its_day_unless_that_day_is_full(app):
    from activities import services as activities
    from orders.services import loads

    w = o.world()
    order = _accepted(w)
    _schedule(order, w["branch_staff"])
    busy = o.order(w["film"], w["station_staff"], w["community"], dates=[day(11)])
    services.accept_order(busy, actor=w["branch_staff"], now=NOW)
    f.commit()
    session = order.activity.sessions[0]
    with pytest.raises(services.ProviderBusy):  # the film team is already booked on day 11
        activities.move_session(
            session,
            starts_at=local_datetime(day(11), EVENING),
            ends_at=local_datetime(day(11), EVENING) + timedelta(hours=2),
            actor=w["branch_staff"],
            now=NOW,
        )
    db.session.rollback()
    assert order.chosen_on == day(10) and session.starts_at == local_datetime(day(10), EVENING)
    activities.move_session(
        session,
        starts_at=local_datetime(day(12), EVENING),
        ends_at=local_datetime(day(12), EVENING) + timedelta(hours=2),
        actor=w["branch_staff"],
        now=NOW,
    )
    assert order.chosen_on == day(12) and order.starts_at == local_datetime(day(12), EVENING)
    assert loads.used(w["film"].id, day(10).isoformat()) == 0 and loads.used(w["film"].id, day(12).isoformat()) == 1
