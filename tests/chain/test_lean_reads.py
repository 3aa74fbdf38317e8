"""The lean read path (registry/chain/lean.py): `check`, `keyOf` and `agencyOf` read without
web3's contract machinery answer exactly what web3's contract calls answer, on the embedded
chain and on anvil, in every state a verifier meets; batches go out as one JSON-RPC request
where the node takes them and fall back to single calls where it does not; malformed answers
and a node that is down give the errors the callers handle (MalformedAnswer, ChainUnavailable),
never an IndexError."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from chain_kit import advance, block_time, make_batch, raw_contract
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils.abi import function_abi_to_4byte_selector
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from registry.chain import AgencyStatus, RegistryContract, new_account
from registry.chain.artifact import registry_artifact
from registry.chain.contract import (
    AgencyInfo,
    AnchorInfo,
    CheckQuery,
    CheckResult,
    KeyWindow,
    Reason,
    RevocationInfo,
)
from registry.chain.devnode import free_port
from registry.chain.lean import (
    Call,
    LeanReader,
    MalformedAnswer,
    agency_of_call,
    check_call,
    key_of_call,
    views,
)
from registry.errors import ChainError, ChainUnavailable, ContractRevert, TransactionFailed

ANVIL_ONLY = [pytest.param("anvil", marks=pytest.mark.anvil)]

# ------------------------------------------------------- web3's answers (the reference)


def _web3_address(value: str) -> str | None:
    return None if int(value, 16) == 0 else Web3.to_checksum_address(value)


def _web3_revocation(raw: Sequence[Any]) -> RevocationInfo:
    return RevocationInfo(
        revoked_at=int(raw[0]),
        reason=int(raw[1]),
        by_authority=bool(raw[2]),
        void=bool(raw[3]),
        replacement=bytes(raw[4]),
    )


def web3_check(env: Any, q: CheckQuery) -> CheckResult:
    """`check` through web3's contract-function call, converted as the binding did before."""
    address = Web3.to_checksum_address(q.agency)
    fns = raw_contract(env.w3, env.registry).functions
    raw = fns.check(address, q.leaf, list(q.proof), q.root).call()
    anchored = int(raw[1]) != 0
    return CheckResult(
        included=bool(raw[0]),
        anchor=AnchorInfo(
            agency=address if anchored else None,  # type: ignore[arg-type]
            anchored_at=int(raw[1]),
            block_number=int(raw[2]),
            leaf_count=int(raw[3]),
        ),
        agency_status=AgencyStatus(int(raw[4])),
        agency_status_changed_at=int(raw[5]),
        void_since=int(raw[6]),
        leaf_revocation=_web3_revocation(raw[7]),
        root_revocation=_web3_revocation(raw[8]),
    )


def web3_key_of(env: Any, agency: str, key: bytes) -> KeyWindow:
    address = Web3.to_checksum_address(agency)
    raw = raw_contract(env.w3, env.registry).functions.keyOf(address, key).call()
    return KeyWindow(
        agency=address if int(raw[0]) else None,  # type: ignore[arg-type]
        valid_from=int(raw[0]),
        valid_until=int(raw[1]),
    )


def web3_agency_of(env: Any, agency: str) -> AgencyInfo:
    address = Web3.to_checksum_address(agency)
    raw = raw_contract(env.w3, env.registry).functions.agencyOf(address).call()
    return AgencyInfo(
        address=address,  # type: ignore[arg-type]
        status=AgencyStatus(int(raw[0])),
        registered_at=int(raw[1]),
        status_changed_at=int(raw[2]),
        account=_web3_address(raw[3]),  # type: ignore[arg-type]
        signing_key=bytes(raw[4]),
        name=str(raw[5]),
    )


