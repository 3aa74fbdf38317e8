"""OpenAttestation v2 documents verified on a real DocumentStore (npm @govtechsg/document-store
3.0.0, its published bytecode: fixtures/openattestation/documentstore) deployed on anvil, with
the documents the real OA library wrapped (fixtures/openattestation/generated): issued,
revoked (a document, an intermediate node, a whole batch), not issued, tampered, obfuscated,
untrusted, a look-alike store, several issuers, a node that is down. OA's own published
fixtures name stores on public chains: they are used for the offline part only."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from web3 import Web3

from registry.chain import connect
from registry.chain import lean as lean_module
from registry.chain.devnode import AnvilNode, free_port, start_anvil
from registry.chain.documentstore import DocumentStore, NotADocumentStore
from registry.checks import CheckStatus
from registry.errors import ChainUnavailable, InvalidInput, NoNodeForChain
from registry.openattestation import (
    OA_V2_SCHEMA_ID,
    compute_target_hash,
    parse_wrapped_v2,
    salt,
)
from registry.service.oa_verify import (
    DEFAULT_NODE,
    IDENTITY,
    IDENTITY_OUT_OF_SCOPE,
    verify_wrapped,
)
from registry.service.verify import NODE_UNREACHABLE, Outcome, TrustedRegistry, Verification
from registry.trustlist import GRANTED, WITHDRAWN, RegistryEntry, StatusPeriod

pytestmark = pytest.mark.anvil

FIXTURES = Path(__file__).parent / "fixtures" / "openattestation"
GENERATED = FIXTURES / "generated"
MANIFEST: dict[str, Any] = json.loads((GENERATED / "manifest.json").read_text())
ARTIFACT_DIR = FIXTURES / "documentstore"
ARTIFACT: dict[str, Any] = json.loads((ARTIFACT_DIR / "DocumentStore.json").read_text())

CHAIN_ID = 31337
# make_fixtures.mjs names the stores a fresh anvil's first dev account deploys first and third.
BATCH_STORE = "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # batch5-*, quirk-*: nonce 0
LOOKALIKE = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"  # the same contract, nonce 1
BIRTHS_STORE = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"  # batch3-*, obfuscated-*: nonce 2
NO_CONTRACT = "0x000000000000000000000000000000000000dEaD"

BATCH3 = [f"batch3-{i}.json" for i in range(3)]
BATCH5 = [f"batch5-{i}.json" for i in range(5)]
CHECK_ORDER = ["format", "integrity", "inclusion", "trust", "anchored", "revocation", IDENTITY]


def generated(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((GENERATED / name).read_text())
    return document


def published(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return document


def root_of(name: str) -> bytes:
    return bytes.fromhex(MANIFEST["documents"][name]["issuedHash"][2:])


def target_of(name: str) -> bytes:
    return bytes.fromhex(generated(name)["signature"]["targetHash"])


def wrap_alone(data: dict[str, Any]) -> dict[str, Any]:
    """`data` salted and wrapped as a batch of one (targetHash = merkleRoot), as OA's
    wrapDocument does; our hashing is checked against OA's in test_openattestation.py."""
    salted = salt(data)
    target = compute_target_hash(salted).hex()
    return {
        "version": OA_V2_SCHEMA_ID,
        "data": salted,
        "signature": {
            "type": "SHA3MerkleProof",
            "targetHash": target,
            "proof": [],
            "merkleRoot": target,
        },
    }


def issuer(name: str, store: str) -> dict[str, Any]:
    return {
        "name": name,
        "documentStore": store,
        "identityProof": {"type": "DNS-TXT", "location": "example.openattestation.com"},
    }


def resalt(value: str, new_value: str) -> str:
    uuid_part, kind, _ = value.split(":", 2)
    return f"{uuid_part}:{kind}:{new_value}"


# --------------------------------------------------------------------------- the chain


