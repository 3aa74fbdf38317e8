"""Service objects as the JSON the API answers (the shapes of api/schemas.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from registry.receipt import Receipt, receipt_to_json
from registry.service.agencies import AgencyKey, PublicAgency
from registry.service.queries import BatchSummary, RecordState
from registry.service.revoking import RevocationResult
from registry.service.tokens import TokenInfo
from registry.trustlist import StatusPeriod, TrustList
from registry.trustlist import iso as iso_time
from registry.vocabulary import reason_text


def iso(seconds: int | None) -> str | None:
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hex_or_none(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def batch_view(batch: BatchSummary) -> dict[str, Any]:
    return {
        "root": batch.root,
        "agency": batch.agency,
        "agencyName": batch.agency_name,
        "state": batch.state,
        "count": batch.count,
        "txHash": batch.tx_hash,
        "blockNumber": batch.block_number,
        "anchoredAt": batch.anchored_at,
        "sealedAt": batch.sealed_at,
        "confirmedAt": batch.confirmed_at,
    }


def record_view(
    state: RecordState,
    *,
    receipt: Receipt | None = None,
    new: bool | None = None,
    own: bool = False,
) -> dict[str, Any]:
    """A record's state; `own`: answered to its issuing agency (its reference is shown)."""
    revocation = None
    if state.revocation_reason is not None:
        revocation = {
            "reason": state.revocation_reason,
            "reasonText": reason_text(state.revocation_reason),
            "replacement": state.replacement,
            "wholeBatch": state.revoked_whole_batch,
        }
    return {
        "digest": "0x" + state.digest.hex(),
        "digestKind": state.kind,
        "status": state.status,
        "agency": state.agency,
        "agencyName": state.agency_name,
        "submittedAt": state.submitted_at,
        "batch": None if state.batch is None else batch_view(state.batch),
        "revocation": revocation,
        "receipt": None if receipt is None else receipt_to_json(receipt),
        "new": new,
        "reference": state.reference if own else None,
    }


def revocation_view(result: RevocationResult) -> dict[str, Any]:
    return {
        "hash": "0x" + result.hash.hex(),
        "root": "0x" + result.root.hex(),
        "wholeBatch": result.whole_batch,
        "reason": result.reason,
        "reasonText": reason_text(result.reason),
        "replacement": hex_or_none(result.replacement),
        "txHash": hex_or_none(result.tx_hash),
        "blockNumber": result.block_number,
        "already": result.already,
    }


def key_view(key: AgencyKey) -> dict[str, Any]:
    return {
        "publicKey": "0x" + key.public_key.hex(),
        "validFrom": iso(key.valid_from),
        "validUntil": iso(key.valid_until),
        "current": key.valid_until == 0,
    }


def agency_view(agency: PublicAgency) -> dict[str, Any]:
    return {
        "address": agency.address,
        "name": agency.name,
        "status": agency.status,
        "account": agency.account,
        "registeredAt": iso(agency.registered_at),
        "statusChangedAt": iso(agency.status_changed_at),
        "signingKey": "0x" + agency.signing_key.hex(),
        "keys": [key_view(key) for key in agency.keys],
        "issuesHere": agency.issues_here,
    }


def token_view(token: TokenInfo) -> dict[str, Any]:
    def when(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "id": token.id,
        "scope": token.scope,
        "agency": token.agency_address,
        "label": token.label,
        "createdAt": when(token.created_at),
        "revokedAt": when(token.revoked_at),
    }


def trust_list_view(trust: TrustList) -> dict[str, Any]:
    def status(period: StatusPeriod) -> dict[str, str]:
        return {"status": period.name, "since": iso_time(period.since)}

    proof = trust.document.get("proof")
    return {
        "sequence": trust.sequence,
        "operator": trust.operator,
        "territory": trust.territory,
        "issued": iso_time(trust.issued),
        "nextUpdate": iso_time(trust.next_update),
        "digest": "0x" + trust.digest.hex(),
        "signer": proof.get("verificationMethod") if isinstance(proof, dict) else None,
        "registries": [
            {
                "country": entry.country,
                "name": entry.name,
                "registry": entry.registry,
                "chainId": entry.chain_id,
                "address": entry.address,
                "status": status(entry.status),
                "history": [status(period) for period in entry.history],
            }
            for entry in trust.entries
        ],
        "document": trust.document,
    }