def assert_reads_match_web3(
    env: Any, checks: Sequence[CheckQuery], keys: Sequence[tuple[str, bytes]]
) -> None:
    """Every lean read (single, many, per receipt) equals web3's contract call."""
    reg = env.registry
    expected = [web3_check(env, q) for q in checks]
    for q, want in zip(checks, expected, strict=True):
        assert reg.check(agency=q.agency, leaf=q.leaf, proof=q.proof, root=q.root) == want
    head = reg.node.head()
    many = reg.check_many(checks)
    assert list(many.results) == expected and many.block == head
    pinned = reg.check_many(checks, block=head)
    assert list(pinned.results) == expected and pinned.block == head
    windows = {(agency, key): web3_key_of(env, agency, key) for agency, key in keys}
    agencies = {agency: web3_agency_of(env, agency) for agency, _ in keys}
    for (agency, key), window in windows.items():
        assert reg.key_of(agency, key) == window
        assert reg.agency_of(agency) == agencies[agency]
    for q, want in list(zip(checks, expected, strict=True))[::3]:
        for agency, key in keys:
            if agency.lower() != q.agency.lower():
                continue
            reading = reg.read_receipt(
                agency=q.agency, leaf=q.leaf, proof=q.proof, root=q.root, public_key=key
            )
            assert reading.check == want
            assert reading.key == windows[(agency, key)]
            assert reading.agency == agencies[agency]
            assert reading.block == head


def _queries(agency: str, batch: Any) -> list[CheckQuery]:
    return [
        CheckQuery(agency, batch.leaf(i), batch.proof(i), batch.root) for i in range(batch.count)
    ]


# ------------------------------------------------------------------ equality, every state


def test_lean_reads_equal_web3_in_every_state(chain_env):
    """Anchored or not, wrong agency, wrong proof, whole batch; revoked leaf and root (by the
    agency, superseded, by the authority); suspended; key rotated; compromised (void anchor and
    void revocation); moved: the lean reads answer what web3's contract calls answer."""
    env = chain_env
    reg, admin, a, b = env.registry, env.admin, env.agency_a.address, env.agency_b.address
    outsider = env.outsider.address
    genuine, other, never = make_batch("lean-a", 5), make_batch("lean-b", 3), make_batch("lean-0")
    reg.anchor(env.agency_a, root=genuine.root, leaf_count=genuine.count)
    reg.anchor(env.agency_b, root=other.root, leaf_count=other.count)
    checks = [
        *_queries(a, genuine),
        *_queries(b, other),
        CheckQuery(a, genuine.leaf(0), genuine.proof(1), genuine.root),  # proof of another leaf
        CheckQuery(b, genuine.leaf(0), genuine.proof(0), genuine.root),  # A's root, asked of B
        CheckQuery(a, never.leaf(0), never.proof(0), never.root),  # not anchored
        CheckQuery(a, genuine.root, [], genuine.root),  # the whole batch
        CheckQuery(outsider, genuine.leaf(0), genuine.proof(0), genuine.root),  # no agency
    ]
    new_key = b"\xa2" * 32
    keys = [
        (a, env.key_a),
        (b, env.key_b),
        (b, env.key_a),  # another agency's key
        (a, new_key),  # not (yet) a key
        (outsider, env.key_a),
    ]
    assert_reads_match_web3(env, checks, keys)

    reg.revoke(
        env.agency_a,
        root=genuine.root,
        leaf=genuine.leaf(1),
        proof=genuine.proof(1),
        reason=Reason.FRAUD,
    )
    reg.revoke(
        env.agency_a,
        root=genuine.root,
        leaf=genuine.leaf(2),
        proof=genuine.proof(2),
        reason=Reason.SUPERSEDED,
        replacement=never.digests[0],
    )
    reg.revoke_by_authority(
        admin,
        agency=b,
        root=other.root,
        leaf=other.leaf(0),
        proof=other.proof(0),
        reason=Reason.COURT_ORDER,
    )
    reg.revoke(env.agency_b, root=other.root, leaf=other.root, proof=[], reason=Reason.WITHDRAWN)
    assert_reads_match_web3(env, checks, keys)
    superseded = reg.check(**_kwargs(checks[2])).leaf_revocation
    assert superseded.reason == Reason.SUPERSEDED and superseded.replacement == never.digests[0]
    by_authority = reg.check(**_kwargs(checks[5]))
    assert by_authority.leaf_revocation.by_authority and by_authority.root_revocation.revoked

    reg.suspend_agency(admin, b)
    reg.rotate_signing_key(env.agency_a, admin, new_key)  # closes key_a's window
    assert_reads_match_web3(env, checks, keys)
    assert reg.check(**_kwargs(checks[5])).agency_status is AgencyStatus.SUSPENDED
    assert reg.key_of(a, env.key_a).valid_until != 0 and reg.key_of(a, new_key).agency == a

    advance(env, 60)
    forged = make_batch("lean-forged", 2)
    at_t1 = reg.anchor(env.agency_a, root=forged.root, leaf_count=forged.count)
    reg.revoke(
        env.agency_a,
        root=genuine.root,
        leaf=genuine.leaf(3),
        proof=genuine.proof(3),
        reason=Reason.FRAUD,
    )
    reg.mark_compromised(admin, a, since=block_time(reg, at_t1))
    checks += _queries(a, forged)
    assert_reads_match_web3(env, checks, keys)
    void = reg.check(agency=a, leaf=forged.leaf(0), proof=forged.proof(0), root=forged.root)
    assert void.void_since == block_time(reg, at_t1)  # the states above were the real ones
    assert reg.check(**_kwargs(checks[3])).leaf_revocation.void

    reg.move_agency(admin, a, new_account=new_account().address)
    assert_reads_match_web3(env, checks, keys)