@dataclass
class OAChain:
    """A fresh anvil with three DocumentStores deployed by its first dev account."""

    node: AnvilNode
    w3: Web3
    dev: str
    stores: dict[str, Any] = field(default_factory=dict)

    def deploy(self, name: str) -> str:
        factory = self.w3.eth.contract(abi=ARTIFACT["abi"], bytecode=ARTIFACT["bytecode"])
        tx = factory.constructor(name, self.dev).transact({"from": self.dev})
        address = str(self.w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])
        self.stores[address] = self.w3.eth.contract(address=address, abi=ARTIFACT["abi"])
        return address

    def _send(self, store: str, function: str, document: bytes) -> None:
        call = getattr(self.stores[store].functions, function)(document)
        tx = call.transact({"from": self.dev})
        assert self.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    def issue(self, store: str, root: bytes) -> None:
        self._send(store, "issue", root)

    def revoke(self, store: str, document: bytes) -> None:
        self._send(store, "revoke", document)


@pytest.fixture(scope="module")
def oa_chain() -> Iterator[OAChain]:
    """A dedicated anvil: the stores must land at the addresses the fixtures name, which
    are the first dev account's nonces 0 and 2 on a fresh chain."""
    node = start_anvil()
    try:
        w3 = connect(node.url)
        dev = w3.eth.accounts[0]
        assert w3.eth.get_transaction_count(dev) == 0, "the dev account must be fresh"
        chain = OAChain(node, w3, dev)
        for expected, name in [
            (BATCH_STORE, "Batch Issuer"),
            (LOOKALIKE, "Batch Issuer"),
            (BIRTHS_STORE, "Registry of Births"),
        ]:
            assert chain.deploy(name) == expected
        yield chain
    finally:
        node.stop()


@pytest.fixture
def chain(oa_chain: OAChain) -> Iterator[OAChain]:
    """The stores deployed, nothing issued; rolled back when the test ends."""
    snapshot = oa_chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield oa_chain
    oa_chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


@pytest.fixture
def issued(chain: OAChain) -> OAChain:
    """Both generated batches issued on their stores, as OA's issuer would."""
    chain.issue(BIRTHS_STORE, root_of("batch3-0.json"))
    chain.issue(BATCH_STORE, root_of("batch5-0.json"))
    return chain


TRUSTED = [TrustedRegistry(CHAIN_ID, BIRTHS_STORE), TrustedRegistry(CHAIN_ID, BATCH_STORE)]


@dataclass
class Nodes:
    """`node_for`: the anvil for its chain id, NoNodeForChain for any other; counts calls."""

    w3: Web3 | None
    asked: list[int] = field(default_factory=list)

    def __call__(self, chain_id: int) -> Web3:
        self.asked.append(chain_id)
        if self.w3 is None or chain_id not in (CHAIN_ID, DEFAULT_NODE):
            raise NoNodeForChain(f"no node is configured for chain {chain_id}")
        return self.w3


def verify(
    document: dict[str, Any],
    chain: OAChain | None,
    *,
    trusted: list[TrustedRegistry] | None = None,
    nodes: Callable[[int], Web3] | None = None,
) -> Verification:
    node_for = nodes or Nodes(chain.w3 if chain is not None else None)
    return verify_wrapped(
        document, trusted=TRUSTED if trusted is None else trusted, node_for=node_for
    )


def check(result: Verification, name: str) -> Any:
    (found,) = [c for c in result.checks if c.name == name]
    return found


def assert_shape(result: Verification) -> None:
    """Every verdict names the same checks, identity always skipped with its reason."""
    assert [c.name for c in result.checks] == CHECK_ORDER
    identity = check(result, IDENTITY)
    assert identity.status is CheckStatus.SKIP and identity.reason == IDENTITY_OUT_OF_SCOPE


# --------------------------------------------------------------------------- issued: VALID


@pytest.mark.parametrize("name", BATCH3 + BATCH5)
def test_documents_wrapped_by_openattestation_verify_valid_once_issued(
    issued: OAChain, name: str
) -> None:
    result = verify(generated(name), issued)
    assert result.outcome is Outcome.VALID, result.to_json()
    assert_shape(result)
    assert all(c.ok for c in result.checks if c.name != IDENTITY)
    store = BIRTHS_STORE if name.startswith("batch3") else BATCH_STORE
    assert result.registry == f"eip155:{CHAIN_ID}:{store}"
    assert result.chain_source == "node" and isinstance(result.as_of_block, int)
    hashes = MANIFEST["documents"][name]["intermediateHashes"]
    assert f"({len(hashes)} hashes)" in check(result, "revocation").reason


