"""Culture brands (activities across venues and years, a public page, own figures) and local-culture collections."""

from datetime import timedelta

import pytest

from accounts.models import Role
from activities.models import Activity
from checkin import services as checkin
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f
from tests.resources import helpers as h


@pytest.fixture
def world(app, tmp_path):
    old = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path)
    net = f.network()
    net["hub_staff"] = f.staff(net["hub"], login="hubstaff")
    net["staff"] = f.staff(net["station"], login="station")
    net["sibling_staff"] = f.staff(net["sibling"], login="sibling")
    net["manager"] = f.staff(net["hub"], Role.manager, login="manager")
    f.commit()
    yield net
    app.config["UPLOAD_DIR"] = old


def _brand(client, venue_id, name="油城春潮"):
    return client.post("/api/v1/brands", json={"venue_id": venue_id, "name": name, "summary": "春季群众文艺展演"})


def test_staff_create_a_brand_in_scope_and_join_activities_of_several_venues(client, world):
    client.login("hubstaff")
    created = _brand(client, world["hub"].id)
    assert created.status_code == 201
    brand_id = created.get_json()["id"]
    assert _brand(client, world["hub"].id).get_json()["error"]["code"] == "brand_exists"
    station_act = af.activity(world["station"], actor=world["staff"], title="春潮合唱")
    sibling_act = af.activity(world["sibling"], actor=world["sibling_staff"], title="春潮舞蹈")
    f.commit()
    for act in (station_act, sibling_act):
        response = client.post(f"/api/v1/brands/{brand_id}/activities", json={"activity_id": act.id})
        assert response.status_code == 200, response.get_json()
    detail = client.get(f"/api/v1/brands/{brand_id}").get_json()
    assert sorted(detail["activity_ids"]) == sorted([station_act.id, sibling_act.id])
    assert client.get(f"/api/v1/activities/{station_act.id}").get_json()["brand_id"] == brand_id
    assert {b["name"] for b in client.get("/api/v1/brands").get_json()["items"]} == {"油城春潮"}


def test_brands_are_scope_checked(client, world):
    client.login("station")
    assert _brand(client, world["hub"].id).status_code == 403
    township = _brand(client, world["station"].id, name="东风一镇一品")
    assert township.status_code == 201
    other = af.activity(world["sibling"], actor=world["sibling_staff"])
    f.commit()
    refused = client.post(f"/api/v1/brands/{township.get_json()['id']}/activities", json={"activity_id": other.id})
    assert refused.status_code == 403
    client.post("/logout")
    client.login("sibling")
    outside = client.post(f"/api/v1/brands/{township.get_json()['id']}/activities", json={"activity_id": other.id})
    assert outside.status_code == 422 and "activity_id" in outside.get_json()["error"]["fields"]
    assert client.patch(f"/api/v1/brands/{township.get_json()['id']}", json={"name": "x"}).status_code == 403
    assert _brand(client, world["station"].id, name="").status_code == 422


def test_a_brand_page_shows_what_it_is_what_is_on_past_editions_and_its_figures(client, world, tmp_path):
    from core.db import utcnow
    from resources import services

    brand = services.create_brand(
        world["hub"], data={"name": "辽河金秋", "description": "秋季丰收节庆"}, actor=world["hub_staff"]
    )
    coming = af.activity(world["station"], actor=world["staff"], title="金秋展演")
    past_at = utcnow() - timedelta(days=400)
    past = af.activity(
        world["station"], actor=world["staff"], title="去年金秋", at=past_at, starts_in=timedelta(days=1)
    )
    for act in (coming, past):
        services.attach_activity(brand, act, actor=world["hub_staff"])
    session = past.sessions[0]
    checkin.count_walk_ins(session, count=12, actor=world["staff"], now=session.starts_at + timedelta(minutes=5))
    h.resource(
        world["station"], world["staff"], h.jpeg_bytes(), title="去年金秋剧照", activity_id=past.id, upload_dir=tmp_path
    )
    f.commit()
    page = client.get(f"/brands/{brand.id}").get_data(as_text=True)
    assert "秋季丰收节庆" in page and "金秋展演" in page and "去年金秋" in page
    assert "/resources/" in page and "去年金秋剧照" in page
    figures = client.get(f"/api/v1/brands/{brand.id}").get_json()["figures"]
    assert figures == {"sessions_held": 1, "attendances": 12, "venues_reached": 1, "online_plays": 0}


def test_a_collection_groups_resources_and_has_its_own_public_page(client, world, tmp_path):
    pdf = b"%PDF-1.4\n"
    a = h.resource(world["station"], world["staff"], pdf, title="剪纸图谱", upload_dir=tmp_path)
    b = h.resource(world["station"], world["staff"], pdf, title="艺人访谈", upload_dir=tmp_path)
    hidden = h.resource(world["station"], world["staff"], pdf, title="待审", process=False, upload_dir=tmp_path)
    f.commit()
    client.login("station")
    created = client.post(
        "/api/v1/collections",
        json={
            "venue_id": world["station"].id,
            "title": "盘锦剪纸",
            "subject_kind": "heritage_item",
            "subject": "剪纸",
            "resource_ids": [b.id, a.id, hidden.id],
        },
    )
    assert created.status_code == 201, created.get_json()
    cid = created.get_json()["id"]
    client.post("/logout")
    assert client.get(f"/collections/{cid}").status_code == 404  # not published yet
    client.login("station")
    assert client.patch(f"/api/v1/collections/{cid}", json={"is_published": True}).status_code == 200
    client.post("/logout")
    body = client.get(f"/api/v1/collections/{cid}").get_json()
    assert [r["title"] for r in body["resources"]] == ["艺人访谈", "剪纸图谱"]  # in order, unpublished left out
    assert "盘锦剪纸" in client.get(f"/collections/{cid}").get_data(as_text=True)
    client.login("sibling")
    assert client.patch(f"/api/v1/collections/{cid}", json={"title": "x"}).status_code == 403
    assert client.post("/api/v1/collections", json={"venue_id": world["station"].id, "title": "x"}).status_code == 403
    bad = client.post(
        "/api/v1/collections", json={"venue_id": world["sibling"].id, "title": "x", "resource_ids": [2**31 - 1]}
    )
    assert bad.status_code == 422 and db.session.query(Activity).count() == 0


def test_the_reports_dashboard_shows_each_brand_s_own_figures(client, world):
    from core.i18n import local_today
    from resources import services

    brand = services.create_brand(world["station"], data={"name": "东风一镇一品"}, actor=world["staff"])
    f.commit()
    client.login("manager")
    page = client.get(f"/reports/?year={local_today().year}").get_data(as_text=True)
    assert "东风一镇一品" in page and f"/brands/{brand.id}" in page
