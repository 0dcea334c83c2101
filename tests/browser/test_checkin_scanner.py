"""The door scanner in Chromium: a real ticket's QR shown to a fake camera is admitted and counted once;
with the network cut, scans are judged from the roster, queued, and synced without double counting."""

import os
import shutil
import subprocess
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import WSGIRequestHandler, make_server

from accounts.models import Role
from activities.models import Session
from checkin.models import CheckIn, CheckInSource
from core import tickets
from core.extensions import db
from tests import activity_factories as af
from tests import dbs
from tests import factories as f
from tests.browser.conftest import assert_accessible

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

pytestmark = pytest.mark.browser


def _need(path: str, what: str) -> None:
    if not (os.path.exists(path) or shutil.which(path)):
        if dbs.CI:
            pytest.fail(f"CI=true needs {what}")
        pytest.skip(f"{what} is not installed")


class _Quiet(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture
def door_server(app):
    """The app under test on 127.0.0.1 (a secure context, so the camera API is available)."""
    _need(CHROMIUM, "Chromium at /usr/bin/chromium")
    vendor = os.path.join(app.static_folder, "vendor", "qr-scanner.umd.min.js")
    if not os.path.exists(vendor):
        if dbs.CI:
            pytest.fail("static/vendor is missing: run `make assets`")
        pytest.skip("static/vendor is missing (make assets)")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def _browser(extra_args=()):
    sync_api = pytest.importorskip("playwright.sync_api")
    pw = sync_api.sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*ARGS, *extra_args])
    return pw, browser


def _door(bookings: int = 1):
    """A session whose door is open now, bookings by named residents, a check-in-only door keeper."""
    net = f.network()
    act = af.activity(net["station"], title="社区合唱音乐会", starts_in=timedelta(minutes=30))
    names = ["张秀兰", "李建国", "王淑芬"]
    booked = [af.book(f.resident(name=names[i]), act, party_size=2 - i % 2) for i in range(bookings)]
    keeper = f.staff(net["station"], Role.checkin, login="door-keeper")
    session_id = af.first_session(act).id
    info = {
        "session_id": session_id,
        "login": keeper.login,
        "bookings": [(b.id, tickets.payload_for(b.id), tickets.code_for(b.id)) for b in booked],
    }
    f.commit()
    return info


def _checkins() -> list[CheckIn]:
    """Read what the database holds, ending the read at once (on SQLite a transaction takes the write lock)."""
    rows = list(db.session.execute(select(CheckIn).order_by(CheckIn.id)).scalars())
    db.session.expunge_all()
    db.session.rollback()
    return rows


def _count() -> int:
    n = db.session.execute(select(func.count(CheckIn.id))).scalar_one()
    db.session.rollback()
    return n


def _messages(app) -> dict[str, str]:
    """The scanner's texts in Chinese, as the page sends them to the script."""
    from checkin.views import scanner_messages

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        return scanner_messages()


def _sign_in(page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", f.PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator("form[action='/logout']").count() == 1  # signed in


def _ticket_video(payload: str, folder) -> str:
    """A short .y4m clip of the ticket's QR (as printed from the PNG endpoint) for Chromium's fake camera."""
    _need("ffmpeg", "ffmpeg")
    png = folder / "ticket.png"
    png.write_bytes(tickets.qr_png(payload))
    video = folder / "ticket.y4m"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-loop",
            "1",
            "-i",
            str(png),
            "-t",
            "2",
            "-r",
            "10",
            "-pix_fmt",
            "yuv420p",
            "-vf",
            "scale=420:420:flags=neighbor,pad=640:480:110:30:white",
            str(video),
        ],
        check=True,
        timeout=60,
    )
    return str(video)