@pytest.mark.parametrize("name", ["obfuscated-fields.json", "obfuscated-twice.json"])
def test_an_obfuscated_document_still_verifies(issued: OAChain, name: str) -> None:
    document = generated(name)
    assert document["privacy"]["obfuscatedData"]
    result = verify(document, issued)
    assert result.outcome is Outcome.VALID, result.to_json()


def test_a_store_trusted_on_the_nodes_chain_is_read_on_the_default_node(issued: OAChain) -> None:
    nodes = Nodes(issued.w3)
    result = verify(
        generated("batch3-0.json"),
        issued,
        trusted=[TrustedRegistry(None, BIRTHS_STORE)],
        nodes=nodes,
    )
    assert result.outcome is Outcome.VALID
    assert nodes.asked == [DEFAULT_NODE]
    assert result.registry == f"eip155:{CHAIN_ID}:{BIRTHS_STORE}"  # the node's chain id
    assert "trusted on the node's chain" in check(result, "trust").reason


def test_each_store_is_asked_in_one_request(
    issued: OAChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts: list[bytes] = []
    original = lean_module._Channel.post

    def counting(self: Any, payload: bytes, what: str) -> tuple[int, bytes]:
        posts.append(payload)
        return original(self, payload, what)

    monkeypatch.setattr(lean_module._Channel, "post", counting)
    result = verify(generated("batch5-0.json"), issued)
    assert result.outcome is Outcome.VALID
    (payload,) = posts
    batch = json.loads(payload)
    # the head, isIssued(root), isRevoked of the target hash, 2 nodes and the root
    assert [r["method"] for r in batch] == ["eth_blockNumber"] + ["eth_call"] * 5


# --------------------------------------------------------------------------- revoked


def test_a_revoked_document_is_revoked_and_its_siblings_stay_valid(issued: OAChain) -> None:
    issued.revoke(BIRTHS_STORE, target_of("batch3-1.json"))
    for name in BATCH3:
        result = verify(generated(name), issued)
        if name == "batch3-1.json":
            assert result.outcome is Outcome.REVOKED
            revocation = check(result, "revocation")
            assert revocation.details["revokedScope"] == "document"
            assert revocation.details["revokedHash"] == "0x" + target_of(name).hex()
            assert "the document itself (its targetHash" in revocation.reason
            assert BIRTHS_STORE in revocation.reason
        else:
            assert result.outcome is Outcome.VALID, name


def test_a_revoked_intermediate_node_revokes_the_documents_under_it(issued: OAChain) -> None:
    node = "0xdec0acf522ea08abb1f48c8277c9fb3c4fe201942d047c1966142165aa77cac0"
    issued.revoke(BATCH_STORE, bytes.fromhex(node[2:]))
    for name in BATCH5:
        under = node in MANIFEST["documents"][name]["intermediateHashes"]
        result = verify(generated(name), issued)
        if not under:
            assert result.outcome is Outcome.VALID, name
            continue
        assert result.outcome is Outcome.REVOKED, name
        revocation = check(result, "revocation")
        assert revocation.details["revokedScope"] == "intermediate"
        assert revocation.details["revokedHash"] == node
        assert "an intermediate node of the batch's Merkle tree" in revocation.reason
    assert sum(node in MANIFEST["documents"][n]["intermediateHashes"] for n in BATCH5) == 2


def test_a_revoked_batch_root_revokes_every_document_of_the_batch(issued: OAChain) -> None:
    issued.revoke(BATCH_STORE, root_of("batch5-0.json"))
    for name in BATCH5:
        result = verify(generated(name), issued)
        assert result.outcome is Outcome.REVOKED, name
        revocation = check(result, "revocation")
        assert revocation.details["revokedScope"] == "batch"
        assert "the whole batch (its merkleRoot" in revocation.reason
    assert verify(generated("batch3-0.json"), issued).outcome is Outcome.VALID


# --------------------------------------------------------------------------- not issued


def test_a_root_not_issued_is_unknown(chain: OAChain) -> None:
    chain.issue(BATCH_STORE, root_of("batch5-0.json"))
    result = verify(generated("batch3-0.json"), chain)
    assert result.outcome is Outcome.UNKNOWN
    assert_shape(result)
    anchored = check(result, "anchored")
    assert anchored.status is CheckStatus.FAIL and anchored.details["notAnchored"] is True
    assert anchored.reason.startswith("not issued: merkleRoot 0x" + root_of("batch3-0.json").hex())
    assert BIRTHS_STORE in anchored.reason
    assert check(result, "revocation").status is CheckStatus.SKIP


# --------------------------------------------------------------------------- tampered


def test_a_tampered_field_is_tampered_and_the_chain_is_not_asked(issued: OAChain) -> None:
    document = generated("batch3-0.json")
    name = document["data"]["recipient"]["name"]
    document["data"]["recipient"]["name"] = resalt(name, "Ada Byron")
    nodes = Nodes(issued.w3)
    result = verify(document, issued, nodes=nodes)
    assert result.outcome is Outcome.TAMPERED
    assert_shape(result)
    assert check(result, "integrity").status is CheckStatus.FAIL
    assert nodes.asked == []
    assert all(
        check(result, n).status is CheckStatus.SKIP for n in ("trust", "anchored", "revocation")
    )


@pytest.mark.parametrize(
    "name",
    [
        "quirk-uncovered-keys.json",
        "quirk-uncovered-keys-tampered.json",
        "quirk-proto-key.json",
        "quirk-proto-key-tampered.json",
    ],
)
def test_values_oa_does_not_hash_are_tampered_although_oa_and_the_chain_accept_them(
    chain: OAChain, name: str
) -> None:
    assert MANIFEST["documents"][name]["verifySignature"] is True  # OA says valid
    chain.issue(BATCH_STORE, root_of(name))  # and the chain says issued
    nodes = Nodes(chain.w3)
    result = verify(generated(name), chain, nodes=nodes)
    assert result.outcome is Outcome.TAMPERED
    integrity = check(result, "integrity")
    assert integrity.details["openattestation_valid"] is True
    assert "does not cover" in integrity.reason
    assert nodes.asked == []


@pytest.mark.parametrize("name", ["obfuscated-last-field.json", "obfuscated-array-element.json"])
def test_obfuscations_oa_itself_rejects_are_tampered(issued: OAChain, name: str) -> None:
    assert MANIFEST["documents"][name]["verifySignature"] is False
    assert verify(generated(name), issued).outcome is Outcome.TAMPERED


def test_a_malformed_document_is_tampered_naming_the_field() -> None:
    document = generated("batch3-0.json")
    document["signature"]["targetHash"] = "0x" + document["signature"]["targetHash"]
    result = verify(document, None)
    assert result.outcome is Outcome.TAMPERED
    assert_shape(result)
    fmt = check(result, "format")
    assert fmt.status is CheckStatus.FAIL and fmt.details["field"] == "signature.targetHash"
    assert fmt.reason.startswith("signature.targetHash: ")


def test_an_issuer_naming_no_store_is_malformed() -> None:
    document = wrap_alone({"issuers": [{"name": "Nobody"}], "id": "x"})
    result = verify(document, None)
    assert result.outcome is Outcome.TAMPERED
    assert check(result, "format").details["field"] == "data.issuers[0]"


# --------------------------------------------------------------------------- trust


def test_a_store_not_trusted_is_untrusted_naming_its_address(issued: OAChain) -> None:
    nodes = Nodes(issued.w3)
    result = verify(
        generated("batch3-0.json"),
        issued,
        trusted=[TrustedRegistry(CHAIN_ID, BATCH_STORE)],
        nodes=nodes,
    )
    assert result.outcome is Outcome.UNTRUSTED
    assert_shape(result)
    trust = check(result, "trust")
    assert trust.status is CheckStatus.FAIL and trust.details["store"] == BIRTHS_STORE
    assert f"--trust eip155:<chainId>:{BIRTHS_STORE}" in trust.reason
    assert "trust list" in trust.reason and "data.issuers[0].documentStore" in trust.reason
    assert nodes.asked == []


def test_a_look_alike_store_on_the_same_chain_is_not_trusted(issued: OAChain) -> None:
    """Another deployment of the same contract on the same chain: trust is by address."""
    genuine = generated("batch3-0.json")
    data = copy.deepcopy(parse_wrapped_v2(genuine).data)
    data["issuers"][0]["documentStore"] = LOOKALIKE
    forged = wrap_alone(data)
    issued.issue(LOOKALIKE, bytes.fromhex(forged["signature"]["merkleRoot"]))
    issued.issue(LOOKALIKE, root_of("batch3-0.json"))  # it can issue the genuine root too
    result = verify(forged, issued)
    assert result.outcome is Outcome.UNTRUSTED
    assert check(result, "trust").details["store"] == LOOKALIKE
    assert LOOKALIKE in check(result, "trust").reason


def test_a_root_issued_only_on_a_look_alike_store_is_not_issued(chain: OAChain) -> None:
    chain.issue(LOOKALIKE, root_of("batch3-0.json"))
    trusted = [*TRUSTED, TrustedRegistry(CHAIN_ID, LOOKALIKE)]  # even when trusted itself
    result = verify(generated("batch3-0.json"), chain, trusted=trusted)
    assert result.outcome is Outcome.UNKNOWN
    assert BIRTHS_STORE in check(result, "anchored").reason


def _listed(history: tuple[StatusPeriod, ...]) -> TrustedRegistry:
    entry = RegistryEntry(
        name="Registry of Births",
        country="GB",
        chain_id=CHAIN_ID,
        address=BIRTHS_STORE,  # type: ignore[arg-type]
        history=history,
        publisher_keys=(),
    )
    return TrustedRegistry(CHAIN_ID, BIRTHS_STORE, entry=entry, listed_by="of Alliance (EU), no. 1")


def test_a_store_on_a_trust_list_is_trusted_for_roots_issued_while_granted(issued: OAChain) -> None:
    granted = _listed((StatusPeriod(GRANTED, datetime(2020, 1, 1, tzinfo=UTC)),))
    result = verify(generated("batch3-0.json"), issued, trusted=[granted])
    assert result.outcome is Outcome.VALID
    assert (result.country, result.registry_name) == ("GB", "Registry of Births")
    assert "on the trust list of Alliance (EU), no. 1" in check(result, "trust").reason

    withdrawn = _listed(
        (
            StatusPeriod(GRANTED, datetime(2020, 1, 1, tzinfo=UTC)),
            StatusPeriod(WITHDRAWN, datetime(2021, 1, 1, tzinfo=UTC)),
        )
    )
    result = verify(generated("batch3-0.json"), issued, trusted=[withdrawn])
    assert result.outcome is Outcome.UNTRUSTED
    trust = check(result, "trust")
    assert trust.details["statusWindow"] is True and "withdrawn" in trust.reason


# --------------------------------------------------------------------------- several issuers


def two_issuers(second: str = BATCH_STORE) -> dict[str, Any]:
    return wrap_alone(
        {
            "issuers": [issuer("Registry of Births", BIRTHS_STORE), issuer("Second", second)],
            "recipient": {"name": "Mary Somerville"},
        }
    )


def test_every_issuers_store_must_have_issued_the_root(chain: OAChain) -> None:
    document = two_issuers()
    root = bytes.fromhex(document["signature"]["merkleRoot"])
    chain.issue(BIRTHS_STORE, root)
    result = verify(document, chain)
    assert result.outcome is Outcome.UNKNOWN
    anchored = check(result, "anchored")
    assert anchored.details["store"] == BATCH_STORE and BIRTHS_STORE not in anchored.reason
    chain.issue(BATCH_STORE, root)
    assert verify(document, chain).outcome is Outcome.VALID
    chain.revoke(BATCH_STORE, root)
    result = verify(document, chain)
    assert result.outcome is Outcome.REVOKED
    revocation = check(result, "revocation")
    assert revocation.details["store"] == BATCH_STORE
    assert "a batch of one" in revocation.reason


def test_a_store_named_by_several_issuers_is_asked_once(chain: OAChain) -> None:
    document = two_issuers(BIRTHS_STORE)
    chain.issue(BIRTHS_STORE, bytes.fromhex(document["signature"]["merkleRoot"]))
    nodes = Nodes(chain.w3)
    result = verify(document, chain, nodes=nodes)
    assert result.outcome is Outcome.VALID
    assert nodes.asked == [CHAIN_ID]


def test_several_issuers_with_one_store_untrusted_are_untrusted(chain: OAChain) -> None:
    document = two_issuers(LOOKALIKE)
    root = bytes.fromhex(document["signature"]["merkleRoot"])
    chain.issue(BIRTHS_STORE, root)
    chain.issue(LOOKALIKE, root)
    result = verify(document, chain)
    assert result.outcome is Outcome.UNTRUSTED
    trust = check(result, "trust")
    assert trust.details["store"] == LOOKALIKE and "data.issuers[1].documentStore" in trust.reason


# --------------------------------------------------------------------------- errors


def test_a_node_that_is_down_is_an_error_never_a_failure(issued: OAChain) -> None:
    dead = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}", request_kwargs={"timeout": 2}))
    result = verify(generated("batch3-0.json"), issued, nodes=lambda _chain: dead)
    assert result.outcome is Outcome.ERROR
    assert_shape(result)
    for name in ("anchored", "revocation"):
        assert check(result, name).status is CheckStatus.ERROR
        assert NODE_UNREACHABLE in check(result, name).reason
    assert check(result, "trust").ok and check(result, "integrity").ok

    def refused(chain_id: int) -> Web3:
        raise ChainUnavailable("http://user:key@node.example/secret: connection refused")

    result = verify(generated("batch3-0.json"), issued, nodes=refused)
    assert result.outcome is Outcome.ERROR
    assert "secret" not in json.dumps(result.to_json())


