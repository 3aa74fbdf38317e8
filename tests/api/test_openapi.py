"""The OpenAPI document is complete: every route has a summary, a description, at least one
example, and documents its error answers as problem+json."""

from __future__ import annotations

from typing import Any

from api_helpers import ONLY_EMBEDDED_SQLITE, Api

pytestmark = ONLY_EMBEDDED_SQLITE

METHODS = ("get", "post", "put", "patch", "delete")


def _examples(operation: dict[str, Any]) -> int:
    found = 0
    body = operation.get("requestBody", {}).get("content", {})
    responses = [r.get("content", {}) for r in operation.get("responses", {}).values()]
    for content in [body, *responses]:
        for media in content.values():
            found += int("example" in media) + len(media.get("examples", {}))
    for parameter in operation.get("parameters", []):
        found += int("example" in parameter) + len(parameter.get("examples", {}))
    return found


def test_every_route_is_documented_with_an_example(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    operations = [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    assert len(operations) >= 25
    for method, path, op in operations:
        where = f"{method} {path}"
        assert op.get("summary"), f"{where}: no summary"
        assert len(op.get("description", "")) > 20, f"{where}: no description"
        assert op.get("tags"), f"{where}: no tag"
        assert _examples(op) >= 1, f"{where}: no example"
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert "application/problem+json" in response["content"], f"{where} {status}"
    schemas = document["components"]["schemas"]
    assert {"Problem", "ReceiptModel", "SealedDocumentModel", "RecordCreate"} <= set(schemas)
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_routes_by_resource(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    prefixes = {p.split("/")[2] for p in paths if p.startswith("/v1/")}
    resources = {"records", "verify", "trust-list", "agencies", "batches", "admin", "info"}
    assert prefixes == resources | {"labels", "webhooks"}
    assert {"/healthz", "/readyz", "/metrics"} <= set(paths)
