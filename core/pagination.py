"""A page of a public listing without counting every match: the page's rows (and whether another page
follows) come from one LIMIT per_page + 1 query, the count from a LIMIT cap + 1 subquery.

Used where a list can be long and is read by everyone (the activity list): counting thousands of matches
on every view cost more than reading the page (bench/RESULTS.md). Beyond `cap`, the page says "more than".
"""

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from core.extensions import db


@dataclass
class Window:
    items: list
    page: int
    per_page: int
    total: int  # exact when not `capped`
    capped: bool
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def pages(self) -> int | None:
        """How many pages in all, or None when the count was capped."""
        return None if self.capped else max(1, -(-self.total // self.per_page))


def window(stmt: Select, page: int, *, per_page: int = 20, cap: int = 200, count_by=None) -> Window:
    """Page `page` of the ORM `stmt` (ordered), with a count up to `cap` (`count_by`: a narrow column)."""
    rows = list(db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)).scalars().unique())
    has_next = len(rows) > per_page
    items = rows[:per_page]
    seen = (page - 1) * per_page + len(items)
    if not has_next:  # this page ends the list: the count is known without another query
        total = seen if items or page == 1 else _count(stmt, cap, count_by)
        return Window(items, page, per_page, total, False, False)
    total = max(_count(stmt, cap, count_by), seen + 1)
    return Window(items, page, per_page, min(total, cap), total > cap, True)


def _count(stmt: Select, cap: int, count_by) -> int:
    narrow = stmt.order_by(None).limit(cap + 1)
    if count_by is not None:
        narrow = narrow.with_only_columns(count_by, maintain_column_froms=True)
    return db.session.execute(select(func.count()).select_from(narrow.subquery())).scalar_one()
