"""The app as gunicorn serves it, plus one bare endpoint for the check-in benchmark's baseline.

`POST /bench/bare` inserts one row and commits through the same stack (Flask, the request hooks,
Flask-SQLAlchemy's session, the same pool): what any write costs here, to set the check-in beside.
Used only by bench/checkin_bench.py; never registered by the real app.
"""

import sqlalchemy as sa
from flask import jsonify

from core import create_app
from core.extensions import csrf, db

bench_metadata = sa.MetaData()
bench_rows = sa.Table(
    "bench_rows", bench_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("note", sa.String(20), nullable=False),
)

app = create_app()


@app.post("/bench/bare")
def bare_insert():
    db.session.execute(bench_rows.insert().values(note="bare"))
    db.session.commit()
    return jsonify({"ok": True}), 201


csrf.exempt(bare_insert)
