"""The composition root: the application factory, and the one visible list of every package's blueprints,
signal receivers, scheduled jobs, CLI groups, demo seeders and navigation entries.

It stands above every domain package (nothing imports it but `wsgi.py`, the tests and the bench); `core` below
knows none of them. No work happens at import time.
"""

from pathlib import Path

from flask import Flask

from core import catalogues, nav
from core import extensions as ext
from core.config import BASE_DIR, Config
from core.db import install_sqlite_hooks
from core.errors import register_error_handlers
from core.i18n import register_template_helpers, select_locale, select_timezone, translation_directories
from core.security import register_security_headers
from core.transaction import register_transaction
from core.web import BoundedInt, register_request_log


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the web app (and the CLI's app): config, extensions, blueprints, handlers."""
    if isinstance(config, dict):
        config = Config(**config)
    config = config or Config()
    app = Flask(
        "culturenet",
        root_path=str(BASE_DIR),
        instance_path=config.INSTANCE_PATH,
        template_folder="templates",
        static_folder="static",
    )
    app.config.from_mapping(config.as_dict())
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translation_directories(BASE_DIR))
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]

    install_sqlite_hooks()
    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=str(BASE_DIR / "migrations"))
    ext.csrf.init_app(app)
    ext.limiter.init_app(app)
    ext.babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    catalogues.init_app(app, ext.babel)  # reads the zh_CN catalogues; a language per request
    ext.login_manager.init_app(app)
    if app.config.get("TRUST_PROXY"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    app.url_map.converters["int"] = BoundedInt
    register_blueprints(app)
    register_navigation(app)
    register_error_handlers(app)
    register_transaction(app)
    register_security_headers(app)
    register_template_helpers(app)
    register_request_log(app)
    register_cli(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Every blueprint, in one visible list. API blueprints are CSRF-checked by core.api instead."""
    from accounts import api as accounts_api
    from accounts import views as accounts_views
    from activities import api as activities_api
    from activities import views as activities_views
    from bookings import api as bookings_api
    from bookings import views as bookings_views
    from catalogue import api as catalogue_api
    from catalogue import views as catalogue_views
    from checkin import api as checkin_api
    from checkin import views as checkin_views
    from core import audit  # noqa: F401  (the audit table belongs to every app)
    from core import views as core_views
    from feedback import api as feedback_api
    from feedback import views as feedback_views
    from notify import api as notify_api
    from notify import views as notify_views
    from orders import api as orders_api
    from orders import views as orders_views
    from reports import api as reports_api
    from reports import receivers  # noqa: F401  (keeps the roll-up told of moved sessions)
    from reports import views as reports_views
    from resources import api as resources_api
    from resources import views as resources_views
    from rooms import api as rooms_api
    from rooms import views as rooms_views
    from venues import admin as venues_admin
    from venues import api as venues_api
    from venues import views as venues_views
    from volunteers import api as volunteers_api
    from volunteers import views as volunteers_views

    pages = [
        core_views.bp,
        accounts_views.bp,
        venues_views.bp,
        venues_admin.bp,
        activities_views.bp,
        bookings_views.bp,
        rooms_views.bp,
        checkin_views.bp,
        notify_views.bp,
        orders_views.bp,
        reports_views.bp,
        resources_views.bp,
        catalogue_views.bp,
        volunteers_views.bp,
        feedback_views.bp,
    ]
    apis = [
        accounts_api.api,
        venues_api.api,
        activities_api.api,
        bookings_api.api,
        rooms_api.api,
        checkin_api.api,
        notify_api.api,
        orders_api.api,
        reports_api.api,
        resources_api.api,
        catalogue_api.api,
        volunteers_api.api,
        feedback_api.api,
    ]
    webhooks = [notify_views.webhooks]  # called by Twilio, authenticated by its signature, no CSRF token
    for bp in pages:
        app.register_blueprint(bp)
    for bp in webhooks:
        ext.csrf.exempt(bp)
        app.register_blueprint(bp)
    for bp in apis:
        ext.csrf.exempt(bp)
        app.register_blueprint(bp)
    if app.config.get("BENCH_ENDPOINTS"):
        from core import bench_views

        app.register_blueprint(bench_views.bp)
    from accounts.auth import register_auth
    from activities.schedule import keep_schedules
    from notify.direct import register_direct_delivery

    register_auth(app)
    register_direct_delivery()
    resources_views.register_template_helpers(app)
    register_privacy()
    keep_schedules()
    connect_notifications()
    register_ticket_kinds()
    feedback_views.register_template_helpers(app)


def register_ticket_kinds() -> None:
    """Registries of lower packages filled from above: tickets admitted by `POST /checkins` through their own
    package's handler (volunteers' task tickets), and the checklist's volunteering and satisfaction rules."""
    from checkin import services as checkin_services
    from volunteers import api as volunteers_api
    from volunteers.services import TICKET_KIND

    checkin_services.register_ticket_kind(TICKET_KIND, volunteers_api.door_answer)
    from reports import volunteering  # noqa: F401  (the checklist's volunteering and satisfaction rules)


def register_privacy() -> None:
    """Each package's part of a person's data (PIPL): its section of `/account/data.json` and what deleting
    the account does to it (accounts.privacy). Erasers run by `order`: cancelling and withdrawing first, the
    outbox last, since it also wipes what the others queued."""
    from accounts import privacy
    from bookings import privacy as bookings_privacy
    from checkin import privacy as checkin_privacy
    from feedback import privacy as feedback_privacy
    from notify import privacy as notify_privacy
    from orders import privacy as orders_privacy
    from rooms import privacy as rooms_privacy
    from volunteers import privacy as volunteers_privacy

    privacy.register("bookings", export=bookings_privacy.export, erase=bookings_privacy.erase, order=10)
    privacy.register("service_orders", export=orders_privacy.export, erase=orders_privacy.erase, order=20)
    privacy.register("room_reservations", export=rooms_privacy.export, erase=rooms_privacy.erase, order=30)
    privacy.register("checkins", export=checkin_privacy.export, order=40)
    privacy.register("volunteering", export=volunteers_privacy.export, erase=volunteers_privacy.erase, order=50)
    privacy.register("feedback", export=feedback_privacy.export, erase=feedback_privacy.erase, order=60)
    privacy.register("notifications", export=notify_privacy.export, erase=notify_privacy.erase, order=90)


def register_navigation(app: Flask) -> None:
    """Each package's menu entries (the main bar, the staff tools, the account page's links)."""
    from accounts import views as accounts_views
    from activities import views as activities_views
    from bookings import views as bookings_views
    from checkin import views as checkin_views
    from feedback import views as feedback_views
    from notify import views as notify_views
    from orders import views as orders_views
    from reports import views as reports_views
    from resources import views as resources_views
    from rooms import views as rooms_views
    from venues import admin as venues_admin
    from venues import views as venues_views
    from volunteers import views as volunteers_views

    nav.init_app(app)
    # What an inbox message links to, by the first part of its dedupe key (notify.views.inbox).
    app.extensions["culturenet.message_links"] = {
        "booking": ("bookings.done", "booking_id"),
        "room-reservation": ("reservations.detail", "reservation_id"),
        "order": ("orders.order", "order_id"),
    }
    for module in (
        accounts_views,
        venues_views,
        venues_admin,
        activities_views,
        bookings_views,
        rooms_views,
        checkin_views,
        notify_views,
        orders_views,
        reports_views,
        resources_views,
        volunteers_views,
        feedback_views,
    ):
        nav.register_nav(app, module.NAV)


def connect_notifications() -> None:
    """Domain events → the outbox: what residents and groups are told, and their reminders."""
    from bookings import notifications as booking_notifications
    from orders import notifications as order_notifications
    from rooms import notifications as room_notifications

    booking_notifications.connect()
    room_notifications.connect()
    order_notifications.connect()


def register_cli(app: Flask) -> None:
    """CLI groups, and the demo seeders in the order their data depends on each other."""
    from bookings import demo as bookings_demo
    from checkin import demo as checkin_demo
    from core.cli import demo_cli, i18n_cli
    from feedback import demo as feedback_demo
    from notify.cli import jobs_cli, scheduler_cli
    from orders import demo as orders_demo
    from reports import demo as reports_demo
    from reports.cli import reports_cli
    from resources import demo as resources_demo
    from rooms import demo as rooms_demo
    from venues import demo as venues_demo
    from venues.cli import users_cli
    from volunteers import demo as volunteers_demo

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(i18n_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(reports_cli)
    register_jobs()
    # reports last: it rolls up what the others seeded
    app.extensions["culturenet.seeders"] = [
        venues_demo.seed,
        bookings_demo.seed,
        rooms_demo.seed,
        checkin_demo.seed,
        orders_demo.seed,
        resources_demo.seed,
        volunteers_demo.seed,
        feedback_demo.seed,
        reports_demo.seed,
    ]


def register_jobs() -> None:
    """Every scheduled job (an idempotent sweeper `func(now)`), in one visible list; notify runs them."""
    from activities import schedule
    from bookings import jobs as booking_jobs
    from feedback import services as feedback_jobs
    from notify.scheduler import register_job, register_notify_jobs
    from reports import jobs as report_jobs
    from resources import media as resource_jobs
    from rooms import jobs as room_jobs

    register_notify_jobs()
    for table in (
        schedule.JOBS,
        booking_jobs.JOBS,
        room_jobs.JOBS,
        report_jobs.JOBS,
        resource_jobs.JOBS,
        feedback_jobs.JOBS,
    ):
        for name, (func, seconds) in table.items():
            summary = (func.__doc__ or name).strip().split("\n")[0]
            register_job(name, func, {"trigger": "interval", "seconds": seconds}, summary)
