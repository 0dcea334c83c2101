"""The digital library in a phone's browser: a short video made by ffmpeg in the test is uploaded, probed by the
job, played by the browser's own player (which reports the play once) and seeked, with range requests; the
public pages of the library, a collection, a brand and the work catalogue pass axe-core."""

import shutil
import subprocess
from pathlib import Path

import pytest

from accounts.services import find_by_login
from core.db import utcnow
from core.extensions import db
from core.i18n import local_today
from resources import media, services
from resources.models import Play, Resource
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


def _webm(folder: Path) -> Path:
    """Four seconds of a test pattern and a tone, VP8/Vorbis in WebM (codecs every Chromium build plays)."""
    if not Path(FFMPEG).exists():
        pytest.fail("ffmpeg is missing (make browser-deps installs Debian's)")
    out = folder / "lesson.webm"
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=4:size=320x240:rate=15",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=4",
            "-c:v",
            "libvpx",
            "-b:v",
            "300k",
            "-c:a",
            "libvorbis",
            "-shortest",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="module")
def digital(live_server, tmp_path_factory):
    """A published video at the world's station, a collection holding it, a brand, and a published catalogue."""
    app = live_server.app
    folder = tmp_path_factory.mktemp("digital")
    old = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(folder / "uploads")
    with app.app_context():
        staff = find_by_login(live_server.world.staff_login)
        from venues.models import Venue

        station = db.session.get(Venue, live_server.world.station_id)
        video = _webm(folder)
        with video.open("rb") as stream:
            resource = services.create_resource(
                station,
                data={
                    "title": "剪纸入门第一课",
                    "category": "heritage",
                    "heritage_item": "盘锦剪纸",
                    "licence": "CC BY",
                },
                stream=stream,
                filename="lesson.webm",
                actor=staff,
                upload_dir=app.config["UPLOAD_DIR"],
                max_bytes=50 * 1024 * 1024,
            )
        db.session.commit()
        assert media.process_uploads(utcnow()) >= 1
        resource = db.session.get(Resource, resource.id)
        assert resource.status == "ready" and resource.poster_name
        collection = services.create_collection(
            station,
            data={
                "title": "东风剪纸",
                "subject_kind": "heritage_item",
                "subject": "剪纸",
                "is_published": True,
                "description": "镇上剪纸艺人的作品与课程。",
                "resource_ids": [resource.id],
            },
            actor=staff,
        )
        brand = services.create_brand(station, data={"name": "东风一镇一品", "summary": "剪纸之乡"}, actor=staff)
        from catalogue import services as catalogue

        year = local_today().year
        catalogue.publish(station, year=year, actor=staff)
        db.session.commit()
        ids = {
            "resource": resource.id,
            "collection": collection.id,
            "brand": brand.id,
            "station": station.id,
            "size": video.stat().st_size,
            "year": year,
        }
        db.session.remove()
    yield ids
    app.config["UPLOAD_DIR"] = old


def test_a_resident_plays_a_video_on_a_phone_and_seeks_with_a_range_request(phone, live_server, digital):
    page = phone
    media_responses = []
    page.on("response", lambda r: media_responses.append(r) if "/media" in r.url else None)
    page.goto(f"/resources/{digital['resource']}")
    video = page.locator("video#player")
    assert video.is_visible()
    assert page.evaluate("() => document.querySelector('meta[name=viewport]').content").startswith("width=device")
    with page.expect_response(lambda r: r.url.endswith("/plays") and r.request.method == "POST") as played:
        page.evaluate("async () => { const v = document.getElementById('player'); v.muted = true; await v.play(); }")
    assert played.value.status == 201 and played.value.json()["counted"] is True
    page.wait_for_function("() => document.getElementById('player').currentTime > 0.2")
    page.evaluate("""() => new Promise(resolve => {
        const v = document.getElementById('player');
        v.addEventListener('seeked', () => resolve(), {once: true});
        v.currentTime = 3;
    })""")
    assert page.evaluate("() => document.getElementById('player').currentTime") >= 2.9
    assert any(r.status == 206 for r in media_responses), [r.status for r in media_responses]
    # A seek that reads from the middle of the file: the server answers exactly that range.
    half = digital["size"] // 2
    answer = page.evaluate(
        """async ([url, start]) => {
        const r = await fetch(url, {headers: {Range: `bytes=${start}-`}});
        const body = await r.arrayBuffer();
        return {status: r.status, range: r.headers.get('Content-Range'), length: body.byteLength};
    }""",
        [f"/resources/{digital['resource']}/media", half],
    )
    assert answer == {
        "status": 206,
        "range": f"bytes {half}-{digital['size'] - 1}/{digital['size']}",
        "length": digital["size"] - half,
    }
    page.wait_for_function("() => document.getElementById('play-count').textContent.trim() !== '0'")
    # Playing again the same day from this phone does not count twice.
    page.reload()
    with page.expect_response(lambda r: r.url.endswith("/plays")) as again:
        page.evaluate("async () => { const v = document.getElementById('player'); v.muted = true; await v.play(); }")
    assert again.value.status == 200 and again.value.json()["counted"] is False
    with live_server.app.app_context():
        assert db.session.query(Play).filter_by(resource_id=digital["resource"]).count() == 1
        db.session.remove()


PAGES = {
    "library": lambda d: "/resources",
    "library search": lambda d: "/resources?q=剪纸",
    "resource": lambda d: f"/resources/{d['resource']}",
    "collection": lambda d: f"/collections/{d['collection']}",
    "brand": lambda d: f"/brands/{d['brand']}",
    "catalogue": lambda d: f"/catalogue/{d['year']}?venue={d['station']}",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_digital_pages_have_no_serious_accessibility_problems_on_a_phone(phone, digital, name):
    response = phone.goto(PAGES[name](digital))
    assert response.status == 200
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"{name} scrolls sideways on a phone ({width}px)"
    assert_accessible(phone, f"{name} (phone)")
