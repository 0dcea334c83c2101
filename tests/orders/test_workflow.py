"""The order workflow as a database state machine: steps out of order are refused and change nothing;
racing staff cannot both move an order; quotas and a provider's day hold under concurrency."""

import pytest

from core.errors import Forbidden, Invalid
from core.extensions import db
from orders import services
from orders.models import OrderStatus, ServiceOrder
from orders.services import loads
from tests import factories as f
from tests.concurrency import race
from tests.orders import factories as o
from tests.orders.factories import NOW, day


def test_accept_then_withdraw_gives_back_the_day_and_the_quota(app):
    w = o.world()
    order = o.order(w["film"], w["village_staff"], w["community"])
    services.accept_order(order, actor=w["branch_staff"], chosen_on=day(12), reply="好的", now=NOW)
    assert (order.status, order.chosen_on, order.reply) == (OrderStatus.accepted, day(12), "好的")
    assert order.answered_at == NOW and loads.used(w["film"].id, day(12).isoformat()) == 1
    services.withdraw_order(order, actor=w["village_staff"], reason="场地冲突", now=NOW)
    assert order.status == OrderStatus.withdrawn
    assert loads.used(w["film"].id, day(12).isoformat()) == 0 and loads.used(w["film"].id, "2026") == 0
    assert [e.status for e in order.events] == [OrderStatus.submitted, OrderStatus.accepted, OrderStatus.withdrawn]
    assert order.events[-1].note == "场地冲突"


def test_a_step_out_of_order_is_refused_and_changes_nothing(app):
    w = o.world()
    order = o.order(w["film"], w["village_staff"], w["community"])
    with pytest.raises(services.InvalidTransition) as err:
        services.deliver_order(order, actor=w["branch_staff"], headcount=50, now=NOW)
    assert err.value.code == "invalid_transition" and err.value.status == 409
    with pytest.raises(services.InvalidTransition):
        services.rate_order(order, actor=w["village_staff"], rating=5, now=NOW)
    with pytest.raises(services.InvalidTransition):
        services.accept_counter(order, actor=w["village_staff"], now=NOW)
    services.accept_order(order, actor=w["branch_staff"], now=NOW)
    with pytest.raises(services.InvalidTransition):
        services.accept_order(order, actor=w["branch_staff"], now=NOW)
    with pytest.raises(services.InvalidTransition):
        services.decline_order(order, actor=w["branch_staff"], reason="不行", now=NOW)
    db.session.expire_all()
    order = db.session.get(ServiceOrder, order.id)
    assert order.status == OrderStatus.accepted and order.decline_reason == ""
    assert [e.status for e in order.events] == [OrderStatus.submitted, OrderStatus.accepted]


def test_a_countered_date_can_be_accepted_by_the_orderer(app):
    w = o.world()
    order = o.order(w["film"], w["village_staff"], w["community"])
    services.counter_order(order, actor=w["branch_staff"], counter_on=day(15), reply="10日有安排，15日可以", now=NOW)
    assert order.status == OrderStatus.countered and order.counter_on == day(15)
    with pytest.raises(Forbidden):
        services.accept_counter(order, actor=w["branch_staff"], now=NOW)
    services.accept_counter(order, actor=w["village_staff"], now=NOW)
    assert (order.status, order.chosen_on) == (OrderStatus.accepted, day(15))


def test_a_custom_request_is_declined_with_a_reason_the_orderer_reads(app):
    w = o.world()
    order = o.custom(w["village_staff"], w["community"])
    with pytest.raises(Invalid) as err:
        services.decline_order(order, actor=w["branch_staff"], reason="  ", now=NOW)
    assert "reason" in err.value.extra["fields"]
    services.decline_order(order, actor=w["branch_staff"], reason="本年度培训师资已排满，请明年再申请", now=NOW)
    assert order.status == OrderStatus.declined and order.decline_reason.startswith("本年度")
    assert order.events[-1].note == order.decline_reason


def test_only_the_providers_scope_answers_and_only_the_orderer_rates_or_withdraws(app):
    w = o.world()
    order = o.order(w["film"], w["village_staff"], w["community"])
    for outsider in (w["other_branch_staff"], w["village_staff"], w["station_staff"]):
        with pytest.raises(Forbidden):
            services.accept_order(order, actor=outsider, now=NOW)
    with pytest.raises(Forbidden):
        services.withdraw_order(order, actor=w["sibling_staff"], now=NOW)
    services.accept_order(order, actor=w["hub_staff"], now=NOW)  # the hub reaches every branch
    assert order.status == OrderStatus.accepted


