"""Public listing and calendar feeds; staff pages to create, schedule, publish and cancel activities.

The activity page itself (with the booking form and the lottery result) is served by bookings/,
which may read activities; this package may not read bookings.
"""

import re
from dataclasses import astuple
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from accounts.auth import require_roles, require_venue_scope
from accounts.models import MANAGE_ROLES
from activities import loaders, services
from activities.booking_state import activity_state
from activities.calendar import ics_for
from activities.forms import ActivityForm, QuickEventForm, ReasonForm, SessionForm, WeeklyForm, parse_dates
from activities.models import (
    CATEGORY_LABELS,
    KIND_LABELS,
    POLICY_LABELS,
    STATUS_LABELS,
    Activity,
    ActivityKind,
    Category,
    Session,
)
from activities.queries import (
    ActivityFilters,
    activity_page,
    activity_select,
    card_page,
    cards,
    sessions_between,
    sessions_for_feed,
    signup_opening_select,
    staff_activities,
)
from core import nav
from core.cache import memoised, public_fragment, public_value
from core.errors import DomainError
from core.extensions import db
from core.forms import show_domain_error
from core.i18n import local_datetime, local_today, resolved_labels, to_local
from core.urls import external_url
from venues.models import District, Venue
from venues.queries import districts, venue_select, venues_in_scope

bp = Blueprint("activities", __name__)
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 10, "activities.listing", _l("What's on"), visible=nav.public),
    nav.NavEntry(
        "staff", 10, "activities.staff_list", _l("Activities and sessions"), visible=nav.with_roles(*MANAGE_ROLES)
    ),
    nav.NavEntry(
        "staff", 20, "activities.quick", _l("List a local event quickly"), visible=nav.with_roles(*MANAGE_ROLES)
    ),
]


@bp.record_once
def _register_sections(state) -> None:
    """The home page and the venue page belong to venues/, which may not read activities: they render the
    sections registered here (see venues.views.index and venues.views.venue)."""
    state.app.extensions.setdefault("culturenet.home_sections", []).append(home_sections)
    state.app.extensions.setdefault("culturenet.venue_sections", []).append(venue_section)


_CATEGORY_NAMES: dict[str, list[str]] = {}


def _category_names() -> dict[str, list[str]]:
    """Each category's names in every language of the site, lower-cased (built once per process)."""
    if not _CATEGORY_NAMES:
        from flask_babel import force_locale

        names: dict[str, list[str]] = {c.value: [c.value.replace("_", " ")] for c in CATEGORY_LABELS}
        for locale in ("zh_CN", "en"):
            with force_locale(locale):
                for category, label in CATEGORY_LABELS.items():
                    names[category.value].append(str(label).casefold())
        _CATEGORY_NAMES.update(names)
    return _CATEGORY_NAMES


def _categories_named(q: str | None) -> tuple:
    """The categories whose name the search text contains (or is part of): 书法 → calligraphy."""
    if not q or len(q) < 2 and not ("\u4e00" <= q <= "\u9fff"):
        return ()
    needle = q.casefold()
    return tuple(
        value for value, names in _category_names().items() if any(n in needle or needle in n for n in names if n)
    )


_CARD_TEMPLATE = (
    '{% from "_macros.html" import activity_card %}{{ activity_card(a, state, category_labels, heading=heading) }}'
)


def card_html(a, state, category_labels: dict, heading: str = "h3") -> Markup:
    """One card's markup (the `activity_card` macro), remembered on everything it shows (core.cache.memoised):
    the list's 20 cards cost a dictionary lookup each, not three macro calls, until a card's data changes."""
    from flask_babel import get_locale

    key = (
        "activities.card",
        str(get_locale()),
        current_app.config.get("TIMEZONE"),
        request.script_root,
        heading,
        a.id,
        a.title,
        a.cover_image,
        a.category,
        category_labels[a.category],
        a.next_starts_at,
        a.starts_on,
        a.ends_on,
        a.venue.name,
        a.venue.name_en,
        state,  # a frozen BookingState: its code, numbers, moment and policy (the label and colour follow)
    )

    def render() -> str:
        template = current_app.jinja_env.from_string(_CARD_TEMPLATE)
        return template.render(a=a, state=state, category_labels=category_labels, heading=heading)

    return memoised(key, render)


def _card_context() -> dict:
    """What the card templates read: the category names, and `card(a, state, heading)`."""
    labels = resolved_labels(CATEGORY_LABELS)
    return {"category_labels": labels, "card": lambda a, state, heading="h3": card_html(a, state, labels, heading)}


