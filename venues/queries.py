"""Reads on the venue network: directory listings, subtrees and scope-bounded lists."""

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from core.extensions import db
from venues.models import District, Venue, VenueKind


def subtree_clause(paths: list[str]):
    """A WHERE clause for venues lying under any of the tree `paths` ('/' is the whole network)."""
    if "/" in paths:
        return Venue.id.isnot(None)
    if not paths:
        return Venue.id.is_(None)
    return or_(*(Venue.path.startswith(p) for p in paths))


def venue_select(
    *,
    kind: str | None = None,
    parent_id: int | None = None,
    district: str | None = None,
    under: Venue | None = None,
    q: str | None = None,
):
    """The directory query: active venues by kind, parent, district, subtree and free text."""
    stmt = select(Venue).where(Venue.is_active.is_(True)).order_by(Venue.path)
    if kind:
        stmt = stmt.where(Venue.kind == kind)
    if parent_id:
        stmt = stmt.where(Venue.parent_id == parent_id)
    if district:
        stmt = stmt.where(Venue.district_code == district)
    if under is not None:
        stmt = stmt.where(Venue.path.startswith(under.path))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Venue.name.ilike(like), Venue.name_en.ilike(like), Venue.address.ilike(like)))
    return stmt


def venue_page(venue_id: int) -> Venue | None:
    """One venue with its rooms, hours and closures, loaded in one round of queries."""
    stmt = (
        select(Venue)
        .where(Venue.id == venue_id)
        .options(selectinload(Venue.rooms), selectinload(Venue.hours), selectinload(Venue.closures))
    )
    return db.session.execute(stmt).scalar_one_or_none()


def districts() -> list[District]:
    return list(db.session.execute(select(District).order_by(District.position, District.code)).scalars())


def district_summaries() -> list[tuple[District, dict[str, int]]]:
    """Each district with its count of venues per kind (the home page's network overview)."""
    rows = db.session.execute(
        select(Venue.district_code, Venue.kind, func.count())
        .where(Venue.is_active.is_(True))
        .group_by(Venue.district_code, Venue.kind)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for code, kind, n in rows:
        counts.setdefault(code, {})[VenueKind(kind).value] = n
    return [(d, counts.get(d.code, {})) for d in districts()]


def venues_in_scope(user, roles=None) -> list[Venue]:
    """Every venue `user` reaches with `roles` (default: the manage roles), in tree order."""
    paths = user.scope_paths(roles) if roles else user.scope_paths()
    stmt = select(Venue).where(subtree_clause(paths)).order_by(Venue.path)
    return list(db.session.execute(stmt).scalars())


def ancestors(venue: Venue) -> list[Venue]:
    ids = venue.ancestor_ids[:-1]
    if not ids:
        return []
    found = {v.id: v for v in db.session.execute(select(Venue).where(Venue.id.in_(ids))).scalars()}
    return [found[i] for i in ids if i in found]