def test_a_provider_is_not_sent_to_two_villages_on_one_day(app):
    w = o.world()
    second_village = f.venue(f.VenueKind.community, w["station"])
    first = o.order(w["film"], w["station_staff"], w["community"], dates=[day(10)])
    second = o.order(w["film"], w["station_staff"], second_village, dates=[day(10), day(11)])
    services.accept_order(first, actor=w["branch_staff"], now=NOW)
    with pytest.raises(services.ProviderBusy) as err:
        services.accept_order(second, actor=w["branch_staff"], chosen_on=day(10), now=NOW)
    assert err.value.code == "provider_busy" and day(10).isoformat() in str(err.value.message)
    assert second.status == OrderStatus.submitted
    services.accept_order(second, actor=w["branch_staff"], chosen_on=day(11), now=NOW)
    assert second.status == OrderStatus.accepted


def test_accepting_a_date_that_was_not_asked_for_is_refused(app):
    w = o.world()
    order = o.order(w["film"], w["village_staff"], w["community"])
    with pytest.raises(Invalid) as err:
        services.accept_order(order, actor=w["branch_staff"], chosen_on=day(30), now=NOW)
    assert "chosen_on" in err.value.extra["fields"]


def test_bulk_decline_declines_what_it_can_and_names_the_rest(app):
    w = o.world()
    orders = [o.custom(w["village_staff"], w["community"]) for _ in range(3)]
    services.accept_order(orders[0], actor=w["branch_staff"], chosen_on=day(20), now=NOW)
    done, skipped = services.decline_orders(orders, actor=w["branch_staff"], reason="经费不足", now=NOW)
    assert [x.id for x in done] == [orders[1].id, orders[2].id]
    assert [x.id for x, _why in skipped] == [orders[0].id]


# --- concurrency (real threads, real commits, both databases) ------------------------------------------


def test_two_staff_accepting_at_once_move_the_order_once(app):
    w = o.world()
    order = o.order(w["film"], w["village_staff"], w["community"])
    f.commit()
    order_id, staff_ids = order.id, [w["branch_staff"].id, w["hub_staff"].id]

    def accept(i):
        from accounts.models import User

        services.accept_order(
            db.session.get(ServiceOrder, order_id), actor=db.session.get(User, staff_ids[i % 2]), now=NOW
        )

    outcomes = race(app, accept, 8, threads=8)
    assert outcomes == {"ok": 1, "invalid_transition": 7}
    order = db.session.get(ServiceOrder, order_id)
    assert order.status == OrderStatus.accepted
    assert [e.status for e in order.events].count(OrderStatus.accepted) == 1
    assert loads.used(order.menu_item_id, order.chosen_on.isoformat()) == 1


def test_racing_acceptances_never_exceed_the_yearly_quota(app):
    w = o.world()
    w["film"].yearly_quota = 3
    w["film"].daily_capacity = 8
    villages = [f.venue(f.VenueKind.community, w["station"]) for _ in range(8)]
    ids = [o.order(w["film"], f.staff(v), v, dates=[day(10 + i % 3)]).id for i, v in enumerate(villages)]
    f.commit()
    item_id, staff_ids = w["film"].id, [w["branch_staff"].id, w["hub_staff"].id]

    def accept(i):
        from accounts.models import User

        order = db.session.get(ServiceOrder, ids[i])
        services.accept_order(order, actor=db.session.get(User, staff_ids[i % 2]), now=NOW)

    outcomes = race(app, accept, 8, threads=8)
    assert outcomes == {"ok": 3, "quota_reached": 5}
    assert db.session.query(ServiceOrder).filter_by(status=OrderStatus.accepted).count() == 3
    assert loads.used(item_id, "2026") == 3


def test_racing_acceptances_for_one_day_respect_the_daily_capacity(app):
    w = o.world()
    w["film"].daily_capacity = 2
    villages = [f.venue(f.VenueKind.community, w["station"]) for _ in range(5)]
    ids = [o.order(w["film"], w["station_staff"], v, dates=[day(10)]).id for v in villages]
    f.commit()
    staff_id = w["branch_staff"].id

    def accept(i):
        from accounts.models import User

        services.accept_order(db.session.get(ServiceOrder, ids[i]), actor=db.session.get(User, staff_id), now=NOW)

    outcomes = race(app, accept, 5, threads=5)
    assert outcomes == {"ok": 2, "provider_busy": 3}
    assert db.session.query(ServiceOrder).filter_by(status=OrderStatus.accepted).count() == 2
