"""`flask demo seed` loads the Panjin network, is idempotent, and its logins work."""

from sqlalchemy import func, select

from accounts.models import User
from core.extensions import db
from venues.models import Venue, VenueKind


def _counts():
    rows = db.session.execute(select(Venue.kind, func.count()).group_by(Venue.kind)).all()
    return {VenueKind(k): n for k, n in rows}


def test_demo_seed_builds_the_panjin_network_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    assert counts[VenueKind.hub] == 1 and counts[VenueKind.branch] == 5 and counts[VenueKind.station] == 24
    assert counts[VenueKind.community] >= 60
    small = db.session.scalar(select(func.count()).where(Venue.kind == VenueKind.community, Venue.floor_area < 200))
    assert small > 0
    users = db.session.scalar(select(func.count()).select_from(User))
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert _counts() == counts
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert "station-staff" in first.output and "13800000001" in first.output


def test_demo_staff_scopes_follow_the_tree(app, client):
    app.test_cli_runner().invoke(args=["demo", "seed"])
    station_staff = db.session.scalar(select(User).where(User.login == "station-staff"))
    station = station_staff.grants[0].venue
    sibling = db.session.scalar(select(Venue).where(Venue.parent_id == station.parent_id, Venue.id != station.id))
    assert station_staff.reaches(station) and not station_staff.reaches(sibling)
    client.login("station-staff", "demo12345")
    assert client.get(f"/venues/{sibling.id}/edit").status_code == 403
