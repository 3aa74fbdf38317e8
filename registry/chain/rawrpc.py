"""A registry's views read over raw JSON-RPC, without web3: for a verifier in a short-lived
process (`registry verify FILE --rpc URL`), where importing web3 would cost more than the whole
verification. One HTTP POST per receipt: `eth_blockNumber` and the `check`, `keyOf` and
`agencyOf` calls in one JSON-RPC batch (one call at a time for a node refusing batches).

It reads what `RegistryContract` reads (the same selectors, the same decoding through
`registry.chain.views`), and attaches the same way: the chain id and the runtime code hash are
checked first, so a look-alike contract is refused here too. Plain `http://` goes through
`http.client`; `https://` through `urllib.request` (proxies from the environment honoured).
"""

from __future__ import annotations

import http.client
import itertools
import json
import urllib.request
from collections.abc import Sequence
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_hash.auto import keccak

from registry.chain.artifact import registry_artifact
from registry.chain.views import (
    AgencyInfo,
    KeyWindow,
    MalformedAnswer,
    ReceiptReading,
    _agency_info,
    _check_result,
    _key_window,
)
from registry.errors import (
    ChainError,
    ChainUnavailable,
    InvalidInput,
    RegistryNotFound,
    WrongChain,
)
from registry.types import Address, checksum_address


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


@cache
def _functions() -> dict[str, tuple[bytes, tuple[str, ...]]]:
    """Selector and output types of every function of the committed ABI, by name."""
    found = {}
    for item in registry_artifact().abi:
        if item.get("type") == "function":
            inputs = ",".join(_abi_type(i) for i in item["inputs"])
            selector = keccak(f"{item['name']}({inputs})".encode())[:4]
            found[item["name"]] = (selector, tuple(_abi_type(o) for o in item["outputs"]))
    return found


