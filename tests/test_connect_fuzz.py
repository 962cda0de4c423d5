"""Fuzz the live API from its own OpenAPI schema (schemathesis): no request may get a 5xx."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("fastapi")
from hypothesis import HealthCheck, settings  # noqa: E402

from pumpsim.connect.api import create_app  # noqa: E402

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(first_session=True))


@schema.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
