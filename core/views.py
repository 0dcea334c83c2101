"""Site-wide pages: home, health, language and large-text switches, the OpenAPI document."""

from urllib.parse import urlparse

from flask import Blueprint, current_app, jsonify, redirect, request
from flask_login import current_user
from sqlalchemy import text

from core.api import openapi_document
from core.extensions import db
from core.i18n import LANG_COOKIE

bp = Blueprint("core", __name__)
LARGE_TEXT_COOKIE = "large_text"
YEAR = 365 * 24 * 3600


def safe_next(default: str = "/") -> str:
    """A same-site path to go back to; anything pointing elsewhere becomes `default`."""
    target = request.values.get("next") or request.referrer or default
    parsed = urlparse(target)
    if parsed.netloc and parsed.netloc != request.host:
        return default
    path = parsed.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return default
    return path + (f"?{parsed.query}" if parsed.query else "")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return jsonify({"status": "unavailable", "db": "down"}), 503
    return jsonify({"status": "ok", "db": "ok"})


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        lang = current_app.config["DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale != lang:
        current_user.locale = lang
    response = redirect(safe_next())
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=YEAR,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


@bp.post("/large-text")
def toggle_large_text():
    enabled = request.cookies.get(LARGE_TEXT_COOKIE) != "1"
    response = redirect(safe_next())
    response.set_cookie(
        LARGE_TEXT_COOKIE,
        "1" if enabled else "0",
        max_age=YEAR,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


@bp.get("/api/v1/openapi.json")
def openapi():
    return jsonify(openapi_document())
