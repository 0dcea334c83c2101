"""Typed codes at the door are limited (issue 18, finding 9): `/checkins/batch` accepted 3,000 guesses in 1.8 s.

Failed look-ups spend a budget per staff account, per device and per event session; once it is spent the
door answers 429 `too_many_attempts` with Retry-After, and a batch of guesses is refused whole, early.
"""

import secrets
from datetime import timedelta

from core import tickets
from core.db import utcnow
from tests.checkin.test_checkin_api import count, door_now

LIMIT = 20  # CHECKIN_CODE_FAILURES' default: 20 per 10 minutes


def _guess() -> str:
    while True:
        code = "".join(secrets.choice(tickets.CODE_ALPHABET) for _ in range(tickets.CODE_LENGTH))
        if code != tickets.code_for(1):
            return code


def _batch(d, n: int, *, prefix: str) -> list[dict]:
    at = utcnow() - timedelta(minutes=1)
    return [
        {
            "code": _guess(),
            "session_id": d.session.id,
            "scanned_at": at.isoformat(),
            "device_id": "door-x",
            "scan_id": f"{prefix}-{i:06d}",
        }
        for i in range(n)
    ]


def test_a_batch_of_guesses_is_cut_off_and_the_next_one_refused_whole(client, app):
    from checkin.models import CheckIn

    d = door_now()
    client.login(d.scanner.login)
    first = client.post("/api/v1/checkins/batch", json=_batch(d, 500, prefix="guess-a"))
    assert first.status_code == 200, first.json
    codes = [r["code"] for r in first.json["results"]]
    assert codes[:LIMIT] == ["invalid_ticket"] * LIMIT
    assert set(codes[LIMIT:]) == {"too_many_attempts"}
    again = client.post("/api/v1/checkins/batch", json=_batch(d, 500, prefix="guess-b"))
    assert again.status_code == 429
    assert again.json["error"]["code"] == "too_many_attempts"
    assert 1 <= int(again.headers["Retry-After"]) <= 600
    assert count(CheckIn) == 0


def test_typed_codes_answer_429_after_the_budget_but_qr_scans_still_work(client, app):
    d = door_now()
    client.login(d.scanner.login)
    for _ in range(LIMIT):
        wrong = client.post("/api/v1/checkins", json={"code": _guess(), "session_id": d.session.id})
        assert wrong.status_code == 404 or wrong.json["error"]["code"] == "invalid_ticket", wrong.json
    right = {"code": tickets.code_for(d.booking.id), "session_id": d.session.id}
    refused = client.post("/api/v1/checkins", json=right)
    assert refused.status_code == 429 and refused.json["error"]["code"] == "too_many_attempts"
    assert "Retry-After" in refused.headers
    scanned = client.post("/api/v1/checkins", json={"payload": d.payload, "session_id": d.session.id})
    assert scanned.status_code == 201  # a signed QR payload cannot be guessed: never throttled


def test_the_event_sessions_budget_holds_across_staff_accounts(client, app):
    from accounts.models import Role
    from tests import factories as f

    d = door_now()
    app.config["CHECKIN_SESSION_CODE_FAILURES"] = "5 per 10 minutes"
    try:
        others = [f.staff(d.net["station"], Role.checkin) for _ in range(3)]
        f.commit()
        answers = []
        for scanner in others:
            client.login(scanner.login)
            for _ in range(2):
                answers.append(client.post("/api/v1/checkins", json={"code": _guess(), "session_id": d.session.id}))
    finally:
        app.config["CHECKIN_SESSION_CODE_FAILURES"] = "60 per 10 minutes"
    assert [a.json["error"]["code"] for a in answers] == ["invalid_ticket"] * 5 + ["too_many_attempts"]