def _word(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise InvalidInput("expected 32 bytes", field=what)
    return bytes(value)


def _address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


class RawRegistry:
    """One registry's views on one HTTP node, read with raw JSON-RPC. Make with `at`."""

    def __init__(self, url: str, address: Address, chain_id: int, *, timeout: float) -> None:
        self.url = url
        self.address = address
        self.chain_id = chain_id
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._batches = True

    @classmethod
    def at(
        cls, url: str, address: str, *, chain_id: int | None = None, timeout: float = 10.0
    ) -> RawRegistry:
        """Attach to the registry at `address` on the node at `url`: refused (as
        `RegistryContract.at` refuses) on another chain or without exactly our runtime code."""
        try:
            checked = checksum_address(address)
        except ValueError as exc:
            raise InvalidInput(f"registry address {address!r}: not a 20-byte hex address") from exc
        registry = cls(url, checked, 0, timeout=timeout)
        chain_hex, code_hex = registry._ask(
            [("eth_chainId", []), ("eth_getCode", [checked, "latest"])], "connect to registry"
        )
        actual = _quantity(chain_hex, "eth_chainId")
        if chain_id is not None and actual != chain_id:
            raise WrongChain(
                f"node is on chain id {actual} but the registry is configured for chain id "
                f"{chain_id}; point --rpc at the right chain"
            )
        code = _hex(code_hex, "eth_getCode")
        if not code:
            raise RegistryNotFound(
                f"no contract at {address} on chain {actual}; check --registry, or deploy one "
                "with `registry deploy`"
            )
        if keccak(code) != registry_artifact().deployed_code_hash:
            raise RegistryNotFound(
                f"the contract at {address} on chain {actual} is not this RecordRegistry "
                "(runtime code hash differs); check --registry"
            )
        registry.chain_id = actual
        return registry

    # ------------------------------------------------------------------ the views

    def read_receipt(
        self, *, agency: str, leaf: bytes, proof: Sequence[bytes], root: bytes, public_key: bytes
    ) -> ReceiptReading:
        """`check`, `keyOf` and `agencyOf` of one receipt, with the node's head read first in
        the same request."""
        address = self._agency(agency)
        check = self._call_data(
            "check",
            _address_word(address),
            _word(leaf, "leaf"),
            (4 * 32).to_bytes(32, "big"),
            _word(root, "root"),
            len(proof).to_bytes(32, "big"),
            *(_word(p, f"proof[{i}]") for i, p in enumerate(proof)),
        )
        key = self._call_data("keyOf", _address_word(address), _word(public_key, "key"))
        info = self._call_data("agencyOf", _address_word(address))
        head, checked, window, agency_raw = self._ask(
            [("eth_blockNumber", []), check, key, info], "check"
        )
        return ReceiptReading(
            check=_check_result(address, self._decode("check", checked)[0]),
            key=_key_window(address, self._decode("keyOf", window)),
            agency=_agency_info(address, self._decode("agencyOf", agency_raw)),
            block=_quantity(head, "eth_blockNumber"),
        )

    def key_of(self, agency: str, key: bytes) -> KeyWindow:
        address = self._agency(agency)
        (raw,) = self._ask(
            [self._call_data("keyOf", _address_word(address), _word(key, "key"))], "keyOf"
        )
        return _key_window(address, self._decode("keyOf", raw))

    def agency_of(self, agency: str) -> AgencyInfo:
        address = self._agency(agency)
        (raw,) = self._ask([self._call_data("agencyOf", _address_word(address))], "agencyOf")
        return _agency_info(address, self._decode("agencyOf", raw))

    # ------------------------------------------------------------------ encoding

    def _agency(self, agency: str) -> Address:
        try:
            return checksum_address(agency)
        except ValueError as exc:
            raise InvalidInput(f"agency {agency!r}: not a 20-byte hex address") from exc

    def _call_data(self, name: str, *words: bytes) -> tuple[str, list[Any]]:
        selector = _functions()[name][0]
        data = "0x" + (selector + b"".join(words)).hex()
        return "eth_call", [{"to": self.address, "data": data}, "latest"]

    def _decode(self, name: str, result: Any) -> tuple[Any, ...]:
        data = _hex(result, name)
        if not data:
            raise MalformedAnswer(f"{name}: the node returned no data")
        try:
            return tuple(abi_decode(list(_functions()[name][1]), data))
        except (DecodingError, ValueError, OverflowError) as exc:
            raise MalformedAnswer(f"{name}: the node's answer is not the view's encoding") from exc

    # ------------------------------------------------------------------ transport

    def _ask(self, requests: list[tuple[str, list[Any]]], what: str) -> list[Any]:
        """The results of `requests`, in order: one batch when the node takes batches."""
        bodies = [
            {"jsonrpc": "2.0", "id": next(self._ids), "method": m, "params": p} for m, p in requests
        ]
        if len(bodies) > 1 and self._batches:
            answer = self._post(bodies, what)
            if isinstance(answer, list) and len(answer) == len(bodies):
                by_id = {a.get("id"): a for a in answer if isinstance(a, dict)}
                if set(by_id) == {b["id"] for b in bodies}:
                    return [_result(by_id[b["id"]], what) for b in bodies]
            self._batches = False  # asked one call at a time from now on
        return [_result(self._post(body, what), what) for body in bodies]

    def _post(self, body: Any, what: str) -> Any:
        payload = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        try:
            if self.url.startswith("http://"):
                status, content = self._post_direct(payload, headers)
            else:
                request = urllib.request.Request(self.url, payload, headers, method="POST")
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    status, content = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ChainUnavailable(
                f"cannot reach the JSON-RPC node at {self.url} ({type(exc).__name__}); "
                "check the URL or start a local node with `registry node`"
            ) from exc
        if not 200 <= status < 300:
            if isinstance(body, list) and 400 <= status < 500:
                return None  # a node refusing batches
            raise ChainUnavailable(f"{what}: the node answered HTTP {status}")
        try:
            return json.loads(content)
        except ValueError as exc:
            raise MalformedAnswer(f"{what}: the node's answer is not JSON") from exc

    def _post_direct(self, payload: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """One POST on a connection of its own, closed after (a verifier makes one or two)."""
        parts = urlsplit(self.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = http.client.HTTPConnection(
            parts.hostname or "localhost", parts.port or 80, timeout=self._timeout
        )
        try:
            connection.request("POST", path, payload, headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


def _result(answer: Any, what: str) -> Any:
    if not isinstance(answer, dict):
        raise MalformedAnswer(f"{what}: the node's answer is not a JSON-RPC object")
    error = answer.get("error")
    if error is not None:
        message = error.get("message") if isinstance(error, dict) else error
        raise ChainError(f"{what}: the node answered with error: {str(message)[:200]}")
    if "result" not in answer:
        raise MalformedAnswer(f"{what}: the node's answer has neither result nor error")
    return answer["result"]


def _hex(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or value[:2] not in ("0x", "0X") or len(value) % 2:
        raise MalformedAnswer(f"{what}: the node's result is not 0x-hex data")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise MalformedAnswer(f"{what}: the node's result is not 0x-hex data") from exc


def _quantity(value: Any, what: str) -> int:
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise MalformedAnswer(f"{what}: the node's result {str(value)[:80]!r} is not a quantity")


__all__ = ["RawRegistry"]
