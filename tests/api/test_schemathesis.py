"""Property-based: schemathesis generates requests from /api/schema/ and calls the WSGI app in process.
No answer may be a 500 or break the schema (status, content type, body, headers)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

# Per operation, mode and caller; API_FUZZ_EXAMPLES=100 for a longer hunt (80 found nothing on 2026-11-23).
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize(
    ("who", "mode"),
    [
        ("anonymous", GenerationMode.POSITIVE),
        ("staff", GenerationMode.POSITIVE),
        # Invalid input as staff, so bodies reach validation (an anonymous write stops at 401).
        ("staff", GenerationMode.NEGATIVE),
    ],
)
def test_no_generated_request_gets_a_500_or_a_response_outside_the_schema(world, staff_user, settings_, who, mode):
    from rest_framework.authtoken.models import Token

    headers = {"Authorization": f"Token {Token.objects.create(user=staff_user).key}"} if who == "staff" else {}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    skipped = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): the positive run covers the operation.
            assert mode == GenerationMode.NEGATIVE
            skipped.append(operation.label)
    assert len(skipped) < len(operations) / 2, skipped


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the WSGI handler must not close the test transaction's connection."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def settings_(settings):
    """Budgets high enough that the generated requests never meet a 429."""
    settings.API_RATE_LIMITS = {group: "100000/m" for group in settings.API_RATE_LIMITS}
    return settings
