"""Revoking and superseding: an agency revokes one of its own records (by digest) or a whole
batch. Ownership is checked in the store before any transaction is sent — and the contract
refuses another agency's root anyway. The Merkle proof comes from the store."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from registry import merkle
from registry.chain import RegistryContract
from registry.chain.contract import Reason
from registry.errors import InvalidInput
from registry.store import Store, repo
from registry.store.errors import NotFound, WrongAgency
from registry.store.models import BatchState


@dataclass(frozen=True)
class RevocationResult:
    """What was revoked, and where on chain."""

    hash: bytes
    root: bytes
    whole_batch: bool
    reason: int
    replacement: bytes | None
    tx_hash: bytes | None
    block_number: int
    already: bool = False


def _reason(reason: int, replacement: bytes | None) -> None:
    if reason not in set(Reason):
        raise InvalidInput(
            f"reason {reason}: expected 1..5 (1 issued in error, 2 superseded, "
            "3 fraud, 4 withdrawn, 5 court order)"
        )
    if reason == Reason.SUPERSEDED and replacement is None:
        raise InvalidInput("reason 2 (superseded) needs the replacement record's digest")
    if replacement is not None and len(replacement) != 32:
        raise InvalidInput("replacement: expected a 32-byte digest")


def revoke_record(
    *,
    store: Store,
    registry: RegistryContract,
    account: LocalAccount,
    agency_id: int,
    digest: bytes,
    reason: int,
    replacement: bytes | None = None,
) -> RevocationResult:
    """Revoke (or supersede, reason 2 + replacement) one anchored record of this agency."""
    _reason(reason, replacement)
    with store.session() as session:
        record = repo.record_by_digest(session, digest)
        if record is None:
            raise NotFound(f"no record with digest 0x{digest.hex()} in this registry's store")
        if record.agency_id != agency_id:
            raise WrongAgency(
                f"record 0x{digest.hex()} was issued by another agency; only the issuing "
                "agency may revoke it"
            )
        if record.batch_id is None:
            raise InvalidInput(f"record 0x{digest.hex()} is not anchored yet ({record.status})")
        batch = repo.batch_by_id(session, record.batch_id)
        assert batch is not None
        if batch.state != BatchState.CONFIRMED:
            raise InvalidInput(f"record 0x{digest.hex()}'s batch is {batch.state}, not anchored")
        digests = repo.batch_digests(session, batch.id)
        root, batch_id, index, record_id = bytes(batch.root), batch.id, record.leaf_index, record.id
    assert index is not None
    tree = merkle.MerkleTree.from_digests(digests)
    leaf = tree.leaf(index)
    return _send(
        store=store,
        registry=registry,
        account=account,
        agency_id=agency_id,
        batch_id=batch_id,
        record_id=record_id,
        root=root,
        leaf=leaf,
        proof=tree.proof(index),
        reason=reason,
        replacement=replacement,
    )


def revoke_batch(
    *,
    store: Store,
    registry: RegistryContract,
    account: LocalAccount,
    agency_id: int,
    root: bytes,
    reason: int,
    replacement: bytes | None = None,
) -> RevocationResult:
    """Revoke every record of one of this agency's batches at once (leaf = root, no proof)."""
    _reason(reason, replacement)
    with store.session() as session:
        batch = repo.batch_by_root(session, root)
        if batch is None:
            raise NotFound(f"no batch with root 0x{root.hex()} in this registry's store")
        if batch.agency_id != agency_id:
            raise WrongAgency(f"batch 0x{root.hex()} belongs to another agency; refusing")
        batch_id = batch.id
    return _send(
        store=store,
        registry=registry,
        account=account,
        agency_id=agency_id,
        batch_id=batch_id,
        record_id=None,
        root=root,
        leaf=root,
        proof=[],
        reason=reason,
        replacement=replacement,
    )


def _send(
    *,
    store: Store,
    registry: RegistryContract,
    account: LocalAccount,
    agency_id: int,
    batch_id: int,
    record_id: int | None,
    root: bytes,
    leaf: bytes,
    proof: list[bytes],
    reason: int,
    replacement: bytes | None,
) -> RevocationResult:
    with store.session() as session:
        revocation = repo.add_revocation(
            session,
            agency_id=agency_id,
            batch_id=batch_id,
            hash=leaf,
            reason=reason,
            replacement=replacement,
            record_id=record_id,
        )
        revocation_id = revocation.id
    on_chain = registry.revocation_of(account.address, leaf)
    if on_chain.revoked:  # sent before (a retry after a crash): only record it
        with store.session() as session:
            repo.confirm_revocation(session, revocation_id, block_number=0)
        return RevocationResult(
            leaf, root, leaf == root, on_chain.reason, replacement, None, 0, already=True
        )
    result = registry.revoke(
        account,
        root=root,
        leaf=leaf,
        proof=proof,
        reason=reason,
        replacement=replacement or b"\0" * 32,
    )
    with store.session() as session:
        repo.confirm_revocation(
            session, revocation_id, block_number=result.block_number, tx_hash=result.tx_hash
        )
    return RevocationResult(
        leaf, root, leaf == root, reason, replacement, result.tx_hash, result.block_number
    )
