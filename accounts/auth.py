"""Who is calling: session cookies (Flask-Login) for pages, signed bearer tokens for the API.

A bearer token (and a session id) is signed and names the user and their `session_version`, the account's
revocation epoch: signing out, a password change or reset and deleting the account move it on, which ends every
token and session issued before. Checking the epoch, `is_active` and the role grants needs the user's row, so
each process keeps a short-lived copy of it (`AUTH_CACHE_SECONDS`, default 5): a scanner sending hundreds of
requests with one token costs one read of its row per process every few seconds, not one per request.

That read is one Core statement (the user's columns outer-joined to their grants and the grants' venues), from
which the objects are built and attached to the request's session as if the ORM had loaded them: the ORM's own
loading cost half of a refused sign-up's time, when each of 10,000 residents sends one request and no copy is hit.

Staleness window: a revocation, a suspension (`suspended_until`), a deletion or a change of role grants made by
*this* process is seen at once (the copy is dropped when the change is flushed and again at its commit); one
made by another process (another gunicorn worker or host) is seen by this one at most `AUTH_CACHE_SECONDS`
after the copy was read. `AUTH_CACHE_SECONDS = 0` turns the cache off (every request reads the row).

A caller without their row (`token_caller`, PostgreSQL): an endpoint that can answer from the token alone, such as
a refused sign-up of a session this process saw full, needs only who signed it, whether the token still stands,
whether its holder is suspended and which language they read. A token carries its holder's id, epoch and language
when it was issued; the database stamps `users.auth_changed_at` whenever an account's epoch, `is_active`,
suspension or language changes; each process keeps the accounts changed within a token's lifetime, and those
suspended now, read in one statement every `AUTH_CACHE_SECONDS`. An account not among them has not changed since
its token was issued, so the token's own words stand; one among them is judged by its current values. The
staleness window is the one above. When more than AUTH_CHANGES_MAX accounts changed within a token's lifetime,
or on SQLite, `token_caller` answers None and the caller's row is read as before.
"""

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import Flask, current_app, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from accounts.models import CHECKIN_ROLES, MANAGE_ROLES, Role, RoleGrant, User
from core.db import utcnow
from core.errors import Forbidden, Unauthenticated, wants_json
from core.extensions import db, login_manager

TOKEN_SALT = "api-token"
AUTH_CACHE_SECONDS = 5  # the default of the config key of the same name (see the module's docstring)
AUTH_CACHE_MAX = 20_000  # users kept per process at most (a full cache is emptied, then refilled)
AUTH_CHANGES_MAX = 50_000  # accounts changed within a token's lifetime above which token_caller answers None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_token(user: User) -> tuple[str, datetime]:
    """A bearer token for `user`, valid until it expires, the password changes or the user signs out."""
    token = _serializer().dumps({"uid": user.id, "v": user.session_version, "l": user.locale})
    expires = datetime.now(UTC) + timedelta(seconds=current_app.config["API_TOKEN_MAX_AGE"])
    return token, expires


def _token_data(token: str | None) -> dict:
    """What a bearer token says, if its signature holds and it has not expired; else {}."""
    if not token:
        return {}
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return {}
    return data if isinstance(data, dict) else {}


def user_from_token(token: str) -> User | None:
    data = _token_data(token)
    return _active_user(data.get("uid"), data.get("v")) if data else None


