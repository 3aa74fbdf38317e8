"""Lean reads of the registry's views: no per-call ABI machinery.

A web3 contract-function call spends milliseconds of CPU per `eth_call` (building the function
object, encoding through its ABI registry, the middleware onion, formatting the answer). A
verifier that falls back to a live `check()` pays that on every receipt. Here the selectors and
output types are computed once from the committed artifact; the calldata is packed by hand
(every argument of `check`, `keyOf` and `agencyOf` is a word or a `bytes32[]`); an answer made
only of static words (`check`, `keyOf`) is decoded word by word, as strictly as eth_abi, and any
other (`agencyOf`, with its name) by `eth_abi.decode`; the request is one raw JSON-RPC
`eth_call`:

- over HTTP, posted on a keep-alive connection of our own per thread (`http.client` straight for
  a plain `http://` node with no proxy in between, a `requests` session otherwise), and several
  calls in one JSON-RPC batch array when the node takes batches (detected once: a node that
  answers a batch with an error, or with anything but the array of answers, is asked one call
  at a time from then on);
- on any other provider (the embedded eth-tester chain), through the provider's `make_request`.

Errors keep the meaning they have on the web3 path: a node that cannot be reached is
ChainUnavailable; a revert is ContractRevert (the custom error decoded by name) or
TransactionFailed; a JSON-RPC error is a ChainError; an answer that is not well-formed (not
JSON-RPC, not hex, shorter than the view's encoding, a value out of its type's range) is
MalformedAnswer, never an IndexError.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import requests
from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import collapse_if_tuple, function_abi_to_4byte_selector
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider
from web3.providers.rpc import HTTPProvider

from registry.chain.artifact import registry_artifact
from registry.chain.tx import decode_custom_error, revert_to_error, reverts, rpc_errors
from registry.errors import (
    ChainError,
    ChainUnavailable,
    ContractRevert,
    InvalidInput,
    TransactionFailed,
)

MAX_BATCH = 200
"""Calls per JSON-RPC batch request; longer lists go in several requests (nodes cap batches:
geth at 1,000 items, hosted nodes often lower)."""

DEFAULT_TIMEOUT = 30.0
"""Seconds to wait for an HTTP answer when the provider names no timeout (web3's default)."""


_ZERO_WORD = bytes(32)
_WORD_ZERO_PAD = bytes(12)


from registry.chain.views import MalformedAnswer as MalformedAnswer  # noqa: E402  (its home)

WordDecoder = Callable[[bytes], Any]


def _word_decoder(abi_type: str) -> WordDecoder | None:
    """A decoder of one 32-byte word of a static ABI type, as strict as eth_abi's (padding and
    range checked) and with the same values; None for a type it does not handle."""
    if abi_type == "bool":

        def boolean(word: bytes) -> bool:
            if word[:31] != _ZERO_WORD[:31] or word[31] > 1:
                raise MalformedAnswer(f"bool word {word.hex()} is neither 0 nor 1")
            return word[31] == 1

        return boolean
    if abi_type.startswith("uint"):
        bits = int(abi_type[4:] or 256)
        limit = 1 << bits

        def uint(word: bytes) -> int:
            value = int.from_bytes(word, "big")
            if value >= limit:
                raise MalformedAnswer(f"{abi_type} word {word.hex()} is out of range")
            return value

        return uint
    if abi_type == "address":

        def address(word: bytes) -> str:
            if word[:12] != _WORD_ZERO_PAD:
                raise MalformedAnswer(f"address word {word.hex()} is not zero-padded")
            return "0x" + word[12:].hex()

        return address
    if abi_type == "bytes32":
        return bytes
    return None


def _static_decoder(outputs: Sequence[dict[str, Any]]) -> Callable[[bytes], tuple[Any, ...]] | None:
    """A decoder of `outputs` made only of static words (tuples of bools, uints, addresses,
    bytes32: `check`, `keyOf`), or None (a string, an array: eth_abi decodes those)."""
    words: list[WordDecoder] = []
    shape: list[Any] = []  # per output: a word index, or a list (a tuple's components)

    def plan(items: Sequence[dict[str, Any]]) -> list[Any] | None:
        out: list[Any] = []
        for item in items:
            if item["type"] == "tuple":
                inner = plan(item["components"])
                if inner is None:
                    return None
                out.append(inner)
                continue
            decoder = _word_decoder(item["type"])
            if decoder is None:
                return None
            out.append(len(words))
            words.append(decoder)
        return out

    planned = plan(outputs)
    if planned is None:
        return None
    shape = planned
    size = 32 * len(words)

    def build(values: list[Any], node: list[Any]) -> tuple[Any, ...]:
        return tuple(build(values, n) if isinstance(n, list) else values[n] for n in node)

    def decode(data: bytes) -> tuple[Any, ...]:
        if len(data) < size:
            raise MalformedAnswer(f"{len(data)} bytes, fewer than the {size} of the encoding")
        values = [words[i](data[32 * i : 32 * i + 32]) for i in range(len(words))]
        return build(values, shape)

    return decode


@dataclass(frozen=True)
class View:
    """One view of the registry: its 4-byte selector and its output types (from the ABI)."""

    name: str
    selector: bytes
    output_types: tuple[str, ...]
    static: Callable[[bytes], tuple[Any, ...]] | None = None
    """A word-by-word decoder when every output is a static word (else eth_abi decodes)."""

    def decode(self, data: bytes) -> tuple[Any, ...]:
        """The view's return values; MalformedAnswer when `data` is not their encoding."""
        if not data:
            raise MalformedAnswer(
                f"{self.name}: the node returned no data (no registry contract at that address?)"
            )
        try:
            if self.static is not None:
                return self.static(data)
            return abi_decode(self.output_types, data)
        except MalformedAnswer as exc:
            raise MalformedAnswer(
                f"{self.name}: the node's answer is not the view's encoding: {exc}"
            ) from exc
        except (DecodingError, ValueError, OverflowError) as exc:
            raise MalformedAnswer(
                f"{self.name}: the node's answer ({len(data)} bytes) is not the view's "
                f"encoding: {exc}"
            ) from exc


@cache
def views() -> dict[str, View]:
    """Every view and function of the committed registry ABI, by name (computed once)."""
    found = {}
    for item in registry_artifact().abi:
        if item.get("type") == "function":
            found[item["name"]] = View(
                name=item["name"],
                selector=function_abi_to_4byte_selector(item),  # type: ignore[arg-type]
                output_types=tuple(collapse_if_tuple(o) for o in item["outputs"]),  # type: ignore[arg-type]
                static=_static_decoder(item["outputs"]),
            )
    return found


@dataclass(frozen=True)
class Call:
    """One pre-encoded `eth_call` of a registry view."""

    view: View
    data: bytes


# ------------------------------------------------------------------ calldata

_CHECK_PROOF_OFFSET = (4 * 32).to_bytes(32, "big")  # four head words: agency, leaf, offset, root


def _address_word(address: str) -> bytes:
    raw = bytes.fromhex(address[2:]) if address[:2] in ("0x", "0X") else b""
    if len(raw) != 20:
        raise InvalidInput(f"agency {address!r}: not a 20-byte hex address")
    return _WORD_ZERO_PAD + raw


def _word(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise InvalidInput("expected 32 bytes", field=what)
    return bytes(value)


def check_call(*, agency: str, leaf: bytes, proof: Sequence[bytes], root: bytes) -> Call:
    """`check(address agency, bytes32 leaf, bytes32[] proof, bytes32 root)`: the head words,
    then the proof's length and items (its offset is always the fourth word)."""
    view = views()["check"]
    parts = [
        view.selector,
        _address_word(agency),
        _word(leaf, "leaf"),
        _CHECK_PROOF_OFFSET,
        _word(root, "root"),
        len(proof).to_bytes(32, "big"),
    ]
    parts.extend(_word(p, f"proof[{i}]") for i, p in enumerate(proof))
    return Call(view, b"".join(parts))


def key_of_call(agency: str, key: bytes) -> Call:
    """`keyOf(address agency, bytes32 key)`."""
    view = views()["keyOf"]
    return Call(view, view.selector + _address_word(agency) + _word(key, "key"))


def agency_of_call(agency: str) -> Call:
    """`agencyOf(address agency)`."""
    view = views()["agencyOf"]
    return Call(view, view.selector + _address_word(agency))


# ------------------------------------------------------------------ answers


def _hex_bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or value[:2] not in ("0x", "0X") or len(value) % 2:
        raise MalformedAnswer(f"{what}: the node's result {str(value)[:80]!r} is not 0x-hex data")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise MalformedAnswer(
            f"{what}: the node's result {value[:80]!r} is not 0x-hex data"
        ) from exc


def _quantity(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):  # eth-tester answers ints
        return value
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise MalformedAnswer(f"{what}: the node's result {str(value)[:80]!r} is not a quantity")


def _error_of(error: Any, what: str) -> ChainError:
    """The exception for a JSON-RPC error object: a revert as web3 recognises one (revert data,
    code 3, "execution reverted"), decoded by custom-error name; anything else a ChainError."""
    if not isinstance(error, dict):
        return ChainError(f"{what}: the node answered with error {str(error)[:200]!r}")
    message = str(error.get("message") or "")
    data = error.get("data")
    if isinstance(data, dict):  # Hardhat (EDR): {"message": ..., "data": "0x..."}
        data = data.get("data")
    raw = None
    if isinstance(data, str) and data[:2] == "0x":
        try:
            raw = bytes.fromhex(data[2:])
        except ValueError:
            raw = None
    if raw is not None or error.get("code") == 3 or "revert" in message.lower():
        decoded = decode_custom_error(registry_artifact().abi, raw)
        if decoded is not None:
            name, args = decoded
            shown = ", ".join(f"{k}={v}" for k, v in args.items())
            return ContractRevert(name, args, f"{what} refused by the contract: {name}({shown})")
        return TransactionFailed(f"{what} reverted: {message or 'execution reverted'}")
    return ChainError(f"{what}: the node answered with error {error.get('code')}: {message}")


def _result_of(answer: Any, what: str) -> Any:
    """The `result` of one JSON-RPC answer, or the exception its error means."""
    if not isinstance(answer, dict):
        raise MalformedAnswer(f"{what}: the node's answer is not a JSON-RPC object")
    if answer.get("error") is not None:
        raise _error_of(answer["error"], what)
    if "result" not in answer:
        raise MalformedAnswer(f"{what}: the node's answer has neither result nor error")
    return answer["result"]


# ------------------------------------------------------------------ HTTP


class _Channel:
    """POSTs JSON-RPC bodies to one HTTP node on a keep-alive connection per thread."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float) -> None:
        self.url = url
        self.headers = headers
        self.timeout = timeout
        self._local = threading.local()

    def post(self, payload: bytes, what: str) -> tuple[int, bytes]:
        """The HTTP status and body; ChainUnavailable when the node cannot be reached."""
        reused = getattr(self._local, "connection", None) is not None
        with rpc_errors(what):
            try:
                return self._post(payload)
            except (OSError, http.client.HTTPException, requests.ConnectionError) as exc:
                self._drop()
                if not reused or isinstance(exc, TimeoutError | requests.Timeout):
                    raise _unreachable(what, exc) from exc
            # A keep-alive connection the node closed while idle can fail on reuse: one fresh
            # connection is tried before the node counts as unreachable.
            try:
                return self._post(payload)
            except (OSError, http.client.HTTPException, requests.ConnectionError) as exc:
                self._drop()
                raise _unreachable(what, exc) from exc

    def _post(self, payload: bytes) -> tuple[int, bytes]:
        raise NotImplementedError

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()


def _unreachable(what: str, exc: BaseException) -> ChainUnavailable:
    return ChainUnavailable(f"{what}: node unreachable ({type(exc).__name__}: {exc})")


class _DirectChannel(_Channel):
    """Plain `http://` to a node no proxy stands in front of (a local or consortium node):
    `http.client` straight, a fifth of the CPU of a `requests` round trip."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float) -> None:
        super().__init__(url, headers, timeout)
        parts = urlsplit(url)
        self._host = parts.hostname or "localhost"
        self._port = parts.port or 80
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _post(self, payload: bytes) -> tuple[int, bytes]:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._local.connection = connection
        connection.request("POST", self._path, payload, self.headers)
        response = connection.getresponse()
        return response.status, response.read()


class _RequestsChannel(_Channel):
    """Anything else (`https://`, a proxy from the environment, extra request options): a
    `requests` session per thread, as web3's HTTPProvider does."""

    def __init__(self, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> None:
        super().__init__(url, headers, float(kwargs.get("timeout") or DEFAULT_TIMEOUT))
        self._kwargs = kwargs

    def _post(self, payload: bytes) -> tuple[int, bytes]:
        session: requests.Session | None = getattr(self._local, "connection", None)
        if session is None:
            session = requests.Session()
            self._local.connection = session
        response = session.post(self.url, data=payload, **self._kwargs)
        return response.status_code, response.content


_CHANNELS: weakref.WeakKeyDictionary[HTTPProvider, _Channel] = weakref.WeakKeyDictionary()
_CHANNELS_LOCK = threading.Lock()


def _channel_for(provider: HTTPProvider) -> _Channel:
    """The provider's channel: one per provider (its connections are per thread), however many
    readers bind to it, so that a reader made per request (a DocumentStore, a registry
    attached on demand) does not open a connection per request."""
    with _CHANNELS_LOCK:
        channel = _CHANNELS.get(provider)
        if channel is None:
            channel = _new_channel(provider)
            _CHANNELS[provider] = channel
        return channel


def _new_channel(provider: HTTPProvider) -> _Channel:
    url = str(provider.endpoint_uri)
    kwargs = dict(provider.get_request_kwargs())
    headers = dict(kwargs.get("headers") or {})
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    parts = urlsplit(url)
    direct = (
        parts.scheme == "http"
        and not parts.username
        and set(kwargs) <= {"headers", "timeout"}
        and isinstance(kwargs["timeout"], int | float)
        and not requests.utils.get_environ_proxies(url)
    )
    if direct:
        return _DirectChannel(url, headers, float(kwargs["timeout"]))
    return _RequestsChannel(url, headers, kwargs)


# ------------------------------------------------------------------ the reader


class LeanReader:
    """Raw `eth_call`s of one registry's views on the node behind a `Web3`."""

    def __init__(self, w3: Web3, address: str, *, max_batch: int = MAX_BATCH) -> None:
        self._w3 = w3
        self._to = address
        self._max_batch = max_batch
        self._ids = itertools.count(1)
        self._bind()

    def _bind(self) -> None:
        """Talk to the `Web3`'s provider as it is now (again when it is replaced)."""
        self._provider = self._w3.provider
        self._sender: str | None = None
        self._http: _Channel | None = None
        if isinstance(self._provider, EthereumTesterProvider):
            # eth-tester executes a call as a transaction from a funded account (web3's
            # middleware fills in the first one; without it the call is refused).
            tester = self._provider.ethereum_tester
            self._sender = str(tester.get_accounts()[0]) if tester is not None else None
        elif isinstance(self._provider, HTTPProvider) and self._provider.endpoint_uri:
            self._http = _channel_for(self._provider)
        self.batches: bool | None = None if self._http is not None else False
        """Whether the node takes JSON-RPC batch requests: None until first tried; always False
        when the provider is not HTTP."""

    # ------------------------------------------------------------- public

    def call(self, call: Call, *, block: int | str = "latest") -> tuple[Any, ...]:
        """One view call, decoded."""
        return self.calls([call], block=block)[0]

    def calls(self, calls: Sequence[Call], *, block: int | str = "latest") -> list[tuple[Any, ...]]:
        """Several view calls, decoded, in as few requests as the node allows (the first
        failing call's error is raised)."""
        if self._w3.provider is not self._provider:
            self._bind()
        requests_ = [self._eth_call(c, block) for c in calls]
        answers = self._send(requests_, [c.view.name for c in calls])
        return [
            c.view.decode(_hex_bytes(_result_of(a, c.view.name), c.view.name))
            for c, a in zip(calls, answers, strict=True)
        ]

    def calls_with_head(self, calls: Sequence[Call]) -> tuple[list[tuple[Any, ...]], int]:
        """Several view calls at "latest" and the node's head, read first in the same request
        (one batch when the node takes batches): the calls saw that block or a later one."""
        if self._w3.provider is not self._provider:
            self._bind()
        requests_ = [("eth_blockNumber", []), *(self._eth_call(c, "latest") for c in calls)]
        names = ["eth_blockNumber", *(c.view.name for c in calls)]
        head_answer, *answers = self._send(requests_, names)
        head = _quantity(_result_of(head_answer, "eth_blockNumber"), "eth_blockNumber")
        results = [
            c.view.decode(_hex_bytes(_result_of(a, c.view.name), c.view.name))
            for c, a in zip(calls, answers, strict=True)
        ]
        return results, head

    # ------------------------------------------------------------- transport

    def _eth_call(self, call: Call, block: int | str) -> tuple[str, list[Any]]:
        tx: dict[str, str] = {"to": self._to, "data": "0x" + call.data.hex()}
        if self._sender is not None:
            tx["from"] = self._sender
        # eth-tester takes a block number as an int, a JSON-RPC node as a hex quantity
        tag = hex(block) if isinstance(block, int) and self._sender is None else block
        return "eth_call", [tx, tag]

    def _send(self, requests_: list[tuple[str, list[Any]]], names: list[str]) -> list[Any]:
        """The JSON-RPC answers to `requests_`, in order (errors are left inside them)."""
        if self._http is None:
            return [self._provider_request(r, n) for r, n in zip(requests_, names, strict=True)]
        if len(requests_) > 1 and self.batches is not False:
            answers: list[Any] = []
            for start in range(0, len(requests_), self._max_batch):
                chunk = requests_[start : start + self._max_batch]
                got = self._http_batch(chunk, names[start])
                if got is None:  # refused: this node is asked one call at a time from now on
                    self.batches = False
                    return answers + [
                        self._http_one(r, n)
                        for r, n in zip(requests_[start:], names[start:], strict=True)
                    ]
                self.batches = True
                answers.extend(got)
            return answers
        return [self._http_one(r, n) for r, n in zip(requests_, names, strict=True)]

    def _provider_request(self, request: tuple[str, list[Any]], name: str) -> Any:
        method, params = request
        with rpc_errors(name):
            try:
                return self._provider.make_request(method, params)  # type: ignore[arg-type]
            except reverts() as exc:
                raise revert_to_error(registry_artifact().abi, exc, name) from exc

    def _post(self, body: Any, what: str) -> tuple[int, bytes]:
        assert self._http is not None
        return self._http.post(json.dumps(body, separators=(",", ":")).encode(), what)

    def _http_one(self, request: tuple[str, list[Any]], name: str) -> Any:
        method, params = request
        status, content = self._post(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}, name
        )
        if not 200 <= status < 300:
            raise ChainUnavailable(f"{name}: the node answered HTTP {status}")
        try:
            return json.loads(content)
        except ValueError as exc:
            raise MalformedAnswer(f"{name}: the node's answer is not JSON") from exc

    def _http_batch(self, chunk: list[tuple[str, list[Any]]], name: str) -> list[Any] | None:
        """The answers to one batch request, in request order; None when the node refuses
        batches (an HTTP client error, an error object instead of the array, or an array that
        does not answer each request exactly once)."""
        ids = [next(self._ids) for _ in chunk]
        body = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p}
            for i, (m, p) in zip(ids, chunk, strict=True)
        ]
        what = f"{name} (batch of {len(chunk)})"
        status, content = self._post(body, what)
        if 400 <= status < 500 and status != 429:
            return None
        if not 200 <= status < 300:
            raise ChainUnavailable(f"{what}: the node answered HTTP {status}")
        try:
            answer = json.loads(content)
        except ValueError:
            return None
        if not isinstance(answer, list) or len(answer) != len(chunk):
            return None
        by_id = {a.get("id"): a for a in answer if isinstance(a, dict)}
        if set(by_id) != set(ids):
            return None
        return [by_id[i] for i in ids]


__all__ = [
    "MAX_BATCH",
    "Call",
    "LeanReader",
    "MalformedAnswer",
    "View",
    "agency_of_call",
    "check_call",
    "key_of_call",
    "views",
]