def _kwargs(q: CheckQuery) -> dict[str, Any]:
    return {"agency": q.agency, "leaf": q.leaf, "proof": q.proof, "root": q.root}


def test_batches_used_where_the_node_takes_them(chain_env):
    """anvil takes JSON-RPC batches (detected on the first batch); the embedded chain is not
    HTTP, so its reads go one by one, with the same answers."""
    reg, a = chain_env.registry, chain_env.agency_a
    # on anvil, more than one batch request (MAX_BATCH 200); eth-tester runs each call in py-evm
    batch = make_batch("lean-batches", 300 if chain_env.kind == "anvil" else 12)
    reg.anchor(a, root=batch.root, leaf_count=batch.count)
    reader = LeanReader(chain_env.w3, reg.address)
    assert reader.batches is (None if chain_env.kind == "anvil" else False)
    calls = [
        check_call(agency=a.address, leaf=batch.leaf(i), proof=batch.proof(i), root=batch.root)
        for i in range(batch.count)
    ]
    decoded = reader.calls(calls)
    assert all(raw[0][0] for raw in decoded)  # every leaf included
    assert reader.batches is (chain_env.kind == "anvil")
    many = reg.check_many(_queries(a.address, batch))
    assert [r.included for r in many.results] == [True] * batch.count
    assert reg.check_many([]).results == ()


def test_calldata_is_the_abi_encoding(chain_env):
    """The hand-packed calldata is what web3 encodes for the same call."""
    contract = raw_contract(chain_env.w3, chain_env.registry)
    a = chain_env.agency_a.address
    for proof in ([], [b"\x01" * 32], [bytes([i]) * 32 for i in range(7)]):
        mine = check_call(agency=a, leaf=b"\x0a" * 32, proof=proof, root=b"\x0b" * 32).data
        assert "0x" + mine.hex() == contract.encode_abi(
            "check", [a, b"\x0a" * 32, proof, b"\x0b" * 32]
        )
    assert "0x" + key_of_call(a, b"\x0c" * 32).data.hex() == contract.encode_abi(
        "keyOf", [a, b"\x0c" * 32]
    )
    assert "0x" + agency_of_call(a).data.hex() == contract.encode_abi("agencyOf", [a])


# ------------------------------------------------------------------ the static decoder

_CHECK = views()["check"]
_WORD_VALUES = st.one_of(
    st.integers(0, 1),
    st.integers(0, 255),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**256 - 1),
)


@settings(max_examples=400, deadline=None)
@given(
    words=st.lists(_WORD_VALUES, min_size=17, max_size=17),
    cut=st.sampled_from([0, 0, 0, 1, 31, 32, 300]),
)
def test_static_decoder_agrees_with_eth_abi(words, cut):
    """Word for word, the check() decoder gives eth_abi's values, and refuses what it refuses
    (a bool not 0/1, a uint64 out of range, short data) with MalformedAnswer."""
    data = b"".join(w.to_bytes(32, "big") for w in words)
    data = data[: len(data) - cut]
    try:
        expected: Any = abi_decode(_CHECK.output_types, data)
    except Exception:
        expected = "refused"
    try:
        got: Any = _CHECK.decode(data)
    except MalformedAnswer:
        got = "refused"
    assert got == expected


