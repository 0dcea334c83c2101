"""The scan's statement count, pinned (docs/performance.md, hot paths): `POST /api/v1/checkins` of a valid ticket
is one statement on PostgreSQL when the scanner's row is in the process's copy (accounts/auth.py), two when not."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.auth import issue_token
from accounts.models import Role
from bookings.models import Booking
from checkin.models import CheckIn
from core import tickets
from core.audit import AuditEntry
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f
from tests.dbs import recorded_statements


@pytest.fixture
def door(app, is_postgres, monkeypatch):
    if not is_postgres:
        pytest.skip("the one-statement scan is PostgreSQL's (SQLite takes the general path)")
    from accounts import auth

    monkeypatch.setitem(app.config, "AUTH_CACHE_SECONDS", 60)
    auth._users.clear()
    net = f.network()
    act = af.activity(net["station"], starts_in=timedelta(minutes=30))
    bookings = [af.book(f.resident(), act) for _ in range(3)]
    scanner = f.staff(net["station"], Role.checkin)
    f.commit()
    yield {
        "session_id": af.first_session(act).id,
        "payloads": [tickets.payload_for(b.id) for b in bookings],
        "headers": {"Authorization": f"Bearer {issue_token(scanner)[0]}"},
        "booking_ids": [b.id for b in bookings],
    }
    auth._users.clear()


def _scan(client, door, payload):
    db.session.remove()
    with recorded_statements(db) as sent:
        answer = client.post(
            "/api/v1/checkins", json={"payload": payload, "session_id": door["session_id"]}, headers=door["headers"]
        )
    return answer, sent


def test_a_scan_is_one_statement_with_the_scanner_cached_and_two_without(client, door):
    first, cold = _scan(client, door, door["payloads"][0])
    second, warm = _scan(client, door, door["payloads"][1])
    assert first.status_code == second.status_code == 201, (first.json, second.json)
    assert len(cold) == 2, cold  # the scanner's row (then copied), and the scan
    assert len(warm) == 1, warm  # the scan: rules, check-in, booking's first attendance and audit row together
    assert second.json["holder"] == "张*兰" and second.json["replayed"] is False
    # the three writes all happened, once each
    ids = door["booking_ids"][:2]
    assert db.session.execute(select(func.count(CheckIn.id)).where(CheckIn.booking_id.in_(ids))).scalar() == 2
    marked = select(func.count(Booking.id)).where(Booking.id.in_(ids), Booking.checked_in_at.isnot(None))
    assert db.session.execute(marked).scalar() == 2
    audits = db.session.execute(select(AuditEntry).where(AuditEntry.action == "checkin.create")).scalars().all()
    assert sorted(a.details["booking_id"] for a in audits) == sorted(ids)
    assert {a.details["source"] for a in audits} == {"scan"}


def test_a_second_scan_takes_the_general_path_and_is_refused(client, door):
    _scan(client, door, door["payloads"][2])
    again, _sent = _scan(client, door, door["payloads"][2])
    assert again.status_code == 409 and again.json["error"]["code"] == "already_checked_in"
