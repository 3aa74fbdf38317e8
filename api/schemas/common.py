"""What every schema shares: the camelCase base models, the examples (a receipt, a record, a
sealed document), problem details, and the receipt and sealed-document shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

HEX32 = r"^0x[0-9a-fA-F]{64}$"
"""A 32-byte value as 0x + 64 hex digits (answers always use lower case)."""

EXAMPLE_DIGEST = "0xa413818bef46c4137cd0f93e3e3a5f076c93203564e31e0fd8f6683854be575b"
EXAMPLE_ROOT = "0x05be7d650024e4a14b167ae2a7a8079de0de4bd9a25569e5ccc23fff2e707bcb"
EXAMPLE_TX = "0x51e833ee3123f82369f3f2c54e1351264f742d64b6f9f92e48bc2d4ee65380c4"
EXAMPLE_AGENCY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
EXAMPLE_REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
EXAMPLE_KEY = "0x8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"

EXAMPLE_RECEIPT: dict[str, Any] = {
    "type": "RecordReceipt",
    "version": 2,
    "digest": EXAMPLE_DIGEST,
    "digestKind": "file",
    "leaf": "0x3ebf6aec4ed202871951731d652e9945ef16630caa28a656960d74f9b8430b0f",
    "merkle": {
        "root": EXAMPLE_ROOT,
        "proof": ["0x86a3d4b283ea1347df331cfbffd47c7cf037a867f4eda585dd43d042b3913d8a"],
        "count": 2,
    },
    "anchor": {
        "chainId": 31337,
        "registry": EXAMPLE_REGISTRY,
        "agency": EXAMPLE_AGENCY,
        "blockNumber": 2,
        "anchoredAt": "2026-11-23T10:00:00Z",
    },
    "signature": {
        "alg": "Ed25519",
        "publicKey": EXAMPLE_KEY,
        "value": "0xcfbf1798d5bb28060f684cb3f5e38740635f539b3f32ee8a1b08cbc1069066d9"
        "1b1c227a71b791cebc574e4e4ae83fdc29384b82c24a5ee26c0780a32b5c810a",
    },
}
"""The shape of a version-2 receipt (docs/receipt.md); v2 carries no transaction hash and no
position in the batch: nothing on chain proves them, so nothing shows them."""

EXAMPLE_RECORD: dict[str, Any] = {
    "type": "BirthCertificate",
    "number": "B-2026-000017",
    "child": {"given": "Mari", "family": "Tamm", "born": "2026-03-14"},
    "place": "Tallinn",
}

EXAMPLE_SEALED: dict[str, Any] = {
    "type": "SealedRecord",
    "version": 1,
    "data": {"name": "Ada Lovelace", "born": "1815-12-10", "languages": ["en", "fr"]},
    "salts": {
        "/name": "0x01010101010101010101010101010101",
        "/born": "0x02020202020202020202020202020202",
        "/languages/0": "0x03030303030303030303030303030303",
        "/languages/1": "0x04040404040404040404040404040404",
    },
    "redacted": [],
    "digest": "0x79376dbfa361546e383d0f23f31d873c3d120e4e50e6a4780045b4b574a3499d",
    "receipt": None,
}


def example_of(model: type[BaseModel]) -> dict[str, Any]:
    """The example a model declares (for OpenAPI response examples)."""
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    example = extra["example"]
    assert isinstance(example, dict)
    return example


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RequestModel(ApiModel):
    """A request body: unknown fields are refused, naming the field."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# ------------------------------------------------------------------ problems


class FieldError(ApiModel):
    field: str = Field(description="Where: `body.records.3./child/born`, `path.digest`, ...")
    message: str


class Problem(ApiModel):
    """RFC 9457 problem details: every 4xx and 5xx answer has this shape."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "type": "urn:public-records-registry:problem:invalid-input",
                "title": "Unprocessable Content",
                "status": 422,
                "detail": "digest: expected 0x and 64 hex digits",
                "instance": "/v1/records/0x12",
                "errors": [{"field": "path.digest", "message": "expected 0x and 64 hex digits"}],
            }
        },
    )

    type: str = Field(description="A URN naming the kind of problem (see docs/api.md).")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="Each malformed field (422).")


# ------------------------------------------------------------------ receipts and documents


class MerklePart(ApiModel):
    root: str = Field(pattern=HEX32)
    proof: list[str] = Field(max_length=64)
    count: int = Field(ge=1)


class AnchorPart(ApiModel):
    chain_id: int = Field(ge=1)
    registry: str
    agency: str = Field(description="The agency's identity address (its namespace on chain).")
    block_number: int = Field(ge=1)
    anchored_at: str = Field(description="Block time, YYYY-MM-DDTHH:MM:SSZ.")


class SignaturePart(ApiModel):
    alg: Literal["Ed25519"]
    public_key: str
    value: str


class ReceiptModel(ApiModel):
    """A version-2 record receipt (docs/receipt.md): a receipt and any node verify a record."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={"example": EXAMPLE_RECEIPT},
    )

    type: Literal["RecordReceipt"]
    version: Literal[2]
    digest: str = Field(pattern=HEX32)
    digest_kind: Literal["file", "record"]
    leaf: str = Field(pattern=HEX32)
    merkle: MerklePart
    anchor: AnchorPart
    signature: SignaturePart


class SealedDocumentModel(ApiModel):
    """A sealed structured record (docs/receipt.md section 2): data, salts, what was redacted,
    the digest, and the receipt once anchored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_extra={"example": EXAMPLE_SEALED},
    )

    type: Literal["SealedRecord"]
    version: Literal[1]
    data: dict[str, Any]
    salts: dict[str, str]
    redacted: list[str]
    digest: str = Field(pattern=HEX32)
    receipt: ReceiptModel | None
