"""Fuzz the whole JSON API from its own OpenAPI document, as a resident, as staff and as a manager: no 500 on
any input, answers match the schema.

Bounded in time for CI: a few examples per operation, and a budget per caller and database (FUZZ_SECONDS,
default 180 s of wall time) after which the remaining operations pass without being called. On CI's own
machine each caller's pass takes well under it; the budget only bounds a slow or shared machine.
"""

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from accounts.models import Role
from tests import activity_factories as af
from tests import factories as f

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
CALLERS = {"resident": "13800000001", "staff": "fuzz-staff", "manager": "fuzz-manager"}
BUDGET = float(os.environ.get("FUZZ_SECONDS", "180"))
_started: dict[str, float] = {}  # caller and database → when its first case ran


@pytest.fixture
def api_schema(app):
    net = f.network()
    f.room(net["hub"])
    resident = f.resident("13800000001")
    act = af.activity(net["station"])
    af.book(resident, act)
    f.staff(net["station"], login="fuzz-staff")
    f.staff(None, Role.manager, login="fuzz-manager")
    f.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def bearers(app, client):
    """A bearer header for each caller."""
    out = {}
    for caller, login in CALLERS.items():
        token = client.post("/api/v1/auth/token", json={"login": login, "password": f.PASSWORD})
        out[caller] = {"Authorization": f"Bearer {token.get_json()['token']}"}
    return out


schema = schemathesis.pytest.from_fixture("api_schema")
FUZZ = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _fuzz(case, app, bearers, caller: str) -> None:
    started = _started.setdefault(f"{caller}:{app.config['SQLALCHEMY_DATABASE_URI']}", time.monotonic())
    if time.monotonic() - started > BUDGET:
        return  # this caller's time budget is spent
    case.headers = {**(case.headers or {}), **bearers[caller]}
    response = case.call()
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_as_a_resident_the_api_never_fails_and_answers_as_documented(case, app, bearers):
    _fuzz(case, app, bearers, "resident")


@schema.parametrize()
@FUZZ
def test_as_staff_the_api_never_fails_and_answers_as_documented(case, app, bearers):
    _fuzz(case, app, bearers, "staff")


@schema.parametrize()
@FUZZ
def test_as_a_manager_the_api_never_fails_and_answers_as_documented(case, app, bearers):
    _fuzz(case, app, bearers, "manager")