def _active_user(user_id, version) -> User | None:
    if not isinstance(user_id, int) or not isinstance(version, int):
        return None
    user = _cached_user(user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


# --- a caller judged from the token and the accounts changed recently, without their row ----------------


class TokenCaller(NamedTuple):
    """Who signed a bearer token that still stands, as far as an answer without their row needs: the same names
    as a User's (`id`, `locale`, `suspended_until`, `is_suspended`), so that code answering either reads both."""

    id: int
    locale: str
    suspended_until: datetime | None

    def is_suspended(self, now: datetime) -> bool:
        return User.is_suspended(self, now)


# app id → (monotonic time read, {user id: (session_version, is_active, suspended_until, locale)} or None when
# more than AUTH_CHANGES_MAX accounts changed)
_changes: dict[int, tuple[float, dict[int, tuple] | None]] = {}
_CHANGES = sa.text(
    "SELECT id, session_version, is_active, suspended_until, locale FROM users"
    " WHERE auth_changed_at > now() - make_interval(secs => :window) OR suspended_until > :now LIMIT :limit"
)
CLOCK_SKEW_SECONDS = 300  # between the app's clock, which dates a token, and the database's, which dates a change


def token_caller(token: str | None) -> TokenCaller | None:
    """The holder of `token` judged without a read of their row, or None: the token is bad, expired or revoked,
    names an account deactivated or signed out since, or cannot be judged so here (no copy kept, SQLite, a token
    from before tokens carried a language). None means: authenticate as usual."""
    if current_app.config.get("AUTH_CACHE_SECONDS", AUTH_CACHE_SECONDS) <= 0:
        return None
    data = _token_data(token)
    user_id, version, locale = data.get("uid"), data.get("v"), data.get("l")
    if not isinstance(user_id, int) or not isinstance(version, int) or not isinstance(locale, str):
        return None
    changed = _recent_changes()
    if changed is None:
        return None
    now_values = changed.get(user_id)
    if now_values is None:  # unchanged since the token was issued: its words stand, and it is not suspended now
        return TokenCaller(user_id, locale, None)
    session_version, is_active, suspended_until, locale = now_values
    if not is_active or session_version != version:
        return None
    return TokenCaller(user_id, locale, suspended_until)


def _recent_changes() -> dict[int, tuple] | None:
    """This process's copy of the accounts changed within a token's lifetime or suspended now (one statement
    every AUTH_CACHE_SECONDS), or None where it is not kept."""
    app_id = app_key()
    ttl = current_app.config.get("AUTH_CACHE_SECONDS", AUTH_CACHE_SECONDS)
    hit = _changes.get(app_id)
    if hit is not None and _clock() - hit[0] < ttl:
        return hit[1]
    if db.engine.dialect.name != "postgresql":  # the stamp is a PostgreSQL trigger
        return None
    read_at = _clock()
    window = current_app.config["API_TOKEN_MAX_AGE"] + CLOCK_SKEW_SECONDS
    rows = (
        db.session()
        .connection()
        .execute(_CHANGES, {"window": window, "now": utcnow(), "limit": AUTH_CHANGES_MAX + 1})
        .all()
    )
    changed = None if len(rows) > AUTH_CHANGES_MAX else {row[0]: tuple(row[1:]) for row in rows}
    _changes[app_id] = (read_at, changed)
    return changed


# --- the per-process copy of each caller's row and grants ----------------------------------------------

# user id → (monotonic time read, the app's id, the rows of the caller's one read: user, grant and venue columns)
_users: dict[int, tuple[float, int, list]] = {}
_clock = time.monotonic  # tests move it
_apps = itertools.count(1)


def app_key() -> int:
    """A number of the current app, never reused in this process (an `id()` may be, after an app is collected)."""
    return current_app.extensions.setdefault("culturenet_app_key", next(_apps))


def _cached_user(user_id: int) -> User | None:
    """The caller and their role grants (with the grants' venues), attached to this request's session: built from
    the process's copy of the caller's rows when it is younger than AUTH_CACHE_SECONDS (no statement), else from
    one Core read of the user's columns, outer-joined to their grants and the grants' venues, which is copied."""
    ttl = current_app.config.get("AUTH_CACHE_SECONDS", AUTH_CACHE_SECONDS)
    session = db.session()
    present = session.identity_map.get(identity_key(User, user_id))
    if present is not None:
        return present
    app_id = app_key()
    hit = _users.get(user_id) if ttl > 0 else None
    if hit is not None and hit[1] == app_id and _clock() - hit[0] < ttl:
        return _attached(session, hit[2])
    read_at = _clock()
    rows = session.connection().execute(_caller_read(), {"uid": user_id}).all()
    if not rows:
        return None
    if ttl > 0:
        if len(_users) >= AUTH_CACHE_MAX:
            _users.clear()
        _users[user_id] = (read_at, app_id, rows)
    return _attached(session, rows)


# The caller's read, in Core: each mapped column of users, role_grants and venues under a label of its own, so that
# the ORM's loading (a few hundred microseconds a request, half of a refused sign-up's time) is not paid. Built once.
_READ: dict[str, object] = {}


def _labelled(model, prefix: str) -> list[tuple[str, str, object]]:
    """(attribute, label, column) for each column attribute of `model`."""
    return [(prop.key, f"{prefix}{prop.key}", prop.columns[0]) for prop in model.__mapper__.column_attrs]


def _caller_read():
    stmt = _READ.get("stmt")
    if stmt is None:
        Venue = RoleGrant.venue.property.mapper.class_  # noqa: N806 - by the relationship: venues sits above accounts
        parts = {"user": _labelled(User, "u_"), "grant": _labelled(RoleGrant, "g_"), "venue": _labelled(Venue, "v_")}
        columns = [column.label(label) for part in parts.values() for _key, label, column in part]
        stmt = (
            sa.select(*columns)
            .select_from(User.__table__)
            .outerjoin(RoleGrant.__table__, RoleGrant.user_id == User.id)
            .outerjoin(Venue.__table__, Venue.id == RoleGrant.venue_id)
            .where(User.id == sa.bindparam("uid"))
            .order_by(RoleGrant.id)
        )
        _READ.update(parts, venue_model=Venue)
        _READ["stmt"] = stmt
    return stmt


def _attached(session: OrmSession, rows) -> User:
    """The user (and grants, and their venues) of `rows`, made persistent in `session` as if the ORM had loaded
    them: every column set, the grants list and each grant's venue loaded; any other relationship loads on use."""
    user = _attach(session, User, _READ["user"], rows[0])
    if "grants" not in user.__dict__:
        grants = []
        for row in rows:
            if row.g_id is None:
                continue
            grant = _attach(session, RoleGrant, _READ["grant"], row)
            venue = None if row.v_id is None else _attach(session, _READ["venue_model"], _READ["venue"], row)
            if "venue" not in grant.__dict__:
                set_committed_value(grant, "venue", venue)
            if "user" not in grant.__dict__:
                set_committed_value(grant, "user", user)
            grants.append(grant)
        set_committed_value(user, "grants", grants)
    return user


def _attach(session: OrmSession, model, labelled, row):
    """The instance of `model` in `row`: the session's own if it has one, else a new one with every column's
    committed value, added to the session as a persistent object (no statement, no pending change)."""
    present = session.identity_map.get(identity_key(model, row._mapping[labelled[0][1]]))
    if present is not None:
        return present
    obj = model.__mapper__.class_manager.new_instance()
    mapping = row._mapping
    for key, label, _column in labelled:
        set_committed_value(obj, key, mapping[label])
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def forget_users(user_ids) -> None:
    """Drop this process's copies of these users (their row or grants changed here), and of the accounts
    changed recently."""
    for user_id in user_ids:
        _users.pop(user_id, None)
    _changes.clear()


@event.listens_for(OrmSession, "after_flush")
def _changed_users(session, _context) -> None:
    ids = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, User) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, RoleGrant) and obj.user_id is not None:
            ids.add(obj.user_id)
    if ids and (_users or _changes):
        forget_users(ids)
    if ids:
        session.info.setdefault("auth_changed_users", set()).update(ids)


@event.listens_for(OrmSession, "after_commit")
def _committed_users(session) -> None:
    # dropped again at the commit: another request of this process may have copied the old row in between
    ids = session.info.pop("auth_changed_users", None)
    if ids and (_users or _changes):
        forget_users(ids)


@event.listens_for(OrmSession, "after_rollback")
def _rolled_back(session) -> None:
    session.info.pop("auth_changed_users", None)


def bearer_token(req) -> str | None:
    """The bearer token of the request's Authorization header, if any."""
    header = req.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def _from_bearer(req) -> User | None:
    """The user of the request's bearer token; `g.authenticated_by` says so, which exempts it from CSRF."""
    user = user_from_token(bearer_token(req))
    if user is not None:
        g.authenticated_by = "bearer"
    return user


def register_auth(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load(session_id: str):
        if bearer_token(request):  # a bearer token wins over a session cookie sent alongside it
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
        return _from_bearer(req) if bearer_token(req) else None

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
