"""Report writes: yearly targets and the monthly-export subscriptions (checklist writes are in checklist.py)."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts.models import REPORT_ROLES, Role
from core import audit
from core.db import utcnow
from core.errors import Forbidden, Invalid
from core.extensions import db
from reports.indicators import INDICATOR_KEYS
from reports.models import ExportSubscription, Target
from venues.models import Venue

TARGET_ROLES = (Role.manager, Role.admin)


def set_target(
    venue: Venue, *, year: int, indicator: str, value: int | None, actor, now: datetime | None = None
) -> Target | None:
    """Set (or with `value=None` remove) the yearly target of an indicator at a venue in the actor's scope."""
    if not actor.reaches(venue, TARGET_ROLES):
        raise Forbidden(_("Only managers of this venue can set its targets."))
    errors = {}
    if indicator not in INDICATOR_KEYS:
        errors["indicator"] = [_("Unknown indicator.")]
    if not 2000 <= year <= 2100:
        errors["year"] = [_("Must be between %(a)s and %(b)s.", a=2000, b=2100)]
    if value is not None and not 0 <= value <= 10_000_000:
        errors["value"] = [_("Must be between %(a)s and %(b)s.", a=0, b=10_000_000)]
    if errors:
        raise Invalid(fields=errors)
    now = now or utcnow()
    target = _locked_target(venue, year, indicator)
    old = target.value if target else None
    if value is None:
        if target is not None:
            db.session.delete(target)
    elif target is None:
        try:
            with db.session.begin_nested():
                target = Target(
                    year=year, indicator=indicator, venue_id=venue.id, value=value, set_by_id=actor.id, updated_at=now
                )
                db.session.add(target)
        except IntegrityError:  # another manager created it meanwhile: update theirs
            target = _locked_target(venue, year, indicator)
            target.value, target.set_by_id, target.updated_at = value, actor.id, now
    else:
        target.value, target.set_by_id, target.updated_at = value, actor.id, now
    db.session.flush()
    audit.record(
        actor,
        "target.set",
        ("report_targets", target.id if target is not None else None),
        {"venue_id": venue.id, "year": year, "indicator": indicator, "old": old, "new": value},
        now=now,
    )
    return target if value is not None else None


def _locked_target(venue: Venue, year: int, indicator: str) -> Target | None:
    return db.session.execute(
        select(Target)
        .where(Target.year == year, Target.indicator == indicator, Target.venue_id == venue.id)
        .with_for_update(of=Target)
    ).scalar_one_or_none()


def subscribe_monthly(user, venue: Venue, *, actor) -> ExportSubscription:
    """Send `user` the monthly workbook of `venue`'s subtree (the user must reach it with a report role)."""
    if not actor.reaches(venue, TARGET_ROLES) or not user.reaches(venue, REPORT_ROLES):
        raise Forbidden()
    sub = db.session.execute(
        select(ExportSubscription).where(ExportSubscription.user_id == user.id, ExportSubscription.venue_id == venue.id)
    ).scalar_one_or_none()
    if sub is None:
        sub = ExportSubscription(user_id=user.id, venue_id=venue.id)
        db.session.add(sub)
        db.session.flush()
        audit.record(actor, "report.subscribe", sub, {"user_id": user.id, "venue_id": venue.id})
    return sub


def unsubscribe_monthly(sub: ExportSubscription, *, actor) -> None:
    if sub.user_id != actor.id and not actor.reaches(sub.venue, TARGET_ROLES):
        raise Forbidden()
    audit.record(actor, "report.unsubscribe", sub, {"user_id": sub.user_id, "venue_id": sub.venue_id})
    db.session.delete(sub)
    db.session.flush()
