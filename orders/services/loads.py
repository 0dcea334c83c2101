"""The counters behind a menu item's yearly quota and its provider's capacity per day.

A row per (item, period) holds `used`; taking a unit is one conditional UPDATE (`used < :limit`), so two
racing orders can never both take the last unit: on PostgreSQL the second UPDATE waits for the first's
row lock and re-checks the condition; on SQLite writers are serialised (BEGIN IMMEDIATE).
"""

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from orders.models import MenuItemLoad


def year_period(day: date) -> str:
    return f"{day.year:04d}"


def day_period(day: date) -> str:
    return day.isoformat()


def _row_id(menu_item_id: int, period: str) -> int:
    """The counter row, created on first use; a racing creator's row is found after the unique clash."""
    stmt = select(MenuItemLoad.id).where(MenuItemLoad.menu_item_id == menu_item_id, MenuItemLoad.period == period)
    row_id = db.session.execute(stmt).scalar()
    if row_id is not None:
        return row_id
    try:
        with db.session.begin_nested():
            row = MenuItemLoad(menu_item_id=menu_item_id, period=period, used=0)
            db.session.add(row)
            db.session.flush()
            return row.id
    except IntegrityError:
        return db.session.execute(stmt).scalar_one()


def take_unit(menu_item_id: int, period: str, limit: int) -> bool:
    """Use one unit of the period if fewer than `limit` are used; False when none is left."""
    row_id = _row_id(menu_item_id, period)
    result = db.session.execute(
        update(MenuItemLoad)
        .where(MenuItemLoad.id == row_id, MenuItemLoad.used < limit)
        .values(used=MenuItemLoad.used + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_unit(menu_item_id: int, period: str) -> None:
    """Give a unit back (an order withdrawn or declined, a date moved)."""
    db.session.execute(
        update(MenuItemLoad)
        .where(MenuItemLoad.menu_item_id == menu_item_id, MenuItemLoad.period == period, MenuItemLoad.used > 0)
        .values(used=MenuItemLoad.used - 1)
        .execution_options(synchronize_session=False)
    )


def used(menu_item_id: int, period: str) -> int:
    stmt = select(MenuItemLoad.used).where(MenuItemLoad.menu_item_id == menu_item_id, MenuItemLoad.period == period)
    return db.session.execute(stmt).scalar() or 0
