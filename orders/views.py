"""Pages of the service menu and orders: the public menu, ordering, each order's steps for both sides,
the staff queue, the provider calendar, demand signals, and menu management."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.models import MANAGE_ROLES, REPORT_ROLES
from core import nav
from core.errors import DomainError, Forbidden
from core.extensions import db
from core.forms import show_domain_error
from core.i18n import local_datetime, local_today
from orders import queries, services
from orders.forms import (
    AcceptForm,
    BulkDeclineForm,
    CounterForm,
    DeclineForm,
    DeliverForm,
    MenuItemForm,
    OrderForm,
    RateForm,
    ScheduleForm,
    WithdrawForm,
)
from orders.models import (
    CATEGORY_LABELS,
    PROVIDER_KINDS,
    SERVICE_POINT_KINDS,
    STATUS_LABELS,
    MenuCategory,
    MenuItem,
    ServiceOrder,
)
from orders.services.photos import NAME_PATTERN as PHOTO_NAME
from venues.models import Venue
from venues.queries import districts, venues_in_scope

bp = Blueprint("orders", __name__)
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry(
        "main", 40, "orders.menu", _l("Service menu"), visible=lambda u: nav.public(u) or u.has_role(*MANAGE_ROLES)
    ),
    nav.NavEntry("staff", 70, "orders.staff_queue", _l("Service orders"), visible=nav.with_roles(*MANAGE_ROLES)),
    nav.NavEntry(
        "staff", 80, "orders.staff_menu", _l("Manage the service menu"), visible=nav.with_roles(*MANAGE_ROLES)
    ),
]

LABELS = {"category_labels": CATEGORY_LABELS, "status_labels": STATUS_LABELS}


# --- the public menu ---------------------------------------------------------------------------------


@bp.get("/menu")
def menu():
    district = (request.args.get("district") or "")[:40] or None
    category = request.args.get("category") if request.args.get("category") in MenuCategory.__members__ else None
    q = (request.args.get("q") or "").strip()[:50] or None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    result = db.paginate(
        queries.menu_select(district=district, category=category, q=q), page=page, per_page=20, error_out=False
    )
    records = queries.item_records([i.id for i in result.items], local_today().year)
    return render_template(
        "orders/menu.html",
        result=result,
        records=records,
        districts=districts(),
        district=district,
        category=category,
        q=q,
        **LABELS,
    )


@bp.get("/menu/<int:item_id>")
def menu_item(item_id: int):
    item = db.session.get(MenuItem, item_id)
    if item is None or not (item.is_published or item.can_manage(current_user)):
        abort(404)
    record = queries.item_records([item.id], local_today().year)[item.id]
    return render_template("orders/menu_item.html", item=item, record=record, **LABELS)


# --- ordering ----------------------------------------------------------------------------------------


@bp.route("/menu/<int:item_id>/order", methods=["GET", "POST"])
@bp.route("/orders/new", methods=["GET", "POST"], defaults={"item_id": None})
@login_required
def new_order(item_id: int | None):
    item = db.session.get(MenuItem, item_id) if item_id is not None else None
    if item_id is not None and (item is None or item.published_at is None):
        abort(404)
    form = _order_form()
    status = 200
    if form.validate_on_submit():
        venue = db.session.get(Venue, form.venue_id.data) if form.venue_id.data else None
        try:
            order = services.submit_order(data=form.data_for_service(venue=venue, item=item), actor=current_user)
        except DomainError as err:
            status = show_domain_error(form, _placed(err))
        else:
            flash(_("Your order is submitted. You will see every step here."), "success")
            return redirect(url_for("orders.order", order_id=order.id))
    elif form.is_submitted():
        status = 422
    return render_template("orders/order_form.html", form=form, item=item, **LABELS), status


def _order_form() -> OrderForm:
    form = OrderForm()
    points = (
        [v for v in venues_in_scope(current_user, MANAGE_ROLES) if v.kind in SERVICE_POINT_KINDS]
        if current_user.is_staff
        else []
    )
    form.venue_id.choices = [(v.id, v.name) for v in points] + [(0, _("A group (give its address)"))]
    form.district_code.choices = [("", "")] + [(d.code, d.name) for d in districts()]
    return form


def _placed(err: DomainError) -> DomainError:
    """Put the service's field names where the form shows them."""
    fields = err.extra.get("fields")
    if fields:
        renames = {
            "preferred_dates": "date_1",
            "custom.title": "custom_title",
            "custom.description": "custom_description",
            "custom.category": "custom_category",
        }
        err.extra["fields"] = {renames.get(k, k): v for k, v in fields.items()}
    return err


