"""The audit log of staff actions: who changed what, when. Services call `record`; it only adds a row."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import utcnow
from core.extensions import db


class AuditEntry(db.Model):
    """One staff action on one object (venues, activities, bookings, check-ins, orders, exports…)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(60))
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)


def record(actor, action: str, target, details: dict | None = None, *, now: datetime | None = None) -> AuditEntry:
    """Add an audit row for `actor` doing `action` on `target` (a model instance, or a (type, id) pair)."""
    if isinstance(target, tuple):
        target_type, target_id = target
    else:
        target_type, target_id = target.__tablename__, getattr(target, "id", None)
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=_plain(details or {}),
        at=now or utcnow(),
    )
    db.session.add(entry)
    return entry


def entries_about(targets: dict[str, list[int]], *, not_by: int | None = None) -> list[dict]:
    """What staff did to these objects, oldest first, for a person's data download (PIPL: who handled their
    data, and how): each audit row whose target is one of `targets` (table name → ids), without the person's
    own actions (`not_by`). Which staff member acted is given by role, not name: the download is the
    person's data, not the staff member's."""
    from sqlalchemy import and_, or_, select

    clauses = [
        and_(AuditEntry.target_type == kind, AuditEntry.target_id.in_(ids)) for kind, ids in targets.items() if ids
    ]
    if not clauses:
        return []
    stmt = select(AuditEntry).where(or_(*clauses)).order_by(AuditEntry.at, AuditEntry.id)
    if not_by is not None:
        stmt = stmt.where(or_(AuditEntry.actor_id.is_(None), AuditEntry.actor_id != not_by))
    return [
        {
            "at": e.at.isoformat(),
            "action": e.action,
            "target": e.target_type,
            "target_id": e.target_id,
            "by": "staff" if e.actor_id is not None else "system",
        }
        for e in db.session.execute(stmt).scalars()
    ]


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
