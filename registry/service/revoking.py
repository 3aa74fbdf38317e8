"""Revoking and superseding: an agency revokes one of its own records (by digest) or a whole
batch; the registry authority revokes any record or batch (court order). Everything is checked
in the store before any transaction is sent: the record is the agency's own (another agency's
record is "not found", its ids never named), and a replacement is a record of the same
agency, anchored or pending, not revoked and not the record itself. The contract scopes
revocations to the agency anyway. The Merkle proof comes from the store (kinds bound into the
leaves)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount

from registry.chain import RegistryContract
from registry.errors import InvalidInput, UnknownAgency
from registry.service.receipts import batch_tree
from registry.store import Store, repo
from registry.store.errors import NotFound
from registry.store.models import BatchState, RecordStatus
from registry.vocabulary import Reason, reasons_listed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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
    by_authority: bool = False


class InvalidReplacement(InvalidInput):
    """A supersession names a replacement that is not a live record of the same agency."""


_REASONS = f"expected 1..{max(Reason)} ({reasons_listed(short=True)})"


def _reason(reason: int, replacement: bytes | None) -> None:
    if reason not in set(Reason):
        raise InvalidInput(f"reason {reason}: {_REASONS}")
    if reason == Reason.SUPERSEDED and replacement is None:
        raise InvalidInput("reason 2 (superseded) needs the replacement record's digest")
    if reason != Reason.SUPERSEDED and replacement is not None:
        raise InvalidInput(
            f"reason {reason} takes no replacement: only reason 2 (superseded) names one"
        )
    if replacement is not None and len(replacement) != 32:
        raise InvalidInput("replacement: expected a 32-byte digest")


def _check_replacement(
    session: Session, *, agency_id: int, digest: bytes, replacement: bytes
) -> None:
    """The replacement must be a record of the same agency, anchored or pending in the store,
    neither revoked nor the record itself (checked before any transaction)."""
    shown = "0x" + replacement.hex()
    if replacement == digest:
        raise InvalidReplacement(f"replacement {shown} is the record itself")
    new = repo.record_by_digest(session, replacement, agency_id=agency_id)
    if new is None:
        raise InvalidReplacement(
            f"replacement {shown} is not a record of this agency: issue (or submit) the "
            "replacement record first, then supersede"
        )
    if new.status == RecordStatus.REVOKED.value:
        raise InvalidReplacement(f"replacement {shown} is itself revoked")
    if new.batch_id is not None:
        batch = repo.batch_by_id(session, new.batch_id)
        if batch is not None and batch.state == BatchState.FAILED.value:
            raise InvalidReplacement(f"replacement {shown} is in a batch that failed to anchor")


def _identity(session: Session, agency_id: int) -> str:
    agency = repo.agency_by_id(session, agency_id)
    if agency is None:
        raise UnknownAgency(f"agency #{agency_id} is not in the store")
    return agency.address


@dataclass(frozen=True)
class _Target:
    agency: str
    batch_id: int
    record_id: int | None
    root: bytes
    leaf: bytes
    proof: list[bytes]


def _record_target(store: Store, *, agency_id: int, digest: bytes) -> _Target:
    """The agency's anchored record with its proof, from the store."""
    shown = "0x" + digest.hex()
    with store.session() as session:
        agency = _identity(session, agency_id)
        record = repo.record_by_digest(session, digest, agency_id=agency_id)
        if record is None:
            raise NotFound(f"no record with digest {shown} issued by this agency")
        if record.batch_id is None:
            raise InvalidInput(f"record {shown} is not anchored yet ({record.status})")
        batch = repo.batch_by_id(session, record.batch_id)
        assert batch is not None
        if batch.state != BatchState.CONFIRMED:
            raise InvalidInput(f"record {shown}'s batch is {batch.state}, not anchored")
        leaves = repo.batch_leaves(session, batch.id)
        root, batch_id, index, record_id = bytes(batch.root), batch.id, record.leaf_index, record.id
    assert index is not None
    tree = batch_tree(leaves)
    if tree.root != root:
        raise InvalidInput(f"batch of record {shown}: the store's leaves do not give its root")
    return _Target(agency, batch_id, record_id, root, tree.leaf(index), tree.proof(index))


