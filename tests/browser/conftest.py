"""Browser-test fixtures: the real app served on 127.0.0.1 in a thread, Debian's Chromium through Playwright,
phone- and desktop-sized contexts, and an axe-core accessibility check.

Browser tests run once, on their own SQLite file (not per backend). They skip when Chromium or Playwright is
missing, unless CI=true, where they fail instead.
"""

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from core.config import BASE_DIR
from core.extensions import db
from tests import dbs
from tests.conftest import make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_JS = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
PANJIN = BASE_DIR / "venues" / "data" / "panjin.json"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


# Under a shifted wall clock (tools/clock.py) the browser's clock moves with the server's: every page's
# Date starts at the same offset, so what a page computes from "now" (an offline scanner's door window)
# agrees with the server.
SHIFTED_DATE = """(() => {
  const offset = %s, RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args) { if (args.length) { super(...args); } else { super(RealDate.now() + offset); } }
    static now() { return RealDate.now() + offset; }
  }
  globalThis.Date = ShiftedDate;
})();"""


def _shift_browser_clocks() -> None:
    offset = os.environ.get("CULTURENET_CLOCK_OFFSET")
    if not offset:
        return
    from playwright.sync_api import Browser

    original = Browser.new_context

    def new_context(self, *args, **kwargs):
        context = original(self, *args, **kwargs)
        context.add_init_script(SHIFTED_DATE % int(float(offset) * 1000))
        return context

    Browser.new_context = new_context


_shift_browser_clocks()


def unavailable(reason: str):
    """Skip, or fail under CI=true, where browser tests must run."""
    if dbs.CI:
        pytest.fail(f"CI=true needs the browser tests to run: {reason}")
    pytest.skip(reason)


class QuietHandler(WSGIRequestHandler):
    """No access-log line per request (failures show the page, not the log)."""

    def log_request(self, code="-", size="-"):
        pass


@dataclass
class World:
    """What the seeded database holds, by role: ids of venues and the logins to use."""

    station_id: int
    sibling_id: int
    branch_id: int
    station_name: str
    staff_login: str
    admin_login: str
    resident_login: str
    password: str
    extra: dict = field(default_factory=dict)


@dataclass
class LiveServer:
    url: str
    app: object
    world: World


def _seed_panjin() -> World:
    """The Panjin demo network: station-staff is granted the first 大洼区 township station."""
    from accounts import services as accounts
    from venues import demo
    from venues.models import Venue

    demo.seed(1)
    db.session.commit()
    staff = accounts.find_by_login("station-staff")
    station = db.session.get(Venue, next(g.venue_id for g in staff.grants if g.venue_id))
    sibling = next(v for v in station.parent.children if v.id != station.id and v.kind == station.kind)
    return World(
        station_id=station.id,
        sibling_id=sibling.id,
        branch_id=station.parent_id,
        station_name=station.name,
        staff_login="station-staff",
        admin_login="admin",
        resident_login=demo.RESIDENTS[0][0],
        password=demo.PASSWORD,
    )


def _seed_small() -> World:
    """hub → branch → two sibling stations → a community; a resident, staff of one station, an admin."""
    from accounts.models import Role
    from tests import factories

    net = factories.network()
    factories.room(net["station"], name="多功能活动室", capacity=60)
    resident = factories.resident("13800000001")
    staff = factories.staff(net["station"], login="station-staff")
    factories.staff(None, Role.admin, login="admin")
    factories.commit()
    return World(
        station_id=net["station"].id,
        sibling_id=net["sibling"].id,
        branch_id=net["branch"].id,
        station_name=net["station"].name,
        staff_login=staff.login,
        admin_login="admin",
        resident_login=resident.phone,
        password=factories.PASSWORD,
        extra={"community_id": net["community"].id, "hub_id": net["hub"].id},
    )


@pytest.fixture(scope="session")
def live_server():
    """The real app on 127.0.0.1:<free port>, on its own SQLite file, seeded once for the session."""
    app = make_app(dbs.sqlite_url("culturenet-browser"))
    app.config["RATELIMIT_ENABLED"] = False  # many sign-ins from one address within a minute
    with app.app_context():
        db.create_all()
        world = _seed_panjin() if PANJIN.exists() else _seed_small()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, world=world)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def world(live_server) -> World:
    return live_server.world


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium, headless, driven by Playwright's sync API (never a downloaded browser)."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _context(chromium, live_server, **options):
    context = chromium.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(10_000)
    return context


