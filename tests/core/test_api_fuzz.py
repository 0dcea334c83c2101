"""Fuzz the whole JSON API from its own OpenAPI document: no 500 on any input, answers match the schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from tests import factories as f

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture
def api_schema(app):
    net = f.network()
    f.room(net["hub"])
    f.resident("13800000001")
    f.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def bearer(app, client):
    token = client.post("/api/v1/auth/token", json={"login": "13800000001", "password": f.PASSWORD})
    return {"Authorization": f"Bearer {token.get_json()['token']}"}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_never_fails_and_answers_as_documented(case, bearer):
    case.headers = {**(case.headers or {}), **bearer}
    response = case.call()
    case.validate_response(response, checks=CHECKS)