def _cards(stmt, limit: int, now: datetime) -> list[tuple[object, object]]:
    """(card, booking state) of the first `limit` activities of `stmt`: plain rows (activities.queries.cards)."""
    return [(a, activity_state(a, now)) for a in cards(stmt, now, limit)]


def home_sections() -> str:
    """What's on soon for the home page: today, this weekend, classes whose sign-up opens soon, by category.
    Public data only, cached like the list (core/cache.py)."""

    def content() -> str:
        now = datetime.now(UTC)
        today = local_today(now)
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        weekend_from = today if today.weekday() == 6 else saturday
        weekend_to = today if today.weekday() == 6 else saturday + timedelta(days=1)
        sections = [
            (
                "today",
                _("Today"),
                _cards(activity_select(ActivityFilters(from_on=today, to_on=today), now), 4, now),
                {"from": today.isoformat(), "to": today.isoformat()},
            ),
            (
                "weekend",
                _("This weekend"),
                _cards(activity_select(ActivityFilters(from_on=weekend_from, to_on=weekend_to), now), 4, now),
                {"from": weekend_from.isoformat(), "to": weekend_to.isoformat()},
            ),
            (
                "opening",
                _("Classes opening for sign-up soon"),
                _cards(signup_opening_select(now), 4, now),
                {"kind": "course"},
            ),
            ("soon", _("Coming up"), _cards(activity_select(ActivityFilters(), now), 6, now), {}),
        ]
        return render_template(
            "activities/_home.html",
            sections=[s for s in sections if s[2]],
            **_card_context(),
        )

    return public_fragment(("activities.home",), content)


def venue_section(venue: Venue) -> str:
    """The venue page's upcoming activities (the venue and the venues under it)."""

    def content() -> str:
        now = datetime.now(UTC)
        cards = _cards(activity_select(ActivityFilters(venue_id=venue.id), now), 8, now)
        return render_template(
            "activities/_venue_section.html",
            venue=venue,
            cards=cards,
            **_card_context(),
        )

    return public_fragment(("activities.venue", venue.id), content)


@bp.get("/search")
def search():
    """One search box for activities and venues (the home page's): 书法 finds the calligraphy classes."""
    q = (request.args.get("q") or "").strip()[:50] or None

    def content() -> str:
        now = datetime.now(UTC)
        cards, venues = [], []
        if q:
            filters = ActivityFilters(q=q, q_categories=_categories_named(q))
            cards = _cards(activity_select(filters, now), 20, now)
            venues = list(db.session.execute(venue_select(q=q).limit(10)).scalars())
        return render_template(
            "activities/_search.html",
            q=q,
            cards=cards,
            venues=venues,
            **_card_context(),
        )

    return render_template("activities/search.html", q=q, content=public_fragment(("activities.search", q), content))


class _District:
    __slots__ = ("code", "name", "name_en")

    def __init__(self, code: str, name: str, name_en: str | None) -> None:
        self.code, self.name, self.name_en = code, name, name_en


def _districts() -> list:
    """The districts of the filter form: a reference table (a district is added once in years), kept per process
    for PUBLIC_CACHE_SECONDS like the fragments themselves (core.cache.public_value), so a fresh rendering of
    the list costs no query for it; with the cache off (tests) it is read every time."""
    return public_value(("activities.districts",), lambda: [_District(d.code, d.name, d.name_en) for d in districts()])


def _list_toolbar(filters: ActivityFilters, args: dict) -> Markup:
    """The search box and filter form of the list, remembered on its inputs (core.cache.memoised)."""
    from flask_babel import get_locale

    found = _districts()
    key = (
        "activities.list_toolbar",
        str(get_locale()),
        request.script_root,
        astuple(filters),
        tuple(args.items()),
        tuple((d.code, d.name, d.name_en) for d in found),
    )

    def render() -> str:
        return render_template(
            "activities/_list_toolbar.html",
            f=filters,
            args=args,
            districts=found,
            kind_labels=resolved_labels(KIND_LABELS),
            category_labels=resolved_labels(CATEGORY_LABELS),
        )

    return memoised(key, render)


