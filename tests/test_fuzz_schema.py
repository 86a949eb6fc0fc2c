"""Schemathesis against faqbot/openapi.yaml: every documented operation, valid and invalid inputs generated from
the description, answered without a 5xx, with a documented status, content type and response shape.

Runs in-process through WSGI on a fresh SQLite app. The long run (≥ 20,000 requests) is bench/fuzz_api.py.
"""
from __future__ import annotations

import logging

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from faqbot.api_docs import load_spec

EXAMPLES = 100


@pytest.fixture
def schema_app(make_app):
    return make_app("sqlite", CONTACT_RATE_LIMIT=10**9)


OPERATIONS = [(path, method.upper()) for path, item in load_spec()["paths"].items() for method in item]
# Negative data (schema-violating) only where the description constrains something to violate.
CONSTRAINED = {("/api/search", "GET"), ("/api/triage/suggest", "POST"), ("/api/tickets", "POST")}
CASES = [(p, m, "positive") for p, m in OPERATIONS] + [(p, m, "negative") for p, m in OPERATIONS if (p, m) in CONSTRAINED]
# A ticket that fits the schema may still fail a reason's pre-checks (422 by design): the schema cannot say
# "this confirmation is required for that reason", so positive data need not be accepted there.
NOT_ALWAYS_ACCEPTED = {("/api/tickets", "POST")}


@pytest.mark.parametrize(("path", "method", "mode"), CASES, ids=[f"{m} {p} {mode}" for p, m, mode in CASES])
def test_api_conforms_to_its_description(schema_app, path, method, mode):
    # Built per test rather than with schemathesis' pytest plugin, whose lazy fixture loader breaks on pytest 9.
    operation = schemathesis.openapi.from_wsgi("/api/openapi.json", schema_app)[path][method]
    generation_mode = schemathesis.GenerationMode(mode)
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            errors.append(record.getMessage())

    handler = Collect(logging.ERROR)
    schema_app.logger.addHandler(handler)

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy(generation_mode=generation_mode))
    def check(case):
        response = case.call()
        assert response.status_code < 500, (case.as_curl_command(), response.text[:300])
        excluded = [positive_data_acceptance] if (path, method) in NOT_ALWAYS_ACCEPTED else []
        case.validate_response(response, excluded_checks=excluded)

    try:
        check()
    finally:
        schema_app.logger.removeHandler(handler)
    assert not errors, errors


def test_description_is_served_and_names_every_route(sqlite_app):
    client = sqlite_app.test_client()
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == load_spec()
    assert client.get("/api/openapi.yaml").mimetype == "application/yaml"
    routes = {rule.rule for rule in sqlite_app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    documented = set(load_spec()["paths"])
    # Every JSON route is documented (the description is only useful complete), and vice versa.
    assert documented <= routes, documented - routes
    assert routes - {"/api/openapi.json", "/api/openapi.yaml"} <= documented, routes - documented
