"""`<int:…>` ids: 1 … 2³¹-1 reach a rule; 0, leading zeros and larger values answer 404 for every method,
also on a path that several rules share (one per method), where werkzeug used to answer 405."""

import random
import re

import pytest

from core.db import MAX_ID
from core.web import BoundedInt

PATTERN = re.compile(BoundedInt.regex + "$")


def test_the_pattern_admits_exactly_the_ids_that_fit():
    edges = [0, 1, 9, 10, 999_999_999, 1_000_000_000, 1_999_999_999, 2_000_000_000, MAX_ID, MAX_ID + 1, 9_999_999_999]
    values = edges + [random.Random(7).randint(0, 10**10) for _ in range(20_000)]
    for value in values:
        assert bool(PATTERN.match(str(value))) == (1 <= value <= MAX_ID), value
    assert not PATTERN.match("007")


@pytest.mark.parametrize("booking_id", ["0", "007", str(MAX_ID + 1), "99999999999"])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch"])
def test_an_id_out_of_range_is_not_found_whatever_the_method(app, booking_id, method):
    response = getattr(app.test_client(), method)(f"/api/v1/bookings/{booking_id}/feedback", json={})
    assert response.status_code == 404
