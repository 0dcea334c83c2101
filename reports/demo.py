"""Demo data for reports: the city's yearly targets from the Panjin report, and a roll-up of what the
other seeders produced (idempotent: existing targets are kept, the roll-up recomputes whole days)."""

from sqlalchemy import select

from core.db import utcnow
from core.extensions import db
from core.i18n import to_local
from reports.models import Target
from reports.rollup import rollup_attendance
from reports.workbench import demo as workbench_demo
from venues.models import Venue, VenueKind

# The report's yearly targets for the whole city (set at the hub), and a village's yearly norm.
CITY_TARGETS = {"outreach_sessions": 300, "rural_film": 3550, "training_classes": 40, "exhibitions": 12, "lectures": 24}
BRANCH_TARGETS = {"outreach_sessions": 60, "rural_film": 700}


def seed(scale: int = 1) -> list[tuple[str, str, str]]:
    """Targets for this year at the hub and each district branch; the roll-up; the demonstration-zone workbench."""
    year = to_local(utcnow()).year
    venues = db.session.execute(select(Venue).where(Venue.kind.in_((VenueKind.hub, VenueKind.branch)))).scalars()
    for venue in venues:
        targets = CITY_TARGETS if venue.kind == VenueKind.hub else BRANCH_TARGETS
        for indicator, value in targets.items():
            exists = db.session.execute(
                select(Target.id).where(Target.year == year, Target.venue_id == venue.id, Target.indicator == indicator)
            ).first()
            if exists is None:
                db.session.add(Target(year=year, venue_id=venue.id, indicator=indicator, value=value))
    db.session.flush()
    rollup_attendance(utcnow(), full=True)
    workbench_demo.seed(scale)
    return []
