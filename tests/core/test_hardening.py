"""Attacks an adversarial pass found: each answered with a 4xx and a stable code, nothing written."""

import pytest
from openapi_spec_validator import validate

from accounts.models import Role
from bookings.models import Booking, BookingStatus
from core.extensions import db
from tests import activity_factories as af
from tests import factories as f

A = "/api/v1"


def token_for(client, login: str) -> str:
    response = client.post(f"{A}/auth/token", json={"login": login, "password": f.PASSWORD})
    return response.get_json()["token"]


def test_json_nested_deeper_than_the_parser_goes_is_a_400_not_a_500(client):
    deep = "[" * 100_000 + "]" * 100_000
    for path in (f"{A}/auth/token", f"{A}/residents"):
        response = client.post(path, data=deep, content_type="application/json", csrf=False)
        assert response.status_code == 400, path
        assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    "query",
    [
        "month=abc",
        "month=2026-13",
        "month=2026-00",
        "quarter=2026-Q9",
        "quarter=abc",
        "quarter=2026-Q0",
        "year=99999",
        "year=abc",
    ],
)
def test_a_report_period_that_is_no_period_is_refused_by_name(client, query):
    f.staff(None, Role.manager, login="boss")
    f.commit()
    client.login("boss")
    response = client.get(f"/reports/sessions?{query}")
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert query.split("=")[0] in response.get_data(as_text=True)


def test_a_session_in_the_year_9999_is_refused_not_an_overflow(client):
    act = af.activity()
    staff = f.staff(act.venue, login="desk")
    f.commit()
    headers = {"Authorization": f"Bearer {token_for(client, 'desk')}"}
    body = {"starts_at": "9999-12-31T23:30:00-12:00", "ends_at": "9999-12-31T23:59:00-12:00"}
    response = client.post(f"{A}/activities/{act.id}/sessions", json=body, headers=headers)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"starts_at", "ends_at"}
    assert len(act.sessions) == 1 and staff is not None


def _booked_resident():
    act = af.activity()
    user = f.resident("13800000011")
    booking = af.book(user, act)
    f.resident("13800000012")
    f.commit()
    return booking


def test_any_other_authorization_header_does_not_lift_the_csrf_check(client):
    booking = _booked_resident()
    client.login("13800000011")
    response = client.post(f"{A}/bookings/{booking.id}/cancel", headers={"Authorization": "Basic eDp4"}, csrf=False)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "csrf_failed"
    bad_bearer = client.post(
        f"{A}/bookings/{booking.id}/cancel", headers={"Authorization": "Bearer nonsense"}, csrf=False
    )
    assert bad_bearer.status_code == 401  # a bearer that does not authenticate is no one, cookie or not
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.confirmed


def test_a_bearer_token_wins_over_the_session_cookie_sent_with_it(client):
    booking = _booked_resident()
    other = token_for(client, "13800000012")
    client.login("13800000011")
    me = client.get(f"{A}/me", headers={"Authorization": f"Bearer {other}"}).get_json()
    assert me["phone"].endswith("0012") or "0012" in str(me)
    response = client.post(f"{A}/bookings/{booking.id}/cancel", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code in (403, 404)  # the bearer's owner holds no such booking
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.confirmed


def test_the_served_openapi_document_is_valid(client):
    document = client.get(f"{A}/openapi.json").get_json()
    validate(document)
    refs = {v for v in _walk(document) if isinstance(v, str) and v.startswith("#/")}
    schemas = document["components"]["schemas"]
    assert {r.split("/")[-1] for r in refs if r.startswith("#/components/schemas/")} <= set(schemas)
    assert not any(r.startswith("#/$defs") for r in refs)


def _walk(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
    else:
        yield node


def test_staff_cannot_book_for_a_deleted_or_a_staff_account(client):
    from accounts import services as accounts

    act = af.activity()
    f.staff(act.venue, login="desk")
    colleague = f.staff(act.venue)
    gone = f.resident("13800000031")
    accounts.delete_account(gone)
    f.commit()
    headers = {"Authorization": f"Bearer {token_for(client, 'desk')}"}
    session = af.first_session(act)
    for holder in (gone.id, colleague.id):
        body = {"activity_id": act.id, "session_id": session.id, "user_id": holder}
        response = client.post(f"{A}/bookings", json=body, headers=headers)
        assert response.status_code == 404, response.get_json()
    db.session.expire_all()
    assert session.seats_taken == 0 and db.session.query(Booking).count() == 0


def test_absolute_links_use_the_configured_base_url_not_the_host_header(app, client):
    act = af.activity()
    f.commit()
    app.config["PUBLIC_BASE_URL"] = "https://culture.panjin.example"
    try:
        body = client.get(f"/calendar/venues/{act.venue_id}.ics", headers={"Host": "evil.example"}).get_data(
            as_text=True
        )
    finally:
        app.config["PUBLIC_BASE_URL"] = ""
    assert "https://culture.panjin.example/activities/" in body.replace("\r\n ", "")
    assert "evil.example" not in body


def test_staff_look_ups_of_residents_are_recorded(client):
    from core.audit import AuditEntry

    f.resident("13800000041")
    f.staff(None, Role.staff, login="desk")
    f.commit()
    client.login("desk")
    client.get("/staff/credit?resident=13800000041")
    client.get("/staff/book?caller=13900009999")
    rows = db.session.query(AuditEntry).filter_by(action="resident.lookup").order_by(AuditEntry.id).all()
    assert [(r.details["purpose"], r.details["found"]) for r in rows] == [("credit", True), ("book_on_behalf", False)]