# --- one order, both sides ---------------------------------------------------------------------------


def _visible(order_id: int) -> ServiceOrder:
    order = db.session.get(ServiceOrder, order_id)
    if order is None or not order.can_view(current_user):
        abort(404)
    return order


def _forms(order: ServiceOrder, **given) -> dict:
    accept = AcceptForm(prefix="accept")
    accept.chosen_on.choices = [(d.isoformat(), d.isoformat()) for d in order.preferred_dates]
    forms = {
        "accept": accept,
        "counter": CounterForm(prefix="counter"),
        "decline": DeclineForm(prefix="decline"),
        "schedule": ScheduleForm(prefix="schedule"),
        "deliver": DeliverForm(prefix="deliver"),
        "rate": RateForm(prefix="rate"),
        "withdraw": WithdrawForm(prefix="withdraw"),
    }
    return forms | given


def _render(order: ServiceOrder, status: int = 200, **given):
    return render_template(
        "orders/order.html",
        order=order,
        forms=_forms(order, **given),
        is_provider=order.is_provider(current_user),
        is_orderer=order.is_orderer(current_user),
        now=datetime.now(UTC),
        **LABELS,
    ), status


@bp.get("/orders/<int:order_id>")
@login_required
def order(order_id: int):
    return _render(_visible(order_id))


@bp.post(
    "/orders/<int:order_id>/<any(accept, counter, decline, schedule, deliver, rate, withdraw, 'accept-counter'):step>"
)
@login_required
def step(order_id: int, step: str):
    order = _visible(order_id)
    form = _forms(order).get(step)
    if form is not None and not form.validate_on_submit():
        return _render(order, 422, **{step: form})
    try:
        STEPS[step](order, form)
    except DomainError as err:
        return _render(order, show_domain_error(form, err), **({step: form} if form else {}))
    flash(_("Saved: the order is now %(status)s.", status=STATUS_LABELS[order.status]), "success")
    return redirect(url_for("orders.order", order_id=order.id), 303)


def _schedule(order: ServiceOrder, form: ScheduleForm):
    if order.chosen_on is None:
        raise services.InvalidTransition(services.NOT_NOW)
    starts = local_datetime(order.chosen_on, form.starts.data)
    ends = local_datetime(order.chosen_on, form.ends.data)
    services.schedule_order(order, actor=current_user, starts_at=starts, ends_at=ends)


def _accept(order: ServiceOrder, form: AcceptForm):
    chosen = datetime.fromisoformat(form.chosen_on.data).date() if form.chosen_on.data else None
    services.accept_order(order, actor=current_user, chosen_on=chosen, reply=form.reply.data)


STEPS = {
    "accept": _accept,
    "counter": lambda o, f: services.counter_order(
        o, actor=current_user, counter_on=f.counter_on.data, reply=f.reply.data
    ),
    "decline": lambda o, f: services.decline_order(o, actor=current_user, reason=f.reason.data),
    "accept-counter": lambda o, f: services.accept_counter(o, actor=current_user),
    "schedule": _schedule,
    "deliver": lambda o, f: services.deliver_order(
        o,
        actor=current_user,
        headcount=f.headcount.data,
        report=f.report.data,
        photo_streams=[p.stream for p in request.files.getlist("deliver-photos") if p.filename],
        upload_dir=current_app.config["UPLOAD_DIR"],
    ),
    "rate": lambda o, f: services.rate_order(o, actor=current_user, rating=f.rating.data, comment=f.comment.data),
    "withdraw": lambda o, f: services.withdraw_order(o, actor=current_user, reason=f.reason.data),
}


@bp.get("/media/orders/<name>")
@login_required
def photo(name: str):
    """A delivery photo, for those who can see its order (names are generated: order id, dash, hex, .jpg)."""
    match = re.fullmatch(PHOTO_NAME, name)
    if match is None:
        abort(404)
    order = _visible(int(match.group(1)))
    if name not in (order.photos or []):
        abort(404)
    return send_from_directory(Path(current_app.config["UPLOAD_DIR"]) / "orders", name, max_age=3600)