def test_static_decoder_reads_valid_answers():
    values = (
        True,
        2**64 - 1,
        7,
        2**32 - 1,
        3,
        5,
        6,
        (1, 2, False, True, b"\x01" * 32),
        (0, 0, False, False, b"\0" * 32),
    )
    data = abi_encode(_CHECK.output_types, [values])
    assert _CHECK.decode(data) == abi_decode(_CHECK.output_types, data) == (values,)


# ------------------------------------------------------------------ a fake JSON-RPC node


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection the test cut (the node "went down") is no error to print."""


class FakeNode:
    """A JSON-RPC node over HTTP on loopback whose answers a test writes: `answer(body)`
    returns (status, JSON value or raw bytes). Keeps connections alive unless `close_after`."""

    def __init__(self, answer: Callable[[Any], tuple[int, Any]], *, close_after: bool = False):
        self.bodies: list[Any] = []
        self.connections: list[socket.socket] = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # headers and body in one segment: no delayed-ACK stall

            def setup(self) -> None:
                node.connections.append(self.request)
                super().setup()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                node.bodies.append(body)
                status, value = answer(body)
                payload = value if isinstance(value, bytes) else json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                if close_after:  # drop the kept-alive connection without saying so
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        """Stop listening and cut every open connection (a node that went down)."""
        self.server.shutdown()
        self.server.server_close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    @property
    def batch_bodies(self) -> int:
        return sum(isinstance(b, list) for b in self.bodies)


@pytest.fixture
def fake_node() -> Iterator[Callable[..., FakeNode]]:
    started: list[FakeNode] = []

    def start(answer: Callable[[Any], tuple[int, Any]], **kwargs: Any) -> FakeNode:
        node = FakeNode(answer, **kwargs)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def _forward(url: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return response.status, response.read()


_REFUSALS: dict[str, Callable[[Any], tuple[int, Any]]] = {
    "http-400": lambda body: (400, {"error": "batch requests are not supported"}),
    "error-object": lambda body: (
        200,
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batch disabled"}},
    ),
    "short-array": lambda body: (
        200,
        [{"jsonrpc": "2.0", "id": body[0]["id"], "error": {"code": -32005, "message": "limit"}}],
    ),
    "not-json": lambda body: (200, b"<html>no</html>"),
}


@pytest.mark.parametrize("chain_env_session", ANVIL_ONLY, indirect=True)
@pytest.mark.parametrize("refusal", sorted(_REFUSALS))
def test_batch_refused_falls_back_to_single_calls(chain_env, fake_node, refusal):
    """A node that answers a batch with an error (HTTP 400, an error object, an array that does
    not answer every call, not JSON) is asked one call at a time, the same answers come back,
    and no batch is tried again."""
    upstream = chain_env.w3.provider.endpoint_uri

    def answer(body: Any) -> tuple[int, Any]:
        if isinstance(body, list):
            return _REFUSALS[refusal](body)
        return _forward(upstream, body)

    node = fake_node(answer)
    reg = RegistryContract(Web3(Web3.HTTPProvider(node.url)), chain_env.registry.address)
    a = chain_env.agency_a
    batch = make_batch("lean-refused", 4)
    chain_env.registry.anchor(a, root=batch.root, leaf_count=batch.count)
    queries = _queries(a.address, batch)
    expected = [web3_check(chain_env, q) for q in queries]
    first = reg.check_many(queries)
    assert list(first.results) == expected
    assert node.batch_bodies == 1 and reg._lean.batches is False
    again = reg.check_many(queries)
    reading = reg.read_receipt(**_kwargs(queries[0]), public_key=chain_env.key_a)
    assert list(again.results) == expected and reading.check == expected[0]
    assert node.batch_bodies == 1  # detected once


@pytest.mark.parametrize("chain_env_session", ANVIL_ONLY, indirect=True)
def test_one_request_per_batch_where_accepted(chain_env, fake_node):
    upstream = chain_env.w3.provider.endpoint_uri
    node = fake_node(lambda body: _forward(upstream, body))
    reg = RegistryContract(Web3(Web3.HTTPProvider(node.url)), chain_env.registry.address)
    a = chain_env.agency_a
    batch = make_batch("lean-one-request", 8)
    chain_env.registry.anchor(a, root=batch.root, leaf_count=batch.count)
    before = len(node.bodies)
    many = reg.check_many(_queries(a.address, batch))
    reading = reg.read_receipt(**_kwargs(_queries(a.address, batch)[0]), public_key=chain_env.key_a)
    assert len(node.bodies) - before == 2 and reg._lean.batches is True
    assert [r.included for r in many.results] == [True] * 8
    assert reading.key.agency == a.address and reading.agency.name == "Civil Registry Office"
    assert node.bodies[-1][0]["method"] == "eth_blockNumber"  # the head first, then the reads


@pytest.mark.parametrize("chain_env_session", ANVIL_ONLY, indirect=True)
def test_connection_dropped_while_idle_is_reopened(chain_env, fake_node):
    """A node that closes a kept-alive connection after each answer: the next read reopens."""
    upstream = chain_env.w3.provider.endpoint_uri
    node = fake_node(lambda body: _forward(upstream, body), close_after=True)
    reg = RegistryContract(Web3(Web3.HTTPProvider(node.url)), chain_env.registry.address)
    for _ in range(3):
        assert reg.agency_of(chain_env.agency_a.address).status is AgencyStatus.ACTIVE


# ------------------------------------------------------------------ malformed answers

AGENCY = "0x" + "ab" * 20
REGISTRY = "0x" + "cd" * 20


def _canned(result_of: Callable[[dict[str, Any]], Any]) -> Callable[[Any], tuple[int, Any]]:
    """A node that answers eth_chainId, and each eth_call or eth_blockNumber with whatever
    `result_of(request)` gives (a dict: the whole answer; anything else: its result)."""

    def one(request: dict[str, Any]) -> Any:
        if request["method"] == "eth_chainId":
            return {"jsonrpc": "2.0", "id": request["id"], "result": "0x7a69"}
        value = result_of(request)
        if isinstance(value, dict):
            return {"jsonrpc": "2.0", "id": request["id"], **value}
        return {"jsonrpc": "2.0", "id": request["id"], "result": value}

    def answer(body: Any) -> tuple[int, Any]:
        if isinstance(body, list):
            return 200, [one(r) for r in body]
        return 200, one(body)

    return answer


def _registry_on(node: FakeNode) -> RegistryContract:
    return RegistryContract(Web3(Web3.HTTPProvider(node.url)), REGISTRY)


def _check(reg: RegistryContract) -> Any:
    return reg.check(agency=AGENCY, leaf=b"\1" * 32, proof=[b"\2" * 32], root=b"\3" * 32)


_NOT_REVOKED = (0, 0, False, False, b"\0" * 32)


def _check_answer(status: int = 1) -> str:
    values = (True, 1, 2, 3, status, 4, 0, _NOT_REVOKED, _NOT_REVOKED)
    return "0x" + abi_encode(_CHECK.output_types, [values]).hex()


_GOOD_CHECK = _check_answer()

_MALFORMED: dict[str, tuple[Any, str]] = {
    "short data": ("0x" + "00" * 100, "not the view's encoding"),
    "no data": ("0x", "returned no data"),
    "non-hex": ("0x" + "zz" * 544, "not 0x-hex"),
    "odd length": (_GOOD_CHECK[:-1], "not 0x-hex"),
    "no 0x": (_GOOD_CHECK[2:], "not 0x-hex"),
    "a number": (12345, "not 0x-hex"),
    "null": (None, "not 0x-hex"),
    "bool out of range": ("0x" + "00" * 31 + "02" + _GOOD_CHECK[66:], "neither 0 nor 1"),
    "uint64 out of range": (_GOOD_CHECK[:66] + "ff" * 32 + _GOOD_CHECK[130:], "out of range"),
    "status not an enum": (_check_answer(status=9), "agency status"),
    "neither result nor error": ({"foo": 1}, "neither result nor error"),
}


@pytest.mark.parametrize("case", sorted(_MALFORMED))
def test_malformed_answers_are_a_clear_chain_error(fake_node, case):
    value, words = _MALFORMED[case]
    reg = _registry_on(fake_node(_canned(lambda request: value)))
    with pytest.raises(MalformedAnswer, match=words) as info:
        _check(reg)
    assert isinstance(info.value, ChainError)
    with pytest.raises(MalformedAnswer):
        reg.check_many([CheckQuery(AGENCY, b"\1" * 32, [], b"\3" * 32)] * 3)


def test_a_good_canned_answer_decodes(fake_node):
    """The canned node itself is right: a well-formed answer reads back (control)."""
    reg = _registry_on(fake_node(_canned(lambda request: _GOOD_CHECK)))
    result = _check(reg)
    assert result.included and result.anchor.leaf_count == 3
    assert result.agency_status is AgencyStatus.ACTIVE


def test_malformed_agency_of_and_head(fake_node):
    """agencyOf (a string inside: eth_abi decodes it) with a bad offset, and a head that is not
    a quantity, are MalformedAnswer too."""
    bad_offset = "0x" + "00" * 32 * 5 + (2**64).to_bytes(32, "big").hex()
    reg = _registry_on(fake_node(_canned(lambda request: bad_offset)))
    with pytest.raises(MalformedAnswer, match="agencyOf"):
        reg.agency_of(AGENCY)

    def head_is_text(request: dict[str, Any]) -> Any:
        return "latest" if request["method"] == "eth_blockNumber" else _GOOD_CHECK

    reg = _registry_on(fake_node(_canned(head_is_text)))
    with pytest.raises(MalformedAnswer, match="quantity"):
        reg.check_many([CheckQuery(AGENCY, b"\1" * 32, [], b"\3" * 32)])


def test_body_not_json_and_http_errors(fake_node):
    def garbage(body: Any) -> tuple[int, Any]:
        if isinstance(body, dict) and body["method"] == "eth_chainId":
            return 200, {"jsonrpc": "2.0", "id": body["id"], "result": "0x7a69"}
        return 200, b"{not json"

    with pytest.raises(MalformedAnswer, match="not JSON"):
        _check(_registry_on(fake_node(garbage)))

    def overloaded(body: Any) -> tuple[int, Any]:
        if isinstance(body, dict) and body["method"] == "eth_chainId":
            return 200, {"jsonrpc": "2.0", "id": body["id"], "result": "0x7a69"}
        return 503, b"busy"

    with pytest.raises(ChainUnavailable, match="HTTP 503"):
        _check(_registry_on(fake_node(overloaded)))


def test_rpc_errors_and_reverts(fake_node):
    """A JSON-RPC error is a ChainError; a revert is ContractRevert by custom-error name when
    its data decodes, TransactionFailed when it does not: as on the web3 path."""
    errors: dict[str, Any] = {"error": {"code": -32000, "message": "header not found"}}
    reg = _registry_on(fake_node(_canned(lambda request: errors)))
    with pytest.raises(ChainError, match="header not found") as info:
        _check(reg)
    assert type(info.value) is ChainError

    error = next(
        i
        for i in registry_artifact().abi
        if i.get("type") == "error" and i["name"] == "UnknownAgency"
    )
    selector = function_abi_to_4byte_selector(error)  # type: ignore[arg-type]
    data = "0x" + (selector + abi_encode(["address"], [AGENCY])).hex()
    reverted = {"error": {"code": 3, "message": "execution reverted", "data": data}}
    reg = _registry_on(fake_node(_canned(lambda request: reverted)))
    with pytest.raises(ContractRevert) as revert:
        _check(reg)
    assert revert.value.error_name == "UnknownAgency"
    assert str(revert.value.error_args["agency"]).lower() == AGENCY

    plain = {"error": {"code": 3, "message": "execution reverted: out of gas"}}
    reg = _registry_on(fake_node(_canned(lambda request: plain)))
    with pytest.raises(TransactionFailed, match="reverted"):
        reg.key_of(AGENCY, b"\1" * 32)


def test_batch_item_error_is_raised(fake_node):
    """One call of a batch failing fails the batch, with that call's error."""
    calls = iter(range(100))

    def second_fails(request: dict[str, Any]) -> Any:
        if request["method"] == "eth_blockNumber":
            return "0x10"
        if next(calls) == 1:
            return {"error": {"code": -32000, "message": "missing trie node"}}
        return _GOOD_CHECK

    reg = _registry_on(fake_node(_canned(second_fails)))
    with pytest.raises(ChainError, match="missing trie node"):
        reg.check_many([CheckQuery(AGENCY, b"\1" * 32, [], b"\3" * 32)] * 3)