def test_a_ticket_shown_to_the_camera_is_admitted_once_and_counted(app, door_server, tmp_path):
    info = _door()
    booking_id, payload, _code = info["bookings"][0]
    video = _ticket_video(payload, tmp_path)
    pw, browser = _browser(
        [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
    )
    try:
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
        context.grant_permissions(["camera"], origin=door_server)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _sign_in(page, door_server, info["login"])
        page.goto(f"{door_server}/scan?session={info['session_id']}")
        page.wait_for_selector("#scanner[data-camera=on]", timeout=15_000)
        page.wait_for_selector("#scan-result[data-state=ok]", timeout=15_000)
        assert page.inner_text("#scan-headline") == _messages(app)["admitted"]
        detail = page.inner_text("#scan-detail")
        assert "张*兰" in detail and "2" in detail
        # The camera keeps seeing the same ticket: the next read is refused as already used, not counted.
        page.wait_for_selector("#scan-result[data-state=warn]", timeout=15_000)
        assert page.inner_text("#scan-headline") == _messages(app)["already_checked_in"]
        assert page.inner_text("#count-in") == "2"
        # The first screen of a 390×844 phone: the camera with the session and the last answer over it;
        # 开启摄像头 is hidden while the camera runs; admitted and refused sound and vibrate differently.
        box = page.evaluate("""() => {
            const r = (sel) => document.querySelector(sel).getBoundingClientRect();
            return {video: r("#scan-video"), result: r("#scan-result"), session: r(".scan-session"), y: scrollY};
        }""")
        assert box["y"] == 0 and box["video"]["top"] < 844 and box["video"]["height"] >= 300
        for part in ("result", "session"):
            assert box[part]["top"] >= 0 and box[part]["bottom"] <= 844, (part, box)
            assert box["video"]["top"] <= box[part]["top"] and box[part]["bottom"] <= box["video"]["bottom"], part
        assert not page.locator("#camera-toggle").is_visible()
        kinds = [f["kind"] for f in page.evaluate("() => window.culturenetScanner.state().feedback")]
        assert kinds[:2] == ["ok", "warn"]
        page.screenshot(path=str(tmp_path / "scanner-phone.png"))
        if os.environ.get("SCREENSHOTS"):
            shutil.copy(tmp_path / "scanner-phone.png", os.environ["SCREENSHOTS"])
        assert not errors, errors
    finally:
        browser.close()
        pw.stop()
    rows = _checkins()
    assert [(c.booking_id, c.session_id, c.party_size, c.source) for c in rows] == [
        (booking_id, info["session_id"], 2, CheckInSource.scan)
    ]


def test_offline_scans_are_queued_and_synced_once_when_back_online(app, door_server):
    info = _door(bookings=3)
    (first_id, first_payload, _), (second_id, _, second_code), (_, third_payload, _) = info["bookings"]
    pw, browser = _browser()
    try:
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _sign_in(page, door_server, info["login"])
        page.goto(f"{door_server}/scan?session={info['session_id']}")
        page.wait_for_function("() => document.getElementById('count-booked').textContent === '5'")
        assert_accessible(page, "scanner page")
        # The page registers a service worker; once it controls the page, a reload leaves a copy offline.
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15_000)
        page.reload()
        page.wait_for_function("() => document.getElementById('count-booked').textContent === '5'")

        # Online, a refused scan shows the server's reason in red and records nothing.
        page.evaluate("() => window.culturenetScanner.scan({payload: 'WIFI:S:cafe;T:WPA;P:x;;'})")
        page.wait_for_selector("#scan-result[data-state=bad]")
        with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
            assert page.inner_text("#scan-headline") == str(tickets.InvalidTicket().message)
        page.wait_for_timeout(300)
        # One scan online first: counted at once.
        page.evaluate("p => window.culturenetScanner.scan({payload: p})", third_payload)
        page.wait_for_selector("#scan-result[data-state=ok]")
        assert _count() == 1

        context.set_offline(True)
        page.wait_for_selector("#scanner[data-online='0']")
        page.wait_for_timeout(300)
        page.evaluate("p => window.culturenetScanner.scan({payload: p})", first_payload)
        page.wait_for_selector("#scan-result[data-state=ok]")
        assert _messages(app)["saved_offline"] in page.inner_text("#scan-detail")
        page.wait_for_timeout(300)
        page.evaluate("p => window.culturenetScanner.scan({payload: p})", first_payload)
        page.wait_for_selector("#scan-result[data-state=warn]")  # the same ticket again, refused offline
        # Typed codes are checked online only (the roster holds no fingerprint of them): refused, not queued.
        page.fill("#code-input", tickets.format_code(second_code).lower())
        page.click("#code-form button[type=submit]")
        page.wait_for_selector("#scan-result[data-state=bad]")
        assert page.inner_text("#scan-headline") == _messages(app)["code_needs_network"]
        page.wait_for_timeout(300)
        page.evaluate("() => window.culturenetScanner.scan({payload: 'https://example.com/not-ours'})")
        page.wait_for_selector("#scan-result[data-state=bad]")
        page.click("#walkin-add")
        assert page.get_attribute("#scanner", "data-queued") == "2"
        assert page.inner_text("#count-in") == "4"  # the two parties admitted by QR (2 + 2)
        assert _count() == 1  # nothing reached the server while offline
        # A reload at the door without network: the page comes from the service worker, the queue stays.
        response = page.reload()
        assert response is not None and response.from_service_worker
        page.wait_for_selector("#scanner[data-queued='2']")
        assert page.inner_text("#count-in") == "4"
        # Kept in IndexedDB (not localStorage): two scans in the queue, and the roster.
        assert page.evaluate("() => window.culturenetScanner.state().storage") == "indexeddb"
        stored = page.evaluate("""() => new Promise(resolve => {
            const opening = indexedDB.open('culturenet-scanner', 1);
            opening.onsuccess = () => {
                const kv = opening.result.transaction('kv').objectStore('kv');
                const queue = kv.get('cn.checkin.queue');
                queue.onsuccess = () => resolve(queue.result ? queue.result.length : -1);
            };
        })""")
        assert stored == 1
        assert page.evaluate("() => localStorage.getItem('cn.checkin.queue')") is None

        context.set_offline(False)
        page.wait_for_selector("#scanner[data-queued='0']", timeout=15_000)
        page.wait_for_selector("#scanner[data-online='1']")
        # Syncing again (a replay) changes nothing.
        page.evaluate("() => window.culturenetScanner.sync()")
        page.wait_for_timeout(500)
        queued_scans = page.evaluate("() => window.culturenetScanner.state().queue.length")
        assert queued_scans == 0
        assert not errors, errors
    finally:
        browser.close()
        pw.stop()
    rows = _checkins()
    assert sorted(c.booking_id for c in rows) == sorted([first_id, info["bookings"][2][0]])
    assert second_id not in {c.booking_id for c in rows}  # its typed code was refused offline
    synced = [c for c in rows if c.source == CheckInSource.sync]
    assert {c.booking_id for c in synced} == {first_id}
    assert all(c.checked_in_at < c.recorded_at for c in synced)  # the scan's own time, before the sync
    from checkin.models import WalkIn

    walk_ins = db.session.execute(select(func.sum(WalkIn.count))).scalar_one()
    db.session.rollback()
    assert walk_ins == 1