def _batch_target(store: Store, *, agency_id: int, root: bytes) -> _Target:
    with store.session() as session:
        agency = _identity(session, agency_id)
        batch = repo.batch_by_root(session, root, agency_id=agency_id)
        if batch is None:
            raise NotFound(f"no batch with root 0x{root.hex()} anchored by this agency")
        if batch.state != BatchState.CONFIRMED:
            raise InvalidInput(f"batch 0x{root.hex()} is {batch.state}, not anchored")
        batch_id = batch.id
    return _Target(agency, batch_id, None, root, root, [])


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
    if replacement is not None:
        with store.session() as session:
            _check_replacement(session, agency_id=agency_id, digest=digest, replacement=replacement)
    target = _record_target(store, agency_id=agency_id, digest=digest)
    return _send(
        store=store,
        registry=registry,
        account=account,
        agency_id=agency_id,
        target=target,
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
    """Revoke every record of one of this agency's batches at once (leaf = root, no proof).
    Superseding needs a replacement per record, so reason 2 is refused (as on chain)."""
    if reason == Reason.SUPERSEDED:
        raise InvalidInput(
            "a whole batch cannot be superseded (each record needs its own replacement): "
            "supersede its records one by one, or revoke the batch with another reason"
        )
    _reason(reason, replacement)
    target = _batch_target(store, agency_id=agency_id, root=root)
    return _send(
        store=store,
        registry=registry,
        account=account,
        agency_id=agency_id,
        target=target,
        reason=reason,
        replacement=None,
    )


def revoke_by_authority(
    *,
    store: Store,
    registry: RegistryContract,
    admin: LocalAccount,
    agency_id: int,
    digest: bytes,
    reason: int,
    batch: bool = False,
) -> RevocationResult:
    """The registry authority revokes one of the agency's records (or, with `batch`, the batch
    whose root is `digest`): never void, overrides the agency's own revocation. No
    supersession (reason 2 refused: only the agency names its replacement)."""
    if reason == Reason.SUPERSEDED:
        raise InvalidInput(
            "the authority does not supersede (reason 2): the agency supersedes its own "
            "records; pick 1, 3, 4 or 5"
        )
    _reason(reason, None)
    if batch:
        target = _batch_target(store, agency_id=agency_id, root=digest)
    else:
        target = _record_target(store, agency_id=agency_id, digest=digest)
    with store.session() as session:
        revocation_id = repo.add_revocation(
            session,
            agency_id=agency_id,
            batch_id=target.batch_id,
            hash=target.leaf,
            reason=reason,
            record_id=target.record_id,
            by_authority=True,
        ).id
    whole = target.leaf == target.root
    on_chain = registry.revocation_of(target.agency, target.leaf)
    if on_chain.by_authority:
        with store.session() as session:
            repo.confirm_revocation(session, revocation_id, block_number=0)
        return RevocationResult(
            target.leaf, target.root, whole, on_chain.reason, None, None, 0, True, True
        )
    result = registry.revoke_by_authority(
        admin,
        agency=target.agency,
        root=target.root,
        leaf=target.leaf,
        proof=target.proof,
        reason=reason,
    )
    with store.session() as session:
        repo.confirm_revocation(
            session, revocation_id, block_number=result.block_number, tx_hash=result.tx_hash
        )
    return RevocationResult(
        target.leaf,
        target.root,
        whole,
        reason,
        None,
        result.tx_hash,
        result.block_number,
        by_authority=True,
    )


def _send(
    *,
    store: Store,
    registry: RegistryContract,
    account: LocalAccount,
    agency_id: int,
    target: _Target,
    reason: int,
    replacement: bytes | None,
) -> RevocationResult:
    leaf, root = target.leaf, target.root
    with store.session() as session:
        revocation_id = repo.add_revocation(
            session,
            agency_id=agency_id,
            batch_id=target.batch_id,
            hash=leaf,
            reason=reason,
            replacement=replacement,
            record_id=target.record_id,
        ).id
    on_chain = registry.revocation_of(target.agency, leaf)
    if on_chain.revoked_at and not on_chain.by_authority:  # sent before (a retry): record it
        with store.session() as session:
            repo.confirm_revocation(session, revocation_id, block_number=0)
        return RevocationResult(
            leaf, root, leaf == root, on_chain.reason, replacement, None, 0, already=True
        )
    result = registry.revoke(
        account,
        root=root,
        leaf=leaf,
        proof=target.proof,
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