# ------------------------------------------------------------------ a node that is down


def test_node_down_is_chain_unavailable(fake_node):
    node = fake_node(_canned(lambda request: _GOOD_CHECK))
    reg = _registry_on(node)
    assert _check(reg).included
    node.stop()
    query = CheckQuery(AGENCY, b"\1" * 32, [], b"\3" * 32)
    with pytest.raises(ChainUnavailable, match="unreachable"):
        _check(reg)
    with pytest.raises(ChainUnavailable):
        reg.check_many([query] * 3)
    with pytest.raises(ChainUnavailable):
        reg.read_receipt(**_kwargs(query), public_key=b"\1" * 32)
    with pytest.raises(ChainUnavailable):
        reg.agency_of(AGENCY)


def test_never_reachable_node_is_chain_unavailable():
    """Nothing listens on the port: the first read is ChainUnavailable (no retry loop)."""
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}"))
    reader = LeanReader(w3, REGISTRY)
    with pytest.raises(ChainUnavailable, match="unreachable"):
        reader.call(agency_of_call(AGENCY))


def test_random_garbage_never_crashes(fake_node):
    """Whatever bytes the node sends as a result, a read ends in a result or a ChainError."""
    rng = random.Random(12)
    answers = iter(
        "0x" + bytes(rng.randrange(256) for _ in range(rng.choice([0, 31, 64, 544, 600]))).hex()
        for _ in range(200)
    )
    reg = _registry_on(fake_node(_canned(lambda request: next(answers))))
    for _ in range(60):
        for read in (_check, lambda r: r.key_of(AGENCY, b"\1" * 32), lambda r: r.agency_of(AGENCY)):
            with contextlib.suppress(ChainError):
                read(reg)


