"""Receipt v2: round trip, strict parsing with field paths in errors, and the JSON Schema."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from receipt_helpers import AGENCY, REGISTRY, make_receipt

from registry.errors import InvalidProof, InvalidReceipt
from registry.receipt import (
    Receipt,
    build_receipt,
    parse_receipt,
    plausible_proof_lengths,
    receipt_to_json,
)

Mutation = Callable[[dict[str, Any]], Any]


def put(path: str, value: Any) -> Mutation:
    """Set a dotted path (``merkle.proof.0``) to ``value``."""

    def change(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = obj
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def drop(path: str) -> Mutation:
    def change(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = obj
        for part in parents:
            node = node[part]
        del node[last]

    return change


def upper_case_hex(value: str) -> str:
    return "0x" + value[2:].upper()


GOOD = receipt_to_json(make_receipt())
LOWER_REGISTRY = REGISTRY.lower()
BAD_CHECKSUM = REGISTRY[:2] + REGISTRY[2:].swapcase()

# (name, mutation, error path prefix, whether the JSON Schema alone catches it)
BAD_RECEIPTS: list[tuple[str, Mutation, str, bool]] = [
    ("type", put("type", "Receipt"), "type:", True),
    ("version 1", put("version", 1), "version:", True),
    ("version string", put("version", "2"), "version:", True),
    ("version true", put("version", True), "version:", True),
    ("unknown field", put("extra", 1), "extra: unknown field", True),
    ("missing digest", drop("digest"), "digest: missing", True),
    ("digest upper-case", put("digest", upper_case_hex(GOOD["digest"])), "digest:", True),
    ("digest no 0x", put("digest", GOOD["digest"][2:]), "digest:", True),
    ("digest short", put("digest", GOOD["digest"][:-2]), "digest:", True),
    ("digest number", put("digest", 5), "digest:", True),
    ("digestKind", put("digestKind", "pdf"), "digestKind:", True),
    ("leaf", put("leaf", "0x"), "leaf:", True),
    ("merkle not object", put("merkle", []), "merkle: expected a JSON object", True),
    ("merkle extra", put("merkle.extra", 1), "merkle.extra: unknown field", True),
    ("merkle missing", drop("merkle.count"), "merkle.count: missing", True),
    ("root", put("merkle.root", "0x" + "g" * 64), "merkle.root:", True),
    ("proof not array", put("merkle.proof", "0x"), "merkle.proof: expected an array", True),
    ("proof item", put("merkle.proof.1", "0x1234"), "merkle.proof[1]: expected 32-byte hex", True),
    ("proof too long", put("merkle.proof", [GOOD["leaf"]] * 65), "merkle.proof:", True),
    (
        "proof wrong length",
        put("merkle.proof", GOOD["merkle"]["proof"][:1]),
        "merkle.proof:",
        False,
    ),
    # v1's unproven fields are gone: a receipt that carries them is refused, not half-read.
    ("v1 index", put("merkle.index", 3), "merkle.index: unknown field", True),
    ("count float object", put("merkle.count", 5.5), "merkle.count:", True),
    ("count bool", put("merkle.count", True), "merkle.count:", True),
    ("count zero", put("merkle.count", 0), "merkle.count:", True),
    ("count too big", put("merkle.count", 2**32), "merkle.count:", True),
    ("anchor not object", put("anchor", None), "anchor: expected a JSON object", True),
    ("chainId zero", put("anchor.chainId", 0), "anchor.chainId:", True),
    ("chainId string", put("anchor.chainId", "31337"), "anchor.chainId:", True),
    ("chainId bool", put("anchor.chainId", True), "anchor.chainId:", True),
    ("chainId unsafe", put("anchor.chainId", 2**53), "anchor.chainId:", True),
    ("registry lower-case", put("anchor.registry", LOWER_REGISTRY), "anchor.registry:", False),
    ("registry bad checksum", put("anchor.registry", BAD_CHECKSUM), "anchor.registry:", False),
    ("registry short", put("anchor.registry", REGISTRY[:-2]), "anchor.registry:", True),
    ("agency zero", put("anchor.agency", "0x" + "0" * 40), "anchor.agency:", True),
    ("v1 txHash", put("anchor.txHash", "0x" + "11" * 32), "anchor.txHash: unknown field", True),
    ("blockNumber zero", put("anchor.blockNumber", 0), "anchor.blockNumber:", True),
    ("blockNumber string", put("anchor.blockNumber", "42"), "anchor.blockNumber:", True),
    (
        "time offset",
        put("anchor.anchoredAt", "2026-11-23T10:00:00+00:00"),
        "anchor.anchoredAt:",
        True,
    ),
    ("time space", put("anchor.anchoredAt", "2026-11-23 10:00:00Z"), "anchor.anchoredAt:", True),
    (
        "time fraction",
        put("anchor.anchoredAt", "2026-11-23T10:00:00.5Z"),
        "anchor.anchoredAt:",
        True,
    ),
    (
        "time impossible",
        put("anchor.anchoredAt", "2026-02-30T10:00:00Z"),
        "anchor.anchoredAt:",
        False,
    ),
    (
        "time before 1970",
        put("anchor.anchoredAt", "1969-12-31T23:59:59Z"),
        "anchor.anchoredAt:",
        False,
    ),
    ("time number", put("anchor.anchoredAt", 1795428000), "anchor.anchoredAt:", True),
    ("alg", put("signature.alg", "EdDSA"), "signature.alg:", True),
    ("signature missing", drop("signature.value"), "signature.value: missing", True),
    (
        "publicKey short",
        put("signature.publicKey", GOOD["leaf"][:-2]),
        "signature.publicKey:",
        True,
    ),
    ("signature 32 bytes", put("signature.value", GOOD["leaf"]), "signature.value:", True),
]


def mutated(change: Mutation) -> dict[str, Any]:
    obj = copy.deepcopy(GOOD)
    change(obj)
    return obj


@pytest.mark.parametrize(
    ("change", "where"),
    [(m, w) for _, m, w, _ in BAD_RECEIPTS],
    ids=[n for n, _, _, _ in BAD_RECEIPTS],
)
def test_bad_receipts_name_the_field(change: Mutation, where: str) -> None:
    with pytest.raises(InvalidReceipt) as excinfo:
        parse_receipt(mutated(change))
    assert str(excinfo.value).startswith(where), str(excinfo.value)


@pytest.mark.parametrize(
    "change",
    [m for _, m, _, schema in BAD_RECEIPTS if schema],
    ids=[n for n, _, _, schema in BAD_RECEIPTS if schema],
)
def test_schema_refuses_what_it_can_express(
    change: Mutation, receipt_schema: dict[str, Any]
) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(mutated(change), receipt_schema)


def test_schema_itself_is_valid_draft_2020_12(receipt_schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(receipt_schema)
    assert receipt_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_bad_checksum_message_gives_the_right_form() -> None:
    with pytest.raises(InvalidReceipt, match=REGISTRY):
        parse_receipt(mutated(put("anchor.registry", LOWER_REGISTRY)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "receipt: expected a JSON object"),
        ("{", "receipt"),
        ('{"type": 1, "type": 2}', "duplicate key 'type'"),
        (json.dumps(GOOD).replace('"count": 5', '"count": NaN'), "NaN is not a JSON number"),
        (" " * 70_000, "65536-byte limit"),
    ],
)
def test_bad_receipt_text(text: str, message: str) -> None:
    with pytest.raises(InvalidReceipt, match=message):
        parse_receipt(text)


receipt_params = st.builds(
    lambda count, pick, chain_id, when, salt: make_receipt(
        count=count,
        index=pick % count,
        chain_id=chain_id,
        anchored_at=when,
        salt=salt,
    ),
    count=st.integers(1, 40),
    pick=st.integers(0, 1000),
    chain_id=st.integers(1, 2**53 - 1),
    when=st.integers(0, 2**34),
    salt=st.binary(max_size=4),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(receipt=receipt_params)
def test_json_round_trip(receipt: Receipt, receipt_schema: dict[str, Any]) -> None:
    obj = receipt_to_json(receipt)
    assert parse_receipt(obj) == receipt
    text = json.dumps(obj)
    assert parse_receipt(text) == receipt
    assert parse_receipt(text.encode()) == receipt
    jsonschema.validate(obj, receipt_schema)
    shortest, longest = plausible_proof_lengths(receipt.merkle.count)
    assert shortest <= len(receipt.merkle.proof) <= longest


def test_proof_lengths_of_standard_trees() -> None:
    assert plausible_proof_lengths(1) == (0, 0)
    assert plausible_proof_lengths(2) == (1, 1)
    assert plausible_proof_lengths(3) == (1, 2)
    assert plausible_proof_lengths(1000) == (9, 10)
    assert plausible_proof_lengths(1024) == (10, 10)


def test_build_receipt_checksums_addresses_and_times() -> None:
    receipt = make_receipt(registry=REGISTRY.lower(), agency=AGENCY.upper().replace("0X", "0x"))
    assert receipt.anchor.registry == REGISTRY
    assert receipt.anchor.agency == AGENCY
    assert receipt.anchor.anchored_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert receipt.anchor.anchored_at_unix == 1_795_428_000
    assert receipt_to_json(receipt)["anchor"]["anchoredAt"] == "2026-11-23T10:00:00Z"


def build_kwargs(**changes: Any) -> dict[str, Any]:
    receipt = make_receipt()
    kwargs: dict[str, Any] = {
        "digest": receipt.digest,
        "digest_kind": "file",
        "root": receipt.merkle.root,
        "proof": list(receipt.merkle.proof),
        "count": receipt.merkle.count,
        "chain_id": receipt.anchor.chain_id,
        "registry": receipt.anchor.registry,
        "agency": receipt.anchor.agency,
        "block_number": receipt.anchor.block_number,
        "anchored_at": receipt.anchor.anchored_at,
        "public_key": receipt.signature.public_key,
        "signature": receipt.signature.value,
    }
    kwargs.update(changes)
    return kwargs


def test_build_receipt_refuses_a_proof_that_does_not_lead_to_the_root() -> None:
    assert build_receipt(**build_kwargs()) == make_receipt()
    with pytest.raises(InvalidProof, match=r"merkle\.proof"):
        build_receipt(**build_kwargs(root=b"\x00" * 32))


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"anchored_at": datetime(2026, 1, 1)}, "anchor.anchoredAt:"),  # naive: which zone?
        ({"digest": b"\x00" * 31}, "digest:"),
        ({"registry": BAD_CHECKSUM}, "anchor.registry:"),
        ({"signature": b"\x00" * 63}, "signature.value:"),
        ({"count": 2**32}, "merkle.count:"),
        ({"digest_kind": "blob"}, "digestKind:"),
        ({"anchored_at": 10**20}, "anchor.anchoredAt:"),
        ({"anchored_at": -1}, "anchor.anchoredAt:"),
    ],
)
def test_build_receipt_validates_like_parse(changes: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidReceipt) as excinfo:
        build_receipt(**build_kwargs(**changes))
    assert str(excinfo.value).startswith(where)


def test_integral_numbers_read_by_the_one_number_rule() -> None:
    """In receipt text, `5.0` and `5e0` are the integer 5 (docs/receipt.md section 2.2), as in
    JSON Schema; `5.5` is not an integer."""
    text = json.dumps(GOOD).replace('"count": 5', '"count": 5.0')
    assert parse_receipt(text) == parse_receipt(GOOD)
    assert parse_receipt(text.replace('"count": 5.0', '"count": 5e0')) == parse_receipt(GOOD)
    with pytest.raises(InvalidReceipt, match=r"merkle\.count"):
        parse_receipt(text.replace('"count": 5.0', '"count": 5.5'))
