"""Menu and orders in a real browser: a village orders a film screening that the branch accepts and schedules,
residents book it, the village records the delivery and rates it; a custom request is declined with a reason
that the village reads."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.browser.conftest import DESKTOP, _context, assert_accessible, click_and_wait, sign_in

pytestmark = pytest.mark.browser
VILLAGE, BRANCH = "village-staff", "branch-staff"


@pytest.fixture(scope="module")
def film(live_server):
    """A published film screening from the 大洼区 branch (the demo network's village is in 大洼区)."""
    from accounts.services import find_by_login
    from core.extensions import db
    from orders import services
    from orders.models import MenuItem

    with live_server.app.app_context():
        found = db.session.execute(select(MenuItem).where(MenuItem.title == "露天电影放映")).scalar()
        if found is None:
            branch_staff = find_by_login(BRANCH)
            found = services.save_menu_item(
                branch_staff.grants[0].venue,
                actor=branch_staff,
                data={
                    "title": "露天电影放映",
                    "category": "film",
                    "district_codes": ["211104"],
                    "audience_min": 20,
                    "audience_max": 300,
                    "duration_minutes": 120,
                    "lead_days": 3,
                    "yearly_quota": 50,
                    "daily_capacity": 1,
                    "host_requirements": "电源、空地",
                },
            )
            services.publish_menu_item(found, actor=branch_staff)
            db.session.commit()
        item_id = found.id
        db.session.remove()
    return item_id


@pytest.fixture(scope="module")
def as_user(chromium, live_server, world):
    """`as_user(login)` → a desktop page signed in as that demo account. Each account signs in once per module
    and its cookies are reused (the login form allows 10 sign-ins a minute from one address)."""
    states, contexts = {}, []

    def open_page(login: str):
        if login not in states:
            context = _context(chromium, live_server, **DESKTOP)
            sign_in(context.new_page(), login, world.password)
            states[login] = context.storage_state()
            context.close()
        context = _context(chromium, live_server, **DESKTOP, storage_state=states[login])
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _today():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()


def _session_held(live_server, order_id: int) -> None:
    """Time passes: the session ended an hour ago (the order keeps its own copy of the times)."""
    from core.db import utcnow
    from core.extensions import db
    from orders.models import ServiceOrder

    with live_server.app.app_context():
        ended = utcnow() - timedelta(hours=1)
        db.session.execute(
            update(ServiceOrder)
            .where(ServiceOrder.id == order_id)
            .values(starts_at=ended - timedelta(hours=2), ends_at=ended)
        )
        db.session.commit()
        db.session.remove()


def test_a_village_film_screening_from_menu_to_rating(as_user, desktop_as, live_server, film):
    village = as_user(VILLAGE)
    village.goto("/menu?category=film")
    assert_accessible(village, "the service menu")
    click_and_wait(village.get_by_role("link", name="露天电影放映"))
    click_and_wait(village.get_by_role("link", name="点这项服务"))
    village.fill("#date_1", (_today() + timedelta(days=1)).isoformat())  # inside the 3-day notice
    village.fill("#audience_size", "120")
    village.fill("#contact_phone", "13800000009")
    click_and_wait(village.get_by_role("button", name="提交点单"))
    assert "提前 3 天" in village.locator("#date_1-error").inner_text()
    chosen = _today() + timedelta(days=8)
    village.fill("#date_1", chosen.isoformat())
    click_and_wait(village.get_by_role("button", name="提交点单"))
    assert "/orders/" in village.url and "已提交" in village.locator("h1").inner_text()
    order_id = int(village.url.rstrip("/").rsplit("/", 1)[1])

    branch = as_user(BRANCH)
    branch.goto("/orders/queue")
    assert_accessible(branch, "the staff queue")
    click_and_wait(branch.get_by_role("link", name=f"#{order_id} 露天电影放映"))
    assert_accessible(branch, "an order, provider side")
    branch.select_option("#accept-chosen_on", chosen.isoformat())
    branch.fill("#accept-reply", "放映队当天 17:00 到村")
    click_and_wait(branch.get_by_role("button", name="接单", exact=True))
    assert "已接单" in branch.locator("h1").inner_text()
    branch.fill("#schedule-starts", "19:00")
    branch.fill("#schedule-ends", "21:00")
    click_and_wait(branch.get_by_role("button", name="排期并发布活动"))
    assert "已排期" in branch.locator("h1").inner_text() and "送文化下乡" in branch.locator("main").inner_text()

    resident = desktop_as("resident")
    resident.goto(branch.get_by_role("link", name="居民可预约").get_attribute("href"))
    resident.check("input[name=participant_ids] >> nth=0")
    click_and_wait(resident.get_by_role("button", name="立即预约"))
    assert "预约成功" in resident.locator(".flashes").inner_text()

    _session_held(live_server, order_id)
    village.goto(f"/orders/{order_id}")
    assert "放映队当天 17:00 到村" in village.locator("main").inner_text()
    village.fill("#deliver-headcount", "136")
    village.fill("#deliver-report", "放映《长津湖》，村民反响热烈")
    click_and_wait(village.get_by_role("button", name="登记送达"))
    assert "已送达" in village.locator("h1").inner_text()
    village.check("#rate-rating-0")  # 5
    village.fill("#rate-comment", "准时、清晰")
    click_and_wait(village.get_by_role("button", name="提交评价"))
    assert "已评价" in village.locator("h1").inner_text()
    steps = village.locator(".timeline").inner_text()
    for label in ("已提交", "已接单", "已排期", "已送达", "已评价"):
        assert label in steps

    branch.goto(f"/orders/demand?year={chosen.year}")
    outreach = branch.locator("main section", has_text="送文化下乡").inner_text()
    assert "211104" in outreach and "136" in outreach


def test_a_custom_request_is_declined_with_a_reason_the_village_reads(as_user, film):
    village = as_user(VILLAGE)
    village.goto("/orders/new")
    assert_accessible(village, "the custom request form")
    village.fill("#custom_title", "农民画系列辅导")
    village.fill("#custom_description", "村里十几位农民画爱好者希望请老师来辅导")
    village.select_option("#custom_category", "training")
    village.fill("#date_1", (_today() + timedelta(days=20)).isoformat())
    village.fill("#audience_size", "15")
    village.fill("#contact_phone", "13800000009")
    click_and_wait(village.get_by_role("button", name="提交点单"))
    order_id = int(village.url.rstrip("/").rsplit("/", 1)[1])

    branch = as_user(BRANCH)
    branch.goto(f"/orders/{order_id}")
    click_and_wait(branch.get_by_role("button", name="婉拒", exact=True))
    assert branch.locator("#decline-reason-error").count() == 1  # a reason is required
    branch.fill("#decline-reason", "今年美术老师已排满，已列入明年菜单")
    click_and_wait(branch.get_by_role("button", name="婉拒", exact=True))
    assert "已婉拒" in branch.locator("h1").inner_text()

    village.goto(f"/orders/{order_id}")
    assert village.locator(".decline-reason").inner_text() == "今年美术老师已排满，已列入明年菜单"
    assert village.get_by_role("button", name="撤回点单").count() == 0
    assert_accessible(village, "a declined order, orderer side")
