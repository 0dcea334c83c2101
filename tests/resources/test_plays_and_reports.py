"""Remote service counted: plays de-duplicated per viewer, resource and local day, nothing personal kept, and
reported as online_plays (线上服务人次) beside the on-site figures."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role
from core.db import utcnow
from core.extensions import db
from core.i18n import local_today
from reports import checklist as cl
from reports import queries
from resources import services
from resources.models import Play
from tests import factories as f
from tests.resources import helpers as h

NETWORK_TZ = ZoneInfo("Asia/Shanghai")
DEVICE = "device-0123456789abcdef"


@pytest.fixture
def world(app, tmp_path):
    old = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path)
    net = f.network()
    staff = f.staff(net["station"], login="station")
    net["video"] = h.resource(net["station"], staff, h.jpeg_bytes(), title="剪纸", upload_dir=tmp_path)
    net["manager"] = f.staff(net["hub"], Role.manager, login="manager")
    f.commit()
    yield net
    app.config["UPLOAD_DIR"] = old


def _play(client, resource_id, **body):
    return client.post(f"/api/v1/resources/{resource_id}/plays", json=body)


def test_an_anonymous_viewer_is_counted_once_a_day_per_device_and_nothing_personal_is_kept(client, world):
    rid = world["video"].id
    first = _play(client, rid, device_id=DEVICE)
    assert first.status_code == 201 and first.get_json() == {"counted": True, "plays": 1}
    again = _play(client, rid, device_id=DEVICE)
    assert again.status_code == 200 and again.get_json() == {"counted": False, "plays": 1}
    assert _play(client, rid, device_id="another-device-42").get_json() == {"counted": True, "plays": 2}
    stored = db.session.execute(db.select(Play)).scalars().all()
    assert all(DEVICE not in p.viewer_key and len(p.viewer_key) == 64 and not p.is_signed_in for p in stored)
    assert {c.name for c in Play.__table__.columns} == {
        "id",
        "resource_id",
        "day",
        "year",
        "month",
        "viewer_key",
        "is_signed_in",
        "played_at",
    }


def test_a_signed_in_resident_is_counted_once_a_day_whatever_the_device(client, world):
    f.resident("13800000001")
    f.commit()
    client.login("13800000001")
    rid = world["video"].id
    assert _play(client, rid, device_id=DEVICE).status_code == 201
    assert _play(client, rid, device_id="another-device-42").status_code == 200
    assert _play(client, rid).status_code == 200


def test_the_next_local_day_counts_again_and_the_day_is_the_network_zone_s(app, world):
    resource = world["video"]
    late = datetime.combine(local_today(), time(23, 30), NETWORK_TZ)
    assert services.record_play(resource, user=None, device_id=DEVICE, now=late)
    assert not services.record_play(resource, user=None, device_id=DEVICE, now=late + timedelta(minutes=20))
    assert services.record_play(resource, user=None, device_id=DEVICE, now=late + timedelta(minutes=40))
    days = sorted(p.day for p in db.session.execute(db.select(Play)).scalars())
    assert days == [local_today(), local_today() + timedelta(days=1)]


def test_bad_plays_are_refused_with_clear_codes(client, world, tmp_path):
    rid = world["video"].id
    no_device = _play(client, rid)
    assert no_device.status_code == 422 and "device_id" in no_device.get_json()["error"]["fields"]
    assert _play(client, rid, device_id="x y").status_code == 422
    assert _play(client, 2**31 - 1, device_id=DEVICE).status_code == 404
    pending = h.resource(
        world["station"], f.staff(world["station"]), h.jpeg_bytes(), process=False, upload_dir=tmp_path
    )
    f.commit()
    assert _play(client, pending.id, device_id=DEVICE).status_code == 404
    assert db.session.query(Play).count() == 0


def test_plays_are_reported_as_online_plays_beside_the_on_site_figures(client, world):
    for n in range(3):
        services.record_play(world["video"], user=None, device_id=f"{DEVICE}{n}", now=utcnow())
    f.commit()
    client.login("manager")
    today = local_today()
    body = client.get(
        f"/api/v1/reports/attendance?from={today.replace(day=1)}&to={today}&group_by=venue,district,category,month"
    ).get_json()
    assert body["totals"]["online_plays"] == 3 and body["totals"]["attendances"] == 0
    (row,) = body["rows"]
    assert row["online_plays"] == 3 and row["category"] == "heritage" and row["district"] == "211104"
    assert row["month"] == f"{today.year:04d}-{today.month:02d}" and row["venue_id"] == world["branch"].id
    other = client.get(f"/api/v1/reports/attendance?from={today}&to={today}&category=music").get_json()
    assert other["totals"]["online_plays"] == 0
    page = client.get(f"/reports/attendance?from={today}&to={today}").get_data(as_text=True)
    assert "线上服务" in page or "Online service" in page


def test_the_checklist_row_on_digital_resources_is_computed(app, world):
    flt = queries.build_filter(
        world["manager"], first=local_today().replace(month=1, day=1), last=local_today().replace(month=12, day=31)
    )
    rows = {r["key"]: r for r in cl.evaluate(flt, local_today().year, utcnow())["rows"]}
    assert rows["4.1"]["source"] == "rule" and str(rows["4.1"]["status"]) == "not_met"  # the station's is not enough
    h.resource(world["hub"], world["manager"], b"%PDF-1.4\n", upload_dir=app.config["UPLOAD_DIR"])
    for branch in (world["branch"], world["other_branch"]):
        h.resource(branch, world["manager"], b"%PDF-1.4\n", upload_dir=app.config["UPLOAD_DIR"])
    rows = {r["key"]: r for r in cl.evaluate(flt, local_today().year, utcnow())["rows"]}
    assert str(rows["4.1"]["status"]) == "met"


def test_the_workbook_has_an_online_service_sheet(client, world):
    import io

    from openpyxl import load_workbook

    services.record_play(world["video"], user=None, device_id=DEVICE, now=utcnow())
    f.commit()
    client.login("manager")
    response = client.get(f"/reports/workbook.xlsx?year={local_today().year}")
    assert response.status_code == 200, response.status_code
    book = load_workbook(io.BytesIO(response.data))
    sheet = next(ws for ws in book.worksheets if ws.title in {"线上服务人次", "Online service (plays)"})
    assert [c.value for c in sheet[sheet.max_row]][-1] == 1


def test_one_viewer_racing_to_report_a_play_is_counted_once(app, world, is_postgres):
    """Eight requests of the same device at once: the unique constraint keeps one (real locks on PostgreSQL)."""
    from tests.concurrency import race

    rid = world["video"].id

    def play(_i):
        from resources.models import Resource

        services.record_play(db.session.get(Resource, rid), user=None, device_id=DEVICE, now=utcnow())

    assert race(app, play, 8)["ok"] == 8  # a repeat is not an error: it is just not counted
    assert db.session.query(Play).filter_by(resource_id=rid).count() == 1