def test_a_chain_with_no_node_configured_is_an_error(issued: OAChain) -> None:
    result = verify(generated("batch3-0.json"), issued, trusted=[TrustedRegistry(5, BIRTHS_STORE)])
    assert result.outcome is Outcome.ERROR
    assert "no node is configured for chain 5" in check(result, "anchored").reason


def test_a_trusted_address_without_a_contract_is_an_error(chain: OAChain) -> None:
    document = wrap_alone({"issuers": [issuer("Nobody", NO_CONTRACT)]})
    result = verify(document, chain, trusted=[TrustedRegistry(CHAIN_ID, NO_CONTRACT)])
    assert result.outcome is Outcome.ERROR
    assert f"no contract at {NO_CONTRACT} on chain {CHAIN_ID}" in check(result, "anchored").reason


# --------------------------------------------------------------------------- unsupported


def test_a_transferable_document_is_unknown_naming_its_token_registry() -> None:
    nodes = Nodes(None)
    document = published("open-attestation/wrapped-transferable-document.json")
    result = verify(document, None, nodes=nodes)
    assert result.outcome is Outcome.UNKNOWN
    assert_shape(result)
    anchored = check(result, "anchored")
    assert anchored.details["unsupported"] is True
    assert "transferable document" in anchored.reason
    assert "0x9178F546D3FF57D7A6352bD61B80cCCD46199C2d" in anchored.reason
    assert nodes.asked == []


