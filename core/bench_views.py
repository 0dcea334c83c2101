"""Bare endpoints of the same stack, for benchmarks only (registered when BENCH_ENDPOINTS is set).

They go through Flask, the same WSGI server, the same database pool and the same Jinja environment,
but carry no domain logic: the ratio of a real endpoint to its bare twin is what `make bench` reports.
"""

from flask import Blueprint, jsonify, render_template, request
from sqlalchemy import text

from core.extensions import csrf, db

bp = Blueprint("bench", __name__, url_prefix="/_bench")


@bp.post("/insert")
@csrf.exempt
def insert():
    """One single-row INSERT and a commit: the floor under booking and check-in writes."""
    value = request.get_json(silent=True) or {}
    db.session.execute(text("INSERT INTO bench_rows (value) VALUES (:v)"), {"v": str(value.get("v", ""))[:50]})
    return jsonify({"ok": True}), 201


@bp.get("/page")
def page():
    """A Jinja page of the same layout reading 20 rows: the floor under the activity list."""
    rows = db.session.execute(text("SELECT id, name, address FROM venues ORDER BY id LIMIT 20")).all()
    return render_template("core/bench_page.html", rows=rows)


@bp.post("/book")
@csrf.exempt
def book():
    """The minimum a first-come booking needs, in raw SQL: take a seat on the unit in one conditional UPDATE …
    RETURNING, and insert the booking row in the same round trip (a data-modifying CTE); 409 when full. The
    floor under POST /api/v1/bookings."""
    unit = int((request.get_json(silent=True) or {}).get("unit", 1))
    row = db.session.execute(
        text(
            "WITH seat AS (UPDATE bench_units SET seats_taken = seats_taken + 1 "
            "WHERE id = :u AND seats_taken + 1 <= capacity RETURNING id) "
            "INSERT INTO bench_rows (value) SELECT 'unit ' || id FROM seat RETURNING id"
        ),
        {"u": unit},
    ).first()
    if row is None:
        return jsonify({"code": "full"}), 409
    return jsonify({"id": row[0]}), 201


@bp.post("/checkin")
@csrf.exempt
def checkin():
    """The minimum a check-in needs, in raw SQL: a unique insert decides (409 when the ticket is in already).
    The floor under POST /api/v1/checkins."""
    ticket = str((request.get_json(silent=True) or {}).get("ticket", ""))[:50]
    row = db.session.execute(
        text("INSERT INTO bench_checkins (ticket) VALUES (:t) ON CONFLICT DO NOTHING RETURNING id"), {"t": ticket}
    ).first()
    if row is None:
        return jsonify({"code": "already_checked_in"}), 409
    return jsonify({"id": row[0]}), 201


@bp.get("/noop")
def noop():
    """204, nothing read: bench/wrk.py's filler once a connection's share of distinct requests is sent."""
    return "", 204


BENCH_TABLES = (
    "CREATE TABLE IF NOT EXISTS bench_rows (id SERIAL PRIMARY KEY, value VARCHAR(50))",
    "CREATE TABLE IF NOT EXISTS bench_units (id INTEGER PRIMARY KEY, capacity INTEGER NOT NULL, "
    "seats_taken INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS bench_checkins (id SERIAL PRIMARY KEY, ticket VARCHAR(50) NOT NULL UNIQUE)",
)


def ensure_bench_table() -> None:
    db.session.execute(
        text(
            "CREATE TABLE IF NOT EXISTS bench_rows (id SERIAL PRIMARY KEY, value VARCHAR(50))"
            if db.engine.dialect.name == "postgresql"
            else "CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, value VARCHAR(50))"
        )
    )
