"""Pages: the inbox, notification preferences, failed messages for staff; Twilio webhooks."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.auth import require_roles
from accounts.models import Role, User
from core import nav
from core.errors import DomainError, Forbidden
from core.extensions import db
from core.forms import show_domain_error
from notify import queries, services
from notify.channels import e164
from notify.forms import PreferencesForm
from notify.models import Message

bp = Blueprint("notify", __name__)
webhooks = Blueprint("notify_webhooks", __name__)
STAFF_ROLES = (Role.staff, Role.manager, Role.admin)
NAV = [  # this package's links in the menus (see core.nav)
    nav.NavEntry("main", 100, "notify.inbox", _l("Messages"), visible=nav.signed_in, badge=queries.unread_count),
    nav.NavEntry("staff", 100, "notify.failed", _l("Failed messages"), visible=nav.with_roles(*STAFF_ROLES)),
    nav.NavEntry("account", 30, "notify.inbox", _l("Messages")),
    nav.NavEntry("account", 40, "notify.preferences", _l("How we contact you")),
]


STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "TD", "退订"}
START_WORDS = {"START", "YES", "UNSTOP", "订阅"}


@bp.get("/inbox")
@login_required
def inbox():
    page = request.args.get("page", 1, type=int)
    result = queries.inbox_of(current_user, page=page)
    unread_ids = {m.id for m in result.items if m.read_at is None}
    services.mark_inbox_read(current_user)
    links = {m.id: _message_link(m) for m in result.items}
    return render_template("notify/inbox.html", result=result, unread_ids=unread_ids, links=links)


def _message_link(message) -> tuple[str, str] | None:
    """The page a message is about (the booking and its ticket, a room reservation, an order), from the
    first two parts of its dedupe key (`booking:42:…`), as the composition root maps them."""
    kind, _sep, rest = (message.dedupe_key or "").partition(":")
    target = current_app.extensions.get("culturenet.message_links", {}).get(kind)
    object_id = rest.split(":", 1)[0]
    if target is None or not object_id.isdigit():
        return None
    endpoint, arg = target
    return url_for(endpoint, **{arg: int(object_id)}), kind


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    pref = services.preferences_for(current_user)
    form = PreferencesForm(obj=pref)
    if form.validate_on_submit():
        services.set_preferences(
            current_user, data={"sms": form.sms.data, "email": form.email.data, "inbox": form.inbox.data}
        )
        flash(_("Your notification settings are saved."), "success")
        return redirect(url_for("notify.preferences"))
    return render_template("notify/preferences.html", form=form), 422 if form.is_submitted() else 200


@bp.get("/staff/notifications/failed")
def failed():
    viewer = require_roles(*STAFF_ROLES)
    page = request.args.get("page", 1, type=int)
    return render_template("notify/failed.html", result=queries.failed_messages(viewer, page=page))


@bp.post("/staff/notifications/<int:message_id>/resend")
def resend(message_id: int):
    viewer = require_roles(*STAFF_ROLES)
    message = db.get_or_404(Message, message_id)
    if not queries.can_handle(viewer, message):
        raise Forbidden()
    try:
        services.resend_message(message, actor=viewer)
    except DomainError as err:
        show_domain_error(None, err)
        return redirect(url_for("notify.failed")), 303
    flash(_("The message is queued to be sent again."), "success")
    return redirect(url_for("notify.failed")), 303


def _verified() -> None:
    """Reject (403) a callback that does not carry Twilio's signature over this URL and its form."""
    from twilio.request_validator import RequestValidator

    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        abort(403)
    url = current_app.config.get("TWILIO_WEBHOOK_BASE")
    url = (url.rstrip("/") + request.full_path.rstrip("?")) if url else request.url
    if not RequestValidator(token).validate(url, request.form.to_dict(), signature):
        abort(403)


def _user_by_phone(number: str) -> User | None:
    number = (number or "").strip()
    candidates = {number}
    if number.startswith("+86"):
        candidates.add(number[3:])
    users = db.session.scalars(db.select(User).where(User.phone.in_(candidates))).all()
    return next((u for u in users if e164(u.phone) == e164(number)), users[0] if users else None)


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@webhooks.post("/webhooks/twilio/inbound")
def twilio_inbound():
    """An SMS reply: STOP (and its variants) turns SMS off for the sender, START turns it back on."""
    _verified()
    word = (request.form.get("Body") or "").strip().upper()
    user = _user_by_phone(request.form.get("From", ""))
    if user is not None and (word in STOP_WORDS or word in START_WORDS):
        services.set_preferences(user, data={"sms": word in START_WORDS})
    return Response(EMPTY_TWIML, mimetype="text/xml")


@webhooks.post("/webhooks/twilio/status")
def twilio_status():
    """A delivery report: the row with this MessageSid records the status (failed ones become failed)."""
    _verified()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "")[:30]
    if sid and status:
        services.record_delivery_status(sid, status, error_code=request.form.get("ErrorCode"))
    return Response("", status=204)