def _int_arg(name: str, low: int = 0, high: int = 10**9) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and low <= value <= high else None


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.get("/activities")
def listing():
    """Find what is on: district, venue subtree, kind, category, dates, age and free text."""
    kind = request.args.get("kind") if request.args.get("kind") in ActivityKind.__members__ else None
    category = request.args.get("category") if request.args.get("category") in Category.__members__ else None
    q = (request.args.get("q") or "").strip()[:50] or None
    filters = ActivityFilters(
        venue_id=_int_arg("venue", 1),
        district=(request.args.get("district") or "")[:40] or None,
        kind=kind,
        category=category,
        from_on=_date_arg("from"),
        to_on=_date_arg("to"),
        age=_int_arg("age", 0, 120),
        q=q,
        q_categories=_categories_named(q),
    )
    page = _int_arg("page", 1, 10_000) or 1
    args = {k: v for k, v in request.args.items() if k != "page"}

    def content() -> str:
        now = datetime.now(UTC)
        result = card_page(filters, now, page)
        return render_template(
            "activities/_listing.html",
            result=result,
            states={a.id: activity_state(a, now) for a in result.items},
            toolbar=_list_toolbar(filters, args),
            **_card_context(),
            args=args,
        )

    key = ("activities.listing", astuple(filters), page, tuple(sorted(args.items())))
    return render_template("activities/list.html", content=public_fragment(key, content))


