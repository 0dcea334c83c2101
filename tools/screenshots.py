"""Render the main resident pages, and the volunteer, staff, door and manager pages, at phone size (390×844,

    .venv/bin/python tools/screenshots.py [--out screenshots] [--full]

The app runs on a throwaway SQLite file seeded with the Panjin demo network (as the browser tests do), in a
thread on 127.0.0.1; Debian's Chromium renders it through Playwright. The folder is git-ignored. Each page is
taken as the first screen (what a resident sees without scrolling); --full adds a full-page image.
"""

import argparse
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}


def _serve(db_path: Path):
    import logging

    from werkzeug.serving import WSGIRequestHandler, make_server

    from core.extensions import db
    from culturenet import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "SECRET_KEY": "screenshots",
            "PASSWORD_HASH_PROFILE": "fast",
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SMS_BACKEND": "console",
            "MAIL_BACKEND": "console",
            "REGISTRATION_SMS_VERIFY": False,
            "UPLOAD_DIR": str(db_path.parent / "uploads"),
        }
    )
    with app.app_context():
        db.create_all()
        for seeder in app.extensions["culturenet.seeders"]:
            if seeder.__module__ != "reports.demo":  # the roll-up is not shown on resident pages
                seeder(scale=1)
                db.session.commit()
        pages = _pages(app)
        db.session.remove()
    logging.getLogger("culturenet.request").setLevel(logging.WARNING)

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, pages


def _pages(app) -> list[tuple[str, str, str]]:
    """(name, path, who) of the pages to take, found in the seeded data; who is "" (signed out) or a login
    of LOGINS."""
    from sqlalchemy import select

    from activities.models import Activity, ActivityKind, ActivityStatus, Policy
    from core.extensions import db
    from venues.models import Venue

    published = list(db.session.execute(select(Activity).where(Activity.status == ActivityStatus.published)).scalars())

    def first(pred):
        return next((a for a in published if pred(a)), None)

    pages = [
        ("home", "/", ""),
        ("list", "/activities", ""),
        ("search-shufa", "/search?q=书法", ""),
        ("calendar", "/activities/calendar", ""),
        ("venues", "/venues", ""),
    ]
    venue = db.session.execute(select(Venue).where(Venue.kind == "branch").limit(1)).scalar()
    if venue:
        pages.append(("venue", f"/venues/{venue.id}", ""))
    for name, act in [
        ("activity-course", first(lambda a: a.kind == ActivityKind.course)),
        ("activity-event", first(lambda a: a.kind == ActivityKind.event and a.policy == Policy.first_come)),
        ("activity-lottery", first(lambda a: a.policy == Policy.lottery)),
        ("activity-exhibition", first(lambda a: a.kind == ActivityKind.exhibition)),
    ]:
        if act is not None:
            pages.append((name, f"/activities/{act.id}", "resident"))
    from accounts.services import find_by_login
    from bookings.models import Booking, BookingStatus
    from venues import demo

    resident = find_by_login(demo.RESIDENTS[0][0])
    for status in (BookingStatus.confirmed, BookingStatus.waitlisted, BookingStatus.entered):
        booking = db.session.execute(
            select(Booking).where(Booking.user_id == resident.id, Booking.status == status).limit(1)
        ).scalar()
        if booking is not None:
            pages.append((f"done-{status.value}", f"/bookings/{booking.id}/done", "resident"))
            if status == BookingStatus.confirmed:
                pages.append(("ticket", f"/tickets/{booking.id}", "resident"))
    pages += [("me", "/me", "resident"), ("mine", "/my/bookings", "resident"), ("inbox", "/inbox", "resident")]
    pages += [
        ("volunteering", "/volunteering", "resident"),
        ("volunteer-tasks", "/volunteering/tasks", "resident"),
        ("volunteer-certificate", "/volunteering/certificate", "resident"),
    ]
    attended = db.session.execute(
        select(Booking).where(Booking.user_id == resident.id, Booking.status == BookingStatus.attended).limit(1)
    ).scalar()
    if attended is not None:
        pages.append(("feedback", f"/bookings/{attended.id}/feedback", "resident"))
    pages += [
        ("staff", "/staff", "hub-staff"),
        ("staff-volunteers", "/staff/volunteers", "hub-staff"),
        ("staff-volunteer-door", "/staff/volunteers/door", "hub-staff"),
        ("scan", "/scan", "door"),
        ("reports", "/reports/", "manager"),
        ("satisfaction", "/reports/satisfaction", "manager"),
    ]
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--full", action="store_true", help="also save full-page images")
    parser.add_argument("--only", default="", help="comma-separated page names")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    from venues import demo

    with tempfile.TemporaryDirectory() as tmp:
        server, pages = _serve(Path(tmp) / "shots.db")
        base = f"http://127.0.0.1:{server.server_port}"
        only = {p for p in args.only.split(",") if p}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            for mode in ("normal", "large"):
                for who in dict.fromkeys(w for _, _, w in pages):
                    if only and not any(n in only for n, _, w in pages if w == who):
                        continue
                    context = browser.new_context(base_url=base, locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
                    page = context.new_page()
                    if who:
                        page.goto("/login")
                        page.fill("#login", demo.RESIDENTS[0][0] if who == "resident" else who)
                        page.fill("#password", demo.PASSWORD)
                        with page.expect_navigation():
                            page.click("main form button[type=submit]")
                    if mode == "large":
                        context.add_cookies([{"name": "large_text", "value": "1", "url": base}])
                    for name, path, login in pages:
                        if login != who or (only and name not in only):
                            continue
                        page.goto(path)
                        page.screenshot(path=str(out / f"{name}-{mode}.png"))
                        if args.full:
                            page.screenshot(path=str(out / f"{name}-{mode}-full.png"), full_page=True)
                        print(f"{name}-{mode}.png  {path}")
                    context.close()
            browser.close()
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