@bp.get("/orders")
@login_required
def my_orders():
    status = request.args.get("status") if request.args.get("status") in STATUS_LABELS else None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    result = db.paginate(
        queries.orders_visible_to(current_user, status=status, side="orderer"), page=page, per_page=20, error_out=False
    )
    return render_template("orders/my_orders.html", result=result, status=status, **LABELS)


# --- staff: queue, calendar, demand ------------------------------------------------------------------


def _require_staff():
    if not current_user.has_role(*MANAGE_ROLES):
        raise Forbidden()


@bp.route("/orders/queue", methods=["GET", "POST"])
@login_required
def staff_queue():
    _require_staff()
    waiting = queries.staff_queue(current_user)
    form = BulkDeclineForm(prefix="bulk")
    form.order_ids.choices = [(o.id, str(o.id)) for o in waiting]
    status = 200
    if form.validate_on_submit():
        chosen = [o for o in waiting if o.id in form.order_ids.data]
        try:
            done, skipped = services.decline_orders(chosen, actor=current_user, reason=form.reason.data)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("%(n)s orders declined.", n=len(done)), "success")
            for order, why in skipped:
                flash(f"#{order.id}: {why}", "warning")
            return redirect(url_for("orders.staff_queue"), 303)
    elif form.is_submitted():
        status = 422
    return render_template("orders/queue.html", waiting=waiting, form=form, now=datetime.now(UTC), **LABELS), status


@bp.get("/orders/calendar")
@login_required
def calendar():
    _require_staff()
    try:
        start = datetime.strptime(request.args.get("from", ""), "%Y-%m-%d").date()
    except ValueError:
        start = local_today()
    days = queries.provider_calendar(current_user, start, start + timedelta(days=41))
    return render_template("orders/calendar.html", days=days, start=start, **LABELS)


@bp.get("/orders/demand")
@login_required
def demand():
    if not current_user.has_role(*REPORT_ROLES):
        raise Forbidden()
    year = request.args.get("year", type=int) or local_today().year
    year = min(max(year, 2000), 2100)
    return render_template(
        "orders/demand.html",
        year=year,
        demand=queries.demand_signals(current_user, year),
        figures=queries.figures(current_user.scope_paths(REPORT_ROLES), year),
        **LABELS,
    )


# --- staff: the menu ---------------------------------------------------------------------------------


@bp.get("/menu/manage")
@login_required
def staff_menu():
    _require_staff()
    items = list(db.session.execute(queries.items_in_scope(current_user)).scalars())
    return render_template("orders/manage_menu.html", items=items, **LABELS)


@bp.route("/menu/new", methods=["GET", "POST"], defaults={"item_id": None})
@bp.route("/menu/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_menu_item(item_id: int | None):
    _require_staff()
    item = db.session.get(MenuItem, item_id) if item_id is not None else None
    if item_id is not None and (item is None or not item.can_manage(current_user)):
        abort(404)
    form = MenuItemForm(
        obj=item,
        data={
            "district_codes": item.district_codes,
            "category": item.category.value,
            "provider_venue_id": item.provider_venue_id,
        }
        if item
        else None,
    )
    form.provider_venue_id.choices = [
        (v.id, v.name) for v in venues_in_scope(current_user, MANAGE_ROLES) if v.kind in PROVIDER_KINDS
    ]
    form.district_codes.choices = [(d.code, d.name) for d in districts()]
    status = 200
    if form.validate_on_submit():
        provider = db.session.get(Venue, form.provider_venue_id.data)
        try:
            item = services.save_menu_item(provider, data=form.data_for_service(), actor=current_user, item=item)
        except DomainError as err:
            status = show_domain_error(form, err)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("orders.staff_menu"), 303)
    elif form.is_submitted():
        status = 422
    return render_template("orders/menu_form.html", form=form, item=item, **LABELS), status


@bp.post("/menu/<int:item_id>/<any(publish, withdraw):action>")
@login_required
def publish_or_withdraw(item_id: int, action: str):
    item = db.session.get(MenuItem, item_id)
    if item is None or not item.can_manage(current_user):
        abort(404)
    if action == "publish":
        services.publish_menu_item(item, actor=current_user)
        flash(_("Published on the menu."), "success")
    else:
        services.withdraw_menu_item(item, actor=current_user)
        flash(_("Withdrawn from the menu."), "success")
    return redirect(url_for("orders.staff_menu"), 303)
