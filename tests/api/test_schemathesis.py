"""Property-based conformance against the OpenAPI document (schemathesis, bounded and
deterministic): whatever the generated request, no 5xx, and every answer matches the
documented status codes, content types, headers and schemas."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from registry.service.api_support import issue_api_token, open_embedded
from registry.settings import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[Any, dict[str, str]]]:
    """An embedded registry with one agency that has issued a record; no anchoring worker
    (generated submissions stay pending), a short wait, a generous rate limit."""
    with tempfile.TemporaryDirectory(prefix="registry-fuzz-") as tmp:
        data = Path(tmp)
        settings = Settings(
            data_dir=data,
            api_wait_timeout=0.2,
            api_verify_rate=1000.0,
            api_verify_burst=1000,
            api_rate=1000.0,
            api_burst=1000,
        )
        operator, admin = open_embedded(settings, data_dir=data, passphrase="fuzz")
        app = create_app(operator=operator, passphrase="fuzz", run_worker=False)
        runtime = app.state.registry
        runtime.keyring.put_admin(admin)
        agency, issuer = operator.create_agency(
            "Fuzz Office", passphrase="fuzz", admin=admin, fund_from_dev=True
        )
        runtime.keyring.put(agency.id, issuer)
        issuer.submit([(bytes(issuer.seal({"seed": 1}).digest), "record", None)])
        issuer.drain()
        _, token = issue_api_token(operator.store, agency_id=agency.id, label="fuzz")
        try:
            yield app, {"Authorization": f"Bearer {token}"}
        finally:
            operator.close()


def test_api_conforms(fuzzed: tuple[Any, dict[str, str]]) -> None:
    app, headers = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        conforms()
