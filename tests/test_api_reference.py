"""README.md's JSON API tables say what the code serves: every error code and every /api/v1 endpoint."""

import re

from core.errors import DomainError
from tools import api_reference


def test_the_readme_tables_equal_what_the_code_generates(app):
    generated = api_reference.generated()
    in_readme = api_reference.readme_blocks(api_reference.README.read_text(encoding="utf-8"))
    for name, body in generated.items():
        assert in_readme[name] == body, f"README.md {name} is stale: run python -m tools.api_reference --write"


def test_the_code_list_holds_every_domain_error_and_the_endpoints_every_operation(app):
    codes = api_reference.error_codes()
    assert {
        "too_soon",
        "closed",
        "suspended",
        "not_confirmed",
        "invalid_ticket",
        "csrf_failed",
        "limit_reached",
        "rate_limited",
    } <= set(codes)
    assert {"409"} == codes["too_soon"]["statuses"] and codes["closed"]["where"] == {"bookings", "rooms"}

    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    assert {c.code for c in walk(DomainError) if c.__module__.split(".")[0] in api_reference.PACKAGES} <= set(codes)
    served = {(m, p) for m, p, _ in api_reference.endpoints()}
    assert {
        ("POST", "/api/v1/bookings/{booking_id}/accept"),
        ("POST", "/api/v1/room-reservations/bulk"),
        ("POST", "/api/v1/room-reservations/checkins"),
    } <= served
    rules = {
        (m, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule))
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1/") and r.rule != "/api/v1/openapi.json"
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    assert served == rules


def test_a_stale_readme_block_is_detected_and_rewritten():
    text = "x\n<!-- api-endpoints:start (generated) -->\nold\n<!-- api-endpoints:end -->\ny"
    assert api_reference.readme_blocks(text)["api-endpoints"] == "old"
    assert api_reference.rewrite(text, {"api-endpoints": "new"}) == text.replace("old", "new")
