"""Shared set-up for room reservation tests: a branch with a rehearsal hall, a resident, staff, a frozen now."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.i18n import local_datetime
from rooms import services
from tests import factories as f
from venues.models import OccupancySource, VenueKind
from venues.services import occupy_room

# Tuesday 1 December 2026, 10:00 in Shanghai.
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
DAY = date(2026, 12, 3)  # a Thursday, two days ahead


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_datetime(day, time(hour, minute))


def group(name: str = "东风合唱团") -> dict:
    return {"name": name, "kind": "association", "contact_name": "王丽", "contact_phone": "13900000001"}


def payload(starts_at: datetime, ends_at: datetime, **extra) -> dict:
    data = {"starts_at": starts_at, "ends_at": ends_at, "purpose": "合唱排练", "attendees": 20, "group": group()}
    data.update(extra)
    return data


@pytest.fixture
def net(app):
    n = f.network()
    n["room"] = f.room(n["branch"], name="排练厅", capacity=40, max_hours=4)
    n["resident"] = f.resident(name="李桂芳")
    n["staff"] = f.staff(n["branch"])
    n["outsider"] = f.staff(n["other_branch"])
    f.commit()
    return n


@pytest.fixture
def reserve(net):
    """Request the net's room for [start, end) on behalf of the net's resident, at NOW unless told."""

    def _reserve(starts_at, ends_at, *, room=None, actor=None, now=NOW, **extra):
        return services.request_reservation(
            room or net["room"], data=payload(starts_at, ends_at, **extra), actor=actor or net["resident"], now=now
        )

    return _reserve


def session_in(room, starts_at, ends_at):
    """An activity session's hold on the room (another package takes these through the same function)."""
    return occupy_room(room, starts_at=starts_at, ends_at=ends_at, source=OccupancySource.session, source_id=99)


__all__ = ["NOW", "DAY", "at", "group", "payload", "session_in", "timedelta", "VenueKind"]
