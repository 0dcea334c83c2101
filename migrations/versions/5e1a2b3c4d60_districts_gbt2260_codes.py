"""districts: official GB/T 2260 administrative division codes instead of pinyin slugs

Revision ID: 5e1a2b3c4d60
Revises: d54d1a339931
Create Date: 2026-12-02 02:20:00

Districts were keyed by pinyin slugs (`dawa`, `panshan` …). They now carry their six-digit administrative
division code (GB/T 2260, e.g. 盘锦市大洼区 211104). The key is referenced by venues.district_code,
menu_item_districts.district_code and service_orders.district_code (foreign keys without ON UPDATE
CASCADE), so each district is copied under its new code, every referencing row moves to the copy, and the
old row is deleted — one statement per table, valid on PostgreSQL and SQLite alike. Slugs not in the map
(districts of another network) are left as they are. The downgrade moves the rows back.
"""

from alembic import op
import sqlalchemy as sa


revision = "5e1a2b3c4d60"
down_revision = "d54d1a339931"
branch_labels = None
depends_on = None

# The demo network's slugs and their GB/T 2260 codes (盘锦市 211100).
CODES = {
    "shuangtaizi": "211102",  # 双台子区
    "xinglongtai": "211103",  # 兴隆台区
    "dawa": "211104",  # 大洼区 (大洼县 211121 until 2016)
    "panshan": "211122",  # 盘山县
}
REFERENCING = [
    ("venues", "district_code"),
    ("menu_item_districts", "district_code"),
    ("service_orders", "district_code"),
]


def _move(old: str, new: str) -> None:
    bind = op.get_bind()
    params = {"old": old, "new": new}
    exists = bind.execute(sa.text("SELECT 1 FROM districts WHERE code = :old"), params).first()
    taken = bind.execute(sa.text("SELECT 1 FROM districts WHERE code = :new"), params).first()
    if not exists or taken:
        return
    bind.execute(
        sa.text(
            "INSERT INTO districts (code, name, name_en, position) "
            "SELECT :new, name, name_en, position FROM districts WHERE code = :old"
        ),
        params,
    )
    for table, column in REFERENCING:
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"), params)
    bind.execute(sa.text("DELETE FROM districts WHERE code = :old"), params)


def upgrade():
    for old, new in CODES.items():
        _move(old, new)


def downgrade():
    for old, new in CODES.items():
        _move(new, old)