@bp.get("/activities/calendar")
def calendar():
    """A week (or month) of sessions, day by day, with the listing's filters."""
    view = "month" if request.args.get("view") == "month" else "week"
    first = _date_arg("start") or local_today()
    if view == "month":
        first = first.replace(day=1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        first -= timedelta(days=first.weekday())
        last = first + timedelta(days=7)
    kind = request.args.get("kind") if request.args.get("kind") in ActivityKind.__members__ else None
    filters = ActivityFilters(
        district=(request.args.get("district") or "")[:40] or None, kind=kind, venue_id=_int_arg("venue", 1)
    )
    days: dict[date, list[Session]] = {}
    for session in sessions_between(local_datetime(first, time.min), local_datetime(last, time.min), filters):
        days.setdefault(to_local(session.starts_at).date(), []).append(session)
    previous = (first - timedelta(days=1)).replace(day=1) if view == "month" else first - timedelta(days=7)
    return render_template(
        "activities/calendar.html",
        view=view,
        first=first,
        last=last - timedelta(days=1),
        days=sorted(days.items()),
        strip=[(first + timedelta(days=i), len(days.get(first + timedelta(days=i), []))) for i in range(7)]
        if view == "week"
        else [],
        today=local_today(),
        previous=previous,
        following=last,
        f=filters,
        districts=districts(),
        kind_labels=KIND_LABELS,
    )


@bp.get("/media/activities/<name>")
def cover(name: str):
    """A stored cover picture (names are generated by the server: digits, a dash, hex, .jpg)."""
    if not re.fullmatch(r"\d+-[0-9a-f]{12}\.jpg", name):
        abort(404)
    return send_from_directory(Path(current_app.config["UPLOAD_DIR"]) / "activities", name, max_age=86400)


@bp.post("/staff/activities/<int:activity_id>/cover")
@login_required
def upload_cover(activity_id: int):
    activity = _managed(activity_id)
    upload = request.files.get("cover")
    if upload is None or not upload.filename:
        flash(_("Choose a picture to upload."), "error")
        return _manage_page(activity, 422)
    try:
        services.set_cover_image(
            activity, stream=upload.stream, actor=current_user, upload_dir=current_app.config["UPLOAD_DIR"]
        )
    except DomainError as err:
        return _manage_page(activity, show_domain_error(None, err))
    flash(_("Picture saved."), "success")
    return redirect(url_for("activities.manage", activity_id=activity.id))


@bp.get("/lottery/how-to-verify")
def lottery_verify():
    return render_template("activities/lottery_verify.html")


# --- calendar feeds ---------------------------------------------------------------------------


def _ics(sessions: list[Session], name: str) -> Response:
    body = ics_for(sessions, name=name, url_for_activity=lambda a: external_url("bookings.activity", activity_id=a.id))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = "inline; filename=calendar.ics"
    return response


@bp.get("/calendar/venues/<int:venue_id>.ics")
def venue_feed(venue_id: int):
    venue = db.session.get(Venue, venue_id)
    if venue is None or not venue.is_active:
        abort(404)
    return _ics(sessions_for_feed(venue=venue, now=datetime.now(UTC)), venue.name)


@bp.get("/calendar/districts/<district>.ics")
def district_feed(district: str):
    found = db.session.get(District, district[:40])
    if found is None:
        abort(404)
    return _ics(sessions_for_feed(district=found.code, now=datetime.now(UTC)), found.name)


@bp.get("/activities/<int:activity_id>.ics")
def activity_feed(activity_id: int):
    activity = activity_page(activity_id)
    if activity is None or activity.status.value not in ("published", "finished"):
        abort(404)
    return _ics(activity.live_sessions, activity.title)


# --- staff ------------------------------------------------------------------------------------


@bp.get("/staff/activities")
@login_required
def staff_list():
    actor = require_roles(*MANAGE_ROLES)
    page = _int_arg("page", 1, 10_000) or 1
    result = db.paginate(staff_activities(actor.scope_paths()), page=page, per_page=30, error_out=False)
    return render_template(
        "activities/staff_list.html", result=result, kind_labels=KIND_LABELS, status_labels=STATUS_LABELS
    )


def _venue_choices(actor) -> list[tuple[int, str]]:
    return [(v.id, v.name) for v in venues_in_scope(actor, MANAGE_ROLES)]


def _room_choices(venues: list[tuple[int, str]], selected_venue: int | None) -> list[tuple[int, str]]:
    from venues.models import Room

    ids = [selected_venue] if selected_venue else [v for v, _n in venues]
    rooms = db.session.query(Room).filter(Room.venue_id.in_(ids), Room.is_active.is_(True)).order_by(Room.id)
    return [(0, _("No room"))] + [(r.id, r.name) for r in rooms.limit(300)]


@bp.route("/staff/activities/new", methods=["GET", "POST"], defaults={"activity_id": None})
@bp.route("/staff/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit(activity_id: int | None):
    actor = require_roles(*MANAGE_ROLES)
    activity = _managed(activity_id) if activity_id else None
    form = ActivityForm(obj=activity)
    form.venue_id.choices = _venue_choices(actor)
    form.room_id.choices = _room_choices(form.venue_id.choices, activity.venue_id if activity else None)
    if activity is not None and request.method == "GET":
        form.signup_opens_at.data = _local(activity.signup_opens_at)
        form.signup_closes_at.data = _local(activity.signup_closes_at)
        form.room_id.data = activity.room_id or 0
        form.quota_rule.data = activity.quota_rule.value if activity.quota_rule else ""
        form.gender.data = activity.gender or ""
    status = 200
    if form.validate_on_submit():
        try:
            if activity is None:
                venue = db.session.get(Venue, form.venue_id.data)
                activity = services.create_activity(venue, data=form.data_for_service(), actor=actor)
            else:
                data = form.data_for_service()
                data.pop("kind")
                services.update_activity(activity, data=data, actor=actor)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("activities.manage", activity_id=activity.id))
    elif form.is_submitted():
        status = 422
    return render_template("activities/form.html", form=form, activity=activity), status


def _local(value: datetime | None) -> datetime | None:
    from core.i18n import to_local

    return None if value is None else to_local(value).replace(tzinfo=None)


@bp.route("/staff/activities/quick", methods=["GET", "POST"])
@login_required
def quick():
    """Township and village staff list a local event in under a minute; sensible defaults for the rest."""
    actor = require_roles(*MANAGE_ROLES)
    form = QuickEventForm()
    form.venue_id.choices = _venue_choices(actor)
    status = 200
    if form.validate_on_submit():
        venue = db.session.get(Venue, form.venue_id.data)
        data = {
            "kind": "event",
            "title": form.title.data,
            "category": form.category.data,
            "place": form.place.data,
            "policy": "first_come" if form.capacity.data else "walk_in",
            "capacity": form.capacity.data or 0,
            "max_party_size": 3,
        }
        try:
            activity = services.create_activity(venue, data=data, actor=actor)
            services.add_session(
                activity,
                starts_at=local_datetime(form.on.data, form.starts.data),
                ends_at=local_datetime(form.on.data, form.ends.data),
                actor=actor,
            )
            services.publish_activity(activity, actor=actor)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Published."), "success")
            return redirect(url_for("bookings.activity", activity_id=activity.id))
    elif form.is_submitted():
        status = 422
    elif not form.on.data:
        form.on.data = local_today()
    return render_template("activities/quick.html", form=form), status


def _managed(activity_id: int) -> Activity:
    activity = activity_page(activity_id)
    if activity is None:
        abort(404)
    require_venue_scope(activity.venue)
    return activity


def _manage_page(activity: Activity, status: int = 200, **forms):
    forms.setdefault("session_form", SessionForm(prefix="one"))
    forms.setdefault("weekly_form", WeeklyForm(prefix="weekly"))
    forms.setdefault("reason_form", ReasonForm(prefix="cancel"))
    return render_template(
        "activities/manage.html",
        activity=activity,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        policy_labels=POLICY_LABELS,
        now=datetime.now(UTC),
        **forms,
    ), status


@bp.get("/staff/activities/<int:activity_id>")
@login_required
def manage(activity_id: int):
    return _manage_page(_managed(activity_id))


@bp.post("/staff/activities/<int:activity_id>/sessions")
@login_required
def add_session(activity_id: int):
    activity = _managed(activity_id)
    form = SessionForm(prefix="one")
    if not form.validate_on_submit():
        return _manage_page(activity, 422, session_form=form)
    try:
        services.add_session(
            activity,
            starts_at=local_datetime(form.on.data, form.starts.data),
            ends_at=local_datetime(form.on.data, form.ends.data),
            actor=current_user,
        )
    except DomainError as err:
        return _manage_page(activity, show_domain_error(form, err), session_form=form)
    flash(_("Session added."), "success")
    return redirect(url_for("activities.manage", activity_id=activity.id))


@bp.post("/staff/activities/<int:activity_id>/weekly")
@login_required
def add_weekly(activity_id: int):
    activity = _managed(activity_id)
    form = WeeklyForm(prefix="weekly")
    if not form.validate_on_submit():
        return _manage_page(activity, 422, weekly_form=form)
    try:
        added = services.add_weekly_sessions(
            activity,
            first_on=form.first_on.data,
            until_on=form.until_on.data,
            weekdays=form.weekdays.data,
            starts=form.starts.data,
            ends=form.ends.data,
            except_on=parse_dates(form.except_on.data),
            actor=current_user,
        )
    except DomainError as err:
        return _manage_page(activity, show_domain_error(form, err), weekly_form=form)
    flash(ngettext("%(num)s session added.", "%(num)s sessions added.", len(added)), "success")
    return redirect(url_for("activities.manage", activity_id=activity.id))


@bp.post("/staff/activities/<int:activity_id>/publish")
@login_required
def publish(activity_id: int):
    activity = _managed(activity_id)
    try:
        services.publish_activity(activity, actor=current_user)
    except DomainError as err:
        return _manage_page(activity, show_domain_error(None, err))
    flash(_("Published."), "success")
    return redirect(url_for("activities.manage", activity_id=activity.id))


@bp.post("/staff/activities/<int:activity_id>/cancel")
@login_required
def cancel(activity_id: int):
    activity = _managed(activity_id)
    form = ReasonForm(prefix="cancel")
    try:
        services.cancel_activity(activity, reason=form.reason.data or "", actor=current_user)
    except DomainError as err:
        return _manage_page(activity, show_domain_error(form, err), reason_form=form)
    flash(_("The activity is cancelled; everyone booked will be told."), "success")
    return redirect(url_for("activities.manage", activity_id=activity.id))


def _session(session_id: int) -> Session:
    return loaders.managed_session(session_id)[0]


@bp.post("/staff/sessions/<int:session_id>/cancel")
@login_required
def cancel_session(session_id: int):
    session = _session(session_id)
    try:
        services.cancel_session(session, reason=(request.form.get("reason") or "")[:200], actor=current_user)
    except DomainError as err:
        return _manage_page(session.activity, show_domain_error(None, err))
    flash(_("Session cancelled; everyone booked will be told."), "success")
    return redirect(url_for("activities.manage", activity_id=session.activity_id))


@bp.post("/staff/sessions/<int:session_id>/move")
@login_required
def move_session(session_id: int):
    session = _session(session_id)
    form = SessionForm(prefix=f"move{session.id}", meta={"csrf": False})  # CSRFProtect checks the page token
    if not form.validate_on_submit():
        flash(_("Give the new date and times."), "error")
        return _manage_page(session.activity, 422)
    try:
        services.move_session(
            session,
            starts_at=local_datetime(form.on.data, form.starts.data),
            ends_at=local_datetime(form.on.data, form.ends.data),
            actor=current_user,
        )
    except DomainError as err:
        return _manage_page(session.activity, show_domain_error(None, err))
    flash(_("Session moved; everyone booked will be told."), "success")
    return redirect(url_for("activities.manage", activity_id=session.activity_id))
