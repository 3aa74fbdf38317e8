"""Property-based conformance against the OpenAPI document (schemathesis, bounded and
deterministic): whatever the generated request, with the admin token, an agency token or no
token, no 5xx, and every answer matches the documented status codes, content types, headers
and schemas. Admin routes are fuzzed past their 403 by the admin run.

The long run (200 examples per operation and the stateful phase, by the schemathesis
command against a served app) is test_fuzz_full.py."""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from registry.service.admin import issue_api_token
from registry.service.embedded import open_embedded
from registry.settings import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# No token first, the admin last: an admin run may suspend the fuzzed agency.
AUTHS = ("none", "agency", "admin")
CI_EXAMPLES = {"none": 15, "agency": 25, "admin": 20}
PASSPHRASE = "fuzz passphrase 2026"


@dataclass
class FuzzTarget:
    """The app under fuzzing and a way to get the headers of one auth state."""

    app: Any
    headers: Callable[[str], dict[str, str]]


@contextmanager
def fuzz_registry() -> Iterator[FuzzTarget]:
    """An embedded registry with one agency that has issued a record; no anchoring worker
    (generated submissions stay pending), a short wait, a generous rate limit. The admin
    token is the only one (the API refuses to revoke it); an agency token is issued afresh
    for each request batch, since an admin run may revoke any token by id."""
    with tempfile.TemporaryDirectory(prefix="registry-fuzz-") as tmp:
        data = Path(tmp)
        config = Settings(
            data_dir=data,
            api_wait_timeout=0.2,
            api_verify_rate=100_000.0,
            api_verify_burst=100_000,
            api_rate=100_000.0,
            api_burst=100_000,
        )
        operator, admin = open_embedded(config, data_dir=data, passphrase=PASSPHRASE)
        runtime = None
        try:
            app = create_app(operator=operator, passphrase=PASSPHRASE, run_worker=False)
            runtime = app.state.registry
            runtime.keyring.put_admin(admin)
            agency, issuer = operator.create_agency(
                "Fuzz Office", passphrase=PASSPHRASE, admin=admin, fund_from_dev=True
            )
            runtime.keyring.put(agency.id, issuer)
            issuer.submit([(bytes(issuer.seal({"seed": 1}).digest), "record", None)])
            issuer.drain()
            _, admin_token = issue_api_token(operator.store, agency_id=None, label="fuzz admin")

            def headers(auth: str) -> dict[str, str]:
                if auth == "none":
                    return {}
                if auth == "admin":
                    return {"Authorization": f"Bearer {admin_token}"}
                _, token = issue_api_token(operator.store, agency_id=agency.id, label="fuzz")
                return {"Authorization": f"Bearer {token}"}

            yield FuzzTarget(app=app, headers=headers)
        finally:
            # The runtime's threads (the follower, the webhook worker) stop before the store
            # closes and its directory is removed: one still writing made the removal fail.
            if runtime is not None:
                runtime.stop()
            operator.close()


def _failure(label: str, exc: BaseException) -> str:
    return f"{label}:\n" + "".join(traceback.format_exception_only(type(exc), exc)).strip()


@dataclass
class FuzzRun:
    """What a run saw: the failures (one text per failing operation) and, per operation,
    the status codes answered."""

    failures: list[str]
    statuses: dict[str, set[int]]

    def report(self) -> str:
        return "\n\n".join(self.failures)


def _conformance_test(
    operation: Any, headers: dict[str, str], seen: set[int], *, max_examples: int
) -> Callable[[], None]:
    """A Hypothesis test of one operation: each generated case is sent with `headers`, its
    status code added to `seen`, its answer checked against the document."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    def conforms(case: Any) -> None:
        response = case.call(headers=headers)
        seen.add(response.status_code)
        case.validate_response(response, checks=CHECKS)

    return conforms  # type: ignore[no-any-return]


def fuzz_operations(target: FuzzTarget, auth: str, *, max_examples: int) -> FuzzRun:
    """Every operation with `max_examples` generated cases (plus the schema's examples); the
    run goes on after a failing operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", target.app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation the document does not describe
        operations.append(result.ok())
    assert len(operations) >= 25
    run = FuzzRun(failures=[], statuses={})
    for operation in operations:
        seen = run.statuses.setdefault(operation.label, set())
        conforms = _conformance_test(
            operation, target.headers(auth), seen, max_examples=max_examples
        )
        try:
            conforms()
        except Exception as exc:  # every operation is fuzzed; all failures are reported
            run.failures.append(_failure(f"{auth} {operation.label}", exc))
    return run


def assert_admin_got_past_403(run: FuzzRun) -> None:
    """With the admin token, each admin route answered something else than 401/403 at least
    once: the admin routes were fuzzed, not just their authentication."""
    stuck = [
        label
        for label, statuses in run.statuses.items()
        if "/v1/admin/" in label and not statuses - {401, 403}
    ]
    assert not stuck, f"admin routes never past 401/403: {stuck}"


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[FuzzTarget]:
    with fuzz_registry() as target:
        yield target


@pytest.mark.parametrize("auth", AUTHS)
def test_api_conforms(fuzzed: FuzzTarget, auth: str) -> None:
    run = fuzz_operations(fuzzed, auth, max_examples=CI_EXAMPLES[auth])
    assert not run.failures, run.report()
    if auth == "admin":
        assert_admin_got_past_403(run)
