"""Writes of the work catalogue: staff fix lines (固化) and publish the year's edition. Flush, never commit."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from catalogue import queries
from catalogue.models import CatalogueEdition, CatalogueFix, EditionStatus
from core import audit
from core.db import utcnow
from core.errors import Forbidden, Invalid
from core.extensions import db
from venues.models import Venue

MIN_YEAR, MAX_YEAR = 2000, 2100


def check_year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Invalid(fields={"year": [_("Choose a year between %(a)s and %(b)s.", a=MIN_YEAR, b=MAX_YEAR)]})
    return year


def edition_for(venue: Venue, year: int) -> CatalogueEdition | None:
    stmt = select(CatalogueEdition).where(CatalogueEdition.venue_id == venue.id, CatalogueEdition.year == year)
    return db.session.execute(stmt).scalar()


def _edition(venue: Venue, year: int) -> CatalogueEdition:
    """The edition of the year for the venue's subtree, created as a draft when missing (a racing twin is
    caught by the unique constraint and the winner's row used)."""
    edition = edition_for(venue, check_year(year))
    if edition is not None:
        return edition
    try:
        with db.session.begin_nested():
            edition = CatalogueEdition(venue=venue, year=year, status=EditionStatus.draft, snapshot=[])
            db.session.add(edition)
            db.session.flush()
    except IntegrityError:
        edition = edition_for(venue, year)
    return edition


def set_fixed(
    venue: Venue, *, year: int, keys: list[str], fixed: bool, actor: User, now: datetime | None = None
) -> CatalogueEdition:
    """Mark lines of the year's catalogue fixed (固化) or not. Raises Forbidden, Invalid for unknown lines."""
    if not venue.can_manage(actor):
        raise Forbidden()
    edition = _edition(venue, year)
    known = {line.key for line in queries.lines(venue, year)} | {p["key"] for p in edition.snapshot or []}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise Invalid(fields={"keys": [_("Unknown lines: %(keys)s.", keys=", ".join(unknown[:10]))]})
    have = {f.item_key: f for f in edition.fixes}
    for key in dict.fromkeys(keys):
        if fixed and key not in have:
            edition.fixes.append(CatalogueFix(item_key=key, fixed_by_id=actor.id, fixed_at=now or utcnow()))
        elif not fixed and key in have:
            edition.fixes.remove(have[key])
    db.session.flush()
    audit.record(actor, "catalogue.fix" if fixed else "catalogue.unfix", edition, {"keys": keys[:50]}, now=now)
    return edition


def publish(venue: Venue, *, year: int, actor: User, now: datetime | None = None) -> CatalogueEdition:
    """Publish (向社会公示) the year's catalogue: its lines as they are now become the published snapshot;
    later changes are shown against it. Publishing again publishes the current lines."""
    if not venue.can_manage(actor):
        raise Forbidden()
    edition = _edition(venue, year)
    now = now or utcnow()
    edition.snapshot = [line.as_dict() for line in queries.lines(venue, year)]
    edition.status = EditionStatus.published
    edition.published_at = now
    edition.published_by_id = actor.id
    db.session.flush()
    audit.record(actor, "catalogue.publish", edition, {"year": year, "lines": len(edition.snapshot)}, now=now)
    return edition
