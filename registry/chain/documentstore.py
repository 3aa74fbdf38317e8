"""OpenAttestation's DocumentStore, read-only: is a Merkle root issued, is a hash revoked.

An OpenAttestation (OA) v2 issuer anchors a batch by `issue(merkleRoot)` on its DocumentStore
and withdraws a document, part of a batch or the whole batch by `revoke(hash)`; oa-verify asks
`isIssued(merkleRoot)` and `isRevoked(h)` for the document's target hash and every hash up its
proof. The views read here exist, with these signatures, in every published DocumentStore
(npm `@govtechsg/document-store` 1.x to 3.0.0, `@tradetrust-tt/document-store` 4.x):

* `isIssued(bytes32) -> bool`, `isRevoked(bytes32) -> bool`;
* `documentIssued(bytes32) -> uint256`: the public mapping behind isIssued, the block the
  hash was issued in (0: not issued), for a verifier that must know when.

None of those packages offers a batch read: `bulkIssue` and `bulkRevoke` write, and
`supportsInterface` (ERC-165, from OpenZeppelin's AccessControl) answers only for
IAccessControl and ERC-165 itself, so there is no interface to ask it about. Every question
about one document therefore goes to the node as one JSON-RPC batch request of `eth_call`s
(with the head block read first in it), through the same lean reader as the registry's views
(`registry.chain.lean`): calldata packed by hand (a selector and one word), answers decoded
word by word; a node that refuses batches is asked one call at a time.

Errors are the project's: an unreachable node is ChainUnavailable, a JSON-RPC error a
ChainError, an answer that is not the view's encoding MalformedAnswer, and an address
without a contract (an `eth_call` answering no data) NotADocumentStore.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from eth_utils.crypto import keccak
from web3 import Web3

from registry.chain.lean import MAX_BATCH, Call, LeanReader, MalformedAnswer, View
from registry.chain.node import Node
from registry.errors import InvalidInput
from registry.types import Address

__all__ = [
    "DOCUMENT_ISSUED",
    "IS_ISSUED",
    "IS_REVOKED",
    "DocumentStore",
    "NotADocumentStore",
    "StoreReading",
]


class NotADocumentStore(MalformedAnswer):
    """The address holds no contract on this chain: its views answer no data."""


def _bool(data: bytes) -> tuple[bool]:
    word = data[:32]
    if len(word) < 32 or any(word[:31]) or word[31] > 1:
        raise MalformedAnswer(f"bool answer {data[:32].hex()} is neither 0 nor 1")
    return (word[31] == 1,)


def _uint256(data: bytes) -> tuple[int]:
    if len(data) < 32:
        raise MalformedAnswer(f"{len(data)} bytes, fewer than the 32 of a uint256")
    return (int.from_bytes(data[:32], "big"),)


@dataclass(frozen=True)
class _StoreView(View):
    """A DocumentStore view: an empty answer means no contract at the address."""

    def decode(self, data: bytes) -> tuple[bool | int, ...]:
        if not data:
            raise NotADocumentStore(
                f"{self.name}: the node returned no data: no contract at that address on "
                "this chain (not a DocumentStore)"
            )
        return super().decode(data)


def _view(signature: str, output: str) -> View:
    name = signature.partition("(")[0]
    static = _bool if output == "bool" else _uint256
    return _StoreView(name, keccak(text=signature)[:4], (output,), static)


IS_ISSUED: Final = _view("isIssued(bytes32)", "bool")
IS_REVOKED: Final = _view("isRevoked(bytes32)", "bool")
DOCUMENT_ISSUED: Final = _view("documentIssued(bytes32)", "uint256")


def _call(view: View, document: bytes, *, what: str) -> Call:
    if not isinstance(document, bytes | bytearray) or len(document) != 32:
        raise InvalidInput("expected 32 bytes", field=what)
    return Call(view, view.selector + bytes(document))


@dataclass(frozen=True)
class StoreReading:
    """What a DocumentStore says about one document, all read at one block or later."""

    block: int
    """The node's head, read first in the same request."""
    issued: bool
    """`isIssued` of the hash asked about (the batch's Merkle root)."""
    revoked: tuple[bool, ...]
    """`isRevoked` of each hash asked about, in the order asked."""
    issued_block: int | None = None
    """`documentIssued`: the block the root was issued in (0: not issued); None when not
    asked."""


class DocumentStore:
    """One DocumentStore deployment on the node behind a `Web3`: its views only."""

    def __init__(self, w3: Web3, address: str, *, max_batch: int = MAX_BATCH) -> None:
        self.address = Address(Web3.to_checksum_address(address))
        self.w3 = w3
        self._lean = LeanReader(w3, self.address, max_batch=max_batch)

    def is_issued(self, document: bytes) -> bool:
        """`isIssued(document)`: the hash (a batch's Merkle root) was issued."""
        return bool(self._lean.call(_call(IS_ISSUED, document, what="document"))[0])

    def is_revoked(self, document: bytes) -> bool:
        """`isRevoked(document)`: the hash (a target hash, a node, a root) was revoked."""
        return bool(self._lean.call(_call(IS_REVOKED, document, what="document"))[0])

    def issued_block(self, document: bytes) -> int:
        """`documentIssued(document)`: the block it was issued in, 0 when it was not."""
        return int(self._lean.call(_call(DOCUMENT_ISSUED, document, what="document"))[0])

    def read(
        self, *, root: bytes, revocation: Sequence[bytes], when_issued: bool = False
    ) -> StoreReading:
        """`isIssued(root)`, `isRevoked(h)` for each of `revocation` and, with `when_issued`,
        `documentIssued(root)`: one JSON-RPC batch request (the head block first) where the
        node takes batches."""
        calls = [_call(IS_ISSUED, root, what="root")]
        calls += [_call(IS_REVOKED, h, what=f"revocation[{i}]") for i, h in enumerate(revocation)]
        if when_issued:
            calls.append(_call(DOCUMENT_ISSUED, root, what="root"))
        answers, head = self._lean.calls_with_head(calls)
        revoked = tuple(bool(a[0]) for a in answers[1 : 1 + len(revocation)])
        return StoreReading(
            block=head,
            issued=bool(answers[0][0]),
            revoked=revoked,
            issued_block=int(answers[-1][0]) if when_issued else None,
        )

    def chain_id(self) -> int:
        """The chain id of the node the store is read on."""
        return Node(self.w3).chain_id()

    def block_time(self, number: int) -> int:
        """The time (Unix seconds) of block `number`, e.g. the one a root was issued in."""
        return Node(self.w3).block_time(number)