def test_a_ticket_page_once_opened_still_shows_offline(app, door_server):
    info = _door()
    booking_id, _payload, code = info["bookings"][0]
    from accounts.models import User
    from bookings.models import Booking

    phone = db.session.execute(
        select(User.phone).join(Booking, Booking.user_id == User.id).where(Booking.id == booking_id)
    ).scalar_one()
    db.session.rollback()
    pw, browser = _browser()
    try:
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
        page = context.new_page()
        _sign_in(page, door_server, phone)
        page.goto(f"{door_server}/tickets/{booking_id}")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_function("() => !!navigator.serviceWorker.controller")
        page.reload()  # now through the service worker, which keeps a copy
        context.set_offline(True)
        response = page.reload()
        assert response is not None and response.from_service_worker
        assert page.locator("img.ticket-qr").count() == 1
        assert tickets.format_code(code) in page.inner_text(".ticket-code")
        assert page.evaluate("() => document.querySelector('img.ticket-qr').naturalWidth") > 0
        assert_accessible(page, "ticket page")
    finally:
        browser.close()
        pw.stop()


def test_a_typed_code_of_another_days_ticket_says_wrong_session_with_its_date_and_time(app, door_server):
    info = _door()
    session = db.session.get(Session, info["session_id"])
    tomorrow = af.activity(
        session.activity.venue, title="社区合唱音乐会（次日场）", starts_in=timedelta(days=1, minutes=30)
    )
    other = af.book(f.resident(name="赵敏"), tomorrow)
    code = tickets.code_for(other.id)
    f.commit()
    pw, browser = _browser()
    try:
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
        page = context.new_page()
        _sign_in(page, door_server, info["login"])
        page.goto(f"{door_server}/scan?session={info['session_id']}")
        page.wait_for_function("() => document.getElementById('count-booked').textContent === '2'")
        page.fill("#code-input", tickets.format_code(code))
        page.click("#code-form button[type=submit]")
        page.wait_for_selector("#scan-result[data-state=bad]")
        assert page.inner_text("#scan-headline") == "此票不属于本场次。"
        detail = page.inner_text("#scan-detail")
        assert "次日场" in detail and "月" in detail and "日" in detail and ":" in detail, detail
    finally:
        browser.close()
        pw.stop()
    assert _count() == 0


INSECURE = "Object.defineProperty(window, 'isSecureContext', {get: () => false});"
DENIED = """
  navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
  const query = navigator.permissions.query.bind(navigator.permissions);
  navigator.permissions.query = (d) => d && d.name === 'camera' ? Promise.resolve({state: 'denied'}) : query(d);
"""


@pytest.mark.parametrize("script, problem", [(INSECURE, "camera_insecure"), (DENIED, "camera_denied")])
@pytest.mark.parametrize("large_text", [False, True], ids=["normal", "large-text"])
def test_without_a_camera_the_scanner_says_what_to_do_and_is_accessible(app, door_server, script, problem, large_text):
    info = _door()
    pw, browser = _browser()
    try:
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
        context.add_init_script(script)
        page = context.new_page()
        _sign_in(page, door_server, info["login"])
        if large_text:
            context.add_cookies([{"name": "large_text", "value": "1", "url": door_server}])
        page.goto(f"{door_server}/scan?session={info['session_id']}")
        page.wait_for_selector(f"#scanner[data-camera-problem={problem}]")
        status = page.inner_text("#camera-status")
        assert status == _messages(app)[problem]
        assert page.locator("#camera-toggle").is_visible() is (problem == "camera_denied")
        assert page.locator("#camera-status").bounding_box()["y"] < 844
        assert ("large-text" in (page.get_attribute("html", "class") or "")) is large_text
        assert_accessible(page, f"scanner, {problem}, {'large text' if large_text else 'normal'}")
        # Typing still works: the ticket is admitted.
        page.fill("#code-input", info["bookings"][0][2])
        page.click("#code-form button[type=submit]")
        page.wait_for_selector("#scan-result[data-state=ok]")
    finally:
        browser.close()
        pw.stop()