SIZES = {"phone": PHONE, "desktop": DESKTOP}


@pytest.fixture(scope="session")
def signed_in_states(chromium, live_server):
    """Cookies of a signed-in session per (role, size), made once: each sign-in is a POST /login, and the
    login form allows only 10 a minute from one address."""
    states = {}

    def state(role: str, size: str) -> dict:
        if (role, size) not in states:
            world = live_server.world
            login = {"staff": world.staff_login, "resident": world.resident_login, "admin": world.admin_login}[role]
            context = _context(chromium, live_server, **SIZES[size])
            sign_in(context.new_page(), login, world.password)
            states[role, size] = context.storage_state()
            context.close()
        return states[role, size]

    return state


def _page_factory(chromium, live_server, signed_in_states, size: str):
    contexts = []

    def open_page(role: str | None = None):
        options = dict(SIZES[size])
        if role:
            options["storage_state"] = signed_in_states(role, size)
        context = _context(chromium, live_server, **options)
        contexts.append(context)
        return context.new_page()

    return open_page, contexts


@pytest.fixture
def phone_as(chromium, live_server, signed_in_states):
    """`phone_as("staff")` → a phone-sized page already signed in as that role (None: signed out)."""
    open_page, contexts = _page_factory(chromium, live_server, signed_in_states, "phone")
    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def desktop_as(chromium, live_server, signed_in_states):
    """`desktop_as("staff")` → a desktop-sized page already signed in as that role."""
    open_page, contexts = _page_factory(chromium, live_server, signed_in_states, "desktop")
    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def phone(phone_as):
    """A page in a fresh phone-sized context (390×844, touch), Chinese browser, signed out."""
    return phone_as(None)


@pytest.fixture
def desktop(desktop_as):
    """A page in a fresh desktop-sized context, Chinese browser, signed out."""
    return desktop_as(None)


def click_and_wait(locator) -> None:
    """Click something that loads a new page (a form submit, a link) and wait for that page."""
    with locator.page.expect_navigation():
        locator.click()


def sign_in(page, login: str, password: str) -> None:
    """Sign in through the login form (in whatever language the page is in)."""
    page.goto("/login")
    page.fill("#login", login)
    page.fill("#password", password)
    click_and_wait(page.locator("main form button[type=submit]"))
    assert "/login" not in page.url, f"sign-in as {login} failed: {page.locator('.flashes').all_inner_texts()}"


def run_axe(page, tags: list[str] | None = None) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA rules on the current page; returns the violations.

    The page's CSP forbids inline script, so axe is not added as a <script> element: its source is
    evaluated through the DevTools protocol (page.evaluate), which the CSP does not govern.
    """
    if not AXE_JS.exists():
        unavailable(f"{AXE_JS} is missing (npm ci --no-audit --no-fund)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(
        """async (tags) => {
            const result = await window.axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                                          summary: n.failureSummary}))
            }));
        }""",
        tags or WCAG_TAGS,
    )


def describe(violations: list[dict]) -> str:
    """Violations as readable text for an assertion message."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    at {node['target']}: {node['html']}")
            if node["summary"]:
                lines.extend("      " + line for line in node["summary"].splitlines())
    return "\n".join(lines)


def assert_accessible(page, label: str = "") -> None:
    """No serious or critical axe violations, and no duplicate ids (axe 4.x no longer checks those)."""
    blocking = [v for v in run_axe(page) if v["impact"] in BLOCKING]
    where = label or page.url
    assert not blocking, f"axe found serious/critical problems on {where}:\n{describe(blocking)}"
    duplicates = page.evaluate("""() => {
        const seen = {};
        document.querySelectorAll("[id]").forEach(el => { seen[el.id] = (seen[el.id] || 0) + 1; });
        return Object.keys(seen).filter(id => seen[id] > 1);
    }""")
    assert not duplicates, f"duplicate ids on {where} (labels and aria-describedby break): {duplicates}"


@pytest.fixture
def axe():
    """`axe(page)` → the list of violations; see also `assert_accessible`."""
    return run_axe
