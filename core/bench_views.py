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


@bp.get("/noop")
def noop():
    return jsonify({})


def ensure_bench_table() -> None:
    db.session.execute(
        text(
            "CREATE TABLE IF NOT EXISTS bench_rows (id SERIAL PRIMARY KEY, value VARCHAR(50))"
            if db.engine.dialect.name == "postgresql"
            else "CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, value VARCHAR(50))"
        )
    )