def test_a_did_signed_document_is_unknown() -> None:
    result = verify(published("open-attestation/did-wrapped.json"), None)
    assert result.outcome is Outcome.UNKNOWN
    assert "DID-signed" in check(result, "anchored").reason


# --------------------------------------------------------------------------- OA's fixtures


@pytest.mark.parametrize(
    ("name", "store"),
    [
        (
            "open-attestation/not-obfuscated-wrapped.json",
            "0x8bA63EAB43342AAc3AdBB4B827b68Cf4aAE5Caca",
        ),
        (
            "open-attestation-cli/wrapped-example.1.json",
            "0x718B518565B81097b185661EBba3966Ff32A0039",
        ),
        (
            "open-attestation-cli/wrapped-example.2.json",
            "0xBBb55Bd1D709955241CAaCb327A765e2b6D69c8b",
        ),
    ],
)
def test_published_fixtures_check_out_offline_and_name_their_store(name: str, store: str) -> None:
    """Their stores are on public chains: untrusted here, and when trusted on a chain without
    a node, ERROR, the offline checks having passed."""
    nodes = Nodes(None)
    result = verify(published(name), None, trusted=[], nodes=nodes)
    assert result.outcome is Outcome.UNTRUSTED
    assert check(result, "trust").details["store"] == store
    assert nodes.asked == []
    result = verify(published(name), None, trusted=[TrustedRegistry(3, store.lower())])
    assert result.outcome is Outcome.ERROR
    assert all(check(result, n).ok for n in ("format", "integrity", "inclusion", "trust"))


