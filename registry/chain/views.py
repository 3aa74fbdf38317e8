"""What the registry's views answer, as plain values, and their decoding from the ABI-decoded
tuples: no web3 here, so that a verifier reading through raw JSON-RPC (`registry.chain.rawrpc`)
does not import it. `registry.chain.contract` re-exports every name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from registry.errors import ChainError, InvalidInput
from registry.types import Address, checksum_address
from registry.vocabulary import AgencyStatus


class MalformedAnswer(ChainError):
    """The node's answer is not well-formed: not JSON-RPC, not hex, or not the view's encoding."""


@dataclass(frozen=True)
class AnchorInfo:
    """`anchorOf(agency, root)`; agency None = not anchored by the agency asked about."""

    agency: Address | None
    anchored_at: int
    block_number: int
    leaf_count: int


@dataclass(frozen=True)
class RevocationInfo:
    """A revocation of a leaf or root; revoked_at 0 = not revoked. `void` (only in `check`
    answers) marks an agency revocation made inside a compromise window: verifiers ignore it."""

    revoked_at: int
    reason: int
    replacement: bytes
    by_authority: bool = False
    void: bool = False

    @property
    def revoked(self) -> bool:
        """Revoked, and not void."""
        return self.revoked_at != 0 and not self.void


@dataclass(frozen=True)
class AgencyInfo:
    """`agencyOf(agency)`: identity, status, times, current transaction account, key, name."""

    address: Address
    status: AgencyStatus
    registered_at: int
    status_changed_at: int
    account: Address | None
    signing_key: bytes
    name: str


@dataclass(frozen=True)
class AccountInfo:
    """`accountOf(account)`: the agency a transaction account acts for (None: none)."""

    agency: Address | None
    active: bool
    retired: bool
    not_before: int


@dataclass(frozen=True)
class Compromise:
    """A compromise window [since, until], inclusive; until 0 = still open."""

    since: int
    until: int

    def holds(self, timestamp: int) -> bool:
        return self.since <= timestamp and (self.until == 0 or timestamp <= self.until)


@dataclass(frozen=True)
class StatusChange:
    """One entry of an agency's status history."""

    status: AgencyStatus
    at: int


@dataclass(frozen=True)
class KeyWindow:
    """`keyOf(agency, key)`: when `key` was that agency's signing key (until 0 = current);
    agency None = never a key of the agency asked about."""

    agency: Address | None
    valid_from: int
    valid_until: int

    def valid_at(self, timestamp: int) -> bool:
        """Whether the key was the agency's key at `timestamp` (block time, in seconds).

        Both ends are inclusive: several blocks can share one second, so an anchor in the very
        second of a rotation is accepted under the old and the new key. That one-second overlap
        grants nothing: only the agency's own account can anchor the root the key signed."""
        if self.agency is None:
            return False
        return self.valid_from <= timestamp and (
            self.valid_until == 0 or timestamp <= self.valid_until
        )


@dataclass(frozen=True)
class CheckResult:
    """`check(agency, leaf, proof, root)`: inclusion, the agency's anchor of the root, the
    agency's status, the compromise window holding the anchor (void_since, 0 = none) and the
    revocations of leaf and root, in one call."""

    included: bool
    anchor: AnchorInfo
    agency_status: AgencyStatus
    agency_status_changed_at: int
    void_since: int
    leaf_revocation: RevocationInfo
    root_revocation: RevocationInfo


@dataclass(frozen=True)
class CheckQuery:
    """The arguments of one `check(agency, leaf, proof, root)`, for `check_many`."""

    agency: str
    leaf: bytes
    proof: Sequence[bytes]
    root: bytes


@dataclass(frozen=True)
class ChecksAt:
    """`check()` answers of several receipts, as of one block (see `check_many`)."""

    results: tuple[CheckResult, ...]
    block: int


@dataclass(frozen=True)
class ReceiptReading:
    """Everything a verifier reads of one receipt, in one request where the node allows:
    `check`, the signing key's window (`keyOf`), the agency (`agencyOf`), and `block`, the
    node's head read first in the same request (the calls saw that block or a later one)."""

    check: CheckResult
    key: KeyWindow
    agency: AgencyInfo
    block: int


ZERO_ADDRESS = "0x" + "00" * 20


def _address(value: str) -> Address | None:
    return None if int(value, 16) == 0 else Address(checksum_address(value))


def _bytes32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise InvalidInput("expected 32 bytes", field=what)
    return bytes(value)


def _status(value: Any, what: str) -> AgencyStatus:
    try:
        return AgencyStatus(int(value))
    except ValueError as exc:
        raise MalformedAnswer(
            f"{what}: agency status {value!r} is not one the registry has"
        ) from exc


def _check_result(address: Address, raw: Sequence[Any]) -> CheckResult:
    """A `CheckResult` struct (9 fields) as decoded."""
    anchored = int(raw[1]) != 0
    return CheckResult(
        included=bool(raw[0]),
        anchor=AnchorInfo(
            agency=address if anchored else None,
            anchored_at=int(raw[1]),
            block_number=int(raw[2]),
            leaf_count=int(raw[3]),
        ),
        agency_status=_status(raw[4], "check"),
        agency_status_changed_at=int(raw[5]),
        void_since=int(raw[6]),
        leaf_revocation=_revocation(raw[7]),
        root_revocation=_revocation(raw[8]),
    )


def _key_window(address: Address, raw: Sequence[Any]) -> KeyWindow:
    """`keyOf`'s (validFrom, validUntil)."""
    return KeyWindow(
        agency=address if int(raw[0]) else None,
        valid_from=int(raw[0]),
        valid_until=int(raw[1]),
    )


def _agency_info(address: Address, raw: Sequence[Any]) -> AgencyInfo:
    """`agencyOf`'s (status, registeredAt, statusChangedAt, account, signingKey, name)."""
    return AgencyInfo(
        address=address,
        status=_status(raw[0], "agencyOf"),
        registered_at=int(raw[1]),
        status_changed_at=int(raw[2]),
        account=_address(raw[3]),
        signing_key=bytes(raw[4]),
        name=str(raw[5]),
    )


def _revocation(raw: Sequence[Any]) -> RevocationInfo:
    """A `RevocationView` tuple (revokedAt, reason, byAuthority, isVoid, replacement)."""
    return RevocationInfo(
        revoked_at=int(raw[0]),
        reason=int(raw[1]),
        by_authority=bool(raw[2]),
        void=bool(raw[3]),
        replacement=bytes(raw[4]),
    )