def test_revert_and_no_contract_on_every_node(chain_env):
    """A call the contract reverts (an unknown selector) is TransactionFailed, and an address
    without code answers no data (MalformedAnswer), on the embedded chain as on anvil."""
    reader = LeanReader(chain_env.w3, chain_env.registry.address)
    with pytest.raises(TransactionFailed, match="reverted"):
        reader.call(Call(views()["check"], b"\xde\xad\xbe\xef"))
    nowhere = LeanReader(chain_env.w3, chain_env.outsider.address)
    with pytest.raises(MalformedAnswer, match="no data"):
        nowhere.call(agency_of_call(chain_env.agency_a.address))


def test_a_replaced_provider_is_used_from_the_next_read(chain_env, monkeypatch):
    """The reader follows the `Web3`'s provider as it is now: a provider swapped for a dead
    node makes the next read ChainUnavailable; swapped back, reads work again (a request is
    built for the provider it is sent to: eth-tester's needs a `from`)."""
    reg = chain_env.registry
    root = b"\x0b" * 32
    agency = chain_env.agency_a.address
    before = reg.check(agency=agency, leaf=root, proof=[], root=root)
    original = chain_env.w3.provider
    monkeypatch.setattr(chain_env.w3, "provider", Web3.HTTPProvider("http://127.0.0.1:1"))
    with pytest.raises(ChainUnavailable):
        reg.check(agency=agency, leaf=root, proof=[], root=root)
    monkeypatch.setattr(chain_env.w3, "provider", original)
    assert reg.check(agency=agency, leaf=root, proof=[], root=root) == before