def test_published_obfuscated_fixture_is_tampered_as_oa_says() -> None:
    result = verify(published("open-attestation/obfuscated-wrapped.json"), None)
    assert result.outcome is Outcome.TAMPERED


# --------------------------------------------------------------------------- the binding


def test_document_store_binding_reads_issued_revoked_and_when(chain: OAChain) -> None:
    root, leaf = root_of("batch3-0.json"), target_of("batch3-0.json")
    chain.issue(BIRTHS_STORE, root)
    chain.revoke(BIRTHS_STORE, leaf)
    store = DocumentStore(chain.w3, BIRTHS_STORE.lower())
    assert store.address == BIRTHS_STORE
    assert store.is_issued(root) and not store.is_issued(leaf)
    assert store.is_revoked(leaf) and not store.is_revoked(root)
    block = store.issued_block(root)
    assert block > 0 and store.issued_block(leaf) == 0
    reading = store.read(root=root, revocation=[leaf, root], when_issued=True)
    assert reading.issued and reading.revoked == (True, False)
    assert reading.issued_block == block and reading.block >= block
    assert store.chain_id() == CHAIN_ID
    with pytest.raises(InvalidInput, match="32 bytes"):
        store.is_issued(b"\x01" * 31)
    with pytest.raises(NotADocumentStore, match="no contract at that address"):
        DocumentStore(chain.w3, NO_CONTRACT).is_issued(root)
    # in batches of one call the answers are the same
    single = DocumentStore(chain.w3, BIRTHS_STORE, max_batch=1)
    one_by_one = single.read(root=root, revocation=[leaf, root])
    assert (one_by_one.issued, one_by_one.revoked, one_by_one.issued_block) == (
        True,
        (True, False),
        None,
    )


