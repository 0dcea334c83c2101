"""Who is calling: session cookies (Flask-Login) for pages, signed bearer tokens for the API."""

from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload

from accounts.models import CHECKIN_ROLES, MANAGE_ROLES, Role, User
from core.errors import Forbidden, Unauthenticated, wants_json
from core.extensions import db, login_manager

TOKEN_SALT = "api-token"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(user: User) -> tuple[str, datetime]:
    """A bearer token for `user`, valid until it expires, the password changes or the user signs out."""
    token = _serializer().dumps({"uid": user.id, "v": user.session_version})
    expires = datetime.now(UTC) + timedelta(seconds=current_app.config["API_TOKEN_MAX_AGE"])
    return token, expires


def user_from_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    return _active_user(data.get("uid"), data.get("v"))


def _active_user(user_id, version) -> User | None:
    if not isinstance(user_id, int) or not isinstance(version, int):
        return None
    # The caller and their role grants in one query (every request reads them; a resident has none).
    user = db.session.get(User, user_id, options=[joinedload(User.grants)])
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


def _bearer(req) -> str | None:
    header = req.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def _from_bearer(req) -> User | None:
    """The user of the request's bearer token; `g.authenticated_by` says so, which exempts it from CSRF."""
    user = user_from_token(_bearer(req))
    if user is not None:
        g.authenticated_by = "bearer"
    return user


def register_auth(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load(session_id: str):
        if _bearer(request):  # a bearer token wins over a session cookie sent alongside it
            return _from_bearer(request)
        # `id:version:issued` (User.get_id): the version ends sessions on sign-out, reset or a password
        # change; `issued` caps a session or remember-me cookie at REMEMBER_COOKIE_DURATION on the server,
        # whatever expiry a copied cookie claims.
        try:
            user_id, version, issued = (int(x) for x in session_id.split(":"))
        except (ValueError, AttributeError):
            return None
        max_age = current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds()
        if not -60 <= datetime.now(UTC).timestamp() - issued <= max_age:
            return None
        return _active_user(user_id, version)

    @login_manager.request_loader
    def _from_header(req):
        return _from_bearer(req) if _bearer(req) else None

    @login_manager.unauthorized_handler
    def _unauthorized():
        if wants_json():
            raise Unauthenticated()
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def require_roles(*roles: Role) -> User:
    """The current user if they hold one of `roles` somewhere; else 401/403."""
    if not current_user.is_authenticated:
        raise Unauthenticated()
    if not current_user.has_role(*roles):
        raise Forbidden()
    return current_user._get_current_object()


def require_venue_scope(venue, roles=MANAGE_ROLES) -> User:
    """The current user if `venue` lies in their scope for `roles`; else 401/403 (checked on the server)."""
    user = require_roles(*roles)
    if not user.reaches(venue, roles):
        raise Forbidden()
    return user


def require_checkin_scope(venue) -> User:
    return require_venue_scope(venue, CHECKIN_ROLES)
