"""Typed bindings for the RecordRegistry contract: deploy, attach (with an identity check),
every transaction and view, and the event log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from registry.chain.artifact import registry_artifact
from registry.chain.lean import (
    LeanReader,
    agency_of_call,
    check_call,
    key_of_call,
)
from registry.chain.node import Node
from registry.chain.tx import (
    TxOptions,
    TxResult,
    revert_to_error,
    reverts,
    rpc_errors,
    send_transaction,
)
from registry.chain.views import (
    ZERO_ADDRESS as ZERO_ADDRESS,
)

# The views' values live in registry.chain.views (no web3 there); re-exported here.
from registry.chain.views import (
    AccountInfo as AccountInfo,
)
from registry.chain.views import (
    AgencyInfo as AgencyInfo,
)
from registry.chain.views import (
    AnchorInfo as AnchorInfo,
)
from registry.chain.views import (
    CheckQuery as CheckQuery,
)
from registry.chain.views import (
    CheckResult as CheckResult,
)
from registry.chain.views import (
    ChecksAt as ChecksAt,
)
from registry.chain.views import (
    Compromise as Compromise,
)
from registry.chain.views import (
    KeyWindow as KeyWindow,
)
from registry.chain.views import (
    ReceiptReading as ReceiptReading,
)
from registry.chain.views import (
    RevocationInfo as RevocationInfo,
)
from registry.chain.views import (
    StatusChange as StatusChange,
)
from registry.chain.views import (
    _address,
    _agency_info,
    _bytes32,
    _check_result,
    _key_window,
)
from registry.errors import InvalidInput, RegistryNotFound, WrongChain
from registry.types import Address
from registry.vocabulary import AgencyStatus as AgencyStatus  # re-exported
from registry.vocabulary import Reason as Reason  # re-exported


def _checksum(value: str, what: str) -> Address:
    if not isinstance(value, str) or not Web3.is_address(value):
        raise InvalidInput(f"{what} {value!r}: not a 20-byte hex address")
    return Web3.to_checksum_address(value)


class RegistryContract:
    """A RecordRegistry deployment on one chain. Create with `deploy` or `at`."""

    def __init__(self, w3: Web3, address: str, *, options: TxOptions | None = None) -> None:
        self._w3 = w3
        self.node = Node(w3)
        """The node this registry lives on: heads, block times, nonces, logs, sending."""
        self.address = Address(Web3.to_checksum_address(address))
        self.abi = registry_artifact().abi
        self._contract: Contract = w3.eth.contract(address=self.address, abi=self.abi)  # type: ignore[call-overload]
        self.options = options or TxOptions()
        self.chain_id = int(w3.eth.chain_id)
        self._lean = LeanReader(w3, self.address)

    @property
    def w3(self) -> Web3:
        """The Web3 of the node this registry lives on."""
        return self._w3

    # ------------------------------------------------------------- creation

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        deployer: LocalAccount,
        *,
        admin: str | None = None,
        options: TxOptions | None = None,
    ) -> tuple[RegistryContract, TxResult]:
        """Deploy a new registry; `admin` (default: the deployer) is the registry authority."""
        options = options or TxOptions()
        art = registry_artifact()
        factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        call = factory.constructor(Web3.to_checksum_address(admin or deployer.address))
        result = send_transaction(
            w3, deployer, call, abi=art.abi, action="deploy RecordRegistry", options=options
        )
        with rpc_errors("deploy RecordRegistry"):
            receipt = w3.eth.get_transaction_receipt(HexBytes(result.tx_hash))
        address = receipt["contractAddress"]
        if address is None:
            raise RegistryNotFound("deployment mined but the receipt names no contract address")
        return cls(w3, address, options=options), result

    @classmethod
    def at(
        cls,
        w3: Web3,
        address: str,
        *,
        chain_id: int | None = None,
        options: TxOptions | None = None,
    ) -> RegistryContract:
        """Attach to an existing registry, refusing a wrong chain or an address that does not
        hold exactly our registry's runtime code (a look-alike contract is not trusted)."""
        if not Web3.is_address(address):
            raise InvalidInput(f"registry address {address!r}: not a 20-byte hex address")
        with rpc_errors("connect to registry"):
            actual_chain = int(w3.eth.chain_id)
            code = bytes(w3.eth.get_code(Web3.to_checksum_address(address)))
        if chain_id is not None and actual_chain != chain_id:
            raise WrongChain(
                f"node is on chain id {actual_chain} but the registry is configured for chain id "
                f"{chain_id}; point --rpc at the right chain"
            )
        if not code:
            raise RegistryNotFound(
                f"no contract at {address} on chain {actual_chain}; check --registry, or deploy "
                "one with `registry deploy`"
            )
        if keccak(code) != registry_artifact().deployed_code_hash:
            raise RegistryNotFound(
                f"the contract at {address} on chain {actual_chain} is not this RecordRegistry "
                "(runtime code hash differs); check --registry"
            )
        return cls(w3, address, options=options)

    def attach(self, address: str, *, chain_id: int | None = None) -> RegistryContract:
        """Another registry on the same node (identity-checked like `at`), with these options."""
        return RegistryContract.at(self._w3, address, chain_id=chain_id, options=self.options)

    def code_at(self, block: int | str = "latest") -> bytes:
        """This registry's runtime code at `block` (empty: not deployed yet)."""
        return self.node.code(self.address, block=block)

    def event_topics(self, names: Sequence[str]) -> dict[bytes, Any]:
        """The first topic (keccak of the signature) of each named event, with its decoder."""
        events = {}
        for name in names:
            event = self._contract.events[name]()
            events[bytes(Web3.keccak(text=event.signature))] = event
        return events

    # ------------------------------------------------------------------ txs

    def _send(self, account: LocalAccount, call: Any, action: str) -> TxResult:
        return send_transaction(
            self._w3, account, call, abi=self.abi, action=action, options=self.options
        )

    def register_agency(
        self, admin: LocalAccount, *, account: str, name: str, signing_key: bytes
    ) -> TxResult:
        """Register `account` as an agency named `name` with its first Ed25519 key; the address
        is the agency's identity for good."""
        key = _bytes32(signing_key, "signing key")
        call = self._contract.functions.registerAgency(_checksum(account, "agency"), name, key)
        return self._send(admin, call, f"registerAgency({account})")

    def suspend_agency(self, admin: LocalAccount, agency: str) -> TxResult:
        call = self._contract.functions.suspendAgency(_checksum(agency, "agency"))
        return self._send(admin, call, f"suspendAgency({agency})")

    def reinstate_agency(self, admin: LocalAccount, agency: str) -> TxResult:
        call = self._contract.functions.reinstateAgency(_checksum(agency, "agency"))
        return self._send(admin, call, f"reinstateAgency({agency})")

    def mark_compromised(self, admin: LocalAccount, agency: str, *, since: int) -> TxResult:
        """Void the agency's anchors and revocations from `since` (Unix seconds) on."""
        call = self._contract.functions.markCompromised(_checksum(agency, "agency"), int(since))
        return self._send(admin, call, f"markCompromised({agency}, {since})")

    def move_agency(self, admin: LocalAccount, agency: str, *, new_account: str) -> TxResult:
        """Move the agency to a new transaction account (identity and history kept)."""
        call = self._contract.functions.moveAgency(
            _checksum(agency, "agency"), _checksum(new_account, "new account")
        )
        return self._send(admin, call, f"moveAgency({agency} -> {new_account})")

    def propose_signing_key(self, agency: LocalAccount, new_key: bytes) -> TxResult:
        """The agency proposes a new signing key; it counts once the authority confirms it."""
        call = self._contract.functions.proposeSigningKey(_bytes32(new_key, "new signing key"))
        return self._send(agency, call, "proposeSigningKey")

    def confirm_signing_key(self, admin: LocalAccount, agency: str, key: bytes) -> TxResult:
        """The authority confirms the key the agency proposed: the rotation happens now."""
        call = self._contract.functions.confirmSigningKey(
            _checksum(agency, "agency"), _bytes32(key, "signing key")
        )
        return self._send(admin, call, f"confirmSigningKey({agency})")

    def rotate_signing_key(
        self, agency: LocalAccount, admin: LocalAccount, new_key: bytes
    ) -> tuple[TxResult, TxResult]:
        """Propose (agency) then confirm (authority) a new signing key."""
        proposed = self.propose_signing_key(agency, new_key)
        identity = self.account_of(agency.address).agency or agency.address
        return proposed, self.confirm_signing_key(admin, identity, new_key)

    def anchor_call(self, root: bytes, leaf_count: int) -> Any:
        """The unsent `anchor` call, for callers that sign and track the tx themselves."""
        if not 0 < leaf_count < 2**32:
            raise InvalidInput(f"leaf count {leaf_count}: must be between 1 and 2**32-1")
        return self._contract.functions.anchor(_bytes32(root, "root"), leaf_count)

    def anchor(self, agency: LocalAccount, *, root: bytes, leaf_count: int) -> TxResult:
        """Anchor a batch root with its record count, in the caller's agency's namespace."""
        return self._send(agency, self.anchor_call(root, leaf_count), f"anchor(0x{root.hex()})")

    def revoke(
        self,
        agency: LocalAccount,
        *,
        root: bytes,
        leaf: bytes,
        proof: Sequence[bytes],
        reason: int,
        replacement: bytes = b"\0" * 32,
    ) -> TxResult:
        """Revoke a record (leaf + proof) or a whole batch (leaf == root, empty proof, sent as
        the cheaper `revokeBatch`; a whole batch cannot be superseded)."""
        if bytes(leaf) == bytes(root) and not proof and not any(replacement):
            call = self._contract.functions.revokeBatch(_bytes32(root, "root"), int(reason))
            return self._send(agency, call, f"revokeBatch(0x{root.hex()})")
        call = self._contract.functions.revoke(
            _bytes32(root, "root"),
            _bytes32(leaf, "leaf"),
            [_bytes32(p, f"proof[{i}]") for i, p in enumerate(proof)],
            int(reason),
            _bytes32(replacement, "replacement"),
        )
        return self._send(agency, call, f"revoke(0x{leaf.hex()})")

    def revoke_by_authority(
        self,
        admin: LocalAccount,
        *,
        agency: str,
        root: bytes,
        leaf: bytes,
        proof: Sequence[bytes],
        reason: int,
    ) -> TxResult:
        """The authority revokes any record or batch of `agency` (never void; no replacement)."""
        call = self._contract.functions.revokeByAuthority(
            _checksum(agency, "agency"),
            _bytes32(root, "root"),
            _bytes32(leaf, "leaf"),
            [_bytes32(p, f"proof[{i}]") for i, p in enumerate(proof)],
            int(reason),
        )
        return self._send(admin, call, f"revokeByAuthority(0x{leaf.hex()})")

    # ---------------------------------------------------------------- views

    def _view(self, call: Any, what: str) -> Any:
        with rpc_errors(what):
            try:
                return call.call()
            except reverts() as exc:
                raise revert_to_error(self.abi, exc, what) from exc

    def anchor_of(self, agency: str, root: bytes) -> AnchorInfo:
        address = _checksum(agency, "agency")
        call = self._contract.functions.anchorOf(address, _bytes32(root, "root"))
        raw = self._view(call, "anchorOf")
        anchored = int(raw[0]) != 0
        return AnchorInfo(
            agency=address if anchored else None,
            anchored_at=int(raw[0]),
            block_number=int(raw[1]),
            leaf_count=int(raw[2]),
        )

    def revocation_of(self, agency: str, hash_: bytes) -> RevocationInfo:
        """The stored revocation (`void` is not computed here: see `check`)."""
        call = self._contract.functions.revocationOf(
            _checksum(agency, "agency"), _bytes32(hash_, "hash")
        )
        raw = self._view(call, "revocationOf")
        return RevocationInfo(
            revoked_at=int(raw[0]),
            reason=int(raw[1]),
            by_authority=bool(raw[2]),
            replacement=bytes(raw[3]),
        )

    def agency_of(self, agency: str) -> AgencyInfo:
        address = _checksum(agency, "agency")
        return _agency_info(address, self._lean.call(agency_of_call(address)))

    def account_of(self, account: str) -> AccountInfo:
        address = _checksum(account, "account")
        raw = self._view(self._contract.functions.accountOf(address), "accountOf")
        return AccountInfo(
            agency=_address(raw[0]),
            active=bool(raw[1]),
            retired=bool(raw[2]),
            not_before=int(raw[3]),
        )

    def pending_key_of(self, agency: str) -> bytes | None:
        raw = self._view(
            self._contract.functions.pendingKeyOf(_checksum(agency, "agency")), "pendingKeyOf"
        )
        return bytes(raw) if any(raw) else None

    def key_of(self, agency: str, key: bytes) -> KeyWindow:
        address = _checksum(agency, "agency")
        return _key_window(address, self._lean.call(key_of_call(address, key)))

    def compromises_of(self, agency: str) -> list[Compromise]:
        call = self._contract.functions.compromisesOf(_checksum(agency, "agency"))
        return [Compromise(int(w[0]), int(w[1])) for w in self._view(call, "compromisesOf")]

    def status_history_of(self, agency: str) -> list[StatusChange]:
        call = self._contract.functions.statusHistoryOf(_checksum(agency, "agency"))
        return [
            StatusChange(AgencyStatus(int(c[0])), int(c[1]))
            for c in self._view(call, "statusHistoryOf")
        ]

    def check(
        self, *, agency: str, leaf: bytes, proof: Sequence[bytes], root: bytes
    ) -> CheckResult:
        """Inclusion + the agency's anchor + status + compromise + revocations, in one eth_call."""
        address = _checksum(agency, "agency")
        raw = self._lean.call(check_call(agency=address, leaf=leaf, proof=proof, root=root))
        return _check_result(address, raw[0])

    def check_many(self, items: Sequence[CheckQuery], *, block: int | None = None) -> ChecksAt:
        """`check()` of each item, in as few JSON-RPC requests as the node allows (batches of
        `lean.MAX_BATCH` calls when it takes batches), as of one block: `block` when given
        (every call is made at that block), else the node's head read first in the same
        request (the calls saw that block or a later one)."""
        addresses = [_checksum(q.agency, "agency") for q in items]
        calls = [
            check_call(agency=a, leaf=q.leaf, proof=q.proof, root=q.root)
            for a, q in zip(addresses, items, strict=True)
        ]
        if block is None:
            raws, head = self._lean.calls_with_head(calls)
        else:
            raws, head = self._lean.calls(calls, block=block), block
        results = tuple(_check_result(a, r[0]) for a, r in zip(addresses, raws, strict=True))
        return ChecksAt(results, head)

    def read_receipt(
        self, *, agency: str, leaf: bytes, proof: Sequence[bytes], root: bytes, public_key: bytes
    ) -> ReceiptReading:
        """`check`, `keyOf(agency, public_key)` and `agencyOf(agency)` of one receipt with the
        node's head, in one JSON-RPC batch request where the node takes batches."""
        address = _checksum(agency, "agency")
        calls = [
            check_call(agency=address, leaf=leaf, proof=proof, root=root),
            key_of_call(address, public_key),
            agency_of_call(address),
        ]
        (checked, key, info), head = self._lean.calls_with_head(calls)
        return ReceiptReading(
            check=_check_result(address, checked[0]),
            key=_key_window(address, key),
            agency=_agency_info(address, info),
            block=head,
        )

    def is_admin(self, account: str) -> bool:
        role = self._view(self._contract.functions.DEFAULT_ADMIN_ROLE(), "DEFAULT_ADMIN_ROLE")
        call = self._contract.functions.hasRole(role, Web3.to_checksum_address(account))
        return bool(self._view(call, "hasRole"))