def _artifact_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_artifact", ARTIFACT_DIR / "make_artifact.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_document_store_artifact_is_the_npm_packages() -> None:
    """DocumentStore.json is the ABI and bytecode of @govtechsg/document-store 3.0.0's
    published factory, byte for byte (fetched with npm pack; skipped without npm)."""
    script = _artifact_script()
    committed = script.committed_artifact()
    assert (committed["package"], committed["version"]) == ("@govtechsg/document-store", "3.0.0")
    try:
        fresh = script.artifact_from_npm()
    except script.NpmUnavailable as exc:
        pytest.skip(f"npm cannot fetch the package here: {exc}")
    assert fresh == committed


# ------------------------------------------------------------------ the doors: CLI and API


def _cli_verify(tmp_path: Path, document: dict[str, Any], *args: str) -> Any:
    from typer.testing import CliRunner

    from registry.cli import app as cli

    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps(document))
    env = {"REGISTRY_DATA_DIR": str(tmp_path / "verifier")}
    return CliRunner().invoke(cli, ["verify", str(path), "--json", *args], env=env)


def test_registry_verify_checks_a_wrapped_document_on_its_trusted_store(
    issued: OAChain, tmp_path: Path
) -> None:
    trust = ["--trust", f"eip155:{CHAIN_ID}:{BIRTHS_STORE}"]
    rpc = ["--rpc", f"eip155:{CHAIN_ID}={issued.node.url}"]
    answer = _cli_verify(tmp_path, generated("batch3-0.json"), *trust, *rpc)
    assert answer.exit_code == 0, answer.output
    verdict = json.loads(answer.output.strip().splitlines()[-1])
    assert verdict["outcome"] == "VALID"
    assert any(c["name"] == IDENTITY and c["status"] == "skip" for c in verdict["checks"])
    # the same document, its store not trusted: UNTRUSTED naming the store
    answer = _cli_verify(tmp_path, generated("batch3-0.json"), *rpc, "--registry", LOOKALIKE)
    verdict = json.loads(answer.output.strip().splitlines()[-1])
    assert answer.exit_code == 1 and verdict["outcome"] == "UNTRUSTED"
    assert BIRTHS_STORE.lower() in json.dumps(verdict).lower()


def test_registry_verify_refuses_a_receipt_beside_a_wrapped_document(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text('{"type": "RecordReceipt"}')
    answer = _cli_verify(
        tmp_path, generated("batch3-0.json"), "--receipt", str(tmp_path / "r.json"),
        "--trust", f"eip155:{CHAIN_ID}:{BIRTHS_STORE}",
    )  # fmt: skip
    assert answer.exit_code == 2 and "DocumentStore" in answer.output
