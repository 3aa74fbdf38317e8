"""Request and response schemas of the HTTP API, separate from the store's table models, one
module per resource (records and batches, verification, agencies and administration, health)
over `common` (base models, examples, problems, receipts).

JSON is camelCase (like the receipt format); Python attributes are snake_case. Every model
carries an example, so the OpenAPI document shows a complete exchange for every route.
"""

from __future__ import annotations

from pydantic import BaseModel

from api.schemas.agencies import (
    AgencyCreate,
    AgencyList,
    AgencyPublic,
    KeyWindowPublic,
    TokenCreate,
    TokenIssued,
    TokenList,
    TokenPublic,
)
from api.schemas.common import (
    EXAMPLE_AGENCY,
    EXAMPLE_DIGEST,
    EXAMPLE_KEY,
    EXAMPLE_RECEIPT,
    EXAMPLE_RECORD,
    EXAMPLE_REGISTRY,
    EXAMPLE_ROOT,
    EXAMPLE_SEALED,
    EXAMPLE_TX,
    HEX32,
    AnchorPart,
    ApiModel,
    FieldError,
    MerklePart,
    Problem,
    ReceiptModel,
    RequestModel,
    SealedDocumentModel,
    SignaturePart,
    example_of,
)
from api.schemas.health import (
    Health,
    Readiness,
    ServiceInfo,
)
from api.schemas.records import (
    BatchList,
    BatchPublic,
    BatchRevocationCreate,
    BulkItem,
    BulkSubmitted,
    DigestCreate,
    RecordBulkCreate,
    RecordCreate,
    RecordPublic,
    RevocationCreate,
    RevocationPublic,
    RevocationState,
)
from api.schemas.verification import (
    CheckPublic,
    VerificationPublic,
)
from registry.vocabulary import RecordStatus

EXTRA_COMPONENTS: tuple[type[BaseModel], ...] = (
    Problem,
    ReceiptModel,
    SealedDocumentModel,
    RecordCreate,
    RecordBulkCreate,
    DigestCreate,
    RevocationCreate,
    BatchRevocationCreate,
    AgencyCreate,
    TokenCreate,
)
"""Schemas of bodies read raw (strict JSON, fast verification): added to the OpenAPI
components so that routes can refer to them."""

__all__ = [
    "EXAMPLE_AGENCY",
    "EXAMPLE_DIGEST",
    "EXAMPLE_KEY",
    "EXAMPLE_RECEIPT",
    "EXAMPLE_RECORD",
    "EXAMPLE_REGISTRY",
    "EXAMPLE_ROOT",
    "EXAMPLE_SEALED",
    "EXAMPLE_TX",
    "EXTRA_COMPONENTS",
    "HEX32",
    "AgencyCreate",
    "AgencyList",
    "AgencyPublic",
    "AnchorPart",
    "ApiModel",
    "BatchList",
    "BatchPublic",
    "BatchRevocationCreate",
    "BulkItem",
    "BulkSubmitted",
    "CheckPublic",
    "DigestCreate",
    "FieldError",
    "Health",
    "KeyWindowPublic",
    "MerklePart",
    "Problem",
    "Readiness",
    "ReceiptModel",
    "RecordBulkCreate",
    "RecordCreate",
    "RecordPublic",
    "RecordStatus",
    "RequestModel",
    "RevocationCreate",
    "RevocationPublic",
    "RevocationState",
    "SealedDocumentModel",
    "ServiceInfo",
    "SignaturePart",
    "TokenCreate",
    "TokenIssued",
    "TokenList",
    "TokenPublic",
    "VerificationPublic",
    "example_of",
]
