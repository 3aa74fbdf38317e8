"""Reading request bodies strictly, and the OpenAPI description of bodies read that way.

Structured records are parsed with the record module's strict reader (unique keys, finite
numbers, safe integers, depth and size limits), the same as `registry issue` does, not with a
lenient JSON parser that would silently keep the last of two duplicate keys.
"""

from __future__ import annotations

import json
from typing import Any

from api.errors import InvalidField
from registry import record
from registry.errors import InvalidInput


def strict_object(raw: bytes, *, max_bytes: int, where: str = "body") -> dict[str, Any]:
    """`raw` as one JSON object, strictly; InvalidField names the field at fault."""
    if not raw.strip():
        raise InvalidField(where, "empty body; expected a JSON object")
    try:
        return dict(record.parse_record_json(raw, max_bytes=max_bytes))
    except record.RecordError as exc:
        raise InvalidField(where + (exc.printable_path or ""), exc.problem) from exc


def loose_object(raw: bytes, *, where: str = "body") -> dict[str, Any]:
    """`raw` as a JSON object (for receipts and sealed documents, whose own parsers are strict
    about every field); InvalidField when it is not JSON or not an object."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidField(where, f"malformed JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidField(where, f"expected a JSON object, got {type(value).__name__}")
    return value


def only_keys(obj: dict[str, Any], allowed: tuple[str, ...], *, where: str = "body") -> None:
    for key in obj:
        if key not in allowed:
            raise InvalidField(f"{where}/{key}", "unknown field")
    for key in allowed:
        if key not in obj:
            raise InvalidField(f"{where}/{key}", "field required")


def seal_error(exc: InvalidInput, where: str) -> InvalidField:
    """A sealing error of one record as a field error at `where` + the record's pointer."""
    if isinstance(exc, record.RecordError):
        return InvalidField(where + (exc.printable_path or ""), exc.problem)
    return InvalidField(where, str(exc))


def json_body(schema: str, *, examples: dict[str, Any], required: bool = True) -> dict[str, Any]:
    """`openapi_extra` declaring a JSON body of component `schema` with named examples."""
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{schema}"},
                    "examples": {
                        name: {"summary": name.replace("-", " "), "value": value}
                        for name, value in examples.items()
                    },
                }
            },
        }
    }


def json_body_any_of(schemas: list[str], *, examples: dict[str, Any]) -> dict[str, Any]:
    extra = json_body(schemas[0], examples=examples)
    content = extra["requestBody"]["content"]["application/json"]
    content["schema"] = {"oneOf": [{"$ref": f"#/components/schemas/{s}"} for s in schemas]}
    return extra
